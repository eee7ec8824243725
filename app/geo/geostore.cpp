#include "geo/geostore.h"

#include "store/records.h"
#include "store/schema.h"

#include <QDir>
#include <QFileInfo>
#include <QSet>
#include <QSqlError>
#include <QTimeZone>
#include <atomic>

namespace td::geo {

namespace {

std::atomic<int> g_connections{0};

enum Slot { FindCell, FindWifi, PutCell, PutWifi, BudgetGet, BudgetAdd, AddPending, UpdatePending };

constexpr const char *kPendingColumns =
    "id, device_id, frame_id, fix_time, network, created, attempts, next_attempt, parked, error_kind, error";

QDateTime fromMs(qint64 ms) { return QDateTime::fromMSecsSinceEpoch(ms, QTimeZone::UTC); }

} // namespace

GeoStore::GeoStore() : m_connection(QStringLiteral("td-geo-%1").arg(++g_connections)) {}

GeoStore::~GeoStore() { close(); }

bool GeoStore::isOpen() const {
    return QSqlDatabase::contains(m_connection) && QSqlDatabase::database(m_connection, false).isOpen();
}

bool GeoStore::open(const QString &path, QString *error) {
    close();
    m_path = path;
    m_error.clear();
    auto fail = [&](const QString &e) {
        m_error = e;
        if (error)
            *error = e;
        close();
        return false;
    };
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return fail(QStringLiteral("cannot create the data folder %1").arg(QFileInfo(path).absolutePath()));
    if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QSQLITE")))
        return fail(QStringLiteral("the Qt SQLite driver (QSQLITE) is not installed"));
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connection);
        db.setDatabaseName(path);
        // The tracker writer may hold the write lock for a commit: wait for it.
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=10000"));
        if (!db.open())
            return fail(QStringLiteral("cannot open the database %1: %2").arg(path, db.lastError().text()));
    }
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    QString err;
    if (store::schemaVersion(db, &err) < 0)
        return fail(QStringLiteral("%1 is not a usable TrackerDesk database (%2)").arg(path, err));
    {
        QSqlQuery q(db);
        for (const char *pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA temp_store=MEMORY"}) {
            if (!q.exec(QLatin1String(pragma)))
                return fail(QStringLiteral("cannot set up the database %1: %2").arg(path, q.lastError().text()));
        }
    }
    if (!store::migrate(db, &err))
        return fail(QStringLiteral("%1: %2").arg(path, err));
    return true;
}

void GeoStore::close() {
    for (auto &s : m_statements)
        s.reset();
    if (QSqlDatabase::contains(m_connection)) {
        {
            QSqlDatabase db = QSqlDatabase::database(m_connection, false);
            if (db.isOpen())
                db.close();
        }
        QSqlDatabase::removeDatabase(m_connection);
    }
}

bool GeoStore::exec(QSqlQuery &q, const char *what) {
    if (q.exec())
        return true;
    m_error = QStringLiteral("%1 failed: %2").arg(QLatin1String(what), q.lastError().text());
    return false;
}

QSqlQuery *GeoStore::prepared(int slot, const char *sql) {
    if (!isOpen()) {
        m_error = QStringLiteral("the geolocation store is not open");
        return nullptr;
    }
    std::unique_ptr<QSqlQuery> &s = m_statements[slot];
    if (!s) {
        auto q = std::make_unique<QSqlQuery>(QSqlDatabase::database(m_connection, false));
        if (!q->prepare(QLatin1String(sql))) {
            m_error = QStringLiteral("cannot prepare a geolocation query: %1").arg(q->lastError().text());
            return nullptr;
        }
        s = std::move(q);
    }
    return s.get();
}

// ---- offline data ----

std::optional<QList<CellRow>> GeoStore::findCells(const QList<proto::CellTower> &cells) {
    QSqlQuery *q = prepared(FindCell, "SELECT radio, lat, lon, range_m, samples, updated FROM geo_cells"
                                      " WHERE mcc = ? AND mnc = ? AND lac = ? AND cid = ?");
    if (!q)
        return std::nullopt;
    QList<CellRow> out;
    for (const proto::CellTower &c : cells) {
        q->bindValue(0, c.mcc);
        q->bindValue(1, c.mnc);
        q->bindValue(2, c.lac);
        q->bindValue(3, c.cellId);
        if (!exec(*q, "looking up a cell"))
            return std::nullopt;
        while (q->next()) {
            CellRow r;
            r.radio = q->value(0).toString();
            r.mcc = c.mcc;
            r.mnc = c.mnc;
            r.lac = c.lac;
            r.cid = c.cellId;
            r.latitude = q->value(1).toDouble();
            r.longitude = q->value(2).toDouble();
            r.range = q->value(3).toInt();
            r.samples = q->value(4).toInt();
            r.updated = q->value(5).toLongLong();
            out << r;
        }
        q->finish();
    }
    return out;
}

