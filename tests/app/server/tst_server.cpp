// The live server through its facade (TrackerService) on real loopback sockets:
// login/ack/position/heartbeat flows for GT06, Topin and JT/T 808; acks only after the
// commit; chunked and coalesced writes; frames before a login; garbage, slow and
// flooding peers; connection caps; allowlist and blocking; restart; commands; a full
// store; the simulator end to end.
#include "service/trackerservice.h"
#include "sim/simulator.h"
#include "store/store.h"
#include "walcheck.h"

#include "trackerdesk/protocol/gt06.h"
#include "trackerdesk/protocol/jt808.h"

#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QScopeGuard>
#include <QThread>
#include <QTimeZone>

using namespace td;
namespace gt06 = td::proto::gt06;
namespace jt808 = td::proto::jt808;

namespace {

const QString kImei = QStringLiteral("864717003283581");

proto::Position fixAt(qint64 secs, double lat, double lon) {
    proto::Position p;
    p.time = QDateTime::fromSecsSinceEpoch(secs, QTimeZone::UTC);
    p.latitude = lat;
    p.longitude = lon;
    p.valid = true;
    p.speedKmh = 30;
    p.course = 120;
    p.satellites = 8;
    p.cells = {proto::CellTower{204, 8, 1234, 5678, 50}};
    return p;
}

const qint64 kT0 = QDateTime::currentSecsSinceEpoch() - 86400;

struct Client {
    QTcpSocket socket;
    QByteArray rx;
    bool connectTo(quint16 port) {
        socket.connectToHost(QHostAddress::LocalHost, port);
        return QTest::qWaitFor([&] { return socket.state() == QAbstractSocket::ConnectedState; }, 5000);
    }
    void send(const QByteArray &b) {
        socket.write(b);
        socket.flush();
    }
    void pump() { rx += socket.readAll(); }
    // Waits until n bytes arrived and returns them.
    QByteArray take(int n, int timeoutMs = 5000) {
        (void)QTest::qWaitFor([&] { pump(); return rx.size() >= n; }, timeoutMs);
        const QByteArray out = rx.left(n);
        rx.remove(0, qMin<qsizetype>(n, rx.size()));
        return out;
    }
    // Waits for one complete JT/T 808 frame (7E ... 7E) and returns its unescaped content.
    QByteArray takeJt808(int timeoutMs = 5000) {
        QByteArray content;
        (void)QTest::qWaitFor([&] {
            pump();
            const qsizetype s = rx.indexOf(char(0x7E));
            const qsizetype e = s >= 0 ? rx.indexOf(char(0x7E), s + 1) : -1;
            if (e < 0)
                return false;
            content = jt808::unescape(rx.mid(s + 1, e - s - 1));
            rx.remove(0, e + 1);
            return true;
        }, timeoutMs);
        return content;
    }
    bool closedByServer(int timeoutMs = 5000) {
        return QTest::qWaitFor([&] { pump(); return socket.state() == QAbstractSocket::UnconnectedState; }, timeoutMs);
    }
    bool silentFor(int ms) {
        QTest::qWait(ms);
        pump();
        return rx.isEmpty();
    }
};

quint16 be16(const QByteArray &b, int at) { return quint16((quint8(b[at]) << 8) | quint8(b[at + 1])); }

struct Jt808Reply {
    quint16 msgId = 0;
    QByteArray body;
};
Jt808Reply parseJt808(const QByteArray &content) {
    Jt808Reply r;
    if (content.size() < 13)
        return r;
    r.msgId = be16(content, 0);
    const quint16 props = be16(content, 2);
    const int header = (props & 0x4000) ? 17 : 12;
    r.body = content.mid(header, content.size() - 1 - header);
    return r;
}

class Fixture {
public:
    QTemporaryDir dir;
    QStringList log;  // declared before the service: it logs while it stops
    TrackerService service;
    explicit Fixture(std::function<void(ServiceConfig &)> tweak = {}) {
        QObject::connect(&service, &TrackerService::logMessage, &service,
                         [this](server::LogLevel, const QString &t) { log << t; });
        start(tweak);
    }
    bool start(std::function<void(ServiceConfig &)> tweak = {}) {
        ServiceConfig c;
        c.dataDir = dir.path();
        c.server.listeners = {server::ListenSpec{QHostAddress::LocalHost, 0, {}}};
        c.publishIntervalMs = 20;
        if (tweak)
            tweak(c);
        QString err;
        const bool ok = service.start(c, &err);
        if (!ok)
            qWarning() << "start failed:" << err;
        return ok;
    }
    quint16 port(int i = 0) const { return service.listening().value(i).second; }
    QString dbPath() const { return service.databasePath(); }
    bool logContains(const QString &a, const QString &b = {}) const {
        for (const QString &l : log)
            if (l.contains(a) && (b.isEmpty() || l.contains(b)))
                return true;
        return false;
    }
};

qint64 countPositions(const QString &dbPath) {
    store::Store s;
    store::StoreOptions ro;
    ro.readOnly = true;
    if (!s.open(dbPath, ro))
        return -1;
    return s.countPositions({}, {}, {});
}

} // namespace

class TestServer : public QObject {
    Q_OBJECT
private slots:
    void gt06LoginPositionHeartbeat();
    void lastFixIsPublishedBeforeTheDisconnect();
    void topinLoginPositionHeartbeat();
    void jt808RegisterAuthLocationHeartbeat();
    void chunkedAndCoalescedWrites();
    void undecodableFixIsNotAcknowledged();
    void framesBeforeLoginAreKept();
    void fixedProtocolPort();
    void garbagePeerIsClosed();
    void oversizedFrameDropped();
    void idleAndSlowPeersTimeOut();
    void garbageFloodDoesNotDelayAcks();
    void connectionCaps();
    void allowlistAndBlocking();
    void restartKeepsDevicesAndHistory();
    void commandsToOnlineDevices();
    void fullStoreIsNotAcknowledged();
    void simulatorEndToEnd();
    void walIsNotPinned();
};

