#include "sim/route.h"

#include <QFile>
#include <QXmlStreamReader>

#include <cmath>
#include <random>

namespace td::sim {

namespace {
constexpr double kEarthRadius = 6371008.8;
constexpr double kPi = 3.14159265358979323846;
double rad(double d) { return d * kPi / 180.0; }
double deg(double r) { return r * 180.0 / kPi; }
} // namespace

double Route::distanceMeters(double lat1, double lon1, double lat2, double lon2) {
    const double dlat = rad(lat2 - lat1), dlon = rad(lon2 - lon1);
    const double a = std::sin(dlat / 2) * std::sin(dlat / 2)
                     + std::cos(rad(lat1)) * std::cos(rad(lat2)) * std::sin(dlon / 2) * std::sin(dlon / 2);
    return 2 * kEarthRadius * std::asin(std::min(1.0, std::sqrt(a)));
}

double Route::bearingDegrees(double lat1, double lon1, double lat2, double lon2) {
    const double y = std::sin(rad(lon2 - lon1)) * std::cos(rad(lat2));
    const double x = std::cos(rad(lat1)) * std::sin(rad(lat2)) - std::sin(rad(lat1)) * std::cos(rad(lat2)) * std::cos(rad(lon2 - lon1));
    const double b = std::fmod(deg(std::atan2(y, x)) + 360.0, 360.0);
    return b;
}

std::optional<Route> Route::fromGpx(const QString &path, QString *error) {
    auto fail = [&](const QString &e) -> std::optional<Route> {
        if (error)
            *error = QStringLiteral("%1: %2").arg(path, e);
        return std::nullopt;
    };
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return fail(f.errorString());
    QXmlStreamReader xml(&f);
    QList<RoutePoint> trk, rte, wpt;
    QList<RoutePoint> *current = nullptr;
    RoutePoint point;
    while (!xml.atEnd()) {
        xml.readNext();
        if (xml.isStartElement()) {
            const auto name = xml.name();
            if (name == QLatin1String("trkpt") || name == QLatin1String("rtept") || name == QLatin1String("wpt")) {
                bool okLat = false, okLon = false;
                point = RoutePoint{};
                point.lat = xml.attributes().value(QLatin1String("lat")).toDouble(&okLat);
                point.lon = xml.attributes().value(QLatin1String("lon")).toDouble(&okLon);
                if (!okLat || !okLon || std::abs(point.lat) > 90 || std::abs(point.lon) > 180)
                    return fail(QStringLiteral("line %1: a %2 without valid lat/lon attributes").arg(xml.lineNumber()).arg(name.toString()));
                current = name == QLatin1String("trkpt") ? &trk : name == QLatin1String("rtept") ? &rte : &wpt;
            } else if (name == QLatin1String("ele") && current) {
                bool ok = false;
                const double e = xml.readElementText().trimmed().toDouble(&ok);
                if (ok)
                    point.elevation = e;
            }
        } else if (xml.isEndElement() && current) {
            const auto name = xml.name();
            if (name == QLatin1String("trkpt") || name == QLatin1String("rtept") || name == QLatin1String("wpt")) {
                current->append(point);
                current = nullptr;
            }
        }
    }
    if (xml.hasError())
        return fail(QStringLiteral("not a readable GPX file (line %1: %2)").arg(xml.lineNumber()).arg(xml.errorString()));
    Route r;
    r.m_points = !trk.isEmpty() ? trk : !rte.isEmpty() ? rte : wpt;
    if (r.m_points.isEmpty())
        return fail(QStringLiteral("the GPX file has no track, route or waypoints"));
    const RoutePoint &a = r.m_points.first(), &b = r.m_points.last();
    r.m_closed = r.m_points.size() > 2 && distanceMeters(a.lat, a.lon, b.lat, b.lon) < 50;
    return r;
}

Route Route::randomWalk(double lat, double lon, quint32 seed, int points, double stepMeters) {
    Route r;
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> turn(-25.0, 25.0);
    double heading = std::uniform_real_distribution<double>(0, 360)(rng);
    double la = lat, lo = lon;
    r.m_points.reserve(points);
    for (int i = 0; i < points; ++i) {
        r.m_points.append(RoutePoint{la, lo, 5.0 + 3.0 * std::sin(i / 50.0)});
        heading = std::fmod(heading + turn(rng) + 360.0, 360.0);
        // Drift back towards the start when far away, so the walk stays in its area.
        if (distanceMeters(la, lo, lat, lon) > 2000) {
            const double back = bearingDegrees(la, lo, lat, lon);
            heading = back + turn(rng);
        }
        la += stepMeters * std::cos(rad(heading)) / 111320.0;
        lo += stepMeters * std::sin(rad(heading)) / (111320.0 * std::max(0.01, std::cos(rad(la))));
    }
    r.m_closed = false;
    return r;
}

Route Route::block(double lat, double lon, double widthMeters, double heightMeters, double stepMeters) {
    Route r;
    const double dLat = heightMeters / 111320.0;
    const double dLon = widthMeters / (111320.0 * std::max(0.01, std::cos(rad(lat))));
    const RoutePoint corners[4] = {{lat, lon, {}}, {lat + dLat, lon, {}}, {lat + dLat, lon + dLon, {}}, {lat, lon + dLon, {}}};
    for (int side = 0; side < 4; ++side) {
        const RoutePoint &a = corners[side], &b = corners[(side + 1) % 4];
        const double len = distanceMeters(a.lat, a.lon, b.lat, b.lon);
        const int steps = std::max(1, int(len / std::max(0.5, stepMeters)));
        for (int i = 0; i < steps; ++i) {
            const double t = double(i) / steps;
            r.m_points.append(RoutePoint{a.lat + (b.lat - a.lat) * t, a.lon + (b.lon - a.lon) * t, 2.0});
        }
    }
    r.m_closed = true;
    return r;
}

int Route::indexAt(qint64 n) const {
    const int size = int(m_points.size());
    if (size <= 1)
        return 0;
    if (m_closed)
        return int(n % size);
    const qint64 period = 2 * (size - 1);
    const int k = int(n % period);
    return k < size ? k : int(period - k);
}

proto::Position Route::fix(qint64 n, const QDateTime &time, double intervalSec) const {
    proto::Position p;
    p.time = time;
    p.valid = true;
    p.source = proto::PositionSource::Gps;
    if (m_points.isEmpty())
        return p;
    const RoutePoint &cur = m_points[indexAt(n)];
    const RoutePoint &prev = m_points[indexAt(n > 0 ? n - 1 : 0)];
    p.latitude = cur.lat;
    p.longitude = cur.lon;
    p.altitude = cur.elevation;
    const double d = distanceMeters(prev.lat, prev.lon, cur.lat, cur.lon);
    p.speedKmh = std::round(d / std::max(0.001, intervalSec) * 3.6);
    p.course = d > 0.1 ? std::round(bearingDegrees(prev.lat, prev.lon, cur.lat, cur.lon)) : 0.0;
    if (*p.course >= 360)
        p.course = 0.0;
    p.satellites = 7 + int(n % 5);
    return p;
}

} // namespace td::sim
