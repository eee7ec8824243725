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
             // Re-decoding replaces what a frame produced (version 6 keys it by device first).
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
        // SMS console and outbox (app/sms/smsstore.cpp owns the SQL). sms_messages: one row
        // per message sent or received (direction 0 received, 1 sent; channel 'sms' or
        // 'gprs'; state queued|sending|sent|delivered|failed|received; device_id NULL when
        // the number matches no device). sms_refs: the TP message reference of every sent
        // part and its status report. sms_inbox_parts: every received PDU, stored before
        // the modem's copy is deleted; message_id NULL while waiting for the other parts of
        // a concatenated message; the PDU is unique so a part reported twice is kept once.
        {4, QStringLiteral("SMS messages"),
         {
             QStringLiteral("CREATE TABLE sms_messages("
                            " id INTEGER PRIMARY KEY,"
                            " direction INTEGER NOT NULL,"
                            " device_id INTEGER,"
                            " number TEXT NOT NULL,"
                            " text TEXT NOT NULL DEFAULT '',"
                            " channel TEXT NOT NULL DEFAULT 'sms',"
                            " state TEXT NOT NULL,"
                            " created INTEGER NOT NULL,"
                            " sent INTEGER,"
                            " done INTEGER,"
                            " scts INTEGER,"
                            " scts_offset INTEGER,"
                            " parts INTEGER NOT NULL DEFAULT 1,"
                            " error TEXT NOT NULL DEFAULT '',"
                            " attempts INTEGER NOT NULL DEFAULT 0,"
                            " next_attempt INTEGER,"
                            " pdus TEXT NOT NULL DEFAULT '',"
                            " reply_to INTEGER,"
                            " positions INTEGER NOT NULL DEFAULT 0)"),
             QStringLiteral("CREATE INDEX sms_messages_device ON sms_messages(device_id, id)"),
             QStringLiteral("CREATE INDEX sms_messages_open ON sms_messages(state, next_attempt)"
                            " WHERE state IN ('queued', 'sending', 'sent')"),
             QStringLiteral("CREATE TABLE sms_refs("
                            " message_id INTEGER NOT NULL,"
                            " part INTEGER NOT NULL,"
                            " mr INTEGER NOT NULL,"
                            " status INTEGER,"
                            " report_time INTEGER,"
                            " PRIMARY KEY(message_id, part))"),
             QStringLiteral("CREATE INDEX sms_refs_mr ON sms_refs(mr)"),
             QStringLiteral("CREATE TABLE sms_inbox_parts("
                            " id INTEGER PRIMARY KEY,"
                            " pdu BLOB NOT NULL UNIQUE,"
                            " received INTEGER NOT NULL,"
                            " number TEXT NOT NULL DEFAULT '',"
                            " memory TEXT NOT NULL DEFAULT '',"
                            " slot INTEGER NOT NULL DEFAULT -1,"
                            " message_id INTEGER)"),
             QStringLiteral("CREATE INDEX sms_inbox_parts_waiting ON sms_inbox_parts(id) WHERE message_id IS NULL"),
         }},
        // Geolocation (app/geo/geostore.*): the offline cell/Wi-Fi databases the user imports
        // (OpenCelliD rows; several radios may share a cell key), the records waiting for a
        // position (next_attempt: ms; parked 1 = no automatic retry; network = the inputs as
        // positions.network JSON; ckey = the sorted input set) and the requests per local day.
        {5, QStringLiteral("geolocation"),
         {
             QStringLiteral("CREATE TABLE geo_cells("
                            " mcc INTEGER NOT NULL, mnc INTEGER NOT NULL, lac INTEGER NOT NULL, cid INTEGER NOT NULL,"
                            " radio TEXT NOT NULL,"
                            " lat REAL NOT NULL, lon REAL NOT NULL,"
                            " range_m INTEGER NOT NULL DEFAULT 0,"
                            " samples INTEGER NOT NULL DEFAULT 0,"
                            " updated INTEGER,"
                            " PRIMARY KEY(mcc, mnc, lac, cid, radio)) WITHOUT ROWID"),
             QStringLiteral("CREATE TABLE geo_wifi("
                            " bssid TEXT NOT NULL PRIMARY KEY,"
                            " lat REAL NOT NULL, lon REAL NOT NULL,"
                            " range_m INTEGER NOT NULL DEFAULT 0,"
                            " samples INTEGER NOT NULL DEFAULT 1) WITHOUT ROWID"),
             QStringLiteral("CREATE TABLE geo_pending("
                            " id INTEGER PRIMARY KEY,"
                            " device_id INTEGER NOT NULL,"
                            " frame_id INTEGER NOT NULL DEFAULT 0,"
                            " fix_time INTEGER NOT NULL,"
                            " ckey TEXT NOT NULL,"
                            " network TEXT NOT NULL,"
                            " created INTEGER NOT NULL,"
                            " attempts INTEGER NOT NULL DEFAULT 0,"
                            " next_attempt INTEGER NOT NULL,"
                            " parked INTEGER NOT NULL DEFAULT 0,"
                            " error_kind TEXT NOT NULL DEFAULT '',"
                            " error TEXT NOT NULL DEFAULT '',"
                            " UNIQUE(device_id, fix_time, ckey))"),
             QStringLiteral("CREATE INDEX geo_pending_due ON geo_pending(parked, next_attempt)"),
             QStringLiteral("CREATE TABLE geo_budget(day TEXT NOT NULL PRIMARY KEY, requests INTEGER NOT NULL) WITHOUT ROWID"),
         }},
        // The writer's deferred positions (StoreOptions::deferPositionsMs): rows of a device
        // that sends fast are appended here in arrival order (a few pages per commit), kept in
        // memory, and written into positions in groups a moment later. The writer deletes
        // them once written and, when it starts, writes into positions whatever a previous
        // run left here (the rows of fixes that were acknowledged before a crash).
        {6, QStringLiteral("positions waiting to be written in groups"),
         {
             QStringLiteral("CREATE TABLE positions_pending("
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
                            " frame_id INTEGER)"),
             // A group of one device's rows has frame ids from the last second, spread among
             // every other device's: indexed by frame id alone each row of a group landed on
             // another page. Per device, a group goes to one place (re-decoding, the only
             // reader of this index, looks frames up per device).
             QStringLiteral("DROP INDEX positions_frame"),
             QStringLiteral("CREATE INDEX positions_frame ON positions(device_id, frame_id)"),
         }},
        // The deferred rows of one commit as ONE row (a blob, Store::appendPendingRow's
        // format) instead of a row each: a B-tree insert per commit instead of per fix. The
        // writer still merges what positions_pending holds (a killed run of version 6).
        {7, QStringLiteral("waiting positions stored per commit"),
         {
             QStringLiteral("CREATE TABLE positions_pending_batches(id INTEGER PRIMARY KEY, rows BLOB NOT NULL)"),
         }},
        // Re-decoding replaces the status samples and alarms derived from the frames it
        // decodes again, found by frame id: without these indexes each page of 1,000 frames
        // scanned both tables (24 ms a page with 200,000 status rows, against 0.35 ms).
        {8, QStringLiteral("status and events found by frame (re-decoding)"),
         {
             QStringLiteral("CREATE INDEX status_frame ON status(frame_id)"),
             QStringLiteral("CREATE INDEX events_frame ON events(frame_id)"),
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
