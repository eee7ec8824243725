// bench_server: the live server under load, against the raw SQLite baseline, in one run.
//
//  1. baseline: the same position rows inserted straight into SQLite (same table, same
//     prepared INSERT, synchronous=FULL like the server), one transaction per batch.
//  2. load: a real `trackerdesk --headless` child on 127.0.0.1; 1,000 simulated GT06
//     trackers (the simulator, one thread, in this process) at a given rate; measured
//     after the ramp-up: acknowledged fixes/s, ack latency p50/p99, server CPU, peak RSS.
//     Once at the target rate (20,000 fixes/s offered) and once saturated.
//  3. idle: 10,000 logged-in idle connections held; server RSS per connection.
//
//   bench_server [--trackerdesk PATH] [--devices 1000] [--rate 20] [--saturate-rate 100]
//                [--seconds 20] [--idle 10000] [--baseline-rows 600000] [--dir DIR]
//                [--transport epoll|qt] [--coalesce-us N] [--skip-baseline] [--skip-saturated]
//                [--timeline] [--setting KEY=VALUE ...]
// --timeline prints every second of the load runs (acked fixes, latency p50/p99/max);
// --setting passes a server setting (e.g. store/synchronous=normal) to compare configurations.
#include "headless/headless.h"
#include "sim/simulator.h"
#include "store/sqlitenative.h"
#include "store/store.h"

#include <QAbstractEventDispatcher>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QMap>
#include <QProcess>
#include <QRegularExpression>
#include <QSettings>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>
#include <QTimeZone>

#include <cstdio>
#include <sys/resource.h>
#include <unistd.h>

using namespace td;

