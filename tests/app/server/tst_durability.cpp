// Nothing acknowledged is ever lost: a real `trackerdesk --headless` child process is
// killed with SIGKILL in the middle of a stream from the simulator, restarted, the
// simulator resends what was not acknowledged, and afterwards every acknowledged fix is
// in the database exactly once (resends recognised), the database is intact, and a
// SIGTERM stops the server cleanly. Twice: with every position row written in the commit
// that precedes its ack, and with the rows of fast devices written in groups (kept in
// positions_pending_batches meanwhile; the restarted server writes what the killed one left).
#include "sim/simulator.h"
#include "store/store.h"

#include <QDir>
#include <QProcess>
#include <QRegularExpression>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimeZone>

#include <csignal>

using namespace td;

namespace {

struct Server {
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
        // "listening on 127.0.0.1:PORT (any protocol)"
        static const QRegularExpression re(QStringLiteral("listening on 127\\.0\\.0\\.1:(\\d+)"));
        return QTest::qWaitFor([&] {
            output += process.readAllStandardOutput();
            const auto m = re.match(QString::fromUtf8(output));
            if (m.hasMatch())
                port = quint16(m.captured(1).toUInt());
            return port != 0 || process.state() == QProcess::NotRunning;
        }, 20000) && port != 0;
    }
    void drain() { output += process.readAllStandardOutput(); }
};

} // namespace

class TestDurability : public QObject {
    Q_OBJECT
private slots:
    void sigkillMidStreamLosesNothingAcknowledged_data();
    void sigkillMidStreamLosesNothingAcknowledged();
};

void TestDurability::sigkillMidStreamLosesNothingAcknowledged_data() {
    QTest::addColumn<bool>("groups");
    QTest::newRow("rows written at once") << false;
    // Groups from the first commits on, written 2 s late: the kill finds many waiting.
    QTest::newRow("rows written in groups") << true;
}

