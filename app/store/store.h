// The durable store: QtSql + SQLite in WAL mode. One Store is one database connection and
// must be used from one thread: the writer thread owns one (StoreWriter, group commit),
// the UI/service thread owns another for queries and device edits; WAL lets them run
// side by side. Every failure gives a clear message (lastError()), never a crash.
#pragma once

#include "store/records.h"
#include "store/sqlitenative.h"

#include <QHash>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QString>
#include <functional>
#include <memory>
#include <set>
#include <utility>

namespace td::store {

struct StoreOptions {
    bool readOnly = false;        // open read-only (queries only)
    bool synchronousFull = true;  // FULL: a commit survives power loss; NORMAL: process crash only
    int cacheKiB = 16 * 1024;     // page cache of this connection
    qint64 maxPageCount = 0;      // > 0: cap the database size (tests simulate a full disk with it)
    int busyTimeoutMs = 5000;     // wait this long for the other connection's write lock
    // Writer only, > 0: while the writer is busy (commits of deferFromItems items or more on
    // average: thousands of fixes a second), the positions of a device whose previous position row
    // was written less than this many ms ago are deferred: appended to positions_pending_batches in
    // the same transaction (durable, so still acknowledged after their commit), kept in
    // memory, and written into positions in one group per device about this many ms later.
    // With many fast devices every commit otherwise rewrites each one's newest page of the
    // (device, time) key: a page per fix. Readers see those rows up to about this much
    // later; the live path (results of applyBatch) is not delayed. A quiet writer writes
    // every row at once. 0: never defer.
    int deferPositionsMs = 0;
    int deferFromItems = 32;
};

struct RetentionPolicy {
    int maxAgeDays = 0;           // 0: keep frames forever
    qint64 maxFrames = 0;         // 0: no count limit
    bool active() const { return maxAgeDays > 0 || maxFrames > 0; }
};

struct RedecodeReport {
    qint64 frames = 0;            // inbound frames decoded again
    qint64 positions = 0;         // positions the new decoding produced
    qint64 positionsRemoved = 0;  // positions of the old decoding removed first
    qint64 statusSamples = 0;
    qint64 alarms = 0;
    qint64 failed = 0;            // frames with an unknown protocol or decoder warnings
};

class Store {
public:
    Store();
    ~Store();
    Store(const Store &) = delete;
    Store &operator=(const Store &) = delete;

    static QString fileName() { return QStringLiteral("trackerdesk.db"); }
    // True when the writer path uses the SQLite C API (after the first applyBatch).
    bool usesNativeInserts() const { return m_native; }

    // Opens (creating if needed) and migrates the database. False with lastError() set on
    // failure: a folder that cannot be created, a read-only file, not a database, corrupt,
    // or a schema newer than this program.
    bool open(const QString &path, const StoreOptions &options = {});
    void close();
    bool isOpen() const;
    QString path() const { return m_path; }
    QString lastError() const { return m_error; }
    QSqlDatabase database() const;

    // ---- devices ----
    QList<Device> devices();
    std::optional<Device> device(qint64 id);
    std::optional<Device> deviceByImei(const QString &imei);
    // Adds a device (allowlist entry); returns its id, 0 on error (or when it exists).
    qint64 addDevice(const Device &device);
    // Updates the user-editable fields: name, phone, SMS password, time zone, state, colour.
    bool updateDevice(const Device &device);

