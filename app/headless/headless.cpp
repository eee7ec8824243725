#include "headless/headless.h"

#include "core/instance.h"
#include "core/settings.h"
#include "geo/geoservice.h"
#include "service/trackerservice.h"
#include "sms/smsservice.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QSocketNotifier>
#include <QTimeZone>

#include <cmath>
#include <csignal>
#include <ctime>
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

} // namespace

namespace {

// Appends the decimal digits of `v` (>= 0), at least `width` of them.
char *putUInt(char *o, quint64 v, int width = 1) {
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = char('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (n < width)
        tmp[n++] = '0';
    while (n > 0)
        *o++ = tmp[--n];
    return o;
}

// Appends `v` with `decimals` decimals (0..6), rounded half away from zero.
char *putFixed(char *o, double v, int decimals) {
    static constexpr double kScale[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    if (!std::isfinite(v) || std::fabs(v) >= 1e12)
        return o + qBound(0, std::snprintf(o, 32, "%.*f", decimals, v), 31);
    const qint64 scaled = std::llround(v * kScale[decimals]);
    quint64 a = quint64(scaled < 0 ? -scaled : scaled);
    if (scaled < 0)
        *o++ = '-';
    const quint64 unit = quint64(kScale[decimals]);
    o = putUInt(o, a / unit);
    if (decimals > 0) {
        *o++ = '.';
        o = putUInt(o, a % unit, decimals);
    }
    return o;
}

char *putText(char *o, const char *text) {
    while (*text)
        *o++ = *text++;
    return o;
}

} // namespace

void appendFixText(QByteArray &out, const proto::Position &p) {
    char buf[256];   // every field at its longest fits
    char *o = buf;
    const qint64 ms = p.time.isValid() ? p.time.toMSecsSinceEpoch() : 0;
    const time_t secs = time_t(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    tm t{};
    gmtime_r(&secs, &t);
    o = putUInt(o, quint64(qBound(0, t.tm_year + 1900, 9999)), 4);
    *o++ = '-';
    o = putUInt(o, quint64(t.tm_mon + 1), 2);
    *o++ = '-';
    o = putUInt(o, quint64(t.tm_mday), 2);
    *o++ = 'T';
    o = putUInt(o, quint64(t.tm_hour), 2);
    *o++ = ':';
    o = putUInt(o, quint64(t.tm_min), 2);
    *o++ = ':';
    o = putUInt(o, quint64(t.tm_sec), 2);
    *o++ = 'Z';
    *o++ = ' ';
    if (p.hasCoordinates) {
        o = putFixed(o, p.latitude, 6);
        *o++ = ',';
        o = putFixed(o, p.longitude, 6);
    } else {
        o = putText(o, "(no coordinates: ");
        o = putUInt(o, quint64(p.cells.size()));
        o = putText(o, " cells, ");
        o = putUInt(o, quint64(p.wifi.size()));
        o = putText(o, " Wi-Fi)");
    }
    if (p.speedKmh) {
        *o++ = ' ';
        o = putFixed(o, *p.speedKmh, 1);
        o = putText(o, " km/h");
    }
    if (p.course) {
        *o++ = ' ';
        o = putFixed(o, *p.course, 0);
        o = putText(o, "\xc2\xb0");
    }
    if (p.satellites) {
        o = putText(o, " sats ");
        if (*p.satellites < 0)
            *o++ = '-';
        o = putUInt(o, quint64(std::abs(qint64(*p.satellites))));
    }
    *o++ = ' ';
    switch (p.source) {
    case proto::PositionSource::Gps: o = putText(o, "gps"); break;
    case proto::PositionSource::Lbs: o = putText(o, "lbs"); break;
    case proto::PositionSource::Wifi: o = putText(o, "wifi"); break;
    case proto::PositionSource::Sms: o = putText(o, "sms"); break;
    }
    if (!p.valid)
        o = putText(o, " (not valid)");
    out.append(buf, o - buf);
}

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
    // Qt's own event dispatcher copes better with thousands of sockets than the GLib one
    // (enabling/disabling a socket notifier is not a list walk). TRACKERDESK_GLIB=1 keeps GLib.
    if (qEnvironmentVariableIsEmpty("TRACKERDESK_GLIB"))
        qputenv("QT_NO_GLIB", "1");
    QCoreApplication app(argc, argv);
    raiseFileLimit();

    AppSettings settings(options.settingsFile);
    QStringList problems;
    if (!options.settingsFile.isEmpty() && !QFileInfo::exists(options.settingsFile))
        problems << QStringLiteral("no settings file %1: the defaults apply (the file is written when a setting is saved)")
                        .arg(QDir::toNativeSeparators(QFileInfo(options.settingsFile).absoluteFilePath()));
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

    // One instance per data folder: a second server there would fight over the port and the database.
    const QString dataDir = config.dataDir.isEmpty() ? TrackerService::defaultDataDir() : config.dataDir;
    InstanceServer instance;
    QString instanceError;
    if (!instance.listen(dataDir, &instanceError)) {
        err(QStringLiteral("trackerdesk: error: %1; stop it first or use another --data-dir").arg(instanceError));
        return 1;
    }
    instance.setHandler(QStringLiteral("activate"), [dataDir](const QJsonObject &) {  // a GUI start: no window here
        return QJsonObject{{QStringLiteral("ok"), false}, {QStringLiteral("headless"), true},
                           {QStringLiteral("error"), QStringLiteral("TrackerDesk runs headless (no window) for %1 in process %2; stop it "
                                                                    "first to open the window on the same data folder")
                                                         .arg(QDir::toNativeSeparators(dataDir)).arg(QCoreApplication::applicationPid())}};
    });

    TrackerService service;
    QObject::connect(&service, &TrackerService::connectionOpened, &app, [](const QString &peer) {
        out(QStringLiteral("%1 connect %2").arg(now(), peer));
    });
    QObject::connect(&service, &TrackerService::connectionClosed, &app,
                     [](const QString &peer, const QString &device, const QString &reason) {
        out(QStringLiteral("%1 disconnect %2%3 (%4)").arg(now(), peer, device.isEmpty() ? QString() : QLatin1Char(' ') + device, reason));
    });
    // Labels per device, made again when a device's name or IMEI changes (names are edited in
    // the GUI; deviceUpdated() also comes for every new fix or status).
    struct Label {
        QString name, imei;
        QByteArray text;
    };
    QHash<qint64, Label> labels;
    QObject::connect(&service, &TrackerService::deviceUpdated, &app, [&labels](const DeviceStatus &d) {
        const auto it = labels.constFind(d.device.id);
        if (it != labels.constEnd() && (it->name != d.device.name || it->imei != d.device.imei))
            labels.remove(d.device.id);
    });
    QObject::connect(&service, &TrackerService::positionsStored, &app, [&service, &labels](const QList<store::StoredPosition> &positions) {
        const QByteArray stamp = now().toUtf8();
        QByteArray text;
        text.reserve(int(positions.size()) * 120);
        for (const store::StoredPosition &p : positions) {
            auto label = labels.find(p.deviceId);
            if (label == labels.end()) {
                const auto d = service.device(p.deviceId);
                label = labels.insert(p.deviceId, Label{d ? d->device.name : QString(), d ? d->device.imei : QString(),
                                                        deviceLabel(service, p.deviceId).toUtf8()});
            }
            text += stamp;
            text += " fix ";
            text += label->text;
            text += ' ';
            appendFixText(text, p.position);
            text += '\n';
        }
        std::fwrite(text.constData(), 1, size_t(text.size()), stdout);
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
    out(QStringLiteral("trackerdesk %1 headless, database %2")
            .arg(QCoreApplication::applicationVersion(), QDir::toNativeSeparators(QFileInfo(service.databasePath()).absoluteFilePath())));
    const auto listening = service.listening();
    for (int i = 0; i < listening.size(); ++i) {
        const QString proto = config.server.listeners.value(i).protocol;
        out(QStringLiteral("listening on %1:%2 (%3)").arg(listening[i].first.toString()).arg(listening[i].second)
                .arg(proto.isEmpty() ? QStringLiteral("any protocol") : proto));
    }
    std::fflush(stdout);
    geo::GeoService geoService(&service);   // cell/Wi-Fi positions; logs through the service
    for (const QString &m : geoService.startFromSettings(settings))
        err(QStringLiteral("trackerdesk: warning: %1").arg(m));
    // SMS through the GSM modem (settings or --modem); `trackerdesk sms send` hands messages over.
    auto smsService = std::make_unique<sms::SmsService>(service.store(), &service);
    auto smsLine = [&smsService](const sms::Message &m) {
        // "Cat (864717003283581) +491701234567"; no number (GPRS commands): the label alone.
        const QString label = m.deviceId > 0 ? smsService->deviceLabel(m.deviceId) : QString();
        const QString who = label.isEmpty() || m.number.isEmpty() ? label + m.number : label + QLatin1Char(' ') + m.number;
        if (const QString line = sms::messageLogLine(m, who); !line.isEmpty())
            out(QStringLiteral("%1 %2").arg(now(), line));
    };
    QObject::connect(smsService.get(), &sms::SmsService::messageAdded, &app, smsLine);
    QObject::connect(smsService.get(), &sms::SmsService::messageChanged, &app, smsLine);
    QString lastModem;   // one line per change, not per reconnect attempt
    QObject::connect(smsService.get(), &sms::SmsService::modemStateChanged, &app, [&](modem::ModemState s, const QString &) {
        const QString status = smsService->modemStatus();
        if (s != modem::ModemState::Opening && s != modem::ModemState::Initialising && status != std::exchange(lastModem, status))
            out(QStringLiteral("%1 modem %2").arg(now(), status));
    });
    QObject::connect(smsService.get(), &sms::SmsService::logMessage, &app, [](const QString &l) { err(QStringLiteral("%1 sms: %2").arg(now(), l)); });
    if (options.modemTrace)
        QObject::connect(smsService->modemLog(), &sms::ModemLog::lineAdded, &app, [](const sms::ModemLog::Entry &e) {
            err(QStringLiteral("%1 modem %2").arg(now(), sms::ModemLog::marked(e)));
        });
    QStringList smsProblems;
    if (!smsService->start(sms::smsConfig(settings, options.modem, dataDir, &smsProblems), &error))
        smsProblems << error;
    for (const QString &m : std::as_const(smsProblems))
        err(QStringLiteral("trackerdesk: warning: %1").arg(m));
    instance.setHandler(QStringLiteral("sms-send"), [&smsService](const QJsonObject &r) { return smsService->handleSendRequest(r); });

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
    geoService.stop();
    smsService.reset();   // a message in flight goes back to the queue
    const qint64 frames = service.framesReceived();
    service.stop(signalled ? QStringLiteral("server stopped (%1)").arg(QLatin1String(signalled == SIGTERM ? "SIGTERM" : "SIGINT"))
                           : QStringLiteral("server stopped"));
    const qint64 fixes = service.newFixCount();
    out(QStringLiteral("%1 stopped: %2 frames received, %3 new fixes stored, all commits flushed").arg(now()).arg(frames).arg(fixes));
    err(QStringLiteral("%1 info: store writer: %2").arg(now(), service.writerStats()));
    err(QStringLiteral("%1 info: ack delay in the server (frame read to ack written): %2").arg(now(), service.ackDelayStats()));
    std::fflush(stdout);
    return 0;
}

} // namespace td
