// CSV (RFC 4180, UTF-8, CRLF line ends): a header line, then one row per fix. Times are
// ISO 8601 UTC, coordinates have 7 decimals, empty cells for unknown values. The column
// names are also understood by GPSBabel's unicsv reader (latitude, longitude, altitude,
// course, satellites, time, name).
#include "export/exporter.h"
#include "export/outbuffer.h"

namespace td::exporter {

namespace {

class CsvWriter : public TrackSink {
public:
    explicit CsvWriter(OutBuffer &out) : o(out) {}

    void begin(const ExportInfo &) override {
        o.append("device,name,time,latitude,longitude,altitude,speed_kmh,course,satellites,source,valid,"
                 "accuracy_m,segment\r\n");
    }

    void beginTrack(const TrackDevice &d) override {
        // The two text cells are the same for every row of a track: escape them once.
        m_segment = 0;
        m_prefix = csvEscaped(d.key) + ',' + csvEscaped(d.displayName()) + ',';
    }

    void beginSegment() override { ++m_segment; }

    void point(const TrackPoint &p) override {
        o.append(m_prefix);
        o.appendIsoTime(p.timeMs);
        o.append(',');
        o.appendFixed(p.latitude, 7);
        o.append(',');
        o.appendFixed(p.longitude, 7);
        o.append(',');
        if (p.altitude)
            o.appendTrimmed(*p.altitude, 2);
        o.append(',');
        if (p.speedKmh)
            o.appendTrimmed(*p.speedKmh, 2);
        o.append(',');
        if (p.course)
            o.appendTrimmed(*p.course, 3);
        o.append(',');
        if (p.satellites)
            o.appendInt(*p.satellites);
        o.append(',');
        o.append(proto::positionSourceName(p.source).toLatin1());
        o.append(p.valid ? ",1," : ",0,");
        if (p.accuracy)
            o.appendTrimmed(*p.accuracy, 1);
        o.append(',');
        o.appendInt(m_segment);
        o.append("\r\n");
    }

    void endSegment() override {}
    void endTrack() override {}
    void finish() override {}

private:
    OutBuffer &o;
    QByteArray m_prefix;
    int m_segment = 0;
};

} // namespace

std::unique_ptr<TrackSink> createCsvWriter(const WriterContext &context) {
    return std::make_unique<CsvWriter>(*context.out);
}

} // namespace td::exporter
