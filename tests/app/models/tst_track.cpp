// The history track model: gaps in time break the line, simplification per zoom level
// keeps the shape within about a pixel and drops most points at low zoom, the cursor
// follows the time slider, and the device marker model shows cell fixes as imprecise.
#include "models/mapmodels.h"

#include <QtTest>
#include <cmath>

using td::TrackModel;

static std::vector<TrackModel::Point> walk(int n, qint64 t0, int stepSec, double lat = 48.85, double lon = 2.35) {
    std::vector<TrackModel::Point> pts;
    pts.reserve(size_t(n));
    double heading = 0;
    for (int i = 0; i < n; ++i) {
        heading += std::sin(i * 0.01) * 0.2;  // a wiggly but deterministic path
        lat += std::cos(heading) * 0.00005;
        lon += std::sin(heading) * 0.00007;
        pts.push_back({lat, lon, t0 + qint64(i) * stepSec * 1000, 4.0f, 0.f, 0});
    }
    return pts;
}

// Distance in metres from p to the polyline of kept points of its segment.
static double deviation(const TrackModel::Point &p, const QList<const TrackModel::Point *> &kept) {
    const double kx = 111320.0 * std::cos(p.lat * M_PI / 180), ky = 110540.0;
    double best = 1e18;
    for (int i = 0; i + 1 < kept.size(); ++i) {
        const double ax = kept[i]->lon * kx, ay = kept[i]->lat * ky;
        const double bx = kept[i + 1]->lon * kx - ax, by = kept[i + 1]->lat * ky - ay;
        const double px = p.lon * kx - ax, py = p.lat * ky - ay;
        const double len2 = bx * bx + by * by;
        const double t = len2 > 0 ? std::clamp((px * bx + py * by) / len2, 0.0, 1.0) : 0;
        best = std::min(best, std::hypot(px - t * bx, py - t * by));
    }
    return best;
}

class TestTrack : public QObject {
    Q_OBJECT
private slots:
    void gapsBreakTheLine() {
        TrackModel m;
        auto a = walk(50, 1'700'000'000'000, 5);
        auto b = walk(50, a.back().timeMs + 30 * 60 * 1000, 5);  // 30 min later
        a.insert(a.end(), b.begin(), b.end());
        m.setPoints(a, 10);
        QCOMPARE(m.pointCount(), 100);
        QCOMPARE(m.segmentCount(), 2);
        QCOMPARE(m.segments().size(), 2);
        m.setPoints(a, 60);  // a gap shorter than the threshold does not break it
        QCOMPARE(m.segmentCount(), 1);
    }
    void simplificationFollowsZoom() {
        TrackModel m;
        m.setPoints(walk(100000, 1'700'000'000'000, 1), 10);
        QCOMPARE(m.pointCount(), 100000);
        int previous = 0;
        for (double zoom : {8.0, 12.0, 15.0, 18.0}) {
            const double tol = TrackModel::metresPerPixel(zoom, 48.85);
            const auto segs = m.simplified(tol);
            int kept = 0;
            for (const auto &s : segs) kept += int(s.size());
            QVERIFY2(kept >= previous, "more detail at higher zoom");
            previous = kept;
            // Every dropped point lies within the tolerance of the simplified line.
            double worst = 0;
            for (int i = 0; i < m.pointCount(); i += 97)
                worst = std::max(worst, deviation(m.allPoints()[size_t(i)], segs[0]));
            QVERIFY2(worst <= tol * 1.01, qPrintable(QStringLiteral("zoom %1: %2 m > %3 m").arg(zoom).arg(worst).arg(tol)));
            if (zoom <= 12)  // a city-scale view draws a small fraction of a day's fixes
                QVERIFY2(kept < 10000, qPrintable(QStringLiteral("zoom %1 keeps %2 of 100000").arg(zoom).arg(kept)));
            if (zoom <= 8)
                QVERIFY2(kept < 1000, qPrintable(QStringLiteral("zoom %1 keeps %2 of 100000").arg(zoom).arg(kept)));
        }
        m.setZoomLevel(10);
        int pathPoints = 0;
        for (const QVariant &seg : m.segments()) pathPoints += int(seg.toList().size());
        QVERIFY(pathPoints < 5000);
        QVERIFY(pathPoints >= 2);
    }
    void cursorFollowsTime() {
        TrackModel m;
        std::vector<TrackModel::Point> pts = {{48.0, 2.0, 1000, 10, 0, 0}, {48.0, 2.1, 11000, 20, 0, 0}};
        m.setPoints(pts, 10);
        m.setCursorMs(6000);  // half way: interpolated
        QVERIFY(std::abs(m.cursor().longitude() - 2.05) < 1e-9);
        m.setCursorMs(0);
        QCOMPARE(m.cursor().longitude(), 2.0);
        m.setCursorMs(99999);
        QCOMPARE(m.cursor().longitude(), 2.1);
        QVERIFY(m.cursorText().contains(QLatin1String("20 km/h")));
        m.clear();
        QCOMPARE(m.pointCount(), 0);
        QVERIFY(!m.cursor().isValid());
    }
    void cellFixesAreImprecise() {
        td::DeviceMarkersModel markers;
        td::DeviceStatus d;
        d.device.id = 1;
        d.device.imei = QStringLiteral("864717003283581");
        td::store::StoredPosition sp;
        sp.position.latitude = 48.85;
        sp.position.longitude = 2.35;
        sp.position.source = td::proto::PositionSource::Lbs;
        sp.position.accuracy = 850;
        sp.position.time = QDateTime::currentDateTimeUtc();
        d.lastFix = sp;
        markers.upsert(d);
        QCOMPARE(markers.count(), 1);
        const QModelIndex i = markers.index(0);
        QCOMPARE(i.data(td::DeviceMarkersModel::PreciseRole).toBool(), false);
        QCOMPARE(i.data(td::DeviceMarkersModel::AccuracyRole).toDouble(), 850.0);
        const QString info = i.data(td::DeviceMarkersModel::InfoRole).toString();
        QVERIFY2(info.contains(QStringLiteral("± 850 m")), qPrintable(info));
        d.lastFix->position.source = td::proto::PositionSource::Gps;
        d.lastFix->position.accuracy.reset();
        markers.upsert(d);
        QCOMPARE(markers.index(0).data(td::DeviceMarkersModel::PreciseRole).toBool(), true);
        QCOMPARE(markers.index(0).data(td::DeviceMarkersModel::AccuracyRole).toDouble(), 0.0);
        d.device.state = td::store::DeviceState::Blocked;  // blocked devices leave the map
        markers.upsert(d);
        QCOMPARE(markers.count(), 0);
    }
};

QTEST_GUILESS_MAIN(TestTrack)
#include "tst_track.moc"