void TestServer::gt06LoginPositionHeartbeat() {
    Fixture f;
    // The sockets asked for carry the connections (ctest runs this file on both).
    const QString wanted = qEnvironmentVariable("TRACKERDESK_SERVER_SOCKETS");
#ifdef Q_OS_LINUX
    QCOMPARE(f.service.server()->socketsName(), wanted.isEmpty() ? QStringLiteral("epoll") : wanted);
#else
    QCOMPARE(f.service.server()->socketsName(), QStringLiteral("qt"));
#endif
    QSignalSpy framesSpy(&f.service, &TrackerService::framesPublished);
    QSignalSpy addedSpy(&f.service, &TrackerService::deviceAdded);
    QList<store::StoredPosition> stored;
    connect(&f.service, &TrackerService::positionsStored, this, [&](const QList<store::StoredPosition> &p) { stored << p; });
    Client c;
    QVERIFY(c.connectTo(f.port()));
    c.send(gt06::encodeLogin(kImei, 1, 120, 0x3600));
    QCOMPARE(c.take(10).toHex(), gt06::encodeAck(0x01, 1).toHex());
    // Every ack means: committed. Check it right when each ack arrives.
    for (int i = 0; i < 5; ++i) {
        const quint16 serial = quint16(2 + i);
        c.send(gt06::encodeGpsLbs(serial, fixAt(kT0 + i * 10, 52.1 + i * 0.001, 5.1)));
        QCOMPARE(c.take(10).toHex(), gt06::encodeAck(0x22, serial).toHex());
        QCOMPARE(countPositions(f.dbPath()), i + 1);
    }
    c.send(gt06::encodeHeartbeat(7, 5, 4, true));
    QCOMPARE(c.take(10).toHex(), gt06::encodeAck(0x13, 7).toHex());

    QTRY_VERIFY(!addedSpy.isEmpty());
    const auto dev = f.service.deviceByImei(kImei);
    QVERIFY(dev);
    QCOMPARE(dev->device.protocol, QStringLiteral("gt06"));
    QVERIFY(dev->online);
    QVERIFY(dev->peer.startsWith(QLatin1String("127.0.0.1:")));
    QTRY_VERIFY(dev->status.has_value() || f.service.deviceByImei(kImei)->status.has_value());
    QTRY_COMPARE(f.service.deviceByImei(kImei)->status->charging, std::optional<bool>(true));
    QTRY_COMPARE(stored.size(), 5);
    QCOMPARE(stored.last().position.latitude, 52.1 + 4 * 0.001);
    QCOMPARE(f.service.deviceByImei(kImei)->lastFix->position.time.toSecsSinceEpoch(), kT0 + 40);

    // Frames were published with their ids; each reply links to the frame it answers.
    QTRY_VERIFY(!framesSpy.isEmpty());
    QList<server::FrameRecord> frames;
    for (const auto &args : framesSpy)
        frames << args.at(0).value<QList<server::FrameRecord>>();
    QCOMPARE(frames.size(), 14);  // 7 inbound + 7 acks
    // The server's own ack-delay figures count every ack it wrote, each after its commit.
    const server::DelayHistogram &delays = f.service.server()->ackDelays();
    QCOMPARE(delays.count(), 7);
    QVERIFY(delays.maxNs() > 0);
    QVERIFY(delays.percentileNs(0.5) <= delays.maxNs());
    QVERIFY2(f.service.ackDelayStats().startsWith(QLatin1String("7 acks, p50 ")), qPrintable(f.service.ackDelayStats()));
    for (int i = 0; i < frames.size(); i += 2) {
        QCOMPARE(frames[i].direction, proto::Direction::FromDevice);
        QCOMPARE(frames[i + 1].direction, proto::Direction::ToDevice);
        QVERIFY(frames[i].id > 0);
        QCOMPARE(frames[i + 1].replyTo, frames[i].id);
        QCOMPARE(frames[i].deviceKey, kImei);
    }
    QCOMPARE(frames[0].type, 0x01);
    QCOMPARE(frames[1].type, 0x01);
    QVERIFY(!frames[2].summary.isEmpty());

    // The store has both directions with peer, device, protocol and type.
    store::Store s;
    QVERIFY(s.open(f.dbPath()));
    const auto stored2 = s.frames({});
    QCOMPARE(stored2.size(), 14);
    QCOMPARE(stored2[1].replyTo, stored2[0].id);
    QCOMPARE(stored2[1].bytes, gt06::encodeAck(0x01, 1));
    QCOMPARE(stored2[0].protocol, QStringLiteral("gt06"));
    QCOMPARE(stored2[2].type, 0x22);
    QCOMPARE(stored2[2].peerAddress, QStringLiteral("127.0.0.1"));
    QVERIFY(stored2[2].deviceId > 0);
    const auto events = s.events(stored2[2].deviceId, {}, {});
    QVERIFY(std::any_of(events.begin(), events.end(), [](const store::Event &e) { return e.kind == QLatin1String("login"); }));
    QVERIFY(std::any_of(events.begin(), events.end(), [](const store::Event &e) { return e.kind == QLatin1String("online"); }));
    // A fix flagged invalid (no GPS lock: 0,0) is stored but does not move the device's marker.
    proto::Position noLock = fixAt(kT0 + 50, 0, 0);
    noLock.valid = false;
    c.send(gt06::encodeGpsLbs(8, noLock));
    QCOMPARE(c.take(10).toHex(), gt06::encodeAck(0x22, 8).toHex());
    QTRY_COMPARE(stored.size(), 6);
    QCOMPARE(f.service.deviceByImei(kImei)->lastFix->position.time.toSecsSinceEpoch(), kT0 + 40);
    QCOMPARE(f.service.deviceByImei(kImei)->lastFix->position.latitude, 52.1 + 4 * 0.001);
}

