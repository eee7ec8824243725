#include "store/store.h"

#include "store/schema.h"

#include <QAtomicInteger>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QSqlError>
#include <QtEndian>
#include <cstring>
#include <QSqlRecord>
#include <QTimeZone>

#include <cmath>
#include <limits>

namespace td::store {

// ---------------------------------------------------------------------------------------
// records helpers

QString deviceStateName(DeviceState s) {
    return s == DeviceState::Blocked ? QStringLiteral("blocked") : QStringLiteral("accepted");
}

namespace {

// FNV-1a, 64 bit: stable across Qt versions and platforms (qHash is not).
struct Fnv {
    quint64 h = 1469598103934665603ULL;
    void bytes(const void *data, size_t n) {
        const auto *p = static_cast<const unsigned char *>(data);
        for (size_t i = 0; i < n; ++i) {
            h ^= p[i];
            h *= 1099511628211ULL;
        }
    }
    void i64(qint64 v) {
        unsigned char b[8];
        for (int i = 0; i < 8; ++i)
            b[i] = static_cast<unsigned char>(quint64(v) >> (8 * i));
        bytes(b, 8);
    }
    void str(const QString &s) {
        const QByteArray u = s.toUtf8();
        i64(u.size());
        bytes(u.constData(), size_t(u.size()));
    }
};

int sourceCode(proto::PositionSource s) { return int(s); }
proto::PositionSource sourceFromCode(int c) {
    switch (c) {
    case 1: return proto::PositionSource::Lbs;
    case 2: return proto::PositionSource::Wifi;
    case 3: return proto::PositionSource::Sms;
    default: return proto::PositionSource::Gps;
    }
}

QVariant optDouble(const std::optional<double> &v) { return v ? QVariant(*v) : QVariant(); }
QVariant optInt(const std::optional<int> &v) { return v ? QVariant(*v) : QVariant(); }
QVariant optBool(const std::optional<bool> &v) { return v ? QVariant(int(*v)) : QVariant(); }
QVariant idOrNull(qint64 id) { return id > 0 ? QVariant(id) : QVariant(); }
// A null QString binds as SQL NULL; NOT NULL text columns get '' instead.
QVariant text(const QString &s) { return s.isNull() ? QVariant(QLatin1String("")) : QVariant(s); }

std::optional<double> toOptDouble(const QVariant &v) {
    if (v.isNull()) return std::nullopt;
    return v.toDouble();
}
std::optional<int> toOptInt(const QVariant &v) {
    if (v.isNull()) return std::nullopt;
    return v.toInt();
}
std::optional<bool> toOptBool(const QVariant &v) {
    if (v.isNull()) return std::nullopt;
    return v.toInt() != 0;
}

QDateTime fromMs(qint64 ms) { return QDateTime::fromMSecsSinceEpoch(ms, QTimeZone::UTC); }
qint64 toMsOr(const QDateTime &t, qint64 fallback) { return t.isValid() ? t.toMSecsSinceEpoch() : fallback; }

QAtomicInteger<quint64> g_connectionCounter;

constexpr qint64 kLastSeenWriteMs = 30000;  // devices.last_seen is written at most this often

} // namespace

qint64 positionContentKey(const proto::Position &p) {
    Fnv f;
    f.i64(p.hasCoordinates ? 1 : 0);
    if (p.hasCoordinates) {
        f.i64(std::llround(p.latitude * 1e7));
        f.i64(std::llround(p.longitude * 1e7));
    }
    f.i64(sourceCode(p.source));
    for (const proto::CellTower &c : p.cells) {
        f.i64(c.mcc); f.i64(c.mnc); f.i64(c.lac); f.i64(c.cellId); f.i64(c.signal);
    }
    for (const proto::WifiAccessPoint &w : p.wifi) {
        f.str(w.bssid); f.i64(w.rssi);
    }
    return qint64(f.h & 0x7fffffffffffffffULL);
}

QByteArray networkJson(const proto::Position &p) {
    // Written by hand (no QJsonDocument per fix): {"cells":[[mcc,mnc,lac,cid,sig],...],"wifi":[["bssid",rssi],...]}
    if (p.cells.isEmpty() && p.wifi.isEmpty())
        return {};
    QByteArray j;
    j.reserve(32 + int(p.cells.size()) * 40 + int(p.wifi.size()) * 32);
    j += '{';
    if (!p.cells.isEmpty()) {
        j += "\"cells\":[";
        for (qsizetype i = 0; i < p.cells.size(); ++i) {
            const proto::CellTower &c = p.cells[i];
            if (i) j += ',';
            j += '[';
            j += QByteArray::number(c.mcc); j += ',';
            j += QByteArray::number(c.mnc); j += ',';
            j += QByteArray::number(c.lac); j += ',';
            j += QByteArray::number(c.cellId); j += ',';
            j += QByteArray::number(c.signal);
            j += ']';
        }
        j += ']';
    }
    if (!p.wifi.isEmpty()) {
        if (!p.cells.isEmpty()) j += ',';
        j += "\"wifi\":[";
        for (qsizetype i = 0; i < p.wifi.size(); ++i) {
            const proto::WifiAccessPoint &w = p.wifi[i];
            if (i) j += ',';
            j += "[\"";
            for (QChar ch : w.bssid)  // a MAC address; anything else is dropped, never breaks the JSON
                if (ch.isLetterOrNumber() || ch == QLatin1Char(':') || ch == QLatin1Char('-'))
                    j += char(ch.toLatin1());
            j += "\",";
            j += QByteArray::number(w.rssi);
            j += ']';
        }
        j += ']';
    }
    j += '}';
    return j;
}

void parseNetworkJson(const QByteArray &json, proto::Position *p) {
    if (json.isEmpty())
        return;
    const QJsonObject o = QJsonDocument::fromJson(json).object();
    for (const QJsonValue &v : o.value(QStringLiteral("cells")).toArray()) {
        const QJsonArray a = v.toArray();
        if (a.size() < 5)
            continue;
        proto::CellTower c;
        c.mcc = a[0].toInt(); c.mnc = a[1].toInt();
        c.lac = qint64(a[2].toDouble()); c.cellId = qint64(a[3].toDouble()); c.signal = a[4].toInt();
        p->cells.append(c);
    }
    for (const QJsonValue &v : o.value(QStringLiteral("wifi")).toArray()) {
        const QJsonArray a = v.toArray();
        if (a.size() < 2)
            continue;
        p->wifi.append(proto::WifiAccessPoint{a[0].toString(), a[1].toInt()});
    }
}

// ---------------------------------------------------------------------------------------
// open / close

Store::Store() : m_connection(QStringLiteral("td-store-%1").arg(++g_connectionCounter)) {}

Store::~Store() { close(); }

QSqlDatabase Store::database() const { return QSqlDatabase::database(m_connection, false); }

bool Store::isOpen() const { return QSqlDatabase::contains(m_connection) && database().isOpen(); }

bool Store::execSql(const QString &sql) {
    QSqlQuery q(database());
    if (!q.exec(sql)) {
        m_error = QStringLiteral("%1: %2").arg(sql, q.lastError().text());
        return false;
    }
    return true;
}

bool Store::open(const QString &path, const StoreOptions &options) {
    close();
    m_path = path;
    m_options = options;
    m_error.clear();
    // Every QSqlDatabase handle of openImpl is gone before close() removes the connection.
    if (openImpl(path, options))
        return true;
    close();
    return false;
}

bool Store::openImpl(const QString &path, const StoreOptions &options) {

    const QFileInfo fi(path);
    if (!options.readOnly && !QDir().mkpath(fi.absolutePath())) {
        m_error = QStringLiteral("cannot create the data folder %1").arg(fi.absolutePath());
        return false;
    }
    if (options.readOnly && !fi.exists()) {
        m_error = QStringLiteral("no database at %1").arg(path);
        return false;
    }
    if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QSQLITE"))) {
        m_error = QStringLiteral("the Qt SQLite driver (QSQLITE) is not installed");
        return false;
    }
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connection);
        db.setDatabaseName(path);
        QString connectOptions = QStringLiteral("QSQLITE_BUSY_TIMEOUT=%1").arg(options.busyTimeoutMs);
        if (options.readOnly)
            connectOptions += QStringLiteral(";QSQLITE_OPEN_READONLY");
        db.setConnectOptions(connectOptions);
        if (!db.open()) {
            m_error = QStringLiteral("cannot open the database %1: %2").arg(path, db.lastError().text());
            return false;
        }
    }
    // The first statement that reads the file tells whether it is a database at all.
    QString err;
    QSqlDatabase probe = database();
    if (schemaVersion(probe, &err) < 0) {
        m_error = QStringLiteral("%1 is not a usable TrackerDesk database (%2)").arg(path, err);
        return false;
    }
    const QStringList pragmas = {
        QStringLiteral("PRAGMA journal_mode=WAL"),
        QStringLiteral("PRAGMA synchronous=%1").arg(options.synchronousFull ? QStringLiteral("FULL") : QStringLiteral("NORMAL")),
        QStringLiteral("PRAGMA cache_size=-%1").arg(options.cacheKiB),
        QStringLiteral("PRAGMA temp_store=MEMORY"),
        QStringLiteral("PRAGMA foreign_keys=OFF"),
    };
    for (const QString &p : pragmas) {
        if (options.readOnly && p.contains(QLatin1String("journal_mode")))
            continue;  // a read-only connection cannot switch the journal mode
        if (!execSql(p)) {
            m_error = QStringLiteral("cannot set up the database %1: %2").arg(path, m_error);
            return false;
        }
    }
    if (options.maxPageCount > 0 && !execSql(QStringLiteral("PRAGMA max_page_count=%1").arg(options.maxPageCount))) {
        return false;
    }
    QSqlDatabase db = database();
    if (options.readOnly) {
        const int v = schemaVersion(db, &err);
        if (v != latestSchemaVersion()) {
            m_error = v < 0 ? err
                            : QStringLiteral("the database %1 has schema version %2, this program needs %3 and cannot migrate "
                                             "a read-only database").arg(path).arg(v).arg(latestSchemaVersion());
            return false;
        }
    } else if (!migrate(db, &err)) {
        m_error = QStringLiteral("%1: %2").arg(path, err);
        return false;
    }
    return true;
}

