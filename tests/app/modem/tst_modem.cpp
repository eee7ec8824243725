// The modem engine (app/modem) against the scripted SIM800 fake on a pty: init sequence
// with its start-up races, sending (single/multipart, GSM-7/UCS-2), errors, receiving,
// status reports, the sweep, unsolicited codes inside replies, unplug/replug, modem reset,
// garbage, timeouts, and the static helpers (parseModemSpec, probe).
#include "fakemodem.h"

#include "modem/modemengine.h"
#include "trackerdesk/protocol/smspdu.h"

#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QTest>

#include <QThread>

#include <atomic>

using namespace td;
using namespace td::modem;
using td::test::FakeModem;
using td::test::FakeModemOptions;
namespace pdu = td::proto::pdu;

namespace {

constexpr int kWait = 10000;   // upper bound of any single wait; the typical one is < 1 s

ModemConfig fastConfig(const QString &port) {
    ModemConfig c;
    c.port = port;
    c.commandTimeoutMs = 700;
    c.sendTimeoutMs = 2500;
    c.listTimeoutMs = 2000;
    c.reconnectIntervalMs = 150;
    c.sweepIntervalMs = 10 * 60 * 1000;   // tests call sweep() themselves
    c.simBusyRetryMs = 50;
    c.readyTimeoutMs = 5000;
    return c;
}

struct Finished {
    quint64 job = 0;
    QList<int> refs;
    QString error;
    bool retryable = false;
};

// One fake modem and one engine, with everything the engine says recorded.
struct Rig {
    std::unique_ptr<FakeModem> fake;   // declared first: the engine goes away before the pty
    ModemEngine engine;
    QList<ModemState> states;
    QList<QString> details;
    QList<Finished> finished;
    QList<ReceivedPdu> received, reports;
    QList<QByteArray> trafficOut, trafficIn;
    QList<ModemInfo> infos;
    QStringList calls;

    explicit Rig(const FakeModemOptions &o = {}) : fake(std::make_unique<FakeModem>(o)) {
        QObject::connect(&engine, &ModemEngine::stateChanged, &engine, [this](ModemState s, const QString &d) {
            states << s;
            details << d;
        });
        QObject::connect(&engine, &ModemEngine::sendFinished, &engine,
                         [this](quint64 job, const QList<int> &refs, const QString &error, bool retryable) {
                             finished << Finished{job, refs, error, retryable};
                         });
        QObject::connect(&engine, &ModemEngine::messageReceived, &engine, [this](const ReceivedPdu &m) { received << m; });
        QObject::connect(&engine, &ModemEngine::statusReportReceived, &engine, [this](const ReceivedPdu &m) { reports << m; });
        QObject::connect(&engine, &ModemEngine::traffic, &engine, [this](bool out, const QByteArray &line) {
            (out ? trafficOut : trafficIn) << line;
        });
        QObject::connect(&engine, &ModemEngine::infoChanged, &engine, [this](const ModemInfo &i) { infos << i; });
        QObject::connect(&engine, &ModemEngine::incomingCall, &engine, [this](const QString &n) { calls << n; });
    }
    bool startFake() {
        QString error;
        if (!fake->start(&error)) {
            qWarning("fake modem: %s", qPrintable(error));
            return false;
        }
        return true;
    }
    void open(ModemConfig c) { engine.open(c); }
    void open() { engine.open(fastConfig(fake->portPath())); }
    int finishedFor(quint64 job) const {
        int n = 0;
        for (const Finished &f : finished)
            n += f.job == job;
        return n;
    }
    std::optional<Finished> result(quint64 job) const {
        for (const Finished &f : finished)
            if (f.job == job)
                return f;
        return std::nullopt;
    }
    int receivedCount(const QByteArray &pdu) const {
        int n = 0;
        for (const ReceivedPdu &m : received)
            n += m.pdu == pdu;
        return n;
    }
};

QList<pdu::EncodedPdu> submit(const QString &text, quint16 ref = 0x42, bool srr = true) {
    pdu::SubmitOptions o;
    o.concatReference = ref;
    o.requestStatusReport = srr;
    QString error;
    const auto to = pdu::Address::fromUser(QStringLiteral("+491701234567"));
    auto parts = pdu::encodeSubmit(*to, text, o, &error);
    if (parts.isEmpty())
        qWarning("encodeSubmit: %s", qPrintable(error));
    return parts;
}

quint64 send(Rig &rig, const QList<pdu::EncodedPdu> &parts) {
    QList<QByteArray> pdus;
    QList<int> lengths;
    for (const auto &p : parts) {
        pdus << p.bytes;
        lengths << p.tpduLength;
    }
    return rig.engine.sendSms(pdus, lengths);
}

QString sentText(const FakeModem &fake, int from = 0) {
    QString out;
    for (int i = from; i < fake.sent().size(); ++i)
        out += fake.sent().at(i).sms.text;
    return out;
}

} // namespace

class TstModem : public QObject {
    Q_OBJECT

private slots:
    void initSequence_data();
    void initSequence();
    void initFailures_data();
    void initFailures();
    void sendSms_data();
    void sendSms();
    void sendErrors_data();
    void sendErrors();
    void sendWithoutPrompt();
    void sendInvalidInput();
    void receive();
    void emptyIndex_data();
    void emptyIndex();
    void urcsInsideReplies();
    void statusReports_data();
    void statusReports();
    void sweepAtStart();
    void fullSimHeldUntilDeleted();
    void unplugMidSend();
    void modemResetUrc();
    void garbage();
    void repeatedTimeouts();
    void closeStops();
    void missingPort();
    void modemSpec_data();
    void modemSpec();
    void probe();
};

// ---------------------------------------------------------------------------------------

void TstModem::initSequence_data() {
    QTest::addColumn<QString>("pin");
    QTest::addColumn<int>("simBusyMs");
    QTest::addColumn<int>("smsReadyDelayMs");
    QTest::addColumn<int>("cfunAtStart");
    QTest::addColumn<QByteArray>("cnmiTest");
    QTest::addColumn<QByteArray>("cpmsTest");
    QTest::addColumn<QByteArray>("expectedCnmi");
    QTest::addColumn<QByteArray>("expectedCpms");
    QTest::addColumn<QString>("expectedStorage");

    const FakeModemOptions sim800;
    QTest::newRow("SIM800, echo on, no PIN") << QString() << 0 << 0 << 1 << sim800.cnmiTest << sim800.cpmsTest
                                            << QByteArray("2,1,0,1,0") << QByteArray("\"SM\",\"SM\",\"SM\"")
                                            << QStringLiteral("SM");
    QTest::newRow("PIN, SIM busy, SMS Ready late")
        << QStringLiteral("4321") << 400 << 900 << 1 << sim800.cnmiTest << sim800.cpmsTest
        << QByteArray("2,1,0,1,0") << QByteArray("\"SM\",\"SM\",\"SM\"") << QStringLiteral("SM");
    // gammu PR #1207: the MC75i takes only bfr=1 and no "ME" as receive memory.
    QTest::newRow("MC75i-like CNMI and storage")
        << QString() << 0 << 0 << 1 << QByteArray("+CNMI: (1,2),(0-3),(0,2),(0-2),(1)")
        << QByteArray("+CPMS: (\"ME\",\"MT\",\"SR\"),(\"ME\",\"MT\"),(\"MT\")") << QByteArray("2,1,0,2,1")
        << QByteArray("\"MT\",\"MT\",\"MT\"") << QStringLiteral("MT");
    QTest::newRow("radio off at start (+CFUN: 0)")
        << QString() << 0 << 300 << 0 << sim800.cnmiTest << sim800.cpmsTest << QByteArray("2,1,0,1,0")
        << QByteArray("\"SM\",\"SM\",\"SM\"") << QStringLiteral("SM");
}