std::optional<QList<WifiRow>> GeoStore::findWifi(const QList<proto::WifiAccessPoint> &aps) {
    QSqlQuery *q = prepared(FindWifi, "SELECT lat, lon, range_m, samples FROM geo_wifi WHERE bssid = ?");
    if (!q)
        return std::nullopt;
    QList<WifiRow> out;
    for (const proto::WifiAccessPoint &a : aps) {
        q->bindValue(0, a.bssid.toLower());
        if (!exec(*q, "looking up an access point"))
            return std::nullopt;
        if (q->next()) {
            WifiRow r;
            r.bssid = a.bssid.toLower();
            r.latitude = q->value(0).toDouble();
            r.longitude = q->value(1).toDouble();
            r.range = q->value(2).toInt();
            r.samples = q->value(3).toInt();
            out << r;
        }
        q->finish();
    }
    return out;
}

static qint64 countRows(const QString &connection, const char *sql, QString *error) {
    QSqlQuery q(QSqlDatabase::database(connection, false));
    if (!q.exec(QLatin1String(sql)) || !q.next()) {
        *error = QStringLiteral("counting rows failed: %1").arg(q.lastError().text());
        return -1;
    }
    return q.value(0).toLongLong();
}

qint64 GeoStore::cellCount() {
    if (!isOpen())
        return -1;
    return countRows(m_connection, "SELECT COUNT(*) FROM geo_cells", &m_error);
}

qint64 GeoStore::wifiCount() {
    if (!isOpen())
        return -1;
    return countRows(m_connection, "SELECT COUNT(*) FROM geo_wifi", &m_error);
}

bool GeoStore::hasCells() {
    return isOpen() && countRows(m_connection, "SELECT EXISTS(SELECT 1 FROM geo_cells)", &m_error) > 0;
}

bool GeoStore::hasWifi() {
    return isOpen() && countRows(m_connection, "SELECT EXISTS(SELECT 1 FROM geo_wifi)", &m_error) > 0;
}

bool GeoStore::beginBatch() {
    if (!isOpen()) {
        m_error = QStringLiteral("the geolocation store is not open");
        return false;
    }
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    if (!db.transaction()) {
        m_error = QStringLiteral("cannot start a transaction: %1").arg(db.lastError().text());
        return false;
    }
    return true;
}

bool GeoStore::commitBatch() {
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    for (auto &s : m_statements)
        if (s)
            s->finish();
    if (!db.commit()) {
        m_error = QStringLiteral("cannot commit: %1").arg(db.lastError().text());
        db.rollback();
        return false;
    }
    return true;
}

void GeoStore::rollbackBatch() {
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    for (auto &s : m_statements)
        if (s)
            s->finish();
    db.rollback();
}

