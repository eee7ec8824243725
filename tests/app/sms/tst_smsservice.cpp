// The SMS service (app/sms) end to end through the scripted SIM800 fake on a pty
// (tests/common/fakemodem.*) into a real store: the outbox (queued before the modem sees a
// message, sent, delivered / failed by status reports, transient errors retried, restart
// and unplug/replug with the queue intact), the inbox (concatenated parts out of order, the
// SIM copy deleted only once the store has the part, duplicates kept once), positions in
// received texts stored as fixes with source sms (the real sample texts of
// tests/data/sms_vectors.tsv), numbers matched to devices, the GPRS channel through a
// running TrackerService with a simulated GT06 tracker, and the modem settings (PIN file).
#include "fakemodem.h"
#include "walcheck.h"

#include "core/settings.h"
#include "service/trackerservice.h"
#include "sms/numbers.h"
#include "sms/smsservice.h"
#include "sms/smsstore.h"

#include "trackerdesk/protocol/gt06.h"
#include "trackerdesk/protocol/smspdu.h"

#include <QFile>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QSqlQuery>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

using namespace td;
using namespace td::sms;
using td::test::FakeModem;
using td::test::FakeModemOptions;
namespace pdu = td::proto::pdu;

namespace {

constexpr int kWait = 15000;   // bound of any single wait; typical ones take well under a second

const QString kCatImei = QStringLiteral("864717003283581");
const QString kCatPhone = QStringLiteral("+491701234567");
const QString kDogImei = QStringLiteral("359587011016261");
const QString kDogPhone = QStringLiteral("0170 7654321");   // national form in the device list

modem::ModemConfig fastModem(const QString &port) {
    modem::ModemConfig c;
    c.port = port;
    c.commandTimeoutMs = 700;
    c.sendTimeoutMs = 4000;
    c.listTimeoutMs = 2000;
    c.reconnectIntervalMs = 150;
    c.sweepIntervalMs = 10 * 60 * 1000;
    c.simBusyRetryMs = 50;
    c.readyTimeoutMs = 5000;
    return c;
}

SmsConfig fastConfig(const QString &port) {
    SmsConfig c;
    c.modem = fastModem(port);
    c.firstRetryMs = 150;
    c.maxRetryMs = 600;
    c.reassemblyTimeoutMs = 60 * 1000;
    c.expireCheckMs = 50;
    return c;
}

// A data folder with a store and two devices, a fake modem, and the service under test.
struct Rig {
    QTemporaryDir dir;
    std::unique_ptr<FakeModem> fake;
    store::Store store;
    std::unique_ptr<SmsService> sms;
    qint64 cat = 0, dog = 0;
    QStringList log;

    explicit Rig(const FakeModemOptions &o = {}) : fake(std::make_unique<FakeModem>(o)) {}
    ~Rig() {
        sms.reset();   // the engine closes its port before the pty goes away
        fake.reset();
    }
    QString dbPath() const { return dir.filePath(QStringLiteral("trackerdesk.db")); }
    bool openStore() {
        if (!store.open(dbPath())) {
            qWarning("store: %s", qPrintable(store.lastError()));
            return false;
        }
        if (!cat) {
            store::Device c;
            c.imei = kCatImei;
            c.name = QStringLiteral("Cat");
            c.phone = kCatPhone;
            cat = store.addDevice(c);
            store::Device d;
            d.imei = kDogImei;
            d.name = QStringLiteral("Dog");
            d.phone = kDogPhone;
            d.timeZoneMinutes = 480;
            dog = store.addDevice(d);
        }
        return cat > 0 && dog > 0;
    }
    bool startFake() {
        QString error;
        if (!fake->start(&error)) {
            qWarning("fake modem: %s", qPrintable(error));
            return false;
        }
        return true;
    }
    // The service; `withModem` false: no modem configured.
    bool startService(bool withModem = true, std::function<void(SmsConfig &)> tweak = {}) {
        SmsConfig c = fastConfig(withModem ? fake->portPath() : QString());
        if (tweak) tweak(c);
        sms = std::make_unique<SmsService>(store);
        QObject::connect(sms.get(), &SmsService::logMessage, sms.get(), [this](const QString &l) { log << l; });
        QString error;
        if (!sms->start(c, &error)) {
            qWarning("sms: %s", qPrintable(error));
            return false;
        }
        return true;
    }
    bool ready() {
        return QTest::qWaitFor([this] { return sms && sms->modemState() == modem::ModemState::Ready; }, kWait);
    }
    Message msg(qint64 id) { return sms->message(id).value_or(Message()); }
    State state(qint64 id) { return msg(id).state; }
    int count(const QString &sql) {
        QSqlQuery q(store.database());
        if (!q.exec(sql) || !q.next())
            return -1;
        return q.value(0).toInt();
    }
    QList<Message> received() {
        MessageFilter f;
        f.direction = Direction::Received;
        return sms->messages(f);
    }
};

pdu::Sms deliverPart(const QString &from, const QString &text, quint16 ref, int total, int seq) {
    pdu::Sms s;
    s.type = pdu::PduType::Deliver;
    s.smsc = *pdu::Address::fromUser(QStringLiteral("+491710760000"));
    s.address = *pdu::Address::fromUser(from);
    s.encoding = pdu::Encoding::Gsm7;
    s.timestamp = QDateTime(QDate(2024, 5, 1), QTime(12, 0, seq), QTimeZone::fromSecondsAheadOfUtc(7200));
    s.text = text;
    s.concat = pdu::Concat{ref, quint8(total), quint8(seq), false};
    return s;
}

struct Vector {
    QString id, format, text;
    QJsonObject expected;
};

QList<Vector> smsVectors() {
    QList<Vector> out;
    QFile f(QStringLiteral(TD_TEST_DATA "/sms_vectors.tsv"));
    if (!f.open(QIODevice::ReadOnly))
        return out;
    const QList<QByteArray> lines = f.readAll().split('\n');
    for (int i = 1; i < lines.size(); ++i) {
        const QList<QByteArray> cols = lines[i].split('\t');
        if (cols.size() < 5)
            continue;
        Vector v;
        v.id = QString::fromUtf8(cols[0]);
        v.format = QString::fromUtf8(cols[2]);
        v.text = QString::fromUtf8(cols[3]).replace(QStringLiteral("\\n"), QStringLiteral("\n"));
        v.expected = QJsonDocument::fromJson(cols[4]).object();
        out << v;
    }
    return out;
}

} // namespace

