// The hand-written man page (resources/trackerdesk.1) against the program itself: every
// command of `trackerdesk --help`, every sub-command and every long option of each
// `trackerdesk COMMAND [SUB] --help` must be documented in the man page, in the section of
// that command; the .TH line names the version being built.
#include <QProcess>
#include <QRegularExpression>
#include <QtTest>

namespace {

struct Help {
    int code = -1;
    QString text;
};

Help help(const QStringList &args) {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(TD_BINARY_DIR "/trackerdesk"), args + QStringList{QStringLiteral("--help")});
    if (!p.waitForStarted(10000) || !p.waitForFinished(30000)) {
        p.kill();
        p.waitForFinished();
        return {};
    }
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
            QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError())};
}

// Long options of a --help text ("  -p, --protocol <ID>  ..."), without the generic ones.
QStringList longOptions(const QString &text) {
    QStringList out;
    static const QRegularExpression re(QStringLiteral("^\\s+(?:-[A-Za-z], )?(--[a-z][a-z0-9-]*)"), QRegularExpression::MultilineOption);
    for (auto it = re.globalMatch(text); it.hasNext();) {
        const QString o = it.next().captured(1);
        if (o != QLatin1String("--help") && o != QLatin1String("--help-all") && !out.contains(o))
            out << o;
    }
    return out;
}

// Commands listed by `trackerdesk --help` ("  decode        Decode ...").
QStringList commands(const QString &text) {
    QStringList out;
    const qsizetype start = text.indexOf(QLatin1String("Commands"));
    const qsizetype end = text.indexOf(QLatin1String("Options:"));
    if (start < 0 || end < start)
        return out;
    static const QRegularExpression re(QStringLiteral("^  ([a-z][a-z0-9-]+)\\s{2,}\\S"), QRegularExpression::MultilineOption);
    for (auto it = re.globalMatch(text.mid(start, end - start)); it.hasNext();)
        out << it.next().captured(1);
    return out;
}

// Sub-commands named by `trackerdesk CMD --help`: "trackerdesk CMD sub ..." usages, or the
// indented list under "Usage: trackerdesk CMD COMMAND".
QStringList subCommands(const QString &command, const QString &text) {
    QStringList out;
    const QRegularExpression usage(QStringLiteral("trackerdesk %1 ([a-z][a-z0-9-]+)").arg(QRegularExpression::escape(command)));
    for (auto it = usage.globalMatch(text); it.hasNext();) {
        const QString s = it.next().captured(1);
        if (!out.contains(s))
            out << s;
    }
    if (text.contains(QStringLiteral("trackerdesk %1 COMMAND").arg(command))) {
        static const QRegularExpression list(QStringLiteral("^  ([a-z][a-z0-9-]+)(?: |$)"), QRegularExpression::MultilineOption);
        for (auto it = list.globalMatch(text); it.hasNext();) {
            const QString s = it.next().captured(1);
            if (!out.contains(s))
                out << s;
        }
    }
    return out;
}

// The man page as plain text: roff escapes for '-' and fonts removed, one string per
// section (key "" for everything before the first .SS, ".SS name" for commands).
struct ManPage {
    QString all;
    QHash<QString, QString> commandSection;  // command -> its .SS section
    QString optionsSection;                  // .SH OPTIONS
    QString th;
};

ManPage readManPage() {
    ManPage m;
    QFile f(QStringLiteral(TD_MANPAGE));
    if (!f.open(QIODevice::ReadOnly))
        return m;
    QString current, section;
    auto flush = [&] {
        if (current.startsWith(QLatin1String(".SS ")))
            m.commandSection.insert(current.mid(4).section(QLatin1Char(' '), 0, 0), section);
        else if (current == QLatin1String(".SH OPTIONS"))
            m.optionsSection = section;
        section.clear();
    };
    for (QString line : QString::fromUtf8(f.readAll()).split(QLatin1Char('\n'))) {
        static const QRegularExpression fonts(QStringLiteral("\\\\f[BIRP]"));
        line.replace(QLatin1String("\\-"), QLatin1String("-")).remove(fonts);
        if (line.startsWith(QLatin1String(".TH ")))
            m.th = line;
        if (line.startsWith(QLatin1String(".SS ")) || line.startsWith(QLatin1String(".SH "))) {
            flush();
            current = line;
        }
        section += line + QLatin1Char('\n');
        m.all += line + QLatin1Char('\n');
    }
    flush();
    return m;
}

} // namespace