bool GeoStore::putCell(const CellRow &r) {
    QSqlQuery *q = prepared(PutCell, "INSERT OR REPLACE INTO geo_cells(mcc, mnc, lac, cid, radio, lat, lon, range_m, samples, updated)"
                                     " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!q)
        return false;
    q->bindValue(0, r.mcc);
    q->bindValue(1, r.mnc);
    q->bindValue(2, r.lac);
    q->bindValue(3, r.cid);
    q->bindValue(4, r.radio);
    q->bindValue(5, r.latitude);
    q->bindValue(6, r.longitude);
    q->bindValue(7, r.range);
    q->bindValue(8, r.samples);
    q->bindValue(9, r.updated > 0 ? QVariant(r.updated) : QVariant());
    return exec(*q, "storing a cell");
}

bool GeoStore::putWifi(const WifiRow &r) {
    // Repeated sightings of one access point (WiGLE logs) are merged into a running mean.
    QSqlQuery *q = prepared(PutWifi, "INSERT INTO geo_wifi(bssid, lat, lon, range_m, samples) VALUES(?, ?, ?, ?, ?)"
                                     " ON CONFLICT(bssid) DO UPDATE SET"
                                     " lat = (lat * samples + excluded.lat * excluded.samples) / (samples + excluded.samples),"
                                     " lon = (lon * samples + excluded.lon * excluded.samples) / (samples + excluded.samples),"
                                     " range_m = CASE WHEN range_m = 0 THEN excluded.range_m WHEN excluded.range_m = 0 THEN range_m"
                                     "           ELSE MIN(range_m, excluded.range_m) END,"
                                     " samples = samples + excluded.samples");
    if (!q)
        return false;
    q->bindValue(0, r.bssid.toLower());
    q->bindValue(1, r.latitude);
    q->bindValue(2, r.longitude);
    q->bindValue(3, r.range);
    q->bindValue(4, qMax(1, r.samples));
    return exec(*q, "storing an access point");
}

// ---- pending ----

GeoRequest GeoStore::pendingFromQuery(const QSqlQuery &q) {
    GeoRequest r;
    r.pendingId = q.value(0).toLongLong();
    r.deviceId = q.value(1).toLongLong();
    r.frameId = q.value(2).toLongLong();
    r.fixTime = fromMs(q.value(3).toLongLong());
    proto::Position p;
    store::parseNetworkJson(q.value(4).toByteArray(), &p);
    r.query = GeoQuery::fromPosition(p);
    r.created = fromMs(q.value(5).toLongLong());
    r.attempts = q.value(6).toInt();
    r.nextAttempt = fromMs(q.value(7).toLongLong());
    r.parked = q.value(8).toInt() != 0;
    r.lastError = geoErrorFromName(q.value(9).toString());
    r.lastMessage = q.value(10).toString();
    return r;
}

qint64 GeoStore::addPending(const GeoRequest &r) {
    QSqlQuery *q = prepared(AddPending, "INSERT OR IGNORE INTO geo_pending(device_id, frame_id, fix_time, ckey, network, created,"
                                        " attempts, next_attempt, parked, error_kind, error)"
                                        " VALUES(?, ?, ?, ?, COALESCE(?, ''), ?, ?, ?, ?, COALESCE(?, ''), COALESCE(?, ''))");
    if (!q)
        return 0;
    proto::Position p;
    p.cells = r.query.cells;
    p.wifi = r.query.wifi;
    const QString key = r.query.cacheKey();
    const qint64 fix = r.fixTime.toMSecsSinceEpoch();
    q->bindValue(0, r.deviceId);
    q->bindValue(1, r.frameId);
    q->bindValue(2, fix);
    q->bindValue(3, key);
    q->bindValue(4, QString::fromUtf8(store::networkJson(p)));
    q->bindValue(5, (r.created.isValid() ? r.created : QDateTime::currentDateTimeUtc()).toMSecsSinceEpoch());
    q->bindValue(6, r.attempts);
    q->bindValue(7, (r.nextAttempt.isValid() ? r.nextAttempt : QDateTime::currentDateTimeUtc()).toMSecsSinceEpoch());
    q->bindValue(8, r.parked ? 1 : 0);
    q->bindValue(9, geoErrorName(r.lastError));
    q->bindValue(10, r.lastMessage);
    if (!exec(*q, "queueing a record for geolocation"))
        return 0;
    const bool added = q->numRowsAffected() > 0;
    const QVariant id = q->lastInsertId();
    q->finish();
    if (added && id.isValid())
        return id.toLongLong();
    QSqlQuery f(QSqlDatabase::database(m_connection, false));
    f.prepare(QStringLiteral("SELECT id FROM geo_pending WHERE device_id = ? AND fix_time = ? AND ckey = ?"));
    f.addBindValue(r.deviceId);
    f.addBindValue(fix);
    f.addBindValue(key);
    if (!exec(f, "finding a queued record") || !f.next()) {
        if (m_error.isEmpty())
            m_error = QStringLiteral("a queued record vanished");
        return 0;
    }
    return f.value(0).toLongLong();
}

bool GeoStore::updatePending(const GeoRequest &r) {
    QSqlQuery *q = prepared(UpdatePending, "UPDATE geo_pending SET attempts = ?, next_attempt = ?, parked = ?, error_kind = COALESCE(?, ''), error = COALESCE(?, '')"
                                           " WHERE id = ?");
    if (!q)
        return false;
    q->bindValue(0, r.attempts);
    q->bindValue(1, (r.nextAttempt.isValid() ? r.nextAttempt : QDateTime::currentDateTimeUtc()).toMSecsSinceEpoch());
    q->bindValue(2, r.parked ? 1 : 0);
    q->bindValue(3, geoErrorName(r.lastError));
    q->bindValue(4, r.lastMessage.left(500));
    q->bindValue(5, r.pendingId);
    const bool ok = exec(*q, "updating a queued record");
    q->finish();
    return ok;
}

bool GeoStore::removePending(qint64 id) {
    if (!isOpen())
        return false;
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.prepare(QStringLiteral("DELETE FROM geo_pending WHERE id = ?"));
    q.addBindValue(id);
    return exec(q, "removing a resolved record");
}

std::optional<QList<GeoRequest>> GeoStore::duePending(const QDateTime &now, int limit, const QSet<qint64> &exclude) {
    if (!isOpen()) {
        m_error = QStringLiteral("the geolocation store is not open");
        return std::nullopt;
    }
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.prepare(QStringLiteral("SELECT %1 FROM geo_pending WHERE parked = 0 AND next_attempt <= ? ORDER BY next_attempt, id LIMIT ?")
                  .arg(QLatin1String(kPendingColumns)));
    q.addBindValue(now.toMSecsSinceEpoch());
    q.addBindValue(limit + int(exclude.size()));
    if (!exec(q, "reading the queued records"))
        return std::nullopt;
    QList<GeoRequest> out;
    while (q.next() && out.size() < limit) {
        if (exclude.contains(q.value(0).toLongLong()))
            continue;
        out << pendingFromQuery(q);
    }
    return out;
}

std::optional<QList<GeoRequest>> GeoStore::allPending(int limit) {
    if (!isOpen()) {
        m_error = QStringLiteral("the geolocation store is not open");
        return std::nullopt;
    }
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.prepare(QStringLiteral("SELECT %1 FROM geo_pending ORDER BY id LIMIT ?").arg(QLatin1String(kPendingColumns)));
    q.addBindValue(limit);
    if (!exec(q, "reading the queued records"))
        return std::nullopt;
    QList<GeoRequest> out;
    while (q.next())
        out << pendingFromQuery(q);
    return out;
}

std::optional<QDateTime> GeoStore::nextPendingAttempt(const QDateTime &after) {
    if (!isOpen())
        return std::nullopt;
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.prepare(QStringLiteral("SELECT MIN(next_attempt) FROM geo_pending WHERE parked = 0 AND next_attempt > ?"));
    q.addBindValue(after.toMSecsSinceEpoch());
    if (!q.exec() || !q.next()) {
        m_error = QStringLiteral("reading the next retry time failed: %1").arg(q.lastError().text());
        return std::nullopt;
    }
    return q.value(0).isNull() ? QDateTime() : fromMs(q.value(0).toLongLong());
}

qint64 GeoStore::pendingCount(bool parkedOnly) {
    if (!isOpen())
        return -1;
    return countRows(m_connection,
                     parkedOnly ? "SELECT COUNT(*) FROM geo_pending WHERE parked = 1" : "SELECT COUNT(*) FROM geo_pending",
                     &m_error);
}

int GeoStore::releasePending(const QDateTime &now, const QList<GeoError> &kinds) {
    if (!isOpen())
        return -1;
    QString sql = QStringLiteral("UPDATE geo_pending SET parked = 0, attempts = 0, next_attempt = ?");
    if (!kinds.isEmpty()) {
        QStringList names;
        for (GeoError k : kinds)
            names << QLatin1Char('\'') + geoErrorName(k) + QLatin1Char('\'');
        sql += QStringLiteral(" WHERE error_kind IN (%1)").arg(names.join(QLatin1Char(',')));
    }
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.prepare(sql);
    q.addBindValue(now.toMSecsSinceEpoch());
    if (!exec(q, "releasing the queued records"))
        return -1;
    return q.numRowsAffected();
}

int GeoStore::trimPending(int max) {
    if (!isOpen())
        return -1;
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.prepare(QStringLiteral("DELETE FROM geo_pending WHERE id IN (SELECT id FROM geo_pending ORDER BY id DESC LIMIT -1 OFFSET ?)"));
    q.addBindValue(qMax(0, max));
    if (!exec(q, "trimming the queued records"))
        return -1;
    return q.numRowsAffected();
}

// ---- budget ----

int GeoStore::requestsOn(const QString &day) {
    QSqlQuery *q = prepared(BudgetGet, "SELECT requests FROM geo_budget WHERE day = ?");
    if (!q)
        return -1;
    q->bindValue(0, day);
    if (!exec(*q, "reading the request budget"))
        return -1;
    const int n = q->next() ? q->value(0).toInt() : 0;
    q->finish();
    return n;
}

bool GeoStore::addRequest(const QString &day) {
    QSqlQuery *q = prepared(BudgetAdd, "INSERT INTO geo_budget(day, requests) VALUES(?, 1)"
                                       " ON CONFLICT(day) DO UPDATE SET requests = requests + 1");
    if (!q)
        return false;
    q->bindValue(0, day);
    const bool ok = exec(*q, "counting a request");
    q->finish();
    return ok;
}

} // namespace td::geo
