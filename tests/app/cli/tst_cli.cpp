// The trackerdesk executable as a user runs it: --help, --version, usage errors and
// the decode command's output and exit codes.
#include <QProcess>
#include <QtTest>

class TestCli : public QObject {
    Q_OBJECT
private slots:
    void version();
    void help();
    void usageErrors_data();
    void usageErrors();
    void decodeTree();
    void decodeJsonAndStdin();
    void decodeErrors_data();
    void decodeErrors();
    void headlessSaysWhatItUses();
    void parseSms();

private:
    struct Result { int code; QString out; QString err; };
    Result run(const QStringList &args, const QByteArray &stdinData = {}) {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(TD_BINARY_DIR "/trackerdesk"), args);
        if (!p.waitForStarted(10000)) return {-1, {}, p.errorString()};
        p.write(stdinData);
        p.closeWriteChannel();
        if (!p.waitForFinished(30000)) { p.kill(); p.waitForFinished(); return {-2, {}, QStringLiteral("timeout")}; }
        return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -3,
                QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
    }
};

void TestCli::version() {
    const Result r = run({QStringLiteral("--version")});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.startsWith(QLatin1String("trackerdesk " TD_VERSION)), qPrintable(r.out));
}

void TestCli::help() {
    const Result r = run({QStringLiteral("--help")});
    QCOMPARE(r.code, 0);
    for (const char *s : {"--port", "--listen", "--data-dir", "decode"})
        QVERIFY2(r.out.contains(QLatin1String(s)), s);
    const Result d = run({QStringLiteral("decode"), QStringLiteral("--help")});
    QCOMPARE(d.code, 0);
    QVERIFY(d.out.contains(QLatin1String("--json")));
    // The usage line names the command, so that it can be copied as it is.
    QVERIFY2(d.out.startsWith(QLatin1String("Usage: trackerdesk decode [options]")), qPrintable(d.out.left(80)));
    const Result g = run({QStringLiteral("geo"), QStringLiteral("status"), QStringLiteral("--help")});
    QCOMPARE(g.code, 0);
    QVERIFY2(g.out.startsWith(QLatin1String("Usage: trackerdesk geo status [options]")), qPrintable(g.out.left(80)));
    // A wrong option of a command points at that command's help.
    const Result e = run({QStringLiteral("decode"), QStringLiteral("--frobnicate")});
    QCOMPARE(e.code, 2);
    QVERIFY2(e.err.contains(QLatin1String("(see trackerdesk decode --help)")), qPrintable(e.err));
}

void TestCli::usageErrors_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("message");
    QTest::newRow("port text") << QStringList{QStringLiteral("--port"), QStringLiteral("abc")} << QStringLiteral("--port");
    QTest::newRow("port range") << QStringList{QStringLiteral("--port"), QStringLiteral("70000")} << QStringLiteral("--port");
    QTest::newRow("listen") << QStringList{QStringLiteral("--listen"), QStringLiteral("not-an-ip")} << QStringLiteral("--listen");
    QTest::newRow("unknown option") << QStringList{QStringLiteral("--frobnicate")} << QStringLiteral("frobnicate");
    QTest::newRow("unknown command") << QStringList{QStringLiteral("frobnicate")} << QStringLiteral("unknown command");
    // Said once before anything starts, not once per simulated tracker at its login.
    const QStringList sim{QStringLiteral("simulate"), QStringLiteral("--port"), QStringLiteral("1"), QStringLiteral("--devices"), QStringLiteral("3")};
    QTest::newRow("topin alarm") << sim + QStringList{QStringLiteral("--protocol"), QStringLiteral("topin"), QStringLiteral("--alarm"), QStringLiteral("sos")}
                                 << QStringLiteral("--alarm: Topin devices send no alarm messages");
    QTest::newRow("gt06 alarm name") << sim + QStringList{QStringLiteral("--alarm"), QStringLiteral("fire")}
                                     << QStringLiteral("GT06 has no alarm called 'fire' (known: sos,");
    QTest::newRow("simulate extra argument") << QStringList{QStringLiteral("simulate"), QStringLiteral("extra")} << QStringLiteral("unexpected argument 'extra'");
    QTest::newRow("count and duration") << sim + QStringList{QStringLiteral("--count"), QStringLiteral("5"), QStringLiteral("--duration"), QStringLiteral("3")}
                                        << QStringLiteral("--count or --duration, not both");
    QTest::newRow("demo with devices") << QStringList{QStringLiteral("simulate"), QStringLiteral("--demo"), QStringLiteral("--protocol"), QStringLiteral("jt808"),
                                                      QStringLiteral("--devices"), QStringLiteral("5")}
                                       << QStringLiteral("--demo plays its own three devices; --protocol, --devices cannot go with it");
    QTest::newRow("geo status extra argument") << QStringList{QStringLiteral("geo"), QStringLiteral("status"), QStringLiteral("extra")}
                                               << QStringLiteral("unexpected argument 'extra'");
    QTest::newRow("jt808 alarm name") << sim + QStringList{QStringLiteral("--protocol"), QStringLiteral("jt808"), QStringLiteral("--alarm"), QStringLiteral("fire")}
                                      << QStringLiteral("JT/T 808 has no alarm bit called 'fire' (known: sos, overspeed,");
}