class TestSmsService : public QObject {
    Q_OBJECT
private slots:
    void leavesNoReadTransactionOpen();
    void peerTextHasNoEmptyParts();
    void numbers_data();
    void numbers();
    void recipients();
    void noModemKeepsQueued();
    void storedBeforeTheModemSeesIt();
    void deliveredByStatusReport();
    void multipartReferencesAndReports();
    void permanentErrorFails();
    void failedStatusReport();
    void transientErrorRetried();
    void restartSendsQueuedMessage();
    void unplugReplugKeepsQueue();
    void concatenatedOutOfOrder();
    void incompleteAfterTimeout();
    void simCopyDeletedOnlyAfterStore();
    void sweepDuplicatesKeptOnce();
    void partsSurviveRestart();
    void smsPositionBecomesFix_data();
    void smsPositionBecomesFix();
    void numbersMatchedToDevices();
    void gprsChannel();
    void instanceRequest();
    void modemSettings();
    void modemLogShowsTheDialogue();
    void modemLogIsBounded();
    void cleanupTestCase() { m_shared.reset(); }

private:
    std::unique_ptr<Rig> m_shared;   // one modem for all rows of smsPositionBecomesFix
};

// ---------------------------------------------------------------------------------------

void TestSmsService::numbers_data() {
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("b");
    QTest::addColumn<int>("match");
    QTest::newRow("same") << "+491701234567" << "+491701234567" << 3;
    QTest::newRow("spaces dashes") << "+49 170 123-4567" << "+491701234567" << 3;
    QTest::newRow("00 prefix") << "00491701234567" << "+491701234567" << 3;
    QTest::newRow("national trunk 0") << "01701234567" << "+491701234567" << 2;
    QTest::newRow("national no trunk") << "1701234567" << "+491701234567" << 2;
    QTest::newRow("italian keeps 0") << "0612345678" << "+390612345678" << 2;
    QTest::newRow("national both") << "01701234567" << "1701234567" << 2;
    QTest::newRow("other country") << "+441701234567" << "+491701234567" << 0;
    QTest::newRow("other number") << "01707654321" << "+491701234567" << 0;
    QTest::newRow("too short suffix") << "4567" << "+491701234567" << 0;
    QTest::newRow("short code") << "22222" << "22222" << 3;
    QTest::newRow("alphanumeric") << "Megafon" << "MEGAFON" << 3;
    QTest::newRow("alphanumeric vs digits") << "Megafon" << "+491701234567" << 0;
    QTest::newRow("empty") << "" << "+491701234567" << 0;
}

void TestSmsService::numbers() {
    QFETCH(QString, a);
    QFETCH(QString, b);
    QFETCH(int, match);
    QCOMPARE(numberMatch(a, b), match);
    QCOMPARE(numberMatch(b, a), match);
}

void TestSmsService::recipients() {
    QList<store::Device> devices;
    store::Device cat;
    cat.id = 1; cat.imei = kCatImei; cat.name = QStringLiteral("Cat"); cat.phone = kCatPhone;
    store::Device dog;
    dog.id = 2; dog.imei = kDogImei; dog.name = QStringLiteral("Dog"); dog.phone = kDogPhone;
    store::Device mute;
    mute.id = 3; mute.imei = QStringLiteral("123456789012345"); mute.name = QStringLiteral("Mute");
    devices << cat << dog << mute;
    QString error;
    auto r = resolveRecipient(devices, QStringLiteral("cat"), &error);
    QVERIFY(r);
    QCOMPARE(r->deviceId, qint64(1));
    QCOMPARE(r->number, kCatPhone);
    r = resolveRecipient(devices, kDogImei, &error);
    QVERIFY(r);
    QCOMPARE(r->number, QStringLiteral("01707654321"));
    r = resolveRecipient(devices, QStringLiteral("+49 170 7654321"), &error);   // a number that is Dog's
    QVERIFY(r);
    QCOMPARE(r->deviceId, qint64(2));
    r = resolveRecipient(devices, QStringLiteral("+33612345678"), &error);
    QVERIFY(r);
    QCOMPARE(r->deviceId, qint64(0));
    QVERIFY(!resolveRecipient(devices, QStringLiteral("Mute"), &error));
    QVERIFY2(error.contains(QLatin1String("no SIM phone number")), qPrintable(error));
    QVERIFY(!resolveRecipient(devices, QStringLiteral("Horse"), &error));
    QVERIFY2(error.contains(QLatin1String("neither a phone number")), qPrintable(error));
    QCOMPARE(deviceForNumber(devices, QStringLiteral("01701234567")), qint64(1));
    devices[2].phone = QStringLiteral("0049 170 1234567");   // two devices with one number: ambiguous
    QCOMPARE(deviceForNumber(devices, QStringLiteral("01701234567")), qint64(0));
}

// No modem configured: the message is stored queued, the caller is told why, nothing lost.
void TestSmsService::noModemKeepsQueued() {
    Rig rig;
    QVERIFY(rig.openStore());
    QVERIFY(rig.startService(false));
    QCOMPARE(rig.sms->modemState(), modem::ModemState::Closed);
    const SendResult r = rig.sms->send(QStringLiteral("Cat"), QStringLiteral("WHERE#"));
    QVERIFY2(r.ok(), qPrintable(r.error));
    QCOMPARE(r.channel, Channel::Sms);
    QVERIFY2(r.note.contains(QLatin1String("no GSM modem is configured")), qPrintable(r.note));
    QTest::qWait(200);
    const Message m = rig.msg(r.id);
    QCOMPARE(m.state, State::Queued);
    QCOMPARE(m.number, kCatPhone);
    QCOMPARE(m.deviceId, rig.cat);
    QCOMPARE(m.attempts, 0);
    // Refusals are clear and store nothing.
    const int before = rig.count(QStringLiteral("SELECT COUNT(*) FROM sms_messages"));
    QVERIFY(rig.sms->send(QStringLiteral("Horse"), QStringLiteral("x")).error.contains(QLatin1String("neither a phone number")));
    QVERIFY(rig.sms->send(QStringLiteral("Cat"), QStringLiteral("  ")).error.contains(QLatin1String("empty")));
    QVERIFY(rig.sms->send(QStringLiteral("Cat"), QString(2000, QLatin1Char('x'))).error.contains(QLatin1String("parts")));
    QVERIFY(rig.sms->send(QStringLiteral("Cat"), QStringLiteral("x"), ChannelChoice::Gprs).error.contains(QLatin1String("GPRS")));
    QCOMPARE(rig.count(QStringLiteral("SELECT COUNT(*) FROM sms_messages")), before);
}