// The headless log printed a tracker's last fix after its "disconnect" line (fixes are
// published in batches): the order of the signals must be the order of the events.
void TestServer::lastFixIsPublishedBeforeTheDisconnect() {
    Fixture f([](ServiceConfig &c) { c.publishIntervalMs = 60000; });   // no batch would go out by itself
    QStringList events;
    connect(&f.service, &TrackerService::positionsStored, this, [&](const QList<store::StoredPosition> &p) {
        for (const store::StoredPosition &sp : p)
            events << QStringLiteral("fix %1").arg(sp.position.latitude, 0, 'f', 3);
    });
    connect(&f.service, &TrackerService::connectionClosed, this, [&](const QString &, const QString &key, const QString &) {
        events << QStringLiteral("disconnect %1").arg(key);
    });
    {
        Client c;
        QVERIFY(c.connectTo(f.port()));
        c.send(gt06::encodeLogin(kImei, 1, 120, 0x3600));
        QCOMPARE(c.take(10).toHex(), gt06::encodeAck(0x01, 1).toHex());
        c.send(gt06::encodeGpsLbs(2, fixAt(kT0, 52.123, 5.1)));
        QCOMPARE(c.take(10).toHex(), gt06::encodeAck(0x22, 2).toHex());
    }   // closed right after the ack
    QTRY_COMPARE(events.size(), 2);
    QCOMPARE(events, (QStringList{QStringLiteral("fix 52.123"), QStringLiteral("disconnect %1").arg(kImei)}));
}

void TestServer::topinLoginPositionHeartbeat() {
    Fixture f;
    Client c;
    QVERIFY(c.connectTo(f.port()));
    c.send(gt06::encodeTopinLogin(QStringLiteral("358000000000025")));
    QCOMPARE(c.take(6).toHex(), gt06::encodeTopinReply(0x01).toHex());
    const QByteArray gps = gt06::encodeTopinGps(fixAt(kT0, -33.86, 151.2));
    c.send(gps);
    QCOMPARE(c.take(12).toHex(), gt06::encodeTopinTimeEcho(0x10, gps.mid(4, 6)).toHex());
    QCOMPARE(countPositions(f.dbPath()), 1);
    c.send(gt06::encodeTopinHeartbeat(77));
    QCOMPARE(c.take(6).toHex(), gt06::encodeTopinReply(0x13).toHex());
    proto::Position wifi = fixAt(kT0 + 60, 0, 0);
    wifi.hasCoordinates = false;
    wifi.wifi = {proto::WifiAccessPoint{QStringLiteral("02:1a:11:00:00:01"), -50},
                 proto::WifiAccessPoint{QStringLiteral("02:1a:11:00:00:02"), -60},
                 proto::WifiAccessPoint{QStringLiteral("02:1a:11:00:00:03"), -70}};
    const QByteArray w = gt06::encodeTopinWifi(wifi);
    c.send(w);
    QCOMPARE(c.take(12).toHex(), gt06::encodeTopinTimeEcho(0x69, w.mid(4, 6)).toHex());
    QTRY_VERIFY(f.service.deviceByImei(QStringLiteral("358000000000025")).has_value());
    QTRY_COMPARE(f.service.deviceByImei(QStringLiteral("358000000000025"))->status->batteryPercent, std::optional<int>(77));
    store::Store s;
    QVERIFY(s.open(f.dbPath()));
    QCOMPARE(s.countPositions({}, {}, {}), 2);  // the GPS fix and the Wi-Fi record
    QCOMPARE(s.frames({}).first().protocol, QStringLiteral("topin"));
}

void TestServer::jt808RegisterAuthLocationHeartbeat() {
    Fixture f;
    const auto t = jt808::terminalFromId(QStringLiteral("013800138000"));
    QVERIFY(t);
    Client c;
    QVERIFY(c.connectTo(f.port()));
    jt808::RegisterInfo info;
    info.manufacturer = QStringLiteral("TEST");
    info.model = QStringLiteral("M1");
    info.terminalId = QStringLiteral("T1");
    c.send(jt808::encodeRegister(*t, 1, info));
    Jt808Reply r = parseJt808(c.takeJt808());
    QCOMPARE(r.msgId, jt808::msg::RegisterResponse);
    QCOMPARE(be16(r.body, 0), quint16(1));
    QCOMPARE(int(r.body[2]), 0);
    const QByteArray code = r.body.mid(3);
    QVERIFY(!code.isEmpty());
    c.send(jt808::encodeAuthentication(*t, 2, code));
    r = parseJt808(c.takeJt808());
    QCOMPARE(r.msgId, jt808::msg::PlatformResponse);
    QCOMPARE(be16(r.body, 0), quint16(2));
    QCOMPARE(be16(r.body, 2), jt808::msg::Authentication);
    QCOMPARE(int(r.body[4]), 0);
    jt808::LocationOptions lo;
    lo.batteryPercent = 55;
    lo.gsmSignal = 20;
    c.send(jt808::encodeLocation(*t, 3, fixAt(kT0, 22.5, 114.05), lo));
    r = parseJt808(c.takeJt808());
    QCOMPARE(r.msgId, jt808::msg::PlatformResponse);
    QCOMPARE(be16(r.body, 0), quint16(3));
    QCOMPARE(be16(r.body, 2), jt808::msg::Location);
    QCOMPARE(countPositions(f.dbPath()), 1);
    c.send(jt808::encodeHeartbeat(*t, 4));
    r = parseJt808(c.takeJt808());
    QCOMPARE(be16(r.body, 2), jt808::msg::Heartbeat);

    const QString key = jt808::terminalIdText(t->id);
    QTRY_VERIFY(f.service.deviceByImei(key).has_value());
    const auto d = f.service.deviceByImei(key);
    QCOMPARE(d->device.protocol, QStringLiteral("jt808"));
    QTRY_VERIFY(f.service.deviceByImei(key)->lastFix.has_value());
    const proto::Position p = f.service.deviceByImei(key)->lastFix->position;
    QVERIFY(qAbs(p.latitude - 22.5) < 1e-5);
    QCOMPARE(p.time.toSecsSinceEpoch(), kT0);  // the device's GMT+8 time read back as UTC
}