void Store::close() {
    m_nFrame.reset(); m_nPosition.reset(); m_nStatus.reset(); m_nEvent.reset();
    m_native = false;
    m_insFrame.reset(); m_insPosition.reset(); m_insStatus.reset(); m_insEvent.reset();
    m_insDevice.reset(); m_findDevice.reset(); m_updLogin.reset(); m_touchDevice.reset();
    m_insPendingBatch.reset(); m_findPosition.reset(); m_maxFixTime.reset();
    // Waiting groups stay in positions_pending_batches: the next writer writes them.
    forgetDeferred();
    m_writerPrepared = false;
    m_deviceCache.clear();
    if (QSqlDatabase::contains(m_connection)) {
        {
            QSqlDatabase db = QSqlDatabase::database(m_connection, false);
            if (db.isOpen())
                db.close();
        }
        QSqlDatabase::removeDatabase(m_connection);
    }
}

bool Store::exec(QSqlQuery &q, const char *what) {
    if (q.exec())
        return true;
    m_error = QStringLiteral("%1 failed: %2").arg(QLatin1String(what), q.lastError().text());
    return false;
}

QString Store::integrityCheck() {
    QSqlQuery q(database());
    if (!q.exec(QStringLiteral("PRAGMA integrity_check")))
        return q.lastError().text();
    QStringList out;
    while (q.next())
        out << q.value(0).toString();
    return out.join(QLatin1Char('\n'));
}

// ---------------------------------------------------------------------------------------
// devices

static const char *kDeviceColumns =
    "id, imei, name, protocol, model, phone, sms_password, tz_minutes, last_seen, state, color, created";

Device Store::deviceFromQuery(const QSqlQuery &q) {
    Device d;
    d.id = q.value(0).toLongLong();
    d.imei = q.value(1).toString();
    d.name = q.value(2).toString();
    d.protocol = q.value(3).toString();
    d.model = q.value(4).toString();
    d.phone = q.value(5).toString();
    d.smsPassword = q.value(6).toString();
    d.timeZoneMinutes = toOptInt(q.value(7));
    if (!q.value(8).isNull())
        d.lastSeen = fromMs(q.value(8).toLongLong());
    d.state = q.value(9).toInt() == 1 ? DeviceState::Blocked : DeviceState::Accepted;
    d.color = q.value(10).toString();
    d.created = fromMs(q.value(11).toLongLong());
    return d;
}

QList<Device> Store::devices() {
    QList<Device> out;
    QSqlQuery q(database());
    q.setForwardOnly(true);
    if (!q.exec(QStringLiteral("SELECT %1 FROM devices ORDER BY id").arg(QLatin1String(kDeviceColumns)))) {
        m_error = q.lastError().text();
        return out;
    }
    while (q.next())
        out.append(deviceFromQuery(q));
    return out;
}

std::optional<Device> Store::device(qint64 id) {
    QSqlQuery q(database());
    q.prepare(QStringLiteral("SELECT %1 FROM devices WHERE id=?").arg(QLatin1String(kDeviceColumns)));
    q.addBindValue(id);
    if (!exec(q, "device lookup") || !q.next())
        return std::nullopt;
    return deviceFromQuery(q);
}

std::optional<Device> Store::deviceByImei(const QString &imei) {
    QSqlQuery q(database());
    q.prepare(QStringLiteral("SELECT %1 FROM devices WHERE imei=?").arg(QLatin1String(kDeviceColumns)));
    q.addBindValue(imei);
    if (!exec(q, "device lookup") || !q.next())
        return std::nullopt;
    return deviceFromQuery(q);
}

qint64 Store::addDevice(const Device &d) {
    if (d.imei.trimmed().isEmpty()) {
        m_error = QStringLiteral("a device needs an IMEI or terminal id");
        return 0;
    }
    QSqlQuery q(database());
    q.prepare(QStringLiteral("INSERT INTO devices(imei, name, protocol, model, phone, sms_password, tz_minutes, state, color, created)"
                             " VALUES(?,?,?,?,?,?,?,?,?,?)"));
    q.addBindValue(d.imei.trimmed());
    q.addBindValue(text(d.name));
    q.addBindValue(text(d.protocol));
    q.addBindValue(text(d.model));
    q.addBindValue(text(d.phone));
    q.addBindValue(text(d.smsPassword));
    q.addBindValue(optInt(d.timeZoneMinutes));
    q.addBindValue(int(d.state));
    q.addBindValue(text(d.color));
    q.addBindValue(toMsOr(d.created, QDateTime::currentMSecsSinceEpoch()));
    if (!exec(q, "adding a device"))
        return 0;
    return q.lastInsertId().toLongLong();
}

bool Store::updateDevice(const Device &d) {
    QSqlQuery q(database());
    q.prepare(QStringLiteral("UPDATE devices SET name=?, phone=?, sms_password=?, tz_minutes=?, state=?, color=? WHERE id=?"));
    q.addBindValue(text(d.name));
    q.addBindValue(text(d.phone));
    q.addBindValue(text(d.smsPassword));
    q.addBindValue(optInt(d.timeZoneMinutes));
    q.addBindValue(int(d.state));
    q.addBindValue(text(d.color));
    q.addBindValue(d.id);
    if (!exec(q, "updating a device"))
        return false;
    if (q.numRowsAffected() != 1) {
        m_error = QStringLiteral("no device with id %1").arg(d.id);
        return false;
    }
    return true;
}

// ---------------------------------------------------------------------------------------
// positions

static const char *kPositionColumns =
    "device_id, fix_time, server_time, lat, lon, altitude, speed, course, satellites, valid, source, accuracy, network, frame_id";

StoredPosition Store::positionFromQuery(const QSqlQuery &q, int b) {
    StoredPosition sp;
    sp.deviceId = q.value(b + 0).toLongLong();
    proto::Position &p = sp.position;
    p.time = fromMs(q.value(b + 1).toLongLong());
    sp.serverTime = fromMs(q.value(b + 2).toLongLong());
    const QVariant lat = q.value(b + 3);
    p.hasCoordinates = !lat.isNull();
    if (p.hasCoordinates) {
        p.latitude = lat.toDouble();
        p.longitude = q.value(b + 4).toDouble();
    }
    p.altitude = toOptDouble(q.value(b + 5));
    p.speedKmh = toOptDouble(q.value(b + 6));
    p.course = toOptDouble(q.value(b + 7));
    p.satellites = toOptInt(q.value(b + 8));
    p.valid = q.value(b + 9).toInt() != 0;
    p.source = sourceFromCode(q.value(b + 10).toInt());
    p.accuracy = toOptDouble(q.value(b + 11));
    parseNetworkJson(q.value(b + 12).toByteArray(), &p);
    sp.frameId = q.value(b + 13).toLongLong();
    return sp;
}

// isPlausibleFix() in SQL (source codes: 1 LBS, 2 Wi-Fi; sourceCode()).
static const char kPlausibleFix[] = "(valid=1 OR source IN (1,2))";

QString Store::positionWhere(const PositionFilter &filter) const {
    QString w;
    if (filter.validOnly)
        w += QStringLiteral(" AND valid=1");
    if (filter.withCoordinatesOnly)
        w += QStringLiteral(" AND lat IS NOT NULL");
    if (filter.plausibleOnly)
        w += QLatin1String(" AND ") + QLatin1String(kPlausibleFix);
    if (!filter.sources.isEmpty()) {
        QStringList codes;
        for (proto::PositionSource s : filter.sources)
            codes << QString::number(sourceCode(s));
        w += QStringLiteral(" AND source IN (%1)").arg(codes.join(QLatin1Char(',')));
    }
    return w;
}

bool Store::forEachPosition(const QList<qint64> &deviceIds, const QDateTime &from, const QDateTime &to,
                            const PositionFilter &filter, const std::function<bool(const StoredPosition &)> &callback) {
    QList<qint64> ids = deviceIds;
    if (ids.isEmpty()) {
        QSqlQuery d(database());
        d.setForwardOnly(true);
        if (!d.exec(QStringLiteral("SELECT id FROM devices ORDER BY id"))) {
            m_error = d.lastError().text();
            return false;
        }
        while (d.next())
            ids << d.value(0).toLongLong();
    }
    const qint64 fromMs = toMsOr(from, std::numeric_limits<qint64>::min());
    const qint64 toMs = toMsOr(to, std::numeric_limits<qint64>::max());
    QSqlQuery q(database());
    q.setForwardOnly(true);
    if (!q.prepare(QStringLiteral("SELECT %1 FROM positions WHERE device_id=? AND fix_time>=? AND fix_time<=?%2 ORDER BY fix_time LIMIT ?")
                       .arg(QLatin1String(kPositionColumns), positionWhere(filter)))) {
        m_error = q.lastError().text();
        return false;
    }
    for (qint64 id : std::as_const(ids)) {
        q.bindValue(0, id);
        q.bindValue(1, fromMs);
        q.bindValue(2, toMs);
        q.bindValue(3, filter.limit);
        if (!exec(q, "position query"))
            return false;
        while (q.next()) {
            if (!callback(positionFromQuery(q, 0))) {
                q.finish();
                return true;
            }
        }
        q.finish();
    }
    return true;
}

