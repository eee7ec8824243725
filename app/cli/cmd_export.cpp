// trackerdesk export --format gpx|kml|geojson|csv|pcapng [--device IMEI|NAME]... [--from T] [--to T]
//                    -o FILE [--data-dir DIR] [--all-fixes] [--split-gap MIN]
//                    [--local-address ADDR] [--local-port PORT] [--quiet]
// Exports tracks or raw frames from the store, headless, while the server may be running
// (the database is opened read-only; SQLite WAL lets both work side by side). The file is
// written to a temporary file and renamed at the end: an interrupted export leaves the
// target as it was.
#include "cli/cli.h"

#include "core/settings.h"
#include "export/exportrunner.h"
#include "export/storesource.h"
#include "export/timespec.h"
#include "store/store.h"

#include <QCommandLineParser>
#include <QDir>
#include <QFile>
#include <QLocale>

#include <cstdio>
#include <unistd.h>

namespace td::cli {

namespace {

// "1 track", "3 tracks".
QString counted(qint64 n, const char *one, const char *many) {
    return QStringLiteral("%1 %2").arg(n).arg(QLatin1String(n == 1 ? one : many));
}

QString humanSize(qint64 bytes) {
    if (bytes < 10 * 1024)
        return QStringLiteral("%1 bytes").arg(bytes);
    if (bytes < 10 * 1024 * 1024)
        return QStringLiteral("%1 KiB").arg(bytes / 1024);
    return QStringLiteral("%1 MiB").arg(bytes / (1024 * 1024));
}

// "\r 42% (12345 of 29000 rows)" on a terminal; nothing when stderr is not one.
struct TerminalProgress {
    bool enabled = false;
    int lastPercent = -1;
    void operator()(qint64 done, qint64 total) {
        if (!enabled)
            return;
        const int percent = total > 0 ? int(done * 100 / total) : -1;
        if (percent == lastPercent && total > 0)
            return;
        lastPercent = percent;
        if (total > 0)
            std::fprintf(stderr, "\rexporting: %3d%% (%lld of %lld rows)", percent, qint64(done), qint64(total));
        else
            std::fprintf(stderr, "\rexporting: %lld rows", qint64(done));
        std::fflush(stderr);
    }
    void clear() {
        if (enabled && lastPercent != -1) {
            std::fputs("\r\033[K", stderr);
            std::fflush(stderr);
        }
    }
};

} // namespace

int runExport(const QStringList &args) {
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Export tracks (GPX 1.1, KML, GeoJSON, CSV) or raw frames (pcapng, for Wireshark) from the "
        "TrackerDesk store.\n\n"
        "Times (--from, --to): ISO 8601 dates or times (2024-05-01, 2024-05-01T14:30, "
        "2024-05-01T14:30:00Z; local time unless a zone is given), today, yesterday, now, or an age "
        "like 24h, 7d, 90m. A whole day as --to means the end of that day."));
    p.addHelpOption();
    QCommandLineOption format(QStringList{QStringLiteral("f"), QStringLiteral("format")},
                              QStringLiteral("gpx, kml, geojson, csv or pcapng (default: from the file name)."),
                              QStringLiteral("FORMAT"));
    QCommandLineOption device(QStringList{QStringLiteral("d"), QStringLiteral("device")},
                              QStringLiteral("Device IMEI / terminal id, name (any case) or a unique IMEI suffix of 4+ digits; repeat for several (default: all)."),
                              QStringLiteral("DEVICE"));
    QCommandLineOption from(QStringLiteral("from"), QStringLiteral("Start of the time range (default: the beginning)."),
                            QStringLiteral("T"));
    QCommandLineOption to(QStringLiteral("to"), QStringLiteral("End of the time range (default: no end; 'now' is accepted)."), QStringLiteral("T"));
    QCommandLineOption output(QStringList{QStringLiteral("o"), QStringLiteral("output")},
                              QStringLiteral("Output file; - for standard output."), QStringLiteral("FILE"));
    QCommandLineOption dataDir(QStringLiteral("data-dir"),
                               QStringLiteral("Folder of the database (default: the one the program uses)."),
                               QStringLiteral("DIR"));
    QCommandLineOption allFixes(QStringLiteral("all-fixes"),
                                QStringLiteral("Also LBS / Wi-Fi / SMS fixes (default: only valid GPS fixes)."));
    QCommandLineOption splitGap(QStringLiteral("split-gap"),
                                QStringLiteral("Start a new track segment after a gap of more than MIN minutes "
                                               "(default 0: never)."),
                                QStringLiteral("MIN"));
    QCommandLineOption localAddress(QStringLiteral("local-address"),
                                    QStringLiteral("pcapng: the server's address in the synthetic headers "
                                                   "(default: the listen address when set, else unspecified)."),
                                    QStringLiteral("ADDRESS"));
    QCommandLineOption localPort(QStringLiteral("local-port"),
                                 QStringLiteral("pcapng: the server's port (default: the configured port)."),
                                 QStringLiteral("PORT"));
    QCommandLineOption quiet(QStringList{QStringLiteral("q"), QStringLiteral("quiet")},
                             QStringLiteral("No progress and no summary."));
    p.addOptions({format, device, from, to, output, dataDir, allFixes, splitGap, localAddress, localPort, quiet});
    if (const auto exit = parseArguments(p, args))
        return *exit;
    if (const auto exit = noPositionalArguments(p, args))
        return *exit;

    // ---- what and where ----
    const QString target = p.value(output);
    if (target.isEmpty()) {
        printError(QStringLiteral("no output file: give -o FILE (or -o - for standard output)"));
        return 2;
    }
    const bool toStdout = target == QLatin1String("-");
    const exporter::ExportFormat *fmt = nullptr;
    if (p.isSet(format)) {
        fmt = exporter::exportFormat(p.value(format));
        if (!fmt) {
            printError(QStringLiteral("unknown format '%1' (known: %2)")
                           .arg(p.value(format), exporter::exportFormatIds().join(QStringLiteral(", "))));
            return 2;
        }
    } else {
        fmt = toStdout ? nullptr : exporter::exportFormatForPath(target);
        if (!fmt) {
            printError(QStringLiteral("cannot tell the format from '%1': give --format (%2)")
                           .arg(target, exporter::exportFormatIds().join(QStringLiteral(", "))));
            return 2;
        }
    }

    exporter::TrackOptions trackOptions;
    trackOptions.includeNetworkFixes = p.isSet(allFixes);
    if (p.isSet(splitGap)) {
        bool ok = false;
        const int v = p.value(splitGap).toInt(&ok);
        if (!ok || v < 0 || v > 100000) {
            printError(QStringLiteral("--split-gap takes minutes (0 to 100000), not '%1'").arg(p.value(splitGap)));
            return 2;
        }
        trackOptions.splitGapMinutes = v;
    }

    const QDateTime now = QDateTime::currentDateTime();
    QDateTime fromTime, toTime;
    QString error;
    if (p.isSet(from)) {
        const auto t = exporter::parseTimeSpec(p.value(from), false, now, &error);
        if (!t) {
            printError(QStringLiteral("--from: ") + error);
            return 2;
        }
        fromTime = *t;
    }
    if (p.isSet(to)) {
        const auto t = exporter::parseTimeSpec(p.value(to), true, now, &error);
        if (!t) {
            printError(QStringLiteral("--to: ") + error);
            return 2;
        }
        toTime = *t;
    }
    if (fromTime.isValid() && toTime.isValid() && fromTime > toTime) {
        printError(QStringLiteral("--from (%1) is after --to (%2)")
                       .arg(fromTime.toString(Qt::ISODate), toTime.toString(Qt::ISODate)));
        return 2;
    }

    const AppSettings settings;
    proto::pcapng::WriterOptions pcapOptions;
    pcapOptions.application = QStringLiteral("TrackerDesk " TD_VERSION);
    pcapOptions.localPort = settings.port();
    if (settings.listenAddress() != QHostAddress::Any && settings.listenAddress() != QHostAddress::AnyIPv6
        && settings.listenAddress() != QHostAddress::AnyIPv4)
        pcapOptions.localAddress = settings.listenAddress().toString();
    if (p.isSet(localAddress)) {
        if (!proto::pcapng::parseIpAddress(p.value(localAddress))) {
            printError(QStringLiteral("--local-address takes an IP address, not '%1'").arg(p.value(localAddress)));
            return 2;
        }
        pcapOptions.localAddress = p.value(localAddress);
    }
    if (p.isSet(localPort)) {
        bool ok = false;
        const int v = p.value(localPort).toInt(&ok);
        if (!ok || v < 1 || v > 65535) {
            printError(QStringLiteral("--local-port takes a number from 1 to 65535, not '%1'").arg(p.value(localPort)));
            return 2;
        }
        pcapOptions.localPort = quint16(v);
    }

    // ---- the store ----
    const QString dir = p.isSet(dataDir) ? p.value(dataDir) : settings.dataDir();
    const QString dbPath = QDir(dir).filePath(store::Store::fileName());
    if (const QString missing = missingDatabase(dir); !missing.isEmpty()) {
        printError(missing);
        return 1;
    }
    store::Store st;
    if (!st.open(dbPath, exporter::exportStoreOptions())) {
        printError(QStringLiteral("cannot open %1: %2").arg(dbPath, st.lastError()));
        return 1;
    }
    const auto devices = exporter::resolveDevices(st, p.values(device), &error);
    if (!devices) {
        printError(error);
        return 1;
    }
    QList<qint64> ids;
    exporter::ExportInfo info;
    info.creator = QStringLiteral("TrackerDesk " TD_VERSION);
    info.created = QDateTime::currentDateTimeUtc();
    info.from = fromTime;
    info.to = toTime;
    if (p.isSet(device)) {
        for (const store::Device &d : *devices) {
            ids << d.id;
            info.devices << exporter::toTrackDevice(d);
        }
    }

    // ---- the export ----
    TerminalProgress progress;
    progress.enabled = !p.isSet(quiet) && ::isatty(STDERR_FILENO);
    exporter::ExportControl control;
    control.progress = [&progress](qint64 done, qint64 total) { progress(done, total); };

    exporter::ExportResult r;
    QFile out;
    if (toStdout && !out.open(stdout, QIODevice::WriteOnly | QIODevice::Unbuffered)) {
        printError(QStringLiteral("cannot write to standard output: %1").arg(out.errorString()));
        return 1;
    }
    if (fmt->kind == exporter::ExportKind::Frames) {
        exporter::StoreFrameSource source(st, ids, fromTime, toTime);
        r = toStdout ? exporter::exportFrames(source, pcapOptions, &out, control)
                     : exporter::exportFramesToFile(source, pcapOptions, target, control);
    } else {
        exporter::StoreTrackSource source(st, ids, fromTime, toTime, trackOptions);
        r = toStdout ? exporter::exportTracks(source, *fmt, info, trackOptions, &out, control, QDir::tempPath())
                     : exporter::exportTracksToFile(source, *fmt, info, trackOptions, target, control);
    }
    progress.clear();
    if (toStdout)
        out.close();
    if (!r.ok) {
        printError(r.error);
        return 1;
    }
    for (const QString &w : std::as_const(r.warnings))
        std::fprintf(stderr, "trackerdesk: warning: %s\n", w.toUtf8().constData());

    if (!p.isSet(quiet)) {
        QString summary;
        const QString where = toStdout ? QStringLiteral("standard output") : QDir::toNativeSeparators(target);
        if (fmt->kind == exporter::ExportKind::Frames) {
            summary = QStringLiteral("exported %1 (%2, %3) to %4 (%5)\n")
                          .arg(counted(r.frames, "frame", "frames"), counted(r.packets, "packet", "packets"),
                               counted(r.connections, "connection", "connections"), where, humanSize(r.bytes));
            if (r.frames == 0)
                summary += QStringLiteral("note: no frames matched the devices and time range\n");
        } else {
            summary = QStringLiteral("exported %1 (%2, %3) to %4 as %5 (%6)")
                          .arg(counted(r.points, "point", "points"), counted(r.tracks, "track", "tracks"),
                               counted(r.segments, "segment", "segments"), where, fmt->name, humanSize(r.bytes));
            if (r.skipped > 0)
                summary += QStringLiteral("; skipped %1 fixes (invalid, no coordinates%2)")
                               .arg(r.skipped)
                               .arg(trackOptions.includeNetworkFixes ? QString() : QStringLiteral(" or LBS/Wi-Fi/SMS"));
            summary += QLatin1Char('\n');
            if (r.points == 0)
                summary += QStringLiteral("note: no fixes matched the devices and time range%1\n")
                               .arg(trackOptions.includeNetworkFixes ? QString()
                                                                     : QStringLiteral(" (--all-fixes adds LBS/Wi-Fi/SMS fixes)"));
        }
        // The data went to stdout: the summary goes to stderr.
        if (toStdout)
            std::fputs(summary.toUtf8().constData(), stderr);
        else
            printOut(summary);
    }
    std::fflush(stdout);
    return 0;
}

} // namespace td::cli