void TestServer::chunkedAndCoalescedWrites() {
    Fixture f;
    Client c;
    QVERIFY(c.connectTo(f.port()));
    // A login split into single bytes, with pauses.
    const QByteArray login = gt06::encodeLogin(kImei, 1);
    for (char b : login) {
        c.send(QByteArray(1, b));
        QTest::qWait(5);
    }
    QCOMPARE(c.take(10).toHex(), gt06::encodeAck(0x01, 1).toHex());
    // Three fixes and a heartbeat in one write, then a frame split across two writes
    // together with the start of the next one.
    QByteArray burst;
    for (int i = 0; i < 3; ++i)
        burst += gt06::encodeGpsLbs(quint16(2 + i), fixAt(kT0 + i, 10 + i * 0.01, 20));
    burst += gt06::encodeHeartbeat(5, 4, 3, false);
    c.send(burst);
    QByteArray expected;
    for (int i = 0; i < 3; ++i)
        expected += gt06::encodeAck(0x22, quint16(2 + i));
    expected += gt06::encodeAck(0x13, 5);
    QCOMPARE(c.take(int(expected.size())).toHex(), expected.toHex());
    const QByteArray a = gt06::encodeGpsLbs(6, fixAt(kT0 + 10, 11, 21));
    const QByteArray b = gt06::encodeGpsLbs(7, fixAt(kT0 + 11, 12, 22));
    c.send(a.left(7));
    QTest::qWait(20);
    c.send(a.mid(7) + b.left(3));
    QTest::qWait(20);
    c.send(b.mid(3));
    QCOMPARE(c.take(20).toHex(), (gt06::encodeAck(0x22, 6) + gt06::encodeAck(0x22, 7)).toHex());
    QCOMPARE(countPositions(f.dbPath()), 5);
}

void TestServer::undecodableFixIsNotAcknowledged() {
    Fixture f;
    Client c;
    QVERIFY(c.connectTo(f.port()));
    c.send(gt06::encodeLogin(kImei, 1));
    QCOMPARE(c.take(10).size(), 10);
    // A 0x22 position frame with a valid CRC but only 5 content bytes: the decoder answers
    // it, but there is no fix in it to store, so the server must not acknowledge it.
    QByteArray body = QByteArray::fromHex("0a22") + QByteArray::fromHex("1a0101000000") + QByteArray::fromHex("0002");
    body[0] = char(body.size() - 1 + 2);  // length: type + content + serial + CRC
    const quint16 crc = gt06::crcItu(body.constData(), body.size());
    QByteArray frame = QByteArray::fromHex("7878") + body;
    frame.append(char(crc >> 8)).append(char(crc & 0xFF)).append("\r\n");
    c.send(frame);
    QVERIFY(c.silentFor(500));
    QVERIFY(f.logContains(QStringLiteral("not acknowledged")));
    // The raw frame is kept for a better decoder; the connection stays usable.
    c.send(gt06::encodeGpsLbs(3, fixAt(kT0, 1, 2)));
    QCOMPARE(c.take(10).toHex(), gt06::encodeAck(0x22, 3).toHex());
    store::Store s;
    QVERIFY(s.open(f.dbPath()));
    store::FrameFilter in;
    in.direction = proto::Direction::FromDevice;
    QCOMPARE(s.frames(in).size(), 3);
    QCOMPARE(s.countPositions({}, {}, {}), 1);
}

void TestServer::framesBeforeLoginAreKept() {
    Fixture f;
    QList<server::FrameRecord> frames;
    connect(&f.service, &TrackerService::framesPublished, this, [&](const QList<server::FrameRecord> &r) { frames << r; });
    {
        // A device that sends a fix before its login: no ack for it (not attributable yet),
        // but the frame is kept and, once the login comes, attributed and its fix stored.
        Client c;
        QVERIFY(c.connectTo(f.port()));
        c.send(gt06::encodeGpsLbs(1, fixAt(kT0, 1.5, 2.5)));
        QVERIFY(c.silentFor(300));
        c.send(gt06::encodeLogin(kImei, 2));
        QCOMPARE(c.take(10).toHex(), gt06::encodeAck(0x01, 2).toHex());
        QTRY_COMPARE(countPositions(f.dbPath()), 1);
    }
    {
        // A peer that never logs in: its frames are still stored and shown, without a device.
        Client c;
        QVERIFY(c.connectTo(f.port()));
        c.send(gt06::encodeHeartbeat(1, 4, 4, false));
        QVERIFY(c.silentFor(200));
        c.socket.disconnectFromHost();
        QTRY_VERIFY(std::any_of(frames.begin(), frames.end(), [](const server::FrameRecord &r) {
            return r.deviceKey.isEmpty() && r.type == 0x13;
        }));
    }
    store::Store s;
    QVERIFY(s.open(f.dbPath()));
    store::FrameFilter none;
    none.deviceId = 0;
    QCOMPARE(s.frames(none).size(), 1);
    const auto all = s.frames({});
    QCOMPARE(all.first().type, 0x22);      // the pre-login fix, stored first
    QVERIFY(all.first().deviceId > 0);     // and attributed to the device
}

