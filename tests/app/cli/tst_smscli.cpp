// `trackerdesk sms send|list` as a user runs them: against a data folder's store (queued
// when nobody runs there), handed to a running instance (an InstanceServer in this test
// plays TrackerDesk), and with --modem through the pty fake modem (driven by this test's
// event loop while the child process talks to it). Usage errors and exit codes.
#include "fakemodem.h"

#include "core/instance.h"
#include "sms/smsstore.h"
#include "store/store.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace td;

namespace {

const QString kCatImei = QStringLiteral("864717003283581");
const QString kCatPhone = QStringLiteral("+491701234567");

struct Result {
    int code = -1;
    QString out, err;
};

// Runs trackerdesk while this process's event loop keeps going (instance server, fake modem).
Result run(const QStringList &args, int timeoutMs = 60000) {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    p.setProcessEnvironment(env);
    QSignalSpy finished(&p, &QProcess::finished);
    p.start(QStringLiteral(TD_BINARY_DIR "/trackerdesk"), args);
    if (!p.waitForStarted(10000))
        return {-1, {}, p.errorString()};
    p.closeWriteChannel();
    if (!finished.wait(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        return {-2, QString::fromUtf8(p.readAllStandardOutput()), QStringLiteral("timeout: ") + QString::fromUtf8(p.readAllStandardError())};
    }
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -3, QString::fromUtf8(p.readAllStandardOutput()),
            QString::fromUtf8(p.readAllStandardError())};
}

// A data folder with a store holding a device and a short conversation.
struct Data {
    QTemporaryDir dir;
    qint64 cat = 0;
    bool make() {
        store::Store s;
        if (!s.open(dir.filePath(store::Store::fileName())))
            return false;
        store::Device d;
        d.imei = kCatImei;
        d.name = QStringLiteral("Cat");
        d.phone = kCatPhone;
        cat = s.addDevice(d);
        sms::SmsStore db(s);
        sms::Message out;
        out.direction = sms::Direction::Sent;
        out.deviceId = cat;
        out.number = kCatPhone;
        out.text = QStringLiteral("WHERE#");
        out.state = sms::State::Delivered;
        out.created = QDateTime(QDate(2024, 5, 1), QTime(10, 0), QTimeZone::UTC);
        out.references = {sms::PartReference{0, 17, 0, out.created.addSecs(5)}};
        sms::Message in;
        in.direction = sms::Direction::Received;
        in.deviceId = cat;
        in.number = kCatPhone;
        in.text = QStringLiteral("Lat:N22.571285,Lon:E113.877115,Course:42.20,Speed:0.0740,DateTime:10-11-23 22:28");
        in.state = sms::State::Received;
        in.created = out.created.addSecs(30);
        in.positions = 1;
        sms::Message stranger;
        stranger.direction = sms::Direction::Received;
        stranger.number = QStringLiteral("+447700900123");
        stranger.text = QStringLiteral("hello?");
        stranger.state = sms::State::Received;
        stranger.created = out.created.addSecs(60);
        return cat > 0 && db.insert(out) > 0 && db.insert(in) > 0 && db.insert(stranger) > 0;
    }
    QString path() const { return dir.path(); }
    QList<sms::Message> messages() {
        store::Store s;
        if (!s.open(dir.filePath(store::Store::fileName())))
            return {};
        return sms::SmsStore(s).messages({});
    }
};

} // namespace

class TestSmsCli : public QObject {
    Q_OBJECT
private slots:
    void usage_data();
    void usage();
    void list();
    void listJsonAndFilter();
    void sendQueuesInStore();
    void sendRefused();
    void sendHandedToInstance();
    void sendWithModem();
    void headlessWithModem();
};

void TestSmsCli::usage_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("message");
    QTest::newRow("no sub-command") << QStringList{QStringLiteral("sms")} << 2 << "sub-command";
    QTest::newRow("unknown sub-command") << QStringList{QStringLiteral("sms"), QStringLiteral("fly")} << 2 << "unknown sms sub-command";
    QTest::newRow("send without to") << QStringList{QStringLiteral("sms"), QStringLiteral("send"), QStringLiteral("hi")} << 2 << "--to";
    QTest::newRow("send without text") << QStringList{QStringLiteral("sms"), QStringLiteral("send"), QStringLiteral("--to"), QStringLiteral("Cat")}
                                       << 2 << "text";
    QTest::newRow("bad channel") << QStringList{QStringLiteral("sms"), QStringLiteral("send"), QStringLiteral("--to"), QStringLiteral("Cat"),
                                                QStringLiteral("--channel"), QStringLiteral("pigeon"), QStringLiteral("hi")}
                                 << 2 << "--channel";
    QTest::newRow("bad modem") << QStringList{QStringLiteral("sms"), QStringLiteral("send"), QStringLiteral("--to"), QStringLiteral("Cat"),
                                              QStringLiteral("--modem"), QStringLiteral("ttyUSB0:fast"), QStringLiteral("hi")}
                               << 2 << "--modem";
    QTest::newRow("bad limit") << QStringList{QStringLiteral("sms"), QStringLiteral("list"), QStringLiteral("--limit"), QStringLiteral("-3")}
                               << 2 << "--limit";
    QTest::newRow("no database") << QStringList{QStringLiteral("sms"), QStringLiteral("list"), QStringLiteral("--data-dir"),
                                                QStringLiteral("/nonexistent/trackerdesk-test")}
                                 << 1 << "no TrackerDesk data in";
}

