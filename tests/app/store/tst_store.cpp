// The durable store: schema and migrations, the writer path (one transaction per batch,
// duplicate fixes recognised), the query API, retention, the writer thread's group
// commit, and clear errors on corrupt / full / read-only databases.
#include "store/schema.h"
#include "store/store.h"
#include "store/writer.h"

#include <QFile>
#include <QDir>
#include <QSignalSpy>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QTemporaryDir>
#include <QFileInfo>
#include <QThread>
#include <QElapsedTimer>
#include <QTest>
#include <QTimeZone>
#include <QRegularExpression>
#include <QScopeGuard>
#include <cstdio>
#ifdef Q_OS_UNIX
#include <fcntl.h>
#include <unistd.h>
#endif

using namespace td;
using namespace td::store;

namespace {

proto::Position fix(qint64 ms, double lat, double lon, bool valid = true) {
    proto::Position p;
    p.time = QDateTime::fromMSecsSinceEpoch(ms, QTimeZone::UTC);
    p.latitude = lat;
    p.longitude = lon;
    p.valid = valid;
    p.speedKmh = 12.5;
    p.course = 90;
    p.satellites = 9;
    return p;
}

WorkItem inbound(const QString &imei, qint64 ms, proto::PositionList positions = {},
                 proto::MessageKind kind = proto::MessageKind::Position) {
    WorkItem w;
    w.kind = WorkItem::Inbound;
    w.serverTimeMs = ms;
    w.deviceKey = imei;
    w.peerAddress = QStringLiteral("127.0.0.1");
    w.peerPort = 40000;
    w.protocol = QStringLiteral("gt06");
    w.type = kind == proto::MessageKind::Login ? 0x01 : 0x22;
    w.bytes = QByteArray::fromHex("78780d01086471700328358100093f040d0a");
    w.messageKind = kind;
    w.positions = positions;
    w.replies = {QByteArray::fromHex("7878050100093f040d0a")};
    w.replyTypes = {w.type};
    return w;
}

const qint64 T0 = 1767225600000;

// For the tests of position groups: a writer connection that defers the rows of fast
// devices for a minute once commits carry deferFromItems items, and the i-th fix of a
// device reporting every second.
StoreOptions groupsOptions(int deferFromItems) {
    StoreOptions o;
    o.deferPositionsMs = 60000;
    o.deferFromItems = deferFromItems;
    return o;
}

WorkItem everySecond(const QString &imei, int i) { return inbound(imei, T0 + i, {fix(T0 + i * 1000, 52 + i * 1e-4, 4)}); }

bool sqlExec(const QSqlDatabase &db, const QString &sql) {
    QSqlQuery q(db);
    if (q.exec(sql))
        return true;
    qWarning() << sql << q.lastError().text();
    return false;
}  // 2026-01-01T00:00:00Z

} // namespace

class TestStore : public QObject {
    Q_OBJECT
private slots:
    void opensFreshDatabaseInWalMode();
    void batchStoresFramesPositionsAndReplies();
    void resentFixesAreStoredOnce();
    void fastDevicesRowsAreWrittenInGroups();
    void statusSamplesAreStoredWhenTheySaySomethingNew();
    void queriesStreamTracksAndLatestValues();
    void trackQueryUsesTheIndex();
    void redecodeFindsDerivedRowsByIndex();
    void trackPointsAreTheFixesWithCoordinates();
    void framesQueryFilters();
    void migratesAnOldDatabase();
    void refusesNewerSchema();
    void corruptFileGivesClearError();
    void damagedPagesGiveErrorsNotCrashes();
    void fullDatabaseFailsWholeBatch_data();
    void fullDatabaseFailsWholeBatch();
    void readOnlyDatabaseRefusesWrites();
    void retentionPrunesByCountAndAge();
    void writerGroupsCommitsAndKeepsOrder();
    void writerFlushesOnStop();
    void writerKeepsTheWalBoundedUnderContinuousLoad();
    void writerCountsOnlyCheckpointsThatCopied();
    void writerCutsTheWalBackWhenIdle();
    void writerRetriesWaitingGroupsCalmlyOnAFullDisk();
    void writerTracePrintsCommitsAndCheckpoints();
    void waitingRowsOfOlderRunsAndDamagedBatches();
    void restartKeepsDevicesAndHistory();
    void nativeAndQtSqlPathsAgree();
    void redecodeReplacesDerivedData_data();
    void redecodeReplacesDerivedData();
};

void TestStore::opensFreshDatabaseInWalMode() {
    QTemporaryDir dir;
    Store s;
    QVERIFY2(s.open(dir.filePath(QStringLiteral("sub/folder/td.db"))), qPrintable(s.lastError()));
    QSqlQuery q(s.database());
    QVERIFY(q.exec(QStringLiteral("PRAGMA journal_mode")) && q.next());
    QCOMPARE(q.value(0).toString(), QStringLiteral("wal"));
    QSqlDatabase db = s.database();
    QCOMPARE(schemaVersion(db), latestSchemaVersion());
    QCOMPARE(s.integrityCheck(), QStringLiteral("ok"));
}

void TestStore::batchStoresFramesPositionsAndReplies() {
    QTemporaryDir dir;
    Store s;
    QVERIFY(s.open(dir.filePath(QStringLiteral("td.db"))));
    WorkItem login = inbound(QStringLiteral("864717003283581"), T0, {}, proto::MessageKind::Login);
    login.model = QStringLiteral("GT06N");
    login.loginTimeZone = 480;
    WorkItem pos = inbound(QStringLiteral("864717003283581"), T0 + 1000, {fix(T0, 52.1, 4.3), fix(T0 + 1000, 52.2, 4.4)});
    proto::Status st;
    st.batteryPercent = 80;
    st.gsmSignal = 3;
    st.charging = true;
    pos.status = st;
    pos.alarms = {QStringLiteral("sos")};
    WorkItem pre = inbound(QString(), T0 + 2000);  // a frame before any login: kept, no device
    pre.storeData = false;
    QList<WorkResult> r;
    QVERIFY2(s.applyBatch({login, pos, pre}, &r), qPrintable(s.lastError()));
    QCOMPARE(r.size(), 3);
    for (const WorkResult &x : r)
        QVERIFY(x.ok);
    QVERIFY(r[0].deviceCreated);
    QVERIFY(!r[1].deviceCreated);
    QCOMPARE(r[0].deviceId, r[1].deviceId);
    QCOMPARE(r[1].positionsStored, 2);
    QCOMPARE(r[1].replyIds.size(), 1);
    QCOMPARE(r[2].deviceId, 0);

    const auto dev = s.deviceByImei(QStringLiteral("864717003283581"));
    QVERIFY(dev);
    QCOMPARE(dev->protocol, QStringLiteral("gt06"));
    QCOMPARE(dev->state, DeviceState::Accepted);
    const QList<StoredFrame> frames = s.frames({});
    QCOMPARE(frames.size(), 6);  // 3 inbound + 3 replies
    const StoredFrame reply = *std::find_if(frames.begin(), frames.end(), [&](const StoredFrame &f) { return f.id == r[1].replyIds[0]; });
    QCOMPARE(reply.direction, proto::Direction::ToDevice);
    QCOMPARE(reply.replyTo, r[1].frameId);
    QCOMPARE(reply.bytes, QByteArray::fromHex("7878050100093f040d0a"));
    QCOMPARE(reply.peerPort, quint16(40000));
    QCOMPARE(s.countPositions({}, {}, {}), 2);
    const auto events = s.events(dev->id, {}, {});
    QCOMPARE(events.size(), 2);
    QCOMPARE(events[0].kind, QStringLiteral("login"));
    QCOMPARE(events[1].kind, QStringLiteral("alarm"));
    QCOMPARE(events[1].detail, QStringLiteral("sos"));
    QCOMPARE(events[1].time.toMSecsSinceEpoch(), T0);  // the fix time of the alarm
    const auto status = s.lastStatus();
    QCOMPARE(status.value(dev->id).status.batteryPercent, std::optional<int>(80));
    QCOMPARE(status.value(dev->id).status.charging, std::optional<bool>(true));
}

