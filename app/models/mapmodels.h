// Models behind the QML map: one marker per device (last fix, heading, colour,
// accuracy for LBS/Wi-Fi fixes), and a history track with per-zoom simplification.
#pragma once

#include "service/trackerservice.h"

#include <QAbstractListModel>
#include <QGeoCoordinate>
#include <QGeoRectangle>
#include <QVariantList>
#include <vector>

namespace td {

class DeviceMarkersModel : public QAbstractListModel {
    Q_OBJECT
    Q_PROPERTY(int count READ count NOTIFY countChanged)
public:
    enum Role {
        DeviceIdRole = Qt::UserRole + 1, NameRole, ColorRole, CoordinateRole, CourseRole, SourceRole,
        AccuracyRole, PreciseRole, TimeRole, SpeedRole, BatteryRole, OnlineRole, InfoRole
    };
    explicit DeviceMarkersModel(QObject *parent = nullptr);
    void attach(TrackerService *service);
    void upsert(const DeviceStatus &d);   // devices without a fix with coordinates are not shown

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;
    int count() const { return int(m_rows.size()); }
    int rowOfDevice(qint64 id) const;
    Q_INVOKABLE QGeoCoordinate coordinateOf(qint64 deviceId) const;
    // The smallest rectangle holding every marker (invalid when there is none).
    QGeoRectangle bounds() const;

signals:
    void countChanged();

private:
    QList<DeviceStatus> m_rows;
};

// One device's track between two times, split into segments at time gaps, simplified
// per zoom level (Douglas-Peucker importance computed once, so changing zoom is a cheap
// filter). Loaded from the store's (device, time) index.
class TrackModel : public QObject {
    Q_OBJECT
    Q_PROPERTY(int pointCount READ pointCount NOTIFY trackChanged)
    Q_PROPERTY(int segmentCount READ segmentCount NOTIFY trackChanged)
    Q_PROPERTY(QVariantList segments READ segments NOTIFY segmentsChanged)
    Q_PROPERTY(QVariantList points READ points NOTIFY segmentsChanged)
    Q_PROPERTY(QString color READ color NOTIFY trackChanged)
    Q_PROPERTY(double startMs READ startMs NOTIFY trackChanged)
    Q_PROPERTY(double endMs READ endMs NOTIFY trackChanged)
    Q_PROPERTY(double cursorMs READ cursorMs WRITE setCursorMs NOTIFY cursorChanged)
    Q_PROPERTY(QGeoCoordinate cursor READ cursor NOTIFY cursorChanged)
    Q_PROPERTY(QString cursorText READ cursorText NOTIFY cursorChanged)
public:
    struct Point {
        double lat, lon;
        qint64 timeMs;
        float speed;      // km/h, -1 unknown
        float importance; // metres; +inf for segment ends
        int segment;
    };

    explicit TrackModel(QObject *parent = nullptr);

    // Loads from the store (valid GPS fixes; LBS/Wi-Fi estimates too when asked; never fixes the
    // device flagged invalid).
    bool load(store::Store &store, qint64 deviceId, const QDateTime &from, const QDateTime &to,
              int gapMinutes = 10, bool includeNonGps = false, QString *error = nullptr);
    // Sets the points directly (time-ordered); used by load() and by tests/benchmarks.
    void setPoints(std::vector<Point> points, int gapMinutes);
    void clear();
    void setColor(const QString &c) { m_color = c; emit trackChanged(); }

    // Simplification tolerance follows the zoom level (~1 px at that zoom).
    Q_INVOKABLE void setZoomLevel(double zoom);
    // Points kept at a tolerance in metres, as segments (for tests and benchmarks).
    QList<QList<const Point *>> simplified(double toleranceMetres) const;
    static double metresPerPixel(double zoom, double latitude);

    int pointCount() const { return int(m_points.size()); }
    int segmentCount() const { return m_segments; }
    QVariantList segments() const { return m_segmentPaths; }
    QVariantList points() const { return m_pointList; }
    QString color() const { return m_color; }
    double startMs() const { return m_points.empty() ? 0 : double(m_points.front().timeMs); }
    double endMs() const { return m_points.empty() ? 0 : double(m_points.back().timeMs); }
    double cursorMs() const { return m_cursorMs; }
    void setCursorMs(double ms);
    QGeoCoordinate cursor() const;
    QString cursorText() const;
    const std::vector<Point> &allPoints() const { return m_points; }

signals:
    void trackChanged();
    void segmentsChanged();
    void cursorChanged();

private:
    void computeImportance();
    void rebuildPaths();

    std::vector<Point> m_points;
    int m_segments = 0;
    double m_zoom = -1;
    double m_tolerance = 0;
    QVariantList m_segmentPaths;
    QVariantList m_pointList;
    QString m_color = QStringLiteral("#e6194b");
    double m_cursorMs = 0;
};

} // namespace td
