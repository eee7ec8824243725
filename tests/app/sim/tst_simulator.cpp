// The simulator's two transports (transport.h): one QTcpSocket per device, and on Linux
// raw non-blocking sockets in one epoll instance watched by one QSocketNotifier.
//  - each transport on its own, on loopback: bytes in order through a full kernel buffer
//    (the output buffer and EPOLLOUT), bytes from the peer, close by the peer, a refused
//    connection, close() without a report and reopening the same connection;
//  - the simulator against a fake server whose acks are wrong: the same checks and
//    resends on both transports;
//  - the same scenario on both transports against a real `trackerdesk --headless` child
//    that is killed with SIGKILL mid-stream and restarted: every fix acknowledged exactly
//    once in the store, resends after the restart, and the same acknowledged fixes;
//  - `trackerdesk simulate --transport`.
#include "service/trackerservice.h"
#include "sim/simulator.h"
#include "sim/transport.h"
#include "store/store.h"

#include "trackerdesk/protocol/gt06.h"

#include <QDir>
#include <QProcess>
#include <QRegularExpression>
#include <QSettings>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTimeZone>

#include <algorithm>
#include <csignal>

using namespace td;
namespace gt06 = td::proto::gt06;

Q_DECLARE_METATYPE(td::sim::SimTransport)

namespace {

// Records what a transport reports.
struct Recorder : sim::TransportClient {
    QList<int> connected;
    QHash<int, QByteArray> data;
    QList<QPair<int, QString>> closed;
    void transportConnected(int conn) override { connected << conn; }
    void transportData(int conn, const char *d, qsizetype n) override { data[conn].append(d, n); }
    void transportClosed(int conn, const QString &why) override { closed << qMakePair(conn, why); }
};

// Sends back everything it receives, from inside the transport's callbacks (as the
// simulator answers acks with the next fixes), after a greeting on connect.
struct Echo : Recorder {
    sim::Transport *transport = nullptr;
    void transportConnected(int conn) override {
        Recorder::transportConnected(conn);
        transport->send(conn, QByteArrayLiteral("hello "));
    }
    void transportData(int conn, const char *d, qsizetype n) override {
        Recorder::transportData(conn, d, n);
        transport->send(conn, QByteArray(d, n));
    }
};

std::unique_ptr<sim::Transport> makeTransport(sim::SimTransport kind, sim::TransportClient *client) {
#ifdef Q_OS_LINUX
    if (kind == sim::SimTransport::Epoll) {
        QString err;
        auto t = sim::makeEpollTransport(client, &err);
        if (!t)
            qWarning("%s", qPrintable(err));
        return t;
    }
#endif
    Q_UNUSED(kind);
    return sim::makeQtTransport(client);
}

QByteArray pattern(qsizetype size, quint32 seed) {
    QByteArray b(size, Qt::Uninitialized);
    quint32 x = seed;
    for (qsizetype i = 0; i < size; ++i) {
        x = x * 1664525u + 1013904223u;
        b[i] = char(x >> 24);
    }
    return b;
}

void addTransportRows() {
    QTest::addColumn<sim::SimTransport>("transport");
    QTest::newRow("qt") << sim::SimTransport::Qt;
    if (sim::simTransportAvailable(sim::SimTransport::Epoll))
        QTest::newRow("epoll") << sim::SimTransport::Epoll;
}

// A real `trackerdesk --headless` child on 127.0.0.1 (as in tst_durability).
struct ServerProcess {
    QProcess process;
    quint16 port = 0;
    QByteArray output;

    bool start(const QString &dataDir) {
        output.clear();
        port = 0;
        process.setProgram(QStringLiteral(TD_BINARY_DIR "/trackerdesk"));
        process.setArguments({QStringLiteral("--headless"), QStringLiteral("--listen"), QStringLiteral("127.0.0.1"),
                              QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--data-dir"), dataDir,
                              QStringLiteral("--settings"), QDir(dataDir).filePath(QStringLiteral("settings.ini"))});
        process.setProcessChannelMode(QProcess::SeparateChannels);
        process.start();
        if (!process.waitForStarted(10000))
            return false;
        static const QRegularExpression re(QStringLiteral("listening on 127\\.0\\.0\\.1:(\\d+)"));
        return QTest::qWaitFor([&] {
            output += process.readAllStandardOutput();
            const auto m = re.match(QString::fromUtf8(output));
            if (m.hasMatch())
                port = quint16(m.captured(1).toUInt());
            return port != 0 || process.state() == QProcess::NotRunning;
        }, 20000) && port != 0;
    }
};

// What one run of the restart scenario produced.
struct RunResult {
    sim::SimStats stats;
    QStringList acked;        // "device time lat lon [alarm]", sorted
    qint64 ackedBeforeKill = 0;
};

} // namespace