void TstModem::initSequence() {
    QFETCH(QString, pin);
    QFETCH(int, simBusyMs);
    QFETCH(int, smsReadyDelayMs);
    QFETCH(int, cfunAtStart);
    QFETCH(QByteArray, cnmiTest);
    QFETCH(QByteArray, cpmsTest);
    QFETCH(QByteArray, expectedCnmi);
    QFETCH(QByteArray, expectedCpms);
    QFETCH(QString, expectedStorage);

    FakeModemOptions o;
    o.pin = pin;
    o.echo = true;
    o.simBusyMs = simBusyMs;
    o.smsReadyDelayMs = smsReadyDelayMs;
    o.cfunAtStart = cfunAtStart;
    o.cnmiTest = cnmiTest;
    o.cpmsTest = cpmsTest;
    Rig rig(o);
    QVERIFY(rig.startFake());
    ModemConfig c = fastConfig(rig.fake->portPath());
    c.pin = pin;
    rig.open(c);
    QTRY_COMPARE_WITH_TIMEOUT(rig.engine.state(), ModemState::Ready, kWait);

    QVERIFY(rig.states.contains(ModemState::Opening));
    QVERIFY(rig.states.contains(ModemState::Initialising));
    QVERIFY(!rig.states.contains(ModemState::Reconnecting));
    QVERIFY(!rig.fake->echo());
    QCOMPARE(rig.fake->cnmi(), expectedCnmi);
    QVERIFY(!rig.fake->cpmsHistory().isEmpty());
    QCOMPARE(rig.fake->cpmsHistory().first(), expectedCpms);   // later ones: the sweep of "SR"
    QCOMPARE(rig.fake->pinAttempts(), pin.isEmpty() ? 0 : 1);
    QCOMPARE(rig.fake->count("AT+CFUN=1"), cfunAtStart == 0 ? 1 : 0);
    if (smsReadyDelayMs > 300)   // AT+CMGF=0 refused until "SMS Ready", then accepted
        QVERIFY2(rig.fake->count("AT+CMGF=0") >= 2, qPrintable(QString::number(rig.fake->count("AT+CMGF=0"))));
    if (simBusyMs > 0)
        QVERIFY(rig.fake->count("AT+CPIN?") >= 2);   // busy answers retried

    const ModemInfo info = rig.engine.info();
    QCOMPARE(info.manufacturer, QStringLiteral("SIMCOM_Ltd"));
    QCOMPARE(info.model, QStringLiteral("SIMCOM_SIM800L"));
    QCOMPARE(info.revision, QStringLiteral("Revision:1418B04SIM800L24"));
    QCOMPARE(info.imei, QStringLiteral("866104021234567"));
    QCOMPARE(info.simState, QStringLiteral("READY"));
    QCOMPARE(info.registration, 1);
    QCOMPARE(info.signalDbm, std::optional<int>(-113 + 2 * 20));
    QCOMPARE(info.operatorName, QStringLiteral("Fake Telecom"));
    QCOMPARE(info.smsc, QStringLiteral("+491710760000"));
    QCOMPARE(info.storage, expectedStorage);
    QCOMPARE(info.storageUsed, 0);
    QCOMPARE(info.storageTotal, 10);
    QVERIFY(!rig.infos.isEmpty());
    QCOMPARE(rig.infos.last().imei, info.imei);

    // The sweep runs right after init; the PIN never shows up in the AT log.
    QTRY_VERIFY_WITH_TIMEOUT(rig.fake->count("AT+CMGL=4") >= 1, kWait);
    if (!pin.isEmpty()) {
        QVERIFY(rig.trafficOut.contains(QByteArray("AT+CPIN=\"****\"")));
        for (const QByteArray &l : rig.trafficOut + rig.trafficIn)
            QVERIFY2(!l.contains(pin.toLatin1()), l.constData());
    }
    // With echo on at the start, the first AT came back as echo and was not taken as data.
    QVERIFY(rig.trafficIn.contains(QByteArray("AT")));
}

void TstModem::initFailures_data() {
    QTest::addColumn<QString>("simPin");
    QTest::addColumn<QString>("configuredPin");
    QTest::addColumn<bool>("simInserted");
    QTest::addColumn<bool>("puk");
    QTest::addColumn<QString>("detail");
    QTest::addColumn<int>("pinAttempts");

    QTest::newRow("wrong PIN") << "4321" << "1111" << true << false << "wrong SIM PIN" << 1;
    QTest::newRow("PIN needed, none set") << "4321" << "" << true << false << "needs its PIN" << 0;
    QTest::newRow("PIN not digits") << "4321" << "12ab" << true << false << "4 to 8 digits" << 0;
    QTest::newRow("PUK") << "4321" << "4321" << true << true << "PUK" << 0;
    QTest::newRow("no SIM") << "" << "" << false << false << "no SIM" << 0;
}

void TstModem::initFailures() {
    QFETCH(QString, simPin);
    QFETCH(QString, configuredPin);
    QFETCH(bool, simInserted);
    QFETCH(bool, puk);
    QFETCH(QString, detail);
    QFETCH(int, pinAttempts);

    FakeModemOptions o;
    o.pin = simPin;
    o.simInserted = simInserted;
    o.simPuk = puk;
    Rig rig(o);
    QVERIFY(rig.startFake());
    ModemConfig c = fastConfig(rig.fake->portPath());
    c.pin = configuredPin;
    rig.open(c);
    QTRY_COMPARE_WITH_TIMEOUT(rig.engine.state(), ModemState::Failed, kWait);
    QVERIFY2(rig.engine.stateDetail().contains(detail), qPrintable(rig.engine.stateDetail()));
    // Failed is final: no reconnect, and above all no second PIN attempt.
    QTest::qWait(4 * c.reconnectIntervalMs);
    QCOMPARE(rig.engine.state(), ModemState::Failed);
    QCOMPARE(rig.fake->pinAttempts(), pinAttempts);
    QCOMPARE(rig.engine.sendSms({QByteArray(10, 'x')}, {9}), quint64(0));
}