void TestSmsCli::usage() {
    QFETCH(QStringList, args);
    QFETCH(int, code);
    QFETCH(QString, message);
    const Result r = run(args);
    QCOMPARE(r.code, code);
    QVERIFY2(r.err.contains(message), qPrintable(r.err));
    QCOMPARE(r.err.count(QLatin1Char('\n')), 1);   // one clear line
    const Result help = run({QStringLiteral("sms"), QStringLiteral("send"), QStringLiteral("--help")});
    QCOMPARE(help.code, 0);
    QVERIFY(help.out.contains(QLatin1String("--modem")));
}

void TestSmsCli::list() {
    Data data;
    QVERIFY(data.make());
    const Result r = run({QStringLiteral("sms"), QStringLiteral("list"), QStringLiteral("--data-dir"), data.path()});
    QCOMPARE(r.code, 0);
    const QStringList lines = r.out.trimmed().split(QLatin1Char('\n'));
    QCOMPARE(lines.size(), 3);
    QVERIFY2(lines[0].contains(QLatin1String("-> Cat (+491701234567)  sms  delivered  WHERE#")), qPrintable(lines[0]));
    QVERIFY2(lines[1].contains(QLatin1String("<- Cat (+491701234567)  sms  received  Lat:N22.571285")), qPrintable(lines[1]));
    QVERIFY2(lines[1].contains(QLatin1String("[1 position]")), qPrintable(lines[1]));
    QVERIFY2(lines[2].contains(QLatin1String("<- +447700900123")), qPrintable(lines[2]));
}

void TestSmsCli::listJsonAndFilter() {
    Data data;
    QVERIFY(data.make());
    Result r = run({QStringLiteral("sms"), QStringLiteral("list"), QStringLiteral("--json"), QStringLiteral("--device"), QStringLiteral("cat"),
                    QStringLiteral("--data-dir"), data.path()});
    QCOMPARE(r.code, 0);
    const QJsonArray a = QJsonDocument::fromJson(r.out.toUtf8()).array();
    QCOMPARE(a.size(), 2);
    QCOMPARE(a[0][QStringLiteral("direction")].toString(), QStringLiteral("sent"));
    QCOMPARE(a[0][QStringLiteral("state")].toString(), QStringLiteral("delivered"));
    QCOMPARE(a[0][QStringLiteral("references")][0][QStringLiteral("reference")].toInt(), 17);
    QCOMPARE(a[0][QStringLiteral("device")].toString(), QStringLiteral("Cat"));
    QCOMPARE(a[1][QStringLiteral("positions")].toInt(), 1);
    r = run({QStringLiteral("sms"), QStringLiteral("list"), QStringLiteral("--json"), QStringLiteral("--device"),
             QStringLiteral("0044 7700 900123"), QStringLiteral("--data-dir"), data.path()});
    QCOMPARE(r.code, 0);
    QCOMPARE(QJsonDocument::fromJson(r.out.toUtf8()).array().size(), 1);
    r = run({QStringLiteral("sms"), QStringLiteral("list"), QStringLiteral("--limit"), QStringLiteral("1"), QStringLiteral("--data-dir"), data.path()});
    QCOMPARE(r.out.trimmed().split(QLatin1Char('\n')).size(), 1);
    QVERIFY(r.out.contains(QLatin1String("hello?")));   // the newest one
}

// Nobody runs on the folder: the message is queued in its store, for the next TrackerDesk with a modem.
void TestSmsCli::sendQueuesInStore() {
    Data data;
    QVERIFY(data.make());
    const Result r = run({QStringLiteral("sms"), QStringLiteral("send"), QStringLiteral("--to"), kCatImei, QStringLiteral("--data-dir"),
                          data.path(), QStringLiteral("STATUS#")});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains(QLatin1String("to Cat (864717003283581) stored in")), qPrintable(r.out));
    QVERIFY2(r.out.contains(QLatin1String("no GSM modem is configured")), qPrintable(r.out));
    const QList<sms::Message> all = data.messages();
    QCOMPARE(all.first().text, QStringLiteral("STATUS#"));
    QCOMPARE(all.first().state, sms::State::Queued);
    QCOMPARE(all.first().deviceId, data.cat);
    QCOMPARE(all.first().number, kCatPhone);
}