class TestSimulator : public QObject {
    Q_OBJECT
private slots:
    void transportNames();
    void bytesInOrderThroughAFullKernelBuffer_data() { addTransportRows(); }
    void bytesInOrderThroughAFullKernelBuffer();
    void refusedConnectionIsReported_data() { addTransportRows(); }
    void refusedConnectionIsReported();
    void closeReportsNothingAndReopens_data() { addTransportRows(); }
    void closeReportsNothingAndReopens();
    void sendsFromCallbacksKeepTheirOrder_data() { addTransportRows(); }
    void sendsFromCallbacksKeepTheirOrder();
    void wrongAcksAreResentOnBothTransports();
    void restartScenarioIsTheSameOnBothTransports();
    void cliTransportOption();
    void unreachableServerIsReported_data() { addTransportRows(); }
    void unreachableServerIsReported();

private:
    RunResult runRestartScenario(sim::SimTransport transport);
    // Fix times of the restart scenario: the same in both runs (yesterday, to the minute).
    const QDateTime m_startTime = QDateTime::fromSecsSinceEpoch((QDateTime::currentSecsSinceEpoch() - 86400) / 60 * 60, QTimeZone::UTC);
};

void TestSimulator::transportNames() {
    QCOMPARE(sim::simTransportName(sim::SimTransport::Qt), QStringLiteral("qt"));
    QCOMPARE(sim::simTransportName(sim::SimTransport::Epoll), QStringLiteral("epoll"));
    QVERIFY(sim::simTransportFromName(QStringLiteral(" EPOLL ")) == sim::SimTransport::Epoll);
    QVERIFY(sim::simTransportFromName(QStringLiteral("qt")) == sim::SimTransport::Qt);
    QVERIFY(!sim::simTransportFromName(QStringLiteral("select")));
    QVERIFY(!sim::simTransportFromName(QString()));
    QVERIFY(sim::simTransportAvailable(sim::SimTransport::Qt));
#ifdef Q_OS_LINUX
    QVERIFY(sim::defaultSimTransport() == sim::SimTransport::Epoll);
    QVERIFY(sim::simTransportAvailable(sim::SimTransport::Epoll));
#else
    QVERIFY(sim::defaultSimTransport() == sim::SimTransport::Qt);
#endif
    QVERIFY(sim::SimOptions().transport == sim::defaultSimTransport());
}