// ---------------------------------------------------------------------------------------

void TstModem::sendSms_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("parts");
    QTest::addColumn<bool>("ucs2");

    QTest::newRow("GSM-7 single") << QStringLiteral("WHERE,666666#") << 1 << false;
    QString longGsm;
    for (int i = 0; longGsm.size() < 400; ++i)
        longGsm += QStringLiteral("Part %1 {ext} [x] ~ \\ | ^ \u20AC; ").arg(i);
    longGsm.truncate(400);
    QTest::newRow("GSM-7 multipart with escapes") << longGsm << pdu::segmentInfo(longGsm).parts << false;
    QTest::newRow("UCS-2 single") << QStringLiteral("Привет, 你好! 🚗") << 1 << true;
    QString longUcs2;
    while (longUcs2.size() < 150)
        longUcs2 += QStringLiteral("Трекер сообщает ");
    QTest::newRow("UCS-2 multipart") << longUcs2 << 3 << true;
}

void TstModem::sendSms() {
    QFETCH(QString, text);
    QFETCH(int, parts);
    QFETCH(bool, ucs2);
    QVERIFY(parts >= 1);

    Rig rig;
    QVERIFY(rig.startFake());
    rig.open();
    QTRY_COMPARE_WITH_TIMEOUT(rig.engine.state(), ModemState::Ready, kWait);

    const auto encoded = submit(text);
    QCOMPARE(encoded.size(), parts);
    const quint64 job = send(rig, encoded);
    QVERIFY(job > 0);
    QTRY_COMPARE_WITH_TIMEOUT(rig.finishedFor(job), 1, kWait);
    const Finished f = *rig.result(job);
    QVERIFY2(f.error.isEmpty(), qPrintable(f.error));
    QCOMPARE(f.refs.size(), parts);

    // What reached the modem: every part, in order, decoding back to the text.
    QCOMPARE(rig.fake->sent().size(), parts);
    QCOMPARE(sentText(*rig.fake), text);
    for (int i = 0; i < parts; ++i) {
        const FakeModem::Sent &s = rig.fake->sent().at(i);
        QCOMPARE(s.tpduLength, encoded.at(i).tpduLength);
        QCOMPARE(s.pdu, encoded.at(i).bytes);
        QCOMPARE(f.refs.at(i), s.messageReference);
        QCOMPARE(s.sms.encoding, ucs2 ? pdu::Encoding::Ucs2 : pdu::Encoding::Gsm7);
        QCOMPARE(s.sms.address.text, QStringLiteral("+491701234567"));
        if (parts > 1) {
            QVERIFY(s.sms.concat);
            QCOMPARE(int(s.sms.concat->sequence), i + 1);
            QCOMPARE(int(s.sms.concat->total), parts);
        }
    }
    // The hex after the prompt is shortened in the log, the command is there in full.
    QVERIFY(rig.trafficOut.contains("AT+CMGS=" + QByteArray::number(encoded.first().tpduLength)));
    for (const QByteArray &l : std::as_const(rig.trafficOut))
        QVERIFY2(!l.contains(encoded.first().bytes.toHex().toUpper()), l.constData());
    QVERIFY(rig.trafficIn.contains(QByteArray("> ")));
    QTest::qWait(100);
    QCOMPARE(rig.finishedFor(job), 1);
}

void TstModem::sendErrors_data() {
    QTest::addColumn<QByteArray>("reply");
    QTest::addColumn<bool>("beforePrompt");
    QTest::addColumn<QString>("errorContains");
    QTest::addColumn<bool>("retryable");

    QTest::newRow("network timeout 332") << QByteArray("+CMS ERROR: 332") << false << "network timeout" << true;
    QTest::newRow("no service 331") << QByteArray("+CMS ERROR: 331") << false << "no network service" << true;
    QTest::newRow("unknown 500") << QByteArray("+CMS ERROR: 500") << false << "500" << true;
    QTest::newRow("invalid PDU 304") << QByteArray("+CMS ERROR: 304") << false << "invalid PDU mode parameter" << false;
    QTest::newRow("SMSC unknown 330") << QByteArray("+CMS ERROR: 330") << false << "SMSC address unknown" << false;
    QTest::newRow("SIM busy before prompt") << QByteArray("+CME ERROR: 14") << true << "SIM busy" << true;
    QTest::newRow("SIM busy 314") << QByteArray("+CMS ERROR: 314") << false << "SIM busy" << true;
    QTest::newRow("plain ERROR") << QByteArray("ERROR") << true << "ERROR" << true;
    QTest::newRow("rejected 21") << QByteArray("+CMS ERROR: 21") << false << "rejected" << false;
}

void TstModem::sendErrors() {
    QFETCH(QByteArray, reply);
    QFETCH(bool, beforePrompt);
    QFETCH(QString, errorContains);
    QFETCH(bool, retryable);

    Rig rig;
    QVERIFY(rig.startFake());
    rig.open();
    QTRY_COMPARE_WITH_TIMEOUT(rig.engine.state(), ModemState::Ready, kWait);

    // A two-part message whose second part fails: the first reference is kept.
    QString text;
    while (text.size() < 200)
        text += QStringLiteral("abcdefghij");
    const auto encoded = submit(text);
    QCOMPARE(encoded.size(), 2);
    rig.fake->addErrorRule("AT+CMGS", reply, 1, beforePrompt);
    // The rule hits the first part; it fails the job at once.
    const quint64 job = send(rig, encoded);
    QTRY_COMPARE_WITH_TIMEOUT(rig.finishedFor(job), 1, kWait);
    Finished f = *rig.result(job);
    QVERIFY2(f.error.contains(errorContains), qPrintable(f.error));
    QVERIFY2(f.error.contains(QLatin1String("part 1/2")), qPrintable(f.error));
    QCOMPARE(f.retryable, retryable);
    QVERIFY(f.refs.isEmpty());
    QCOMPARE(rig.fake->sent().size(), 0);   // nothing accepted by the network
    QCOMPARE(rig.fake->count("AT+CMGS"), 1);  // the second part was not tried

    // The engine carries on: the next message goes through.
    QCOMPARE(rig.engine.state(), ModemState::Ready);
    const quint64 job2 = send(rig, submit(QStringLiteral("STATUS#")));
    QTRY_COMPARE_WITH_TIMEOUT(rig.finishedFor(job2), 1, kWait);
    QVERIFY2(rig.result(job2)->error.isEmpty(), qPrintable(rig.result(job2)->error));
    QCOMPARE(sentText(*rig.fake), QStringLiteral("STATUS#"));
    QCOMPARE(rig.finishedFor(job), 1);
}

