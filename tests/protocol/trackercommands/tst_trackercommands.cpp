// Tracker SMS command templates (td::proto::commands).
//
// The expected texts of the "verified" rows are the command forms quoted in
// shared/reference/sms/commands.md with their sources (JM01 manual, Traccar's GT06 encoder,
// the open-source TK102 servers); the other rows check the formatting rules (optional
// sections, derived values, validation) on the reported forms of the same document.
#include "trackerdesk/protocol/trackercommands.h"

#include <QSet>
#include <QTest>

using namespace td::proto::commands;

Q_DECLARE_METATYPE(td::proto::commands::Family)

namespace {

Values parseValues(const QString &spec) {
    Values v;
    for (const QString &kv : spec.split(QLatin1Char(';'), Qt::SkipEmptyParts)) {
        const int eq = kv.indexOf(QLatin1Char('='));
        v.insert(kv.left(eq), kv.mid(eq + 1));
    }
    return v;
}

} // namespace

class TestTrackerCommands : public QObject {
    Q_OBJECT
private slots:
    void format_data();
    void format();
    void errors_data();
    void errors();
    void tablesConsistent();
    void defaultsFormat();
    void commandText_data();
    void commandText();
    void familyGuess_data();
    void familyGuess();
};

void TestTrackerCommands::format_data() {
    QTest::addColumn<Family>("family");
    QTest::addColumn<QString>("command");
    QTest::addColumn<QString>("values");
    QTest::addColumn<QString>("password");
    QTest::addColumn<QString>("expected");

    // GT06 / Concox (commands.md §2)
    QTest::newRow("gt06 server domain") << Family::Gt06 << "server" << "host=track.example.org;port=5023" << ""
                                        << "SERVER,1,track.example.org,5023,0#";
    QTest::newRow("gt06 server ip") << Family::Gt06 << "server" << "host=192.168.1.20;port=5023" << ""
                                    << "SERVER,0,192.168.1.20,5023,0#";
    QTest::newRow("gt06 apn") << Family::Gt06 << "apn" << "apn=internet" << "" << "APN,internet#";
    QTest::newRow("gt06 apn user pass") << Family::Gt06 << "apn" << "apn=web.vodafone.de;user=vf;pass=vf" << ""
                                        << "APN,web.vodafone.de,vf,vf#";
    QTest::newRow("gt06 apn user only") << Family::Gt06 << "apn" << "apn=cmnet;user=u" << "" << "APN,cmnet,u,#";
    QTest::newRow("gt06 gprs") << Family::Gt06 << "gprs" << "" << "" << "GPRSON,1#";
    QTest::newRow("gt06 timer") << Family::Gt06 << "interval" << "on=10" << "" << "TIMER,10#";
    QTest::newRow("gt06 timer acc off") << Family::Gt06 << "interval" << "on=5;off=5" << "" << "TIMER,5,5#";  // traccar#1605
    QTest::newRow("gt06 gmt utc") << Family::Gt06 << "timezone" << "tz=0" << "" << "GMT,E,0,0#";
    QTest::newRow("gt06 gmt east") << Family::Gt06 << "timezone" << "tz=+8" << "" << "GMT,E,8,0#";
    QTest::newRow("gt06 gmt west half") << Family::Gt06 << "timezone" << "tz=-3:30" << "" << "GMT,W,3,30#";
    QTest::newRow("gt06 gmt prefix") << Family::Gt06 << "timezone" << "tz=UTC+5:45" << "" << "GMT,E,5,45#";
    QTest::newRow("gt06 sos one") << Family::Gt06 << "sos" << "sos1=+491701234567" << "" << "SOS,A,+491701234567#";
    QTest::newRow("gt06 sos three") << Family::Gt06 << "sos" << "sos1=111222;sos2=333444;sos3=555666" << ""
                                    << "SOS,A,111222,333444,555666#";
    QTest::newRow("gt06 sos gap kept") << Family::Gt06 << "sos" << "sos1=111222;sos3=555666" << ""
                                       << "SOS,A,111222,,555666#";
    QTest::newRow("gt06 sos spaces") << Family::Gt06 << "sos" << "sos1=+49 170 123-4567" << "" << "SOS,A,+491701234567#";
    QTest::newRow("gt06 center") << Family::Gt06 << "center" << "phone=0132883700" << "" << "CENTER,A,0132883700#";
    QTest::newRow("gt06 where") << Family::Gt06 << "where" << "" << "" << "WHERE#";
    QTest::newRow("gt06 url") << Family::Gt06 << "url" << "" << "" << "URL#";
    QTest::newRow("gt06 status") << Family::Gt06 << "status" << "" << "" << "STATUS#";
    QTest::newRow("gt06 param") << Family::Gt06 << "params" << "" << "" << "PARAM#";
    QTest::newRow("gt06 reset") << Family::Gt06 << "restart" << "" << "" << "RESET#";
    QTest::newRow("gt06 factory") << Family::Gt06 << "factory" << "" << "" << "FACTORY#";
    QTest::newRow("gt06 relay cut") << Family::Gt06 << "relay-cut" << "" << "" << "RELAY,1#";
    QTest::newRow("gt06 relay restore") << Family::Gt06 << "relay-restore" << "" << "" << "RELAY,0#";
    QTest::newRow("gt06 password ignored") << Family::Gt06 << "where" << "" << "666666" << "WHERE#";

    // JT/T 808 units with Concox keywords
    QTest::newRow("jt808 server") << Family::Jt808 << "server" << "host=10.0.0.5;port=7018" << ""
                                  << "SERVER,0,10.0.0.5,7018,0#";
    QTest::newRow("jt808 where") << Family::Jt808 << "where" << "" << "" << "WHERE#";

    // Xexun / Coban TK102 (commands.md §3)
    QTest::newRow("tk102 begin") << Family::Tk102 << "factory" << "" << "" << "begin123456";
    QTest::newRow("tk102 admin") << Family::Tk102 << "admin" << "phone=+31612345678" << "" << "admin123456 +31612345678";
    QTest::newRow("tk102 noadmin") << Family::Tk102 << "noadmin" << "phone=0612345678" << "" << "noadmin123456 0612345678";
    QTest::newRow("tk102 adminip") << Family::Tk102 << "server" << "host=203.0.113.7;port=5023" << ""
                                   << "adminip123456 203.0.113.7 5023";
    QTest::newRow("tk102 apn") << Family::Tk102 << "apn" << "apn=internet" << "" << "apn123456 internet";
    QTest::newRow("tk102 apnuser") << Family::Tk102 << "apnuser" << "user=guest" << "" << "apnuser123456 guest";
    QTest::newRow("tk102 apnpasswd") << Family::Tk102 << "apnpass" << "pass=guest" << "" << "apnpasswd123456 guest";
    QTest::newRow("tk102 gprs") << Family::Tk102 << "gprs" << "" << "" << "gprs123456";
    QTest::newRow("tk102 track 30s") << Family::Tk102 << "interval" << "interval=30" << "" << "t030s***n123456";  // fvdm/nodejs-tk102
    QTest::newRow("tk102 track 5m") << Family::Tk102 << "interval" << "interval=300" << "" << "t300s***n123456";
    QTest::newRow("tk102 track 20m") << Family::Tk102 << "interval" << "interval=1200" << "" << "t020m***n123456";
    QTest::newRow("tk102 track 2h") << Family::Tk102 << "interval" << "interval=7200" << "" << "t120m***n123456";
    QTest::newRow("tk102 track 20h") << Family::Tk102 << "interval" << "interval=72000" << "" << "t020h***n123456";
    QTest::newRow("tk102 notn") << Family::Tk102 << "notrack" << "" << "" << "notn123456";
    QTest::newRow("tk102 timezone") << Family::Tk102 << "timezone" << "tz=+8" << "" << "timezone123456 8";
    QTest::newRow("tk102 timezone west") << Family::Tk102 << "timezone" << "tz=-5" << "" << "timezone123456 -5";
    QTest::newRow("tk102 coban sos") << Family::Tk102 << "sos" << "slot=2;phone=0612345678" << "" << "102#0612345678#";
    QTest::newRow("tk102 coban g1234") << Family::Tk102 << "where" << "" << "" << "g1234";
    QTest::newRow("tk102 imei") << Family::Tk102 << "imei" << "" << "" << "imei123456";
    QTest::newRow("tk102 help me") << Family::Tk102 << "stopsos" << "" << "" << "help me!123456";
    QTest::newRow("tk102 password") << Family::Tk102 << "password" << "new=654321" << "" << "password123456 654321";
    QTest::newRow("tk102 own password") << Family::Tk102 << "apn" << "apn=internet" << "888888" << "apn888888 internet";

    // Topin (pw,<password>,... form)
    QTest::newRow("topin server") << Family::Topin << "server" << "host=track.example.org;port=5023" << ""
                                  << "pw,123456,ip,track.example.org,5023#";
    QTest::newRow("topin apn") << Family::Topin << "apn" << "apn=internet;user=a;pass=b" << "" << "pw,123456,apn,internet,a,b#";
    QTest::newRow("topin upload") << Family::Topin << "interval" << "seconds=300" << "424242" << "pw,424242,upload,300#";
    QTest::newRow("topin factory") << Family::Topin << "factory" << "" << "" << "pw,123456,factory#";
}