void TestSimulator::bytesInOrderThroughAFullKernelBuffer() {
    QFETCH(sim::SimTransport, transport);
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Recorder rec;
    auto t = makeTransport(transport, &rec);
    QVERIFY(t);
    QCOMPARE(t->name(), sim::simTransportName(transport));
    const int conn = 7;
    QString err;
    QVERIFY2(t->connectTo(conn, QStringLiteral("127.0.0.1"), server.serverPort(), &err), qPrintable(err));
    QCOMPARE(t->openCount(), 1);
    QVERIFY(QTest::qWaitFor([&] { return !rec.connected.isEmpty(); }, 5000));
    QCOMPARE(rec.connected, QList<int>{conn});
    QTcpSocket *peer = nullptr;
    QVERIFY(QTest::qWaitFor([&] { return (peer = server.nextPendingConnection()) != nullptr; }, 5000));
    // The peer does not read yet: 32 MB cannot all go into the kernel's buffers on loopback.
    QByteArray sent;
    for (int i = 0; i < 512; ++i) {
        const QByteArray chunk = pattern(65536 - 7 * (i % 5), quint32(i));
        t->send(conn, chunk);
        sent += chunk;
    }
    t->send(conn, QByteArray());  // nothing, no harm
    QVERIFY(t->bytesToWrite(conn) > 0);
    // Now the peer reads everything; the transport sends the rest as the kernel takes it.
    QByteArray got;
    QVERIFY(QTest::qWaitFor([&] {
        got += peer->readAll();
        return got.size() >= sent.size();
    }, 60000));
    QCOMPARE(got.size(), sent.size());
    QVERIFY(got == sent);
    QCOMPARE(t->bytesToWrite(conn), qint64(0));
    // The other way: 3 MB from the peer arrive in order.
    const QByteArray back = pattern(3 * 1024 * 1024 + 11, 99);
    peer->write(back);
    QVERIFY(QTest::qWaitFor([&] { return rec.data.value(conn).size() >= back.size(); }, 30000));
    QVERIFY(rec.data.value(conn) == back);
    QVERIFY(rec.closed.isEmpty());
    // The peer closes: reported once, the connection is forgotten.
    peer->close();
    QVERIFY(QTest::qWaitFor([&] { return !rec.closed.isEmpty(); }, 5000));
    QTest::qWait(50);
    QCOMPARE(rec.closed.size(), 1);
    QCOMPARE(rec.closed[0].first, conn);
    QVERIFY(!rec.closed[0].second.isEmpty());
    QCOMPARE(t->openCount(), 0);
    t->send(conn, QByteArrayLiteral("dropped"));  // not open: dropped without a report
    t->close(conn);                               // nothing to close
    QTest::qWait(50);
    QCOMPARE(rec.closed.size(), 1);
    QCOMPARE(rec.connected.size(), 1);
}

void TestSimulator::refusedConnectionIsReported() {
    QFETCH(sim::SimTransport, transport);
    quint16 port = 0;
    {
        QTcpServer probe;  // a port nobody listens on any more
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        port = probe.serverPort();
    }
    Recorder rec;
    auto t = makeTransport(transport, &rec);
    QVERIFY(t);
    QString err;
    const bool started = t->connectTo(0, QStringLiteral("127.0.0.1"), port, &err);
    if (started) {
        QVERIFY(QTest::qWaitFor([&] { return !rec.closed.isEmpty(); }, 10000));
        QCOMPARE(rec.closed.size(), 1);
        QCOMPARE(rec.closed[0].first, 0);
        QVERIFY2(rec.closed[0].second.contains(QLatin1String("refused"), Qt::CaseInsensitive), qPrintable(rec.closed[0].second));
    } else {
        QVERIFY2(err.contains(QLatin1String("refused"), Qt::CaseInsensitive), qPrintable(err));
    }
    QVERIFY(rec.connected.isEmpty());
    QCOMPARE(t->openCount(), 0);
    // A negative connection number is refused with an error, not a crash.
    QVERIFY(!t->connectTo(-1, QStringLiteral("127.0.0.1"), port, &err));
    QVERIFY(!err.isEmpty());
}