void TestDurability::sigkillMidStreamLosesNothingAcknowledged() {
    QFETCH(bool, groups);
    QTemporaryDir dir;
    QVERIFY(QFile::exists(QStringLiteral(TD_BINARY_DIR "/trackerdesk")));
    {
        // Allow the simulator's many connections from one address.
        QSettings ini(QDir(dir.path()).filePath(QStringLiteral("settings.ini")), QSettings::IniFormat);
        ini.setValue(QStringLiteral("server/maxConnectionsPerIp"), 1000);
        ini.setValue(QStringLiteral("store/deferFromItems"), groups ? 1 : 100000);
        ini.setValue(QStringLiteral("store/deferPositionsMs"), 2000);
    }
    Server server;
    QVERIFY2(server.start(dir.path()), server.process.readAllStandardError().constData());

    sim::SimOptions o;
    o.port = server.port;
    o.recordAcked = true;
    o.ackTimeoutMs = 4000;
    o.reconnectDelayMs = 100;
    o.window = 16;
    o.drainTimeoutMs = 60000;
    sim::Simulator s(o);
    const int devices = 24, perDevice = 300;
    // GT06 and JT/T 808 (see tst_server simulatorEndToEnd for why not Topin).
    const sim::SimProtocol kinds[] = {sim::SimProtocol::Gt06, sim::SimProtocol::Jt808};
    for (int i = 0; i < devices; ++i) {
        sim::DeviceSpec d;
        d.protocol = kinds[i % 2];
        d.id = d.protocol == sim::SimProtocol::Jt808 ? QStringLiteral("0137%1").arg(i, 8, 10, QLatin1Char('0'))
                                                     : QStringLiteral("3570000000%1").arg(i, 5, 10, QLatin1Char('0'));
        d.rate = 150;
        d.count = perDevice;
        d.heartbeatSec = 0;
        s.addDevice(d);
    }
    QSignalSpy finished(&s, &sim::Simulator::finished);
    s.start();

    // Kill the server in the middle of the stream.
    QVERIFY(QTest::qWaitFor([&] { return s.stats().fixesAcked >= devices * perDevice / 4; }, 60000));
    const qint64 ackedBeforeKill = s.stats().fixesAcked;
    ::kill(pid_t(server.process.processId()), SIGKILL);
    QVERIFY(server.process.waitForFinished(10000));
    QCOMPARE(server.process.exitStatus(), QProcess::CrashExit);
    qInfo("killed the server after %lld acknowledged fixes", ackedBeforeKill);
    QTest::qWait(300);  // the devices notice, keep recording, fail to reconnect

    // Restart (another port), point the devices at it: they resend what was not acked.
    QVERIFY2(server.start(dir.path()), server.process.readAllStandardError().constData());
    s.setServer(QStringLiteral("127.0.0.1"), server.port);
    QVERIFY(finished.wait(120000));
    const sim::SimStats st = s.stats();
    qInfo().noquote() << st.summary();
    QCOMPARE(st.badAcks, 0);
    QCOMPARE(st.unexpectedAcks, 0);
    QCOMPARE(st.fixesUnacked, 0);
    QCOMPARE(st.fixesAcked, qint64(devices) * perDevice);
    QVERIFY(st.fixesResent > 0);   // the kill left fixes unacknowledged, sent again
    QVERIFY(st.reconnects >= devices);

    // SIGTERM: a clean shutdown that flushes.
    server.process.terminate();
    QVERIFY(server.process.waitForFinished(20000));
    server.drain();
    QCOMPARE(server.process.exitStatus(), QProcess::NormalExit);
    QCOMPARE(server.process.exitCode(), 0);
    QVERIFY2(server.output.contains("stopped:"), server.output.right(500).constData());
    if (groups) {
        // The restarted server wrote the rows the killed one had left waiting (its exit
        // line on stderr: "store writer: ... N left by a previous run written at start").
        static const QRegularExpression recovered(QStringLiteral("(\\d+) left by a previous run written at start"));
        const QByteArray log = server.process.readAllStandardError();
        const auto m = recovered.match(QString::fromUtf8(log));
        QVERIFY2(m.hasMatch() && m.captured(1).toInt() > 0, log.right(800).constData());
        qInfo("the restarted server wrote %s rows the killed one had left waiting", qPrintable(m.captured(1)));
    }

    store::Store db;
    QVERIFY2(db.open(QDir(dir.path()).filePath(store::Store::fileName())), qPrintable(db.lastError()));
    QCOMPARE(db.integrityCheck(), QStringLiteral("ok"));
    // Every acknowledged fix exactly once; nothing else (resends were recognised).
    QHash<QString, qint64> ids;
    for (const store::Device &d : db.devices())
        ids.insert(d.imei, d.id);
    QCOMPARE(ids.size(), devices);
    const QList<sim::AckedFix> acked = s.ackedFixes();
    QCOMPARE(acked.size(), devices * perDevice);
    for (const sim::AckedFix &a : acked) {
        QVERIFY2(ids.contains(a.deviceId), qPrintable(a.deviceId));
        int n = 0;
        db.forEachPosition({ids.value(a.deviceId)}, a.position.time, a.position.time, {}, [&](const store::StoredPosition &p) {
            if (qAbs(p.position.latitude - a.position.latitude) < 1e-5 && qAbs(p.position.longitude - a.position.longitude) < 1e-5)
                ++n;
            return true;
        });
        if (n != 1)
            QFAIL(qPrintable(QStringLiteral("device %1 fix at %2: found %3 times").arg(a.deviceId, a.position.time.toString(Qt::ISODate)).arg(n)));
    }
    QCOMPARE(db.countPositions({}, {}, {}), qint64(devices) * perDevice);
    // The raw frames show the resends: more inbound position frames than fixes.
    store::FrameFilter inbound;
    inbound.direction = proto::Direction::FromDevice;
    inbound.limit = 0;
    qint64 frames = 0;
    db.forEachFrame(inbound, [&](const store::StoredFrame &) { ++frames; return true; });
    QVERIFY(frames > qint64(devices) * perDevice);
}

QTEST_GUILESS_MAIN(TestDurability)
#include "tst_durability.moc"