// The row is "queued" when send() returns and already "sending" in the database when the
// modem receives the PDU.
void TestSmsService::storedBeforeTheModemSeesIt() {
    Rig rig;
    QVERIFY(rig.startFake());
    QVERIFY(rig.openStore());
    QVERIFY(rig.startService());
    QVERIFY(rig.ready());
    QStringList statesAtPdu;
    qint64 id = 0;
    connect(rig.fake.get(), &FakeModem::pduReceived, this, [&] {
        QSqlQuery q(rig.store.database());
        q.exec(QStringLiteral("SELECT state FROM sms_messages WHERE id=%1").arg(id));
        statesAtPdu << (q.next() ? q.value(0).toString() : QStringLiteral("missing"));
    });
    const SendResult r = rig.sms->send(QStringLiteral("Cat"), QStringLiteral("WHERE#"), ChannelChoice::Sms);
    QVERIFY2(r.ok(), qPrintable(r.error));
    id = r.id;
    QCOMPARE(rig.state(id), State::Queued);   // stored before anything was written to the modem
    QVERIFY2(r.note.contains(QLatin1String("queued for the modem")), qPrintable(r.note));
    QTRY_COMPARE_WITH_TIMEOUT(rig.state(id), State::Sent, kWait);
    QCOMPARE(statesAtPdu, QStringList{QStringLiteral("sending")});
    QCOMPARE(rig.fake->sent().size(), 1);
    const auto &sent = rig.fake->sent().first();
    QCOMPARE(sent.sms.text, QStringLiteral("WHERE#"));
    QCOMPARE(sent.sms.address.text, kCatPhone);
    QVERIFY(sent.sms.statusReportRequested);
    const Message m = rig.msg(id);
    QCOMPARE(m.references.size(), 1);
    QCOMPARE(m.references.first().reference, sent.messageReference);
    QCOMPARE(m.attempts, 1);
    QVERIFY(m.sent.isValid());
    QCOMPARE(m.pdus.size(), 1);
    QCOMPARE(m.pdus.first(), sent.pdu);
}

void TestSmsService::deliveredByStatusReport() {
    Rig rig;
    QVERIFY(rig.startFake());
    QVERIFY(rig.openStore());
    QVERIFY(rig.startService());
    QVERIFY(rig.ready());
    QSignalSpy changed(rig.sms.get(), &SmsService::messageChanged);
    const SendResult r = rig.sms->send(QStringLiteral("Dog"), QStringLiteral("STATUS#"));
    QVERIFY(r.ok());
    QTRY_COMPARE_WITH_TIMEOUT(rig.state(r.id), State::Sent, kWait);
    const int mr = rig.fake->sent().first().messageReference;
    QCOMPARE(rig.fake->sent().first().sms.address.text, QStringLiteral("01707654321"));
    // A report for another reference is not applied to this message.
    rig.fake->statusReport((mr + 1) % 256, 0x00, QStringLiteral("01707654321"));
    QTRY_VERIFY_WITH_TIMEOUT(rig.log.join(QLatin1Char('\n')).contains(QLatin1String("matches no sent SMS")), kWait);
    QCOMPARE(rig.state(r.id), State::Sent);
    // The report names the recipient in international form; the message has the national one.
    rig.fake->statusReport(mr, 0x00, QStringLiteral("+491707654321"));
    QTRY_COMPARE_WITH_TIMEOUT(rig.state(r.id), State::Delivered, kWait);
    const Message m = rig.msg(r.id);
    QVERIFY(m.done.isValid());
    QCOMPARE(m.references.first().status, std::optional<int>(0));
    bool sawDelivered = false;
    for (const QList<QVariant> &args : std::as_const(changed))
        sawDelivered |= args.first().value<Message>().state == State::Delivered;
    QVERIFY(sawDelivered);
    QTRY_COMPARE_WITH_TIMEOUT(rig.fake->used(QStringLiteral("SR")) + rig.fake->used(QStringLiteral("SM")), 0, kWait);
}

void TestSmsService::multipartReferencesAndReports() {
    Rig rig;
    QVERIFY(rig.startFake());
    QVERIFY(rig.openStore());
    QVERIFY(rig.startService());
    QVERIFY(rig.ready());
    QString text;
    for (int i = 0; i < 40; ++i)
        text += QStringLiteral("part%1 ").arg(i, 2, 10, QLatin1Char('0'));   // 280 GSM-7 characters: 2 parts
    const SendResult r = rig.sms->send(kCatPhone, text);
    QVERIFY(r.ok());
    QTRY_COMPARE_WITH_TIMEOUT(rig.state(r.id), State::Sent, kWait);
    QCOMPARE(rig.fake->sent().size(), 2);
    Message m = rig.msg(r.id);
    QCOMPARE(m.parts, 2);
    QCOMPARE(m.references.size(), 2);
    QCOMPARE(m.references[0].reference, rig.fake->sent()[0].messageReference);
    QCOMPARE(m.references[1].reference, rig.fake->sent()[1].messageReference);
    QCOMPARE(rig.fake->sent()[0].sms.text + rig.fake->sent()[1].sms.text, text);
    // Part 2 "SC still trying", part 1 delivered: still sent, with the note.
    rig.fake->statusReport(m.references[1].reference, 0x20, kCatPhone);
    rig.fake->statusReport(m.references[0].reference, 0x00, kCatPhone);
    QTRY_VERIFY_WITH_TIMEOUT(rig.msg(r.id).references[0].status.has_value(), kWait);
    QTRY_VERIFY_WITH_TIMEOUT(rig.msg(r.id).references[1].status.has_value(), kWait);
    m = rig.msg(r.id);
    QCOMPARE(m.state, State::Sent);
    QVERIFY2(m.error.contains(QLatin1String("part 2")), qPrintable(m.error));
    rig.fake->statusReport(m.references[1].reference, 0x00, kCatPhone);
    QTRY_COMPARE_WITH_TIMEOUT(rig.state(r.id), State::Delivered, kWait);
}

void TestSmsService::permanentErrorFails() {
    Rig rig;
    QVERIFY(rig.startFake());
    QVERIFY(rig.openStore());
    QVERIFY(rig.startService());
    QVERIFY(rig.ready());
    rig.fake->addErrorRule("AT+CMGS", "+CMS ERROR: 304", 1);
    const SendResult r = rig.sms->send(QStringLiteral("Cat"), QStringLiteral("WHERE#"));
    QVERIFY(r.ok());
    QTRY_COMPARE_WITH_TIMEOUT(rig.state(r.id), State::Failed, kWait);
    const Message m = rig.msg(r.id);
    QVERIFY2(m.error.contains(QLatin1String("304")), qPrintable(m.error));
    QCOMPARE(m.attempts, 1);
    QVERIFY(m.done.isValid());
    // The queue goes on with the next message.
    const SendResult next = rig.sms->send(QStringLiteral("Cat"), QStringLiteral("URL#"));
    QTRY_COMPARE_WITH_TIMEOUT(rig.state(next.id), State::Sent, kWait);
}

void TestSmsService::failedStatusReport() {
    Rig rig;
    QVERIFY(rig.startFake());
    QVERIFY(rig.openStore());
    QVERIFY(rig.startService());
    QVERIFY(rig.ready());
    const SendResult r = rig.sms->send(QStringLiteral("Cat"), QStringLiteral("WHERE#"));
    QTRY_COMPARE_WITH_TIMEOUT(rig.state(r.id), State::Sent, kWait);
    rig.fake->statusReport(rig.fake->sent().first().messageReference, 0x41, kCatPhone);   // incompatible destination
    QTRY_COMPARE_WITH_TIMEOUT(rig.state(r.id), State::Failed, kWait);
    const Message m = rig.msg(r.id);
    QVERIFY2(m.error.startsWith(QLatin1String("not delivered: ")), qPrintable(m.error));
    QVERIFY2(m.error.contains(pdu::deliveryStatusText(0x41)), qPrintable(m.error));
}