void TestServer::fixedProtocolPort() {
    Fixture f([](ServiceConfig &c) {
        c.server.listeners << server::ListenSpec{QHostAddress::LocalHost, 0, QStringLiteral("jt808")};
        c.server.garbageBudgetBytes = 64;
    });
    QVERIFY(f.port(1) != 0);
    // GT06 bytes on the JT/T 808 port are not understood there.
    Client c;
    QVERIFY(c.connectTo(f.port(1)));
    QByteArray gt;
    for (int i = 0; i < 10; ++i)
        gt += gt06::encodeLogin(kImei, quint16(i + 1));
    c.send(gt);
    QVERIFY(c.closedByServer());
    QVERIFY(c.rx.isEmpty());
    // JT/T 808 works there.
    const auto t = jt808::terminalFromId(QStringLiteral("013800138001"));
    Client j;
    QVERIFY(j.connectTo(f.port(1)));
    j.send(jt808::encodeHeartbeat(*t, 9));
    QCOMPARE(parseJt808(j.takeJt808()).msgId, jt808::msg::PlatformResponse);
}

void TestServer::garbagePeerIsClosed() {
    Fixture f([](ServiceConfig &c) { c.server.garbageBudgetBytes = 2048; });
    QSignalSpy closed(&f.service, &TrackerService::connectionClosed);
    Client c;
    QVERIFY(c.connectTo(f.port()));
    const QString peer = QStringLiteral("127.0.0.1:%1").arg(c.socket.localPort());
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    c.send(QByteArray(4096, 'A'));
    QVERIFY(c.closedByServer());
    QTRY_VERIFY(!closed.isEmpty());
    QVERIFY2(f.logContains(peer, QStringLiteral("budget")), qPrintable(f.log.join(QLatin1Char('\n'))));
    store::Store s;
    QVERIFY(s.open(f.dbPath()));
    QCOMPARE(s.countFrames(), 0);  // garbage is logged, not stored
}

void TestServer::oversizedFrameDropped() {
    Fixture f([](ServiceConfig &c) { c.server.garbageBudgetBytes = 200000; });
    Client c;
    QVERIFY(c.connectTo(f.port()));
    const QString peer = QStringLiteral("127.0.0.1:%1").arg(c.socket.localPort());
    c.send(gt06::encodeLogin(kImei, 1));
    QCOMPARE(c.take(10).toHex(), gt06::encodeAck(0x01, 1).toHex());
    // A long frame announcing 65535 bytes that never ends properly: the framer drops it.
    QByteArray huge = QByteArray::fromHex("7979ffff22");
    huge += QByteArray(70000, '\x11');
    c.send(huge);
    QTRY_VERIFY_WITH_TIMEOUT(f.logContains(peer, QStringLiteral("dropped")), 10000);
    // The session recovers: a good frame afterwards is acknowledged.
    c.send(gt06::encodeGpsLbs(2, fixAt(kT0, 3, 4)));
    QCOMPARE(c.take(10).toHex(), gt06::encodeAck(0x22, 2).toHex());
}

void TestServer::idleAndSlowPeersTimeOut() {
    Fixture f([](ServiceConfig &c) { c.server.idleTimeoutSec = 1; });
    Client silent, slow, good;
    QVERIFY(silent.connectTo(f.port()));
    QVERIFY(slow.connectTo(f.port()));
    QVERIFY(good.connectTo(f.port()));
    good.send(gt06::encodeLogin(kImei, 1));
    QCOMPARE(good.take(10).size(), 10);
    // The slow peer trickles a frame that never completes; the good one sends heartbeats.
    const QByteArray login = gt06::encodeLogin(QStringLiteral("123456789012345"), 1);
    QElapsedTimer t;
    t.start();
    int sent = 0;
    quint16 serial = 2;
    while (t.elapsed() < 3000 && slow.socket.state() == QAbstractSocket::ConnectedState) {
        if (sent < login.size() - 1)
            slow.send(login.mid(sent++, 1));
        good.send(gt06::encodeHeartbeat(serial++, 4, 4, false));
        QTest::qWait(300);
    }
    QVERIFY(silent.closedByServer(2000));
    QVERIFY(slow.closedByServer(2000));
    QCOMPARE(good.socket.state(), QAbstractSocket::ConnectedState);
    QVERIFY(f.logContains(QStringLiteral("idle timeout")));
}