void TestSimulator::closeReportsNothingAndReopens() {
    QFETCH(sim::SimTransport, transport);
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Recorder rec;
    auto t = makeTransport(transport, &rec);
    QVERIFY(t);
    QString err;
    // Three connections at once; the second one is closed, then opened again.
    for (int conn : {0, 1, 2})
        QVERIFY2(t->connectTo(conn, QStringLiteral("127.0.0.1"), server.serverPort(), &err), qPrintable(err));
    QCOMPARE(t->openCount(), 3);
    QVERIFY(QTest::qWaitFor([&] { return rec.connected.size() == 3; }, 5000));
    QList<QTcpSocket *> peers;
    QVERIFY(QTest::qWaitFor([&] {
        while (QTcpSocket *p = server.nextPendingConnection())
            peers << p;
        return peers.size() == 3;
    }, 5000));
    for (int conn : {0, 1, 2})
        t->send(conn, QByteArray(1, char('a' + conn)));
    // Each peer gets exactly its byte; the peer of connection 1 answers.
    QByteArray got;
    QVERIFY(QTest::qWaitFor([&] {
        for (QTcpSocket *p : peers)
            got += p->readAll();
        return got.size() == 3;
    }, 5000));
    std::sort(got.begin(), got.end());
    QCOMPARE(got, QByteArrayLiteral("abc"));
    for (QTcpSocket *p : peers)
        p->write(QByteArrayLiteral("hello"));
    t->close(1);  // its answer may be on the way: never reported
    QCOMPARE(t->openCount(), 2);
    QVERIFY(QTest::qWaitFor([&] { return rec.data.value(0) == "hello" && rec.data.value(2) == "hello"; }, 5000));
    QTest::qWait(100);
    QVERIFY(!rec.data.contains(1));
    QVERIFY(rec.closed.isEmpty());
    // The peers see the closed connection; reopening connection 1 is a new connection.
    QVERIFY(t->connectTo(1, QStringLiteral("127.0.0.1"), server.serverPort(), &err));
    QVERIFY(QTest::qWaitFor([&] { return rec.connected.size() == 4; }, 5000));
    QCOMPARE(rec.connected.last(), 1);
    QTcpSocket *again = nullptr;
    QVERIFY(QTest::qWaitFor([&] { return (again = server.nextPendingConnection()) != nullptr; }, 5000));
    again->write(QByteArrayLiteral("new"));
    QVERIFY(QTest::qWaitFor([&] { return rec.data.value(1) == "new"; }, 5000));
    // connectTo() on an open connection closes it first (no report) and opens a new one.
    QVERIFY(t->connectTo(2, QStringLiteral("127.0.0.1"), server.serverPort(), &err));
    QCOMPARE(t->openCount(), 3);
    QVERIFY(QTest::qWaitFor([&] { return rec.connected.size() == 5; }, 5000));
    QTest::qWait(50);
    QVERIFY(rec.closed.isEmpty());
    t.reset();  // closes everything without reports
    QVERIFY(rec.closed.isEmpty());
}

void TestSimulator::sendsFromCallbacksKeepTheirOrder() {
    QFETCH(sim::SimTransport, transport);
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Echo echo;
    auto t = makeTransport(transport, &echo);
    QVERIFY(t);
    echo.transport = t.get();
    QString err;
    // Two connections, so that one batch of ready sockets holds both.
    for (int conn : {0, 1})
        QVERIFY2(t->connectTo(conn, QStringLiteral("127.0.0.1"), server.serverPort(), &err), qPrintable(err));
    QList<QTcpSocket *> peers;
    QVERIFY(QTest::qWaitFor([&] {
        while (QTcpSocket *p = server.nextPendingConnection())
            peers << p;
        return peers.size() == 2;
    }, 5000));
    // Many small messages in several bursts; each peer gets its greeting, then every
    // message back, in order.
    QByteArray expected[2];
    for (int burst = 0; burst < 20; ++burst) {
        for (int k = 0; k < 2; ++k) {
            QByteArray chunk;
            for (int m = 0; m < 50; ++m)
                chunk += QStringLiteral("peer %1 burst %2 message %3;").arg(k).arg(burst).arg(m).toLatin1();
            peers[k]->write(chunk);
            expected[k] += chunk;
        }
        QTest::qWait(5);
    }
    QByteArray got[2];
    QVERIFY(QTest::qWaitFor([&] {
        for (int k = 0; k < 2; ++k)
            got[k] += peers[k]->readAll();
        return got[0].size() >= expected[0].size() + 6 && got[1].size() >= expected[1].size() + 6;
    }, 20000));
    for (int k = 0; k < 2; ++k) {
        QVERIFY(got[k].startsWith("hello "));
        QCOMPARE(got[k].size(), expected[k].size() + 6);
        QVERIFY(got[k].mid(6) == expected[k]);
    }
    QVERIFY(echo.closed.isEmpty());
    QCOMPARE(t->bytesToWrite(0), qint64(0));
    QCOMPARE(t->bytesToWrite(1), qint64(0));
}