namespace {

void out(const QString &s) {
    std::fputs(qPrintable(s + QLatin1Char('\n')), stdout);
    std::fflush(stdout);
}

// Runs the event loop for ms milliseconds, waiting for events like any Qt program (a loop
// of processEvents() would never block: it would spin, and each turn of Qt's dispatcher
// poll()s every socket -- the simulator's CPU would measure this loop, not the traffic).
void waitMs(int ms) {
    QEventLoop loop;
    QTimer::singleShot(ms, Qt::PreciseTimer, &loop, &QEventLoop::quit);
    loop.exec();
}

// CPU seconds of a process: user and system (kernel: on loopback the TCP work of a send
// is largely done in the sender's system time).
struct Cpu {
    double user = 0, system = 0;
    double total() const { return user + system; }
    Cpu operator-(const Cpu &o) const { return Cpu{user - o.user, system - o.system}; }
};

// From /proc/PID/stat (all threads).
Cpu cpuOf(qint64 pid) {
    QFile f(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const QByteArray s = f.readAll();
    const QList<QByteArray> parts = s.mid(s.lastIndexOf(')') + 2).split(' ');
    if (parts.size() < 13)
        return {};
    const double tick = double(sysconf(_SC_CLK_TCK));
    return Cpu{parts[11].toDouble() / tick, parts[12].toDouble() / tick};
}

// CPU seconds of each of a process's threads, summed by thread name (/proc/PID/task/*/stat):
// "trackerdesk" is the main (network) thread, "td-writer" the store's writer, ...
QMap<QString, Cpu> threadCpuOf(qint64 pid) {
    QMap<QString, Cpu> out;
    const double tick = double(sysconf(_SC_CLK_TCK));
    const QStringList tasks = QDir(QStringLiteral("/proc/%1/task").arg(pid)).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString &tid : tasks) {
        QFile f(QStringLiteral("/proc/%1/task/%2/stat").arg(pid).arg(tid));
        if (!f.open(QIODevice::ReadOnly))
            continue;
        const QByteArray s = f.readAll();
        const qsizetype open = s.indexOf('('), close = s.lastIndexOf(')');
        const QList<QByteArray> parts = s.mid(close + 2).split(' ');
        if (open < 0 || close < open || parts.size() < 13)
            continue;
        Cpu &c = out[QString::fromUtf8(s.mid(open + 1, close - open - 1))];
        c.user += parts[11].toDouble() / tick;
        c.system += parts[12].toDouble() / tick;
    }
    return out;
}

// A field of /proc/PID/status in kB ("VmRSS", "VmHWM").
qint64 statusKb(qint64 pid, const char *field) {
    QFile f(QStringLiteral("/proc/%1/status").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &line : f.readAll().split('\n'))
        if (line.startsWith(field))
            return line.mid(qstrlen(field) + 1).trimmed().split(' ').first().toLongLong();
    return 0;
}

// The machine's CPU time from /proc/stat's "cpu" line, in ticks: busy (user, nice, system,
// irq, softirq), idle (idle, iowait), and steal (time the hypervisor gave the virtual CPUs
// to someone else: on a shared VM the main source of latency outliers).
struct MachineCpu {
    double busy = 0, idle = 0, steal = 0;
    double total() const { return busy + idle + steal; }
};

MachineCpu machineCpu() {
    QFile f(QStringLiteral("/proc/stat"));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const QList<QByteArray> v = f.readLine().simplified().split(' ');
    if (v.size() < 9 || v[0] != "cpu")
        return {};
    MachineCpu m;
    m.busy = v[1].toDouble() + v[2].toDouble() + v[3].toDouble() + v[6].toDouble() + v[7].toDouble();
    m.idle = v[4].toDouble() + v[5].toDouble();
    m.steal = v[8].toDouble();
    return m;
}

// Steal as % of the machine's CPU time between two samples.
double stealPercent(const MachineCpu &a, const MachineCpu &b) {
    const double total = b.total() - a.total();
    return total > 0 ? 100.0 * (b.steal - a.steal) / total : 0;
}

Cpu selfCpu() {
    rusage r{};
    getrusage(RUSAGE_SELF, &r);
    return Cpu{r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6, r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6};
}

// Extra server settings from --setting KEY=VALUE.
QList<QPair<QString, QString>> g_extraSettings;

struct ServerProcess {
    QProcess process;
    quint16 port = 0;
    QString log;
    bool start(const QString &binary, const QString &dataDir) {
        QDir().mkpath(dataDir);
        const QString ini = QDir(dataDir).filePath(QStringLiteral("settings.ini"));
        {
            QSettings s(ini, QSettings::IniFormat);
            s.setValue(QStringLiteral("server/maxConnections"), 20000);
            s.setValue(QStringLiteral("server/maxConnectionsPerIp"), 20000);
            for (const auto &kv : std::as_const(g_extraSettings))
                s.setValue(kv.first, kv.second);
        }
        log = QDir(dataDir).filePath(QStringLiteral("server.log"));
        process.setProgram(binary);
        process.setArguments({QStringLiteral("--headless"), QStringLiteral("--listen"), QStringLiteral("127.0.0.1"), QStringLiteral("--port"),
                              QStringLiteral("0"), QStringLiteral("--data-dir"), dataDir, QStringLiteral("--settings"), ini});
        // One line per connection and fix goes to a file, as a headless server would log.
        process.setStandardOutputFile(log);
        process.setStandardErrorFile(log + QStringLiteral(".err"));
        process.start();
        if (!process.waitForStarted(10000))
            return false;
        static const QRegularExpression re(QStringLiteral("listening on 127\\.0\\.0\\.1:(\\d+)"));
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < 20000 && process.state() == QProcess::Running) {
            QFile f(log);
            if (f.open(QIODevice::ReadOnly)) {
                const auto m = re.match(QString::fromUtf8(f.read(4096)));
                if (m.hasMatch()) {
                    port = quint16(m.captured(1).toUInt());
                    return true;
                }
            }
            QThread::msleep(20);
        }
        return false;
    }
    void stop() {
        process.terminate();
        if (!process.waitForFinished(30000))
            process.kill();
        process.waitForFinished(5000);
    }
    qint64 pid() const { return process.processId(); }
};

