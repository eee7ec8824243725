// Offline geolocation from the imported databases (geo_cells, geo_wifi): no network, no
// budget. Wi-Fi first when the record has access points and Wi-Fi data was imported (a
// Wi-Fi lookup is skipped otherwise), then the cells. The position is the weighted mean of
// the known transmitters (on the sphere, so it also works across the antimeridian):
//   cells:  weight 1 / range (small cells locate better)
//   Wi-Fi:  weight 10^(rssi/20) (the strongest access point is the nearest)
// and the accuracy radius is the weighted mean range, at least the distance from the
// estimate to the farthest transmitter used, at least 100 m (cells) / 30 m (Wi-Fi).
#pragma once

#include "geo/geostore.h"
#include "geo/provider.h"

namespace td::geo {

class OfflineCellProvider : public GeoProvider {
public:
    explicit OfflineCellProvider(GeoStore *store) : m_store(store) {}

    QString id() const override { return QStringLiteral("offline"); }
    QString displayName() const override { return QStringLiteral("Offline cell database"); }
    bool usesNetwork() const override { return false; }
    bool canResolve(const GeoQuery &query, QString *why) const override;
    void resolve(const GeoQuery &query, Done done) override;

    // Call after an import: whether Wi-Fi / cell data exists is cached.
    void refreshCounts();

    // The estimate from known transmitters (exposed for the tests).
    static GeoResult estimateFromCells(const QList<CellRow> &rows);
    static GeoResult estimateFromWifi(const QList<WifiRow> &rows, const QList<proto::WifiAccessPoint> &seen);

private:
    GeoStore *m_store;
    mutable qint64 m_cells = -1;     // 1: cells imported, 0: none, -1: not looked yet
    mutable qint64 m_wifi = -1;
};

// Great-circle distance in metres.
double distanceMetres(double lat1, double lon1, double lat2, double lon2);

} // namespace td::geo