void TestCli::usageErrors() {
    QFETCH(QStringList, args);
    QFETCH(QString, message);
    const Result r = run(args);
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains(message), qPrintable(r.err));
    QCOMPARE(r.err.count(QLatin1Char('\n')), 1);  // one clear line
}

void TestCli::decodeTree() {
    const Result r = run({QStringLiteral("decode"), QStringLiteral("78780d01086471700328358100093f040d0a")});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains(QLatin1String("864717003283581")), qPrintable(r.out));
    QVERIFY2(r.out.contains(QLatin1String("Reply: 787805010009")), qPrintable(r.out));  // serial echoed
    QVERIFY(r.err.isEmpty());
    // A frame without a type says so, not "(0x-1)".
    const Result t = run({QStringLiteral("decode"), QStringLiteral("7878")});
    QCOMPARE(t.code, 1);
    QVERIFY2(t.out.startsWith(QLatin1String("GT06 Truncated, 2 bytes")), qPrintable(t.out));
    QVERIFY2(!t.out.contains(QLatin1String("0x-1")), qPrintable(t.out));
}

void TestCli::decodeJsonAndStdin() {
    const Result r = run({QStringLiteral("decode"), QStringLiteral("--json")},
                         "# two frames\n78780d01086471700328358100093f040d0a\n787805120099abec0d0a\n");
    QCOMPARE(r.code, 0);
    const QJsonArray a = QJsonDocument::fromJson(r.out.toUtf8()).array();
    QCOMPARE(a.size(), 2);
    QCOMPARE(a[0].toObject().value(QStringLiteral("device_id")).toString(), QStringLiteral("864717003283581"));
    QCOMPARE(a[1].toObject().value(QStringLiteral("serial")).toInt(), 0x99);
}

void TestCli::decodeErrors_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("message");
    QTest::newRow("bad hex") << QStringList{QStringLiteral("decode"), QStringLiteral("7878zz")} << QStringLiteral("bad hex");
    QTest::newRow("odd hex") << QStringList{QStringLiteral("decode"), QStringLiteral("78780")} << QStringLiteral("odd number");
    QTest::newRow("not a frame") << QStringList{QStringLiteral("decode"), QStringLiteral("474554202f20")} << QStringLiteral("not a frame");
    QTest::newRow("bad crc") << QStringList{QStringLiteral("decode"), QStringLiteral("78780d01086471700328358100093f050d0a")} << QStringLiteral("broken");
    QTest::newRow("truncated") << QStringList{QStringLiteral("decode"), QStringLiteral("78780d0108647170")} << QStringLiteral("broken");
    // A control character is named, not sent to the terminal.
    QTest::newRow("control character") << QStringList{QStringLiteral("decode"), QStringLiteral("78\x01" "78")} << QStringLiteral("not a hex digit: U+0001");
    QTest::newRow("bad protocol") << QStringList{QStringLiteral("decode"), QStringLiteral("-p"), QStringLiteral("x"), QStringLiteral("7878")} << QStringLiteral("unknown protocol");
}

