#include "models/mapmodels.h"

#include "models/devicelistmodel.h"

#include <QTimeZone>
#include <QtMath>
#include <algorithm>
#include <cmath>
#include <limits>

namespace td {

// ---------------- markers ----------------

DeviceMarkersModel::DeviceMarkersModel(QObject *parent) : QAbstractListModel(parent) {}

void DeviceMarkersModel::attach(TrackerService *service) {
    for (const DeviceStatus &d : service->devices())
        upsert(d);
    connect(service, &TrackerService::deviceAdded, this, &DeviceMarkersModel::upsert);
    connect(service, &TrackerService::deviceUpdated, this, &DeviceMarkersModel::upsert);
}

int DeviceMarkersModel::rowOfDevice(qint64 id) const {
    for (int i = 0; i < m_rows.size(); ++i)
        if (m_rows.at(i).device.id == id)
            return i;
    return -1;
}

void DeviceMarkersModel::upsert(const DeviceStatus &d) {
    const bool shown = d.lastFix && d.lastFix->position.hasCoordinates && d.device.state != store::DeviceState::Blocked;
    const int row = rowOfDevice(d.device.id);
    if (row >= 0 && shown) {
        m_rows[row] = d;
        emit dataChanged(index(row), index(row));
    } else if (row >= 0) {
        beginRemoveRows({}, row, row);
        m_rows.removeAt(row);
        endRemoveRows();
        emit countChanged();
    } else if (shown) {
        beginInsertRows({}, int(m_rows.size()), int(m_rows.size()));
        m_rows.append(d);
        endInsertRows();
        emit countChanged();
    }
}

int DeviceMarkersModel::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : int(m_rows.size()); }

QHash<int, QByteArray> DeviceMarkersModel::roleNames() const {
    return {{DeviceIdRole, "deviceId"}, {NameRole, "name"}, {ColorRole, "markerColor"},
            {CoordinateRole, "fixCoordinate"}, {CourseRole, "course"}, {SourceRole, "source"},
            {AccuracyRole, "accuracy"}, {PreciseRole, "precise"}, {TimeRole, "fixTime"},
            {SpeedRole, "speed"}, {BatteryRole, "battery"}, {OnlineRole, "online"}, {InfoRole, "info"}};
}

QGeoCoordinate DeviceMarkersModel::coordinateOf(qint64 deviceId) const {
    const int row = rowOfDevice(deviceId);
    if (row < 0)
        return {};
    const proto::Position &p = m_rows.at(row).lastFix->position;
    return QGeoCoordinate(p.latitude, p.longitude);
}

QGeoRectangle DeviceMarkersModel::bounds() const {
    if (m_rows.isEmpty())
        return {};
    double minLat = 90, maxLat = -90, minLon = 180, maxLon = -180;
    for (const DeviceStatus &d : m_rows) {
        const proto::Position &p = d.lastFix->position;
        minLat = std::min(minLat, p.latitude);
        maxLat = std::max(maxLat, p.latitude);
        minLon = std::min(minLon, p.longitude);
        maxLon = std::max(maxLon, p.longitude);
    }
    return QGeoRectangle(QGeoCoordinate(maxLat, minLon), QGeoCoordinate(minLat, maxLon));
}

QVariant DeviceMarkersModel::data(const QModelIndex &index, int role) const {
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const DeviceStatus &d = m_rows.at(index.row());
    const proto::Position &p = d.lastFix->position;
    const bool precise = p.source == proto::PositionSource::Gps;
    switch (role) {
    case DeviceIdRole: return d.device.id;
    case NameRole: return d.device.name.isEmpty() ? d.device.imei : d.device.name;
    case ColorRole: return DeviceListModel::colorFor(d.device);
    case CoordinateRole: return QVariant::fromValue(QGeoCoordinate(p.latitude, p.longitude));
    case CourseRole: return p.course ? *p.course : -1.0;
    case SourceRole: return proto::positionSourceName(p.source);
    case AccuracyRole:
        // A cell-tower or Wi-Fi fix is never drawn as a precise point.
        if (p.accuracy) return *p.accuracy;
        return precise ? 0.0 : (p.source == proto::PositionSource::Wifi ? 100.0 : 1000.0);
    case PreciseRole: return precise;
    case TimeRole: return p.time.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
    case SpeedRole: return p.speedKmh ? *p.speedKmh : -1.0;
    case BatteryRole: return d.status && d.status->batteryPercent ? *d.status->batteryPercent : -1;
    case OnlineRole: return d.online;
    case InfoRole: {
        QStringList lines;
        lines << (d.device.name.isEmpty() ? d.device.imei : d.device.name);
        lines << tr("Fix: %1 (%2)").arg(p.time.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")),
                                        DeviceListModel::ageText(p.time));
        lines << tr("Source: %1%2").arg(proto::positionSourceName(p.source).toUpper(),
                                        p.valid ? QString() : tr(" (not valid)"));
        if (p.speedKmh) lines << tr("Speed: %1 km/h").arg(*p.speedKmh, 0, 'f', 0);
        if (!precise) lines << tr("Accuracy: ± %1 m").arg(data(index, AccuracyRole).toDouble(), 0, 'f', 0);
        if (d.status && d.status->batteryPercent) lines << tr("Battery: %1 %").arg(*d.status->batteryPercent);
        lines << (d.online ? tr("online") : tr("offline"));
        return lines.join(QLatin1Char('\n'));
    }
    }
    return {};
}

