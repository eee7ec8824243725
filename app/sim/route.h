// Routes the tracker simulator follows: the points of a GPX file (track, route or
// waypoints), a generated random walk, or a loop around a block.
#pragma once

#include "trackerdesk/protocol/frame.h"

#include <QDateTime>
#include <QList>
#include <QString>
#include <optional>

namespace td::sim {

struct RoutePoint {
    double lat = 0;
    double lon = 0;
    std::optional<double> elevation;
};

class Route {
public:
    // Reads trkpt, rtept or wpt points (in that preference). std::nullopt with *error for a
    // missing/unreadable file, bad XML, bad coordinates or no points.
    static std::optional<Route> fromGpx(const QString &path, QString *error);
    // A walk of `points` steps of about `stepMeters` from (lat, lon), direction drifting
    // randomly (deterministic for a seed). Followed back and forth, so it never jumps.
    static Route randomWalk(double lat, double lon, quint32 seed, int points = 2000, double stepMeters = 12);
    // A closed loop around a block of width x height metres, one point every stepMeters.
    static Route block(double lat, double lon, double widthMeters, double heightMeters, double stepMeters);

    int size() const { return int(m_points.size()); }
    bool closed() const { return m_closed; }
    // The n-th fix along the route (wrapping or going back and forth), with speed and
    // course from its neighbour and the given time and interval.
    proto::Position fix(qint64 n, const QDateTime &time, double intervalSec) const;
    const QList<RoutePoint> &points() const { return m_points; }

    static double distanceMeters(double lat1, double lon1, double lat2, double lon2);
    static double bearingDegrees(double lat1, double lon1, double lat2, double lon2);

private:
    int indexAt(qint64 n) const;
    QList<RoutePoint> m_points;
    bool m_closed = false;   // true: wrap around; false: back and forth
};

} // namespace td::sim