void TestTrackerCommands::format() {
    QFETCH(Family, family);
    QFETCH(QString, command);
    QFETCH(QString, values);
    QFETCH(QString, password);
    QFETCH(QString, expected);
    QString error;
    const auto text = formatCommand(family, command, parseValues(values), password, &error);
    QVERIFY2(text, qPrintable(error));
    QCOMPARE(*text, expected);
    QVERIFY(checkCommandText(*text).isEmpty());
}

void TestTrackerCommands::errors_data() {
    QTest::addColumn<Family>("family");
    QTest::addColumn<QString>("command");
    QTest::addColumn<QString>("values");
    QTest::addColumn<QString>("password");
    QTest::addColumn<QString>("message");

    QTest::newRow("unknown command") << Family::Gt06 << "frobnicate" << "" << "" << "has no command 'frobnicate'";
    QTest::newRow("missing host") << Family::Gt06 << "server" << "port=5023" << "" << "Server address is required";
    QTest::newRow("port zero") << Family::Gt06 << "server" << "host=a.example;port=0" << "" << "not between 1 and 65535";
    QTest::newRow("port big") << Family::Gt06 << "server" << "host=a.example;port=70000" << "" << "70000 is not between 1 and 65535";
    QTest::newRow("port text") << Family::Gt06 << "server" << "host=a.example;port=http" << "" << "not between 1 and 65535";
    QTest::newRow("bad ip") << Family::Gt06 << "server" << "host=300.1.1.1;port=5023" << "" << "not a valid IPv4";
    QTest::newRow("bad host") << Family::Gt06 << "server" << "host=my host;port=5023" << "" << "not an IPv4 address or a domain";
    QTest::newRow("tk102 dns") << Family::Tk102 << "server" << "host=track.example.org;port=5023" << ""
                               << "cannot resolve names";
    QTest::newRow("apn comma") << Family::Gt06 << "apn" << "apn=a,b" << "" << "separator";
    QTest::newRow("apn hash") << Family::Gt06 << "apn" << "apn=a#" << "" << "separator";
    QTest::newRow("apn non-ascii") << Family::Gt06 << "apn" << QStringLiteral("apn=intérnet") << "" << "cannot take";
    QTest::newRow("apn brace") << Family::Gt06 << "apn" << "apn=a{b" << "" << "extension character";
    QTest::newRow("timer too short") << Family::Gt06 << "interval" << "on=2" << "" << "2 is not between 5 and 18000";
    QTest::newRow("zone range") << Family::Gt06 << "timezone" << "tz=+15" << "" << "not a UTC offset";
    QTest::newRow("zone quarter") << Family::Gt06 << "timezone" << "tz=+5:20" << "" << "not a UTC offset";
    QTest::newRow("tk102 zone minutes") << Family::Tk102 << "timezone" << "tz=+5:30" << "" << "whole hours only";
    QTest::newRow("tk102 interval form") << Family::Tk102 << "interval" << "interval=1001" << ""
                                         << "cannot be written as 3 digits";
    QTest::newRow("phone letters") << Family::Gt06 << "center" << "phone=call me" << "" << "not a phone number";
    QTest::newRow("phone short") << Family::Gt06 << "center" << "phone=12" << "" << "not a phone number";
    QTest::newRow("unknown parameter") << Family::Gt06 << "where" << "host=x.example" << "" << "takes no parameter 'host'";
    QTest::newRow("bad password") << Family::Tk102 << "gprs" << "" << "12 34" << "SMS password";
    QTest::newRow("slot range") << Family::Tk102 << "sos" << "slot=7;phone=0612345678" << "" << "7 is not between 1 and 5";
    QTest::newRow("too long") << Family::Gt06 << "server"
                              << QStringLiteral("host=%1.example.org;port=5023").arg(QString(60, QLatin1Char('a'))) << ""
                              << "at most 64 characters";
}