void TestServer::garbageFloodDoesNotDelayAcks() {
    Fixture f([](ServiceConfig &c) {
        c.server.maxConnectionsPerIp = 1000;
        c.server.garbageBudgetBytes = 4096;
    });
    Client good;
    QVERIFY(good.connectTo(f.port()));
    good.send(gt06::encodeLogin(kImei, 1));
    QCOMPARE(good.take(10).size(), 10);

    // 60 hostile connections spraying random bytes, reconnecting when closed, driven from
    // their own thread (as they would be from other machines).
    QThread floodThread;
    QObject floodContext;
    std::vector<std::unique_ptr<QTcpSocket>> flood(60);
    std::atomic<qint64> floodBytes{0};
    std::atomic<int> floodClosed{0};
    QByteArray junk(64 * 1024, Qt::Uninitialized);
    QRandomGenerator rng(42);
    for (char &ch : junk)
        ch = char(rng.bounded(256));
    const quint16 port = f.port();
    QTimer *sprayer = nullptr;
    floodContext.moveToThread(&floodThread);
    floodThread.start();
    QMetaObject::invokeMethod(&floodContext, [&] {
        sprayer = new QTimer(&floodContext);
        connect(sprayer, &QTimer::timeout, &floodContext, [&] {
            for (auto &s : flood) {
                if (!s || s->state() == QAbstractSocket::UnconnectedState) {
                    if (s)
                        ++floodClosed;
                    s = std::make_unique<QTcpSocket>();
                    s->connectToHost(QHostAddress::LocalHost, port);
                    continue;
                }
                if (s->state() != QAbstractSocket::ConnectedState || s->bytesToWrite() > 65536)
                    continue;
                const int off = int(floodBytes % (junk.size() - 1024));
                s->write(junk.constData() + off, 1024);
                floodBytes += 1024;
            }
        });
        sprayer->start(10);  // 60 x 1 KB every 10 ms: about 6 MB/s of junk
    }, Qt::BlockingQueuedConnection);
    auto stopFlood = qScopeGuard([&] {
        QMetaObject::invokeMethod(&floodContext, [&] {
            sprayer->stop();
            flood.clear();
        }, Qt::BlockingQueuedConnection);
        floodThread.quit();
        floodThread.wait();
    });
    QTest::qWait(300);

    QList<double> latencies;
    for (int i = 0; i < 100; ++i) {
        const quint16 serial = quint16(2 + i);
        QElapsedTimer t;
        t.start();
        good.send(gt06::encodeGpsLbs(serial, fixAt(kT0 + i, 40 + i * 0.001, 10)));
        const QByteArray ack = good.take(10, 3000);
        latencies << t.nsecsElapsed() / 1e6;
        if (ack != gt06::encodeAck(0x22, serial))
            qWarning().noquote() << "fix" << i << "state" << good.socket.state() << "log:\n" << f.log.mid(qMax(0, int(f.log.size()) - 20)).join(QLatin1Char('\n'));
        QCOMPARE(ack.toHex(), gt06::encodeAck(0x22, serial).toHex());
    }
    stopFlood.dismiss();
    QMetaObject::invokeMethod(&floodContext, [&] {
        sprayer->stop();
        flood.clear();
    }, Qt::BlockingQueuedConnection);
    floodThread.quit();
    floodThread.wait();
    std::sort(latencies.begin(), latencies.end());
    const double p50 = latencies[50], p99 = latencies[98];
    qInfo("flood: %lld garbage bytes, %d garbage connections closed; good tracker ack latency p50 %.1f ms, p99 %.1f ms",
          qint64(floodBytes), int(floodClosed), p50, p99);
    QVERIFY(floodClosed > 10);             // the budget closed the hostile peers
    QVERIFY2(p99 < 150, qPrintable(QString::number(p99)));  // and the good tracker was not held up
    QCOMPARE(countPositions(f.dbPath()), 100);
}

void TestServer::connectionCaps() {
    Fixture f([](ServiceConfig &c) {
        c.server.maxConnectionsPerIp = 3;
        c.server.maxConnections = 100;
    });
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < 4; ++i) {
        clients.push_back(std::make_unique<Client>());
        QVERIFY(clients.back()->connectTo(f.port()));
        QTest::qWait(50);
    }
    QVERIFY(clients[3]->closedByServer());
    QTRY_COMPARE(f.service.connectionCount(), 3);
    QVERIFY(f.logContains(QStringLiteral("too many connections from this address")));
    for (int i = 0; i < 3; ++i)
        QCOMPARE(clients[size_t(i)]->socket.state(), QAbstractSocket::ConnectedState);
    clients.clear();
    QTRY_COMPARE(f.service.connectionCount(), 0);

    Fixture g([](ServiceConfig &c) {
        c.server.maxConnectionsPerIp = 100;
        c.server.maxConnections = 5;
    });
    for (int i = 0; i < 6; ++i) {
        clients.push_back(std::make_unique<Client>());
        QVERIFY(clients.back()->connectTo(g.port()));
        QTest::qWait(50);
    }
    QVERIFY(clients[5]->closedByServer());
    QVERIFY(g.logContains(QStringLiteral("connection limit reached")));
    QCOMPARE(g.service.connectionCount(), 5);
}

void TestServer::allowlistAndBlocking() {
    Fixture f([](ServiceConfig &c) { c.server.acceptUnknownDevices = false; });
    QSignalSpy refused(&f.service, &TrackerService::deviceRefused);
    {
        Client c;
        QVERIFY(c.connectTo(f.port()));
        c.send(gt06::encodeGpsLbs(1, fixAt(kT0, 1, 1)) + gt06::encodeLogin(kImei, 2));
        QVERIFY(c.closedByServer());
        QVERIFY(c.rx.isEmpty());  // no ack
    }
    QTRY_COMPARE(refused.size(), 1);
    QCOMPARE(refused[0][0].toString(), kImei);
    QTest::qWait(100);
    {
        store::Store s;
        QVERIFY(s.open(f.dbPath()));
        QCOMPARE(s.devices().size(), 0);   // nothing of theirs is stored
        QCOMPARE(s.countFrames(), 0);
    }
    // On the list: accepted.
    store::Device d;
    d.imei = kImei;
    d.name = QStringLiteral("Rex");
    QCOMPARE(f.service.addDevice(d), QString());
    Client ok;
    QVERIFY(ok.connectTo(f.port()));
    ok.send(gt06::encodeLogin(kImei, 3));
    QCOMPARE(ok.take(10).toHex(), gt06::encodeAck(0x01, 3).toHex());
    // Blocked while online: disconnected; later attempts refused, nothing stored.
    store::Device dev = f.service.deviceByImei(kImei)->device;
    dev.state = store::DeviceState::Blocked;
    QCOMPARE(f.service.updateDevice(dev), QString());
    QVERIFY(ok.closedByServer());
    QTest::qWait(100);
    qint64 framesBefore = 0;
    {
        store::Store s;
        QVERIFY(s.open(f.dbPath()));
        framesBefore = s.countFrames();
    }
    Client again;
    QVERIFY(again.connectTo(f.port()));
    again.send(gt06::encodeLogin(kImei, 4) + gt06::encodeGpsLbs(5, fixAt(kT0 + 5, 2, 2)));
    QVERIFY(again.closedByServer());
    QVERIFY(again.rx.isEmpty());
    QTest::qWait(100);
    store::Store s;
    QVERIFY(s.open(f.dbPath()));
    QCOMPARE(s.countFrames(), framesBefore);
    QCOMPARE(s.countPositions({}, {}, {}), 0);
    QCOMPARE(s.deviceByImei(kImei)->name, QStringLiteral("Rex"));
}

