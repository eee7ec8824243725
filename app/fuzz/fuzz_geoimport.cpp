// libFuzzer target for the offline geolocation import (td::geo::importGeoFile): OpenCelliD
// cell CSV, Wi-Fi CSV and WiGLE exports, plain or gzip-compressed, streamed line by line into
// a real GeoStore (SQLite). The first input byte picks the file name (.csv or .csv.gz) and
// the batch size; the rest is the file. Checks the importer's promises: never crashes, a
// malformed line is counted and never stored (every stored row has coordinates in range), the
// counts add up, a file it cannot read says why.
//   scripts/in-env cmake --preset fuzz
//   scripts/in-env cmake --build build/fuzz --target fuzz_geoimport
//   scripts/in-env build/fuzz/app/fuzz/fuzz_geoimport -max_total_time=60 CORPUS_DIR
// Seeds: tests/data/fuzz/fuzz_geoimport/ (scripts/fuzz copies them into the corpus).
#include "geo/cellimport.h"
#include "geo/geostore.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

using namespace td::geo;

namespace {

struct World {
    std::unique_ptr<QCoreApplication> app;
    std::unique_ptr<QTemporaryDir> dir;
    std::unique_ptr<GeoStore> store;
    QSqlDatabase check;   // a second connection that looks at what was stored
};

World *g_world = nullptr;

void fail(const char *what, const ImportReport &rep) {
    std::fprintf(stderr, "fuzz_geoimport: %s; report: %s\n", what, rep.summary().toUtf8().constData());
    std::abort();
}

qint64 scalar(QSqlDatabase &db, const char *sql) {
    QSqlQuery q(db);
    if (!q.exec(QLatin1String(sql)) || !q.next()) {
        std::fprintf(stderr, "fuzz_geoimport: query failed: %s\n", sql);
        std::abort();
    }
    return q.value(0).toLongLong();
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv) {
    g_world = new World;
    g_world->app = std::make_unique<QCoreApplication>(*argc, *argv);
    g_world->dir = std::make_unique<QTemporaryDir>();
    if (!g_world->dir->isValid()) {
        std::fprintf(stderr, "fuzz_geoimport: no temporary folder\n");
        std::abort();
    }
    const QString db = g_world->dir->filePath(QStringLiteral("trackerdesk.db"));
    g_world->store = std::make_unique<GeoStore>();
    QString error;
    if (!g_world->store->open(db, &error)) {
        std::fprintf(stderr, "fuzz_geoimport: %s\n", error.toUtf8().constData());
        std::abort();
    }
    g_world->check = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("fuzz-check"));
    g_world->check.setDatabaseName(db);
    g_world->check.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=10000"));
    if (!g_world->check.open()) {
        std::fprintf(stderr, "fuzz_geoimport: cannot open the check connection\n");
        std::abort();
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 256 * 1024)
        return 0;
    World &w = *g_world;
    const bool gz = data[0] & 1;
    ImportOptions options;
    options.batchRows = 1 + (data[0] >> 1) % 16;   // many commits in a small file
    options.pauseAfterCommit = false;
    options.maxBadSamples = 3;
    const QString path = w.dir->filePath(gz ? QStringLiteral("input.csv.gz") : QStringLiteral("input.csv"));
    {
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
            std::abort();
        f.write(reinterpret_cast<const char *>(data + 1), qint64(size - 1));
    }
    {
        QSqlQuery q(w.check);
        q.exec(QStringLiteral("DELETE FROM geo_cells"));
        q.exec(QStringLiteral("DELETE FROM geo_wifi"));
    }
    const ImportReport rep = importGeoFile(*w.store, path, nullptr, {}, options);
    QFile::remove(path);

    if (rep.bad < 0 || rep.bad > rep.lines || rep.cells < 0 || rep.wifi < 0 || rep.skipped < 0)
        fail("impossible counts", rep);
    if (rep.cells + rep.wifi + rep.skipped + rep.bad > rep.lines)
        fail("more rows accounted for than data lines read", rep);
    if (rep.badSamples.size() > options.maxBadSamples || (rep.bad > 0 && rep.badSamples.isEmpty()))
        fail("bad-line samples do not match the bad count", rep);
    if (!rep.ok() && rep.error.isEmpty())
        fail("failed without saying why", rep);
    if (rep.bytesRead < 0 || (rep.bytesTotal > 0 && rep.bytesRead > rep.bytesTotal))
        fail("bytes read outside the file", rep);
    if (rep.summary().isEmpty())
        fail("empty summary", rep);
    const qint64 cells = scalar(w.check, "SELECT count(*) FROM geo_cells");
    const qint64 wifi = scalar(w.check, "SELECT count(*) FROM geo_wifi");
    if (cells > rep.cells || wifi > rep.wifi)
        fail("more rows stored than reported", rep);
    if (scalar(w.check, "SELECT count(*) FROM geo_cells WHERE NOT (lat BETWEEN -90 AND 90) OR NOT (lon BETWEEN -180 AND 180)"
                        " OR range_m < 0 OR samples < 0")
        || scalar(w.check, "SELECT count(*) FROM geo_wifi WHERE NOT (lat BETWEEN -90 AND 90) OR NOT (lon BETWEEN -180 AND 180)"
                           " OR range_m < 0 OR samples < 1 OR length(bssid) <> 17"))
        fail("a stored row is out of range", rep);
    return 0;
}