void TestSmsService::transientErrorRetried() {
    Rig rig;
    QVERIFY(rig.startFake());
    QVERIFY(rig.openStore());
    auto slowRetry = [](SmsConfig &c) { c.firstRetryMs = 400; c.maxRetryMs = 800; };
    QVERIFY(rig.startService(true, slowRetry));
    QVERIFY(rig.ready());
    rig.fake->addErrorRule("AT+CMGS", "+CMS ERROR: 332", 2);   // network timeout, twice
    const SendResult r = rig.sms->send(QStringLiteral("Cat"), QStringLiteral("WHERE#"));
    QTRY_VERIFY_WITH_TIMEOUT(rig.msg(r.id).attempts >= 1 && rig.state(r.id) == State::Queued, kWait);
    QVERIFY2(rig.msg(r.id).error.contains(QLatin1String("332")) || rig.msg(r.id).error.contains(QLatin1String("timeout")),
             qPrintable(rig.msg(r.id).error));
    QVERIFY(rig.msg(r.id).nextAttempt.isValid());
    QTRY_COMPARE_WITH_TIMEOUT(rig.state(r.id), State::Sent, kWait);
    QCOMPARE(rig.msg(r.id).attempts, 3);
    QCOMPARE(rig.fake->sent().size(), 1);
    QCOMPARE(rig.fake->attempts(), 3);

    // Always transient: gives up after maxAttempts with the reason.
    rig.sms.reset();
    QVERIFY(rig.startService(true, [&](SmsConfig &c) { slowRetry(c); c.maxAttempts = 2; }));
    QVERIFY(rig.ready());
    rig.fake->addErrorRule("AT+CMGS", "+CMS ERROR: 332", -1);
    const SendResult g = rig.sms->send(QStringLiteral("Cat"), QStringLiteral("URL#"));
    QTRY_COMPARE_WITH_TIMEOUT(rig.state(g.id), State::Failed, kWait);
    QCOMPARE(rig.msg(g.id).attempts, 2);
    QVERIFY2(rig.msg(g.id).error.contains(QLatin1String("gave up after 2 attempts")), qPrintable(rig.msg(g.id).error));
    rig.fake->clearErrorRules();
}

// Queued while TrackerDesk had no modem; the next start with a modem sends it. A message a
// crash left "sending" is sent again.
void TestSmsService::restartSendsQueuedMessage() {
    Rig rig;
    QVERIFY(rig.startFake());
    QVERIFY(rig.openStore());
    QVERIFY(rig.startService(false));
    const SendResult a = rig.sms->send(QStringLiteral("Cat"), QStringLiteral("WHERE#"));
    const SendResult b = rig.sms->send(QStringLiteral("Dog"), QStringLiteral("STATUS#"));
    QVERIFY(a.ok() && b.ok());
    rig.sms.reset();
    {   // a crash in the middle of sending b
        QSqlQuery q(rig.store.database());
        QVERIFY(q.exec(QStringLiteral("UPDATE sms_messages SET state='sending', attempts=1 WHERE id=%1").arg(b.id)));
    }
    rig.store.close();
    QVERIFY(rig.openStore());   // as after a restart
    QVERIFY(rig.startService(true));
    QCOMPARE(rig.state(b.id), State::Queued);
    QVERIFY(rig.log.join(QLatin1Char('\n')).contains(QLatin1String("1 SMS interrupted")));
    QTRY_COMPARE_WITH_TIMEOUT(rig.state(a.id), State::Sent, kWait);
    QTRY_COMPARE_WITH_TIMEOUT(rig.state(b.id), State::Sent, kWait);
    QCOMPARE(rig.fake->sent().size(), 2);
    QCOMPARE(rig.fake->sent()[0].sms.text, QStringLiteral("WHERE#"));   // oldest first
    QCOMPARE(rig.msg(b.id).attempts, 2);
}

// The modem vanishes while a message is being sent and another is queued meanwhile: both
// go out once it is back.
void TestSmsService::unplugReplugKeepsQueue() {
    FakeModemOptions o;
    o.sendDelayMs = 1500;   // the +CMGS answer does not come before the unplug
    Rig rig(o);
    QVERIFY(rig.startFake());
    QVERIFY(rig.openStore());
    QVERIFY(rig.startService());
    QVERIFY(rig.ready());
    const SendResult a = rig.sms->send(QStringLiteral("Cat"), QStringLiteral("WHERE#"));
    QTRY_COMPARE_WITH_TIMEOUT(rig.fake->attempts(), 1, kWait);
    QCOMPARE(rig.state(a.id), State::Sending);
    rig.fake->unplug();
    QTRY_COMPARE_WITH_TIMEOUT(rig.state(a.id), State::Queued, kWait);
    QVERIFY(rig.sms->modemState() != modem::ModemState::Ready);
    const SendResult b = rig.sms->send(QStringLiteral("Dog"), QStringLiteral("STATUS#"));
    QVERIFY2(b.note.contains(QLatin1String("when it is ready")), qPrintable(b.note));
    QTest::qWait(400);
    QCOMPARE(rig.state(b.id), State::Queued);
    rig.fake->options().sendDelayMs = 10;
    QString error;
    QVERIFY2(rig.fake->replug(&error), qPrintable(error));
    QVERIFY(rig.ready());
    QTRY_COMPARE_WITH_TIMEOUT(rig.state(a.id), State::Sent, kWait);
    QTRY_COMPARE_WITH_TIMEOUT(rig.state(b.id), State::Sent, kWait);
    QCOMPARE(rig.count(QStringLiteral("SELECT COUNT(*) FROM sms_messages WHERE state IN ('queued','sending')")), 0);
}

