#include "geo/offlinecellprovider.h"

#include <QHash>
#include <cmath>

namespace td::geo {

namespace {

constexpr double kEarthRadius = 6371008.8;   // metres (mean radius)
constexpr double kDeg = 3.14159265358979323846 / 180.0;

struct Weighted {
    double lat, lon, weight, range;
};

// Weighted mean on the unit sphere, accuracy as described in the header.
GeoResult combine(const QList<Weighted> &points, double minAccuracy, proto::PositionSource source) {
    double x = 0, y = 0, z = 0, wsum = 0, rsum = 0;
    for (const Weighted &p : points) {
        const double la = p.lat * kDeg, lo = p.lon * kDeg;
        x += p.weight * std::cos(la) * std::cos(lo);
        y += p.weight * std::cos(la) * std::sin(lo);
        z += p.weight * std::sin(la);
        wsum += p.weight;
        rsum += p.weight * p.range;
    }
    GeoResult r;
    if (wsum <= 0 || (x == 0 && y == 0 && z == 0))
        return GeoResult::failure(GeoError::NotFound, QStringLiteral("the known transmitters give no usable position"));
    const double hyp = std::sqrt(x * x + y * y);
    r.latitude = std::atan2(z, hyp) / kDeg;
    r.longitude = std::atan2(y, x) / kDeg;
    double spread = 0;
    for (const Weighted &p : points)
        spread = std::max(spread, distanceMetres(r.latitude, r.longitude, p.lat, p.lon));
    r.accuracy = std::round(std::max({rsum / wsum, spread, minAccuracy}));
    r.source = source;
    r.provider = QStringLiteral("offline");
    return r;
}

bool plausible(double lat, double lon) {
    return std::isfinite(lat) && std::isfinite(lon) && std::fabs(lat) <= 90 && std::fabs(lon) <= 180;
}

} // namespace

double distanceMetres(double lat1, double lon1, double lat2, double lon2) {
    const double dlat = (lat2 - lat1) * kDeg, dlon = (lon2 - lon1) * kDeg;
    const double a = std::sin(dlat / 2) * std::sin(dlat / 2)
                     + std::cos(lat1 * kDeg) * std::cos(lat2 * kDeg) * std::sin(dlon / 2) * std::sin(dlon / 2);
    return 2 * kEarthRadius * std::asin(std::min(1.0, std::sqrt(a)));
}

void OfflineCellProvider::refreshCounts() {
    m_cells = m_store ? qint64(m_store->hasCells()) : -1;
    m_wifi = m_store ? qint64(m_store->hasWifi()) : -1;
}

bool OfflineCellProvider::canResolve(const GeoQuery &query, QString *why) const {
    auto no = [why](const QString &w) {
        if (why)
            *why = w;
        return false;
    };
    if (!m_store || !m_store->isOpen())
        return no(QStringLiteral("the offline database is not open"));
    if (m_cells < 0 || m_wifi < 0) {
        m_cells = qint64(m_store->hasCells());
        m_wifi = qint64(m_store->hasWifi());
    }
    const bool wifi = !query.usableWifi().isEmpty() && m_wifi > 0;
    const bool cells = !query.cells.isEmpty() && m_cells > 0;
    if (wifi || cells)
        return true;
    if (m_cells <= 0 && m_wifi <= 0)
        return no(QStringLiteral("no offline cell database imported (Settings > Geolocation > Import)"));
    if (query.cells.isEmpty())
        return no(QStringLiteral("Wi-Fi only record and no offline Wi-Fi data imported"));
    return no(QStringLiteral("no offline cell data imported"));
}

GeoResult OfflineCellProvider::estimateFromCells(const QList<CellRow> &rows) {
    // Several radios may list the same cell key: keep the row with the most samples.
    QHash<QString, CellRow> best;
    for (const CellRow &r : rows) {
        if (!plausible(r.latitude, r.longitude))
            continue;
        const QString k = QStringLiteral("%1-%2-%3-%4").arg(r.mcc).arg(r.mnc).arg(r.lac).arg(r.cid);
        auto it = best.find(k);
        if (it == best.end() || r.samples > it->samples)
            best.insert(k, r);
    }
    QList<Weighted> pts;
    for (const CellRow &r : std::as_const(best)) {
        const double range = std::max(100, r.range);
        pts << Weighted{r.latitude, r.longitude, 1.0 / range, range};
    }
    if (pts.isEmpty())
        return GeoResult::failure(GeoError::NotFound, QStringLiteral("none of the cells is in the offline database"));
    GeoResult g = combine(pts, 100, proto::PositionSource::Lbs);
    if (g.ok())
        g.message = QStringLiteral("%1 known cell(s)").arg(pts.size());
    return g;
}

GeoResult OfflineCellProvider::estimateFromWifi(const QList<WifiRow> &rows, const QList<proto::WifiAccessPoint> &seen) {
    QHash<QString, int> rssi;
    for (const proto::WifiAccessPoint &a : seen)
        rssi.insert(a.bssid.toLower(), a.rssi);
    QList<Weighted> pts;
    for (const WifiRow &r : rows) {
        if (!plausible(r.latitude, r.longitude))
            continue;
        const int s = rssi.value(r.bssid.toLower(), 0);
        const double dbm = s < 0 ? double(s) : -80.0;   // unknown strength: a weak one
        const double range = r.range > 0 ? std::max(30, r.range) : 75.0;
        pts << Weighted{r.latitude, r.longitude, std::pow(10.0, dbm / 20.0), range};
    }
    if (pts.isEmpty())
        return GeoResult::failure(GeoError::NotFound, QStringLiteral("none of the access points is in the offline Wi-Fi data"));
    GeoResult g = combine(pts, 30, proto::PositionSource::Wifi);
    if (g.ok())
        g.message = QStringLiteral("%1 known access point(s)").arg(pts.size());
    return g;
}

void OfflineCellProvider::resolve(const GeoQuery &query, Done done) {
    QString why;
    if (!canResolve(query, &why)) {
        done(GeoResult::failure(GeoError::NotConfigured, why));
        return;
    }
    GeoResult wifiResult;
    const QList<proto::WifiAccessPoint> aps = query.usableWifi();
    if (!aps.isEmpty() && m_wifi > 0) {
        const auto rows = m_store->findWifi(aps);
        if (!rows) {
            done(GeoResult::failure(GeoError::ServerError, QStringLiteral("offline database: %1").arg(m_store->lastError())));
            return;
        }
        wifiResult = estimateFromWifi(*rows, aps);
        if (wifiResult.ok()) {
            done(wifiResult);
            return;
        }
    }
    if (query.cells.isEmpty() || m_cells <= 0) {
        done(wifiResult.ok() ? wifiResult
                             : GeoResult::failure(GeoError::NotFound, wifiResult.message.isEmpty()
                                                                          ? QStringLiteral("nothing known offline for this record")
                                                                          : wifiResult.message));
        return;
    }
    const auto rows = m_store->findCells(query.cells);
    if (!rows) {
        done(GeoResult::failure(GeoError::ServerError, QStringLiteral("offline database: %1").arg(m_store->lastError())));
        return;
    }
    GeoResult r = estimateFromCells(*rows);
    if (!r.ok())
        r.message = QStringLiteral("none of the %1 cell(s) is in the offline database").arg(query.cells.size());
    r.provider = id();
    done(r);
}

} // namespace td::geo
