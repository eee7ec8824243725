// GPX 1.1 (https://www.topografix.com/GPX/1/1/): one <trk> per device, one <trkseg> per
// continuous span, <trkpt> with ele, time, type (non-GPS fixes) and sat in schema order,
// speed (m/s) and course (degrees) in the Garmin TrackPointExtension v2. <metadata>
// carries the export time and <bounds>; the bounds are only known at the end, so a fixed
// run of spaces is reserved and overwritten in place (a pipe, which cannot seek, gets no
// bounds: the element is optional).
#include "export/exporter.h"
#include "export/outbuffer.h"

#include <cmath>

namespace td::exporter {

namespace {

constexpr qsizetype BoundsWidth = 128;

class GpxWriter : public TrackSink {
public:
    explicit GpxWriter(OutBuffer &out) : o(out) {}

    void begin(const ExportInfo &info) override {
        o.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<gpx version=\"1.1\" creator=\"");
        o.appendXmlText(info.creator.isEmpty() ? QStringLiteral("TrackerDesk") : info.creator);
        o.append("\"\n"
                 "     xmlns=\"http://www.topografix.com/GPX/1/1\"\n"
                 "     xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"\n"
                 "     xmlns:gpxtpx=\"http://www.garmin.com/xmlschemas/TrackPointExtension/v2\"\n"
                 "     xsi:schemaLocation=\"http://www.topografix.com/GPX/1/1 "
                 "http://www.topografix.com/GPX/1/1/gpx.xsd "
                 "http://www.garmin.com/xmlschemas/TrackPointExtension/v2 "
                 "https://www8.garmin.com/xmlschemas/TrackPointExtensionv2.xsd\">\n"
                 "  <metadata>\n"
                 "    <name>TrackerDesk export</name>\n"
                 "    <desc>");
        o.appendXmlText(describeExport(info));
        o.append("</desc>\n    <time>");
        o.appendIsoTime((info.created.isValid() ? info.created : QDateTime::currentDateTimeUtc()).toMSecsSinceEpoch());
        o.append("</time>\n");
        if (o.canPatch()) {
            o.append("    ");
            m_boundsAt = o.reserve(BoundsWidth);
            o.append('\n');
        }
        o.append("  </metadata>\n");
    }

    void beginTrack(const TrackDevice &d) override {
        o.append("  <trk>\n    <name>");
        o.appendXmlText(d.displayName());
        o.append("</name>\n    <desc>");
        o.appendXmlText(QStringLiteral("Device %1").arg(d.key));
        o.append("</desc>\n    <src>TrackerDesk</src>\n");
    }

    void beginSegment() override { o.append("    <trkseg>\n"); }

    void point(const TrackPoint &p) override {
        if (!m_any) {
            m_minLat = m_maxLat = p.latitude;
            m_minLon = m_maxLon = p.longitude;
            m_any = true;
        } else {
            m_minLat = std::min(m_minLat, p.latitude);
            m_maxLat = std::max(m_maxLat, p.latitude);
            m_minLon = std::min(m_minLon, p.longitude);
            m_maxLon = std::max(m_maxLon, p.longitude);
        }
        o.append("      <trkpt lat=\"");
        o.appendFixed(p.latitude, 7);
        o.append("\" lon=\"");
        o.appendFixed(p.longitude, 7);
        o.append("\">");
        if (p.altitude) {
            o.append("<ele>");
            o.appendTrimmed(*p.altitude, 2);
            o.append("</ele>");
        }
        o.append("<time>");
        o.appendIsoTime(p.timeMs);
        o.append("</time>");
        if (p.source != proto::PositionSource::Gps) {
            o.append("<type>");
            o.append(proto::positionSourceName(p.source).toLatin1());
            o.append("</type>");
        }
        if (p.satellites) {
            o.append("<sat>");
            o.appendInt(*p.satellites);
            o.append("</sat>");
        }
        if (p.speedKmh || p.course) {
            o.append("<extensions><gpxtpx:TrackPointExtension>");
            if (p.speedKmh) {
                o.append("<gpxtpx:speed>");
                o.appendTrimmed(*p.speedKmh / 3.6, 3);
                o.append("</gpxtpx:speed>");
            }
            if (p.course) {
                o.append("<gpxtpx:course>");
                o.appendTrimmed(*p.course, 3);
                o.append("</gpxtpx:course>");
            }
            o.append("</gpxtpx:TrackPointExtension></extensions>");
        }
        o.append("</trkpt>\n");
    }

    void endSegment() override { o.append("    </trkseg>\n"); }
    void endTrack() override { o.append("  </trk>\n"); }

    void finish() override {
        o.append("</gpx>\n");
        if (m_boundsAt < 0 || !m_any)
            return;  // no points: <bounds> is optional, the spaces stay
        QByteArray b = "<bounds minlat=\"" + fixedNumber(m_minLat, 7) + "\" minlon=\"" + fixedNumber(m_minLon, 7)
            + "\" maxlat=\"" + fixedNumber(m_maxLat, 7) + "\" maxlon=\"" + fixedNumber(m_maxLon, 7) + "\"/>";
        Q_ASSERT(b.size() <= BoundsWidth);
        b.append(QByteArray(BoundsWidth - b.size(), ' '));
        o.patch(m_boundsAt, b);
    }

private:
    OutBuffer &o;
    qint64 m_boundsAt = -1;
    bool m_any = false;
    double m_minLat = 0, m_maxLat = 0, m_minLon = 0, m_maxLon = 0;
};

} // namespace

std::unique_ptr<TrackSink> createGpxWriter(const WriterContext &context) {
    return std::make_unique<GpxWriter>(*context.out);
}

} // namespace td::exporter