// Position frames that carry the same status with every fix (GT06 0x22: ignition) add a
// status sample only when something changed, or after 10 minutes without one.
void TestStore::statusSamplesAreStoredWhenTheySaySomethingNew() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("td.db"));
    auto item = [](qint64 ms, std::optional<bool> acc, std::optional<int> battery = {}) {
        WorkItem w = inbound(QStringLiteral("864717003283581"), ms);
        proto::Status st;
        st.acc = acc;
        st.batteryPercent = battery;
        w.status = st;
        return w;
    };
    auto samples = [&](Store &s) {
        const auto dev = s.deviceByImei(QStringLiteral("864717003283581"));
        return dev ? s.statusSamples(dev->id, {}, {}) : QList<StatusSample>();
    };
    {
        Store s;
        QVERIFY(s.open(path));
        QList<WorkResult> r;
        // Ignition on with 5 fixes in a row (two commits), then off, then a heartbeat with the
        // battery, the same heartbeat again, and the ignition (unchanged) with a later fix.
        QVERIFY(s.applyBatch({item(T0, true), item(T0 + 1000, true), item(T0 + 2000, true)}, &r));
        QVERIFY(s.applyBatch({item(T0 + 3000, true), item(T0 + 4000, true)}, &r));
        QVERIFY(s.applyBatch({item(T0 + 5000, false), item(T0 + 6000, false)}, &r));
        QVERIFY(s.applyBatch({item(T0 + 7000, {}, 80), item(T0 + 8000, {}, 80), item(T0 + 9000, false)}, &r));
        const auto got = samples(s);
        QCOMPARE(got.size(), 3);
        QCOMPARE(got[0].time.toMSecsSinceEpoch(), T0);
        QCOMPARE(got[0].status.acc, std::optional<bool>(true));
        QCOMPARE(got[1].time.toMSecsSinceEpoch(), T0 + 5000);
        QCOMPARE(got[1].status.acc, std::optional<bool>(false));
        QCOMPARE(got[2].time.toMSecsSinceEpoch(), T0 + 7000);
        QCOMPARE(got[2].status.batteryPercent, std::optional<int>(80));
        // Ten minutes on, the same status is stored again (a sign of life in the history).
        QVERIFY(s.applyBatch({item(T0 + 7000 + 10 * 60 * 1000, false)}, &r));
        QCOMPARE(samples(s).size(), 4);
    }
    // A new writer (after a restart) knows what the newest stored sample said.
    Store s;
    QVERIFY(s.open(path));
    QList<WorkResult> r;
    QVERIFY(s.applyBatch({item(T0 + 11 * 60 * 1000, false)}, &r));
    QCOMPARE(samples(s).size(), 4);
    QVERIFY(s.applyBatch({item(T0 + 12 * 60 * 1000, true)}, &r));
    QCOMPARE(samples(s).size(), 5);
}

void TestStore::resentFixesAreStoredOnce() {
    QTemporaryDir dir;
    Store s;
    QVERIFY(s.open(dir.filePath(QStringLiteral("td.db"))));
    const QString imei = QStringLiteral("123456789012345");
    proto::Position lbs;  // no coordinates: identified by its cells
    lbs.time = QDateTime::fromMSecsSinceEpoch(T0 + 5000, QTimeZone::UTC);
    lbs.hasCoordinates = false;
    lbs.source = proto::PositionSource::Lbs;
    lbs.cells = {proto::CellTower{204, 8, 1234, 56789, 20}};
    proto::Position lbs2 = lbs;
    lbs2.cells[0].cellId = 56790;  // another cell at the same time: a different record
    QList<WorkResult> r;
    QVERIFY2(s.applyBatch({inbound(imei, T0, {fix(T0, 1, 2), fix(T0 + 1000, 1.5, 2.5), lbs})}, &r), qPrintable(s.lastError()));
    QCOMPARE(r[0].positionsStored, 3);
    // The device resends (no ack seen) in a later batch, and twice in one batch.
    QVERIFY2(s.applyBatch({inbound(imei, T0 + 9000, {fix(T0, 1, 2), lbs2}), inbound(imei, T0 + 9001, {fix(T0 + 1000, 1.5, 2.5), lbs})}, &r), qPrintable(s.lastError()));
    QCOMPARE(r[0].positionsStored, 1);
    QCOMPARE(r[0].duplicates, 1);
    QCOMPARE(r[1].positionsStored, 0);
    QCOMPARE(r[1].duplicates, 2);
    QCOMPARE(s.countPositions({}, {}, {}), 4);
    // Alarms resent with the same fix are one event.
    WorkItem a = inbound(imei, T0 + 10000, {fix(T0 + 7000, 1, 2)});
    a.alarms = {QStringLiteral("sos")};
    QVERIFY2(s.applyBatch({a, a}, &r), qPrintable(s.lastError()));
    const auto dev = s.deviceByImei(imei);
    int alarms = 0;
    for (const Event &e : s.events(dev->id, {}, {}))
        alarms += e.kind == QLatin1String("alarm");
    QCOMPARE(alarms, 1);
}

qint64 countSql(const QSqlDatabase &db, const QString &sql) {
    QSqlQuery q(db);
    return q.exec(sql) && q.next() ? q.value(0).toLongLong() : -1;
}

// A busy writer (deferFromItems) defers the rows of a device that reports fast: durable in
// positions_pending_batches (a crash loses nothing), resends recognised as for written rows,
// visible to readers once their group is written (due, or with a quiet writer's commit).
void TestStore::fastDevicesRowsAreWrittenInGroups() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("td.db"));
    const StoreOptions o = groupsOptions(5);
    const QString imei = QStringLiteral("864717003283581");
    auto item = [&](int i) { return everySecond(imei, i); };
    auto batch = [&](int from, int n) {
        QList<WorkItem> b;
        for (int i = from; i < from + n; ++i)
            b << item(i);
        return b;
    };
    Store reader;
    QList<WorkResult> r;
    {
        Store w;
        QVERIFY2(w.open(path, o), qPrintable(w.lastError()));
        QVERIFY(reader.open(path));
        // 50 fixes in one commit (busy at once): the first is written (nothing known of the
        // device yet), the next 49 wait.
        QVERIFY2(w.applyBatch(batch(0, 50), &r), qPrintable(w.lastError()));
        for (const WorkResult &x : r)
            QCOMPARE(x.positionIsNew, QList<bool>{true});
        QCOMPARE(reader.countPositions({}, {}, {}), 1);
        // Durable: one row of positions_pending_batches holds this commit's 49 waiting rows.
        QCOMPARE(countSql(reader.database(), QStringLiteral("SELECT count(*) FROM positions_pending_batches")), 1);
        QCOMPARE(w.deferredRows(), 49);
        // Resends of a waiting fix and of the written one, among 48 new fixes.
        QList<WorkItem> b = batch(50, 48);
        b << item(7) << item(0);
        QVERIFY2(w.applyBatch(b, &r), qPrintable(w.lastError()));
        QCOMPARE(r[0].positionIsNew, QList<bool>{true});
        QCOMPARE(r[48].positionIsNew, QList<bool>{false});
        QCOMPARE(r[49].positionIsNew, QList<bool>{false});
        QCOMPARE(w.deferredRows(), 97);
        QCOMPARE(reader.countPositions({}, {}, {}), 1);
        // Due in a minute: nothing written before, everything after.
        QVERIFY(w.flushDeferred(QDateTime::currentMSecsSinceEpoch(), false));
        QCOMPARE(reader.countPositions({}, {}, {}), 1);
        QVERIFY(w.flushDeferred(QDateTime::currentMSecsSinceEpoch() + 61000, false));
        QCOMPARE(reader.countPositions({}, {}, {}), 98);
        QCOMPARE(countSql(reader.database(), QStringLiteral("SELECT count(*) FROM positions_pending_batches")), 0);
        // More waiting rows, then the process ends without writing them (as a crash would).
        QVERIFY2(w.applyBatch(batch(100, 50), &r), qPrintable(w.lastError()));
        QVERIFY(w.deferredRows() > 0);
        QVERIFY(reader.countPositions({}, {}, {}) < 148);
    }
    {
        // The next writer writes what was left before anything else.
        Store w;
        QVERIFY2(w.open(path, o), qPrintable(w.lastError()));
        QVERIFY2(w.flushDeferred(QDateTime::currentMSecsSinceEpoch(), true), qPrintable(w.lastError()));
        QCOMPARE(reader.countPositions({}, {}, {}), 148);
        QVERIFY(w.recoveredPending() > 0);
        // A resend of a fix written by the previous run is still recognised.
        QVERIFY2(w.applyBatch(batch(150, 49) << item(120), &r), qPrintable(w.lastError()));
        QCOMPARE(r[49].positionIsNew, QList<bool>{false});
        QVERIFY(w.deferredRows() > 0);
        // The load falls (commits of one item): the waiting groups go with the next commits.
        for (int i = 0; i < 40 && w.deferredRows() > 0; ++i)
            QVERIFY2(w.applyBatch({item(300 + i)}, &r), qPrintable(w.lastError()));
        QCOMPARE(w.deferredRows(), 0);
        QVERIFY(reader.countPositions({}, {}, {}) >= 197);
    }
    // Every fix exactly once, in time order.
    const auto dev = reader.deviceByImei(imei);
    QVERIFY(dev);
    QList<qint64> times;
    reader.forEachPosition({dev->id}, {}, {}, {}, [&](const StoredPosition &p) {
        times << p.position.time.toMSecsSinceEpoch();
        return true;
    });
    QCOMPARE(times.size(), reader.countPositions({}, {}, {}));
    QCOMPARE(countSql(reader.database(), QStringLiteral("SELECT count(DISTINCT fix_time) FROM positions")), times.size());
    QVERIFY(std::is_sorted(times.begin(), times.end()));
    QCOMPARE(reader.integrityCheck(), QStringLiteral("ok"));
}

