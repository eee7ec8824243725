// Imports offline geolocation data into the store, streamed (one line in memory at a time),
// in transaction batches (the tracker writer shares the database and must never wait long),
// with progress, cancellation and bad lines counted and reported, never fatal.
//
// Formats, recognised from the first line:
//   OpenCelliD cells: radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,
//                     updated,averageSignal - with or without that header line (the
//                     per-country downloads have none). Rows replace the same cell.
//   Wi-Fi CSV:        a header naming bssid|mac, lat|latitude|currentlatitude|trilat and
//                     lon|lng|longitude|currentlongitude|trilong columns, optional
//                     range|accuracy|accuracymeters and type (only WIFI rows are used).
//                     This covers WiGLE exports (their "WigleWifi-1.x" pre-header is skipped).
//                     Repeated sightings of an access point are averaged.
// Files may be gzip-compressed (.csv.gz, as OpenCelliD ships them) when TrackerDesk was
// built with zlib.
#pragma once

#include "geo/geostore.h"

#include <QString>
#include <QStringList>
#include <atomic>
#include <functional>

namespace td::geo {

struct ImportReport {
    QString file;
    QString format;              // "OpenCelliD cells", "Wi-Fi CSV", "WiGLE Wi-Fi"
    qint64 lines = 0;            // data lines read (headers and blank lines excluded)
    qint64 cells = 0;            // cell rows stored
    qint64 wifi = 0;             // access point sightings stored
    qint64 skipped = 0;          // well-formed rows not used (WiGLE Bluetooth/cell rows)
    qint64 bad = 0;              // malformed lines (not stored)
    QStringList badSamples;      // the first few: "line 12: latitude 91.5 out of range"
    qint64 bytesRead = 0;
    qint64 bytesTotal = 0;
    bool cancelled = false;      // stopped by the user: the batches before stay imported
    QString error;               // fatal: cannot open, unknown format, store failure
    qint64 elapsedMs = 0;
    qint64 lockHeldMaxMs = 0;    // longest batch transaction (the tracker writer waits that long at most)
    bool ok() const { return error.isEmpty() && !cancelled; }
    QString summary() const;     // one line for logs, the CLI and the settings page
};

struct ImportOptions {
    int batchRows = 5000;        // rows per transaction
    int maxBadSamples = 10;
    // After each commit, pause as long as it took (10..200 ms) so that the tracker writer
    // sharing the database gets the write lock between two batches.
    bool pauseAfterCommit = true;
};

// bytesRead/bytesTotal are file bytes (compressed for .gz); rows = data lines so far.
using ImportProgress = std::function<void(qint64 bytesRead, qint64 bytesTotal, qint64 rows)>;

ImportReport importGeoFile(GeoStore &store, const QString &path, const std::atomic<bool> *cancel = nullptr,
                           const ImportProgress &progress = {}, const ImportOptions &options = {});

// Splits one CSV line (RFC 4180 quotes, "" inside quotes). False for an unterminated quote.
bool splitCsvLine(const QByteArray &line, QList<QByteArray> *fields);

// True when this build reads .gz files.
bool importSupportsGzip();

} // namespace td::geo