void TestCli::decodeErrors() {
    QFETCH(QStringList, args);
    QFETCH(QString, message);
    const Result r = run(args);
    QVERIFY2(r.code == 1 || r.code == 2, qPrintable(QString::number(r.code)));
    QVERIFY2(r.err.contains(message), qPrintable(r.err));
    QVERIFY(r.err.startsWith(QLatin1String("trackerdesk: error: ")));
    for (const QChar c : r.err)
        QVERIFY2(c == QLatin1Char('\n') || c.isPrint(), qPrintable(r.err));
}

// The headless banner names the database by its absolute path (it printed a relative
// --data-dir as given), and a --settings file that does not exist is said, not silently
// replaced by the defaults.
void TestCli::headlessSaysWhatItUses() {
    QTemporaryDir dir;
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    p.setProcessEnvironment(env);
    p.setWorkingDirectory(dir.path());
    p.start(QStringLiteral(TD_BINARY_DIR "/trackerdesk"),
            {QStringLiteral("--headless"), QStringLiteral("--listen"), QStringLiteral("127.0.0.1"), QStringLiteral("--port"),
             QStringLiteral("0"), QStringLiteral("--data-dir"), QStringLiteral("data"), QStringLiteral("--settings"),
             QStringLiteral("missing.ini")});
    QVERIFY(p.waitForStarted(10000));
    QByteArray out;
    QVERIFY(QTest::qWaitFor([&] {
        out += p.readAllStandardOutput();
        return out.contains("listening on") || p.state() == QProcess::NotRunning;
    }, 20000));
    p.terminate();
    QVERIFY(p.waitForFinished(20000));
    out += p.readAllStandardOutput();
    const QString err = QString::fromUtf8(p.readAllStandardError());
    const QString db = QDir(dir.path()).filePath(QStringLiteral("data/trackerdesk.db"));
    QVERIFY2(out.contains(QStringLiteral("headless, database %1\n").arg(QDir::toNativeSeparators(db)).toUtf8()), out.constData());
    QVERIFY2(err.contains(QStringLiteral("warning: no settings file %1").arg(QDir(dir.path()).filePath(QStringLiteral("missing.ini")))),
             qPrintable(err));
}

// parse-sms as a user runs it: a tracker's WHERE# reply as an argument and on stdin, JSON,
// the exit codes (0 found, 1 none, 2 usage: also an empty argument).
void TestCli::parseSms() {
    const QString reply = QStringLiteral("Lat:N22.571285,Lon:E113.877115,Course:42.20,Speed:0.0740,DateTime:10-11-23 22:28");
    const Result r = run({QStringLiteral("parse-sms"), reply});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains(QLatin1String("[gt06-where]")) && r.out.contains(QLatin1String("22.571285, 113.877115")), qPrintable(r.out));
    QVERIFY2(r.out.contains(QLatin1String("2010-11-23 22:28:00 UTC")), qPrintable(r.out));
    const Result j = run({QStringLiteral("parse-sms"), QStringLiteral("--json"), QStringLiteral("--tz"), QStringLiteral("480")}, reply.toUtf8());
    QCOMPARE(j.code, 0);
    const QJsonArray a = QJsonDocument::fromJson(j.out.toUtf8()).array();
    QCOMPARE(a.size(), 1);
    QCOMPARE(a[0].toObject().value(QStringLiteral("lat")).toDouble(), 22.571285);
    QCOMPARE(a[0].toObject().value(QStringLiteral("time")).toString(), QStringLiteral("2010-11-23T14:28:00Z"));   // local UTC+8
    const Result none = run({QStringLiteral("parse-sms"), QStringLiteral("hello there")});
    QCOMPARE(none.code, 1);
    QVERIFY2(none.err.contains(QLatin1String("no position found")), qPrintable(none.err));
    for (const QStringList &args : {QStringList{QStringLiteral("parse-sms"), QString()}, QStringList{QStringLiteral("parse-sms")}}) {
        const Result empty = run(args);
        QCOMPARE(empty.code, 2);
        QVERIFY2(empty.err.contains(QLatin1String("no text given")), qPrintable(empty.err));
    }
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
