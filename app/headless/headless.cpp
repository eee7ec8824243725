#include "headless/headless.h"

#include "core/settings.h"
#include "service/trackerservice.h"

#include <QCoreApplication>
#include <QSocketNotifier>
#include <QTimeZone>

#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

namespace td {

namespace {

int g_signalPipe[2] = {-1, -1};

void onSignal(int sig) {
    const char c = char(sig);
    // Async-signal-safe: only write(2). The event loop reads the pipe.
    [[maybe_unused]] const ssize_t n = ::write(g_signalPipe[1], &c, 1);
}

void out(const QString &line) {
    const QByteArray b = (line + QLatin1Char('\n')).toUtf8();
    std::fwrite(b.constData(), 1, size_t(b.size()), stdout);
}

void err(const QString &line) {
    const QByteArray b = (line + QLatin1Char('\n')).toUtf8();
    std::fwrite(b.constData(), 1, size_t(b.size()), stderr);
    std::fflush(stderr);
}

QString now() { return QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyy-MM-ddTHH:mm:ss.zzzZ")); }

QString deviceLabel(const TrackerService &service, qint64 id) {
    const auto d = service.device(id);
    if (!d)
        return QString::number(id);
    return d->device.name.isEmpty() ? d->device.imei : QStringLiteral("%1 (%2)").arg(d->device.name, d->device.imei);
}

QString fixText(const proto::Position &p) {
    QString s = p.time.toUTC().toString(Qt::ISODate);
    if (p.hasCoordinates)
        s += QStringLiteral(" %1,%2").arg(p.latitude, 0, 'f', 6).arg(p.longitude, 0, 'f', 6);
    else
        s += QStringLiteral(" (no coordinates: %1 cells, %2 Wi-Fi)").arg(p.cells.size()).arg(p.wifi.size());
    if (p.speedKmh)
        s += QStringLiteral(" %1 km/h").arg(*p.speedKmh, 0, 'f', 1);
    if (p.course)
        s += QStringLiteral(" %1°").arg(*p.course, 0, 'f', 0);
    if (p.satellites)
        s += QStringLiteral(" sats %1").arg(*p.satellites);
    s += QLatin1Char(' ') + proto::positionSourceName(p.source);
    if (!p.valid)
        s += QStringLiteral(" (not valid)");
    return s;
}

} // namespace

long raiseFileLimit() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    // Try for 65536 (allowed for root / CAP_SYS_RESOURCE), else the hard limit.
    const rlim_t want = 65536;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
        rlimit more{want, want};
        if (setrlimit(RLIMIT_NOFILE, &more) == 0)
            rl = more;
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    return long(rl.rlim_cur);
}

int runHeadless(int &argc, char **argv, const StartOptions &options) {
    QCoreApplication app(argc, argv);
    raiseFileLimit();

    AppSettings settings(options.settingsFile);
    QStringList problems;
    const ServiceConfig config = serviceConfig(settings, options, &problems);
    for (const QString &p : std::as_const(problems))
        err(QStringLiteral("trackerdesk: warning: %1").arg(p));

    if (::pipe(g_signalPipe) != 0) {
        err(QStringLiteral("trackerdesk: error: cannot create the signal pipe"));
        return 1;
    }
    ::fcntl(g_signalPipe[0], F_SETFD, FD_CLOEXEC);
    ::fcntl(g_signalPipe[1], F_SETFD, FD_CLOEXEC);
    struct sigaction sa {};
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    TrackerService service;
    QObject::connect(&service, &TrackerService::connectionOpened, &app, [](const QString &peer) {
        out(QStringLiteral("%1 connect %2").arg(now(), peer));
    });
    QObject::connect(&service, &TrackerService::connectionClosed, &app,
                     [](const QString &peer, const QString &device, const QString &reason) {
        out(QStringLiteral("%1 disconnect %2%3 (%4)").arg(now(), peer, device.isEmpty() ? QString() : QLatin1Char(' ') + device, reason));
    });
    QObject::connect(&service, &TrackerService::positionsStored, &app, [&service](const QList<store::StoredPosition> &positions) {
        for (const store::StoredPosition &p : positions)
            out(QStringLiteral("%1 fix %2 %3").arg(now(), deviceLabel(service, p.deviceId), fixText(p.position)));
        std::fflush(stdout);
    });
    QObject::connect(&service, &TrackerService::alarmRaised, &app, [](const AlarmInfo &a) {
        QString where;
        if (a.where && a.where->hasCoordinates)
            where = QStringLiteral(" at %1,%2").arg(a.where->latitude, 0, 'f', 6).arg(a.where->longitude, 0, 'f', 6);
        out(QStringLiteral("%1 ALARM %2 %3%4").arg(now(), a.alarm, a.name.isEmpty() ? a.imei : QStringLiteral("%1 (%2)").arg(a.name, a.imei), where));
        std::fflush(stdout);
    });
    QObject::connect(&service, &TrackerService::deviceRefused, &app, [](const QString &imei, const QString &peer, const QString &reason) {
        out(QStringLiteral("%1 refused %2 from %3: %4").arg(now(), imei, peer, reason));
    });
    QObject::connect(&service, &TrackerService::commandReply, &app, [&service](qint64 id, const QString &text) {
        out(QStringLiteral("%1 reply %2: %3").arg(now(), deviceLabel(service, id), text));
    });
    QObject::connect(&service, &TrackerService::logMessage, &app, [](server::LogLevel level, const QString &text) {
        const char *tag = level == server::LogLevel::Error ? "error" : level == server::LogLevel::Warning ? "warning" : "info";
        err(QStringLiteral("%1 %2: %3").arg(now(), QLatin1String(tag), text));
    });
    QObject::connect(&service, &TrackerService::storeError, &app, [](const QString &e) {
        err(QStringLiteral("%1 error: the store failed, data not acknowledged: %2").arg(now(), e));
    });

    QString error;
    if (!service.start(config, &error)) {
        err(QStringLiteral("trackerdesk: error: %1").arg(error));
        return 1;
    }
    out(QStringLiteral("trackerdesk %1 headless, database %2").arg(QCoreApplication::applicationVersion(), service.databasePath()));
    const auto listening = service.listening();
    for (int i = 0; i < listening.size(); ++i) {
        const QString proto = config.server.listeners.value(i).protocol;
        out(QStringLiteral("listening on %1:%2 (%3)").arg(listening[i].first.toString()).arg(listening[i].second)
                .arg(proto.isEmpty() ? QStringLiteral("any protocol") : proto));
    }
    std::fflush(stdout);

    // Periodic flush so that a pipe reader sees the lines without waiting for a full buffer.
    QTimer flusher;
    QObject::connect(&flusher, &QTimer::timeout, [] { std::fflush(stdout); });
    flusher.start(200);

    QSocketNotifier sn(g_signalPipe[0], QSocketNotifier::Read);
    int signalled = 0;
    QObject::connect(&sn, &QSocketNotifier::activated, &app, [&] {
        char c = 0;
        [[maybe_unused]] const ssize_t n = ::read(g_signalPipe[0], &c, 1);
        signalled = c;
        app.quit();
    });
    app.exec();
    sn.setEnabled(false);
    const qint64 frames = service.framesReceived();
    service.stop(signalled ? QStringLiteral("server stopped (%1)").arg(QLatin1String(signalled == SIGTERM ? "SIGTERM" : "SIGINT"))
                           : QStringLiteral("server stopped"));
    const qint64 fixes = service.newFixCount();
    out(QStringLiteral("%1 stopped: %2 frames received, %3 new fixes stored, all commits flushed").arg(now()).arg(frames).arg(fixes));
    std::fflush(stdout);
    return 0;
}

} // namespace td