// ---------------- track ----------------

TrackModel::TrackModel(QObject *parent) : QObject(parent) {}

double TrackModel::metresPerPixel(double zoom, double latitude) {
    return 156543.03392 * std::cos(qDegreesToRadians(latitude)) / std::pow(2.0, zoom);
}

bool TrackModel::load(store::Store &store, qint64 deviceId, const QDateTime &from, const QDateTime &to,
                      int gapMinutes, bool includeNonGps, QString *error) {
    std::vector<Point> pts;
    store::PositionFilter f;
    f.withCoordinatesOnly = true;
    f.plausibleOnly = true;   // never a line to the 0,0 of a device without a GPS lock
    if (!includeNonGps) {
        f.validOnly = true;
        f.sources = {proto::PositionSource::Gps};
    }
    const bool ok = store.forEachTrackPoint(deviceId, from, to, f, [&](double lat, double lon, qint64 timeMs, double speed) {
        pts.push_back({lat, lon, timeMs, std::isnan(speed) ? -1.f : float(speed), 0.f, 0});
        return true;
    });
    if (!ok) {
        if (error) *error = store.lastError();
        return false;
    }
    setPoints(std::move(pts), gapMinutes);
    return true;
}

void TrackModel::clear() { setPoints({}, 10); }

void TrackModel::setPoints(std::vector<Point> points, int gapMinutes) {
    m_points = std::move(points);
    const qint64 gapMs = qint64(qMax(1, gapMinutes)) * 60 * 1000;
    int seg = 0;
    for (size_t i = 0; i < m_points.size(); ++i) {
        if (i > 0 && m_points[i].timeMs - m_points[i - 1].timeMs > gapMs)
            ++seg;
        m_points[i].segment = seg;
    }
    m_segments = m_points.empty() ? 0 : seg + 1;
    computeImportance();
    m_cursorMs = m_points.empty() ? 0 : double(m_points.back().timeMs);
    m_zoom = -1;
    setZoomLevel(m_zoom < 0 ? 14 : m_zoom);
    emit trackChanged();
    emit cursorChanged();
}

// Douglas-Peucker importance: the distance at which a point would be removed. Iterative
// (explicit stack) so 100k+ points never overflow the call stack. Equirectangular
// projection around each segment's mean latitude is accurate enough at track scale.
void TrackModel::computeImportance() {
    const double inf = std::numeric_limits<float>::infinity();
    size_t start = 0;
    while (start < m_points.size()) {
        size_t end = start;
        while (end + 1 < m_points.size() && m_points[end + 1].segment == m_points[start].segment)
            ++end;
        double latSum = 0;
        for (size_t i = start; i <= end; ++i)
            latSum += m_points[i].lat;
        const double kx = 111320.0 * std::cos(qDegreesToRadians(latSum / double(end - start + 1)));
        const double ky = 110540.0;
        m_points[start].importance = float(inf);
        m_points[end].importance = float(inf);
        std::vector<std::pair<size_t, size_t>> stack;
        if (end > start + 1)
            stack.emplace_back(start, end);
        while (!stack.empty()) {
            auto [a, b] = stack.back();
            stack.pop_back();
            const double ax = m_points[a].lon * kx, ay = m_points[a].lat * ky;
            const double bx = m_points[b].lon * kx, by = m_points[b].lat * ky;
            const double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
            double best = -1;
            size_t bestI = a + 1;
            for (size_t i = a + 1; i < b; ++i) {
                const double px = m_points[i].lon * kx - ax, py = m_points[i].lat * ky - ay;
                double d2;
                if (len2 <= 0) {
                    d2 = px * px + py * py;
                } else {
                    const double t = std::clamp((px * dx + py * dy) / len2, 0.0, 1.0);
                    const double ex = px - t * dx, ey = py - t * dy;
                    d2 = ex * ex + ey * ey;
                }
                if (d2 > best) { best = d2; bestI = i; }
            }
            // A point's importance never exceeds its parent's, so filtering by a
            // tolerance gives exactly the Douglas-Peucker result for that tolerance.
            const double parent = std::min(m_points[a].importance, m_points[b].importance);
            m_points[bestI].importance = float(std::min(std::sqrt(best), parent));
            if (bestI > a + 1) stack.emplace_back(a, bestI);
            if (b > bestI + 1) stack.emplace_back(bestI, b);
        }
        start = end + 1;
    }
}