void TestTrackerCommands::errors() {
    QFETCH(Family, family);
    QFETCH(QString, command);
    QFETCH(QString, values);
    QFETCH(QString, password);
    QFETCH(QString, message);
    QString error;
    const auto text = formatCommand(family, command, parseValues(values), password, &error);
    QVERIFY2(!text, qPrintable(text.value_or(QString())));
    QVERIFY2(error.contains(message), qPrintable(error));
}

// Every placeholder names a parameter (or the password) with a form its type has; ids are
// unique; dialects with a password use it and the others never do; destructive commands
// are flagged; every template names its source.
void TestTrackerCommands::tablesConsistent() {
    const QHash<ParamType, QSet<QString>> subs = {
        {ParamType::Host, {QString(), QStringLiteral("kind")}},
        {ParamType::IpAddress, {QString(), QStringLiteral("kind")}},
        {ParamType::Port, {QString()}},
        {ParamType::Word, {QString()}},
        {ParamType::Seconds, {QString(), QStringLiteral("tk")}},
        {ParamType::TimeZone, {QStringLiteral("ew"), QStringLiteral("h"), QStringLiteral("m"), QStringLiteral("hours")}},
        {ParamType::Phone, {QString()}},
        {ParamType::Integer, {QString()}},
    };
    QCOMPARE(dialects().size(), 4);
    for (const Dialect &d : dialects()) {
        QCOMPARE(familyFromId(familyId(d.family)), std::optional<Family>(d.family));
        QSet<QString> ids;
        bool pwdSeen = false;
        for (const CommandTemplate &c : d.commands) {
            const QString where = familyId(d.family) + QLatin1Char('/') + c.id;
            QVERIFY2(!ids.contains(c.id), qPrintable(where + " duplicated"));
            ids.insert(c.id);
            QVERIFY2(!c.source.isEmpty(), qPrintable(where + " has no source"));
            QVERIFY2(!c.label.isEmpty(), qPrintable(where));
            QCOMPARE(c.pattern.count(QLatin1Char('[')), c.pattern.count(QLatin1Char(']')));
            for (const QString &ph : placeholders(c.pattern)) {
                if (ph == QLatin1String("pwd")) {
                    pwdSeen = true;
                    continue;
                }
                const QString id = ph.section(QLatin1Char('.'), 0, 0);
                const QString sub = ph.contains(QLatin1Char('.')) ? ph.section(QLatin1Char('.'), 1) : QString();
                const Param *param = nullptr;
                for (const Param &p : c.params)
                    if (p.id == id) param = &p;
                QVERIFY2(param, qPrintable(where + ": {" + ph + "} names no parameter"));
                QVERIFY2(subs.value(param->type).contains(sub), qPrintable(where + ": {" + ph + "} not a form of its type"));
            }
            if (c.id == QLatin1String("factory") || c.id == QLatin1String("relay-cut"))
                QVERIFY2(c.dangerous, qPrintable(where + " must be confirmed"));
        }
        QCOMPARE(pwdSeen, d.usesPassword);
        QCOMPARE(d.usesPassword, !d.defaultPassword.isEmpty());
        for (const char *needed : {"server", "apn", "interval", "factory"})
            QVERIFY2(ids.contains(QLatin1String(needed)), qPrintable(familyId(d.family) + " lacks " + needed));
    }
    QVERIFY(!findCommand(Family::Gt06, QStringLiteral("nope")));
    QVERIFY(findCommand(Family::Tk102, QStringLiteral("admin")));
}