struct BaselineResult {
    qint64 rows = 0;
    double seconds = 0;
    double rowsPerSec() const { return seconds > 0 ? rows / seconds : 0; }
};

// The same rows the server stores per fix, straight into SQLite: the positions table of
// the store's own schema, the server's prepared INSERT, one transaction per batch.
BaselineResult baseline(const QString &dir, int devices, qint64 rows, int batch) {
    BaselineResult r;
    const QString path = QDir(dir).filePath(QStringLiteral("baseline.db"));
    {
        store::Store s;  // creates the schema (WAL, synchronous=FULL)
        if (!s.open(path)) {
            out(QStringLiteral("baseline: ") + s.lastError());
            return r;
        }
    }
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("baseline"));
        db.setDatabaseName(path);
        db.open();
        QSqlQuery pragma(db);
        pragma.exec(QStringLiteral("PRAGMA journal_mode=WAL"));
        pragma.exec(QStringLiteral("PRAGMA synchronous=FULL"));
        pragma.exec(QStringLiteral("PRAGMA cache_size=-16384"));
        static const char kInsert[] =
            "INSERT OR IGNORE INTO positions(device_id, fix_time, ckey, server_time, lat, lon, altitude, speed,"
            " course, satellites, valid, source, accuracy, network, frame_id) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
        // Raw SQLite: the C API (sqlite3_bind_* / sqlite3_step) on the connection, as the
        // server's writer does. Binding through QSqlQuery would cost as much CPU as SQLite
        // itself and make the baseline look slow.
        void *handle = nullptr;
        const store::NativeApi *api = store::NativeApi::get(db, &handle);
        if (!api) {
            out(QStringLiteral("baseline: the SQLite C API of the Qt driver is not available"));
            return r;
        }
        store::NativeStatement q(api, handle);
        QString err;
        if (!q.prepare(kInsert, &err)) {
            out(QStringLiteral("baseline: ") + err);
            return r;
        }
        const qint64 t0 = QDateTime::currentMSecsSinceEpoch() - 86400000LL * 30;
        QElapsedTimer t;
        t.start();
        qint64 n = 0;
        while (n < rows) {
            db.transaction();
            for (int i = 0; i < batch && n < rows; ++i, ++n) {
                const int d = int(n % devices);
                const qint64 k = n / devices;
                q.bind(1, qint64(d + 1));
                q.bind(2, t0 + k * 1000);
                q.bind(3, qint64((n * 2654435761LL) & 0x7fffffffffffLL));
                q.bind(4, t0 + k * 1000 + 50);
                q.bind(5, 52.0 + d * 0.001 + k * 1e-6);
                q.bind(6, 5.0 + k * 1e-6);
                q.bind(7, 5.0);
                q.bind(8, 30.0);
                q.bind(9, 90.0);
                q.bind(10, 9);
                q.bind(11, 1);
                q.bind(12, 0);
                q.bindNull(13);
                q.bindNull(14);
                q.bind(15, n + 1);
                if (!q.exec(&err)) {
                    out(QStringLiteral("baseline insert failed: ") + err);
                    return r;
                }
            }
            db.commit();
        }
        r.seconds = t.nsecsElapsed() / 1e9;
        r.rows = n;
    }
    QSqlDatabase::removeDatabase(QStringLiteral("baseline"));
    return r;
}

struct LoadResult {
    double offered = 0;
    double ackedPerSec = 0;
    double p50 = 0, p99 = 0, max = 0;
    double serverCpu = 0;   // % of one core
    double simCpu = 0;
    double serverSysCpu = 0, simSysCpu = 0;  // of which system time, % of one core
    double simWakeups = 0;  // per second: wake-ups of the simulator's event loop
    double stealPercent = 0;   // hypervisor steal, % of the machine's CPU time
    double otherCpu = 0;       // busy CPU of everything but server and simulator, % of one core
    QMap<QString, double> threadCpu;  // % of one core per server thread name
    qint64 peakRssKb = 0;
    qint64 unacked = 0;
    qint64 badAcks = 0;
    QString writer;         // the server's group-commit figures (from its log)
    QString ackDelay;       // the server's own ack delay, read -> ack written (from its log)
    bool ok = false;
};