bool Store::forEachTrackPoint(qint64 deviceId, const QDateTime &from, const QDateTime &to, const PositionFilter &filter,
                              const std::function<bool(double, double, qint64, double)> &callback) {
    PositionFilter f = filter;
    f.withCoordinatesOnly = true;
    QSqlQuery q(database());
    q.setForwardOnly(true);
    if (!q.prepare(QStringLiteral("SELECT lat, lon, fix_time, speed FROM positions WHERE device_id=? AND fix_time>=? AND fix_time<=?%1 "
                                  "ORDER BY fix_time LIMIT ?")
                       .arg(positionWhere(f)))) {
        m_error = q.lastError().text();
        return false;
    }
    q.bindValue(0, deviceId);
    q.bindValue(1, toMsOr(from, std::numeric_limits<qint64>::min()));
    q.bindValue(2, toMsOr(to, std::numeric_limits<qint64>::max()));
    q.bindValue(3, filter.limit);
    if (!exec(q, "track query"))
        return false;
    while (q.next()) {
        const QVariant speed = q.value(3);
        if (!callback(q.value(0).toDouble(), q.value(1).toDouble(), q.value(2).toLongLong(),
                      speed.isNull() ? std::numeric_limits<double>::quiet_NaN() : speed.toDouble()))
            break;
    }
    q.finish();
    return true;
}

qint64 Store::countPositions(const QList<qint64> &deviceIds, const QDateTime &from, const QDateTime &to,
                             const PositionFilter &filter) {
    QString sql = QStringLiteral("SELECT count(*) FROM positions WHERE fix_time>=? AND fix_time<=?") + positionWhere(filter);
    if (!deviceIds.isEmpty()) {
        QStringList ids;
        for (qint64 id : deviceIds)
            ids << QString::number(id);
        sql += QStringLiteral(" AND device_id IN (%1)").arg(ids.join(QLatin1Char(',')));
    }
    QSqlQuery q(database());
    q.prepare(sql);
    q.addBindValue(toMsOr(from, std::numeric_limits<qint64>::min()));
    q.addBindValue(toMsOr(to, std::numeric_limits<qint64>::max()));
    if (!exec(q, "position count") || !q.next())
        return -1;
    const qint64 n = q.value(0).toLongLong();
    return filter.limit >= 0 ? qMin(n, filter.limit) : n;
}

QHash<qint64, StoredPosition> Store::lastPositions() {
    QHash<qint64, StoredPosition> out;
    QSqlQuery q(database());
    q.setForwardOnly(true);
    // Driven by the device list: per device one backward step in the primary key.
    QString cols = QLatin1String(kPositionColumns);
    cols.replace(QLatin1String(", "), QLatin1String(", p."));
    // CROSS JOIN keeps devices as the outer loop whatever the planner's statistics say.
    if (!q.exec(QStringLiteral("SELECT p.%1 FROM devices d CROSS JOIN positions p ON p.device_id = d.id AND p.fix_time = "
                               "(SELECT fix_time FROM positions WHERE device_id = d.id AND lat IS NOT NULL AND %2 "
                               " ORDER BY fix_time DESC LIMIT 1) WHERE p.lat IS NOT NULL AND %2")   // valid, source: of p (devices has neither)
                    .arg(cols, QLatin1String(kPlausibleFix)))) {
        m_error = q.lastError().text();
        return out;
    }
    while (q.next()) {
        StoredPosition sp = positionFromQuery(q, 0);
        out.insert(sp.deviceId, sp);
    }
    return out;
}

QString Store::explainTrackQuery() {
    QSqlQuery q(database());
    q.prepare(QStringLiteral("EXPLAIN QUERY PLAN SELECT %1 FROM positions WHERE device_id=? AND fix_time>=? AND fix_time<=? "
                             "ORDER BY fix_time LIMIT ?").arg(QLatin1String(kPositionColumns)));
    q.addBindValue(1);
    q.addBindValue(0);
    q.addBindValue(1);
    q.addBindValue(-1);
    if (!exec(q, "explain"))
        return m_error;
    QStringList lines;
    while (q.next())
        lines << q.value(q.record().indexOf(QStringLiteral("detail"))).toString();
    return lines.join(QLatin1Char('\n'));
}

// ---------------------------------------------------------------------------------------
// status and events

static StatusSample statusFromQuery(const QSqlQuery &q) {
    StatusSample s;
    s.deviceId = q.value(0).toLongLong();
    s.time = fromMs(q.value(1).toLongLong());
    s.status.batteryPercent = toOptInt(q.value(2));
    s.status.batteryVolts = toOptDouble(q.value(3));
    s.status.gsmSignal = toOptInt(q.value(4));
    s.status.charging = toOptBool(q.value(5));
    s.status.acc = toOptBool(q.value(6));
    s.status.armed = toOptBool(q.value(7));
    s.status.gpsTracking = toOptBool(q.value(8));
    s.status.relayCut = toOptBool(q.value(9));
    s.frameId = q.value(10).toLongLong();
    return s;
}
static const char *kStatusColumns = "device_id, time, battery, volts, signal, charging, acc, armed, gps, relay, frame_id";

QHash<qint64, StatusSample> Store::lastStatus() {
    QHash<qint64, StatusSample> out;
    QSqlQuery q(database());
    q.setForwardOnly(true);
    QString cols = QLatin1String(kStatusColumns);
    cols.replace(QLatin1String(", "), QLatin1String(", s."));
    if (!q.exec(QStringLiteral("SELECT s.%1 FROM devices d CROSS JOIN status s ON s.id = (SELECT id FROM status WHERE device_id = d.id "
                               "ORDER BY time DESC, id DESC LIMIT 1)")
                    .arg(cols))) {
        m_error = q.lastError().text();
        return out;
    }
    while (q.next()) {
        StatusSample s = statusFromQuery(q);
        out.insert(s.deviceId, s);
    }
    return out;
}

QList<StatusSample> Store::statusSamples(qint64 deviceId, const QDateTime &from, const QDateTime &to, int limit) {
    QList<StatusSample> out;
    QSqlQuery q(database());
    q.setForwardOnly(true);
    q.prepare(QStringLiteral("SELECT %1 FROM status WHERE device_id=? AND time>=? AND time<=? ORDER BY time, id LIMIT ?")
                  .arg(QLatin1String(kStatusColumns)));
    q.addBindValue(deviceId);
    q.addBindValue(toMsOr(from, std::numeric_limits<qint64>::min()));
    q.addBindValue(toMsOr(to, std::numeric_limits<qint64>::max()));
    q.addBindValue(limit > 0 ? limit : -1);
    if (!exec(q, "status query"))
        return out;
    while (q.next())
        out.append(statusFromQuery(q));
    return out;
}

QList<Event> Store::events(std::optional<qint64> deviceId, const QDateTime &from, const QDateTime &to, int limit) {
    QList<Event> out;
    QSqlQuery q(database());
    q.setForwardOnly(true);
    QString sql = QStringLiteral("SELECT id, device_id, time, kind, detail, frame_id FROM events WHERE time>=? AND time<=?");
    if (deviceId)
        sql += *deviceId > 0 ? QStringLiteral(" AND device_id=?") : QStringLiteral(" AND device_id IS NULL");
    sql += QStringLiteral(" ORDER BY time, id LIMIT ?");
    q.prepare(sql);
    q.addBindValue(toMsOr(from, std::numeric_limits<qint64>::min()));
    q.addBindValue(toMsOr(to, std::numeric_limits<qint64>::max()));
    if (deviceId && *deviceId > 0)
        q.addBindValue(*deviceId);
    q.addBindValue(limit > 0 ? limit : -1);
    if (!exec(q, "event query"))
        return out;
    while (q.next()) {
        Event e;
        e.id = q.value(0).toLongLong();
        e.deviceId = q.value(1).toLongLong();
        e.time = fromMs(q.value(2).toLongLong());
        e.kind = q.value(3).toString();
        e.detail = q.value(4).toString();
        e.frameId = q.value(5).toLongLong();
        out.append(e);
    }
    return out;
}

// ---------------------------------------------------------------------------------------
// frames

StoredFrame Store::frameFromQuery(const QSqlQuery &q) {
    StoredFrame f;
    f.id = q.value(0).toLongLong();
    f.time = fromMs(q.value(1).toLongLong());
    f.direction = q.value(2).toInt() == 1 ? proto::Direction::ToDevice : proto::Direction::FromDevice;
    f.peerAddress = q.value(3).toString();
    f.peerPort = quint16(q.value(4).toUInt());
    f.deviceId = q.value(5).toLongLong();
    f.protocol = q.value(6).toString();
    f.type = q.value(7).toInt();
    f.bytes = q.value(8).toByteArray();
    f.replyTo = q.value(9).toLongLong();
    return f;
}

QString Store::frameSelect(const FrameFilter &filter, QVariantList *binds) {
    QString sql = QStringLiteral("SELECT id, time, direction, peer, port, device_id, protocol, type, bytes, reply_to FROM frames WHERE 1");
    if (filter.deviceId) {
        if (*filter.deviceId > 0) {
            sql += QStringLiteral(" AND device_id=?");
            binds->append(*filter.deviceId);
        } else {
            sql += QStringLiteral(" AND device_id IS NULL");
        }
    }
    if (filter.from.isValid()) {
        sql += QStringLiteral(" AND time>=?");
        binds->append(filter.from.toMSecsSinceEpoch());
    }
    if (filter.to.isValid()) {
        sql += QStringLiteral(" AND time<=?");
        binds->append(filter.to.toMSecsSinceEpoch());
    }
    if (filter.direction) {
        sql += QStringLiteral(" AND direction=?");
        binds->append(*filter.direction == proto::Direction::ToDevice ? 1 : 0);
    }
    if (!filter.protocol.isEmpty()) {
        sql += QStringLiteral(" AND protocol=?");
        binds->append(filter.protocol);
    }
    if (filter.afterId > 0) {
        sql += QStringLiteral(" AND id>?");
        binds->append(filter.afterId);
    }
    sql += filter.newestFirst ? QStringLiteral(" ORDER BY id DESC") : QStringLiteral(" ORDER BY id");
    sql += QStringLiteral(" LIMIT ?");
    binds->append(filter.limit > 0 ? filter.limit : -1);
    return sql;
}