void TestServer::restartKeepsDevicesAndHistory() {
    QTemporaryDir dir;
    auto run = [&](int first, int n) {
        TrackerService service;
        ServiceConfig c;
        c.dataDir = dir.path();
        c.server.listeners = {server::ListenSpec{QHostAddress::LocalHost, 0, {}}};
        QString err;
        QVERIFY2(service.start(c, &err), qPrintable(err));
        Client cl;
        QVERIFY(cl.connectTo(service.listening().first().second));
        cl.send(gt06::encodeLogin(kImei, 1));
        QCOMPARE(cl.take(10).size(), 10);
        for (int i = first; i < first + n; ++i) {
            cl.send(gt06::encodeGpsLbs(quint16(i + 2), fixAt(kT0 + i * 60, 48 + i * 0.01, 2)));
            QCOMPARE(cl.take(10).toHex(), gt06::encodeAck(0x22, quint16(i + 2)).toHex());
        }
        service.stop();
    };
    run(0, 3);
    {
        TrackerService service;
        ServiceConfig c;
        c.dataDir = dir.path();
        c.server.listeners = {server::ListenSpec{QHostAddress::LocalHost, 0, {}}};
        QString err;
        QVERIFY(service.start(c, &err));
        const auto d = service.deviceByImei(kImei);
        QVERIFY(d);
        QVERIFY(!d->online);
        QVERIFY(d->lastFix);
        QCOMPARE(d->lastFix->position.time.toSecsSinceEpoch(), kT0 + 2 * 60);
        QCOMPARE(service.store().countPositions({d->device.id}, {}, {}), 3);
    }
    run(3, 2);
    store::Store s;
    QVERIFY(s.open(QDir(dir.path()).filePath(store::Store::fileName())));
    QCOMPARE(s.devices().size(), 1);
    QCOMPARE(s.countPositions({}, {}, {}), 5);
    QCOMPARE(s.integrityCheck(), QStringLiteral("ok"));
}

void TestServer::commandsToOnlineDevices() {
    Fixture f;
    QSignalSpy replies(&f.service, &TrackerService::commandReply);
    Client c;
    QVERIFY(c.connectTo(f.port()));
    c.send(gt06::encodeLogin(kImei, 1));
    QCOMPARE(c.take(10).size(), 10);
    QTRY_VERIFY(f.service.deviceByImei(kImei).has_value());
    const qint64 id = f.service.deviceByImei(kImei)->device.id;
    QCOMPARE(f.service.sendCommand(id, QStringLiteral("WHERE#")), QString());
    // 78 78 LL 80 CL FLAG(4) "WHERE#" SERIAL CRC 0D 0A
    QTRY_VERIFY((c.pump(), c.rx.size() >= 5 && c.rx.size() >= quint8(c.rx[2]) + 5));
    const QByteArray cmd = c.rx;
    c.rx.clear();
    QCOMPARE(quint8(cmd[3]), quint8(0x80));
    QVERIFY(cmd.contains("WHERE#"));
    const quint32 flag = (quint32(quint8(cmd[5])) << 24) | (quint32(quint8(cmd[6])) << 16) | (quint32(quint8(cmd[7])) << 8) | quint8(cmd[8]);
    c.send(gt06::encodeCommandReply(2, flag, QStringLiteral("Lat:N52.1,Lon:E5.1")));
    QTRY_COMPARE(replies.size(), 1);
    QCOMPARE(replies[0][1].toString(), QStringLiteral("Lat:N52.1,Lon:E5.1"));
    // Offline / unknown devices get a clear error.
    QVERIFY(!f.service.sendCommand(id + 100, QStringLiteral("WHERE#")).isEmpty());
    c.socket.disconnectFromHost();
    QTRY_VERIFY(!f.service.deviceByImei(kImei)->online);
    QVERIFY(f.service.sendCommand(id, QStringLiteral("WHERE#")).contains(QLatin1String("offline")));

    // JT/T 808: a 0x8300 text message.
    const auto t = jt808::terminalFromId(QStringLiteral("013800138002"));
    Client j;
    QVERIFY(j.connectTo(f.port()));
    j.send(jt808::encodeHeartbeat(*t, 1));
    QCOMPARE(parseJt808(j.takeJt808()).msgId, jt808::msg::PlatformResponse);
    const QString key = jt808::terminalIdText(t->id);
    QTRY_VERIFY(f.service.deviceByImei(key).has_value());
    QCOMPARE(f.service.sendCommand(f.service.deviceByImei(key)->device.id, QStringLiteral("STATUS#")), QString());
    const Jt808Reply text = parseJt808(j.takeJt808());
    QCOMPARE(text.msgId, jt808::msg::TextMessage);
    QVERIFY(text.body.contains("STATUS#"));

    store::Store s;
    QVERIFY(s.open(f.dbPath()));
    const auto events = s.events(id, {}, {});
    QVERIFY(std::any_of(events.begin(), events.end(), [](const store::Event &e) { return e.kind == QLatin1String("command") && e.detail.contains(QLatin1String("WHERE#")); }));
    QVERIFY(std::any_of(events.begin(), events.end(), [](const store::Event &e) { return e.kind == QLatin1String("command-reply"); }));
    QVERIFY(std::any_of(events.begin(), events.end(), [](const store::Event &e) { return e.kind == QLatin1String("offline"); }));
}

