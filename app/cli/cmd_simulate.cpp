// trackerdesk simulate [options]: plays GT06 / Topin / JT/T 808 trackers against a server
// (load generator for tests and benchmarks, or `--demo` for trying the app without a
// device). Checks every ack, resends what was not acked, prints a summary.
#include "cli/cli.h"

#include "headless/headless.h"
#include "sim/simulator.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QSocketNotifier>
#include <QTimer>

#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <unistd.h>

namespace td::cli {

namespace {

int g_simPipe[2] = {-1, -1};
void onSimSignal(int) {
    const char c = 1;
    [[maybe_unused]] const ssize_t n = ::write(g_simPipe[1], &c, 1);
}

// "358000000000000" + i, keeping the width.
QString nthId(const QString &base, int i) {
    bool ok = false;
    const qulonglong b = base.toULongLong(&ok);
    return QStringLiteral("%1").arg(b + qulonglong(i), int(base.size()), 10, QLatin1Char('0'));
}

void addDemoDevices(sim::Simulator &s) {
    // A cat strolling round a block, a child's watch in the park, a delivery van on its round.
    const double lat = 52.0907, lon = 5.1214;
    sim::DeviceSpec cat;
    cat.id = QStringLiteral("358000000000017");
    cat.name = QStringLiteral("Felix the cat");
    cat.protocol = sim::SimProtocol::Gt06;
    cat.route = std::make_shared<sim::Route>(sim::Route::block(lat, lon, 120, 80, 4));
    cat.rate = 0.2;
    cat.heartbeatSec = 60;
    s.addDevice(cat);
    sim::DeviceSpec watch;
    watch.id = QStringLiteral("358000000000025");
    watch.name = QStringLiteral("Kid's watch");
    watch.protocol = sim::SimProtocol::Topin;
    watch.route = std::make_shared<sim::Route>(sim::Route::randomWalk(lat + 0.004, lon - 0.006, 7, 3000, 6));
    watch.rate = 0.1;
    watch.wifiEvery = 4;
    watch.heartbeatSec = 60;
    watch.batteryPercent = 64;
    s.addDevice(watch);
    sim::DeviceSpec van;
    van.id = QStringLiteral("013800138000");
    van.name = QStringLiteral("Delivery van");
    van.protocol = sim::SimProtocol::Jt808;
    van.route = std::make_shared<sim::Route>(sim::Route::block(lat - 0.003, lon - 0.004, 900, 600, 25));
    van.rate = 0.5;
    van.heartbeatSec = 60;
    s.addDevice(van);
}

} // namespace

int runSimulate(const QStringList &args) {
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Play GPS trackers against a TrackerDesk server (or any GT06 / JT/T 808 server).\n"
        "Every ack is checked (bytes and time); fixes not acked are resent after reconnecting.\n"
        "While running, type 'sos' (or 'alarm NAME [DEVICE]') and Enter to raise an alarm;\n"
        "Ctrl+C stops sending, waits for the last acks and prints the summary."));
    p.addHelpOption();
    QCommandLineOption host(QStringLiteral("host"), QStringLiteral("Server address (default 127.0.0.1)."), QStringLiteral("HOST"), QStringLiteral("127.0.0.1"));
    QCommandLineOption port(QStringLiteral("port"), QStringLiteral("Server port (default 5023)."), QStringLiteral("PORT"), QStringLiteral("5023"));
    QCommandLineOption protocol(QStringLiteral("protocol"), QStringLiteral("gt06, topin or jt808 (default gt06)."), QStringLiteral("NAME"), QStringLiteral("gt06"));
    QCommandLineOption devices(QStringLiteral("devices"), QStringLiteral("Number of trackers (default 1)."), QStringLiteral("N"), QStringLiteral("1"));
    QCommandLineOption rate(QStringLiteral("rate"), QStringLiteral("Fixes per second per tracker (default 1; 0: idle). Fix times are whole seconds, one apart at least: "
                                                                     "above 1/s an open-ended run's times run ahead of the clock."),
                                QStringLiteral("R"), QStringLiteral("1"));
    QCommandLineOption count(QStringLiteral("count"), QStringLiteral("Fixes per tracker, then stop."), QStringLiteral("N"));
    QCommandLineOption duration(QStringLiteral("duration"), QStringLiteral("Stop sending after this many seconds."), QStringLiteral("SEC"));
    QCommandLineOption route(QStringLiteral("route"), QStringLiteral("Follow the points of this GPX file (default: a generated walk)."), QStringLiteral("FILE"));
    QCommandLineOption heartbeat(QStringLiteral("heartbeat"), QStringLiteral("Heartbeat interval in seconds (default 180; 0: none)."), QStringLiteral("SEC"), QStringLiteral("180"));
    QCommandLineOption alarm(QStringLiteral("alarm"), QStringLiteral("Send this alarm (e.g. sos) from every tracker after its login."), QStringLiteral("NAME"));
    QCommandLineOption window(QStringLiteral("window"), QStringLiteral("Unacked fixes in flight per tracker (default 16)."), QStringLiteral("N"), QStringLiteral("16"));
    QCommandLineOption imei(QStringLiteral("imei"), QStringLiteral("First IMEI / terminal id; the next trackers count up."), QStringLiteral("ID"));
    QCommandLineOption connectRate(QStringLiteral("connect-rate"), QStringLiteral("New connections per second (default 1000)."), QStringLiteral("N"), QStringLiteral("1000"));
    QCommandLineOption ackTimeout(QStringLiteral("ack-timeout"), QStringLiteral("Milliseconds to wait for an ack before reconnecting (default 10000)."), QStringLiteral("MS"), QStringLiteral("10000"));
    QCommandLineOption demo(QStringLiteral("demo"), QStringLiteral("Play a few nice devices in real time (a cat, a watch, a van) until Ctrl+C."));
    QCommandLineOption quiet(QStringLiteral("quiet"), QStringLiteral("No progress lines, only the summary."));
    const QString defaultTransport = sim::simTransportName(sim::defaultSimTransport());
    QCommandLineOption transport(QStringLiteral("transport"),
                                 QStringLiteral("How the connections are driven: epoll (Linux: raw sockets in one epoll instance) or qt "
                                                "(one QTcpSocket each) (default %1).").arg(defaultTransport),
                                 QStringLiteral("NAME"), defaultTransport);
    p.addOptions({host, port, protocol, devices, rate, count, duration, route, heartbeat, alarm, window, imei, connectRate, ackTimeout, demo, quiet, transport});
    if (const auto exit = parseArguments(p, args))
        return *exit;
    if (const auto exit = noPositionalArguments(p, args))
        return *exit;
    if (p.isSet(count) && p.isSet(duration)) {
        printError(QStringLiteral("give --count or --duration, not both"));
        return 2;
    }
    if (p.isSet(demo)) {   // options of the generated devices: --demo plays its own three
        QStringList mixed;
        for (const QCommandLineOption *o : {&protocol, &devices, &rate, &count, &route, &heartbeat, &imei})
            if (p.isSet(*o))
                mixed << QLatin1String("--") + o->names().first();
        if (!mixed.isEmpty()) {
            printError(QStringLiteral("--demo plays its own three devices; %1 cannot go with it").arg(mixed.join(QStringLiteral(", "))));
            return 2;
        }
    }
    auto number = [&](const QCommandLineOption &o, double min, double max, double *out) {
        bool ok = false;
        const double v = p.value(o).toDouble(&ok);
        if (!ok || v < min || v > max) {
            printError(QStringLiteral("--%1 takes a number from %2 to %3, not '%4'").arg(o.names().first()).arg(min).arg(max).arg(p.value(o)));
            return false;
        }
        *out = v;
        return true;
    };
    double portV = 0, devicesV = 0, rateV = 0, heartbeatV = 0, windowV = 0, connectRateV = 0, ackTimeoutV = 0;
    if (!number(port, 1, 65535, &portV) || !number(devices, 1, 100000, &devicesV) || !number(rate, 0, 1000, &rateV)
        || !number(heartbeat, 0, 86400, &heartbeatV) || !number(window, 1, 10000, &windowV)
        || !number(connectRate, 1, 1000000, &connectRateV) || !number(ackTimeout, 100, 600000, &ackTimeoutV))
        return 2;
    double countV = -1, durationV = 0;
    if (p.isSet(count) && !number(count, 1, 1e12, &countV))
        return 2;
    if (p.isSet(duration) && !number(duration, 0.1, 1e7, &durationV))
        return 2;
    const auto proto = sim::simProtocolFromName(p.value(protocol));
    if (!proto) {
        printError(QStringLiteral("--protocol takes gt06, topin or jt808, not '%1'").arg(p.value(protocol)));
        return 2;
    }
    const auto transportKind = sim::simTransportFromName(p.value(transport));
    if (!transportKind) {
        printError(QStringLiteral("--transport takes epoll or qt, not '%1'").arg(p.value(transport)));
        return 2;
    }
    if (!sim::simTransportAvailable(*transportKind)) {
        printError(QStringLiteral("--transport %1 is not available on this system (use qt)").arg(p.value(transport)));
        return 2;
    }
    std::shared_ptr<const sim::Route> gpx;
    if (p.isSet(route)) {
        QString err;
        const auto r = sim::Route::fromGpx(p.value(route), &err);
        if (!r) {
            printError(err);
            return 2;
        }
        gpx = std::make_shared<sim::Route>(*r);
    }
    QString firstId = p.value(imei);
    if (firstId.isEmpty())
        firstId = *proto == sim::SimProtocol::Jt808 ? QStringLiteral("013800000001") : QStringLiteral("358000000000001");
    bool idOk = false;
    firstId.toULongLong(&idOk);
    if (!idOk || firstId.size() > 20) {
        printError(QStringLiteral("--imei takes up to 20 digits, not '%1'").arg(firstId));
        return 2;
    }
    // A tracker that cannot send the alarm: say so once, before anything starts (not once
    // per tracker at its login).
    if (p.isSet(alarm) && !p.isSet(demo)) {
        const QString e = sim::Simulator::alarmProblem(*proto, p.value(alarm));
        if (!e.isEmpty()) {
            printError(QStringLiteral("--alarm: %1").arg(e));
            return 2;
        }
    }
    raiseFileLimit();

    sim::SimOptions o;
    o.host = p.value(host);
    o.port = quint16(portV);
    o.window = int(windowV);
    o.connectRate = int(connectRateV);
    o.ackTimeoutMs = int(ackTimeoutV);
    o.durationSec = durationV;
    o.transport = *transportKind;
    const bool isDemo = p.isSet(demo);
    o.realTime = isDemo;
    sim::Simulator s(o);
    if (isDemo) {
        addDemoDevices(s);
    } else {
        for (int i = 0; i < int(devicesV); ++i) {
            sim::DeviceSpec d;
            d.id = nthId(firstId, i);
            d.protocol = *proto;
            d.route = gpx;
            d.rate = rateV;
            d.count = qint64(countV);
            d.heartbeatSec = int(heartbeatV);
            s.addDevice(d);
        }
    }
    const bool isQuiet = p.isSet(quiet);
    const QString alarmName = p.value(alarm);
    QObject::connect(&s, &sim::Simulator::deviceLoggedIn, &s, [&](int i) {
        if (!alarmName.isEmpty()) {
            const QString e = s.raiseAlarm(alarmName, i);
            if (!e.isEmpty())
                printError(e);
        }
        if (isDemo)
            printOut(QStringLiteral("%1 logged in\n").arg(s.serverKey(i)));
    });
    if (isDemo) {
        QObject::connect(&s, &sim::Simulator::fixAcked, &s, [&](int i, double ms) {
            printOut(QStringLiteral("%1: fix acknowledged in %2 ms\n").arg(s.serverKey(i)).arg(ms, 0, 'f', 1));
            std::fflush(stdout);
        });
    }
    // Connection problems: the first at once, then at most one line per 5 s with a count of
    // the others (a thousand trackers against a stopped server must not flood the terminal).
    QElapsedTimer lastConnLine;
    int connSuppressed = 0;
    QObject::connect(&s, &sim::Simulator::connectionLost, &s, [&](int i, const QString &why, bool connected) {
        if (lastConnLine.isValid() && lastConnLine.elapsed() < 5000) {
            ++connSuppressed;
            return;
        }
        QString line = connected ? QStringLiteral("%1: connection lost (%2); reconnecting").arg(s.serverKey(i), why)
                     : why.startsWith(QLatin1String("cannot "))
                         ? QStringLiteral("%1: %2; retrying").arg(s.serverKey(i), why)
                         : QStringLiteral("%1: cannot connect to %2:%3 (%4); retrying").arg(s.serverKey(i), o.host).arg(o.port).arg(why);
        if (connSuppressed > 0)
            line += QStringLiteral(" (and %1 other connection problem(s) in the last seconds)").arg(connSuppressed);
        printOut(line + QLatin1Char('\n'));
        std::fflush(stdout);
        connSuppressed = 0;
        lastConnLine.start();
    });
    QObject::connect(&s, &sim::Simulator::commandReceived, &s, [&](int i, const QString &text) {
        printOut(QStringLiteral("%1: command from the server: %2\n").arg(s.serverKey(i), text));
        std::fflush(stdout);
    });

    // Ctrl+C / SIGTERM: stop sending, wait for the last acks; a second one stops at once.
    if (::pipe(g_simPipe) == 0) {
        struct sigaction sa {};
        sa.sa_handler = onSimSignal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        sigaction(SIGINT, &sa, nullptr);
        sigaction(SIGTERM, &sa, nullptr);
    }
    std::signal(SIGPIPE, SIG_IGN);
    QSocketNotifier sigNotifier(g_simPipe[0], QSocketNotifier::Read);
    int signalCount = 0;
    QObject::connect(&sigNotifier, &QSocketNotifier::activated, &s, [&] {
        char c;
        [[maybe_unused]] const ssize_t n = ::read(g_simPipe[0], &c, 1);
        if (++signalCount == 1) {
            const sim::SimStats st = s.stats();
            printOut(st.online == 0 && st.fixesUnacked > 0
                         ? QStringLiteral("stopping: %1 fix(es) not acknowledged and no tracker connected; trying for up to %2 s "
                                          "(Ctrl+C again to quit now)\n").arg(st.fixesUnacked).arg(o.drainTimeoutMs / 1000)
                         : QStringLiteral("stopping: waiting up to %1 s for the last acks (Ctrl+C again to quit now)\n")
                               .arg(o.drainTimeoutMs / 1000));
            std::fflush(stdout);
            s.stopGenerating();
        } else {
            s.stop();
            QCoreApplication::quit();
        }
    });
    // Alarms on request: "sos" or "alarm NAME [DEVICE]" on standard input.
    QSocketNotifier stdinNotifier(STDIN_FILENO, QSocketNotifier::Read);
    QByteArray stdinBuffer;
    QObject::connect(&stdinNotifier, &QSocketNotifier::activated, &s, [&] {
        char buf[256];
        const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
        if (n <= 0) {
            stdinNotifier.setEnabled(false);  // end of input
            return;
        }
        stdinBuffer.append(buf, n);
        qsizetype nl;
        while ((nl = stdinBuffer.indexOf('\n')) >= 0) {
            const QStringList words = QString::fromLocal8Bit(stdinBuffer.left(nl)).simplified().split(QLatin1Char(' '), Qt::SkipEmptyParts);
            stdinBuffer.remove(0, nl + 1);
            if (words.isEmpty())
                continue;
            QString name = words[0];
            int device = -1;
            if (name == QLatin1String("alarm") && words.size() >= 2) {
                name = words[1];
                if (words.size() >= 3)
                    device = words[2].toInt();
            }
            const QString e = s.raiseAlarm(name, device);
            printOut(e.isEmpty() ? QStringLiteral("alarm '%1' queued\n").arg(name) : QStringLiteral("alarm not sent: %1\n").arg(e));
            std::fflush(stdout);
        }
    });

    QTimer progress;
    QObject::connect(&progress, &QTimer::timeout, &s, [&] {
        const sim::SimStats st = s.stats();
        printOut(QStringLiteral("%1 s: %2 online, %3 sent, %4 acked, %5 resent, %6 waiting, p99 %7 ms\n")
                     .arg(st.elapsedSec, 0, 'f', 0).arg(st.online).arg(st.fixesSent).arg(st.fixesAcked)
                     .arg(st.fixesResent).arg(st.fixesUnacked).arg(st.latencyP99Ms, 0, 'f', 1));
        std::fflush(stdout);
    });
    if (!isQuiet && !isDemo)
        progress.start(5000);
    QObject::connect(&s, &sim::Simulator::finished, &s, [] { QCoreApplication::quit(); });

    printOut(QStringLiteral("simulating %1 %2 tracker(s) against %3:%4 (%5 transport)\n")
                 .arg(s.deviceCount()).arg(isDemo ? QStringLiteral("demo") : sim::simProtocolName(*proto), o.host).arg(o.port)
                 .arg(sim::simTransportName(o.transport)));
    std::fflush(stdout);
    s.start();
    QCoreApplication::exec();
    const sim::SimStats st = s.stats();
    printOut(st.summary());
    std::fflush(stdout);
    const bool clean = st.fixesUnacked == 0 && st.badAcks == 0 && st.unexpectedAcks == 0;
    return clean ? 0 : 1;
}

} // namespace td::cli