// No prompt at all: ESC cancels, the job ends retryable, the engine stays usable.
void TstModem::sendWithoutPrompt() {
    Rig rig;
    QVERIFY(rig.startFake());
    rig.open();
    QTRY_COMPARE_WITH_TIMEOUT(rig.engine.state(), ModemState::Ready, kWait);
    rig.fake->addErrorRule("AT+CMGS", QByteArray(), 1, true);   // swallowed
    const auto escapes = rig.trafficOut.count(QByteArray("<ESC>"));   // one per init so far
    QElapsedTimer t;
    t.start();
    const quint64 job = send(rig, submit(QStringLiteral("hello")));
    QTRY_COMPARE_WITH_TIMEOUT(rig.finishedFor(job), 1, kWait);
    QVERIFY(rig.result(job)->retryable);
    QVERIFY(!rig.result(job)->error.isEmpty());
    QVERIFY(t.elapsed() < fastConfig({}).sendTimeoutMs);   // the prompt wait is the short one
    QCOMPARE(rig.trafficOut.count(QByteArray("<ESC>")), escapes + 1);
    QCOMPARE(rig.engine.state(), ModemState::Ready);
    const quint64 job2 = send(rig, submit(QStringLiteral("again")));
    QTRY_COMPARE_WITH_TIMEOUT(rig.finishedFor(job2), 1, kWait);
    QVERIFY(rig.result(job2)->error.isEmpty());
}

void TstModem::sendInvalidInput() {
    Rig rig;
    QVERIFY(rig.startFake());
    QCOMPARE(rig.engine.sendSms({QByteArray::fromHex("0001000B917228001011F100000CC8329BFD065DDF72363904")}, {24}),
             quint64(0));   // not open: nothing queued
    rig.open();
    QTRY_COMPARE_WITH_TIMEOUT(rig.engine.state(), ModemState::Ready, kWait);
    const int before = rig.fake->count("AT+CMGS");
    const quint64 empty = rig.engine.sendSms({}, {});
    const quint64 mismatch = rig.engine.sendSms({QByteArray::fromHex("0001000B917228001011F100000CC8329BFD065DDF72363904")}, {23});
    const quint64 counts = rig.engine.sendSms({QByteArray(5, '\0')}, {});
    QVERIFY(empty > 0 && mismatch > 0 && counts > 0);
    QTRY_COMPARE_WITH_TIMEOUT(rig.finished.size(), 3, kWait);
    for (const Finished &f : std::as_const(rig.finished)) {
        QVERIFY(!f.error.isEmpty());
        QVERIFY(!f.retryable);
    }
    QCOMPARE(rig.fake->count("AT+CMGS"), before);
    // The facts' example PDU: "Hello World!", AT+CMGS=24.
    const quint64 ok = rig.engine.sendSms({QByteArray::fromHex("0001000B917228001011F100000CC8329BFD065DDF72363904")}, {24});
    QTRY_COMPARE_WITH_TIMEOUT(rig.finishedFor(ok), 1, kWait);
    QVERIFY(rig.result(ok)->error.isEmpty());
    QCOMPARE(rig.fake->lastCommand("AT+CMGS"), QByteArray("AT+CMGS=24"));
    QCOMPARE(sentText(*rig.fake), QStringLiteral("Hello World!"));
}

// ---------------------------------------------------------------------------------------

void TstModem::receive() {
    Rig rig;
    QVERIFY(rig.startFake());
    rig.open();
    QTRY_COMPARE_WITH_TIMEOUT(rig.engine.state(), ModemState::Ready, kWait);
    QTRY_VERIFY_WITH_TIMEOUT(rig.fake->count("AT+CMGL=4") >= 1, kWait);

    const QByteArray pdu1 = FakeModem::deliverPdu(QStringLiteral("+491709999999"), QStringLiteral("Lat:52.52 Lon:13.40"));
    const int index = rig.fake->deliver(pdu1);
    QVERIFY(index > 0);
    QTRY_COMPARE_WITH_TIMEOUT(rig.received.size(), 1, kWait);
    const ReceivedPdu m = rig.received.first();
    QCOMPARE(m.memory, QStringLiteral("SM"));
    QCOMPARE(m.index, index);
    QCOMPARE(m.stat, 0);
    QCOMPARE(m.pdu, pdu1);
    const auto sms = pdu::decode(m.pdu);
    QVERIFY(sms);
    QCOMPARE(sms->address.text, QStringLiteral("+491709999999"));
    QCOMPARE(sms->text, QStringLiteral("Lat:52.52 Lon:13.40"));

    // The engine does not delete by itself; the owner does, after storing.
    QTest::qWait(200);
    QVERIFY(rig.fake->slot(index).has_value());
    QCOMPARE(rig.fake->count("AT+CMGD"), 0);
    rig.engine.deleteMessage(m.memory, m.index);
    QTRY_VERIFY_WITH_TIMEOUT(!rig.fake->slot(index).has_value(), kWait);
    QCOMPARE(rig.fake->lastCommand("AT+CMGD"), "AT+CMGD=" + QByteArray::number(index));

    // A UCS-2 message from an alphanumeric-free national number.
    const QByteArray pdu2 = FakeModem::deliverPdu(QStringLiteral("01701234567"), QStringLiteral("Батарея 15%"));
    QVERIFY(rig.fake->deliver(pdu2) > 0);
    QTRY_COMPARE_WITH_TIMEOUT(rig.received.size(), 2, kWait);
    QCOMPARE(pdu::decode(rig.received.at(1).pdu)->text, QStringLiteral("Батарея 15%"));
    QCOMPARE(rig.engine.state(), ModemState::Ready);

    // A tracker calling back: RING + caller id (AT+CLIP=1 was accepted: one call per +CLIP).
    rig.fake->sendUrc("RING");
    rig.fake->sendUrc("+CLIP: \"+491701234567\",145,\"\",0,\"\",0");
    QTRY_COMPARE_WITH_TIMEOUT(rig.calls.size(), 1, kWait);
    QCOMPARE(rig.calls.first(), QStringLiteral("+491701234567"));
}

void TstModem::emptyIndex_data() {
    QTest::addColumn<QByteArray>("emptyReply");
    QTest::newRow("OK without data") << QByteArray("OK");
    QTest::newRow("+CMS ERROR: 321") << QByteArray("+CMS ERROR: 321");
    QTest::newRow("+CMS ERROR: 500") << QByteArray("+CMS ERROR: 500");
}