void TestSmsCli::sendRefused() {
    Data data;
    QVERIFY(data.make());
    Result r = run({QStringLiteral("sms"), QStringLiteral("send"), QStringLiteral("--to"), QStringLiteral("Horse"), QStringLiteral("--data-dir"),
                    data.path(), QStringLiteral("hi")});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(QLatin1String("neither a phone number")), qPrintable(r.err));
    r = run({QStringLiteral("sms"), QStringLiteral("send"), QStringLiteral("--to"), QStringLiteral("Cat"), QStringLiteral("--channel"),
             QStringLiteral("gprs"), QStringLiteral("--data-dir"), data.path(), QStringLiteral("hi")});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(QLatin1String("GPRS")), qPrintable(r.err));
    QCOMPARE(data.messages().size(), 3);   // nothing stored
}

// A TrackerDesk (here: an InstanceServer of this test) owns the folder: the CLI hands over.
void TestSmsCli::sendHandedToInstance() {
    Data data;
    QVERIFY(data.make());
    InstanceServer instance;
    QString error;
    QVERIFY2(instance.listen(data.path(), &error), qPrintable(error));
    QList<QJsonObject> requests;
    instance.setHandler(QStringLiteral("sms-send"), [&](const QJsonObject &req) {
        requests << req;
        if (req.value(QStringLiteral("to")).toString() == QLatin1String("Horse"))
            return QJsonObject{{QStringLiteral("ok"), false}, {QStringLiteral("error"), QStringLiteral("no horse here")}};
        return QJsonObject{{QStringLiteral("ok"), true}, {QStringLiteral("id"), 42}, {QStringLiteral("channel"), QStringLiteral("gprs")},
                           {QStringLiteral("state"), QStringLiteral("sent")}, {QStringLiteral("to"), QStringLiteral("Cat (864717003283581)")},
                           {QStringLiteral("note"), QStringLiteral("sent over GPRS")}};
    });
    Result r = run({QStringLiteral("sms"), QStringLiteral("send"), QStringLiteral("--to"), QStringLiteral("Cat"), QStringLiteral("--data-dir"),
                    data.path(), QStringLiteral("WHERE#"), QStringLiteral("now")});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY2(r.out.contains(QLatin1String("handed to the running TrackerDesk: message 42 to Cat (864717003283581) by gprs, sent")),
             qPrintable(r.out));
    QCOMPARE(requests.size(), 1);
    QCOMPARE(requests[0].value(QStringLiteral("command")).toString(), QStringLiteral("sms-send"));
    QCOMPARE(requests[0].value(QStringLiteral("text")).toString(), QStringLiteral("WHERE# now"));
    QCOMPARE(requests[0].value(QStringLiteral("channel")).toString(), QStringLiteral("auto"));
    r = run({QStringLiteral("sms"), QStringLiteral("send"), QStringLiteral("--to"), QStringLiteral("Horse"), QStringLiteral("--data-dir"),
             data.path(), QStringLiteral("x")});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(QLatin1String("no horse here")), qPrintable(r.err));
    QCOMPARE(data.messages().size(), 3);   // the CLI itself stored nothing
}

// --modem: the CLI opens the modem, sends and waits for the network's answer.
void TestSmsCli::sendWithModem() {
    Data data;
    QVERIFY(data.make());
    // A port that is not there: said at once, nothing queued (a retry would send it twice).
    const qsizetype before = data.messages().size();
    const Result missing = run({QStringLiteral("sms"), QStringLiteral("send"), QStringLiteral("--to"), QStringLiteral("Cat"),
                                QStringLiteral("--modem"), QStringLiteral("/dev/td-no-such-modem"), QStringLiteral("--data-dir"),
                                data.path(), QStringLiteral("WHERE#")});
    QCOMPARE(missing.code, 1);
    QVERIFY2(missing.err.contains(QLatin1String("--modem: no serial port /dev/td-no-such-modem")), qPrintable(missing.err));
    QCOMPARE(data.messages().size(), before);
    td::test::FakeModem fake;
    QString error;
    QVERIFY2(fake.start(&error), qPrintable(error));
    const Result r = run({QStringLiteral("sms"), QStringLiteral("send"), QStringLiteral("--to"), QStringLiteral("Cat"), QStringLiteral("--modem"),
                          fake.portPath() + QStringLiteral(":115200"), QStringLiteral("--timeout"), QStringLiteral("60"),
                          QStringLiteral("--trace"), QStringLiteral("--data-dir"), data.path(), QStringLiteral("WHERE#")},
                         90000);
    QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
    QVERIFY2(r.out.contains(QLatin1String("sent (message reference")), qPrintable(r.out));
    // --trace: the AT dialogue on stderr, the send and the modem's answer with the reference.
    QVERIFY2(r.err.contains(QLatin1String("> AT+CMGS=")), qPrintable(r.err));
    QVERIFY2(r.err.contains(QStringLiteral("< +CMGS: %1").arg(fake.sent().value(0).messageReference)), qPrintable(r.err));
    QVERIFY2(!r.out.contains(QLatin1String("AT+CMGS")), qPrintable(r.out));   // stdout stays the result only
    QCOMPARE(fake.sent().size(), 1);
    QCOMPARE(fake.sent().first().sms.text, QStringLiteral("WHERE#"));
    QCOMPARE(fake.sent().first().sms.address.text, kCatPhone);
    const sms::Message m = data.messages().first();
    QCOMPARE(m.state, sms::State::Sent);
    QCOMPARE(m.references.first().reference, fake.sent().first().messageReference);
}