// Every template formats with its defaults plus plausible required values, into a valid text.
void TestTrackerCommands::defaultsFormat() {
    for (const Dialect &d : dialects()) {
        for (const CommandTemplate &c : d.commands) {
            Values v;
            for (const Param &p : c.params) {
                QString value = p.defaultValue;
                if (value.isEmpty() && p.required) {
                    switch (p.type) {
                    case ParamType::Host:
                    case ParamType::IpAddress: value = QStringLiteral("192.0.2.10"); break;
                    case ParamType::Phone: value = QStringLiteral("+491701234567"); break;
                    case ParamType::Word: value = QStringLiteral("internet"); break;
                    default: value = QString::number(p.min); break;
                    }
                }
                v.insert(p.id, value);
                QVERIFY2(validateParam(p, value).isEmpty(), qPrintable(c.id + ": " + validateParam(p, value)));
            }
            QString error;
            const auto text = formatCommand(d.family, c.id, v, {}, &error);
            QVERIFY2(text, qPrintable(familyId(d.family) + "/" + c.id + ": " + error));
            QVERIFY(!text->contains(QLatin1Char('{')));
            QVERIFY(text->size() <= 160);
        }
    }
}

void TestTrackerCommands::commandText_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("message");
    QTest::newRow("ok") << "SERVER,1,a.example,5023,0#" << "";
    QTest::newRow("ok 160") << QString(160, QLatin1Char('A')) << "";
    QTest::newRow("161") << QString(161, QLatin1Char('A')) << "160";
    QTest::newRow("empty") << "  " << "empty";
    QTest::newRow("euro") << QStringLiteral("PAY 5€") << "not a plain GSM";
    QTest::newRow("cyrillic") << QStringLiteral("ГДЕ#") << "not a plain GSM";
    QTest::newRow("newline") << "WHERE#\n" << "not a plain GSM";
    QTest::newRow("tilde") << "A~B" << "extension";
    QTest::newRow("backslash") << "A\\B" << "extension";
    QTest::newRow("backtick") << "A`B" << "extension";
}

