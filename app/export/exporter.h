// Exports: tracks (GPX, KML, GeoJSON, CSV) and raw captures (pcapng).
//
// Whoever iterates the data (the store, a test, a benchmark generator) feeds a streaming
// sink; one writer per format implements the sink; one table lists the formats (GPXSee
// style). Nothing holds all points in memory: writers append to a bounded OutBuffer and
// the file grows as the rows come.
//
//   TrackSource --rows--> TrackAssembler (filter, split on gaps) --> TrackSink (a writer)
//                                                                          |
//   exportTracksToFile(): QSaveFile (temp file + rename) <-- OutBuffer <---'
//
// The export functions report progress (done/total rows) through a callback, watch a
// cancel flag, and leave no half-written file under the target name when cancelled or
// failing (QSaveFile: the old file, if any, stays as it was).
#pragma once

#include "trackerdesk/protocol/frame.h"
#include "trackerdesk/protocol/pcapng.h"

#include <QDateTime>
#include <QIODevice>
#include <QList>
#include <QString>
#include <QStringList>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>

namespace td::exporter {

class OutBuffer;

// ---- the data model the writers see ----

struct TrackDevice {
    qint64 id = 0;
    QString key;                       // IMEI / terminal id
    QString name;                      // user-given name, may be empty
    QString displayName() const { return name.trimmed().isEmpty() ? key : name; }
};

struct TrackPoint {
    qint64 timeMs = 0;                 // fix time, UTC, ms since the epoch
    double latitude = 0;               // degrees, checked to be within [-90, 90]
    double longitude = 0;              // degrees, checked to be within [-180, 180]
    std::optional<double> altitude;    // metres
    std::optional<double> speedKmh;    // >= 0
    std::optional<double> course;      // degrees, [0, 360)
    std::optional<int> satellites;     // >= 0
    proto::PositionSource source = proto::PositionSource::Gps;
    bool valid = true;                 // the device flagged the fix valid
    std::optional<double> accuracy;    // metres (LBS / Wi-Fi estimates)
};

struct ExportInfo {
    QString creator;                   // "TrackerDesk 0.1.0"
    QDateTime created;                 // when the export was made (UTC)
    QDateTime from, to;                // requested range; invalid: open end
    QList<TrackDevice> devices;        // requested devices; empty: all
};

// The streaming sink. Calls always nest properly:
//   begin (beginTrack (beginSegment point+ endSegment)+ endTrack)* finish
// A track has at least one segment, a segment at least one point.
class TrackSink {
public:
    virtual ~TrackSink() = default;
    virtual void begin(const ExportInfo &info) = 0;
    virtual void beginTrack(const TrackDevice &device) = 0;
    virtual void beginSegment() = 0;
    virtual void point(const TrackPoint &p) = 0;
    virtual void endSegment() = 0;
    virtual void endTrack() = 0;
    virtual void finish() = 0;
};

// What a writer is created with.
struct WriterContext {
    OutBuffer *out = nullptr;          // where the bytes go; write errors land there
    QString tempDir;                   // for spill files (empty: system temporary folder)
};

// ---- the format table ----

enum class ExportKind { Track, Frames };

struct ExportFormat {
    QString id;                        // "gpx": --format value
    QString name;                      // "GPX 1.1"
    QString extension;                 // "gpx" (without the dot)
    QString mimeType;
    ExportKind kind = ExportKind::Track;
    // Track formats: creates the writer. Frames formats (pcapng): nullptr.
    std::unique_ptr<TrackSink> (*createWriter)(const WriterContext &context) = nullptr;
};

const QList<ExportFormat> &exportFormats();
const ExportFormat *exportFormat(const QString &id);            // case-insensitive
const ExportFormat *exportFormatForPath(const QString &path);   // by file extension
QStringList exportFormatIds();
// "GPX 1.1 (*.gpx);;KML (*.kml);;..." for a file dialog.
QString fileDialogFilter(std::optional<ExportKind> kind = std::nullopt);

// ---- filtering and segmenting ----

struct TrackOptions {
    // false: only valid GPS fixes. true: also LBS / Wi-Fi / SMS fixes that have
    // coordinates. Invalid GPS fixes (the device's "last known position") never go in.
    bool includeNetworkFixes = false;
    // > 0: a new segment starts when two consecutive fixes of a device are more than
    // this many minutes apart. 0: one segment per device.
    int splitGapMinutes = 0;
};

// Turns rows into sink calls: filters, converts, splits segments, opens/closes tracks
// when the device changes.
class TrackAssembler {
public:
    TrackAssembler(TrackSink &sink, const TrackOptions &options);
    // Rows must come device by device, each device's in time order.
    // Returns true when the position was written.
    bool add(const TrackDevice &device, const proto::Position &position);
    void finish();                      // closes the open segment/track (not the sink)