void TestSmsService::concatenatedOutOfOrder() {
    Rig rig;
    QVERIFY(rig.startFake());
    QVERIFY(rig.openStore());
    QVERIFY(rig.startService());
    QVERIFY(rig.ready());
    QSignalSpy added(rig.sms.get(), &SmsService::messageAdded);
    const QStringList chunks = {QStringLiteral("Lat:N22.571285,Lon:E113.877115,"), QStringLiteral("Course:42.20,Speed:0.0740,"),
                                QStringLiteral("DateTime:10-11-23 22:28")};   // the JM01 WHERE# reply in three parts
    QSet<QByteArray> pdus;
    int n = 0;
    for (int seq : {3, 1, 2}) {
        const QByteArray p = pdu::encodeDeliver(deliverPart(kCatPhone, chunks[seq - 1], 0x5A, 3, seq));
        pdus.insert(p);
        QVERIFY(rig.fake->deliver(p) > 0);
        ++n;
        QTRY_COMPARE_WITH_TIMEOUT(rig.count(QStringLiteral("SELECT COUNT(*) FROM sms_inbox_parts")), n, kWait);
        if (seq != 2) {
            QCOMPARE(added.size(), 0);
            QCOMPARE(rig.sms->pendingParts(), 1);
        }
    }
    QTRY_COMPARE_WITH_TIMEOUT(added.size(), 1, kWait);
    const Message m = added.first().first().value<Message>();
    QCOMPARE(m.text, chunks.join(QString()));
    QCOMPARE(m.parts, 3);
    QCOMPARE(m.deviceId, rig.cat);
    QCOMPARE(m.number, kCatPhone);
    QVERIFY(m.error.isEmpty());
    QCOMPARE(m.scts.offsetFromUtc(), 7200);
    QCOMPARE(QSet<QByteArray>(m.pdus.begin(), m.pdus.end()), pdus);
    QCOMPARE(m.positions, 1);
    QCOMPARE(rig.count(QStringLiteral("SELECT COUNT(*) FROM sms_inbox_parts WHERE message_id=%1").arg(m.id)), 3);
    QCOMPARE(rig.sms->pendingParts(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(rig.fake->used(), 0, kWait);   // every SIM slot freed
    QCOMPARE(rig.received().size(), 1);
}

void TestSmsService::incompleteAfterTimeout() {
    Rig rig;
    QVERIFY(rig.startFake());
    QVERIFY(rig.openStore());
    QVERIFY(rig.startService(true, [](SmsConfig &c) { c.reassemblyTimeoutMs = 500; }));
    QVERIFY(rig.ready());
    QVERIFY(rig.fake->deliver(pdu::encodeDeliver(deliverPart(QStringLiteral("+33612345678"), QStringLiteral("first "), 7, 3, 1))) > 0);
    QVERIFY(rig.fake->deliver(pdu::encodeDeliver(deliverPart(QStringLiteral("+33612345678"), QStringLiteral("third"), 7, 3, 3))) > 0);
    QTRY_COMPARE_WITH_TIMEOUT(rig.fake->used(), 0, kWait);   // stored, so deleted although incomplete
    QTRY_COMPARE_WITH_TIMEOUT(rig.received().size(), 1, kWait);
    const Message m = rig.received().first();
    QCOMPARE(m.text, QStringLiteral("first third"));
    QVERIFY2(m.error.contains(QLatin1String("part(s) 2 of 3")), qPrintable(m.error));
    QCOMPARE(m.deviceId, qint64(0));   // unknown number: stored unmatched
    QCOMPARE(m.number, QStringLiteral("+33612345678"));
}

// The modem's copy is deleted only once the store has the part; when the store cannot take
// it the copy stays on the SIM and the next sweep brings it again.
void TestSmsService::simCopyDeletedOnlyAfterStore() {
    Rig rig;
    QVERIFY(rig.startFake());
    QVERIFY(rig.openStore());
    QVERIFY(rig.startService());
    QVERIFY(rig.ready());
    QStringList atDelete;
    connect(rig.fake.get(), &FakeModem::commandReceived, this, [&](const QByteArray &line) {
        if (line.toUpper().startsWith("AT+CMGD="))
            atDelete << QString::number(rig.count(QStringLiteral("SELECT COUNT(*) FROM sms_inbox_parts")))
                            + QLatin1Char('/') + QString::number(rig.count(QStringLiteral("SELECT COUNT(*) FROM sms_messages")));
    });
    QVERIFY(rig.fake->deliverText(kCatPhone, QStringLiteral("hello")) > 0);
    QTRY_COMPARE_WITH_TIMEOUT(rig.fake->used(), 0, kWait);
    // Part and message stored before every AT+CMGD (the init sweep may list the new message
    // too and delete it a second time: harmless, the duplicate is recognised).
    QVERIFY(!atDelete.isEmpty());
    for (const QString &seen : std::as_const(atDelete))
        QCOMPARE(seen, QStringLiteral("1/1"));
    const int deletes = rig.fake->count("AT+CMGD");

    // The store refuses the part: nothing is deleted on the modem.
    {
        QSqlQuery q(rig.store.database());
        QVERIFY(q.exec(QStringLiteral("ALTER TABLE sms_inbox_parts RENAME TO sms_inbox_parts_away")));
    }
    QVERIFY(rig.fake->deliverText(kCatPhone, QStringLiteral("second")) > 0);
    QTRY_VERIFY_WITH_TIMEOUT(rig.log.join(QLatin1Char('\n')).contains(QLatin1String("left on the modem")), kWait);
    QTest::qWait(300);
    QCOMPARE(rig.fake->used(), 1);
    QCOMPARE(rig.fake->count("AT+CMGD"), deletes);
    {
        QSqlQuery q(rig.store.database());
        QVERIFY(q.exec(QStringLiteral("ALTER TABLE sms_inbox_parts_away RENAME TO sms_inbox_parts")));
    }
    rig.sms->modem()->sweep();
    QTRY_COMPARE_WITH_TIMEOUT(rig.fake->used(), 0, kWait);
    QCOMPARE(rig.received().size(), 2);
    QCOMPARE(rig.received().first().text, QStringLiteral("second"));
}

// The same PDU reported twice (two slots, or a sweep after a lost AT+CMGD) is kept once.
void TestSmsService::sweepDuplicatesKeptOnce() {
    Rig rig;
    QVERIFY(rig.startFake());
    const QByteArray p = FakeModem::deliverPdu(kCatPhone, QStringLiteral("STATUS reply"),
                                               QDateTime(QDate(2024, 5, 1), QTime(8, 0), QTimeZone::UTC));
    QVERIFY(rig.fake->store(p) > 0);
    QVERIFY(rig.fake->store(p) > 0);   // on the SIM before TrackerDesk started: found by the sweep
    QVERIFY(rig.openStore());
    QVERIFY(rig.startService());
    QVERIFY(rig.ready());
    QTRY_COMPARE_WITH_TIMEOUT(rig.fake->used(), 0, kWait);
    QTest::qWait(200);
    QCOMPARE(rig.received().size(), 1);
    QCOMPARE(rig.count(QStringLiteral("SELECT COUNT(*) FROM sms_inbox_parts")), 1);
    QVERIFY(rig.fake->store(p) > 0);
    rig.sms->modem()->sweep();
    QTRY_COMPARE_WITH_TIMEOUT(rig.fake->used(), 0, kWait);
    QTest::qWait(200);
    QCOMPARE(rig.received().size(), 1);
}

// Parts of an unfinished message are in the store, not only in memory: after a restart the
// last part completes the message.
void TestSmsService::partsSurviveRestart() {
    Rig rig;
    QVERIFY(rig.startFake());
    QVERIFY(rig.openStore());
    QVERIFY(rig.startService());
    QVERIFY(rig.ready());
    QVERIFY(rig.fake->deliver(pdu::encodeDeliver(deliverPart(kCatPhone, QStringLiteral("one "), 9, 2, 1))) > 0);
    QTRY_COMPARE_WITH_TIMEOUT(rig.fake->used(), 0, kWait);
    rig.sms.reset();
    QCOMPARE(rig.count(QStringLiteral("SELECT COUNT(*) FROM sms_inbox_parts WHERE message_id IS NULL")), 1);
    QVERIFY(rig.startService());
    QCOMPARE(rig.sms->pendingParts(), 1);
    QVERIFY(rig.ready());
    QVERIFY(rig.fake->deliver(pdu::encodeDeliver(deliverPart(kCatPhone, QStringLiteral("two"), 9, 2, 2))) > 0);
    QTRY_COMPARE_WITH_TIMEOUT(rig.received().size(), 1, kWait);
    QCOMPARE(rig.received().first().text, QStringLiteral("one two"));
}

// Every sample text of sms_vectors.tsv, received from the Dog's SIM, becomes fixes with
// source sms at the position the vector states.
void TestSmsService::smsPositionBecomesFix_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<double>("lat");
    QTest::addColumn<double>("lon");
    const QList<Vector> vectors = smsVectors();
    QVERIFY(vectors.size() >= 20);
    for (const Vector &v : vectors) {
        if (!v.expected.contains(QStringLiteral("lat")))
            continue;
        QTest::newRow(qPrintable(v.id + QLatin1Char(' ') + v.format))
            << v.text << v.expected.value(QStringLiteral("lat")).toDouble() << v.expected.value(QStringLiteral("lon")).toDouble();
    }
}

void TestSmsService::smsPositionBecomesFix() {
    QFETCH(QString, text);
    QFETCH(double, lat);
    QFETCH(double, lon);
    if (!m_shared) {
        m_shared = std::make_unique<Rig>();
        QVERIFY(m_shared->startFake());
        QVERIFY(m_shared->openStore());
        QVERIFY(m_shared->startService());
        QVERIFY(m_shared->ready());
    }
    Rig &rig = *m_shared;
    QSignalSpy added(rig.sms.get(), &SmsService::messageAdded);
    QVERIFY(rig.fake->deliverText(QStringLiteral("+86 138 0013 8000"), text) >= 0);   // not Dog's number
    QVERIFY(rig.fake->deliverText(QStringLiteral("+491707654321"), text) >= 0);    // Dog's, international form
    QTRY_COMPARE_WITH_TIMEOUT(added.size(), 2, kWait);
    const Message stranger = added[0].first().value<Message>();
    const Message m = added[1].first().value<Message>();
    QCOMPARE(stranger.deviceId, qint64(0));
    QCOMPARE(stranger.positions, 0);   // an unknown sender's position belongs to no device
    QCOMPARE(m.deviceId, rig.dog);
    QCOMPARE(m.text, text);
    QVERIFY(m.positions >= 1);
    store::PositionFilter f;
    f.sources = {proto::PositionSource::Sms};
    bool found = false;
    QList<store::StoredPosition> fixes;
    QVERIFY(rig.store.forEachPosition({rig.dog}, {}, {}, f, [&](const store::StoredPosition &p) {
        fixes << p;
        found |= qAbs(p.position.latitude - lat) < 1e-5 && qAbs(p.position.longitude - lon) < 1e-5;
        return true;
    }));
    QVERIFY2(found, qPrintable(QStringLiteral("no sms fix at %1,%2 among %3").arg(lat).arg(lon).arg(fixes.size())));
    for (const store::StoredPosition &p : fixes)
        QCOMPARE(p.position.source, proto::PositionSource::Sms);
}

void TestSmsService::numbersMatchedToDevices() {
    Rig rig;
    QVERIFY(rig.startFake());
    QVERIFY(rig.openStore());
    QVERIFY(rig.startService());
    QVERIFY(rig.ready());
    QSignalSpy added(rig.sms.get(), &SmsService::messageAdded);
    rig.fake->deliverText(QStringLiteral("+491707654321"), QStringLiteral("a"));   // Dog (device list: 0170 7654321)
    rig.fake->deliverText(QStringLiteral("01701234567"), QStringLiteral("b"));     // Cat (device list: +49...)
    rig.fake->deliverText(QStringLiteral("+447700900123"), QStringLiteral("c"));   // nobody
    QTRY_COMPARE_WITH_TIMEOUT(added.size(), 3, kWait);
    QHash<QString, qint64> byText;
    for (const auto &args : std::as_const(added)) {
        const Message m = args.first().value<Message>();
        byText.insert(m.text, m.deviceId);
    }
    QCOMPARE(byText.value(QStringLiteral("a")), rig.dog);
    QCOMPARE(byText.value(QStringLiteral("b")), rig.cat);
    QCOMPARE(byText.value(QStringLiteral("c")), qint64(0));
    MessageFilter f;
    f.deviceId = rig.dog;
    QCOMPARE(rig.sms->messages(f).size(), 1);
    f.deviceId = qint64(0);
    QCOMPARE(rig.sms->messages(f).size(), 1);
    MessageFilter byNumber;
    byNumber.number = QStringLiteral("0044 7700 900123");
    QCOMPARE(rig.sms->messages(byNumber).size(), 1);
}

// A GT06 tracker online over GPRS: "auto" sends the command in a 0x80 frame, the device's
// reply (a real 0x21 reply frame from the vectors) lands in the same conversation with
// channel gprs; "sms" still goes through the modem.
void TestSmsService::gprsChannel() {
    QTemporaryDir dir;
    TrackerService service;
    ServiceConfig config;
    config.dataDir = dir.path();
    config.server.listeners = {server::ListenSpec{QHostAddress::LocalHost, 0, {}}};
    QString error;
    QVERIFY2(service.start(config, &error), qPrintable(error));
    store::Device cat;
    cat.imei = kCatImei;
    cat.name = QStringLiteral("Cat");
    cat.phone = kCatPhone;
    QCOMPARE(service.addDevice(cat), QString());
    const qint64 catId = service.store().deviceByImei(kCatImei)->id;

    SmsService sms(service.store(), &service);
    QVERIFY(sms.start(fastConfig(QString()), &error));
    // Offline: auto picks SMS (queued, no modem), gprs is refused with the reason.
    SendResult r = sms.send(QStringLiteral("Cat"), QStringLiteral("STATUS#"));
    QVERIFY(r.ok());
    QCOMPARE(r.channel, Channel::Sms);
    r = sms.send(QStringLiteral("Cat"), QStringLiteral("STATUS#"), ChannelChoice::Gprs);
    QVERIFY(!r.ok());
    QVERIFY2(r.error.contains(QLatin1String("offline")), qPrintable(r.error));

    QTcpSocket tracker;
    tracker.connectToHost(QHostAddress::LocalHost, service.listening().first().second);
    QVERIFY(tracker.waitForConnected(5000));
    tracker.write(proto::gt06::encodeLogin(kCatImei, 1));
    QTRY_VERIFY_WITH_TIMEOUT(sms.isOnline(catId), kWait);
    tracker.readAll();

    r = sms.send(QStringLiteral("Cat"), QStringLiteral("WHERE#"));
    QVERIFY2(r.ok(), qPrintable(r.error));
    QCOMPARE(r.channel, Channel::Gprs);
    QCOMPARE(sms.message(r.id)->state, State::Sent);
    QByteArray got;
    QTRY_VERIFY_WITH_TIMEOUT((got += tracker.readAll()).contains("WHERE#"), kWait);
    QCOMPARE(quint8(got.at(3)), quint8(0x80));   // GT06 online command

    // The device answers with the reply frame of Traccar's test (Gt06ProtocolDecoderTest:444).
    QByteArray reply;
    QFile f(QStringLiteral(TD_TEST_DATA "/gt06_vectors.tsv"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    for (const QByteArray &line : f.readAll().split('\n'))
        if (line.contains("Current position!") || line.contains("43757272656e7420706f736974696f6e21"))
            reply = QByteArray::fromHex(line.split('\t').first());
    QVERIFY(!reply.isEmpty());
    QSignalSpy added(&sms, &SmsService::messageAdded);
    tracker.write(reply);
    QTRY_COMPARE_WITH_TIMEOUT(added.size(), 1, kWait);
    const Message answer = added.first().first().value<Message>();
    QCOMPARE(answer.channel, Channel::Gprs);
    QCOMPARE(answer.direction, Direction::Received);
    QCOMPARE(answer.deviceId, catId);
    QVERIFY2(answer.text.startsWith(QLatin1String("Current position!Lat:N54.739332")), qPrintable(answer.text));
    QCOMPARE(answer.replyTo, r.id);
    QCOMPARE(sms.message(r.id)->state, State::Delivered);
    // The position in the reply is a fix of the device (source sms: a text position), with
    // the time the text states.
    QCOMPARE(answer.positions, 1);
    QCOMPARE(sms.message(answer.id)->positions, 1);
    QList<store::StoredPosition> textFixes;
    store::PositionFilter textOnly;
    textOnly.sources = {proto::PositionSource::Sms};
    QVERIFY(service.store().forEachPosition({catId}, {}, {}, textOnly, [&](const store::StoredPosition &p) {
        textFixes << p;
        return true;
    }));
    QCOMPARE(textFixes.size(), 1);
    QCOMPARE(textFixes.first().position.latitude, 54.739332);
    QCOMPARE(textFixes.first().position.longitude, 25.27327);
    QCOMPARE(textFixes.first().position.time, QDateTime(QDate(2017, 5, 26), QTime(10, 27, 47), QTimeZone::UTC));

    // Explicit SMS while online: queued for the (absent) modem, not sent over GPRS.
    const SendResult viaSms = sms.send(QStringLiteral("Cat"), QStringLiteral("URL#"), ChannelChoice::Sms);
    QCOMPARE(viaSms.channel, Channel::Sms);
    QCOMPARE(sms.message(viaSms.id)->state, State::Queued);
    MessageFilter conv;
    conv.deviceId = catId;
    QCOMPARE(sms.messages(conv).size(), 4);   // 2 SMS queued, the GPRS command and its reply
    tracker.disconnectFromHost();
    service.stop();
}

void TestSmsService::instanceRequest() {
    Rig rig;
    QVERIFY(rig.openStore());
    QVERIFY(rig.startService(false));
    QJsonObject ok = rig.sms->handleSendRequest({{QStringLiteral("command"), QStringLiteral("sms-send")},
                                                 {QStringLiteral("to"), kDogImei},
                                                 {QStringLiteral("text"), QStringLiteral("WHERE#")},
                                                 {QStringLiteral("channel"), QStringLiteral("sms")}});
    QVERIFY(ok.value(QStringLiteral("ok")).toBool());
    QCOMPARE(ok.value(QStringLiteral("channel")).toString(), QStringLiteral("sms"));
    QCOMPARE(ok.value(QStringLiteral("state")).toString(), QStringLiteral("queued"));
    QCOMPARE(ok.value(QStringLiteral("to")).toString(), QStringLiteral("Dog (%1)").arg(kDogImei));
    QCOMPARE(rig.state(qint64(ok.value(QStringLiteral("id")).toDouble())), State::Queued);
    const QJsonObject bad = rig.sms->handleSendRequest({{QStringLiteral("to"), kDogImei},
                                                        {QStringLiteral("text"), QStringLiteral("x")},
                                                        {QStringLiteral("channel"), QStringLiteral("pigeon")}});
    QVERIFY(!bad.value(QStringLiteral("ok")).toBool());
    QVERIFY(bad.value(QStringLiteral("error")).toString().contains(QLatin1String("pigeon")));
}

// Port and speed in the settings file, the PIN only in a file readable by the user alone.
void TestSmsService::modemSettings() {
    QTemporaryDir dir;
    const QString ini = dir.filePath(QStringLiteral("settings.ini"));
    {
        AppSettings settings(ini);
        ModemSettings m;
        m.port = QStringLiteral("/dev/ttyUSB2");
        m.baud = 57600;
        m.pin = QStringLiteral("4711");
        QString error;
        QVERIFY2(saveModemSettings(settings, dir.path(), m, &error), qPrintable(error));
    }
    QFile iniFile(ini);
    QVERIFY(iniFile.open(QIODevice::ReadOnly));
    const QByteArray iniText = iniFile.readAll();
    QVERIFY(iniText.contains("ttyUSB2"));
    QVERIFY(!iniText.contains("4711"));
    const QFileDevice::Permissions perms = QFile(dir.filePath(QStringLiteral("modem-pin"))).permissions();
    QVERIFY(perms & QFileDevice::ReadOwner);
    QVERIFY(!(perms & (QFileDevice::ReadGroup | QFileDevice::ReadOther | QFileDevice::WriteGroup | QFileDevice::WriteOther)));
    AppSettings settings(ini);
    QStringList problems;
    const ModemSettings back = loadModemSettings(settings, dir.path(), &problems);
    QCOMPARE(back.port, QStringLiteral("/dev/ttyUSB2"));
    QCOMPARE(back.baud, 57600);
    QCOMPARE(back.pin, QStringLiteral("4711"));
    QVERIFY(problems.isEmpty());
    settings.raw().setValue(QStringLiteral("modem/baud"), QStringLiteral("fast"));
    QCOMPARE(loadModemSettings(settings, dir.path(), &problems).baud, 115200);
    QCOMPARE(problems.size(), 1);
    // No PIN: the file goes away.
    ModemSettings none = back;
    none.pin.clear();
    QString error;
    QVERIFY(saveModemSettings(settings, dir.path(), none, &error));
    QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("modem-pin"))));
}