void TestTrackerCommands::commandText() {
    QFETCH(QString, text);
    QFETCH(QString, message);
    const QString r = checkCommandText(text);
    if (message.isEmpty())
        QVERIFY2(r.isEmpty(), qPrintable(r));
    else
        QVERIFY2(r.contains(message), qPrintable(r));
}

void TestTrackerCommands::familyGuess_data() {
    QTest::addColumn<QString>("protocol");
    QTest::addColumn<QString>("model");
    QTest::addColumn<Family>("family");
    QTest::newRow("gt06") << "gt06" << "" << Family::Gt06;
    QTest::newRow("topin protocol") << "topin" << "" << Family::Topin;
    QTest::newRow("zx303 model") << "gt06" << "ZX303" << Family::Topin;
    QTest::newRow("jt808") << "jt808" << "" << Family::Jt808;
    QTest::newRow("coban model") << "" << "Coban TK103B" << Family::Tk102;
    QTest::newRow("unknown") << "" << "" << Family::Gt06;
}

void TestTrackerCommands::familyGuess() {
    QFETCH(QString, protocol);
    QFETCH(QString, model);
    QFETCH(Family, family);
    QCOMPARE(familyForDevice(protocol, model), family);
}

QTEST_APPLESS_MAIN(TestTrackerCommands)
#include "tst_trackercommands.moc"
