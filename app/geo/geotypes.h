// Geolocation of cell-tower / Wi-Fi records: the value types shared by the providers, the
// resolver (its own thread), the service and the UI.
//
//   LBS / Wi-Fi record (no coordinates) --GeoQuery--> provider chain --GeoResult--> fix
//
// A GeoQuery is the radio environment a tracker reported (cells + access points); a
// GeoResult is a position with an accuracy radius, or a classified error (GeoError) that
// decides what happens next: try the next provider, retry later with backoff, or wait for
// the user (a bad key, no data).
#pragma once

#include "trackerdesk/protocol/frame.h"

#include <QDateTime>
#include <QList>
#include <QLoggingCategory>
#include <QMetaType>
#include <QString>

namespace td::geo {

// Category "trackerdesk.geo": request details at debug level (URL with the key redacted).
Q_DECLARE_LOGGING_CATEGORY(lcGeo)

struct GeoQuery {
    QList<proto::CellTower> cells;
    QList<proto::WifiAccessPoint> wifi;

    bool isEmpty() const { return cells.isEmpty() && wifi.isEmpty(); }
    // Stable key of the input SET: BSSIDs (lower case) and cells (MCC-MNC-LAC-CI), each
    // sorted and de-duplicated, signal strengths ignored. The same surroundings reported
    // twice give the same key (the cache and the pending list use it).
    QString cacheKey() const;
    // Access points with a usable BSSID (six hex octets, not all zero / broadcast), unique.
    QList<proto::WifiAccessPoint> usableWifi() const;
    static GeoQuery fromPosition(const proto::Position &p);
};

// "aa:bb:cc:dd:ee:ff" from six hex octets with : - . or no separators; empty when not a
// usable BSSID (wrong length, not hex, all zero, broadcast).
QString normaliseBssid(const QString &text);

// What went wrong. The order is not meaningful; see isRetryable().
enum class GeoError {
    None,
    NotFound,         // the provider knows no position for these inputs (404, notFound)
    QuotaExceeded,    // the service's own quota (403 dailyLimitExceeded): retried the next day
    KeyInvalid,       // 400/403 keyInvalid, 401, API not enabled: waits for a new key
    RateLimited,      // 429, userRateLimitExceeded: retried with backoff
    ServerError,      // 5xx
    Timeout,          // no answer in time
    Network,          // connection refused, DNS, TLS ...
    Malformed,        // an answer that is not the expected JSON
    BadRequest,       // another 4xx: the request itself is refused
    NotConfigured,    // the provider cannot try (no URL/key, no offline data for the inputs)
    BudgetExhausted,  // TrackerDesk's own daily request budget is used up
};
QString geoErrorName(GeoError e);            // "notFound", "timeout", ... (logs, the store)
GeoError geoErrorFromName(const QString &name);
// Temporary failures: an automatic retry later may succeed.
bool isRetryable(GeoError e);

struct GeoResult {
    GeoError error = GeoError::None;
    QString message;                  // readable; never contains the API key
    int httpStatus = 0;               // 0: no HTTP answer
    double latitude = 0;
    double longitude = 0;
    double accuracy = 0;              // metres (radius)
    proto::PositionSource source = proto::PositionSource::Lbs;
    QString provider;                 // id of the provider that answered ("web", "offline")
    bool fromCache = false;
    bool ok() const { return error == GeoError::None; }

    static GeoResult failure(GeoError e, const QString &message, int httpStatus = 0) {
        GeoResult r;
        r.error = e;
        r.message = message;
        r.httpStatus = httpStatus;
        return r;
    }
};

// One record waiting for a position (persisted in geo_pending until resolved).
struct GeoRequest {
    qint64 pendingId = 0;             // geo_pending.id, 0 before it is stored
    qint64 deviceId = 0;
    qint64 frameId = 0;               // the frame that carried the inputs (0: none)
    QDateTime fixTime;                // the record's fix time (UTC): the resolved fix gets it
    QDateTime created;                // when it was queued
    GeoQuery query;
    int attempts = 0;                 // failed attempts so far
    QDateTime nextAttempt;            // when an automatic retry is due
    bool parked = false;              // no automatic retry (not found, bad key): waits for the user
    GeoError lastError = GeoError::None;
    QString lastMessage;
};

// Counters for the settings page, the tests and the logs.
struct GeoStats {
    qint64 cacheHits = 0;             // answered from the cache (no provider asked)
    qint64 cacheMisses = 0;
    qint64 requestsToday = 0;         // network requests today (local day), persisted
    qint64 requestsTotal = 0;         // network requests since start
    qint64 dailyBudget = 0;
    qint64 offlineHits = 0;           // resolved by the offline database
    qint64 resolved = 0;              // positions found since start
    qint64 failures = 0;              // failed attempts since start
    qint64 pending = 0;               // records waiting (due, backing off or parked)
    qint64 parked = 0;                // of which wait for the user (re-resolve button)
    qint64 offlineCells = 0;          // rows in the offline database
    qint64 offlineWifi = 0;
    QString lastError;                // readable, with the time
    QDateTime lastErrorTime;
};

} // namespace td::geo

Q_DECLARE_METATYPE(td::geo::GeoRequest)
Q_DECLARE_METATYPE(td::geo::GeoResult)
Q_DECLARE_METATYPE(td::geo::GeoStats)