// Lists and logs name a message's peer without "()" or a stray space when a part is missing
// (a GPRS command to a device without a SIM number showed "-> 358000000000017 ()").
void TestSmsService::peerTextHasNoEmptyParts() {
    QCOMPARE(sms::peerText(QStringLiteral("Cat"), QStringLiteral("+491701234567")), QStringLiteral("Cat (+491701234567)"));
    QCOMPARE(sms::peerText(QStringLiteral("358000000000017"), QString()), QStringLiteral("358000000000017"));
    QCOMPARE(sms::peerText(QString(), QStringLiteral("+491701234567")), QStringLiteral("+491701234567"));
    QCOMPARE(sms::peerText(QString(), QString()), QStringLiteral("?"));
    sms::Message m;
    m.direction = sms::Direction::Sent;
    m.channel = sms::Channel::Gprs;
    m.state = sms::State::Sent;
    m.text = QStringLiteral("WHERE#");
    QCOMPARE(sms::messageLogLine(m, sms::peerText(QStringLiteral("358000000000017"), QString())),
             QStringLiteral("gprs sent to 358000000000017: WHERE#"));
}

QTEST_GUILESS_MAIN(TestSmsService)
// The service shares the main store connection. A statement it leaves open (or a
// transaction it forgets) pins that connection's WAL snapshot: the WAL can then never be
// reset and grows without bound while the server writes (seen: 1 GB in 25 s under load,
// every commit slower). With the service running (queue, modem configured and not), a
// TRUNCATE checkpoint from another connection must find no reader in its way.
// The AT dialogue for the console's "Modem log": what was written, what the modem answered,
// the state changes; the PIN masked everywhere (the fake echoes commands, PIN included).
void TestSmsService::modemLogShowsTheDialogue() {
    FakeModemOptions o;
    o.pin = QStringLiteral("2580");
    Rig rig(o);
    QVERIFY(rig.startFake());
    QVERIFY(rig.openStore());
    QVERIFY(rig.startService(true, [](SmsConfig &c) { c.modem.pin = QStringLiteral("2580"); }));
    QVERIFY(rig.ready());
    ModemLog *log = rig.sms->modemLog();
    auto lines = [log] {
        QStringList out;
        for (int i = 0; i < log->rowCount(); ++i)
            out << log->index(i).data().toString();
        return out;
    };
    const SendResult r = rig.sms->send(QStringLiteral("Cat"), QStringLiteral("WHERE#"));
    QVERIFY(r.ok());
    QTRY_COMPARE_WITH_TIMEOUT(rig.state(r.id), State::Sent, kWait);
    const int mr = rig.fake->sent().first().messageReference;
    QTRY_VERIFY_WITH_TIMEOUT(log->text().contains(QStringLiteral("< +CMGS: %1").arg(mr)), kWait);
    const QString all = log->text();
    QVERIFY2(!all.contains(QLatin1String("2580")), qPrintable(all));
    QVERIFY2(all.contains(QLatin1String("> AT+CPIN=\"****\"")), qPrintable(all));
    QVERIFY2(all.contains(QStringLiteral("-- modem %1 at 115200 baud").arg(rig.fake->portPath())), qPrintable(all));
    QVERIFY2(all.contains(QLatin1String("-- ready")), qPrintable(all));
    // The send: command, the PDU after the prompt (first hex digits + Ctrl-Z), the reference.
    const QStringList l = lines();
    int cmgs = -1, payload = -1, answer = -1;
    for (int i = 0; i < l.size(); ++i) {
        if (cmgs < 0 && l[i].contains(QLatin1String("> AT+CMGS=")))
            cmgs = i;
        else if (cmgs >= 0 && payload < 0 && l[i].contains(QLatin1String("<Ctrl-Z>")))
            payload = i;
        else if (payload >= 0 && answer < 0 && l[i].contains(QStringLiteral("< +CMGS: %1").arg(mr)))
            answer = i;
    }
    QVERIFY2(cmgs >= 0 && payload > cmgs && answer > payload, qPrintable(all));
    QCOMPARE(log->index(cmgs).data(ModemLog::KindRole).toInt(), int(ModemLog::Kind::ToModem));
    QCOMPARE(log->index(answer).data(ModemLog::KindRole).toInt(), int(ModemLog::Kind::FromModem));
    QVERIFY(log->index(answer).data(ModemLog::TimeRole).toLongLong() >= log->index(cmgs).data(ModemLog::TimeRole).toLongLong());
    // Unplugged: the state change is a note of its own.
    rig.fake->unplug();
    QTRY_VERIFY_WITH_TIMEOUT(log->text().contains(QLatin1String("-- reconnecting: ")), kWait);
    // Received bytes outside printable ASCII are shown, not swallowed.
    QCOMPARE(ModemLog::printable(QByteArray("OK\x1a\xff", 4)), QStringLiteral("OK<0x1A><0xFF>"));
}

