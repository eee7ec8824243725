#include "store/schema.h"

#include <QSqlError>
#include <QSqlQuery>

namespace td::store {

// Times are INTEGER milliseconds since the Unix epoch (UTC). positions.source:
// 0 gps, 1 lbs, 2 wifi, 3 sms. frames.direction: 0 from device, 1 to device.
// devices.state: 0 accepted, 1 blocked.
//
// positions is a WITHOUT ROWID table keyed by (device, fix time, content key): the key is
// both the duplicate check for resent fixes and the index of "track of D from T1 to T2",
// so a fix costs one B-tree insert instead of a row plus an index entry.
const QList<MigrationStep> &migrationSteps() {
    static const QList<MigrationStep> steps = {
        {1, QStringLiteral("devices, positions and raw frames"),
         {
             QStringLiteral("CREATE TABLE devices("
                            " id INTEGER PRIMARY KEY,"
                            " imei TEXT NOT NULL UNIQUE,"
                            " name TEXT NOT NULL DEFAULT '',"
                            " protocol TEXT NOT NULL DEFAULT '',"
                            " model TEXT NOT NULL DEFAULT '',"
                            " phone TEXT NOT NULL DEFAULT '',"
                            " tz_minutes INTEGER,"
                            " last_seen INTEGER,"
                            " state INTEGER NOT NULL DEFAULT 0,"
                            " created INTEGER NOT NULL)"),
             QStringLiteral("CREATE TABLE positions("
                            " device_id INTEGER NOT NULL,"
                            " fix_time INTEGER NOT NULL,"
                            " ckey INTEGER NOT NULL,"
                            " server_time INTEGER NOT NULL,"
                            " lat REAL, lon REAL, altitude REAL, speed REAL, course REAL,"
                            " satellites INTEGER,"
                            " valid INTEGER NOT NULL,"
                            " source INTEGER NOT NULL,"
                            " accuracy REAL,"
                            " network TEXT,"
                            " frame_id INTEGER,"
                            " PRIMARY KEY(device_id, fix_time, ckey)) WITHOUT ROWID"),
             // Re-decoding replaces what a frame produced; frame ids grow, so this index
             // is appended to at its right edge (cheap).
             QStringLiteral("CREATE INDEX positions_frame ON positions(frame_id)"),
             QStringLiteral("CREATE TABLE frames("
                            " id INTEGER PRIMARY KEY,"
                            " time INTEGER NOT NULL,"
                            " direction INTEGER NOT NULL,"
                            " peer TEXT,"
                            " port INTEGER,"
                            " device_id INTEGER,"
                            " protocol TEXT NOT NULL DEFAULT '',"
                            " type INTEGER NOT NULL DEFAULT -1,"
                            " bytes BLOB NOT NULL,"
                            " reply_to INTEGER)"),
             // Time only: an index per device would take an insert at a random place for
             // every frame (a fifth of the writer's time with a thousand trackers). A
             // device's frames are found by time window (or by id, newest first).
             QStringLiteral("CREATE INDEX frames_time ON frames(time)"),
         }},
        {2, QStringLiteral("status samples and events"),
         {
             QStringLiteral("CREATE TABLE status("
                            " id INTEGER PRIMARY KEY,"
                            " device_id INTEGER NOT NULL,"
                            " time INTEGER NOT NULL,"
                            " battery INTEGER, volts REAL, signal INTEGER, charging INTEGER,"
                            " acc INTEGER, armed INTEGER, gps INTEGER, relay INTEGER,"
                            " frame_id INTEGER)"),
             QStringLiteral("CREATE INDEX status_device ON status(device_id, time)"),
             QStringLiteral("CREATE TABLE events("
                            " id INTEGER PRIMARY KEY,"
                            " device_id INTEGER,"
                            " time INTEGER NOT NULL,"
                            " kind TEXT NOT NULL,"
                            " detail TEXT NOT NULL DEFAULT '',"
                            " frame_id INTEGER)"),
             // Unique: a resent alarm is recorded once.
             QStringLiteral("CREATE UNIQUE INDEX events_device ON events(device_id, time, kind, detail)"),
         }},
        {3, QStringLiteral("device SMS password, colour and announced time zone"),
         {
             QStringLiteral("ALTER TABLE devices ADD COLUMN sms_password TEXT NOT NULL DEFAULT ''"),
             QStringLiteral("ALTER TABLE devices ADD COLUMN color TEXT NOT NULL DEFAULT ''"),
             QStringLiteral("ALTER TABLE devices ADD COLUMN login_tz INTEGER"),
         }},
    };
    return steps;
}

int latestSchemaVersion() { return migrationSteps().last().version; }

int schemaVersion(QSqlDatabase &db, QString *error) {
    QSqlQuery q(db);
    if (!q.exec(QStringLiteral("PRAGMA user_version")) || !q.next()) {
        if (error)
            *error = QStringLiteral("cannot read the schema version: %1").arg(q.lastError().text());
        return -1;
    }
    return q.value(0).toInt();
}

bool migrate(QSqlDatabase &db, QString *error, int target) {
    if (target < 0)
        target = latestSchemaVersion();
    QString err;
    const int current = schemaVersion(db, &err);
    if (current < 0) {
        if (error) *error = err;
        return false;
    }
    if (current > latestSchemaVersion()) {
        if (error)
            *error = QStringLiteral("the database has schema version %1, newer than this TrackerDesk knows (%2); "
                                    "use a newer TrackerDesk or another data folder")
                         .arg(current).arg(latestSchemaVersion());
        return false;
    }
    for (const MigrationStep &step : migrationSteps()) {
        if (step.version <= current || step.version > target)
            continue;
        if (!db.transaction()) {
            if (error)
                *error = QStringLiteral("cannot start the migration to version %1: %2").arg(step.version).arg(db.lastError().text());
            return false;
        }
        QSqlQuery q(db);
        bool ok = true;
        for (const QString &sql : step.statements) {
            if (!q.exec(sql)) {
                if (error)
                    *error = QStringLiteral("migration to schema version %1 (%2) failed: %3")
                                 .arg(step.version).arg(step.description, q.lastError().text());
                ok = false;
                break;
            }
        }
        if (ok && !q.exec(QStringLiteral("PRAGMA user_version = %1").arg(step.version))) {
            if (error)
                *error = QStringLiteral("cannot set the schema version %1: %2").arg(step.version).arg(q.lastError().text());
            ok = false;
        }
        q.finish();
        if (!ok || !db.commit()) {
            if (ok && error)
                *error = QStringLiteral("cannot commit the migration to version %1: %2").arg(step.version).arg(db.lastError().text());
            db.rollback();
            return false;
        }
    }
    return true;
}

} // namespace td::store