void TestStore::queriesStreamTracksAndLatestValues() {
    QTemporaryDir dir;
    Store s;
    QVERIFY(s.open(dir.filePath(QStringLiteral("td.db"))));
    QList<WorkItem> items;
    for (int i = 0; i < 50; ++i) {
        items << inbound(QStringLiteral("111111111111111"), T0 + i, {fix(T0 + i * 60000, 10 + i * 0.001, 20, i % 2 == 0)});
        items << inbound(QStringLiteral("222222222222222"), T0 + i, {fix(T0 + i * 60000, -33, 151 + i * 0.001)});
    }
    QList<WorkResult> r;
    QVERIFY2(s.applyBatch(items, &r), qPrintable(s.lastError()));
    const qint64 d1 = s.deviceByImei(QStringLiteral("111111111111111"))->id;
    const qint64 d2 = s.deviceByImei(QStringLiteral("222222222222222"))->id;

    // One device, a time window, in time order.
    QList<StoredPosition> got;
    QVERIFY(s.forEachPosition({d1}, QDateTime::fromMSecsSinceEpoch(T0 + 10 * 60000, QTimeZone::UTC),
                              QDateTime::fromMSecsSinceEpoch(T0 + 19 * 60000, QTimeZone::UTC), {},
                              [&](const StoredPosition &p) { got << p; return true; }));
    QCOMPARE(got.size(), 10);
    for (int i = 0; i < got.size(); ++i) {
        QCOMPARE(got[i].deviceId, d1);
        QCOMPARE(got[i].position.time.toMSecsSinceEpoch(), T0 + (10 + i) * 60000);
        QCOMPARE(got[i].position.latitude, 10 + (10 + i) * 0.001);
        QCOMPARE(got[i].position.speedKmh, std::optional<double>(12.5));
        QVERIFY(got[i].frameId > 0);
    }
    // Filters, all devices, early stop.
    PositionFilter validOnly;
    validOnly.validOnly = true;
    QCOMPARE(s.countPositions({d1}, {}, {}, validOnly), 25);
    QCOMPARE(s.countPositions({}, {}, {}), 100);
    QCOMPARE(s.countPositions({d1, d2}, {}, QDateTime::fromMSecsSinceEpoch(T0 + 4 * 60000, QTimeZone::UTC)), 10);
    int seen = 0;
    QList<qint64> order;
    QVERIFY(s.forEachPosition({}, {}, {}, {}, [&](const StoredPosition &p) { order << p.deviceId; return ++seen < 60; }));
    QCOMPARE(seen, 60);
    QCOMPARE(order.first(), d1);
    QCOMPARE(order.last(), d2);

    const auto last = s.lastPositions();
    QCOMPARE(last.size(), 2);
    // The newest fix the device did not flag invalid (49 is flagged: a GT06 without a lock).
    QCOMPARE(last.value(d1).position.time.toMSecsSinceEpoch(), T0 + 48 * 60000);
    QVERIFY(last.value(d1).position.valid);
    QCOMPARE(last.value(d2).position.longitude, 151 + 49 * 0.001);
    QCOMPARE(s.devices().size(), 2);
}

void TestStore::trackQueryUsesTheIndex() {
    QTemporaryDir dir;
    Store s;
    QVERIFY(s.open(dir.filePath(QStringLiteral("td.db"))));
    QList<WorkItem> items;
    for (int i = 0; i < 2000; ++i)
        items << inbound(QStringLiteral("%1").arg(100000000000000 + i % 20), T0 + i, {fix(T0 + i * 1000, i * 0.01, 5)});
    QList<WorkResult> r;
    QVERIFY2(s.applyBatch(items, &r), qPrintable(s.lastError()));
    QVERIFY(sqlExec(s.database(), QStringLiteral("ANALYZE")));
    const QString plan = s.explainTrackQuery();
    qInfo().noquote() << "plan:" << plan;
    QVERIFY2(plan.contains(QLatin1String("SEARCH positions USING PRIMARY KEY (device_id=? AND fix_time>? AND fix_time<?)")),
             qPrintable(plan));
    QVERIFY2(!plan.contains(QLatin1String("SCAN")), qPrintable(plan));
    QVERIFY2(!plan.contains(QLatin1String("TEMP B-TREE")), qPrintable(plan));  // ordered by the index itself
}

// Re-decoding deletes the status samples and alarms of each page of frames by frame id: a
// scan of either table per page made re-decoding a year of frames take minutes longer.
void TestStore::redecodeFindsDerivedRowsByIndex() {
    QTemporaryDir dir;
    Store s;
    QVERIFY(s.open(dir.filePath(QStringLiteral("td.db"))));
    QList<WorkItem> items;
    for (int i = 0; i < 2000; ++i) {
        WorkItem w = inbound(QStringLiteral("%1").arg(100000000000000 + i % 20), T0 + i, {fix(T0 + i * 1000, i * 0.01, 5)});
        w.status = proto::Status();
        w.status->batteryPercent = i % 100;   // a new value every time: a row each
        if (i % 10 == 0)
            w.alarms = {QStringLiteral("sos")};
        items << w;
    }
    QList<WorkResult> r;
    QVERIFY2(s.applyBatch(items, &r), qPrintable(s.lastError()));
    QSqlQuery q(s.database());
    QVERIFY(q.exec(QStringLiteral("SELECT (SELECT count(*) FROM status), (SELECT count(*) FROM events WHERE kind='alarm')")) && q.next());
    QVERIFY2(q.value(0).toInt() >= 1000 && q.value(1).toInt() >= 100,
             qPrintable(QStringLiteral("%1 status rows, %2 alarms").arg(q.value(0).toInt()).arg(q.value(1).toInt())));
    q.finish();
    QVERIFY(sqlExec(s.database(), QStringLiteral("ANALYZE")));
    const QString plan = s.explainRedecodeDeletes();
    qInfo().noquote() << "plan:" << plan;
    // (positions: by the device's part of the key here; on a large table SQLite takes
    // positions_frame (device_id, frame_id). Either is a search, not a scan.)
    QVERIFY2(plan.contains(QLatin1String("INDEX status_frame (frame_id=?)")), qPrintable(plan));
    QVERIFY2(plan.contains(QLatin1String("INDEX events_frame (frame_id=?)")), qPrintable(plan));
    QVERIFY2(!plan.contains(QLatin1String("SCAN status")) && !plan.contains(QLatin1String("SCAN events"))
                 && !plan.contains(QLatin1String("SCAN positions")),
             qPrintable(plan));
}