QList<QList<const TrackModel::Point *>> TrackModel::simplified(double tol) const {
    QList<QList<const Point *>> out;
    int seg = -1;
    for (const Point &p : m_points) {
        if (p.segment != seg) {
            out.append(QList<const Point *>());
            seg = p.segment;
        }
        if (p.importance >= tol)
            out.last().append(&p);
    }
    return out;
}

void TrackModel::setZoomLevel(double zoom) {
    const double z = std::floor(zoom);  // one simplification per integer zoom level
    if (z == m_zoom && !m_segmentPaths.isEmpty())
        return;
    m_zoom = z;
    const double lat = m_points.empty() ? 0 : m_points.front().lat;
    m_tolerance = metresPerPixel(z, lat);
    rebuildPaths();
}

void TrackModel::rebuildPaths() {
    m_segmentPaths.clear();
    m_pointList.clear();
    const auto segs = simplified(m_tolerance);
    int kept = 0;
    for (const auto &s : segs)
        kept += int(s.size());
    const bool showPoints = kept <= 3000;  // dots only where they stay readable
    for (const auto &s : segs) {
        QVariantList path;
        path.reserve(s.size());
        for (const Point *p : s) {
            path.append(QVariant::fromValue(QGeoCoordinate(p->lat, p->lon)));
            if (showPoints)
                m_pointList.append(QVariant::fromValue(QGeoCoordinate(p->lat, p->lon)));
        }
        m_segmentPaths.append(QVariant(path));
    }
    emit segmentsChanged();
}

void TrackModel::setCursorMs(double ms) {
    if (ms == m_cursorMs)
        return;
    m_cursorMs = ms;
    emit cursorChanged();
}

static size_t indexAtOrBefore(const std::vector<TrackModel::Point> &pts, qint64 t) {
    auto it = std::upper_bound(pts.begin(), pts.end(), t, [](qint64 v, const TrackModel::Point &p) { return v < p.timeMs; });
    return it == pts.begin() ? 0 : size_t(it - pts.begin() - 1);
}

QGeoCoordinate TrackModel::cursor() const {
    if (m_points.empty())
        return {};
    const qint64 t = qint64(m_cursorMs);
    const size_t i = indexAtOrBefore(m_points, t);
    const Point &a = m_points[i];
    if (i + 1 >= m_points.size() || m_points[i + 1].segment != a.segment || t <= a.timeMs)
        return QGeoCoordinate(a.lat, a.lon);
    const Point &b = m_points[i + 1];  // interpolate inside a segment
    const double f = double(t - a.timeMs) / double(qMax<qint64>(1, b.timeMs - a.timeMs));
    return QGeoCoordinate(a.lat + (b.lat - a.lat) * f, a.lon + (b.lon - a.lon) * f);
}

QString TrackModel::cursorText() const {
    if (m_points.empty())
        return {};
    const Point &a = m_points[indexAtOrBefore(m_points, qint64(m_cursorMs))];
    QString s = QDateTime::fromMSecsSinceEpoch(qint64(m_cursorMs), QTimeZone::UTC).toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
    if (a.speed >= 0)
        s += QStringLiteral(" · %1 km/h").arg(double(a.speed), 0, 'f', 0);
    return s;
}

} // namespace td