void TstModem::emptyIndex() {
    QFETCH(QByteArray, emptyReply);
    FakeModemOptions o;
    o.emptyReadReply = emptyReply;
    Rig rig(o);
    QVERIFY(rig.startFake());
    rig.open();
    QTRY_COMPARE_WITH_TIMEOUT(rig.engine.state(), ModemState::Ready, kWait);
    rig.fake->sendUrc("+CMTI: \"SM\",7");   // nothing there
    QTRY_COMPARE_WITH_TIMEOUT(rig.fake->count("AT+CMGR=7"), 1, kWait);
    const QByteArray pdu1 = FakeModem::deliverPdu(QStringLiteral("+491709999999"), QStringLiteral("after the empty one"));
    QVERIFY(rig.fake->deliver(pdu1) > 0);
    QTRY_COMPARE_WITH_TIMEOUT(rig.received.size(), 1, kWait);
    QCOMPARE(rig.received.first().pdu, pdu1);
    QCOMPARE(rig.engine.state(), ModemState::Ready);
    QCOMPARE(rig.fake->count("AT+CMGR=7"), 1);   // "empty" is an answer, not retried
}

// URCs in the middle of replies: +CMTI between "+CMGS: mr" and OK, +CREG during a list,
// +CDS (two lines) inside +CMGL, and a message arriving while +CMGS is outstanding.
void TstModem::urcsInsideReplies() {
    FakeModemOptions o;
    o.sendDelayMs = 300;
    Rig rig(o);
    QVERIFY(rig.startFake());
    rig.open();
    QTRY_COMPARE_WITH_TIMEOUT(rig.engine.state(), ModemState::Ready, kWait);
    QTRY_VERIFY_WITH_TIMEOUT(rig.fake->count("AT+CMGL=4") >= 1, kWait);
    QTest::qWait(50);

    // 1. A stored message indicated inside the +CMGS reply.
    const QByteArray stored = FakeModem::deliverPdu(QStringLiteral("+491701111111"), QStringLiteral("first"));
    const int index = rig.fake->store(stored);
    rig.fake->injectIntoNextReply("+CMTI: \"SM\"," + QByteArray::number(index) + "\r\n\r\n+CREG: 5");
    const quint64 job = send(rig, submit(QStringLiteral("WHERE#")));
    // 2. And one that arrives while the +CMGS answer is outstanding.
    QTRY_COMPARE_WITH_TIMEOUT(rig.fake->sent().size(), 1, kWait);
    const QByteArray during = FakeModem::deliverPdu(QStringLiteral("+491702222222"), QStringLiteral("second"));
    QVERIFY(rig.fake->deliver(during) > 0);
    QTRY_COMPARE_WITH_TIMEOUT(rig.finishedFor(job), 1, kWait);
    QVERIFY2(rig.result(job)->error.isEmpty(), qPrintable(rig.result(job)->error));
    QCOMPARE(rig.result(job)->refs, QList<int>{rig.fake->sent().first().messageReference});
    QTRY_COMPARE_WITH_TIMEOUT(rig.received.size(), 2, kWait);
    QCOMPARE(rig.receivedCount(stored), 1);
    QCOMPARE(rig.receivedCount(during), 1);
    QTRY_COMPARE_WITH_TIMEOUT(rig.engine.info().registration, 5, kWait);
    QCOMPARE(rig.infos.last().registration, 5);

    // 3. A two-line +CDS inside the +CMGL list, between a header and its PDU.
    pdu::Sms report;
    report.type = pdu::PduType::StatusReport;
    report.messageReference = quint8(rig.fake->sent().first().messageReference);
    report.address = *pdu::Address::fromUser(QStringLiteral("+491701234567"));
    report.timestamp = QDateTime::currentDateTimeUtc();
    report.dischargeTime = report.timestamp;
    const QByteArray reportPdu = pdu::encodeStatusReport(report);
    rig.fake->injectIntoNextReply("+CDS: " + QByteArray::number(reportPdu.size() - 1) + "\r\n" + reportPdu.toHex().toUpper());
    const int before = rig.received.size();
    rig.engine.sweep();
    QTRY_COMPARE_WITH_TIMEOUT(rig.reports.size(), 1, kWait);
    QCOMPARE(rig.reports.first().pdu, reportPdu);
    QCOMPARE(rig.reports.first().index, -1);
    // Both stored messages are still there (nobody deleted them): the sweep reports them again.
    QTRY_COMPARE_WITH_TIMEOUT(rig.received.size(), before + 2, kWait);
    QCOMPARE(rig.engine.state(), ModemState::Ready);
}

void TstModem::statusReports_data() {
    QTest::addColumn<QByteArray>("cnmiTest");
    QTest::addColumn<QByteArray>("cpmsTest");
    QTest::addColumn<QString>("memory");
    QTest::addColumn<quint8>("status");

    const FakeModemOptions sim800;
    QTest::newRow("+CDS direct (ds=1)") << sim800.cnmiTest << sim800.cpmsTest << QString() << quint8(0x00);
    QTest::newRow("+CDSI stored in SR (ds=2)")
        << QByteArray("+CNMI: (0-3),(0-3),(0,2),(0-2),(0,1)")
        << QByteArray("+CPMS: (\"SM\",\"ME\",\"SR\"),(\"SM\",\"ME\"),(\"SM\",\"ME\")") << QStringLiteral("SR")
        << quint8(0x00);
    QTest::newRow("+CDSI stored in SM, failed") << QByteArray("+CNMI: (0-3),(0-3),(0,2),(0-2),(0,1)") << sim800.cpmsTest
                                                << QStringLiteral("SM") << quint8(0x41);
}