// The map's lean track query gives exactly what the full position query gives for the same
// filter (coordinates, time, speed; no speed = NaN), in time order, and stops when asked.
void TestStore::trackPointsAreTheFixesWithCoordinates() {
    QTemporaryDir dir;
    Store s;
    QVERIFY(s.open(dir.filePath(QStringLiteral("td.db"))));
    QList<WorkItem> items;
    for (int i = 0; i < 300; ++i) {
        proto::Position p = fix(T0 + (299 - i) * 1000, 50 + i * 1e-4, 8 - i * 1e-4, i % 7 != 0);   // newest first
        if (i % 5 == 0)
            p.speedKmh.reset();
        if (i % 11 == 0) {   // a cell-only fix: no coordinates
            p.hasCoordinates = false;
            p.source = proto::PositionSource::Lbs;
            p.cells = {proto::CellTower{262, 1, 100, 200 + i, 0}};
        }
        items << inbound(QStringLiteral("111111111111111"), T0 + i, {p});
        items << inbound(QStringLiteral("222222222222222"), T0 + i, {fix(T0 + i * 1000, -33, 151)});
    }
    QList<WorkResult> r;
    QVERIFY2(s.applyBatch(items, &r), qPrintable(s.lastError()));
    const qint64 device = s.deviceByImei(QStringLiteral("111111111111111"))->id;
    const QDateTime from = QDateTime::fromMSecsSinceEpoch(T0 + 20000, QTimeZone::UTC), to = from.addSecs(200);
    for (const bool gpsOnly : {false, true}) {
        PositionFilter f;
        f.withCoordinatesOnly = true;
        if (gpsOnly) {
            f.validOnly = true;
            f.sources = {proto::PositionSource::Gps};
        }
        QStringList expected, got;
        auto line = [](double lat, double lon, qint64 ms, double speed) {
            return QStringLiteral("%1 %2 %3 %4").arg(lat, 0, 'f', 7).arg(lon, 0, 'f', 7).arg(ms).arg(std::isnan(speed) ? QStringLiteral("-") : QString::number(speed));
        };
        QVERIFY(s.forEachPosition({device}, from, to, f, [&](const StoredPosition &sp) {
            const proto::Position &p = sp.position;
            expected << line(p.latitude, p.longitude, p.time.toMSecsSinceEpoch(), p.speedKmh ? *p.speedKmh : std::nan(""));
            return true;
        }));
        QVERIFY(s.forEachTrackPoint(device, from, to, f, [&](double lat, double lon, qint64 ms, double speed) {
            got << line(lat, lon, ms, speed);
            return true;
        }));
        QVERIFY(expected.size() > 100);
        QVERIFY(std::any_of(got.begin(), got.end(), [](const QString &l) { return l.endsWith(QLatin1String(" -")); }) || gpsOnly);
        QCOMPARE(got, expected);
        int seen = 0;
        QVERIFY(s.forEachTrackPoint(device, from, to, f, [&](double, double, qint64, double) { return ++seen < 10; }));
        QCOMPARE(seen, 10);
    }
}

void TestStore::framesQueryFilters() {
    QTemporaryDir dir;
    Store s;
    QVERIFY(s.open(dir.filePath(QStringLiteral("td.db"))));
    QList<WorkResult> r;
    WorkItem j = inbound(QStringLiteral("013812345678"), T0 + 500, {fix(T0, 1, 1)});
    j.protocol = QStringLiteral("jt808");
    WorkItem pre = inbound(QString(), T0 + 700);
    pre.storeData = false;
    pre.replies.clear();
    QVERIFY2(s.applyBatch({inbound(QStringLiteral("864717003283581"), T0, {fix(T0, 1, 1)}), j, pre}, &r), qPrintable(s.lastError()));
    const qint64 gt = s.deviceByImei(QStringLiteral("864717003283581"))->id;
    FrameFilter f;
    f.deviceId = gt;
    QCOMPARE(s.frames(f).size(), 2);
    f.direction = proto::Direction::FromDevice;
    QCOMPARE(s.frames(f).size(), 1);
    FrameFilter byProto;
    byProto.protocol = QStringLiteral("jt808");
    QCOMPARE(s.frames(byProto).size(), 2);
    FrameFilter noDevice;
    noDevice.deviceId = 0;
    QCOMPARE(s.frames(noDevice).size(), 1);
    FrameFilter window;
    window.from = QDateTime::fromMSecsSinceEpoch(T0 + 400, QTimeZone::UTC);
    window.to = QDateTime::fromMSecsSinceEpoch(T0 + 600, QTimeZone::UTC);
    QCOMPARE(s.frames(window).size(), 2);
    FrameFilter newest;
    newest.limit = 2;
    newest.newestFirst = true;
    const auto two = s.frames(newest);
    QCOMPARE(two.size(), 2);
    QVERIFY(two[0].id > two[1].id);
    FrameFilter paging;
    paging.afterId = two[1].id;
    QCOMPARE(s.frames(paging).size(), 1);
    QCOMPARE(s.countFrames(), 5);
}

void TestStore::migratesAnOldDatabase() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("old.db"));
    {
        // A database as the first schema version left it, with data in it.
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("v1"));
        db.setDatabaseName(path);
        QVERIFY(db.open());
        QString err;
        QVERIFY2(migrate(db, &err, 1), qPrintable(err));
        QCOMPARE(schemaVersion(db), 1);
        QSqlQuery q(db);
        QVERIFY(q.exec(QStringLiteral("INSERT INTO devices(imei, name, created) VALUES('864717003283581', 'Cat', %1)").arg(T0)));
        QVERIFY(q.exec(QStringLiteral("INSERT INTO positions(device_id, fix_time, ckey, server_time, lat, lon, valid, source) "
                                      "VALUES(1, %1, 7, %1, 52.5, 4.5, 1, 0)").arg(T0)));
        QVERIFY(q.exec(QStringLiteral("INSERT INTO frames(time, direction, bytes) VALUES(%1, 0, x'7878')").arg(T0)));
        // Tables of later versions do not exist yet.
        QVERIFY(!q.exec(QStringLiteral("SELECT count(*) FROM status")));
        q.finish();
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("v1"));

    Store s;
    QVERIFY2(s.open(path), qPrintable(s.lastError()));
    QSqlDatabase db = s.database();
    QCOMPARE(schemaVersion(db), latestSchemaVersion());
    const auto dev = s.deviceByImei(QStringLiteral("864717003283581"));
    QVERIFY(dev);
    QCOMPARE(dev->name, QStringLiteral("Cat"));
    QCOMPARE(dev->color, QString());        // column added by step 3, default value
    QCOMPARE(dev->smsPassword, QString());
    QCOMPARE(s.countPositions({dev->id}, {}, {}), 1);
    QCOMPARE(s.countFrames(), 1);
    // The new tables work.
    Device d = *dev;
    d.color = QStringLiteral("#ff8800");
    d.smsPassword = QStringLiteral("123456");
    QVERIFY(s.updateDevice(d));
    QCOMPARE(s.device(dev->id)->color, QStringLiteral("#ff8800"));
    QList<WorkResult> r;
    WorkItem w = inbound(QStringLiteral("864717003283581"), T0 + 1, {});
    w.status = proto::Status{};
    w.status->batteryPercent = 50;
    QVERIFY2(s.applyBatch({w}, &r), qPrintable(s.lastError()));
    QCOMPARE(s.lastStatus().value(dev->id).status.batteryPercent, std::optional<int>(50));
    QCOMPARE(s.integrityCheck(), QStringLiteral("ok"));
}