// A fake GT06 server that acknowledges the login and answers every fix with an ack for a
// serial that was never sent: on both transports every such ack is counted, nothing is
// counted as acknowledged, and the devices reconnect and resend after the ack timeout.
void TestSimulator::wrongAcksAreResentOnBothTransports() {
    QList<sim::SimStats> results;
    for (sim::SimTransport transport : {sim::SimTransport::Qt, sim::SimTransport::Epoll}) {
        if (!sim::simTransportAvailable(transport))
            continue;
        QTcpServer server;
        QVERIFY(server.listen(QHostAddress::LocalHost, 0));
        QHash<QTcpSocket *, QByteArray> rx;
        int logins = 0, fixes = 0;
        connect(&server, &QTcpServer::newConnection, &server, [&] {
            while (QTcpSocket *peer = server.nextPendingConnection()) {
                connect(peer, &QTcpSocket::readyRead, peer, [&, peer] {
                    QByteArray &b = rx[peer];
                    b += peer->readAll();
                    while (b.size() >= 5 && b[0] == 0x78 && b[1] == 0x78 && b.size() >= quint8(b[2]) + 5) {
                        const int total = quint8(b[2]) + 5;
                        const int type = quint8(b[3]);
                        const quint16 serial = quint16((quint8(b[total - 6]) << 8) | quint8(b[total - 5]));
                        b.remove(0, total);
                        if (type == 0x01) {
                            ++logins;
                            peer->write(gt06::encodeAck(0x01, serial));
                        } else {
                            ++fixes;
                            peer->write(gt06::encodeAck(quint8(type), quint16(serial ^ 0x5555)));
                        }
                    }
                });
            }
        });
        sim::SimOptions o;
        o.port = server.serverPort();
        o.transport = transport;
        o.ackTimeoutMs = 400;
        o.reconnectDelayMs = 50;
        o.drainTimeoutMs = 1500;
        o.window = 4;
        sim::Simulator s(o);
        for (int i = 0; i < 3; ++i) {
            sim::DeviceSpec d;
            d.id = QStringLiteral("35600000000%1").arg(i, 4, 10, QLatin1Char('0'));
            d.rate = 50;
            d.count = 4;
            d.heartbeatSec = 0;
            s.addDevice(d);
        }
        QSignalSpy done(&s, &sim::Simulator::finished);
        s.start();
        QVERIFY(done.wait(30000));
        const sim::SimStats st = s.stats();
        qInfo().noquote() << st.summary();
        QCOMPARE(st.transport, sim::simTransportName(transport));
        QCOMPARE(st.fixesAcked, 0);
        QCOMPARE(st.fixesSent, 12);
        QCOMPARE(st.fixesUnacked, 12);
        QVERIFY(st.fixesResent >= 12);       // every fix again after at least one reconnect
        QVERIFY(st.reconnects >= 3);
        QVERIFY(st.logins >= 6);
        // Each wrong ack is seen and counted (but those in flight when the run ended).
        QVERIFY(fixes >= 24);
        QVERIFY2(st.unexpectedAcks >= 24 && st.unexpectedAcks <= fixes, qPrintable(QString::number(st.unexpectedAcks)));
        QVERIFY(st.logins <= logins);
        QCOMPARE(st.badAcks, 0);
        QVERIFY(!st.problems.isEmpty());
        QVERIFY2(st.problems[0].contains(QLatin1String("an ack for nothing sent")), qPrintable(st.problems[0]));
        results << st;
    }
    QVERIFY(!results.isEmpty());
    for (const sim::SimStats &st : results) {
        QCOMPARE(st.fixesSent, results[0].fixesSent);
        QCOMPARE(st.fixesAcked, results[0].fixesAcked);
        QCOMPARE(st.fixesUnacked, results[0].fixesUnacked);
    }
}