bool Store::forEachFrame(const FrameFilter &filter, const std::function<bool(const StoredFrame &)> &callback) {
    QVariantList binds;
    const QString sql = frameSelect(filter, &binds);
    QSqlQuery q(database());
    q.setForwardOnly(true);
    if (!q.prepare(sql)) {
        m_error = q.lastError().text();
        return false;
    }
    for (int i = 0; i < binds.size(); ++i)
        q.bindValue(i, binds[i]);
    if (!exec(q, "frame query"))
        return false;
    while (q.next())
        if (!callback(frameFromQuery(q)))
            break;
    q.finish();
    return true;
}

QList<StoredFrame> Store::frames(const FrameFilter &filter) {
    QList<StoredFrame> out;
    forEachFrame(filter, [&out](const StoredFrame &f) { out.append(f); return true; });
    return out;
}

qint64 Store::countFrames() {
    QSqlQuery q(database());
    if (!q.exec(QStringLiteral("SELECT count(*) FROM frames")) || !q.next()) {
        m_error = q.lastError().text();
        return -1;
    }
    return q.value(0).toLongLong();
}

// ---------------------------------------------------------------------------------------
// writer path

static const char kInsertFrameSql[] =
    "INSERT INTO frames(time, direction, peer, port, device_id, protocol, type, bytes, reply_to) VALUES(?,?,?,?,?,?,?,?,?)";
static const char kInsertPositionSql[] =
    "INSERT OR IGNORE INTO positions(device_id, fix_time, ckey, server_time, lat, lon, altitude, speed, course, satellites,"
    " valid, source, accuracy, network, frame_id) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
static const char kPositionRowColumns[] =
    "device_id, fix_time, ckey, server_time, lat, lon, altitude, speed, course, satellites, valid, source, accuracy,"
    " network, frame_id";

static const char kInsertStatusSql[] =
    "INSERT INTO status(device_id, time, battery, volts, signal, charging, acc, armed, gps, relay, frame_id)"
    " VALUES(?,?,?,?,?,?,?,?,?,?,?)";
static const char kInsertEventSql[] =
    "INSERT OR IGNORE INTO events(device_id, time, kind, detail, frame_id) VALUES(?,?,?,?,?)";

bool Store::prepareWriter() {
    QSqlDatabase db = database();
    auto prep = [&](std::unique_ptr<QSqlQuery> &q, const QString &sql) {
        q = std::make_unique<QSqlQuery>(db);
        if (!q->prepare(sql)) {
            m_error = QStringLiteral("cannot prepare '%1': %2").arg(sql, q->lastError().text());
            return false;
        }
        return true;
    };
    m_writerPrepared =
        prep(m_insFrame, QLatin1String(kInsertFrameSql))
        && prep(m_insPosition, QLatin1String(kInsertPositionSql))
        && prep(m_insStatus, QLatin1String(kInsertStatusSql))
        && prep(m_insEvent, QLatin1String(kInsertEventSql))
        && prep(m_insDevice, QStringLiteral("INSERT INTO devices(imei, protocol, model, login_tz, created, last_seen) VALUES(?,?,?,?,?,?)"))
        && prep(m_findDevice, QStringLiteral("SELECT id, protocol, model, login_tz, last_seen FROM devices WHERE imei=?"))
        && prep(m_updLogin, QStringLiteral("UPDATE devices SET protocol=?, model=?, login_tz=? WHERE id=?"))
        && prep(m_touchDevice, QStringLiteral("UPDATE devices SET last_seen=? WHERE id=?"))
        && prep(m_insPendingBatch, QStringLiteral("INSERT INTO positions_pending_batches(id, rows) VALUES(?,?)"))
        && prep(m_findPosition, QStringLiteral("SELECT 1 FROM positions WHERE device_id=? AND fix_time=? AND ckey=?"))
        && prep(m_maxFixTime, QStringLiteral("SELECT max(fix_time) FROM positions WHERE device_id=?"));
    if (m_findDevice)
        m_findDevice->setForwardOnly(true);
    if (m_writerPrepared && qEnvironmentVariableIsEmpty("TRACKERDESK_NO_NATIVE_SQLITE")) {
        void *handle = nullptr;
        if (const NativeApi *api = NativeApi::get(db, &handle)) {
            m_nFrame = std::make_unique<NativeStatement>(api, handle);
            m_nPosition = std::make_unique<NativeStatement>(api, handle);
            m_nStatus = std::make_unique<NativeStatement>(api, handle);
            m_nEvent = std::make_unique<NativeStatement>(api, handle);
            m_native = m_nFrame->prepare(kInsertFrameSql, &m_error) && m_nPosition->prepare(kInsertPositionSql, &m_error)
                       && m_nStatus->prepare(kInsertStatusSql, &m_error) && m_nEvent->prepare(kInsertEventSql, &m_error);
            if (!m_native) {
                m_nFrame.reset(); m_nPosition.reset(); m_nStatus.reset(); m_nEvent.reset();
            }
        }
    }
    return m_writerPrepared;
}

qint64 Store::resolveDevice(const WorkItem &item, bool *created, QList<QString> *newKeys) {
    auto it = m_deviceCache.find(item.deviceKey);
    if (it == m_deviceCache.end()) {
        DeviceCacheEntry e;
        m_findDevice->bindValue(0, item.deviceKey);
        if (!exec(*m_findDevice, "device lookup"))
            return -1;
        if (m_findDevice->next()) {
            e.id = m_findDevice->value(0).toLongLong();
            e.protocol = m_findDevice->value(1).toString();
            e.model = m_findDevice->value(2).toString();
            e.loginTz = toOptInt(m_findDevice->value(3));
            e.lastSeenStored = e.lastSeen = m_findDevice->value(4).toLongLong();
            m_findDevice->finish();
        } else {
            m_findDevice->finish();
            m_insDevice->bindValue(0, item.deviceKey);
            m_insDevice->bindValue(1, text(item.protocol));
            m_insDevice->bindValue(2, text(item.model));
            m_insDevice->bindValue(3, optInt(item.loginTimeZone));
            m_insDevice->bindValue(4, item.serverTimeMs);
            m_insDevice->bindValue(5, item.serverTimeMs);
            if (!exec(*m_insDevice, "adding a device"))
                return -1;
            e.id = m_insDevice->lastInsertId().toLongLong();
            e.protocol = item.protocol;
            e.model = item.model;
            e.loginTz = item.loginTimeZone;
            e.lastSeenStored = e.lastSeen = item.serverTimeMs;
            *created = true;
            newKeys->append(item.deviceKey);
        }
        it = m_deviceCache.insert(item.deviceKey, e);
    }
    DeviceCacheEntry &e = it.value();
    e.lastSeen = qMax(e.lastSeen, item.serverTimeMs);
    if (item.kind == WorkItem::Inbound && item.messageKind == proto::MessageKind::Login && item.storeData) {
        const QString model = item.model.isEmpty() ? e.model : item.model;
        const std::optional<int> tz = item.loginTimeZone ? item.loginTimeZone : e.loginTz;
        if (e.protocol != item.protocol || e.model != model || e.loginTz != tz) {
            m_updLogin->bindValue(0, text(item.protocol));
            m_updLogin->bindValue(1, text(model));
            m_updLogin->bindValue(2, optInt(tz));
            m_updLogin->bindValue(3, e.id);
            if (!exec(*m_updLogin, "updating the device login"))
                return -1;
            e.protocol = item.protocol;
            e.model = model;
            e.loginTz = tz;
        }
    }
    return e.id;
}

qint64 Store::insertFrame(qint64 timeMs, proto::Direction dir, const WorkItem &item, qint64 deviceId,
                          const QString &protocol, int type, const QByteArray &bytes, qint64 replyTo) {
    if (m_native) {
        NativeStatement &n = *m_nFrame;
        const QByteArray peer = item.peerAddress.toUtf8();
        const QByteArray proto = protocol.toUtf8();
        n.bind(1, timeMs);
        n.bind(2, dir == proto::Direction::ToDevice ? 1 : 0);
        if (item.peerAddress.isNull()) n.bindNull(3); else n.bindText(3, peer);
        n.bind(4, int(item.peerPort));
        if (deviceId > 0) n.bind(5, deviceId); else n.bindNull(5);
        n.bindText(6, proto);
        n.bind(7, type);
        n.bindBlob(8, bytes);
        if (replyTo > 0) n.bind(9, replyTo); else n.bindNull(9);
        QString err;
        if (!n.exec(&err)) {
            m_error = QStringLiteral("storing a frame failed: %1").arg(err);
            return -1;
        }
        return n.lastInsertId();
    }
    QSqlQuery &q = *m_insFrame;
    q.bindValue(0, timeMs);
    q.bindValue(1, dir == proto::Direction::ToDevice ? 1 : 0);
    q.bindValue(2, item.peerAddress);
    q.bindValue(3, int(item.peerPort));
    q.bindValue(4, idOrNull(deviceId));
    q.bindValue(5, text(protocol));
    q.bindValue(6, type);
    q.bindValue(7, bytes);
    q.bindValue(8, idOrNull(replyTo));
    if (!exec(q, "storing a frame"))
        return -1;
    return q.lastInsertId().toLongLong();
}