void TestStore::refusesNewerSchema() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("new.db"));
    {
        Store s;
        QVERIFY(s.open(path));
        QVERIFY(sqlExec(s.database(), QStringLiteral("PRAGMA user_version=999")));
    }
    Store s;
    QVERIFY(!s.open(path));
    QVERIFY2(s.lastError().contains(QLatin1String("newer")), qPrintable(s.lastError()));
    QVERIFY(!s.isOpen());
}

void TestStore::corruptFileGivesClearError() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("junk.db"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    QByteArray junk(8192, 'x');
    junk.replace(0, 13, "not a sqlite!");
    f.write(junk);
    f.close();
    Store s;
    QVERIFY(!s.open(path));
    QVERIFY2(s.lastError().contains(path) && s.lastError().contains(QLatin1String("not a database")), qPrintable(s.lastError()));
    QList<WorkResult> r;
    QVERIFY(!s.applyBatch({inbound(QStringLiteral("1"), T0)}, &r));  // no crash when used anyway
    QVERIFY(!s.lastError().isEmpty());
}

void TestStore::damagedPagesGiveErrorsNotCrashes() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("damaged.db"));
    {
        Store s;
        QVERIFY(s.open(path));
        QList<WorkItem> items;
        for (int i = 0; i < 3000; ++i)
            items << inbound(QStringLiteral("864717003283581"), T0 + i, {fix(T0 + i * 1000, 1 + i * 1e-4, 2)});
        QList<WorkResult> r;
        QVERIFY2(s.applyBatch(items, &r), qPrintable(s.lastError()));
        QVERIFY(sqlExec(s.database(), QStringLiteral("PRAGMA wal_checkpoint(TRUNCATE)")));
    }
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadWrite));
    const qint64 size = f.size();
    QVERIFY(size > 64 * 1024);
    for (qint64 off = 8192; off < size; off += 4096 * 3) {  // scribble over many pages
        f.seek(off + 100);
        f.write(QByteArray(700, char(0xA5)));
    }
    f.close();
    Store s;
    if (s.open(path)) {
        QVERIFY(s.integrityCheck() != QLatin1String("ok"));
        int n = 0;
        s.forEachPosition({}, {}, {}, {}, [&](const StoredPosition &) { return ++n < 100000; });
        s.frames({});
        QList<WorkResult> r;
        s.applyBatch({inbound(QStringLiteral("864717003283581"), T0 + 99, {fix(T0 + 5, 9, 9)})}, &r);
    } else {
        QVERIFY(!s.lastError().isEmpty());
    }
}

void TestStore::fullDatabaseFailsWholeBatch_data() {
    QTest::addColumn<bool>("groups");
    QTest::newRow("rows written at once") << false;
    QTest::newRow("rows in groups") << true;  // waiting rows of earlier commits are kept too
}

void TestStore::fullDatabaseFailsWholeBatch() {
    QFETCH(bool, groups);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("full.db"));
    StoreOptions opts;
    opts.maxPageCount = 40;  // a tiny "disk"
    if (groups) {
        opts.deferPositionsMs = 60000;
        opts.deferFromItems = 1;
    }
    Store s;
    QVERIFY2(s.open(path, opts), qPrintable(s.lastError()));
    QList<WorkResult> r;
    qint64 committed = 0, waitingMax = 0;
    bool sawFull = false;
    for (int b = 0; b < 200 && !sawFull; ++b) {
        QList<WorkItem> items;
        for (int i = 0; i < 20; ++i)
            items << inbound(QStringLiteral("864717003283581"), T0 + b * 100 + i, {fix(T0 + (b * 100 + i) * 1000, b, i)});
        if (s.applyBatch(items, &r)) {
            committed += 20;
            QCOMPARE(r.size(), 20);
            waitingMax = qMax(waitingMax, s.deferredRows());
        } else {
            sawFull = true;
            QVERIFY(r.isEmpty());
            QVERIFY2(s.lastError().contains(QLatin1String("full"), Qt::CaseInsensitive), qPrintable(s.lastError()));
        }
    }
    QVERIFY(sawFull);
    QVERIFY(committed > 0);
    QCOMPARE(waitingMax > 0, groups);
    // Room again: what waited in groups is written (the failed batch left nothing behind).
    QVERIFY(sqlExec(s.database(), QStringLiteral("PRAGMA max_page_count=100000")));
    QVERIFY2(s.flushDeferred(QDateTime::currentMSecsSinceEpoch(), true), qPrintable(s.lastError()));
    // Exactly the committed batches are there.
    QCOMPARE(s.countPositions({}, {}, {}), committed);
    QCOMPARE(s.integrityCheck(), QStringLiteral("ok"));
}

void TestStore::readOnlyDatabaseRefusesWrites() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("ro.db"));
    {
        Store s;
        QVERIFY(s.open(path));
        QList<WorkResult> r;
        QVERIFY2(s.applyBatch({inbound(QStringLiteral("864717003283581"), T0, {fix(T0, 1, 1)})}, &r), qPrintable(s.lastError()));
    }
    Store s;
    StoreOptions ro;
    ro.readOnly = true;
    QVERIFY2(s.open(path, ro), qPrintable(s.lastError()));
    QCOMPARE(s.countPositions({}, {}, {}), 1);
    QList<WorkResult> r;
    QVERIFY(!s.applyBatch({inbound(QStringLiteral("864717003283581"), T0 + 1, {fix(T0 + 1000, 1, 1)})}, &r));
    QVERIFY2(s.lastError().contains(QLatin1String("readonly"), Qt::CaseInsensitive)
                 || s.lastError().contains(QLatin1String("read-only"), Qt::CaseInsensitive),
             qPrintable(s.lastError()));
    QCOMPARE(s.countPositions({}, {}, {}), 1);
    Store missing;
    QVERIFY(!missing.open(dir.filePath(QStringLiteral("nope.db")), ro));
    QVERIFY(missing.lastError().contains(QLatin1String("no database")));
}

void TestStore::retentionPrunesByCountAndAge() {
    QTemporaryDir dir;
    Store s;
    QVERIFY(s.open(dir.filePath(QStringLiteral("td.db"))));
    const qint64 now = T0 + 30LL * 86400000;
    QList<WorkItem> items;
    for (int i = 0; i < 100; ++i) {  // 100 inbound + 100 replies, one per 6 hours over 25 days
        WorkItem w = inbound(QStringLiteral("864717003283581"), T0 + i * 6LL * 3600000, {fix(T0 + i * 1000, 1, i)});
        items << w;
    }
    QList<WorkResult> r;
    QVERIFY2(s.applyBatch(items, &r), qPrintable(s.lastError()));
    QCOMPARE(s.countFrames(), 200);
    RetentionPolicy age;
    age.maxAgeDays = 10;  // keeps frames newer than now - 10 days = T0 + 20 days: i >= 80
    qint64 total = 0, n;
    while ((n = s.pruneFrames(age, now, 7)) > 0)
        total += n;
    QCOMPARE(n, 0);
    QCOMPARE(total, 160);
    QCOMPARE(s.countFrames(), 40);
    RetentionPolicy count;
    count.maxFrames = 15;
    while ((n = s.pruneFrames(count, now, 4)) > 0) {}
    QCOMPARE(s.countFrames(), 15);
    const auto left = s.frames({});
    QCOMPARE(left.last().id, r.last().replyIds.last());  // the newest are kept
    QCOMPARE(s.countPositions({}, {}, {}), 100);         // derived data is not touched
}

