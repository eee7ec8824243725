// The geolocation tables of the TrackerDesk database (schema step 5 "geolocation"), on a
// connection of their own (one GeoStore per thread: the resolver's, an import's, the CLI's):
//   geo_cells    offline cell database (OpenCelliD rows), key (mcc, mnc, lac, cid, radio)
//   geo_wifi     offline Wi-Fi access points (when the user imported some), key bssid
//   geo_pending  records waiting for a position: survives restarts, retried with backoff
//   geo_budget   network requests per local day (the daily budget survives restarts)
// Every failure gives lastError(), never a crash.
#pragma once

#include "geo/geotypes.h"

#include <QSet>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QString>
#include <memory>
#include <optional>

namespace td::geo {

struct CellRow {
    QString radio;                    // "GSM", "UMTS", "LTE", "CDMA", "NR"
    int mcc = 0;
    int mnc = 0;
    qint64 lac = 0;
    qint64 cid = 0;
    double latitude = 0;
    double longitude = 0;
    int range = 0;                    // metres (OpenCelliD's estimate of the cell's reach)
    int samples = 0;
    qint64 updated = 0;               // seconds since the epoch, 0: unknown
};

struct WifiRow {
    QString bssid;                    // "aa:bb:cc:dd:ee:ff"
    double latitude = 0;
    double longitude = 0;
    int range = 0;                    // metres, 0: unknown
    int samples = 1;
};

class GeoStore {
public:
    GeoStore();
    ~GeoStore();
    GeoStore(const GeoStore &) = delete;
    GeoStore &operator=(const GeoStore &) = delete;

    // Opens the database file (creating and migrating it like store::Store does).
    bool open(const QString &path, QString *error = nullptr);
    void close();
    bool isOpen() const;
    QString lastError() const { return m_error; }
    QString path() const { return m_path; }

    // ---- offline data ----
    // The known rows for these cells / access points (several radios may share a cell key).
    std::optional<QList<CellRow>> findCells(const QList<proto::CellTower> &cells);
    std::optional<QList<WifiRow>> findWifi(const QList<proto::WifiAccessPoint> &aps);
    qint64 cellCount();                        // a full count: slow on a world-wide file
    qint64 wifiCount();
    bool hasCells();                           // cheap: any row at all
    bool hasWifi();
    // Import: rows between beginBatch() and commitBatch() go in one transaction.
    bool beginBatch();
    bool commitBatch();
    void rollbackBatch();
    bool putCell(const CellRow &row);          // replaces the same (mcc, mnc, lac, cid, radio)
    bool putWifi(const WifiRow &row);          // merges repeated sightings (running mean)

    // ---- pending records ----
    // Adds a record; a record already pending (same device, fix time and inputs) is not
    // added twice: returns its id. 0 on error.
    qint64 addPending(const GeoRequest &request);
    bool updatePending(const GeoRequest &request);   // attempts, next attempt, parked, error
    bool removePending(qint64 id);
    // Due (not parked, next attempt <= now) records, oldest first, skipping `exclude`.
    std::optional<QList<GeoRequest>> duePending(const QDateTime &now, int limit, const QSet<qint64> &exclude = {});
    std::optional<QList<GeoRequest>> allPending(int limit = 100000);
    // Earliest retry time after `after` of the records not parked; invalid when none.
    std::optional<QDateTime> nextPendingAttempt(const QDateTime &after);
    qint64 pendingCount(bool parkedOnly = false);
    // Makes every pending record due now (attempts reset); with `kinds`, only those whose
    // last error is one of them. Returns how many changed, -1 on error.
    int releasePending(const QDateTime &now, const QList<GeoError> &kinds = {});
    // Drops the oldest records beyond `max` (returns how many, -1 on error).
    int trimPending(int max);

    // ---- budget ----
    int requestsOn(const QString &day);        // "yyyy-MM-dd" (local day)
    bool addRequest(const QString &day);

private:
    bool exec(QSqlQuery &q, const char *what);
    QSqlQuery *prepared(int slot, const char *sql);
    static GeoRequest pendingFromQuery(const QSqlQuery &q);

    QString m_connection;
    QString m_path;
    QString m_error;
    std::unique_ptr<QSqlQuery> m_statements[8];
};

} // namespace td::geo