struct Store::PositionRow {
    qint64 deviceId = 0;
    qint64 fixTime = 0;
    qint64 ckey = 0;
    qint64 serverTime = 0;
    bool hasCoordinates = false;
    double lat = 0, lon = 0;
    std::optional<double> altitude, speed, course, accuracy;
    std::optional<int> satellites;
    int valid = 0;
    int source = 0;
    QByteArray network;               // empty: NULL
    qint64 frameId = 0;
    qint64 batch = 0;                 // deferred: its row of positions_pending_batches
};

// A device's deferred positions: the rows waiting in memory (and, durable, in
// positions_pending_batches) until their group is written into positions.
struct Store::DeferredDevice {
    qint64 lastWriteMs = 0;           // when a row of it last went into positions
    // The newest fix time in positions, and the content keys of the rows with that time
    // (known: every such row was written by this connection): a fix newer than that, or
    // as new with another key, is no resend of a written row, without a lookup.
    qint64 newestWritten = std::numeric_limits<qint64>::min();
    QList<qint64> newestKeys;
    bool newestKeysKnown = true;
    qint64 dueMs = 0;                 // when the waiting group is written
    QList<PositionRow> rows;

    void wrote(const PositionRow &r) {
        if (r.fixTime > newestWritten) {
            newestWritten = r.fixTime;
            newestKeys.clear();
            newestKeysKnown = true;
        }
        if (r.fixTime == newestWritten)
            newestKeys.append(r.ckey);
    }
};

bool Store::writePositionRow(const PositionRow &r, bool *added) {
    if (m_native) {
        NativeStatement &n = *m_nPosition;
        n.bind(1, r.deviceId);
        n.bind(2, r.fixTime);
        n.bind(3, r.ckey);
        n.bind(4, r.serverTime);
        if (r.hasCoordinates) {
            n.bind(5, r.lat);
            n.bind(6, r.lon);
        } else {
            n.bindNull(5);
            n.bindNull(6);
        }
        auto optD = [&n](int i, const std::optional<double> &v) { if (v) n.bind(i, *v); else n.bindNull(i); };
        optD(7, r.altitude);
        optD(8, r.speed);
        optD(9, r.course);
        if (r.satellites) n.bind(10, *r.satellites); else n.bindNull(10);
        n.bind(11, r.valid);
        n.bind(12, r.source);
        optD(13, r.accuracy);
        if (r.network.isEmpty()) n.bindNull(14); else n.bindText(14, r.network);
        if (r.frameId > 0) n.bind(15, r.frameId); else n.bindNull(15);
        QString err;
        if (!n.exec(&err)) {
            m_error = QStringLiteral("storing a position failed: %1").arg(err);
            return false;
        }
        if (added)
            *added = n.changes() > 0;
        return true;
    }
    QSqlQuery &q = *m_insPosition;
    q.bindValue(0, r.deviceId);
    q.bindValue(1, r.fixTime);
    q.bindValue(2, r.ckey);
    q.bindValue(3, r.serverTime);
    q.bindValue(4, r.hasCoordinates ? QVariant(r.lat) : QVariant());
    q.bindValue(5, r.hasCoordinates ? QVariant(r.lon) : QVariant());
    q.bindValue(6, optDouble(r.altitude));
    q.bindValue(7, optDouble(r.speed));
    q.bindValue(8, optDouble(r.course));
    q.bindValue(9, optInt(r.satellites));
    q.bindValue(10, r.valid);
    q.bindValue(11, r.source);
    q.bindValue(12, optDouble(r.accuracy));
    q.bindValue(13, r.network.isEmpty() ? QVariant() : QVariant(QString::fromUtf8(r.network)));
    q.bindValue(14, idOrNull(r.frameId));
    if (!exec(q, "storing a position"))
        return false;
    if (added)
        *added = q.numRowsAffected() > 0;
    return true;
}

namespace {
constexpr char kPendingFormat = 1;   // first byte of a positions_pending_batches blob
constexpr int kPendingFixedBytes = 5 * 8 + 1 + 6 * 8 + 4 + 1 + 1 + 4;

template <typename T>
void putLe(char *&p, T v) {
    qToLittleEndian(v, p);
    p += sizeof(T);
}
void putDouble(char *&p, double d) {
    quint64 bits;
    std::memcpy(&bits, &d, sizeof bits);
    putLe(p, bits);
}
template <typename T>
T getLe(const char *&p) {
    const T v = qFromLittleEndian<T>(p);
    p += sizeof(T);
    return v;
}
double getDouble(const char *&p) {
    const quint64 bits = getLe<quint64>(p);
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
}
} // namespace

// Row: device, fix time, key, server time, frame (i64); flags (u8: coordinates, altitude,
// speed, course, accuracy, satellites); lat, lon, altitude, speed, course, accuracy (f64);
// satellites (i32); valid, source (u8); network (u32 length + UTF-8).
void Store::appendPendingRow(QByteArray &blob, const PositionRow &r) {
    if (blob.isEmpty())
        blob.append(kPendingFormat);
    const qsizetype at = blob.size();
    blob.resize(at + kPendingFixedBytes + r.network.size());
    char *p = blob.data() + at;
    putLe<qint64>(p, r.deviceId);
    putLe<qint64>(p, r.fixTime);
    putLe<qint64>(p, r.ckey);
    putLe<qint64>(p, r.serverTime);
    putLe<qint64>(p, r.frameId);
    putLe<quint8>(p, quint8((r.hasCoordinates ? 1 : 0) | (r.altitude ? 2 : 0) | (r.speed ? 4 : 0) | (r.course ? 8 : 0)
                            | (r.accuracy ? 16 : 0) | (r.satellites ? 32 : 0)));
    putDouble(p, r.lat);
    putDouble(p, r.lon);
    putDouble(p, r.altitude.value_or(0));
    putDouble(p, r.speed.value_or(0));
    putDouble(p, r.course.value_or(0));
    putDouble(p, r.accuracy.value_or(0));
    putLe<qint32>(p, r.satellites.value_or(0));
    putLe<quint8>(p, quint8(r.valid));
    putLe<quint8>(p, quint8(r.source));
    putLe<quint32>(p, quint32(r.network.size()));
    if (!r.network.isEmpty())
        std::memcpy(p, r.network.constData(), size_t(r.network.size()));
}

bool Store::readPendingRow(const char *&p, const char *end, PositionRow *r) {
    if (end - p < kPendingFixedBytes)
        return false;
    r->deviceId = getLe<qint64>(p);
    r->fixTime = getLe<qint64>(p);
    r->ckey = getLe<qint64>(p);
    r->serverTime = getLe<qint64>(p);
    r->frameId = getLe<qint64>(p);
    const quint8 flags = getLe<quint8>(p);
    r->hasCoordinates = flags & 1;
    r->lat = getDouble(p);
    r->lon = getDouble(p);
    const double altitude = getDouble(p), speed = getDouble(p), course = getDouble(p), accuracy = getDouble(p);
    r->altitude = flags & 2 ? std::optional<double>(altitude) : std::nullopt;
    r->speed = flags & 4 ? std::optional<double>(speed) : std::nullopt;
    r->course = flags & 8 ? std::optional<double>(course) : std::nullopt;
    r->accuracy = flags & 16 ? std::optional<double>(accuracy) : std::nullopt;
    const qint32 satellites = getLe<qint32>(p);
    r->satellites = flags & 32 ? std::optional<int>(satellites) : std::nullopt;
    r->valid = getLe<quint8>(p);
    r->source = getLe<quint8>(p);
    const quint32 networkLength = getLe<quint32>(p);
    if (r->deviceId <= 0 || quint64(end - p) < networkLength)
        return false;
    r->network = QByteArray(p, qsizetype(networkLength));
    p += networkLength;
    return true;
}

// This commit's deferred rows, as one row of positions_pending_batches.
bool Store::writePendingBatch() {
    if (m_pendingBlob.isEmpty())
        return true;
    QSqlQuery &q = *m_insPendingBatch;
    q.bindValue(0, m_nextBatchId);
    q.bindValue(1, m_pendingBlob);
    if (!exec(q, "storing the waiting positions"))
        return false;
    ++m_nextBatchId;
    m_pendingBlob.clear();
    return true;
}

bool Store::insertPositions(qint64 deviceId, qint64 serverTimeMs, qint64 frameId,
                            const proto::PositionList &positions, int *stored, int *duplicates,
                            QList<bool> *isNew, bool mayDefer) {
    const bool defer = mayDefer && m_options.deferPositionsMs > 0;
    const qint64 nowMs = defer ? QDateTime::currentMSecsSinceEpoch() : 0;
    for (const proto::Position &p : positions) {
        PositionRow r;
        r.deviceId = deviceId;
        r.fixTime = toMsOr(p.time, serverTimeMs);
        r.ckey = positionContentKey(p);
        r.serverTime = serverTimeMs;
        r.hasCoordinates = p.hasCoordinates;
        r.lat = p.latitude;
        r.lon = p.longitude;
        r.altitude = p.altitude;
        r.speed = p.speedKmh;
        r.course = p.course;
        r.satellites = p.satellites;
        r.valid = int(p.valid);
        r.source = sourceCode(p.source);
        r.accuracy = p.accuracy;
        r.network = networkJson(p);
        r.frameId = frameId;
        bool added = false;
        if (defer ? !deferPosition(std::move(r), nowMs, &added) : !writePositionRow(r, &added))
            return false;
        if (added)
            ++*stored;
        else
            ++*duplicates;
        if (isNew)
            isNew->append(added);
    }
    return true;
}

bool Store::positionExists(qint64 deviceId, qint64 fixTime, qint64 ckey, bool *exists) {
    QSqlQuery &q = *m_findPosition;
    q.bindValue(0, deviceId);
    q.bindValue(1, fixTime);
    q.bindValue(2, ckey);
    if (!exec(q, "looking up a position"))
        return false;
    *exists = q.next();
    q.finish();
    return true;
}