void TestStore::writerGroupsCommitsAndKeepsOrder() {
    QTemporaryDir dir;
    StoreWriter w;
    WriterOptions o;
    o.path = dir.filePath(QStringLiteral("td.db"));
    o.commitWindowMs = 5;
    QString err;
    QVERIFY2(w.start(o, &err), qPrintable(err));
    QList<quint64> order;
    connect(&w, &StoreWriter::committed, this, [&](const QList<WorkResult> &rs) {
        for (const WorkResult &r : rs) {
            QVERIFY(r.ok);
            order << r.ticket;
        }
    });
    const int N = 3000;
    for (int i = 0; i < N; ++i) {
        WorkItem item = inbound(QStringLiteral("%1").arg(200000000000000 + i % 50), T0 + i, {fix(T0 + i * 1000, 3, i * 1e-3)});
        item.ticket = quint64(i + 1);
        w.submit(item);
    }
    QTRY_COMPARE_WITH_TIMEOUT(order.size(), N, 60000);
    for (int i = 0; i < N; ++i)
        QCOMPARE(order[i], quint64(i + 1));
    qInfo() << N << "items in" << w.commits() << "commits";
    QVERIFY(w.commits() < N / 10);  // grouped, not one transaction per item
    w.stop();
    Store s;
    QVERIFY(s.open(o.path));
    QCOMPARE(s.countPositions({}, {}, {}), N);
}

// Commits back to back, with no pause for the checkpointer to catch up: SQLite starts the
// WAL over only once all of it is copied, so without the writer copying the rest itself the
// WAL grew without bound (1 GB in 25 s in bench_server at 5,000 fixes/s; every commit got
// slower). Here it must stay near the checkpoint threshold, and the file be cut back.
void TestStore::writerKeepsTheWalBoundedUnderContinuousLoad() {
    QTemporaryDir dir;
    StoreWriter w;
    WriterOptions o;
    o.path = dir.filePath(QStringLiteral("td.db"));
    o.checkpointPages = 300;                 // 1.2 MB
    o.walSizeLimitBytes = 2 * 1024 * 1024;
    QString err;
    QVERIFY2(w.start(o, &err), qPrintable(err));
    const QString wal = o.path + QStringLiteral("-wal");
    qint64 walMax = 0, submitted = 0;
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < 4000) {
        if (w.pending() < 300) {
            QList<WorkItem> items;
            for (int i = 0; i < 100; ++i, ++submitted)
                items << inbound(QStringLiteral("%1").arg(300000000000000 + submitted % 500), T0 + submitted,
                                 {fix(T0 + submitted * 1000, 40 + (submitted % 500) * 0.01, 5 + submitted * 1e-6)});
            w.submit(items);
        }
        walMax = qMax(walMax, QFileInfo(wal).size());
        QThread::msleep(1);
    }
    w.stop();
    const WriterStats st = w.stats();
    qInfo() << submitted << "items," << st.commits << "commits," << st.checkpoints << "checkpoints +" << st.tailCheckpoints
            << "by the writer; largest WAL file" << walMax << "bytes, longest WAL" << st.walPagesMax << "pages";
    QVERIFY(st.commits > 20);
    QVERIFY2(walMax < 24 * 1024 * 1024, qPrintable(QStringLiteral("the WAL grew to %1 bytes").arg(walMax)));
    QVERIFY(st.tailCheckpoints > 0);
    QVERIFY(QFileInfo(wal).size() <= o.walSizeLimitBytes);
    Store s;
    QVERIFY(s.open(o.path));
    QCOMPARE(s.countPositions({}, {}, {}), submitted);
}

// The checkpointer looks at the WAL once a second; a pass with nothing new to copy is not a
// checkpoint (the headless exit line said "40 checkpoints" for 24 tiny commits).
void TestStore::writerCountsOnlyCheckpointsThatCopied() {
    QTemporaryDir dir;
    StoreWriter w;
    WriterOptions o;
    o.path = dir.filePath(QStringLiteral("td.db"));
    QString err;
    QVERIFY2(w.start(o, &err), qPrintable(err));
    int results = 0;
    connect(&w, &StoreWriter::committed, this, [&](const QList<WorkResult> &rs) { results += int(rs.size()); });
    for (int i = 0; i < 20; ++i)
        w.submit(inbound(QStringLiteral("864717003283581"), T0 + i, {fix(T0 + i * 1000, 7, i * 1e-3)}));
    QTRY_COMPARE_WITH_TIMEOUT(results, 20, 10000);
    // One pass copies the committed pages; the idle passes after it copy nothing.
    QTRY_COMPARE_WITH_TIMEOUT(w.stats().checkpoints, qint64(1), 5000);
    QTest::qWait(3500);
    QCOMPARE(w.stats().checkpoints, qint64(1));
    w.stop();
}

// After a busy time the WAL file is cut back once the writer is idle (not while busy:
// SQLite's own cut, in the first commit after the WAL starts over, held those acks).
void TestStore::writerCutsTheWalBackWhenIdle() {
    QTemporaryDir dir;
    StoreWriter w;
    WriterOptions o;
    o.path = dir.filePath(QStringLiteral("td.db"));
    o.walSizeLimitBytes = 256 * 1024;
    QString err;
    QVERIFY2(w.start(o, &err), qPrintable(err));
    int results = 0;
    connect(&w, &StoreWriter::committed, this, [&](const QList<WorkResult> &rs) { results += int(rs.size()); });
    QList<WorkItem> items;
    for (int i = 0; i < 3000; ++i)
        items << inbound(QStringLiteral("%1").arg(300000000000000 + i % 300), T0 + i, {fix(T0 + i * 1000, 40 + (i % 300) * 0.01, 5)});
    w.submit(items);
    QTRY_COMPARE_WITH_TIMEOUT(results, 3000, 20000);
    const QString wal = o.path + QStringLiteral("-wal");
    const qint64 busySize = QFileInfo(wal).size();
    QVERIFY2(busySize > o.walSizeLimitBytes, qPrintable(QString::number(busySize)));
    QTRY_VERIFY_WITH_TIMEOUT(QFileInfo(wal).size() <= o.walSizeLimitBytes, 6000);
    qInfo("WAL file %lld bytes after the commits, %lld bytes once idle", busySize, QFileInfo(wal).size());
    // Still a working database.
    w.submit(inbound(QStringLiteral("300000000000001"), T0 + 5000, {fix(T0 + 9000000, 41, 5)}));
    QTRY_COMPARE_WITH_TIMEOUT(results, 3001, 5000);
    w.stop();
    Store s;
    QVERIFY(s.open(o.path));
    QCOMPARE(s.countPositions({}, {}, {}), 3001);
}

