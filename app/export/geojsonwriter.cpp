// GeoJSON (RFC 7946): a FeatureCollection with one Feature per continuous span of a
// device: a LineString (or a Point for a span of one fix) with [longitude, latitude
// (, altitude)] positions, WGS 84, and properties device, name, segment, start, end,
// points and coordTimes (the per-position ISO times, the convention of togeojson /
// Mapbox tools). bbox [west, south, east, north] on every feature and on the collection.
// The times stream straight into the file (properties come first); the coordinates of
// the current span collect in a SpillBuffer (memory up to 1 MiB, then a temporary file)
// and follow when the span ends, with the geometry type known by then. The members of
// a JSON object have no order, so start, end and points come after coordTimes.
#include "export/exporter.h"
#include "export/outbuffer.h"

#include <algorithm>

namespace td::exporter {

namespace {

struct Bounds {
    bool any = false;
    double west = 0, south = 0, east = 0, north = 0;
    void add(double lon, double lat) {
        if (!any) {
            west = east = lon;
            south = north = lat;
            any = true;
            return;
        }
        west = std::min(west, lon);
        east = std::max(east, lon);
        south = std::min(south, lat);
        north = std::max(north, lat);
    }
    void add(const Bounds &b) {
        if (b.any) {
            add(b.west, b.south);
            add(b.east, b.north);
        }
    }
    void write(OutBuffer &o) const {
        o.append("\"bbox\":[");
        o.appendFixed(west, 7);
        o.append(',');
        o.appendFixed(south, 7);
        o.append(',');
        o.appendFixed(east, 7);
        o.append(',');
        o.appendFixed(north, 7);
        o.append(']');
    }
};

class GeoJsonWriter : public TrackSink {
public:
    GeoJsonWriter(OutBuffer &out, const QString &tempDir) : o(out), m_coords(tempDir) {}

    void begin(const ExportInfo &) override { o.append("{\"type\":\"FeatureCollection\",\n\"features\":["); }

    void beginTrack(const TrackDevice &d) override {
        m_deviceProps = "\"device\":" + jsonQuoted(d.key) + ",\"name\":" + jsonQuoted(d.displayName());
        m_segment = 0;
    }

    void beginSegment() override {
        ++m_segment;
        m_count = 0;
        m_bounds = Bounds();
        if (m_features++ > 0)
            o.append(',');
        o.append("\n{\"type\":\"Feature\",\"properties\":{");
        o.append(m_deviceProps);
        o.append(",\"segment\":");
        o.appendInt(m_segment);
        o.append(",\"coordTimes\":[");
    }

    void point(const TrackPoint &p) override {
        if (m_count == 0)
            m_start = p.timeMs;
        m_end = p.timeMs;
        if (m_count > 0) {
            o.append(',');
            m_coords.append(',');
        }
        o.append('"');
        o.appendIsoTime(p.timeMs);
        o.append('"');
        m_coords.append("\n[");
        m_coords.appendFixed(p.longitude, 7);
        m_coords.append(',');
        m_coords.appendFixed(p.latitude, 7);
        if (p.altitude) {
            m_coords.append(',');
            m_coords.appendTrimmed(*p.altitude, 2);
        }
        m_coords.append(']');
        m_bounds.add(p.longitude, p.latitude);
        ++m_count;
    }

    void endSegment() override {
        o.append("],\"start\":\"");
        o.appendIsoTime(m_start);
        o.append("\",\"end\":\"");
        o.appendIsoTime(m_end);
        o.append("\",\"points\":");
        o.appendInt(m_count);
        o.append("},");
        m_bounds.write(o);
        if (m_count == 1) {
            o.append(",\"geometry\":{\"type\":\"Point\",\"coordinates\":");
            m_coords.moveTo(o);
            o.append("}}");
        } else {
            o.append(",\"geometry\":{\"type\":\"LineString\",\"coordinates\":[");
            m_coords.moveTo(o);
            o.append("]}}");
        }
        m_all.add(m_bounds);
    }

    void endTrack() override {}

    void finish() override {
        o.append("\n]");
        if (m_all.any) {
            o.append(",\n");
            m_all.write(o);
        }
        o.append("}\n");
    }

private:
    OutBuffer &o;
    SpillBuffer m_coords;
    QByteArray m_deviceProps;
    int m_segment = 0;
    qint64 m_count = 0, m_features = 0;
    qint64 m_start = 0, m_end = 0;
    Bounds m_bounds, m_all;
};

} // namespace

std::unique_ptr<TrackSink> createGeoJsonWriter(const WriterContext &context) {
    return std::make_unique<GeoJsonWriter>(*context.out, context.tempDir);
}

} // namespace td::exporter