RunResult TestSimulator::runRestartScenario(sim::SimTransport transport) {
    RunResult r;
    QTemporaryDir dir;
    {
        QSettings ini(QDir(dir.path()).filePath(QStringLiteral("settings.ini")), QSettings::IniFormat);
        ini.setValue(QStringLiteral("server/maxConnectionsPerIp"), 1000);
    }
    ServerProcess server;
    if (!server.start(dir.path())) {
        QTest::qFail("cannot start trackerdesk --headless", __FILE__, __LINE__);
        return r;
    }
    sim::SimOptions o;
    o.port = server.port;
    o.transport = transport;
    o.recordAcked = true;
    o.ackTimeoutMs = 4000;
    o.reconnectDelayMs = 100;
    o.window = 16;
    o.drainTimeoutMs = 60000;
    // Fixed fix times: both runs generate the very same fixes.
    o.startTime = m_startTime;
    sim::Simulator s(o);
    const int devices = 20, perDevice = 200;
    for (int i = 0; i < devices; ++i) {
        sim::DeviceSpec d;
        d.protocol = i % 2 ? sim::SimProtocol::Jt808 : sim::SimProtocol::Gt06;
        d.id = d.protocol == sim::SimProtocol::Jt808 ? QStringLiteral("0136%1").arg(i, 8, 10, QLatin1Char('0'))
                                                     : QStringLiteral("3560000000%1").arg(i, 5, 10, QLatin1Char('0'));
        d.rate = 100;
        d.count = perDevice;
        d.heartbeatSec = 0;
        s.addDevice(d);
    }
    QSignalSpy finished(&s, &sim::Simulator::finished);
    s.start();
    if (!QTest::qWaitFor([&] { return s.stats().fixesAcked >= devices * perDevice / 3; }, 60000)) {
        QTest::qFail("no progress before the kill", __FILE__, __LINE__);
        return r;
    }
    r.ackedBeforeKill = s.stats().fixesAcked;
    ::kill(pid_t(server.process.processId()), SIGKILL);
    server.process.waitForFinished(10000);
    QTest::qWait(300);  // the devices notice, keep recording, fail to reconnect
    if (!server.start(dir.path())) {
        QTest::qFail("cannot restart trackerdesk --headless", __FILE__, __LINE__);
        return r;
    }
    s.setServer(QStringLiteral("127.0.0.1"), server.port);
    if (!finished.wait(120000)) {
        QTest::qFail("the simulator did not finish", __FILE__, __LINE__);
        return r;
    }
    r.stats = s.stats();
    qInfo().noquote() << r.stats.summary();
    server.process.terminate();
    server.process.waitForFinished(20000);

    // Every acknowledged fix is in the store exactly once, nothing else.
    store::Store db;
    if (!db.open(QDir(dir.path()).filePath(store::Store::fileName()))) {
        QTest::qFail(qPrintable(db.lastError()), __FILE__, __LINE__);
        return r;
    }
    QHash<QString, qint64> ids;
    for (const store::Device &d : db.devices())
        ids.insert(d.imei, d.id);
    for (const sim::AckedFix &a : s.ackedFixes()) {
        int n = 0;
        db.forEachPosition({ids.value(a.deviceId, -1)}, a.position.time, a.position.time, {}, [&](const store::StoredPosition &p) {
            if (qAbs(p.position.latitude - a.position.latitude) < 1e-5 && qAbs(p.position.longitude - a.position.longitude) < 1e-5)
                ++n;
            return true;
        });
        if (n != 1) {
            QTest::qFail(qPrintable(QStringLiteral("%1: device %2 fix at %3 found %4 times").arg(sim::simTransportName(transport), a.deviceId,
                                                                                               a.position.time.toString(Qt::ISODate)).arg(n)),
                         __FILE__, __LINE__);
            return r;
        }
        r.acked << QStringLiteral("%1 %2 %3 %4%5").arg(a.deviceId, a.position.time.toString(Qt::ISODate))
                       .arg(a.position.latitude, 0, 'f', 6).arg(a.position.longitude, 0, 'f', 6)
                       .arg(a.alarm ? QStringLiteral(" alarm") : QString());
    }
    if (db.countPositions({}, {}, {}) != qint64(devices) * perDevice)
        QTest::qFail(qPrintable(QStringLiteral("%1 positions in the store").arg(db.countPositions({}, {}, {}))), __FILE__, __LINE__);
    std::sort(r.acked.begin(), r.acked.end());
    return r;
}