// What a killed run left waiting is written at the next start: rows of version 6 (one row
// each in positions_pending) and batches of version 7; a damaged batch is skipped and
// reported, the rows before the damage and the other batches are kept.
void TestStore::waitingRowsOfOlderRunsAndDamagedBatches() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("td.db"));
    const StoreOptions o = groupsOptions(1);
    QByteArray good;
    {
        Store w;
        QVERIFY2(w.open(path, o), qPrintable(w.lastError()));
        QList<WorkResult> r;
        QList<WorkItem> b;
        for (int i = 0; i < 10; ++i)
            b << everySecond(QStringLiteral("864717003283581"), i);
        QVERIFY2(w.applyBatch(b, &r), qPrintable(w.lastError()));
        QCOMPARE(w.deferredRows(), 9);
        QSqlQuery q(w.database());
        QVERIFY(q.exec(QStringLiteral("SELECT rows FROM positions_pending_batches")) && q.next());
        good = q.value(0).toByteArray();
        q.finish();
        // As a killed run of version 6 would have left them: rows in positions_pending.
        QVERIFY(q.exec(QStringLiteral("INSERT INTO positions_pending(device_id, fix_time, ckey, server_time, lat, lon, valid, source, frame_id)"
                                      " VALUES(1, %1, 7, %2, 53.5, 6.5, 1, 0, NULL), (1, %3, 8, %2, 53.6, 6.6, 1, 0, NULL)")
                           .arg(T0 + 500000).arg(T0).arg(T0 + 501000)));
        // A second batch cut short after its first row and a few bytes, and a third of noise.
        const int firstRowEnd = 1 + (good.size() - 1) / 9;
        QVERIFY(q.prepare(QStringLiteral("INSERT INTO positions_pending_batches(id, rows) VALUES(?, ?)")));
        q.addBindValue(100);
        q.addBindValue(QByteArray(good.left(firstRowEnd + 5)).replace(9, 8, QByteArray::fromHex("40F3870700000000")));
        QVERIFY(q.exec());
        q.addBindValue(101);
        q.addBindValue(QByteArray("\x01garbage"));
        QVERIFY(q.exec());
    }   // "killed": the 9 waiting rows were never written into positions
    Store check;
    QVERIFY(check.open(path));
    QCOMPARE(check.countPositions({}, {}, {}), 1);
    check.close();
    Store w;
    QVERIFY2(w.open(path, o), qPrintable(w.lastError()));
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("batch 100 of waiting positions is damaged")));
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("batch 101 of waiting positions is damaged")));
    QVERIFY2(w.flushDeferred(QDateTime::currentMSecsSinceEpoch(), true), qPrintable(w.lastError()));
    // 1 written + 9 from the good batch + 2 from version 6 + the first row of the cut
    // batch (another fix time; its second row was damaged).
    QCOMPARE(w.countPositions({}, {}, {}), 13);
    QCOMPARE(w.recoveredPending(), 12);
    QCOMPARE(w.damagedPendingBatches(), 2);
    QCOMPARE(countSql(w.database(), QStringLiteral("SELECT count(*) FROM positions_pending_batches")), 0);
    QCOMPARE(countSql(w.database(), QStringLiteral("SELECT count(*) FROM positions_pending")), 0);
    QCOMPARE(w.integrityCheck(), QStringLiteral("ok"));
}

// WriterOptions::trace (TRACKERDESK_WRITER_TRACE=1): a line per commit and per checkpoint
// pass on stderr, so that an operator can see where slow acks come from.
void TestStore::writerTracePrintsCommitsAndCheckpoints() {
#ifdef Q_OS_UNIX
    QTemporaryDir dir;
    const QString log = dir.filePath(QStringLiteral("stderr.txt"));
    std::fflush(stderr);
    const int saved = ::dup(2);
    const int fd = ::open(QFile::encodeName(log).constData(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    QVERIFY(saved >= 0 && fd >= 0);
    ::dup2(fd, 2);
    ::close(fd);
    int results = 0;
    bool started = false;
    QString err;
    {
        // stderr back once the writer is gone (also when a check below fails).
        const auto restore = qScopeGuard([saved] {
            std::fflush(stderr);
            ::dup2(saved, 2);
            ::close(saved);
        });
        StoreWriter w;
        WriterOptions o;
        o.path = dir.filePath(QStringLiteral("td.db"));
        o.trace = true;
        o.checkpointPages = 50;
        started = w.start(o, &err);
        if (started) {
            connect(&w, &StoreWriter::committed, this, [&](const QList<WorkResult> &rs) { results += int(rs.size()); });
            for (int b = 0; b < 5; ++b) {
                QList<WorkItem> items;
                for (int i = 0; i < 200; ++i)
                    items << inbound(QStringLiteral("%1").arg(300000000000000 + i), T0 + b * 1000 + i, {fix(T0 + (b * 1000 + i) * 1000, 40 + i * 0.01, b)});
                w.submit(items);
                QTRY_COMPARE_WITH_TIMEOUT(results, (b + 1) * 200, 10000);
            }
            QTest::qWait(1500);   // the checkpointer's pass
        }
        w.stop();
    }
    QVERIFY2(started, qPrintable(err));
    QFile f(log);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(f.readAll());
    static const QRegularExpression commit(QStringLiteral("^writer-trace \\d+ commit: (\\d+) items in [0-9.]+ ms, \\d+ positions waiting in groups, \\d+ items queued$"),
                                           QRegularExpression::MultilineOption);
    int items = 0, commits = 0;
    for (auto it = commit.globalMatch(text); it.hasNext();) {
        items += it.next().captured(1).toInt();
        ++commits;
    }
    QCOMPARE(items, 1000);
    QVERIFY(commits >= 5);
    QVERIFY2(text.contains(QRegularExpression(QStringLiteral("^writer-trace \\d+ checkpoint pass: WAL \\d+ pages, \\d+ copied, sync [0-9.]+ ms$"),
                                                  QRegularExpression::MultilineOption)),
             qPrintable(text.left(2000)));
#else
    QSKIP("stderr redirection is written for POSIX");
#endif
}

// Position groups that cannot be written (a full disk) stay in positions_pending; the
// idle writer tries again once a second, it does not spin.
void TestStore::writerRetriesWaitingGroupsCalmlyOnAFullDisk() {
    QTemporaryDir dir;
    StoreWriter w;
    WriterOptions o;
    o.path = dir.filePath(QStringLiteral("td.db"));
    o.store.maxPageCount = 60;  // a tiny "disk"
    o.deferFromItems = 1;
    o.deferPositionsMs = 100;
    QString err;
    QVERIFY2(w.start(o, &err), qPrintable(err));
    int committed = 0, failed = 0, problems = 0;
    connect(&w, &StoreWriter::committed, this, [&](const QList<WorkResult> &rs) { committed += int(rs.size()); });
    connect(&w, &StoreWriter::failed, this, [&](const QString &, const QList<WorkResult> &) { ++failed; });
    connect(&w, &StoreWriter::problem, this, [&](const QString &) { ++problems; });
    for (int b = 0; b < 200 && failed == 0 && problems == 0; ++b) {
        QList<WorkItem> items;
        for (int i = 0; i < 20; ++i)
            items << inbound(QStringLiteral("864717003283581"), T0 + b * 100 + i, {fix(T0 + (b * 100 + i) * 1000, b, i)});
        w.submit(items);
        QTest::qWait(20);
    }
    QTRY_VERIFY_WITH_TIMEOUT(failed > 0 || problems > 0, 10000);
    QVERIFY(committed > 0);
    const int before = problems;
    QTest::qWait(2500);
    qInfo("%d items committed, %d batches failed, %d problems reported, %d more in 2.5 s idle", committed, failed, before,
          problems - before);
    QVERIFY2(problems - before <= 4, qPrintable(QString::number(problems - before)));
    w.stop();
}

void TestStore::writerFlushesOnStop() {
    QTemporaryDir dir;
    WriterOptions o;
    o.path = dir.filePath(QStringLiteral("td.db"));
    o.commitWindowMs = 50;
    int results = 0;
    {
        StoreWriter w;
        QString err;
        QVERIFY(w.start(o, &err));
        connect(&w, &StoreWriter::committed, this, [&](const QList<WorkResult> &rs) { results += rs.size(); }, Qt::DirectConnection);
        for (int i = 0; i < 500; ++i)
            w.submit(inbound(QStringLiteral("864717003283581"), T0 + i, {fix(T0 + i * 1000, 7, i * 1e-3)}));
        w.stop();  // right away: everything submitted is committed before it returns
    }
    QCOMPARE(results, 500);
    Store s;
    QVERIFY(s.open(o.path));
    QCOMPARE(s.countPositions({}, {}, {}), 500);

    // A writer that cannot open its database says why.
    StoreWriter bad;
    WriterOptions b;
    b.path = dir.filePath(QStringLiteral("td.db/inside-a-file.db"));
    QString err;
    QVERIFY(!bad.start(b, &err));
    QVERIFY(!err.isEmpty());
}

void TestStore::restartKeepsDevicesAndHistory() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("td.db"));
    {
        Store s;
        QVERIFY(s.open(path));
        QList<WorkResult> r;
        QVERIFY2(s.applyBatch({inbound(QStringLiteral("864717003283581"), T0, {}, proto::MessageKind::Login),
                              inbound(QStringLiteral("864717003283581"), T0 + 1, {fix(T0, 5, 6)})}, &r), qPrintable(s.lastError()));
        Device d = *s.deviceByImei(QStringLiteral("864717003283581"));
        d.name = QStringLiteral("Felix");
        d.state = DeviceState::Blocked;
        d.timeZoneMinutes = -240;
        QVERIFY(s.updateDevice(d));
    }
    Store s;
    QVERIFY(s.open(path));
    const auto d = s.deviceByImei(QStringLiteral("864717003283581"));
    QVERIFY(d);
    QCOMPARE(d->name, QStringLiteral("Felix"));
    QCOMPARE(d->state, DeviceState::Blocked);
    QCOMPARE(d->timeZoneMinutes, std::optional<int>(-240));
    QCOMPARE(s.countPositions({d->id}, {}, {}), 1);
    // The writer path finds the existing device after a restart instead of adding one.
    QList<WorkResult> r;
    QVERIFY2(s.applyBatch({inbound(QStringLiteral("864717003283581"), T0 + 2, {fix(T0 + 1000, 5, 6)})}, &r), qPrintable(s.lastError()));
    QCOMPARE(r[0].deviceId, d->id);
    QVERIFY(!r[0].deviceCreated);
    QCOMPARE(s.devices().size(), 1);
}

