// KML 2.2 with the gx extensions (Google Earth, Marble, QGIS): one Placemark per device
// with a gx:MultiTrack, one gx:Track per continuous span. A gx:Track lists every <when>
// first and then every <gx:coord> (the schema's order), so the coordinates of the current
// span collect in a SpillBuffer (memory up to 1 MiB, then a temporary file) and follow
// the times when the span ends.
#include "export/exporter.h"
#include "export/outbuffer.h"

namespace td::exporter {

namespace {

class KmlWriter : public TrackSink {
public:
    KmlWriter(OutBuffer &out, const QString &tempDir) : o(out), m_coords(tempDir) {}

    void begin(const ExportInfo &info) override {
        o.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<kml xmlns=\"http://www.opengis.net/kml/2.2\" xmlns:gx=\"http://www.google.com/kml/ext/2.2\">\n"
                 "<Document>\n"
                 "  <name>TrackerDesk export</name>\n"
                 "  <description>");
        o.appendXmlText(describeExport(info));
        o.append("</description>\n"
                 "  <Style id=\"track\"><LineStyle><color>ffff5500</color><width>3</width></LineStyle>"
                 "<IconStyle><scale>0.6</scale></IconStyle></Style>\n");
    }

    void beginTrack(const TrackDevice &d) override {
        o.append("  <Placemark>\n    <name>");
        o.appendXmlText(d.displayName());
        o.append("</name>\n    <description>");
        o.appendXmlText(QStringLiteral("Device %1").arg(d.key));
        o.append("</description>\n    <styleUrl>#track</styleUrl>\n"
                 "    <gx:MultiTrack>\n      <altitudeMode>clampToGround</altitudeMode>\n"
                 "      <gx:interpolate>0</gx:interpolate>\n");
    }

    void beginSegment() override { o.append("      <gx:Track>\n"); }

    void point(const TrackPoint &p) override {
        o.append("        <when>");
        o.appendIsoTime(p.timeMs);
        o.append("</when>\n");
        m_coords.append("        <gx:coord>");
        m_coords.appendFixed(p.longitude, 7);
        m_coords.append(' ');
        m_coords.appendFixed(p.latitude, 7);
        m_coords.append(' ');
        m_coords.appendTrimmed(p.altitude.value_or(0.0), 2);
        m_coords.append("</gx:coord>\n");
    }

    void endSegment() override {
        m_coords.moveTo(o);
        o.append("      </gx:Track>\n");
    }

    void endTrack() override { o.append("    </gx:MultiTrack>\n  </Placemark>\n"); }

    void finish() override { o.append("</Document>\n</kml>\n"); }

private:
    OutBuffer &o;
    SpillBuffer m_coords;
};

} // namespace

std::unique_ptr<TrackSink> createKmlWriter(const WriterContext &context) {
    return std::make_unique<KmlWriter>(*context.out, context.tempDir);
}

} // namespace td::exporter