    // ---- positions ----
    // Streams the fixes of the given devices (all devices when empty) with from <= fix
    // time <= to (invalid = open end), device by device, in fix-time order. The callback
    // returns false to stop. Nothing is loaded into memory beyond the current row.
    bool forEachPosition(const QList<qint64> &deviceIds, const QDateTime &from, const QDateTime &to,
                         const PositionFilter &filter, const std::function<bool(const StoredPosition &)> &callback);
    // The track of one device, lean: latitude, longitude, fix time (ms) and speed (km/h, NaN
    // when unknown) of every fix with coordinates, in fix-time order, no StoredPosition per
    // row (the map's history loads 100,000 of them at once). The callback returns false to stop.
    bool forEachTrackPoint(qint64 deviceId, const QDateTime &from, const QDateTime &to, const PositionFilter &filter,
                           const std::function<bool(double lat, double lon, qint64 fixTimeMs, double speedKmh)> &callback);
    qint64 countPositions(const QList<qint64> &deviceIds, const QDateTime &from, const QDateTime &to,
                          const PositionFilter &filter = {});
    // Latest fix (by fix time) with coordinates of every device that has one.
    QHash<qint64, StoredPosition> lastPositions();
    // Latest status sample of every device that has one.
    QHash<qint64, StatusSample> lastStatus();
    QList<StatusSample> statusSamples(qint64 deviceId, const QDateTime &from, const QDateTime &to, int limit = 1000);
    QList<Event> events(std::optional<qint64> deviceId, const QDateTime &from, const QDateTime &to, int limit = 1000);
    // The query plan SQLite chooses for the per-device track query (tests assert the index).
    QString explainTrackQuery();
    // The plans of the deletes re-decoding makes per page of frames (tests assert indexes).
    QString explainRedecodeDeletes();

    // ---- raw frames ----
    QList<StoredFrame> frames(const FrameFilter &filter);
    bool forEachFrame(const FrameFilter &filter, const std::function<bool(const StoredFrame &)> &callback);
    qint64 countFrames();

    // ---- writing (the writer thread) ----
    // Applies the items in ONE transaction. On success every result is ok and the data is
    // durable; on failure nothing of the batch is kept and lastError() says why.
    bool applyBatch(const QList<WorkItem> &items, QList<WorkResult> *results);
    // Deferred positions (StoreOptions::deferPositionsMs): writes the groups due at nowMs
    // (all of them with `all`, and first whatever positions_pending(_batches) holds from a previous
    // run) in one transaction of its own. False with lastError() on failure (the rows stay
    // in positions_pending_batches and are written by the next call or the next start).
    bool flushDeferred(qint64 nowMs, bool all);
    // When the next deferred group is due (ms since epoch), -1 when none waits.
    qint64 nextDeferredDueMs() const;
    qint64 deferredRows() const { return m_deferredRows; }
    qint64 recoveredPending() const { return m_recoveredPending; }  // rows a previous run left
    // Batches of waiting rows a previous run left that could not be read (damaged; skipped).
    qint64 damagedPendingBatches() const { return m_damagedPending; }
    // Stores fixes that do not come from a tracker frame as it arrived: positions parsed from
    // an SMS, cell/Wi-Fi positions resolved by a geolocation provider (frameId: the frame
    // whose inputs produced them, 0 for none). One transaction; resends are recognised
    // (isNew false) like on the writer path. Usable from any one connection.
    bool insertDerivedPositions(qint64 deviceId, qint64 serverTimeMs, qint64 frameId,
                                const proto::PositionList &positions, QList<bool> *isNew);
    // Deletes raw frames beyond the retention policy, at most `chunk` rows per call (one
    // short transaction), so pruning never holds the write lock for long. Returns the
    // number deleted (0: nothing left to prune), -1 on error.
    qint64 pruneFrames(const RetentionPolicy &policy, qint64 nowMs, int chunk = 2000);

    // Decodes the stored inbound frames matching `filter` again with the current decoders
    // and replaces the positions, status samples and alarms derived from them. Raw frames
    // are the source of truth: a better decoder can fix old captures.
    bool redecode(const FrameFilter &filter, RedecodeReport *report);