void TestStore::nativeAndQtSqlPathsAgree() {
    // The writer binds through the SQLite C API when it can (sqlitenative.h), else through
    // QSqlQuery. Both must store exactly the same rows.
    auto fill = [](const QString &path, bool native, bool *usedNative) {
        if (native)
            qunsetenv("TRACKERDESK_NO_NATIVE_SQLITE");
        else
            qputenv("TRACKERDESK_NO_NATIVE_SQLITE", "1");
        Store s;
        if (!s.open(path))
            return false;
        proto::Position lbs;
        lbs.time = QDateTime::fromMSecsSinceEpoch(T0 + 5000, QTimeZone::UTC);
        lbs.hasCoordinates = false;
        lbs.source = proto::PositionSource::Wifi;
        lbs.wifi = {proto::WifiAccessPoint{QStringLiteral("aa:bb:cc:dd:ee:ff"), -61}};
        lbs.cells = {proto::CellTower{204, 8, 1234, 56789, 20}};
        WorkItem a = inbound(QStringLiteral("864717003283581"), T0, {fix(T0, 52.5, 4.5), lbs});
        a.status = proto::Status{};
        a.status->batteryVolts = 4.1;
        a.status->charging = false;
        a.alarms = {QStringLiteral("sos")};
        WorkItem b = inbound(QString(), T0 + 1);
        b.storeData = false;
        b.peerAddress = QString();
        QList<WorkResult> r;
        const bool ok = s.applyBatch({a, b, a}, &r);
        *usedNative = s.usesNativeInserts();
        qunsetenv("TRACKERDESK_NO_NATIVE_SQLITE");
        return ok && r.size() == 3 && r[2].duplicates == 2;
    };
    QTemporaryDir dir;
    bool n1 = false, n2 = true;
    QVERIFY(fill(dir.filePath(QStringLiteral("native.db")), true, &n1));
    QVERIFY(fill(dir.filePath(QStringLiteral("qt.db")), false, &n2));
    QVERIFY(!n2);
    qInfo() << "SQLite C API path available:" << n1;
    auto dump = [](const QString &path) {
        QStringList rows;
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), path);
            db.setDatabaseName(path);
            db.open();
            QSqlQuery q(db);
            for (const char *sql : {"SELECT * FROM positions ORDER BY device_id, fix_time, ckey",
                                    "SELECT time, direction, peer, port, device_id, protocol, type, hex(bytes), reply_to FROM frames ORDER BY id",
                                    "SELECT device_id, time, battery, volts, signal, charging, frame_id FROM status ORDER BY id",
                                    "SELECT device_id, time, kind, detail, frame_id FROM events ORDER BY id"}) {
                q.exec(QLatin1String(sql));
                while (q.next()) {
                    QStringList cols;
                    for (int i = 0; i < q.record().count(); ++i)
                        cols << (q.value(i).isNull() ? QStringLiteral("NULL") : q.value(i).toString());
                    rows << cols.join(QLatin1Char('|'));
                }
            }
            q.finish();
            db.close();
        }
        QSqlDatabase::removeDatabase(path);
        return rows;
    };
    const QStringList a = dump(dir.filePath(QStringLiteral("native.db")));
    const QStringList b = dump(dir.filePath(QStringLiteral("qt.db")));
    QVERIFY(a.size() > 6);
    QCOMPARE(a, b);
}

// Raw frames are the source of truth: stored frames whose positions an old decoder got
// wrong are decoded again and their positions replaced. Real GT06 position frames from
// tests/data/gt06_vectors.tsv (rows with a computed position and a good CRC).
void TestStore::redecodeReplacesDerivedData_data() {
    QTest::addColumn<QByteArray>("frame");
    QTest::addColumn<QString>("time");
    QTest::addColumn<double>("lat");
    QTest::addColumn<double>("lon");
    QFile f(QStringLiteral(TD_TEST_DATA "/gt06_vectors.tsv"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QList<QByteArray> header = f.readLine().trimmed().split('\t');
    const int cHex = header.indexOf("hex"), cType = header.indexOf("message_type"), cCrc = header.indexOf("crc_ok"),
              cTime = header.indexOf("calc_time_utc"), cLat = header.indexOf("calc_lat"), cLon = header.indexOf("calc_lon"),
              cModel = header.indexOf("model_override");
    int rows = 0;
    while (!f.atEnd() && rows < 8) {
        const QList<QByteArray> c = f.readLine().split('\t');
        if (c.size() <= qMax(cLon, cModel) || c[cCrc] != "true" || c[cLat].isEmpty() || !c[cModel].isEmpty())
            continue;
        if (c[cType] != "0x22" && c[cType] != "0x12" && c[cType] != "0x16" && c[cType] != "0xa0")
            continue;
        QTest::addRow("%s #%d", c[cType].constData(), rows++) << QByteArray::fromHex(c[cHex]) << QString::fromUtf8(c[cTime])
                                                             << c[cLat].toDouble() << c[cLon].toDouble();
    }
    QVERIFY(rows >= 3);
}

void TestStore::redecodeReplacesDerivedData() {
    QFETCH(QByteArray, frame);
    QFETCH(QString, time);
    QFETCH(double, lat);
    QFETCH(double, lon);
    QTemporaryDir dir;
    Store s;
    QVERIFY(s.open(dir.filePath(QStringLiteral("td.db"))));
    // As stored by an older, buggy decoder: the right bytes, a wrong position.
    WorkItem w = inbound(QStringLiteral("864717003283581"), T0, {fix(T0, -1.0, -2.0)});
    w.bytes = frame;
    w.replies.clear();
    w.replyTypes.clear();
    QList<WorkResult> r;
    QVERIFY(s.applyBatch({w}, &r));
    RedecodeReport rep;
    QVERIFY2(s.redecode({}, &rep), qPrintable(s.lastError()));
    QCOMPARE(rep.frames, 1);
    QCOMPARE(rep.positionsRemoved, 1);
    QCOMPARE(rep.positions, 1);
    QList<StoredPosition> got;
    s.forEachPosition({}, {}, {}, {}, [&](const StoredPosition &p) { got << p; return true; });
    QCOMPARE(got.size(), 1);
    QCOMPARE(got[0].frameId, r[0].frameId);
    QVERIFY2(qAbs(got[0].position.latitude - lat) < 1e-5, qPrintable(QString::number(got[0].position.latitude, 'f', 6)));
    QVERIFY(qAbs(got[0].position.longitude - lon) < 1e-5);
    QCOMPARE(got[0].position.time.toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")), time);
    // Idempotent: decoding again gives the same single position.
    QVERIFY(s.redecode({}, &rep));
    QCOMPARE(s.countPositions({}, {}, {}), 1);
}

QTEST_GUILESS_MAIN(TestStore)
#include "tst_store.moc"