void TestSimulator::restartScenarioIsTheSameOnBothTransports() {
    QVERIFY(QFile::exists(QStringLiteral(TD_BINARY_DIR "/trackerdesk")));
    QList<sim::SimTransport> kinds{sim::SimTransport::Qt};
    if (sim::simTransportAvailable(sim::SimTransport::Epoll))
        kinds << sim::SimTransport::Epoll;
    QList<RunResult> runs;
    for (sim::SimTransport kind : kinds) {
        runs << runRestartScenario(kind);
        if (QTest::currentTestFailed())
            return;
        const RunResult &r = runs.last();
        const QString name = sim::simTransportName(kind);
        QCOMPARE(r.stats.transport, name);
        QCOMPARE(r.stats.badAcks, 0);
        QCOMPARE(r.stats.unexpectedAcks, 0);
        QCOMPARE(r.stats.fixesUnacked, 0);
        QCOMPARE(r.stats.fixesAcked, 20 * 200);
        QCOMPARE(r.stats.fixesSent, 20 * 200);
        QVERIFY2(r.stats.fixesResent > 0, qPrintable(name));  // the kill left fixes unacked
        QVERIFY2(r.stats.reconnects >= 20, qPrintable(name));
        QCOMPARE(r.acked.size(), 20 * 200);
    }
    // Both transports acknowledged the very same fixes (same devices, times, positions).
    for (int i = 1; i < runs.size(); ++i) {
        QCOMPARE(runs[i].stats.fixesAcked, runs[0].stats.fixesAcked);
        QCOMPARE(runs[i].stats.logins >= 2 * 20, runs[0].stats.logins >= 2 * 20);
        QCOMPARE(runs[i].acked, runs[0].acked);
    }
}

void TestSimulator::cliTransportOption() {
    const QString binary = QStringLiteral(TD_BINARY_DIR "/trackerdesk");
    QVERIFY(QFile::exists(binary));
    auto run = [&](const QStringList &args, QByteArray *out, QByteArray *err) {
        QProcess p;
        p.start(binary, QStringList{QStringLiteral("simulate")} + args);
        // Keep this event loop turning: the server below lives in this process.
        const bool ended = p.waitForStarted(10000) && QTest::qWaitFor([&] { return p.state() == QProcess::NotRunning; }, 60000);
        if (!ended) {
            p.kill();
            p.waitForFinished(5000);
        }
        *out = p.readAllStandardOutput();
        *err = p.readAllStandardError();
        return ended && p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    };
    QByteArray out, err;
    QCOMPARE(run({QStringLiteral("--transport"), QStringLiteral("select")}, &out, &err), 2);
    QVERIFY2(err.contains("--transport takes epoll or qt, not 'select'"), err.constData());
    QCOMPARE(run({QStringLiteral("--help")}, &out, &err), 0);
    QVERIFY2(out.contains("--transport"), out.constData());

    QTemporaryDir dir;
    TrackerService service;
    ServiceConfig c;
    c.dataDir = dir.path();
    c.server.listeners = {server::ListenSpec{QHostAddress::LocalHost, 0, {}}};
    QString startError;
    QVERIFY2(service.start(c, &startError), qPrintable(startError));
    const QString port = QString::number(service.listening().value(0).second);
    QStringList kinds{QStringLiteral("qt")};
    if (sim::simTransportAvailable(sim::SimTransport::Epoll))
        kinds << QStringLiteral("epoll");
    int i = 0;
    for (const QString &kind : kinds) {
        const QString imei = QStringLiteral("35500000000%1").arg(++i * 10, 4, 10, QLatin1Char('0'));
        QCOMPARE(run({QStringLiteral("--port"), port, QStringLiteral("--devices"), QStringLiteral("2"), QStringLiteral("--count"),
                      QStringLiteral("5"), QStringLiteral("--rate"), QStringLiteral("20"), QStringLiteral("--quiet"),
                      QStringLiteral("--imei"), imei, QStringLiteral("--transport"), kind},
                     &out, &err),
                 0);
        QVERIFY2(out.contains(QStringLiteral("(%1 transport)").arg(kind).toUtf8()), out.constData());
        QVERIFY2(out.contains(QStringLiteral(", transport %1").arg(kind).toUtf8()), out.constData());
        QVERIFY2(out.contains("10 generated, 10 sent, 0 resent, 10 acked, 0 not acked"), out.constData());
    }
    // Without --transport: the platform's default.
    QCOMPARE(run({QStringLiteral("--port"), port, QStringLiteral("--count"), QStringLiteral("3"), QStringLiteral("--rate"),
                  QStringLiteral("20"), QStringLiteral("--quiet"), QStringLiteral("--imei"), QStringLiteral("355000000009990")},
                 &out, &err),
             0);
    QVERIFY2(out.contains(QStringLiteral(", transport %1").arg(sim::simTransportName(sim::defaultSimTransport())).toUtf8()), out.constData());
    service.stop();
}

