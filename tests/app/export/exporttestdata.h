// Data sources for the export tests: a list of rows given by the test, and a generator
// that computes row i of a device on the fly (so 1,000,000 rows need no memory) and can
// recompute any row to check what a reader got back.
#pragma once

#include "export/exporter.h"

#include <QList>
#include <QPair>
#include <QTimeZone>
#include <cmath>

namespace td::exporter::testdata {

class ListSource : public TrackSource {
public:
    QList<QPair<TrackDevice, proto::Position>> rows;
    qint64 count() override { return rows.size(); }
    bool forEach(const PositionCallback &cb) override {
        for (const auto &r : std::as_const(rows))
            if (!cb(r.first, r.second))
                break;
        return true;
    }
    void add(const TrackDevice &d, const proto::Position &p) { rows.append({d, p}); }
};

// Device d (0-based), row i: a fix every `stepSeconds`, with a gap of `gapMinutes` after
// every `gapEvery` rows (0: none). Coordinates wander around a base that is south-west for
// odd devices (negative numbers), altitude on even rows, speed/course/satellites always.
struct Generator {
    int devices = 1;
    qint64 perDevice = 1000;
    int stepSeconds = 10;
    qint64 gapEvery = 0;
    int gapMinutes = 0;
    qint64 startMs = 1714521600000LL;   // 2024-05-01T00:00:00Z

    static TrackDevice device(int d) {
        TrackDevice t;
        t.id = d + 1;
        t.key = QStringLiteral("8647170032835%1").arg(d + 10);
        t.name = d == 0 ? QStringLiteral("Car") : QStringLiteral("Bike %1").arg(d);
        return t;
    }
    qint64 timeMs(qint64 i) const {
        qint64 t = startMs + i * stepSeconds * 1000LL;
        if (gapEvery > 0)
            t += (i / gapEvery) * qint64(gapMinutes) * 60000;
        return t;
    }
    proto::Position position(int d, qint64 i) const {
        proto::Position p;
        p.time = QDateTime::fromMSecsSinceEpoch(timeMs(i), QTimeZone::UTC);
        const double baseLat = d % 2 ? -33.8688 : 52.52;
        const double baseLon = d % 2 ? -70.6693 : 13.405;
        p.latitude = baseLat + 0.0000123 * double(i % 5000) + 0.01 * std::sin(double(i) / 700.0);
        p.longitude = baseLon + 0.0000234 * double(i % 7000) + 0.01 * std::cos(double(i) / 900.0);
        if (i % 2 == 0)
            p.altitude = 30.0 + double(i % 100) * 0.5;
        p.speedKmh = double(i % 120) + 0.25;
        p.course = double((i * 7) % 360) + 0.5;
        p.satellites = int(i % 13);
        p.valid = true;
        p.source = proto::PositionSource::Gps;
        return p;
    }
    qint64 total() const { return qint64(devices) * perDevice; }
};

class GeneratedSource : public TrackSource {
public:
    explicit GeneratedSource(Generator g) : gen(g) {}
    Generator gen;
    qint64 failAfter = -1;   // > 0: a read error after this many rows
    qint64 count() override { return gen.total(); }
    bool forEach(const PositionCallback &cb) override {
        qint64 n = 0;
        for (int d = 0; d < gen.devices; ++d) {
            const TrackDevice dev = Generator::device(d);
            for (qint64 i = 0; i < gen.perDevice; ++i) {
                if (failAfter > 0 && n == failAfter) {
                    m_error = QStringLiteral("disk I/O error (simulated)");
                    return false;
                }
                ++n;
                if (!cb(dev, gen.position(d, i)))
                    return true;
            }
        }
        return true;
    }
    QString errorString() const override { return m_error; }

private:
    QString m_error;
};

} // namespace td::exporter::testdata