// `trackerdesk --headless --modem PORT`: the CLI hands a message to it, it goes out through the
// modem; the status report and the tracker's answer (with a position) are logged, one line each.
void TestSmsCli::headlessWithModem() {
    Data data;
    QVERIFY(data.make());
    td::test::FakeModem fake;
    QString error;
    QVERIFY2(fake.start(&error), qPrintable(error));
    QProcess headless;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    headless.setProcessEnvironment(env);
    QString out, err;
    connect(&headless, &QProcess::readyReadStandardOutput, this, [&] { out += QString::fromUtf8(headless.readAllStandardOutput()); });
    connect(&headless, &QProcess::readyReadStandardError, this, [&] { err += QString::fromUtf8(headless.readAllStandardError()); });
    headless.start(QStringLiteral(TD_BINARY_DIR "/trackerdesk"),
                   {QStringLiteral("--headless"), QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--data-dir"), data.path(),
                    QStringLiteral("--settings"), data.dir.filePath(QStringLiteral("settings.ini")), QStringLiteral("--modem"),
                    fake.portPath(), QStringLiteral("--modem-trace")});
    QVERIFY(headless.waitForStarted(10000));
    QTRY_VERIFY2_WITH_TIMEOUT(out.contains(QLatin1String("modem ready")), qPrintable(out), 30000);
    const Result r = run({QStringLiteral("sms"), QStringLiteral("send"), QStringLiteral("--to"), QStringLiteral("Cat"), QStringLiteral("--data-dir"),
                          data.path(), QStringLiteral("WHERE#")});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY2(r.out.contains(QLatin1String("handed to the running TrackerDesk")), qPrintable(r.out));
    QTRY_COMPARE_WITH_TIMEOUT(fake.sent().size(), 1, 30000);
    QTRY_VERIFY2_WITH_TIMEOUT(out.contains(QLatin1String("sms sent to Cat (864717003283581) +491701234567 [ref ")), qPrintable(out), 30000);
    // --modem-trace: the dialogue on stderr, with the headless log's UTC time stamps.
    QTRY_VERIFY2_WITH_TIMEOUT(err.contains(QStringLiteral("Z modem < +CMGS: %1").arg(fake.sent().first().messageReference)), qPrintable(err), 30000);
    QVERIFY2(err.contains(QLatin1String("Z modem > AT+CMGS=")), qPrintable(err));
    QVERIFY2(err.contains(QLatin1String("Z modem -- ready")), qPrintable(err));
    fake.statusReport(fake.sent().first().messageReference, 0x00, kCatPhone);
    QTRY_VERIFY2_WITH_TIMEOUT(out.contains(QLatin1String("sms delivered to Cat")), qPrintable(out), 30000);
    fake.deliverText(kCatPhone, QStringLiteral("Lat:N22.571285,Lon:E113.877115,Course:42.20,Speed:0.0740,DateTime:10-11-23 22:28"));
    QTRY_VERIFY2_WITH_TIMEOUT(out.contains(QLatin1String("sms received from Cat (864717003283581) +491701234567: Lat:N22.571285")),
                              qPrintable(out), 30000);
    QVERIFY2(out.contains(QLatin1String("[1 position(s) stored]")), qPrintable(out));
    QTRY_VERIFY2_WITH_TIMEOUT(out.contains(QLatin1String(" 22.571285,113.877115")) && out.contains(QLatin1String(" sms")), qPrintable(out), 30000);
    headless.terminate();
    QSignalSpy finished(&headless, &QProcess::finished);
    QVERIFY(finished.wait(20000) || headless.state() == QProcess::NotRunning);
    QCOMPARE(headless.exitCode(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(fake.used(), 0, 5000);   // the tracker's SMS was taken off the SIM
}

QTEST_GUILESS_MAIN(TestSmsCli)
#include "tst_smscli.moc"