void TstModem::statusReports() {
    QFETCH(QByteArray, cnmiTest);
    QFETCH(QByteArray, cpmsTest);
    QFETCH(QString, memory);
    QFETCH(quint8, status);

    FakeModemOptions o;
    o.cnmiTest = cnmiTest;
    o.cpmsTest = cpmsTest;
    o.autoStatusReport = true;
    o.autoReportStatus = status;
    Rig rig(o);
    QVERIFY(rig.startFake());
    // The owner deletes what it was given, reports included: merged with the engine's own
    // delete, so the slot is deleted exactly once.
    QObject::connect(&rig.engine, &ModemEngine::statusReportReceived, &rig.engine, [&rig](const ReceivedPdu &r) {
        if (r.index >= 0)
            rig.engine.deleteMessage(r.memory, r.index);
    });
    rig.open();
    QTRY_COMPARE_WITH_TIMEOUT(rig.engine.state(), ModemState::Ready, kWait);

    const quint64 job = send(rig, submit(QStringLiteral("STATUS#")));
    QTRY_COMPARE_WITH_TIMEOUT(rig.finishedFor(job), 1, kWait);
    const QList<int> refs = rig.result(job)->refs;
    QCOMPARE(refs.size(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(rig.reports.size(), 1, kWait);
    const ReceivedPdu r = rig.reports.first();
    QCOMPARE(r.memory, memory);
    const auto sms = pdu::decode(r.pdu);
    QVERIFY(sms);
    QCOMPARE(sms->type, pdu::PduType::StatusReport);
    QCOMPARE(int(sms->messageReference), refs.first());
    QCOMPARE(sms->status, status);
    QVERIFY(rig.received.isEmpty());   // a report is not a message
    if (!memory.isEmpty()) {
        // Stored reports are deleted by the engine once reported.
        QTRY_COMPARE_WITH_TIMEOUT(rig.fake->used(memory), 0, kWait);
        QCOMPARE(r.index, 1);
        QTest::qWait(100);
        QCOMPARE(rig.fake->count("AT+CMGD="), 1);
    }
}

// Messages that were on the SIM before the engine opened the port come out of the sweep;
// a stored SUBMIT (STO SENT) is not a received message; a stored report is reported.
void TstModem::sweepAtStart() {
    Rig rig;
    QVERIFY(rig.startFake());
    QList<QByteArray> pdus;
    for (int i = 0; i < 3; ++i) {
        pdus << FakeModem::deliverPdu(QStringLiteral("+4917000000%1").arg(i), QStringLiteral("old message %1").arg(i));
        QCOMPARE(rig.fake->store(pdus.last(), i == 0 ? 1 : 0), i + 1);
    }
    const auto draft = submit(QStringLiteral("a draft"));
    QCOMPARE(rig.fake->store(draft.first().bytes, 3), 4);
    pdu::Sms report;
    report.type = pdu::PduType::StatusReport;
    report.messageReference = 77;
    report.address = *pdu::Address::fromUser(QStringLiteral("+491701234567"));
    report.timestamp = QDateTime::currentDateTimeUtc();
    report.dischargeTime = report.timestamp;
    QCOMPARE(rig.fake->store(pdu::encodeStatusReport(report), 0), 5);

    rig.open();
    QTRY_COMPARE_WITH_TIMEOUT(rig.received.size(), 3, kWait);
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(rig.received.at(i).pdu, pdus.at(i));
        QCOMPARE(rig.received.at(i).index, i + 1);
        QCOMPARE(rig.received.at(i).memory, QStringLiteral("SM"));
        QCOMPARE(rig.received.at(i).stat, i == 0 ? 1 : 0);
    }
    QTRY_COMPARE_WITH_TIMEOUT(rig.reports.size(), 1, kWait);
    QCOMPARE(int(pdu::decode(rig.reports.first().pdu)->messageReference), 77);
    QTRY_VERIFY_WITH_TIMEOUT(!rig.fake->slot(5).has_value(), kWait);   // the report: deleted
    QVERIFY(rig.fake->slot(4).has_value());                            // the draft: untouched
    QCOMPARE(rig.fake->used(), 4);
}

// A full SIM: the network holds the next message until the owner deletes one.
void TstModem::fullSimHeldUntilDeleted() {
    FakeModemOptions o;
    o.storageSlots = 3;
    Rig rig(o);
    QVERIFY(rig.startFake());
    for (int i = 0; i < 3; ++i)
        rig.fake->store(FakeModem::deliverPdu(QStringLiteral("+49170000001"), QStringLiteral("m%1").arg(i)));
    rig.open();
    QTRY_COMPARE_WITH_TIMEOUT(rig.received.size(), 3, kWait);
    QCOMPARE(rig.engine.info().storageUsed, 3);
    QCOMPARE(rig.engine.info().storageTotal, 3);
    const QByteArray late = FakeModem::deliverPdu(QStringLiteral("+49170000002"), QStringLiteral("waiting"));
    QCOMPARE(rig.fake->deliver(late), -1);
    QCOMPARE(rig.fake->held(), 1);
    for (const ReceivedPdu &m : std::as_const(rig.received))
        rig.engine.deleteMessage(m.memory, m.index);
    QTRY_COMPARE_WITH_TIMEOUT(rig.receivedCount(late), 1, kWait);
    QCOMPARE(rig.fake->held(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(rig.fake->used(), 1, kWait);
}

// ---------------------------------------------------------------------------------------

void TstModem::unplugMidSend() {
    FakeModemOptions o;
    o.sendDelayMs = 5000;   // the +CMGS answer never comes before the unplug
    Rig rig(o);
    QVERIFY(rig.startFake());
    ModemConfig c = fastConfig(rig.fake->portPath());
    c.sendTimeoutMs = 8000;
    rig.open(c);
    QTRY_COMPARE_WITH_TIMEOUT(rig.engine.state(), ModemState::Ready, kWait);
    QTRY_VERIFY_WITH_TIMEOUT(rig.fake->count("AT+CMGL=4") >= 1, kWait);
    const int boots = rig.fake->boots();

    const quint64 job = send(rig, submit(QStringLiteral("SERVER,1,example.org,5023,0#")));
    QTRY_COMPARE_WITH_TIMEOUT(rig.fake->sent().size(), 1, kWait);   // PDU written, waiting
    rig.fake->unplug();
    QTRY_COMPARE_WITH_TIMEOUT(rig.finishedFor(job), 1, kWait);
    const Finished f = *rig.result(job);
    QVERIFY(!f.error.isEmpty());
    QVERIFY(f.retryable);
    QTRY_COMPARE_WITH_TIMEOUT(rig.engine.state(), ModemState::Reconnecting, kWait);
    QCOMPARE(rig.engine.sendSms({QByteArray(10, 'x')}, {9}), quint64(0));
    QTest::qWait(3 * c.reconnectIntervalMs);   // a few failed reopen attempts
    QCOMPARE(rig.engine.state(), ModemState::Reconnecting);

    // A message reached the SIM while the modem was away; the sweep after re-init finds it.
    const QByteArray meanwhile = FakeModem::deliverPdu(QStringLiteral("+491703333333"), QStringLiteral("while away"));
    rig.fake->store(meanwhile);
    QVERIFY(rig.fake->replug());
    QTRY_COMPARE_WITH_TIMEOUT(rig.engine.state(), ModemState::Ready, kWait);
    QCOMPARE(rig.fake->boots(), boots + 1);
    QVERIFY(!rig.fake->echo());
    QVERIFY(!rig.fake->cnmi().isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(rig.receivedCount(meanwhile), 1, kWait);
    QTest::qWait(200);
    QCOMPARE(rig.finishedFor(job), 1);   // exactly once

    // And it sends again.
    const quint64 job2 = send(rig, submit(QStringLiteral("again")));
    rig.fake->options().sendDelayMs = 10;
    QTRY_COMPARE_WITH_TIMEOUT(rig.finishedFor(job2), 1, 2 * kWait);
    QVERIFY2(rig.result(job2)->error.isEmpty(), qPrintable(rig.result(job2)->error));
}

void TstModem::modemResetUrc() {
    FakeModemOptions o;
    o.sendDelayMs = 1500;
    o.smsReadyDelayMs = 200;
    Rig rig(o);
    QVERIFY(rig.startFake());
    rig.open();
    QTRY_COMPARE_WITH_TIMEOUT(rig.engine.state(), ModemState::Ready, kWait);
    QTRY_VERIFY_WITH_TIMEOUT(rig.fake->count("AT+CMGL=4") >= 1, kWait);
    QCOMPARE(rig.fake->count("ATE0"), 1);

    // Reset in the middle of a send: the answer is lost with the reboot.
    const quint64 job = send(rig, submit(QStringLiteral("RESET#")));
    QTRY_COMPARE_WITH_TIMEOUT(rig.fake->sent().size(), 1, kWait);
    rig.states.clear();
    rig.fake->reset();   // RDY, +CPIN: READY, echo back on, CNMI back to 0
    QVERIFY(rig.fake->echo());
    QVERIFY(rig.fake->cnmi().isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(rig.finishedFor(job), 1, kWait);
    QVERIFY(rig.result(job)->retryable);
    QTRY_COMPARE_WITH_TIMEOUT(rig.engine.state(), ModemState::Ready, kWait);
    QVERIFY(rig.states.contains(ModemState::Reconnecting));
    QVERIFY(rig.states.contains(ModemState::Initialising));
    QCOMPARE(rig.fake->count("ATE0"), 2);
    QVERIFY(!rig.fake->echo());
    QCOMPARE(rig.fake->cnmi(), QByteArray("2,1,0,1,0"));
    QTRY_VERIFY_WITH_TIMEOUT(rig.fake->count("AT+CMGL=4") >= 2, kWait);   // swept again
    // Indications work again after the re-init.
    const QByteArray after = FakeModem::deliverPdu(QStringLiteral("+491704444444"), QStringLiteral("after reset"));
    QVERIFY(rig.fake->deliver(after) > 0);
    QTRY_COMPARE_WITH_TIMEOUT(rig.receivedCount(after), 1, kWait);
    QCOMPARE(rig.finishedFor(job), 1);

    // "+CPIN: READY" alone while Ready (a SIM reset without RDY): re-initialised as well.
    rig.states.clear();
    rig.fake->sendUrc("+CPIN: READY");
    QTRY_VERIFY_WITH_TIMEOUT(rig.states.contains(ModemState::Reconnecting), kWait);
    QTRY_COMPARE_WITH_TIMEOUT(rig.engine.state(), ModemState::Ready, kWait);
    QCOMPARE(rig.fake->count("ATE0"), 3);
}

// Line noise, binary junk, an overlong line, malformed URCs and stray finals: no crash,
// the engine ends up Ready and works.
void TstModem::garbage() {
    Rig rig;
    QVERIFY(rig.startFake());
    rig.open();
    QTRY_COMPARE_WITH_TIMEOUT(rig.engine.state(), ModemState::Ready, kWait);
    QTRY_VERIFY_WITH_TIMEOUT(rig.fake->count("AT+CMGL=4") >= 1, kWait);
    QTest::qWait(50);

    QRandomGenerator rng(0x5eed);
    QByteArray junk(16 * 1024, Qt::Uninitialized);
    for (char &c : junk)
        c = char(rng.bounded(256));
    rig.fake->sendRaw(junk);
    rig.fake->sendRaw(QByteArray(10000, 'A'));   // a line far longer than Reader::MaxLine
    rig.fake->sendRaw("\r\n");
    for (const char *line : {"+CMTI: \"SM\",abc", "+CMTI: garbage", "+CDS: 99", "ZZZZ", "+CMT: ,300", "12",
                             "+CDSI: \"XX\",-1", "+CREG: 99,99", "+CLIP: \"+49\x01\"", "> ", "+CMGS: 999",
                             "OK", "ERROR", "+CME ERROR: x", "\x1A\x1B", "RING"})
        rig.fake->sendUrc(line);
    // Junk inside a reply too.
    rig.fake->injectIntoNextReply(QByteArray("\x01\x02\xff junk +CMGL: 1,0,,5\r\nNOTHEX"));
    QTest::qWait(300);
    rig.engine.sweep();
    QTRY_COMPARE_WITH_TIMEOUT(rig.engine.state(), ModemState::Ready, kWait);

    const quint64 job = send(rig, submit(QStringLiteral("after the noise")));
    QTRY_COMPARE_WITH_TIMEOUT(rig.finishedFor(job), 1, kWait);
    QVERIFY2(rig.result(job)->error.isEmpty(), qPrintable(rig.result(job)->error));
    const QByteArray m = FakeModem::deliverPdu(QStringLiteral("+491705555555"), QStringLiteral("still listening"));
    QVERIFY(rig.fake->deliver(m) > 0);
    QTRY_COMPARE_WITH_TIMEOUT(rig.receivedCount(m), 1, kWait);
    bool overflowLogged = false;
    for (const QByteArray &l : std::as_const(rig.trafficIn))
        overflowLogged = overflowLogged || l.contains("dropped");
    QVERIFY(overflowLogged);
}

// A modem that stops answering: after a few timeouts the engine reconnects by itself and
// comes back when the modem answers again.
void TstModem::repeatedTimeouts() {
    Rig rig;
    QVERIFY(rig.startFake());
    rig.open();
    QTRY_COMPARE_WITH_TIMEOUT(rig.engine.state(), ModemState::Ready, kWait);
    QTRY_VERIFY_WITH_TIMEOUT(rig.fake->count("AT+CMGL=4") >= 1, kWait);
    QTest::qWait(50);
    rig.fake->setMuted(true);
    QList<quint64> jobs;
    for (int i = 0; i < 3; ++i)
        jobs << send(rig, submit(QStringLiteral("lost %1").arg(i)));
    QTRY_COMPARE_WITH_TIMEOUT(rig.engine.state(), ModemState::Reconnecting, kWait);
    QVERIFY2(rig.engine.stateDetail().contains(QLatin1String("stopped answering")), qPrintable(rig.engine.stateDetail()));
    for (quint64 j : jobs) {
        QCOMPARE(rig.finishedFor(j), 1);
        QVERIFY(rig.result(j)->retryable);
    }
    rig.fake->setMuted(false);
    QTRY_COMPARE_WITH_TIMEOUT(rig.engine.state(), ModemState::Ready, 2 * kWait);
    const quint64 job = send(rig, submit(QStringLiteral("back")));
    QTRY_COMPARE_WITH_TIMEOUT(rig.finishedFor(job), 1, kWait);
    QVERIFY(rig.result(job)->error.isEmpty());
}

void TstModem::closeStops() {
    Rig rig;
    QVERIFY(rig.startFake());
    rig.open();
    QTRY_COMPARE_WITH_TIMEOUT(rig.engine.state(), ModemState::Ready, kWait);
    rig.fake->options().sendDelayMs = 2000;
    const quint64 job = send(rig, submit(QStringLiteral("bye")));
    QTRY_COMPARE_WITH_TIMEOUT(rig.fake->sent().size(), 1, kWait);
    rig.engine.close();
    QCOMPARE(rig.engine.state(), ModemState::Closed);
    QCOMPARE(rig.finishedFor(job), 1);
    QVERIFY(rig.result(job)->retryable);
    const int commands = int(rig.fake->commands().size());
    QCOMPARE(rig.engine.sendSms({QByteArray(10, 'x')}, {9}), quint64(0));
    rig.engine.sweep();
    QTest::qWait(400);
    QCOMPARE(int(rig.fake->commands().size()), commands);
    QCOMPARE(rig.engine.state(), ModemState::Closed);
    // The port is free again: a probe can open it.
    std::atomic<int> result{-1};
    QString answer;
    std::unique_ptr<QThread> t(QThread::create([&] {
        result = ModemEngine::probe(rig.fake->portPath(), 115200, 3000, &answer) ? 1 : 0;
    }));
    t->start();
    QTRY_VERIFY_WITH_TIMEOUT(t->isFinished(), kWait);
    QCOMPARE(result.load(), 1);

    ModemEngine unconfigured;
    unconfigured.open(ModemConfig());
    QCOMPARE(unconfigured.state(), ModemState::Closed);
    QVERIFY(!unconfigured.stateDetail().isEmpty());
}

void TstModem::missingPort() {
    Rig rig;
    QVERIFY(rig.startFake());
    ModemConfig c = fastConfig(rig.fake->portPath() + QStringLiteral("-missing"));
    rig.open(c);
    QTRY_COMPARE_WITH_TIMEOUT(rig.engine.state(), ModemState::Reconnecting, kWait);
    QVERIFY2(rig.engine.stateDetail().contains(QLatin1String("cannot open")), qPrintable(rig.engine.stateDetail()));
    QTest::qWait(3 * c.reconnectIntervalMs);
    QCOMPARE(rig.engine.state(), ModemState::Reconnecting);
    rig.engine.close();
    QCOMPARE(rig.engine.state(), ModemState::Closed);
}

// ---------------------------------------------------------------------------------------

void TstModem::modemSpec_data() {
    QTest::addColumn<QString>("spec");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<QString>("port");
    QTest::addColumn<int>("baud");

    QTest::newRow("device") << "/dev/ttyUSB2" << true << "/dev/ttyUSB2" << 115200;
    QTest::newRow("device:baud") << "/dev/ttyUSB2:9600" << true << "/dev/ttyUSB2" << 9600;
    QTest::newRow("COM") << "COM5" << true << "COM5" << 115200;
    QTest::newRow("COM:baud") << "COM5:57600" << true << "COM5" << 57600;
    QTest::newRow("spaces") << "  ttyACM0:460800 " << true << "ttyACM0" << 460800;
    QTest::newRow("by-path with colons")
        << "/dev/serial/by-path/pci-0000:00:14.0-usb-0:1:1.0-port0" << true
        << "/dev/serial/by-path/pci-0000:00:14.0-usb-0:1:1.0-port0" << 115200;
    QTest::newRow("by-path with colons and baud")
        << "/dev/serial/by-path/pci-0000:00:14.0-usb-0:1:1.0-port0:19200" << true
        << "/dev/serial/by-path/pci-0000:00:14.0-usb-0:1:1.0-port0" << 19200;
    QTest::newRow("empty") << "" << false << "" << 0;
    QTest::newRow("blank") << "   " << false << "" << 0;
    QTest::newRow("baud not a number") << "COM5:fast" << false << "" << 0;
    QTest::newRow("baud zero") << "/dev/ttyS0:0" << false << "" << 0;
    QTest::newRow("baud huge") << "/dev/ttyS0:99999999999" << false << "" << 0;
    QTest::newRow("no port") << ":9600" << false << "" << 0;
}

void TstModem::modemSpec() {
    QFETCH(QString, spec);
    QFETCH(bool, valid);
    QFETCH(QString, port);
    QFETCH(int, baud);
    QString error;
    const auto c = parseModemSpec(spec, &error);
    QCOMPARE(c.has_value(), valid);
    if (valid) {
        QCOMPARE(c->port, port);
        QCOMPARE(c->baud, baud);
        QVERIFY(error.isEmpty());
    } else {
        QVERIFY(!error.isEmpty());
    }
}

void TstModem::probe() {
    FakeModemOptions o;
    o.echo = true;
    Rig rig(o);
    QVERIFY(rig.startFake());

    // probe() blocks; the fake answers from this thread's event loop.
    auto runProbe = [](const QString &port, int timeoutMs, QString *answer, qint64 *elapsed) {
        auto result = std::make_shared<std::atomic<int>>(-1);
        std::unique_ptr<QThread> t(QThread::create([=] {
            QElapsedTimer timer;
            timer.start();
            const bool ok = ModemEngine::probe(port, 115200, timeoutMs, answer);
            *elapsed = timer.elapsed();
            *result = ok ? 1 : 0;
        }));
        t->start();
        (void)QTest::qWaitFor([&] { return t->isFinished(); }, kWait);
        t->wait();
        return *result == 1;
    };
    QString answer;
    qint64 elapsed = 0;
    QVERIFY(runProbe(rig.fake->portPath(), 3000, &answer, &elapsed));
    QVERIFY2(answer.contains(QLatin1String("SIM800")), qPrintable(answer));
    QCOMPARE(rig.fake->count("AT"), 2);   // AT, ATI

    rig.fake->setMuted(true);
    QVERIFY(!runProbe(rig.fake->portPath(), 600, &answer, &elapsed));
    QVERIFY2(answer.contains(QLatin1String("no answer")), qPrintable(answer));
    QVERIFY(elapsed < 2000);

    QVERIFY(!runProbe(rig.fake->portPath() + QStringLiteral("-none"), 600, &answer, &elapsed));
    QVERIFY2(answer.contains(QLatin1String("cannot open")), qPrintable(answer));

    // availablePorts(): whatever the machine has, every entry is named.
    for (const PortInfo &p : availablePorts()) {
        QVERIFY(!p.name.isEmpty());
        QVERIFY(!p.systemLocation.isEmpty());
    }
    QCOMPARE(modemStateName(ModemState::Ready), QStringLiteral("ready"));
}

QTEST_GUILESS_MAIN(TstModem)
#include "tst_modem.moc"