    // "ok" or the problems PRAGMA integrity_check reports.
    QString integrityCheck();

private:
    struct DeviceCacheEntry {
        qint64 id = 0;
        QString protocol;
        QString model;
        std::optional<int> loginTz;
        qint64 lastSeenStored = 0;
        qint64 lastSeen = 0;
    };
    bool openImpl(const QString &path, const StoreOptions &options);
    bool beginImmediate();
    bool beginWriterTransaction();
    bool exec(QSqlQuery &q, const char *what);
    bool execSql(const QString &sql);
    bool prepareWriter();
    qint64 resolveDevice(const WorkItem &item, bool *created, QList<QString> *newKeys);
    qint64 insertFrame(qint64 timeMs, proto::Direction dir, const WorkItem &item, qint64 deviceId,
                       const QString &protocol, int type, const QByteArray &bytes, qint64 replyTo);
    bool insertPositions(qint64 deviceId, qint64 serverTimeMs, qint64 frameId,
                         const proto::PositionList &positions, int *stored, int *duplicates,
                         QList<bool> *isNew = nullptr, bool mayDefer = false);
    struct PositionRow;
    bool writePositionRow(const PositionRow &row, bool *added);
    bool deferPosition(PositionRow &&row, qint64 nowMs, bool *added);
    // The binary form of a waiting row in positions_pending_batches (little endian, after a
    // format byte at the start of the blob). readPendingRow: false when the bytes end early
    // or lie (a damaged blob).
    static void appendPendingRow(QByteArray &blob, const PositionRow &row);
    static bool readPendingRow(const char *&p, const char *end, PositionRow *row);
    bool writePendingBatch();
    bool clearPendingBatches();
    bool positionExists(qint64 deviceId, qint64 fixTime, qint64 ckey, bool *exists);
    bool mergePending();
    bool writeDueGroups(qint64 nowMs, qint64 rowBudget, bool all);
    void forgetDeferred();
    bool insertStatus(qint64 deviceId, qint64 timeMs, qint64 frameId, const proto::Status &s);
    bool statusIsNews(qint64 deviceId, qint64 timeMs, const proto::Status &s);
    bool insertEvent(qint64 deviceId, qint64 timeMs, const QString &kind, const QString &detail, qint64 frameId);
    QString positionWhere(const PositionFilter &filter) const;
    static StoredPosition positionFromQuery(const QSqlQuery &q, int base);
    static Device deviceFromQuery(const QSqlQuery &q);
    static StoredFrame frameFromQuery(const QSqlQuery &q);
    static QString frameSelect(const FrameFilter &filter, QVariantList *binds);

    QString m_connection;
    QString m_path;
    QString m_error;
    StoreOptions m_options;
    bool m_writerPrepared = false;
    // Prepared statements of the writer path, created once.
    std::unique_ptr<QSqlQuery> m_insFrame, m_insPosition, m_insStatus, m_insEvent, m_insDevice,
        m_findDevice, m_updLogin, m_touchDevice;
    QHash<QString, DeviceCacheEntry> m_deviceCache;  // writer: IMEI -> row
    // Writer: per device, what its stored status samples say so far (every field's latest
    // value) and when the last one was stored; see statusIsNews().
    struct KnownStatus {
        proto::Status status;
        qint64 storedMs = 0;
    };
    QHash<qint64, KnownStatus> m_knownStatus;
    // The same inserts through the SQLite C API when available (see sqlitenative.h).
    std::unique_ptr<NativeStatement> m_nFrame, m_nPosition, m_nStatus, m_nEvent;
    bool m_native = false;

    // Deferred positions (StoreOptions::deferPositionsMs), writer only.
    struct DeferredDevice;
    QHash<qint64, DeferredDevice *> m_deferred;     // device id -> its state (owned)
    std::set<std::pair<qint64, qint64>> m_deferDue;  // (due ms, device id) of devices with rows waiting
    // Durable copies of the waiting rows: one row of positions_pending_batches per commit
    // that deferred rows (id = batch number), deleted once no waiting group needs it.
    std::multiset<qint64> m_deferFirstBatch;         // the batch of each waiting group's first row
    std::unique_ptr<QSqlQuery> m_insPendingBatch, m_findPosition, m_maxFixTime;
    QByteArray m_pendingBlob;                        // this commit's deferred rows (appendPendingRow)
    qint64 m_nextBatchId = 1;                        // the id this commit's batch gets (> 1: batches may be on disk)
    qint64 m_pendingDeletedBelow = 0;                // batches below this id are deleted
    qint64 m_deferredRows = 0;
    qint64 m_recoveredPending = 0;
    qint64 m_damagedPending = 0;
    bool m_pendingMergeNeeded = true;
    double m_itemsPerCommit = 0;                     // average items per applyBatch (exponential)
    bool m_deferBusy = false;                        // positions are deferred in this batch                // rows of a previous run (or a failed batch) may wait
};

} // namespace td::store