struct SimSetup {
    sim::SimTransport transport = sim::defaultSimTransport();
    int coalesceUs = 0;
    bool timeline = false;
};

LoadResult load(const QString &binary, const QString &dir, int devices, double rate, int seconds, int window, const SimSetup &setup) {
    LoadResult r;
    r.offered = devices * rate;
    ServerProcess server;
    if (!server.start(binary, dir)) {
        out(QStringLiteral("load: cannot start %1").arg(binary));
        return r;
    }
    sim::SimOptions o;
    o.port = server.port;
    o.window = window;
    o.connectRate = 2000;
    o.ackTimeoutMs = 30000;
    o.durationSec = seconds + 5;
    o.coalesceUs = setup.coalesceUs;
    o.transport = setup.transport;
    o.startAtLogin = true;
    sim::Simulator s(o);
    for (int i = 0; i < devices; ++i) {
        sim::DeviceSpec d;
        d.id = QStringLiteral("35%1").arg(i, 13, 10, QLatin1Char('0'));
        d.rate = rate;
        d.heartbeatSec = 60;
        s.addDevice(d);
    }
    s.start();
    // Ramp-up: everyone logged in and a few seconds of traffic.
    QElapsedTimer ramp;
    ramp.start();
    while (s.stats().logins < devices && ramp.elapsed() < 30000)
        waitMs(50);
    waitMs(3000);
    s.clearLatencies();
    const sim::SimStats a = s.stats();
    const Cpu cpuA = cpuOf(server.pid()), simA = selfCpu();
    const QMap<QString, Cpu> threadsA = threadCpuOf(server.pid());
    const MachineCpu machineA = machineCpu();
    qint64 wakeups = 0;
    const QMetaObject::Connection counter =
        QObject::connect(QAbstractEventDispatcher::instance(), &QAbstractEventDispatcher::awake, [&wakeups] { ++wakeups; });
    QElapsedTimer t;
    t.start();
    if (setup.timeline) {
        // One line a second: fixes acked in that second and their ack latencies.
        std::vector<float> second;
        const QMetaObject::Connection acks = QObject::connect(&s, &sim::Simulator::fixAcked,
                                                              [&second](int, double ms) { second.push_back(float(ms)); });
        MachineCpu before = machineA;
        for (int i = 0; i < seconds; ++i) {
            waitMs(1000);
            const MachineCpu now = machineCpu();
            std::sort(second.begin(), second.end());
            auto at = [&second](double q) { return second.empty() ? 0.0 : double(second[size_t(q * double(second.size() - 1))]); };
            out(QStringLiteral("  t=%1 s: %2 acked, latency p50 %3 ms p99 %4 ms max %5 ms, steal %6 %")
                    .arg(i + 1, 2).arg(second.size(), 6).arg(at(0.5), 7, 'f', 1).arg(at(0.99), 7, 'f', 1).arg(at(1.0), 7, 'f', 1)
                    .arg(stealPercent(before, now), 4, 'f', 1));
            second.clear();
            before = now;
        }
        QObject::disconnect(acks);
    } else {
        waitMs(seconds * 1000);
    }
    const sim::SimStats b = s.stats();
    const double wall = t.nsecsElapsed() / 1e9;
    QObject::disconnect(counter);
    const Cpu serverCpu = cpuOf(server.pid()) - cpuA, simCpu = selfCpu() - simA;
    const MachineCpu machineB = machineCpu();
    r.stealPercent = stealPercent(machineA, machineB);
    const double tick = double(sysconf(_SC_CLK_TCK));
    const QMap<QString, Cpu> threadsB = threadCpuOf(server.pid());
    for (auto it = threadsB.cbegin(); it != threadsB.cend(); ++it)
        r.threadCpu[it.key()] = 100.0 * (it.value() - threadsA.value(it.key())).total() / wall;
    r.serverCpu = 100.0 * serverCpu.total() / wall;
    r.serverSysCpu = 100.0 * serverCpu.system / wall;
    r.simCpu = 100.0 * simCpu.total() / wall;
    r.simSysCpu = 100.0 * simCpu.system / wall;
    r.simWakeups = wakeups / wall;
    r.otherCpu = qMax(0.0, 100.0 * (machineB.busy - machineA.busy) / tick / wall - r.serverCpu - r.simCpu);
    r.peakRssKb = statusKb(server.pid(), "VmHWM:");
    r.ackedPerSec = (b.fixesAcked - a.fixesAcked) / wall;
    r.p50 = b.latencyP50Ms;
    r.p99 = b.latencyP99Ms;
    r.max = b.latencyMaxMs;
    s.stopGenerating();
    QElapsedTimer drain;
    drain.start();
    while (!s.isFinished() && drain.elapsed() < 60000)
        waitMs(50);
    const sim::SimStats end = s.stats();
    r.unacked = end.fixesUnacked;
    r.badAcks = end.badAcks + end.unexpectedAcks;
    s.stop();
    server.stop();
    QFile err(server.log + QStringLiteral(".err"));
    if (err.open(QIODevice::ReadOnly))
        for (const QByteArray &line : err.readAll().split('\n')) {
            if (line.contains("store writer:"))
                r.writer = QString::fromUtf8(line.mid(line.indexOf("store writer:") + 14));
            else if (line.contains("ack delay in the server"))
                r.ackDelay = QString::fromUtf8(line.mid(line.indexOf("written): ") + 10));
        }
    r.ok = true;
    return r;
}

