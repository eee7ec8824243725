#include "export/exporter.h"

#include "export/outbuffer.h"

#include <QDir>
#include <QFileInfo>
#include <QSaveFile>

#include <cmath>

namespace td::exporter {

// Each writer's file defines its factory.
std::unique_ptr<TrackSink> createGpxWriter(const WriterContext &context);
std::unique_ptr<TrackSink> createKmlWriter(const WriterContext &context);
std::unique_ptr<TrackSink> createGeoJsonWriter(const WriterContext &context);
std::unique_ptr<TrackSink> createCsvWriter(const WriterContext &context);

// ---- the format table: one line per format ----

const QList<ExportFormat> &exportFormats() {
    static const QList<ExportFormat> table = {
        {QStringLiteral("gpx"), QStringLiteral("GPX 1.1"), QStringLiteral("gpx"),
         QStringLiteral("application/gpx+xml"), ExportKind::Track, &createGpxWriter},
        {QStringLiteral("kml"), QStringLiteral("KML"), QStringLiteral("kml"),
         QStringLiteral("application/vnd.google-earth.kml+xml"), ExportKind::Track, &createKmlWriter},
        {QStringLiteral("geojson"), QStringLiteral("GeoJSON"), QStringLiteral("geojson"),
         QStringLiteral("application/geo+json"), ExportKind::Track, &createGeoJsonWriter},
        {QStringLiteral("csv"), QStringLiteral("CSV"), QStringLiteral("csv"),
         QStringLiteral("text/csv"), ExportKind::Track, &createCsvWriter},
        {QStringLiteral("pcapng"), QStringLiteral("pcapng capture"), QStringLiteral("pcapng"),
         QStringLiteral("application/x-pcapng"), ExportKind::Frames, nullptr},
    };
    return table;
}

const ExportFormat *exportFormat(const QString &id) {
    for (const ExportFormat &f : exportFormats())
        if (f.id.compare(id.trimmed(), Qt::CaseInsensitive) == 0)
            return &f;
    return nullptr;
}

const ExportFormat *exportFormatForPath(const QString &path) {
    const QString suffix = QFileInfo(path).suffix();
    if (suffix.isEmpty())
        return nullptr;
    for (const ExportFormat &f : exportFormats())
        if (f.extension.compare(suffix, Qt::CaseInsensitive) == 0)
            return &f;
    if (suffix.compare(QLatin1String("json"), Qt::CaseInsensitive) == 0)
        return exportFormat(QStringLiteral("geojson"));
    return nullptr;
}

QStringList exportFormatIds() {
    QStringList ids;
    for (const ExportFormat &f : exportFormats())
        ids << f.id;
    return ids;
}

QString fileDialogFilter(std::optional<ExportKind> kind) {
    QStringList parts;
    for (const ExportFormat &f : exportFormats())
        if (!kind || f.kind == *kind)
            parts << QStringLiteral("%1 (*.%2)").arg(f.name, f.extension);
    return parts.join(QStringLiteral(";;"));
}

QString describeExport(const ExportInfo &info) {
    QStringList names;
    for (const TrackDevice &d : info.devices)
        names << d.displayName();
    QString s = names.isEmpty() ? QStringLiteral("all devices") : names.join(QStringLiteral(", "));
    const auto iso = [](const QDateTime &t) { return t.toUTC().toString(Qt::ISODate); };
    if (info.from.isValid() && info.to.isValid())
        s += QStringLiteral(", from %1 to %2").arg(iso(info.from), iso(info.to));
    else if (info.from.isValid())
        s += QStringLiteral(", from %1").arg(iso(info.from));
    else if (info.to.isValid())
        s += QStringLiteral(", until %1").arg(iso(info.to));
    return s;
}

// ---- TrackAssembler ----

TrackAssembler::TrackAssembler(TrackSink &sink, const TrackOptions &options) : m_sink(sink), m_opt(options) {}

QString TrackAssembler::rejectReason(const proto::Position &p, const TrackOptions &options) {
    if (!p.hasCoordinates)
        return QStringLiteral("no coordinates");
    if (!p.timeValid || !p.time.isValid())
        return QStringLiteral("no valid time");
    if (!std::isfinite(p.latitude) || !std::isfinite(p.longitude) || std::fabs(p.latitude) > 90.0
        || std::fabs(p.longitude) > 180.0)
        return QStringLiteral("coordinates out of range");
    if (p.source == proto::PositionSource::Gps) {
        if (!p.valid)
            return QStringLiteral("invalid GPS fix");
    } else if (!options.includeNetworkFixes) {
        return QStringLiteral("network fix (LBS/Wi-Fi/SMS)");
    }
    return QString();
}

TrackPoint TrackAssembler::toTrackPoint(const proto::Position &p) {
    TrackPoint t;
    t.timeMs = p.time.toMSecsSinceEpoch();
    t.latitude = p.latitude;
    t.longitude = p.longitude;
    if (p.altitude && std::isfinite(*p.altitude) && std::fabs(*p.altitude) < 1e6)
        t.altitude = *p.altitude;
    if (p.speedKmh && std::isfinite(*p.speedKmh) && *p.speedKmh >= 0 && *p.speedKmh < 1e5)
        t.speedKmh = *p.speedKmh;
    if (p.course && std::isfinite(*p.course)) {
        double c = std::fmod(*p.course, 360.0);
        if (c < 0)
            c += 360.0;
        if (c >= 359.9995)   // would print as 360.000, outside [0, 360)
            c = 0;
        t.course = c;
    }
    if (p.satellites && *p.satellites >= 0)
        t.satellites = *p.satellites;
    t.source = p.source;
    t.valid = p.valid;
    if (p.accuracy && std::isfinite(*p.accuracy) && *p.accuracy >= 0)
        t.accuracy = *p.accuracy;
    return t;
}

bool TrackAssembler::add(const TrackDevice &device, const proto::Position &position) {
    if (!rejectReason(position, m_opt).isEmpty()) {
        ++m_skipped;
        return false;
    }
    const TrackPoint tp = toTrackPoint(position);
    if (!m_inTrack || device.id != m_deviceId || device.key != m_deviceKey) {
        if (m_inTrack) {
            m_sink.endSegment();
            m_sink.endTrack();
        }
        m_sink.beginTrack(device);
        m_sink.beginSegment();
        m_inTrack = true;
        m_deviceId = device.id;
        m_deviceKey = device.key;
        ++m_tracks;
        ++m_segments;
    } else if (m_opt.splitGapMinutes > 0 && tp.timeMs - m_lastTimeMs > qint64(m_opt.splitGapMinutes) * 60000) {
        m_sink.endSegment();
        m_sink.beginSegment();
        ++m_segments;
    }
    m_sink.point(tp);
    m_lastTimeMs = tp.timeMs;
    ++m_points;
    return true;
}

void TrackAssembler::finish() {
    if (m_inTrack) {
        m_sink.endSegment();
        m_sink.endTrack();
        m_inTrack = false;
    }
}

// ---- the jobs ----

namespace {

// A QIODevice that appends to an OutBuffer: gives the pcapng writer buffered output.
class BufferDevice : public QIODevice {
public:
    explicit BufferDevice(OutBuffer &buf) : m_buf(buf) { open(QIODevice::WriteOnly); }
    bool isSequential() const override { return true; }

protected:
    qint64 readData(char *, qint64) override { return -1; }
    qint64 writeData(const char *data, qint64 len) override {
        m_buf.append(data, qsizetype(len));
        if (m_buf.failed()) {
            setErrorString(m_buf.errorString());
            return -1;
        }
        return len;
    }

private:
    OutBuffer &m_buf;
};

struct Progress {
    const ExportControl &ctl;
    qint64 total;
    qint64 next;
    Progress(const ExportControl &c, qint64 t) : ctl(c), total(t), next(qMax<qint64>(1, c.progressEvery)) {
        if (ctl.progress)
            ctl.progress(0, total);
    }
    bool cancelled() const { return ctl.cancel && ctl.cancel->load(std::memory_order_relaxed); }
    void row(qint64 done) {
        if (done >= next) {
            next = done + qMax<qint64>(1, ctl.progressEvery);
            if (ctl.progress)
                ctl.progress(done, total);
        }
    }
    void end(qint64 done) {
        if (ctl.progress)
            ctl.progress(done, total < 0 ? done : qMax(total, done));
    }
};

QString writeError(const QString &target, const QString &why) {
    return QStringLiteral("cannot write %1: %2").arg(target, why.isEmpty() ? QStringLiteral("write error") : why);
}

ExportResult runTracks(TrackSource &source, const ExportFormat &format, const ExportInfo &info,
                       const TrackOptions &options, QIODevice *out, const ExportControl &control,
                       const QString &tempDir, const QString &target) {
    ExportResult r;
    if (format.kind != ExportKind::Track || !format.createWriter) {
        r.error = QStringLiteral("%1 is not a track format").arg(format.name);
        return r;
    }
    if (!out || !out->isWritable()) {
        r.error = writeError(target, QStringLiteral("not open for writing"));
        return r;
    }
    const qint64 startPos = out->isSequential() ? 0 : out->pos();
    OutBuffer buf(out);
    const std::unique_ptr<TrackSink> writer = format.createWriter(WriterContext{&buf, tempDir});
    TrackAssembler assembler(*writer, options);
    Progress progress(control, source.count());
    bool cancelled = progress.cancelled();
    bool readOk = true;
    if (!cancelled) {
        writer->begin(info);
        readOk = source.forEach([&](const TrackDevice &device, const proto::Position &position) {
            if (progress.cancelled()) {
                cancelled = true;
                return false;
            }
            ++r.rowsRead;
            assembler.add(device, position);
            if (buf.failed())
                return false;
            progress.row(r.rowsRead);
            return true;
        });
    }
    r.points = assembler.points();
    r.skipped = assembler.skipped();
    r.tracks = assembler.tracks();
    r.segments = assembler.segments();
    if (cancelled || progress.cancelled()) {
        r.cancelled = true;
        r.error = QStringLiteral("cancelled");
        return r;
    }
    if (buf.failed()) {
        r.error = writeError(target, buf.errorString());
        return r;
    }
    if (!readOk) {
        r.error = QStringLiteral("cannot read the data: %1").arg(source.errorString());
        return r;
    }
    assembler.finish();
    writer->finish();
    if (!buf.flush()) {
        r.error = writeError(target, buf.errorString());
        return r;
    }
    r.bytes = out->isSequential() ? buf.position() : out->pos() - startPos;
    progress.end(r.rowsRead);
    r.ok = true;
    return r;
}

ExportResult runFrames(FrameSource &source, const proto::pcapng::WriterOptions &options, QIODevice *out,
                       const ExportControl &control, const QString &target) {
    ExportResult r;
    if (!out || !out->isWritable()) {
        r.error = writeError(target, QStringLiteral("not open for writing"));
        return r;
    }
    OutBuffer buf(out);
    BufferDevice dev(buf);
    proto::pcapng::Writer writer(&dev, options);
    Progress progress(control, source.count());
    bool cancelled = progress.cancelled();
    bool readOk = true;
    if (!cancelled && writer.begin()) {
        readOk = source.forEach([&](const proto::pcapng::CapturedFrame &frame) {
            if (progress.cancelled()) {
                cancelled = true;
                return false;
            }
            ++r.rowsRead;
            if (!writer.writeFrame(frame))
                return false;
            progress.row(r.rowsRead);
            return true;
        });
    }
    r.frames = writer.framesWritten();
    r.packets = writer.packetsWritten();
    r.connections = writer.connections();
    r.warnings = writer.warnings();
    if (cancelled || progress.cancelled()) {
        r.cancelled = true;
        r.error = QStringLiteral("cancelled");
        return r;
    }
    if (buf.failed() || !writer.errorString().isEmpty()) {
        r.error = writeError(target, buf.failed() ? buf.errorString() : writer.errorString());
        return r;
    }
    if (!readOk) {
        r.error = QStringLiteral("cannot read the data: %1").arg(source.errorString());
        return r;
    }
    writer.finish();
    r.warnings = writer.warnings();
    if (!buf.flush()) {
        r.error = writeError(target, buf.errorString());
        return r;
    }
    r.bytes = buf.position();
    progress.end(r.rowsRead);
    r.ok = true;
    return r;
}

// Opens a QSaveFile for `path` with clear errors about the folder.
bool openTarget(QSaveFile &file, const QString &path, QString *error) {
    if (path.trimmed().isEmpty()) {
        *error = QStringLiteral("no output file given");
        return false;
    }
    const QFileInfo fi(path);
    if (fi.isDir()) {
        *error = QStringLiteral("cannot write %1: it is a folder").arg(path);
        return false;
    }
    const QDir dir = fi.absoluteDir();
    if (!dir.exists()) {
        *error = QStringLiteral("cannot write %1: the folder %2 does not exist").arg(path, dir.path());
        return false;
    }
    if (!file.open(QIODevice::WriteOnly | QIODevice::Unbuffered)) {
        *error = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

template <typename Run>
ExportResult toFile(const QString &path, Run run) {
    ExportResult r;
    QSaveFile file(path);
    if (!openTarget(file, path, &r.error))
        return r;
    r = run(&file);
    if (!r.ok) {
        file.cancelWriting();   // the temporary file goes, the target stays as it was
        return r;
    }
    if (!file.commit()) {
        r.ok = false;
        r.error = QStringLiteral("cannot save %1: %2").arg(path, file.errorString());
        return r;
    }
    r.bytes = QFileInfo(path).size();
    return r;
}

} // namespace

ExportResult exportTracks(TrackSource &source, const ExportFormat &format, const ExportInfo &info,
                          const TrackOptions &options, QIODevice *out, const ExportControl &control,
                          const QString &tempDir) {
    return runTracks(source, format, info, options, out, control, tempDir, QStringLiteral("the output"));
}

ExportResult exportTracksToFile(TrackSource &source, const ExportFormat &format, const ExportInfo &info,
                                const TrackOptions &options, const QString &path, const ExportControl &control) {
    const QString dir = QFileInfo(path).absolutePath();
    return toFile(path, [&](QIODevice *dev) {
        return runTracks(source, format, info, options, dev, control, dir, path);
    });
}

ExportResult exportFrames(FrameSource &source, const proto::pcapng::WriterOptions &options, QIODevice *out,
                          const ExportControl &control) {
    return runFrames(source, options, out, control, QStringLiteral("the output"));
}

ExportResult exportFramesToFile(FrameSource &source, const proto::pcapng::WriterOptions &options,
                                const QString &path, const ExportControl &control) {
    return toFile(path, [&](QIODevice *dev) { return runFrames(source, options, dev, control, path); });
}

} // namespace td::exporter