void TestSmsService::modemLogIsBounded() {
    ModemLog log(100);
    QSignalSpy removed(&log, &QAbstractItemModel::rowsRemoved);
    for (int i = 0; i < 1000; ++i)
        log.addTraffic(i % 2 == 0, QByteArray("AT+CSQ ") + QByteArray::number(i), 1000 + i);
    QVERIFY(log.rowCount() <= 100);
    QVERIFY(log.rowCount() >= 90);
    QCOMPARE(log.dropped() + log.rowCount(), 1000);
    QVERIFY(log.at(log.rowCount() - 1).text.endsWith(QLatin1String(" 999")));   // the newest kept, the oldest gone
    QVERIFY(log.at(0).text != QLatin1String("AT+CSQ 0"));
    QVERIFY(removed.size() < 100);   // removed in chunks, not line by line
    log.clear();
    QCOMPARE(log.rowCount(), 0);
    QVERIFY(log.text().isEmpty());
}

void TestSmsService::leavesNoReadTransactionOpen() {
    for (bool withModem : {false, true}) {
        Rig rig;
        QVERIFY(rig.openStore());
        if (withModem)
            QVERIFY(rig.startFake());
        QVERIFY(rig.startService(withModem));
        if (withModem)
            QVERIFY(rig.ready());
        QVERIFY(rig.sms->send(QStringLiteral("Cat"), QStringLiteral("WHERE#")).ok());
        QTest::qWait(400);   // its timers run (retries, expiry, pump)
        QVERIFY(QSqlQuery(rig.store.database())
                    .exec(QStringLiteral("INSERT INTO events(device_id, time, kind, detail) VALUES(%1, 1, 'test', 'x')").arg(rig.cat)));
        QVERIFY2(test::truncateCheckpointBusy(rig.dbPath(), 20) == 0,
                 withModem ? "a reader pins the WAL (modem configured)" : "a reader pins the WAL (no modem)");
    }
}

#include "tst_smsservice.moc"