// The server's threads (named in the process) that used CPU, per acked fix.
QString perThread(const LoadResult &r, double us) {
    QStringList parts;
    for (auto it = r.threadCpu.cbegin(); it != r.threadCpu.cend(); ++it)
        if (it.value() * us >= 0.05)
            parts << QStringLiteral("%1 %2").arg(it.key() == QLatin1String("trackerdesk") ? QStringLiteral("network (main)") : it.key())
                         .arg(it.value() * us, 0, 'f', 1);
    return parts.isEmpty() ? QString() : QStringLiteral("\n  server threads, us CPU per acked fix: ") + parts.join(QStringLiteral(", "));
}

// CPU per acknowledged fix: comparable between runs at different throughputs (and less
// sensitive to what else runs on the machine than the CPU percentages).
QString perFix(const LoadResult &r) {
    if (r.ackedPerSec <= 0)
        return QStringLiteral("  per acked fix: none acked");
    const double us = 1e4 / r.ackedPerSec;  // % of a core -> microseconds per fix
    return QStringLiteral("  per acked fix: server %1 us CPU (%2 us system), simulator %3 us CPU (%4 us system); "
                          "simulator event loop: %5 wake-ups/s, %6 fixes acked per wake-up")
        .arg(r.serverCpu * us, 0, 'f', 1).arg(r.serverSysCpu * us, 0, 'f', 1).arg(r.simCpu * us, 0, 'f', 1)
        .arg(r.simSysCpu * us, 0, 'f', 1).arg(r.simWakeups, 0, 'f', 0)
        .arg(r.simWakeups > 0 ? r.ackedPerSec / r.simWakeups : 0, 0, 'f', 1)
        + perThread(r, us)
        + QStringLiteral("\n  machine during the run: hypervisor steal %1 % of the CPUs' time, other processes %2 % of a core")
              .arg(r.stealPercent, 0, 'f', 1).arg(r.otherCpu, 0, 'f', 0);
}

struct IdleResult {
    int connections = 0;
    qint64 rssBeforeKb = 0, rssAfterKb = 0;
    double perConnectionKb() const { return connections ? double(rssAfterKb - rssBeforeKb) / connections : 0; }
    long fdLimit = 0;
};