// Nobody listens: every failed attempt is reported (connected = false, the reason), the
// device keeps retrying and logs in once a server appears; when that server goes away the
// loss of the established connection is reported too. The CLI prints the first problem at
// once and then at most one line per 5 s.
void TestSimulator::unreachableServerIsReported() {
    QFETCH(sim::SimTransport, transport);
    quint16 port = 0;
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        port = probe.serverPort();
    }
    sim::SimOptions o;
    o.port = port;
    o.transport = transport;
    o.reconnectDelayMs = 50;
    o.drainTimeoutMs = 1000;
    sim::Simulator s(o);
    sim::DeviceSpec d;
    d.id = QStringLiteral("356000000009001");
    d.rate = 20;
    d.heartbeatSec = 0;
    s.addDevice(d);
    QSignalSpy lost(&s, &sim::Simulator::connectionLost);
    QSignalSpy logins(&s, &sim::Simulator::deviceLoggedIn);
    s.start();
    QVERIFY(QTest::qWaitFor([&] { return lost.size() >= 2; }, 10000));   // it keeps trying
    for (const QList<QVariant> &args : std::as_const(lost)) {
        QCOMPARE(args.at(0).toInt(), 0);
        QVERIFY2(args.at(1).toString().contains(QLatin1String("refused"), Qt::CaseInsensitive), qPrintable(args.at(1).toString()));
        QCOMPARE(args.at(2).toBool(), false);
    }
    QCOMPARE(logins.size(), 0);

    // A server appears on that port: the device logs in; the server stops: reported as lost.
    QTemporaryDir dir;
    auto service = std::make_unique<TrackerService>();
    ServiceConfig c;
    c.dataDir = dir.path();
    c.server.listeners = {server::ListenSpec{QHostAddress::LocalHost, port, {}}};
    QString startError;
    QVERIFY2(service->start(c, &startError), qPrintable(startError));
    QVERIFY(QTest::qWaitFor([&] { return logins.size() >= 1; }, 10000));
    lost.clear();
    service->stop();
    QVERIFY(QTest::qWaitFor([&] { return !lost.isEmpty(); }, 10000));
    QCOMPARE(lost.first().at(2).toBool(), true);
    QVERIFY2(!lost.first().at(1).toString().isEmpty(), "no reason given");
    s.stop();

    if (transport != sim::defaultSimTransport())
        return;
    // The CLI: one line with the address and the reason, not one per attempt.
    QProcess p;
    p.start(QStringLiteral(TD_BINARY_DIR "/trackerdesk"),
            {QStringLiteral("simulate"), QStringLiteral("--port"), QString::number(port), QStringLiteral("--devices"), QStringLiteral("3"),
             QStringLiteral("--rate"), QStringLiteral("5"), QStringLiteral("--quiet")});
    QVERIFY(p.waitForStarted(10000));
    QByteArray out;
    const QByteArray expected = "cannot connect to 127.0.0.1:" + QByteArray::number(port);
    QVERIFY(QTest::qWaitFor([&] { out += p.readAllStandardOutput(); return out.contains(expected); }, 15000));
    QTest::qWait(1500);   // several more failed attempts (3 devices, back-off up to 2 s)
    out += p.readAllStandardOutput();
    ::kill(pid_t(p.processId()), SIGINT);
    QVERIFY(QTest::qWaitFor([&] { out += p.readAllStandardOutput(); return out.contains("no tracker connected"); }, 10000));
    ::kill(pid_t(p.processId()), SIGINT);
    QVERIFY(p.waitForFinished(10000));
    out += p.readAllStandardOutput();
    QCOMPARE(p.exitCode(), 1);   // fixes were never acknowledged
    // At most one line per 5 s (a slow machine may cross that once), far fewer than attempts.
    QVERIFY2(out.count(expected) >= 1 && out.count(expected) <= 2, out.constData());
    const QRegularExpressionMatch failed = QRegularExpression(QStringLiteral("(\\d+) failed attempts")).match(QString::fromUtf8(out));
    QVERIFY2(failed.hasMatch() && failed.captured(1).toInt() >= 4, out.constData());
    QVERIFY2(out.contains("refused") || out.contains("Refused"), out.constData());
    QVERIFY2(out.contains("0 acked"), out.constData());
}

QTEST_GUILESS_MAIN(TestSimulator)
#include "tst_simulator.moc"