class TestManPage : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void header();
    void documented_data();
    void documented();

private:
    ManPage m_man;
};

void TestManPage::initTestCase() {
    m_man = readManPage();
    QVERIFY2(!m_man.all.isEmpty(), TD_MANPAGE " is missing or empty");
}

void TestManPage::header() {
    QVERIFY2(m_man.th.contains(QLatin1String("\"TrackerDesk " TD_VERSION "\"")), qPrintable(m_man.th));
    for (const char *s : {".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH OPTIONS", ".SH COMMANDS", ".SH FILES"})
        QVERIFY2(m_man.all.contains(QLatin1String(s)), s);
}

// One row per (where, what): the top-level options, each command, each sub-command and
// each of their long options.
void TestManPage::documented_data() {
    QTest::addColumn<QString>("command");     // "" = top level
    QTest::addColumn<QString>("needle");      // what the man page must contain there

    const Help top = help({});
    QCOMPARE(top.code, 0);
    const QStringList opts = longOptions(top.text);
    QVERIFY2(opts.contains(QLatin1String("--headless")) && opts.contains(QLatin1String("--port")), qPrintable(top.text));
    for (const QString &o : opts)
        QTest::addRow("trackerdesk %s", qPrintable(o)) << QString() << o;
    const QStringList cmds = commands(top.text);
    QVERIFY2(cmds.contains(QLatin1String("decode")) && cmds.contains(QLatin1String("export")), qPrintable(top.text));
    for (const QString &c : cmds) {
        QTest::addRow("%s", qPrintable(c)) << c << QString();
        const Help h = help({c});
        QVERIFY2(h.code == 0, qPrintable(QStringLiteral("trackerdesk %1 --help: exit %2").arg(c).arg(h.code)));
        for (const QString &o : longOptions(h.text))
            QTest::addRow("%s %s", qPrintable(c), qPrintable(o)) << c << o;
        for (const QString &s : subCommands(c, h.text)) {
            QTest::addRow("%s %s", qPrintable(c), qPrintable(s)) << c << QStringLiteral("%1 %2").arg(c, s);
            const Help hs = help({c, s});
            QVERIFY2(hs.code == 0, qPrintable(QStringLiteral("trackerdesk %1 %2 --help: exit %3").arg(c, s).arg(hs.code)));
            for (const QString &o : longOptions(hs.text))
                QTest::addRow("%s %s %s", qPrintable(c), qPrintable(s), qPrintable(o)) << c << o;
        }
    }
}

void TestManPage::documented() {
    QFETCH(QString, command);
    QFETCH(QString, needle);
    if (command.isEmpty()) {
        QVERIFY2(m_man.optionsSection.contains(needle),
                 qPrintable(QStringLiteral("option %1 is not in the OPTIONS section of resources/trackerdesk.1").arg(needle)));
        return;
    }
    QVERIFY2(m_man.commandSection.contains(command),
             qPrintable(QStringLiteral("command '%1' has no .SS section in resources/trackerdesk.1").arg(command)));
    if (!needle.isEmpty())
        QVERIFY2(m_man.commandSection.value(command).contains(needle),
                 qPrintable(QStringLiteral("'%1' is not documented in the '%2' section of resources/trackerdesk.1").arg(needle, command)));
}

QTEST_GUILESS_MAIN(TestManPage)
#include "tst_manpage.moc"