void TestServer::fullStoreIsNotAcknowledged() {
    Fixture f([](ServiceConfig &c) { c.store.maxPageCount = 32; });   // the empty schema and a few rows
    QSignalSpy errors(&f.service, &TrackerService::storeError);
    Client c;
    QVERIFY(c.connectTo(f.port()));
    c.send(gt06::encodeLogin(kImei, 1));
    QCOMPARE(c.take(10).size(), 10);
    int acked = 0;
    bool refused = false;
    for (int i = 0; i < 2000 && !refused; ++i) {
        const quint16 serial = quint16(i + 2);
        c.send(gt06::encodeGpsLbs(serial, fixAt(kT0 + i, 30 + i * 1e-3, 60)));
        const QByteArray ack = c.take(10, 3000);
        if (ack.size() == 10) {
            QCOMPARE(ack.toHex(), gt06::encodeAck(0x22, serial).toHex());
            ++acked;
        } else {
            refused = true;
        }
    }
    QVERIFY(refused);
    QVERIFY(acked > 0);
    QVERIFY(c.closedByServer());
    QTRY_VERIFY(!errors.isEmpty());
    QVERIFY2(errors[0][0].toString().contains(QLatin1String("full"), Qt::CaseInsensitive), qPrintable(errors[0][0].toString()));
    QCOMPARE(countPositions(f.dbPath()), acked);  // every ack is in the store, nothing else
    QVERIFY(f.service.isRunning());
}

void TestServer::simulatorEndToEnd() {
    Fixture f([](ServiceConfig &c) { c.server.maxConnectionsPerIp = 100; });
    QList<AlarmInfo> alarms;
    connect(&f.service, &TrackerService::alarmRaised, this, [&](const AlarmInfo &a) { alarms << a; });
    sim::SimOptions o;
    o.port = f.port();
    o.recordAcked = true;
    o.ackTimeoutMs = 5000;
    sim::Simulator s(o);
    // Topin fixes are played in topinLoginPositionHeartbeat: the Topin framer cuts a GPS frame
    // at a 0D 0A inside its data (no length, no CRC in that dialect), so whether a Topin fix
    // is decodable depends on its coordinates and time; the server then does not ack it.
    const sim::SimProtocol kinds[] = {sim::SimProtocol::Gt06, sim::SimProtocol::Jt808, sim::SimProtocol::Gt06};
    for (int i = 0; i < 15; ++i) {
        sim::DeviceSpec d;
        d.protocol = kinds[i % 3];
        d.id = d.protocol == sim::SimProtocol::Jt808 ? QStringLiteral("0139%1").arg(i, 8, 10, QLatin1Char('0'))
                                                     : QStringLiteral("3580000001%1").arg(i, 5, 10, QLatin1Char('0'));
        d.rate = 30;
        d.count = 60;
        d.heartbeatSec = 1;
        s.addDevice(d);
    }
    int sosSent = 0;
    connect(&s, &sim::Simulator::deviceLoggedIn, this, [&](int i) {
        if (i % 3 != 2 && s.raiseAlarm(QStringLiteral("sos"), i).isEmpty())
            ++sosSent;
    });
    QSignalSpy done(&s, &sim::Simulator::finished);
    s.start();
    QVERIFY(done.wait(60000));
    const sim::SimStats st = s.stats();
    qInfo().noquote() << st.summary();
    QCOMPARE(st.badAcks, 0);
    QCOMPARE(st.unexpectedAcks, 0);
    QCOMPARE(st.fixesUnacked, 0);
    QCOMPARE(st.fixesAcked, 15 * 60 + sosSent);
    QCOMPARE(st.alarmsAcked, sosSent);
    QCOMPARE(sosSent, 10);
    QVERIFY(st.heartbeatsAcked > 0);
    QTRY_COMPARE(alarms.size(), 10);
    QCOMPARE(alarms[0].alarm, QStringLiteral("sos"));
    store::Store db;
    QVERIFY(db.open(f.dbPath()));
    QCOMPARE(db.devices().size(), 15);
    // Every acknowledged fix is in the store, once.
    for (const sim::AckedFix &a : s.ackedFixes()) {
        const auto dev = db.deviceByImei(a.deviceId);
        QVERIFY2(dev, qPrintable(a.deviceId));
        int n = 0;
        db.forEachPosition({dev->id}, a.position.time, a.position.time, {}, [&](const store::StoredPosition &p) {
            if (qAbs(p.position.latitude - a.position.latitude) < 1e-5 && qAbs(p.position.longitude - a.position.longitude) < 1e-5)
                ++n;
            return true;
        });
        if (n != 1)
            QFAIL(qPrintable(QStringLiteral("device %1 fix at %2 (%3, %4)%5: found %6 times")
                                 .arg(a.deviceId, a.position.time.toString(Qt::ISODate)).arg(a.position.latitude, 0, 'f', 6)
                                 .arg(a.position.longitude, 0, 'f', 6).arg(a.alarm ? QStringLiteral(" alarm") : QString()).arg(n)));
    }
    QCOMPARE(db.countPositions({}, {}, {}), 15 * 60 + sosSent);
}

QTEST_GUILESS_MAIN(TestServer)
// A statement or transaction left open on any of the service's connections pins the WAL:
// checkpoints cannot reset it and it grows without bound under traffic (1 GB in 25 s under
// load, every commit slower). After traffic, a TRUNCATE checkpoint from another connection
// must find no reader in its way.
void TestServer::walIsNotPinned() {
    Fixture f;
    Client c;
    QVERIFY(c.connectTo(f.port()));
    c.send(gt06::encodeLogin(kImei, 1));
    QCOMPARE(c.take(10).size(), 10);
    for (int i = 0; i < 20; ++i) {
        c.send(gt06::encodeGpsLbs(quint16(i + 2), fixAt(kT0 + i * 10, 52.1 + i * 0.001, 5.1)));
        QCOMPARE(c.take(10).toHex(), gt06::encodeAck(0x22, quint16(i + 2)).toHex());
    }
    c.send(gt06::encodeHeartbeat(30, 5, 4, true));
    QCOMPARE(c.take(10).size(), 10);
    QTest::qWait(300);   // publishing, device list refresh
    QCOMPARE(test::truncateCheckpointBusy(f.dbPath()), 0);
}

#include "tst_server.moc"
