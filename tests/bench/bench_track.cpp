// History track benchmark: a device with N fixes in the store (default 100,000) —
// loading its track for the day through the (device, time) index, computing the
// simplification, and re-simplifying per zoom level (what the map does while zooming).
// Baseline in the same run: reading the same rows with a bare SQL loop (no model).
//   scripts/in-env build/release/tests/bench/bench_track [N]
#include "models/mapmodels.h"
#include "store/store.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QSqlError>
#include <QSqlQuery>
#include <QTimeZone>
#include <cmath>
#include <QTemporaryDir>
#include <cstdio>

using namespace td;

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    const int n = argc > 1 ? QString::fromLocal8Bit(argv[1]).toInt() : 100000;
    QTemporaryDir dir;
    store::Store st;
    if (!st.open(dir.filePath(QStringLiteral("bench.db")))) {
        std::fprintf(stderr, "open: %s\n", qPrintable(st.lastError()));
        return 1;
    }
    // N fixes of one device, one per second, in batches like the writer does.
    const qint64 t0 = QDateTime(QDate(2026, 5, 1), QTime(0, 0), QTimeZone::UTC).toMSecsSinceEpoch();
    QElapsedTimer fill;
    fill.start();
    double lat = 48.85, lon = 2.35, heading = 0;
    for (int done = 0; done < n;) {
        QList<store::WorkItem> batch;
        for (int k = 0; k < 1000 && done < n; ++k, ++done) {
            heading += std::sin(done * 0.01) * 0.2;
            lat += std::cos(heading) * 0.00005;
            lon += std::sin(heading) * 0.00007;
            store::WorkItem w;
            w.ticket = quint64(done);
            w.serverTimeMs = t0 + qint64(done) * 1000;
            w.deviceKey = QStringLiteral("864717003283581");
            w.protocol = QStringLiteral("gt06");
            w.type = 0x22;
            w.bytes = QByteArray(39, '\0');
            w.messageKind = proto::MessageKind::Position;
            proto::Position p;
            p.time = QDateTime::fromMSecsSinceEpoch(w.serverTimeMs, QTimeZone::UTC);
            p.latitude = lat;
            p.longitude = lon;
            p.valid = true;
            p.speedKmh = 4;
            w.positions = {p};
            batch.append(w);
        }
        QList<store::WorkResult> res;
        if (!st.applyBatch(batch, &res)) {
            std::fprintf(stderr, "write: %s\n", qPrintable(st.lastError()));
            return 1;
        }
    }
    std::printf("filled %d fixes in %.1f s\n", n, fill.elapsed() / 1000.0);
    const qint64 deviceId = st.deviceByImei(QStringLiteral("864717003283581"))->id;
    const QDateTime from = QDateTime::fromMSecsSinceEpoch(t0, QTimeZone::UTC);
    const QDateTime to = from.addSecs(n + 10);

    // Baseline: the same rows through a bare query loop.
    QElapsedTimer t;
    t.start();
    QSqlQuery q(st.database());
    q.setForwardOnly(true);
    q.prepare(QStringLiteral("SELECT lat, lon, fix_time FROM positions WHERE device_id = ? AND fix_time BETWEEN ? AND ? ORDER BY fix_time"));
    q.addBindValue(deviceId);
    q.addBindValue(from.toMSecsSinceEpoch());
    q.addBindValue(to.toMSecsSinceEpoch());
    double sum = 0;
    qint64 rows = 0;
    if (q.exec())
        while (q.next()) { sum += q.value(0).toDouble(); ++rows; }
    const double baseMs = t.nsecsElapsed() / 1e6;
    if (rows == 0)
        std::printf("note: baseline query returned no rows (%s)\n", qPrintable(q.lastError().text()));

    TrackModel model;
    t.restart();
    QString err;
    if (!model.load(st, deviceId, from, to, 10, false, &err)) {
        std::fprintf(stderr, "load: %s\n", qPrintable(err));
        return 1;
    }
    const double loadMs = t.nsecsElapsed() / 1e6;
    std::printf("track load (store index + simplification importance): %d points in %.1f ms\n", model.pointCount(), loadMs);
    std::printf("baseline bare SQL read of the same rows:               %lld rows in %.1f ms (ratio %.2f)\n",
                rows, baseMs, baseMs > 0 ? loadMs / baseMs : 0.0);
    {
        std::vector<TrackModel::Point> copy = model.allPoints();
        TrackModel again;
        t.restart();
        again.setPoints(std::move(copy), 10);
        std::printf("  of which simplification importance + first paths:   %.1f ms\n", t.nsecsElapsed() / 1e6);
    }
    for (double zoom : {6.0, 10.0, 13.0, 15.0, 17.0, 19.0}) {
        t.restart();
        const auto segs = model.simplified(TrackModel::metresPerPixel(zoom, lat));
        const double ms = t.nsecsElapsed() / 1e6;
        qsizetype kept = 0;
        for (const auto &s : segs) kept += s.size();
        std::printf("zoom %4.1f: %7lld of %d points drawn, simplify %.2f ms\n", zoom, qint64(kept), model.pointCount(), ms);
    }
    return sum > 0 ? 0 : 1;
}