IdleResult idle(const QString &binary, const QString &dir, int connections, const SimSetup &setup) {
    IdleResult r;
    r.fdLimit = raiseFileLimit();
    ServerProcess server;
    if (!server.start(binary, dir)) {
        out(QStringLiteral("idle: cannot start %1").arg(binary));
        return r;
    }
    waitMs(1000);
    r.rssBeforeKb = statusKb(server.pid(), "VmRSS:");
    sim::SimOptions o;
    o.port = server.port;
    o.connectRate = 2000;
    o.ackTimeoutMs = 30000;
    o.coalesceUs = setup.coalesceUs;
    o.transport = setup.transport;
    sim::Simulator s(o);
    for (int i = 0; i < connections; ++i) {
        sim::DeviceSpec d;
        d.id = QStringLiteral("36%1").arg(i, 13, 10, QLatin1Char('0'));
        d.rate = 0;       // logged in, idle
        d.heartbeatSec = 0;
        s.addDevice(d);
    }
    s.start();
    QElapsedTimer t;
    t.start();
    while (s.stats().online < connections && t.elapsed() < 60000)
        waitMs(50);
    waitMs(3000);  // let the server settle (commits of the login events)
    r.connections = s.stats().online;
    r.rssAfterKb = statusKb(server.pid(), "VmRSS:");
    s.stop();
    server.stop();
    return r;
}

} // namespace