// Writes the fix at once when its device's last row went into positions long enough ago
// (a tracker reporting every few seconds or more: always), else appends it to this
// commit's batch of waiting rows and to the device's waiting group. *added: false for a
// resend.
bool Store::deferPosition(PositionRow &&r, qint64 nowMs, bool *added) {
    DeferredDevice *&d = m_deferred[r.deviceId];
    if (!d) {
        d = new DeferredDevice;
        // The newest fix it has stored (its rows with that time were not written here).
        QSqlQuery &q = *m_maxFixTime;
        q.bindValue(0, r.deviceId);
        if (!exec(q, "looking up the newest fix"))
            return false;
        if (q.next() && !q.isNull(0)) {
            d->newestWritten = q.value(0).toLongLong();
            d->newestKeysKnown = false;
        }
        q.finish();
    }
    const bool waiting = !d->rows.isEmpty();
    if (!waiting && (!m_deferBusy || d->lastWriteMs == 0 || nowMs - d->lastWriteMs >= m_options.deferPositionsMs)) {
        if (!writePositionRow(r, added))
            return false;
        d->lastWriteMs = nowMs;
        if (*added)
            d->wrote(r);
        return true;
    }
    // A resend of a waiting fix, or of one in positions?
    for (const PositionRow &w : std::as_const(d->rows)) {
        if (w.fixTime == r.fixTime && w.ckey == r.ckey) {
            *added = false;
            return true;
        }
    }
    if (r.fixTime == d->newestWritten && d->newestKeysKnown) {
        if (d->newestKeys.contains(r.ckey)) {
            *added = false;
            return true;
        }
    } else if (r.fixTime <= d->newestWritten) {
        bool exists = false;
        if (!positionExists(r.deviceId, r.fixTime, r.ckey, &exists))
            return false;
        if (exists) {
            *added = false;
            return true;
        }
    }
    r.batch = m_nextBatchId;   // written by writePendingBatch() before the commit
    appendPendingRow(m_pendingBlob, r);
    if (!waiting) {
        d->dueMs = nowMs + m_options.deferPositionsMs;
        m_deferDue.insert({d->dueMs, r.deviceId});
        m_deferFirstBatch.insert(r.batch);
    }
    d->rows.append(std::move(r));
    ++m_deferredRows;
    *added = true;
    return true;
}

// Writes the waiting groups due at nowMs (every group with `all`), oldest first, until
// rowBudget rows are written, then deletes the batches of waiting rows no group needs.
bool Store::writeDueGroups(qint64 nowMs, qint64 rowBudget, bool all) {
    qint64 written = 0;
    while (!m_deferDue.empty() && written < rowBudget) {
        const auto [due, deviceId] = *m_deferDue.begin();
        if (!all && due > nowMs)
            break;
        m_deferDue.erase(m_deferDue.begin());
        DeferredDevice *d = m_deferred.value(deviceId);
        if (!d || d->rows.isEmpty())
            continue;
        const auto first = m_deferFirstBatch.find(d->rows.first().batch);
        if (first != m_deferFirstBatch.end())
            m_deferFirstBatch.erase(first);
        for (const PositionRow &r : std::as_const(d->rows)) {
            if (!writePositionRow(r, nullptr))
                return false;
            d->wrote(r);
        }
        written += d->rows.size();
        m_deferredRows -= d->rows.size();
        d->rows.clear();
        d->lastWriteMs = nowMs;
    }
    // positions_pending_batches keeps what the waiting groups still need: batches before
    // the first of them are written. Deleted in runs (a range delete) or all at once when
    // none waits.
    if (m_deferFirstBatch.empty()) {
        if (m_nextBatchId > 1 && !clearPendingBatches())
            return false;
    } else if (*m_deferFirstBatch.begin() - m_pendingDeletedBelow >= 16) {
        const qint64 below = *m_deferFirstBatch.begin();
        QSqlQuery q(database());
        if (!q.exec(QStringLiteral("DELETE FROM positions_pending_batches WHERE id < %1").arg(below))) {
            m_error = QStringLiteral("trimming positions_pending_batches: %1").arg(q.lastError().text());
            return false;
        }
        m_pendingDeletedBelow = below;
    }
    return true;
}

// Rows a previous run (or a failed transaction) left waiting: written into positions
// (resends of rows already there are ignored by the key) and deleted. Version 6 kept them
// a row each in positions_pending; since version 7 a batch per commit. A damaged batch is
// skipped (and reported) rather than blocking every commit after it.
bool Store::mergePending() {
    QSqlQuery q(database());
    const QString cols = QLatin1String(kPositionRowColumns);
    if (!q.exec(QStringLiteral("INSERT OR IGNORE INTO positions(%1) SELECT %1 FROM positions_pending ORDER BY rowid").arg(cols))) {
        m_error = QStringLiteral("writing the positions a previous run left: %1").arg(q.lastError().text());
        return false;
    }
    qint64 n = qMax(0, q.numRowsAffected());
    if (!q.exec(QStringLiteral("DELETE FROM positions_pending"))) {
        m_error = QStringLiteral("clearing positions_pending: %1").arg(q.lastError().text());
        return false;
    }
    q.setForwardOnly(true);
    if (!q.exec(QStringLiteral("SELECT id, rows FROM positions_pending_batches ORDER BY id"))) {
        m_error = QStringLiteral("reading the positions a previous run left: %1").arg(q.lastError().text());
        return false;
    }
    while (q.next()) {
        const QByteArray blob = q.value(1).toByteArray();
        const char *p = blob.constData();
        const char *end = p + blob.size();
        bool damaged = blob.isEmpty() || *p++ != kPendingFormat;
        while (!damaged && p < end) {
            PositionRow r;
            if (!readPendingRow(p, end, &r)) {
                damaged = true;
                break;
            }
            bool added = false;
            if (!writePositionRow(r, &added))
                return false;
            n += added ? 1 : 0;
        }
        if (damaged) {
            ++m_damagedPending;
            qWarning("store: batch %lld of waiting positions is damaged (%lld bytes); the rows read before the damage are kept",
                     q.value(0).toLongLong(), qint64(blob.size()));
        }
    }
    q.finish();
    if (!clearPendingBatches())
        return false;
    m_recoveredPending += n;
    m_pendingMergeNeeded = false;
    return true;
}

// Every batch of waiting rows deleted; the ids start over.
bool Store::clearPendingBatches() {
    QSqlQuery q(database());
    if (!q.exec(QStringLiteral("DELETE FROM positions_pending_batches"))) {
        m_error = QStringLiteral("clearing positions_pending_batches: %1").arg(q.lastError().text());
        return false;
    }
    m_nextBatchId = 1;
    m_pendingDeletedBelow = 0;
    return true;
}

void Store::forgetDeferred() {
    qDeleteAll(m_deferred);
    m_deferred.clear();
    m_deferDue.clear();
    m_deferFirstBatch.clear();
    m_pendingBlob.clear();
    m_deferredRows = 0;
    m_pendingMergeNeeded = true;   // positions_pending_batches has what the memory had
}

qint64 Store::nextDeferredDueMs() const {
    if (m_options.deferPositionsMs <= 0)
        return -1;
    if (m_pendingMergeNeeded)
        return 0;
    return m_deferDue.empty() ? -1 : m_deferDue.begin()->first;
}

bool Store::flushDeferred(qint64 nowMs, bool all) {
    if (m_options.deferPositionsMs <= 0 || m_options.readOnly || !isOpen())
        return true;
    const qint64 due = nextDeferredDueMs();
    if (due < 0 || (!all && due > nowMs))
        return true;
    if (!beginWriterTransaction())
        return false;
    QSqlDatabase db = database();
    m_error.clear();
    if ((m_pendingMergeNeeded && !mergePending()) || !writeDueGroups(nowMs, std::numeric_limits<qint64>::max(), all)
        || !db.commit()) {
        m_error = QStringLiteral("writing deferred positions failed: %1").arg(m_error.isEmpty() ? db.lastError().text() : m_error);
        db.rollback();
        forgetDeferred();
        return false;
    }
    return true;
}

// A status sample from the live stream is stored when it says something new: a field the
// device's stored samples have not had yet or had with another value, or the last stored
// sample is older than kStatusKeepAliveMs. Many position frames carry a status too (GT06
// 0x22: ignition; JT/T 808: the status word), the same with every fix: stored each time,
// that was a row and a (device, time) index entry per fix for nothing. Status history is
// a step function, what this keeps describes it completely. (Re-decoding stored frames
// stores every sample it finds.)
namespace {
constexpr qint64 kStatusKeepAliveMs = 10 * 60 * 1000;

template <typename T>
bool mergeField(std::optional<T> &known, const std::optional<T> &now) {
    if (!now || known == now)
        return false;
    known = now;
    return true;
}
} // namespace

bool Store::statusIsNews(qint64 deviceId, qint64 timeMs, const proto::Status &s) {
    auto it = m_knownStatus.find(deviceId);
    if (it == m_knownStatus.end()) {
        // What the device's newest stored sample says (nothing: everything is news).
        KnownStatus k;
        QSqlQuery q(database());
        q.setForwardOnly(true);
        q.prepare(QStringLiteral("SELECT %1 FROM status WHERE device_id=? ORDER BY time DESC, id DESC LIMIT 1")
                      .arg(QLatin1String(kStatusColumns)));
        q.addBindValue(deviceId);
        if (q.exec() && q.next()) {
            const StatusSample last = statusFromQuery(q);
            k.status = last.status;
            k.storedMs = last.time.toMSecsSinceEpoch();
        }
        it = m_knownStatus.insert(deviceId, k);
    }
    KnownStatus &k = it.value();
    bool news = timeMs - k.storedMs >= kStatusKeepAliveMs || timeMs < k.storedMs;
    news |= mergeField(k.status.batteryPercent, s.batteryPercent);
    news |= mergeField(k.status.batteryVolts, s.batteryVolts);
    news |= mergeField(k.status.gsmSignal, s.gsmSignal);
    news |= mergeField(k.status.charging, s.charging);
    news |= mergeField(k.status.acc, s.acc);
    news |= mergeField(k.status.armed, s.armed);
    news |= mergeField(k.status.gpsTracking, s.gpsTracking);
    news |= mergeField(k.status.relayCut, s.relayCut);
    if (news)
        k.storedMs = timeMs;
    return news;
}

