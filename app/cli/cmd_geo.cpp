// trackerdesk geo import-cells FILE [--data-dir DIR] [--quiet]
// trackerdesk geo status [--data-dir DIR]
// trackerdesk geo resolve --pending [--data-dir DIR] [--wait SEC]
// Offline geolocation data and the records waiting for a position (see docs/usage.md "Cell
// and Wi-Fi positions"). import-cells streams an OpenCelliD cells CSV (optionally .csv.gz)
// or a Wi-Fi CSV (bssid,lat,lon / WiGLE) into the database; Ctrl+C stops it cleanly (the
// batches before stay imported). resolve --pending asks the configured providers for every
// pending record now and stores the fixes (the running TrackerDesk does this by itself; use
// it for a data folder no TrackerDesk is serving).
// Exit codes: 0 done, 1 failure (or nothing resolved), 2 usage error, 130 interrupted.
#include "cli/cli.h"

#include "core/settings.h"
#include "geo/cellimport.h"
#include "geo/geoconfig.h"
#include "geo/georesolver.h"
#include "geo/geostore.h"
#include "geo/googleshapeprovider.h"
#include "geo/secretstore.h"
#include "store/store.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QTimer>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <unistd.h>

namespace td::cli {

namespace {

std::atomic<bool> g_interrupted{false};

void onInterrupt(int) { g_interrupted.store(true); }

QString dataDirOf(const QCommandLineParser &p, const QCommandLineOption &opt) {
    const AppSettings settings;
    return p.isSet(opt) ? p.value(opt) : settings.dataDir();
}

int importCells(const QStringList &args) {
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Import an offline cell database (OpenCelliD CSV: radio,mcc,net,area,cell,unit,lon,lat,range,samples,...; with\n"
        "or without its header; .csv.gz read directly) or Wi-Fi access points (a CSV whose header names bssid, lat and\n"
        "lon, e.g. a WiGLE export) into TrackerDesk's database, for geolocation without any network.\n"
        "Bad lines are counted and reported, never fatal. Ctrl+C stops; what was imported before stays."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("The CSV (or .csv.gz) file."));
    QCommandLineOption dataDir(QStringLiteral("data-dir"), QStringLiteral("Folder of the database (default: the one the program uses)."),
                               QStringLiteral("DIR"));
    QCommandLineOption quiet(QStringList{QStringLiteral("q"), QStringLiteral("quiet")}, QStringLiteral("No progress."));
    p.addOptions({dataDir, quiet});
    if (const auto exit = parseArguments(p, args))
        return *exit;
    if (p.positionalArguments().size() != 1) {
        printError(QStringLiteral("give exactly one FILE (see trackerdesk geo import-cells --help)"));
        return 2;
    }
    const QString file = p.positionalArguments().first();
    const QString db = QDir(dataDirOf(p, dataDir)).filePath(store::Store::fileName());
    geo::GeoStore gs;
    QString err;
    if (!gs.open(db, &err)) {
        printError(err);
        return 1;
    }
    std::signal(SIGINT, onInterrupt);
    std::signal(SIGTERM, onInterrupt);
    const bool tty = !p.isSet(quiet) && ::isatty(2);
    const geo::ImportReport rep = geo::importGeoFile(gs, file, &g_interrupted, [tty](qint64 done, qint64 total, qint64 rows) {
        if (!tty)
            return;
        if (total > 0)
            std::fprintf(stderr, "\rimporting: %3d%% (%lld lines)", int(done * 100 / total), qint64(rows));
        else
            std::fprintf(stderr, "\rimporting: %lld lines", qint64(rows));
        std::fflush(stderr);
    });
    if (tty)
        std::fputs("\r\033[K", stderr);
    if (!rep.error.isEmpty()) {
        printError(rep.summary());
        return 1;
    }
    if (!p.isSet(quiet) || rep.bad > 0 || rep.cancelled) {
        QString text = rep.summary() + QLatin1Char('\n');
        for (const QString &b : rep.badSamples)
            text += QStringLiteral("  bad %1\n").arg(b);
        if (rep.bad > rep.badSamples.size())
            text += QStringLiteral("  ... and %1 more bad lines\n").arg(rep.bad - rep.badSamples.size());
        text += QStringLiteral("offline database: %1 cells, %2 Wi-Fi access points\n").arg(gs.cellCount()).arg(gs.wifiCount());
        printOut(text);
    }
    return rep.cancelled ? 130 : 0;
}

int status(const QStringList &args) {
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral("Show the offline geolocation data, the pending records and today's requests."));
    p.addHelpOption();
    QCommandLineOption dataDir(QStringLiteral("data-dir"), QStringLiteral("Folder of the database."), QStringLiteral("DIR"));
    p.addOption(dataDir);
    if (const auto exit = parseArguments(p, args))
        return *exit;
    if (const auto exit = noPositionalArguments(p, args))
        return *exit;
    const QString dir = dataDirOf(p, dataDir);
    if (const QString missing = missingDatabase(dir); !missing.isEmpty()) {
        printError(missing);
        return 1;
    }
    AppSettings settings;
    geo::SecretStore secrets(dir);
    QStringList problems;
    const geo::GeoConfig c = geo::loadGeoConfig(settings, dir, secrets, &problems);
    for (const QString &pr : problems)
        std::fprintf(stderr, "trackerdesk: warning: %s\n", qPrintable(pr));
    geo::GeoStore gs;
    QString err;
    if (!gs.open(QDir(dir).filePath(store::Store::fileName()), &err)) {
        printError(err);
        return 1;
    }
    geo::WebProviderConfig w;
    w.url = c.effectiveUrl();
    w.apiKey = c.apiKey;
    const geo::GoogleShapeProvider web(nullptr, w);
    QString out;
    out += QStringLiteral("geolocation   %1, providers in order: %2\n")
               .arg(c.enabled ? QStringLiteral("on") : QStringLiteral("OFF"), c.providers.join(QStringLiteral(", ")));
    out += QStringLiteral("web service   %1 (%2)\n").arg(web.displayUrl(), c.urlOrigin);
    out += QStringLiteral("API key       %1\n")
               .arg(!c.apiKey.isEmpty() ? QStringLiteral("set, from %1").arg(c.keyOrigin)
                    : web.isGoogle() ? QStringLiteral("none (Google's service needs one: no web lookups until it is set)")
                             : QStringLiteral("none"));
    out += QStringLiteral("requests      %1 today of a budget of %2\n")
               .arg(gs.requestsOn(QDate::currentDate().toString(Qt::ISODate))).arg(c.dailyBudget);
    out += QStringLiteral("offline data  %1 cells, %2 Wi-Fi access points\n").arg(gs.cellCount()).arg(gs.wifiCount());
    out += QStringLiteral("pending       %1 record(s), %2 waiting for the user\n").arg(gs.pendingCount()).arg(gs.pendingCount(true));
    const auto pending = gs.allPending(20);
    for (const geo::GeoRequest &r : pending.value_or(QList<geo::GeoRequest>()))
        out += QStringLiteral("  #%1 device %2 %3: %4 attempt(s)%5%6\n")
                   .arg(r.pendingId)
                   .arg(r.deviceId)
                   .arg(r.fixTime.toString(Qt::ISODate))
                   .arg(r.attempts)
                   .arg(r.parked ? QStringLiteral(", waiting") : QStringLiteral(", next %1").arg(r.nextAttempt.toLocalTime().toString(Qt::ISODate)))
                   .arg(r.lastMessage.isEmpty() ? QString() : QStringLiteral(", last error: ") + r.lastMessage);
    printOut(out);
    return 0;
}

int resolvePending(const QStringList &args) {
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Ask the configured geolocation providers for every pending record now and store the positions.\n"
        "A running TrackerDesk does this by itself; this is for a data folder nobody serves."));
    p.addHelpOption();
    QCommandLineOption pending(QStringLiteral("pending"), QStringLiteral("All pending records (required)."));
    QCommandLineOption dataDir(QStringLiteral("data-dir"), QStringLiteral("Folder of the database."), QStringLiteral("DIR"));
    QCommandLineOption wait(QStringLiteral("wait"), QStringLiteral("Give up after SEC seconds (default 300)."), QStringLiteral("SEC"));
    p.addOptions({pending, dataDir, wait});
    if (const auto exit = parseArguments(p, args))
        return *exit;
    if (const auto exit = noPositionalArguments(p, args))
        return *exit;
    if (!p.isSet(pending)) {
        printError(QStringLiteral("say what to resolve: --pending"));
        return 2;
    }
    bool ok = true;
    const int waitSec = p.isSet(wait) ? p.value(wait).toInt(&ok) : 300;
    if (!ok || waitSec <= 0) {
        printError(QStringLiteral("--wait needs a number of seconds"));
        return 2;
    }
    const QString dir = dataDirOf(p, dataDir);
    if (const QString missing = missingDatabase(dir); !missing.isEmpty()) {
        printError(missing);
        return 1;
    }
    AppSettings settings;
    geo::SecretStore secrets(dir);
    QStringList problems;
    geo::GeoConfig c = geo::loadGeoConfig(settings, dir, secrets, &problems);
    for (const QString &pr : problems)
        std::fprintf(stderr, "trackerdesk: warning: %s\n", qPrintable(pr));
    c.enabled = true;
    store::Store st;
    if (!st.open(QDir(dir).filePath(store::Store::fileName()))) {
        printError(st.lastError());
        return 1;
    }
    geo::GeoResolver resolver;
    QString err;
    if (!resolver.open(st.path(), c, &err)) {
        printError(err);
        return 1;
    }
    const qint64 total = resolver.stats().pending;
    if (total == 0) {
        printOut(QStringLiteral("nothing pending\n"));
        return 0;
    }
    int resolved = 0, failed = 0;
    QEventLoop loop;
    auto check = [&] {
        if (resolved + failed >= total)
            loop.quit();
    };
    QObject::connect(&resolver, &geo::GeoResolver::resolved, &loop, [&](const geo::GeoRequest &r, const geo::GeoResult &res) {
        proto::Position pos;
        pos.time = r.fixTime;
        pos.latitude = res.latitude;
        pos.longitude = res.longitude;
        pos.valid = true;
        pos.source = res.source;
        pos.accuracy = res.accuracy;
        pos.cells = r.query.cells;
        pos.wifi = r.query.wifi;
        QList<bool> isNew;
        if (!st.insertDerivedPositions(r.deviceId, QDateTime::currentMSecsSinceEpoch(), r.frameId, {pos}, &isNew))
            std::fprintf(stderr, "trackerdesk: error: %s\n", qPrintable(st.lastError()));
        printOut(QStringLiteral("device %1 %2: %3,%4 +-%5 m (%6, %7)\n")
                     .arg(r.deviceId)
                     .arg(r.fixTime.toString(Qt::ISODate))
                     .arg(res.latitude, 0, 'f', 6)
                     .arg(res.longitude, 0, 'f', 6)
                     .arg(res.accuracy, 0, 'f', 0)
                     .arg(proto::positionSourceName(res.source), res.fromCache ? QStringLiteral("cache") : res.provider));
        ++resolved;
        check();
    });
    QObject::connect(&resolver, &geo::GeoResolver::failed, &loop, [&](const geo::GeoRequest &r, const geo::GeoResult &res) {
        printOut(QStringLiteral("device %1 %2: no position: %3\n").arg(r.deviceId).arg(r.fixTime.toString(Qt::ISODate), res.message));
        ++failed;
        check();
    });
    std::signal(SIGINT, onInterrupt);
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
        if (g_interrupted.load())
            loop.quit();
    });
    poll.start(200);
    QTimer::singleShot(waitSec * 1000, &loop, &QEventLoop::quit);
    resolver.resolvePending();
    loop.exec();
    resolver.shutdown();
    printOut(QStringLiteral("%1 resolved, %2 failed, %3 not tried (of %4)\n")
                 .arg(resolved).arg(failed).arg(qMax<qint64>(0, total - resolved - failed)).arg(total));
    if (g_interrupted.load())
        return 130;
    return resolved > 0 || total == 0 ? 0 : 1;
}

} // namespace

int runGeo(const QStringList &args) {
    const QString sub = args.value(1);
    QStringList rest = args.mid(1);
    if (!rest.isEmpty())
        rest[0] = args.value(0) + QLatin1Char(' ') + sub;
    if (sub == QLatin1String("import-cells"))
        return importCells(rest);
    if (sub == QLatin1String("status"))
        return status(rest);
    if (sub == QLatin1String("resolve"))
        return resolvePending(rest);
    if (sub.isEmpty() || sub == QLatin1String("--help") || sub == QLatin1String("-h")) {
        printOut(QStringLiteral("Usage: trackerdesk geo COMMAND [options]\n\n"
                                "  import-cells FILE   import an OpenCelliD cells CSV (or .csv.gz) or a Wi-Fi CSV\n"
                                "  status              offline data, pending records, requests today\n"
                                "  resolve --pending   resolve every pending record now and store the positions\n\n"
                                "Common option: --data-dir DIR. trackerdesk geo COMMAND --help for details.\n"));
        return sub.isEmpty() ? 2 : 0;
    }
    printError(QStringLiteral("unknown geo command '%1' (import-cells, status, resolve)").arg(sub));
    return 2;
}

} // namespace td::cli