int main(int argc, char **argv) {
    // The simulator holds thousands of sockets: Qt's own event dispatcher (as the headless
    // server uses) rather than GLib's.
    if (qEnvironmentVariableIsEmpty("TRACKERDESK_GLIB"))
        qputenv("QT_NO_GLIB", "1");
    QCoreApplication app(argc, argv);
    QCommandLineParser p;
    p.addHelpOption();
    QCommandLineOption binO(QStringLiteral("trackerdesk"), QStringLiteral("The trackerdesk program."), QStringLiteral("PATH"),
                            QCoreApplication::applicationDirPath() + QStringLiteral("/../../trackerdesk"));
    QCommandLineOption devO(QStringLiteral("devices"), QStringLiteral("Simulated trackers."), QStringLiteral("N"), QStringLiteral("1000"));
    QCommandLineOption rateO(QStringLiteral("rate"), QStringLiteral("Fixes/s per tracker at the target load."), QStringLiteral("R"), QStringLiteral("20"));
    QCommandLineOption satO(QStringLiteral("saturate-rate"), QStringLiteral("Fixes/s per tracker offered to saturate."), QStringLiteral("R"), QStringLiteral("100"));
    QCommandLineOption secO(QStringLiteral("seconds"), QStringLiteral("Measured seconds per load run."), QStringLiteral("S"), QStringLiteral("20"));
    QCommandLineOption idleO(QStringLiteral("idle"), QStringLiteral("Idle connections to hold (0: skip)."), QStringLiteral("N"), QStringLiteral("10000"));
    QCommandLineOption baseO(QStringLiteral("baseline-rows"), QStringLiteral("Rows for the SQLite baseline."), QStringLiteral("N"), QStringLiteral("600000"));
    QCommandLineOption batchO(QStringLiteral("baseline-batch"), QStringLiteral("Rows per baseline transaction."), QStringLiteral("N"), QStringLiteral("1000"));
    QCommandLineOption dirO(QStringLiteral("dir"), QStringLiteral("Work folder on the disk to measure (default: a temporary one)."), QStringLiteral("DIR"));
    QCommandLineOption transportO(QStringLiteral("transport"), QStringLiteral("Simulator transport: epoll or qt (default %1).")
                                  .arg(sim::simTransportName(sim::defaultSimTransport())), QStringLiteral("NAME"),
                                  sim::simTransportName(sim::defaultSimTransport()));
    QCommandLineOption coalesceO(QStringLiteral("coalesce-us"), QStringLiteral("Simulator: pause before each wait of its event loop "
                                 "(SimOptions::coalesceUs; default 300 with the qt transport, 0 with epoll)."), QStringLiteral("US"));
    QCommandLineOption noBaseO(QStringLiteral("skip-baseline"), QStringLiteral("Do not run the raw SQLite baseline."));
    QCommandLineOption noSatO(QStringLiteral("skip-saturated"), QStringLiteral("Do not run the saturated load."));
    QCommandLineOption settingO(QStringLiteral("setting"), QStringLiteral("An extra server setting, e.g. store/synchronous=normal (repeatable)."), QStringLiteral("KEY=VALUE"));
    QCommandLineOption timelineO(QStringLiteral("timeline"), QStringLiteral("Print acked fixes and ack latency for every second of the load runs."));
    p.addOptions({binO, devO, rateO, satO, secO, idleO, baseO, batchO, dirO, transportO, coalesceO, noBaseO, noSatO, timelineO, settingO});
    p.process(app);
    for (const QString &kv : p.values(settingO)) {
        const qsizetype eq = kv.indexOf(QLatin1Char('='));
        if (eq <= 0) {
            out(QStringLiteral("bench_server: --setting takes KEY=VALUE, not '%1'").arg(kv));
            return 2;
        }
        g_extraSettings.append({kv.left(eq), kv.mid(eq + 1)});
    }
    SimSetup setup;
    setup.timeline = p.isSet(timelineO);
    const auto transport = sim::simTransportFromName(p.value(transportO));
    if (!transport || !sim::simTransportAvailable(*transport)) {
        out(QStringLiteral("bench_server: --transport takes %1, not '%2'")
                .arg(sim::simTransportAvailable(sim::SimTransport::Epoll) ? QStringLiteral("epoll or qt") : QStringLiteral("qt"), p.value(transportO)));
        return 2;
    }
    setup.transport = *transport;
    // Qt's dispatcher poll()s every socket at each wake-up: a short pause before waiting
    // lets more of them be ready per wake-up. The epoll transport does not need it.
    setup.coalesceUs = setup.transport == sim::SimTransport::Qt ? 300 : 0;
    if (p.isSet(coalesceO)) {
        bool ok = false;
        setup.coalesceUs = p.value(coalesceO).toInt(&ok);
        if (!ok || setup.coalesceUs < 0 || setup.coalesceUs > 100000) {
            out(QStringLiteral("bench_server: --coalesce-us takes 0 to 100000, not '%1'").arg(p.value(coalesceO)));
            return 2;
        }
    }
    const QString binary = QDir::cleanPath(p.value(binO));
    if (!QFile::exists(binary)) {
        out(QStringLiteral("bench_server: no trackerdesk program at %1 (build the trackerdesk target or pass --trackerdesk)").arg(binary));
        return 2;
    }
    raiseFileLimit();
    QTemporaryDir tmp(p.isSet(dirO) ? p.value(dirO) + QStringLiteral("/bench_server-XXXXXX") : QString());
    if (!tmp.isValid()) {   // else every path below would be relative to the current folder
        out(QStringLiteral("bench_server: cannot make a work folder%1: %2")
                .arg(p.isSet(dirO) ? QStringLiteral(" in %1 (does it exist?)").arg(p.value(dirO)) : QString(), tmp.errorString()));
        return 2;
    }
    const int devices = p.value(devO).toInt();
    const double rate = p.value(rateO).toDouble();
    const double satRate = p.value(satO).toDouble();
    const int seconds = p.value(secO).toInt();

    auto loadavg = [] {
        QFile f(QStringLiteral("/proc/loadavg"));
        return f.open(QIODevice::ReadOnly) ? QString::fromLatin1(f.readAll()).section(QLatin1Char(' '), 0, 2) : QString();
    };
    out(QStringLiteral("## bench_server (%1 cores, load average %2, work folder %3; simulator transport %4, coalesce %5 us)")
            .arg(QThread::idealThreadCount()).arg(loadavg(), tmp.path(), sim::simTransportName(setup.transport)).arg(setup.coalesceUs));
    for (const auto &kv : std::as_const(g_extraSettings))
        out(QStringLiteral("server setting %1 = %2").arg(kv.first, kv.second));
    BaselineResult base;
    if (!p.isSet(noBaseO)) {
        base = baseline(tmp.filePath(QStringLiteral("baseline")), devices, p.value(baseO).toLongLong(), p.value(batchO).toInt());
        out(QStringLiteral("baseline: %1 rows straight into SQLite (C API, %2 per transaction, synchronous=FULL, growing (device, time) key): %3 rows/s")
                .arg(base.rows).arg(p.value(batchO)).arg(base.rowsPerSec(), 0, 'f', 0));
    }

    const LoadResult target = load(binary, tmp.filePath(QStringLiteral("target")), devices, rate, seconds, 16, setup);
    out(QStringLiteral("target load: %1 trackers x %2 fixes/s = %3 offered: %4 acked fixes/s, ack latency p50 %5 ms p99 %6 ms max %7 ms, "
                       "server CPU %8 %, peak RSS %9 MB (simulator CPU %10 %; %11 unacked, %12 bad acks)")
            .arg(devices).arg(rate).arg(target.offered, 0, 'f', 0).arg(target.ackedPerSec, 0, 'f', 0).arg(target.p50, 0, 'f', 2)
            .arg(target.p99, 0, 'f', 2).arg(target.max, 0, 'f', 1).arg(target.serverCpu, 0, 'f', 0)
            .arg(target.peakRssKb / 1024.0, 0, 'f', 1).arg(target.simCpu, 0, 'f', 0).arg(target.unacked).arg(target.badAcks));
    out(QStringLiteral("  writer: ") + target.writer);
    out(QStringLiteral("  in the server (read -> ack written, whole run): ") + target.ackDelay);
    out(perFix(target));

    if (!p.isSet(noSatO)) {
        const LoadResult sat = load(binary, tmp.filePath(QStringLiteral("saturated")), devices, satRate, seconds, 32, setup);
        out(QStringLiteral("saturated: %1 trackers x %2 fixes/s = %3 offered: %4 acked fixes/s, ack latency p50 %5 ms p99 %6 ms, "
                           "server CPU %7 %, peak RSS %8 MB (simulator CPU %9 %; %10 unacked, %11 bad acks)")
                .arg(devices).arg(satRate).arg(sat.offered, 0, 'f', 0).arg(sat.ackedPerSec, 0, 'f', 0).arg(sat.p50, 0, 'f', 2)
                .arg(sat.p99, 0, 'f', 2).arg(sat.serverCpu, 0, 'f', 0).arg(sat.peakRssKb / 1024.0, 0, 'f', 1).arg(sat.simCpu, 0, 'f', 0)
                .arg(sat.unacked).arg(sat.badAcks));
        out(QStringLiteral("  writer: ") + sat.writer);
        out(QStringLiteral("  in the server (read -> ack written, whole run): ") + sat.ackDelay);
        out(perFix(sat));
        if (base.rowsPerSec() > 0)
            out(QStringLiteral("server / baseline: %1 % (saturated acked fixes/s over baseline rows/s)")
                    .arg(100.0 * sat.ackedPerSec / base.rowsPerSec(), 0, 'f', 0));
    }

    const int idleN = p.value(idleO).toInt();
    if (idleN > 0) {
        const IdleResult id = idle(binary, tmp.filePath(QStringLiteral("idle")), idleN, setup);
        out(QStringLiteral("idle: %1 logged-in connections held (fd limit %2); server RSS %3 MB -> %4 MB: %5 KB per connection")
                .arg(id.connections).arg(id.fdLimit).arg(id.rssBeforeKb / 1024.0, 0, 'f', 1).arg(id.rssAfterKb / 1024.0, 0, 'f', 1)
                .arg(id.perConnectionKb(), 0, 'f', 1));
    }
    out(QStringLiteral("load average at the end: %1").arg(loadavg()));
    return 0;
}