bool Store::insertStatus(qint64 deviceId, qint64 timeMs, qint64 frameId, const proto::Status &s) {
    if (m_native) {
        NativeStatement &n = *m_nStatus;
        auto optI = [&n](int i, const std::optional<int> &v) { if (v) n.bind(i, *v); else n.bindNull(i); };
        auto optB = [&n](int i, const std::optional<bool> &v) { if (v) n.bind(i, int(*v)); else n.bindNull(i); };
        n.bind(1, deviceId);
        n.bind(2, timeMs);
        optI(3, s.batteryPercent);
        if (s.batteryVolts) n.bind(4, *s.batteryVolts); else n.bindNull(4);
        optI(5, s.gsmSignal);
        optB(6, s.charging);
        optB(7, s.acc);
        optB(8, s.armed);
        optB(9, s.gpsTracking);
        optB(10, s.relayCut);
        if (frameId > 0) n.bind(11, frameId); else n.bindNull(11);
        QString err;
        if (!n.exec(&err)) {
            m_error = QStringLiteral("storing a status sample failed: %1").arg(err);
            return false;
        }
        return true;
    }
    QSqlQuery &q = *m_insStatus;
    q.bindValue(0, deviceId);
    q.bindValue(1, timeMs);
    q.bindValue(2, optInt(s.batteryPercent));
    q.bindValue(3, optDouble(s.batteryVolts));
    q.bindValue(4, optInt(s.gsmSignal));
    q.bindValue(5, optBool(s.charging));
    q.bindValue(6, optBool(s.acc));
    q.bindValue(7, optBool(s.armed));
    q.bindValue(8, optBool(s.gpsTracking));
    q.bindValue(9, optBool(s.relayCut));
    q.bindValue(10, idOrNull(frameId));
    return exec(q, "storing a status sample");
}

bool Store::insertEvent(qint64 deviceId, qint64 timeMs, const QString &kind, const QString &detail, qint64 frameId) {
    if (m_native) {
        NativeStatement &n = *m_nEvent;
        const QByteArray k = kind.toUtf8(), d = detail.toUtf8();
        if (deviceId > 0) n.bind(1, deviceId); else n.bindNull(1);
        n.bind(2, timeMs);
        n.bindText(3, k);
        n.bindText(4, d);
        if (frameId > 0) n.bind(5, frameId); else n.bindNull(5);
        QString err;
        if (!n.exec(&err)) {
            m_error = QStringLiteral("storing an event failed: %1").arg(err);
            return false;
        }
        return true;
    }
    QSqlQuery &q = *m_insEvent;
    q.bindValue(0, idOrNull(deviceId));
    q.bindValue(1, timeMs);
    q.bindValue(2, text(kind));
    q.bindValue(3, text(detail));
    q.bindValue(4, idOrNull(frameId));
    return exec(q, "storing an event");
}

// The writer's statements prepared (once) and a write transaction begun.
bool Store::beginWriterTransaction() {
    if (!m_writerPrepared && !prepareWriter())
        return false;
    if (!beginImmediate()) {
        m_error = QStringLiteral("cannot start a transaction: %1").arg(m_error);
        return false;
    }
    return true;
}

bool Store::applyBatch(const QList<WorkItem> &items, QList<WorkResult> *results) {
    results->clear();
    if (!isOpen()) {
        m_error = QStringLiteral("the database is not open");
        return false;
    }
    if (!beginWriterTransaction())
        return false;
    QSqlDatabase db = database();
    QList<QString> newKeys;
    QList<QPair<QString, qint64>> touched;  // last_seen writes to remember after the commit
    auto fail = [&]() {
        db.rollback();
        // Rows of this batch are gone: forget cached device rows (created ones and the
        // login/last-seen state), they are read again from the database on next use.
        m_deviceCache.clear();
        m_knownStatus.clear();
        if (m_options.deferPositionsMs > 0)
            forgetDeferred();
        results->clear();
        return false;
    };
    const bool defer = m_options.deferPositionsMs > 0;
    if (defer && m_pendingMergeNeeded && !mergePending())
        return fail();
    // Busy: commits have carried deferFromItems items or more lately (an exponential
    // average; thousands of fixes a second). Only then are positions deferred; a quiet
    // writer writes every row at once, and any group still waiting with this commit.
    m_itemsPerCommit = 0.9 * m_itemsPerCommit + 0.1 * double(items.size());
    m_deferBusy = defer && m_itemsPerCommit >= m_options.deferFromItems;
    const qint64 deferredBefore = m_deferredRows;
    results->reserve(items.size());
    for (const WorkItem &item : items) {
        WorkResult r;
        r.ticket = item.ticket;
        qint64 deviceId = 0;
        if (!item.deviceKey.isEmpty()) {
            deviceId = resolveDevice(item, &r.deviceCreated, &newKeys);
            if (deviceId < 0)
                return fail();
        }
        r.deviceId = deviceId;
        switch (item.kind) {
        case WorkItem::Inbound: {
            r.frameId = insertFrame(item.serverTimeMs, proto::Direction::FromDevice, item, deviceId, item.protocol,
                                    item.type, item.bytes, 0);
            if (r.frameId < 0)
                return fail();
            for (int i = 0; i < item.replies.size(); ++i) {
                const qint64 id = insertFrame(item.serverTimeMs, proto::Direction::ToDevice, item, deviceId, item.protocol,
                                              item.replyTypes.value(i, -1), item.replies[i], r.frameId);
                if (id < 0)
                    return fail();
                r.replyIds.append(id);
            }
            if (deviceId > 0 && item.storeData) {
                if (!insertPositions(deviceId, item.serverTimeMs, r.frameId, item.positions, &r.positionsStored, &r.duplicates,
                                     &r.positionIsNew, true))
                    return fail();
                if (item.status && statusIsNews(deviceId, item.serverTimeMs, *item.status)
                    && !insertStatus(deviceId, item.serverTimeMs, r.frameId, *item.status))
                    return fail();
                qint64 alarmTime = item.serverTimeMs;
                if (!item.positions.isEmpty() && item.positions.first().time.isValid())
                    alarmTime = item.positions.first().time.toMSecsSinceEpoch();
                for (const QString &alarm : item.alarms)
                    if (!insertEvent(deviceId, alarmTime, QStringLiteral("alarm"), alarm, r.frameId))
                        return fail();
                if (item.messageKind == proto::MessageKind::Login
                    && !insertEvent(deviceId, item.serverTimeMs, QStringLiteral("login"),
                                    QStringLiteral("%1:%2").arg(item.peerAddress).arg(item.peerPort), r.frameId))
                    return fail();
                if (!item.eventKind.isEmpty()
                    && !insertEvent(deviceId, item.serverTimeMs, item.eventKind, item.eventDetail, r.frameId))
                    return fail();
            }
            break;
        }
        case WorkItem::Outbound:
            r.frameId = insertFrame(item.serverTimeMs, proto::Direction::ToDevice, item, deviceId, item.protocol,
                                    item.type, item.bytes, 0);
            if (r.frameId < 0)
                return fail();
            if (deviceId > 0 && !item.eventKind.isEmpty()
                && !insertEvent(deviceId, item.serverTimeMs, item.eventKind, item.eventDetail, r.frameId))
                return fail();
            break;
        case WorkItem::DeviceEvent:
            if (!insertEvent(deviceId, item.serverTimeMs, item.eventKind, item.eventDetail, 0))
                return fail();
            break;
        }
        results->append(r);
    }
    // The rows deferred by this batch, durable with it (before the groups below, which may
    // write some of them and then delete their batch).
    if (defer && !writePendingBatch())
        return fail();
    // Deferred groups now due, about as many rows as this batch deferred (a quarter more,
    // so a backlog drains): the groups are written at the pace they fill, spread over the
    // commits, and a device whose group is written late starts its next one late, so groups
    // that fell due together drift apart instead of loading the same commits every second.
    if (defer && !m_deferBusy && !m_deferDue.empty()) {
        if (!writeDueGroups(QDateTime::currentMSecsSinceEpoch(), std::numeric_limits<qint64>::max(), true))
            return fail();
    } else if (defer) {
        const qint64 deferredNow = m_deferredRows - deferredBefore;
        if (!writeDueGroups(QDateTime::currentMSecsSinceEpoch(), 32 + deferredNow + deferredNow / 4, false))
            return fail();
    }
    // devices.last_seen: written at most every 30 s per device (the live value is in memory).
    for (auto it = m_deviceCache.begin(); it != m_deviceCache.end(); ++it) {
        DeviceCacheEntry &e = it.value();
        if (e.lastSeen - e.lastSeenStored < kLastSeenWriteMs)
            continue;
        m_touchDevice->bindValue(0, e.lastSeen);
        m_touchDevice->bindValue(1, e.id);
        if (!exec(*m_touchDevice, "updating last seen"))
            return fail();
        touched.append({it.key(), e.lastSeen});
    }
    if (!db.commit()) {
        m_error = QStringLiteral("commit failed: %1").arg(db.lastError().text());
        return fail();
    }
    for (const auto &t : std::as_const(touched)) {
        auto it = m_deviceCache.find(t.first);
        if (it != m_deviceCache.end())
            it->lastSeenStored = t.second;
    }
    for (WorkResult &r : *results)
        r.ok = true;
    return true;
}