    // Why a row is not written (empty: it is), and the conversion.
    static QString rejectReason(const proto::Position &p, const TrackOptions &options);
    static TrackPoint toTrackPoint(const proto::Position &p);

    qint64 points() const { return m_points; }
    qint64 skipped() const { return m_skipped; }
    qint64 tracks() const { return m_tracks; }
    qint64 segments() const { return m_segments; }

private:
    TrackSink &m_sink;
    TrackOptions m_opt;
    qint64 m_deviceId = 0;
    QString m_deviceKey;
    bool m_inTrack = false;
    qint64 m_lastTimeMs = 0;
    qint64 m_points = 0, m_skipped = 0, m_tracks = 0, m_segments = 0;
};

// ---- data sources ----

using PositionCallback = std::function<bool(const TrackDevice &device, const proto::Position &position)>;
using FrameCallback = std::function<bool(const proto::pcapng::CapturedFrame &frame)>;

class TrackSource {
public:
    virtual ~TrackSource() = default;
    // Rows forEach() will deliver, for progress; -1 when unknown.
    virtual qint64 count() { return -1; }
    // Delivers the rows device by device, in time order; the callback returns false to
    // stop. Returns false on a read error (errorString()), true when done or stopped.
    virtual bool forEach(const PositionCallback &callback) = 0;
    virtual QString errorString() const { return {}; }
};

class FrameSource {
public:
    virtual ~FrameSource() = default;
    virtual qint64 count() { return -1; }
    // Frames in time order.
    virtual bool forEach(const FrameCallback &callback) = 0;
    virtual QString errorString() const { return {}; }
};

// ---- the export job ----

struct ExportControl {
    // Called from the exporting thread: at the start (0, total), every few thousand rows
    // and at the end. total is -1 when unknown.
    std::function<void(qint64 done, qint64 total)> progress;
    const std::atomic<bool> *cancel = nullptr;   // set to true to stop; checked every row
    qint64 progressEvery = 8192;                 // rows between progress calls
};

struct ExportResult {
    bool ok = false;
    bool cancelled = false;
    QString error;                     // one clear line when !ok && !cancelled
    qint64 rowsRead = 0;               // rows the source delivered
    qint64 points = 0, skipped = 0, tracks = 0, segments = 0;   // tracks
    qint64 frames = 0, packets = 0, connections = 0;            // pcapng
    qint64 bytes = 0;                  // size of the output
    QStringList warnings;
};

// Writes to an open device (stdout, a test device). The caller owns and closes it.
ExportResult exportTracks(TrackSource &source, const ExportFormat &format, const ExportInfo &info,
                          const TrackOptions &options, QIODevice *out, const ExportControl &control = {},
                          const QString &tempDir = QString());
// Writes `path` atomically: a temporary file beside it, renamed over the target only when
// everything was written. On failure or cancel the target is untouched.
ExportResult exportTracksToFile(TrackSource &source, const ExportFormat &format, const ExportInfo &info,
                                const TrackOptions &options, const QString &path,
                                const ExportControl &control = {});

ExportResult exportFrames(FrameSource &source, const proto::pcapng::WriterOptions &options, QIODevice *out,
                          const ExportControl &control = {});
ExportResult exportFramesToFile(FrameSource &source, const proto::pcapng::WriterOptions &options,
                                const QString &path, const ExportControl &control = {});

// Shared by the writers: the description line of an export ("2 devices, from ... to ...").
QString describeExport(const ExportInfo &info);

} // namespace td::exporter