qint64 Store::pruneFrames(const RetentionPolicy &policy, qint64 nowMs, int chunk) {
    if (!policy.active())
        return 0;
    QSqlQuery q(database());
    qint64 deleted = 0;
    if (policy.maxAgeDays > 0) {
        q.prepare(QStringLiteral("DELETE FROM frames WHERE id IN (SELECT id FROM frames WHERE time < ? ORDER BY time LIMIT ?)"));
        q.addBindValue(nowMs - qint64(policy.maxAgeDays) * 86400000);
        q.addBindValue(chunk);
        if (!exec(q, "pruning old frames"))
            return -1;
        deleted += q.numRowsAffected();
    }
    if (policy.maxFrames > 0 && deleted < chunk) {
        QSqlQuery t(database());
        t.prepare(QStringLiteral("SELECT id FROM frames ORDER BY id DESC LIMIT 1 OFFSET ?"));
        t.addBindValue(policy.maxFrames);
        if (!exec(t, "pruning frames"))
            return -1;
        if (t.next()) {
            const qint64 threshold = t.value(0).toLongLong();
            t.finish();
            q.prepare(QStringLiteral("DELETE FROM frames WHERE id IN (SELECT id FROM frames WHERE id <= ? ORDER BY id LIMIT ?)"));
            q.addBindValue(threshold);
            q.addBindValue(chunk - deleted);
            if (!exec(q, "pruning frames beyond the count limit"))
                return -1;
            deleted += q.numRowsAffected();
        }
    }
    return deleted;
}

// BEGIN IMMEDIATE: take the write lock at the start, so that waiting for another
// connection's write (a geolocation import, an SMS, a device edit) goes through the busy
// timeout. A plain BEGIN whose first statement is a read fails at once with "database is
// locked" when it later needs to write while the other connection holds the lock.
bool Store::beginImmediate() {
    QSqlQuery q(database());
    if (!q.exec(QStringLiteral("BEGIN IMMEDIATE"))) {
        m_error = q.lastError().text();
        return false;
    }
    return true;
}

bool Store::insertDerivedPositions(qint64 deviceId, qint64 serverTimeMs, qint64 frameId,
                                   const proto::PositionList &positions, QList<bool> *isNew) {
    if (!isOpen()) {
        m_error = QStringLiteral("the store is not open");
        return false;
    }
    if (deviceId <= 0) {
        m_error = QStringLiteral("no device for the positions");
        return false;
    }
    if (!m_writerPrepared && !prepareWriter())
        return false;
    QSqlDatabase db = database();
    if (!beginImmediate()) {
        m_error = QStringLiteral("cannot start a transaction: %1").arg(m_error);
        return false;
    }
    int stored = 0, duplicates = 0;
    QList<bool> added;
    if (!insertPositions(deviceId, serverTimeMs, frameId, positions, &stored, &duplicates, &added)) {
        db.rollback();
        return false;
    }
    if (!db.commit()) {
        m_error = QStringLiteral("cannot commit the positions: %1").arg(db.lastError().text());
        db.rollback();
        return false;
    }
    if (isNew)
        *isNew = added;
    return true;
}

// ---------------------------------------------------------------------------------------
// re-decoding

// What re-decoding removes before it inserts what the decoder says now, per page of frames
// (ids as a JSON array). Fixes derived from a frame's cells/Wi-Fi by a geolocation provider
// (source lbs/wifi with coordinates) are not the decoder's output: re-decoding keeps them.
static const char kRedecodeDeletePositions[] =
    "DELETE FROM positions WHERE device_id=? AND frame_id BETWEEN ? AND ?"
    " AND frame_id IN (SELECT value FROM json_each(?))"
    " AND NOT (source IN (1, 2) AND lat IS NOT NULL)";
static const char kRedecodeDeleteStatus[] = "DELETE FROM status WHERE frame_id IN (SELECT value FROM json_each(?))";
static const char kRedecodeDeleteAlarms[] =
    "DELETE FROM events WHERE kind='alarm' AND frame_id IN (SELECT value FROM json_each(?))";

QString Store::explainRedecodeDeletes() {
    QStringList lines;
    for (const char *sql : {kRedecodeDeletePositions, kRedecodeDeleteStatus, kRedecodeDeleteAlarms}) {
        QSqlQuery q(database());
        q.prepare(QLatin1String("EXPLAIN QUERY PLAN ") + QLatin1String(sql));
        const int params = QString::fromLatin1(sql).count(QLatin1Char('?'));
        for (int i = 0; i < params; ++i)
            q.addBindValue(i == params - 1 ? QVariant(QStringLiteral("[1]")) : QVariant(1));
        if (!exec(q, "explain"))
            return m_error;
        while (q.next())
            lines << q.value(q.record().indexOf(QStringLiteral("detail"))).toString();
    }
    return lines.join(QLatin1Char('\n'));
}

bool Store::redecode(const FrameFilter &filter, RedecodeReport *report) {
    RedecodeReport rep;
    if (!m_writerPrepared && !prepareWriter())
        return false;
    QSqlDatabase db = database();

    // Time zone per device: the user's setting wins over what the device announced.
    QHash<qint64, std::optional<int>> tz;
    {
        QSqlQuery q(db);
        q.setForwardOnly(true);
        if (!q.exec(QStringLiteral("SELECT id, tz_minutes, login_tz FROM devices"))) {
            m_error = q.lastError().text();
            return false;
        }
        while (q.next()) {
            std::optional<int> t = toOptInt(q.value(1));
            if (!t)
                t = toOptInt(q.value(2));
            tz.insert(q.value(0).toLongLong(), t);
        }
    }

    FrameFilter page = filter;
    page.direction = proto::Direction::FromDevice;
    page.newestFirst = false;
    const int total = filter.limit;
    qint64 done = 0;
    QSqlQuery delPos(db), delStatus(db), delEvents(db);
    delPos.prepare(QLatin1String(kRedecodeDeletePositions));
    delStatus.prepare(QLatin1String(kRedecodeDeleteStatus));
    delEvents.prepare(QLatin1String(kRedecodeDeleteAlarms));
    for (;;) {
        page.limit = total > 0 ? int(qMin<qint64>(1000, total - done)) : 1000;
        if (page.limit <= 0)
            break;
        const QList<StoredFrame> frames = this->frames(page);
        if (frames.isEmpty())
            break;
        page.afterId = frames.last().id;
        done += frames.size();

        QJsonArray ids;
        QMap<qint64, QJsonArray> idsByDevice;  // positions are found per device
        for (const StoredFrame &f : frames) {
            ids.append(f.id);
            if (f.deviceId > 0)
                idsByDevice[f.deviceId].append(f.id);
        }
        auto json = [](const QJsonArray &a) { return QString::fromUtf8(QJsonDocument(a).toJson(QJsonDocument::Compact)); };
        const QString idJson = json(ids);
        if (!db.transaction()) {
            m_error = db.lastError().text();
            return false;
        }
        auto fail = [&]() { db.rollback(); return false; };
        for (auto it = idsByDevice.cbegin(); it != idsByDevice.cend(); ++it) {
            delPos.bindValue(0, it.key());
            delPos.bindValue(1, frames.first().id);
            delPos.bindValue(2, frames.last().id);
            delPos.bindValue(3, json(it.value()));
            if (!exec(delPos, "removing re-decoded positions"))
                return fail();
            rep.positionsRemoved += delPos.numRowsAffected();
        }
        delStatus.bindValue(0, idJson);
        delEvents.bindValue(0, idJson);
        if (!exec(delStatus, "removing re-decoded status") || !exec(delEvents, "removing re-decoded alarms"))
            return fail();
        for (const StoredFrame &f : frames) {
            ++rep.frames;
            proto::SessionOptions opts;
            opts.timeZoneMinutes = tz.value(f.deviceId);
            const proto::Protocol *p = proto::protocolById(f.protocol);
            if (!p) {
                // A dialect name ("topin"): the protocol that recognises the bytes, with the
                // dialect as model hint.
                bool more = false;
                p = proto::sniffProtocol(f.bytes, &more);
                opts.model = f.protocol;
            }
            if (!p) {
                ++rep.failed;
                continue;
            }
            const proto::DecodedFrame d = p->decodeFrame(f.bytes, opts);
            if (!d.ok())
                ++rep.failed;
            if (f.deviceId <= 0 || !tz.contains(f.deviceId))
                continue;  // not attributed to a device: nothing to derive
            int stored = 0, dup = 0;
            if (!insertPositions(f.deviceId, f.time.toMSecsSinceEpoch(), f.id, d.message.positions, &stored, &dup))
                return fail();
            rep.positions += stored;
            if (d.message.status) {
                if (!insertStatus(f.deviceId, f.time.toMSecsSinceEpoch(), f.id, *d.message.status))
                    return fail();
                ++rep.statusSamples;
            }
            qint64 alarmTime = f.time.toMSecsSinceEpoch();
            if (!d.message.positions.isEmpty() && d.message.positions.first().time.isValid())
                alarmTime = d.message.positions.first().time.toMSecsSinceEpoch();
            for (const QString &a : d.message.alarms) {
                if (!insertEvent(f.deviceId, alarmTime, QStringLiteral("alarm"), a, f.id))
                    return fail();
                ++rep.alarms;
            }
        }
        if (!db.commit()) {
            m_error = db.lastError().text();
            return fail();
        }
        if (frames.size() < 1000)
            break;
    }
    if (report)
        *report = rep;
    return true;
}

} // namespace td::store
