// Geolocation: the Google-shape provider against a loopback service the test runs (valid,
// 404, 403 quota, slow, malformed), the resolver's cache, budget, rate limit, retry with
// backoff and persistence, the offline import (OpenCelliD / Wi-Fi / WiGLE, gzip, bad lines,
// cancel) and lookups, the secret store, .env and settings - and that the API key never
// shows up in a log line or in the settings file.
#include "fakegeoserver.h"

#include "cli/cli.h"
#include "core/settings.h"
#include "geo/cellimport.h"
#include "geo/geoconfig.h"
#include "geo/georesolver.h"
#include "geo/geostore.h"
#include "geo/googleshapeprovider.h"
#include "geo/offlinecellprovider.h"
#include "geo/secretstore.h"
#include "store/store.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QLoggingCategory>
#include <QMutex>
#include <QNetworkAccessManager>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

using namespace td;
using namespace td::geo;

namespace {

const QString kKey = QStringLiteral("SECRET-Key_4711-xyzzy");

proto::CellTower cell(int cid, int lac = 10342, int mcc = 460, int mnc = 0, int signal = 0) {
    proto::CellTower c;
    c.mcc = mcc;
    c.mnc = mnc;
    c.lac = lac;
    c.cellId = cid;
    c.signal = signal;
    return c;
}

GeoQuery cellQuery(int cid) {
    GeoQuery q;
    q.cells << cell(cid);
    return q;
}

GeoRequest request(const GeoQuery &q, qint64 device = 1, int second = 0) {
    GeoRequest r;
    r.deviceId = device;
    r.frameId = 0;
    r.fixTime = QDateTime(QDate(2024, 5, 1), QTime(12, 0, second), QTimeZone::UTC);
    r.query = q;
    return r;
}

// Messages Qt logs while a test runs (the key must never be among them).
QMutex g_logMutex;
QStringList g_log;
QtMessageHandler g_previous = nullptr;
void captureMessages(QtMsgType type, const QMessageLogContext &ctx, const QString &msg) {
    {
        QMutexLocker lock(&g_logMutex);
        g_log << msg;
    }
    if (g_previous)
        g_previous(type, ctx, msg);
}

// A gzip file around `data` (deflate from qCompress, the gzip frame by hand).
quint32 crc32(const QByteArray &d) {
    quint32 c = 0xFFFFFFFFu;
    for (char ch : d) {
        c ^= quint8(ch);
        for (int k = 0; k < 8; ++k)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}
QByteArray gzip(const QByteArray &data) {
    const QByteArray z = qCompress(data, 9);   // 4-byte size, zlib header (2), deflate, adler32 (4)
    QByteArray out("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10);
    out += z.mid(6, z.size() - 6 - 4);
    const quint32 crc = crc32(data), size = quint32(data.size());
    for (int i = 0; i < 4; ++i)
        out += char((crc >> (8 * i)) & 0xff);
    for (int i = 0; i < 4; ++i)
        out += char((size >> (8 * i)) & 0xff);
    return out;
}

bool writeFile(const QString &path, const QByteArray &data) {
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(data) == data.size();
}

// A resolver on a fresh database, asking the fake service.
struct Fixture {
    QTemporaryDir dir;
    test::FakeGeoServer server;
    GeoResolver resolver;
    GeoConfig config;
    Fixture() {
        config.apiKey = kKey;
        config.providers = {QStringLiteral("web")};
        config.minIntervalMs = 0;
        config.timeoutMs = 3000;
        config.retryBaseMs = 100;
        config.cacheTtlSec = 600;
    }
    QString db() const { return dir.filePath(QStringLiteral("trackerdesk.db")); }
    bool open(QString *error) {
        if (!server.listen()) {
            *error = QStringLiteral("fake server");
            return false;
        }
        config.url = server.url();
        return resolver.open(db(), config, error);
    }
};

GeoRequest requestAt(const QSignalSpy &spy, int i) { return qvariant_cast<GeoRequest>(spy.at(i).at(0)); }
GeoResult resultAt(const QSignalSpy &spy, int i) { return qvariant_cast<GeoResult>(spy.at(i).at(1)); }

} // namespace

class TestGeo : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cacheKeyIgnoresOrderAndSignal();
    void requestBodyShape();
    void replyClassification_data();
    void replyClassification();
    void providerAgainstServer_data();
    void providerAgainstServer();
    void cacheHitsCounted();
    void budgetStopsRequests();
    void rateLimitSpacesRequests();
    void oneRequestAtATime();
    void retryBackoffThenSuccess();
    void pendingSurvivesRestart();
    void notFoundWaitsForResolvePending();
    void providersTriedInOrder();
    void offlineImportAndLookup();
    void offlineImportBadLinesAndCancel();
    void offlineWifiSkippedUnlessImported();
    void wigleImport();
    void gzipImport();
    void keyNeverLoggedNorInSettings();
    void secretFileIsPrivate();
    void dotEnvHonoured();
    void settingsValidated();
    void cliImportAndResolvePending();
};

void TestGeo::initTestCase() {
    QStandardPaths::setTestModeEnabled(true);   // the CLI reads the default settings: not the user's
    qRegisterMetaType<GeoRequest>();
    qRegisterMetaType<GeoResult>();
    qRegisterMetaType<GeoStats>();
}

void TestGeo::cacheKeyIgnoresOrderAndSignal() {
    GeoQuery a, b, c;
    a.wifi = {{QStringLiteral("AA:BB:CC:DD:EE:01"), -40}, {QStringLiteral("aa:bb:cc:dd:ee:02"), -70}};
    a.cells = {cell(3873, 10342, 460, 0, 50), cell(3871)};
    b.wifi = {{QStringLiteral("aa-bb-cc-dd-ee-02"), -90}, {QStringLiteral("aabbccddee01"), -30}, {QStringLiteral("aa:bb:cc:dd:ee:01"), -35}};
    b.cells = {cell(3871, 10342, 460, 0, 20), cell(3873)};
    QCOMPARE(a.cacheKey(), b.cacheKey());
    c = a;
    c.cells << cell(4211);
    QVERIFY(c.cacheKey() != a.cacheKey());
    // unusable BSSIDs are dropped, not keyed
    GeoQuery d = a;
    d.wifi << proto::WifiAccessPoint{QStringLiteral("00:00:00:00:00:00"), -20} << proto::WifiAccessPoint{QStringLiteral("zz"), -20};
    QCOMPARE(d.cacheKey(), a.cacheKey());
    QCOMPARE(d.usableWifi().size(), 2);
}

void TestGeo::requestBodyShape() {
    GeoQuery q;
    q.wifi = {{QStringLiteral("14:75:90:5b:d3:0e"), -37}, {QStringLiteral("00:1e:10:bb:f7:63"), -93}};
    q.cells = {cell(3873, 10342, 460, 0, 50), cell(0x1234567, 77, 262, 2, -85)};
    bool wifiSent = false;
    const QJsonObject o = QJsonDocument::fromJson(GoogleShapeProvider::requestBody(q, &wifiSent)).object();
    QVERIFY(wifiSent);
    QCOMPARE(o.value(QStringLiteral("considerIp")).toBool(true), false);
    const QJsonArray aps = o.value(QStringLiteral("wifiAccessPoints")).toArray();
    QCOMPARE(aps.size(), 2);
    QCOMPARE(aps[0].toObject().value(QStringLiteral("macAddress")).toString(), QStringLiteral("14:75:90:5b:d3:0e"));
    QCOMPARE(aps[0].toObject().value(QStringLiteral("signalStrength")).toInt(), -37);
    const QJsonArray cells = o.value(QStringLiteral("cellTowers")).toArray();
    QCOMPARE(cells.size(), 2);
    const QJsonObject c0 = cells[0].toObject();
    QCOMPARE(c0.value(QStringLiteral("cellId")).toInt(), 3873);
    QCOMPARE(c0.value(QStringLiteral("locationAreaCode")).toInt(), 10342);
    QCOMPARE(c0.value(QStringLiteral("mobileCountryCode")).toInt(), 460);
    QCOMPARE(c0.value(QStringLiteral("mobileNetworkCode")).toInt(), 0);
    QCOMPARE(c0.value(QStringLiteral("radioType")).toString(), QStringLiteral("gsm"));
    QVERIFY2(!c0.contains(QStringLiteral("signalStrength")), "a tracker's 0..255 level is not dBm");
    QCOMPARE(cells[1].toObject().value(QStringLiteral("radioType")).toString(), QStringLiteral("lte"));
    QCOMPARE(cells[1].toObject().value(QStringLiteral("signalStrength")).toInt(), -85);
    // one access point is not sent (the services need two)
    GeoQuery one;
    one.wifi = {{QStringLiteral("14:75:90:5b:d3:0e"), -37}};
    one.cells = {cell(1)};
    const QJsonObject o1 = QJsonDocument::fromJson(GoogleShapeProvider::requestBody(one, &wifiSent)).object();
    QVERIFY(!wifiSent);
    QVERIFY(!o1.contains(QStringLiteral("wifiAccessPoints")));
}

void TestGeo::replyClassification_data() {
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<bool>("wifi");
    QTest::addColumn<int>("error");
    QTest::addColumn<double>("lat");
    QTest::addColumn<int>("source");
    const int wifi = int(proto::PositionSource::Wifi), lbs = int(proto::PositionSource::Lbs);
    QTest::newRow("valid wifi") << 200 << QByteArray(R"({"location":{"lat":51.5,"lng":-0.12},"accuracy":25.0})") << true
                                << int(GeoError::None) << 51.5 << wifi;
    QTest::newRow("valid cells") << 200 << QByteArray(R"({"location":{"lat":-33.9,"lng":151.2},"accuracy":1200})") << false
                                 << int(GeoError::None) << -33.9 << lbs;
    QTest::newRow("404 notFound") << 404 << QByteArray(R"({"error":{"errors":[{"reason":"notFound"}],"code":404,"message":"Not Found"}})")
                                  << false << int(GeoError::NotFound) << 0.0 << lbs;
    QTest::newRow("404 bare") << 404 << QByteArray() << false << int(GeoError::NotFound) << 0.0 << lbs;
    QTest::newRow("403 daily limit") << 403 << QByteArray(R"({"error":{"errors":[{"reason":"dailyLimitExceeded"}],"code":403}})")
                                     << false << int(GeoError::QuotaExceeded) << 0.0 << lbs;
    QTest::newRow("403 key") << 403 << QByteArray(R"({"error":{"errors":[{"reason":"keyInvalid"}],"code":403}})") << false
                             << int(GeoError::KeyInvalid) << 0.0 << lbs;
    QTest::newRow("400 key") << 400 << QByteArray(R"({"error":{"errors":[{"reason":"keyInvalid"}],"code":400}})") << false
                             << int(GeoError::KeyInvalid) << 0.0 << lbs;
    QTest::newRow("400 parse") << 400 << QByteArray(R"({"error":{"errors":[{"reason":"parseError"}],"code":400}})") << false
                               << int(GeoError::BadRequest) << 0.0 << lbs;
    QTest::newRow("403 rpc exhausted") << 403 << QByteArray(R"({"error":{"code":403,"status":"RESOURCE_EXHAUSTED"}})") << false
                                       << int(GeoError::QuotaExceeded) << 0.0 << lbs;
    QTest::newRow("429") << 429 << QByteArray("slow down") << false << int(GeoError::RateLimited) << 0.0 << lbs;
    QTest::newRow("500") << 500 << QByteArray() << false << int(GeoError::ServerError) << 0.0 << lbs;
    QTest::newRow("503 html") << 503 << QByteArray("<html>down</html>") << false << int(GeoError::ServerError) << 0.0 << lbs;
    QTest::newRow("200 malformed") << 200 << QByteArray(R"({"location":{"lat":1)") << false << int(GeoError::Malformed) << 0.0 << lbs;
    QTest::newRow("200 empty") << 200 << QByteArray() << false << int(GeoError::Malformed) << 0.0 << lbs;
    QTest::newRow("200 no accuracy") << 200 << QByteArray(R"({"location":{"lat":1,"lng":2}})") << false << int(GeoError::Malformed) << 0.0 << lbs;
    QTest::newRow("200 lat string") << 200 << QByteArray(R"({"location":{"lat":"1","lng":2},"accuracy":5})") << false
                                    << int(GeoError::Malformed) << 0.0 << lbs;
    QTest::newRow("200 out of range") << 200 << QByteArray(R"({"location":{"lat":91,"lng":2},"accuracy":5})") << false
                                      << int(GeoError::Malformed) << 0.0 << lbs;
    QTest::newRow("200 array") << 200 << QByteArray("[1,2]") << false << int(GeoError::Malformed) << 0.0 << lbs;
}

void TestGeo::replyClassification() {
    QFETCH(int, status);
    QFETCH(QByteArray, body);
    QFETCH(bool, wifi);
    QFETCH(int, error);
    QFETCH(double, lat);
    QFETCH(int, source);
    const GeoResult r = GoogleShapeProvider::parseReply(status, body, wifi);
    QCOMPARE(int(r.error), error);
    QCOMPARE(r.httpStatus, status);
    if (r.ok()) {
        QCOMPARE(r.latitude, lat);
        QCOMPARE(int(r.source), source);
        QVERIFY(r.accuracy > 0);
    } else {
        QVERIFY2(r.message.contains(QString::number(status)) || r.error == GeoError::Malformed, qPrintable(r.message));
        QVERIFY(!r.message.isEmpty());
    }
}

void TestGeo::providerAgainstServer_data() {
    QTest::addColumn<int>("mode");
    QTest::addColumn<int>("error");
    QTest::newRow("valid") << int(test::FakeGeoServer::Valid) << int(GeoError::None);
    QTest::newRow("404 not found") << int(test::FakeGeoServer::NotFound) << int(GeoError::NotFound);
    QTest::newRow("403 quota") << int(test::FakeGeoServer::Quota) << int(GeoError::QuotaExceeded);
    QTest::newRow("400 bad key") << int(test::FakeGeoServer::KeyInvalid) << int(GeoError::KeyInvalid);
    QTest::newRow("429") << int(test::FakeGeoServer::RateLimited) << int(GeoError::RateLimited);
    QTest::newRow("503") << int(test::FakeGeoServer::ServerError) << int(GeoError::ServerError);
    QTest::newRow("slow -> timeout") << int(test::FakeGeoServer::Slow) << int(GeoError::Timeout);
    QTest::newRow("malformed JSON") << int(test::FakeGeoServer::Malformed) << int(GeoError::Malformed);
    QTest::newRow("2 MiB answer") << int(test::FakeGeoServer::Huge) << int(GeoError::Malformed);
}

void TestGeo::providerAgainstServer() {
    QFETCH(int, mode);
    QFETCH(int, error);
    test::FakeGeoServer server;
    QVERIFY(server.listen());
    server.setMode(test::FakeGeoServer::Mode(mode));
    server.setSlowDelayMs(3000);
    QNetworkAccessManager nam;
    WebProviderConfig c;
    c.url = server.url();
    c.apiKey = kKey;
    c.timeoutMs = 400;
    GoogleShapeProvider p(&nam, c);
    GeoQuery q;
    q.wifi = {{QStringLiteral("14:75:90:5b:d3:0e"), -37}, {QStringLiteral("00:1e:10:bb:f7:63"), -93}};
    q.cells = {cell(3873)};
    QVERIFY(p.canResolve(q, nullptr));
    std::optional<GeoResult> got;
    QElapsedTimer t;
    t.start();
    p.resolve(q, [&got](const GeoResult &r) { got = r; });
    QTRY_VERIFY_WITH_TIMEOUT(got.has_value(), 5000);
    QCOMPARE(int(got->error), error);
    QCOMPARE(got->provider, QStringLiteral("web"));
    QCOMPARE(server.requestCount(), 1);
    const test::FakeGeoServer::Request &r = server.requests().first();
    QCOMPARE(r.key, kKey);
    QCOMPARE(r.path, QStringLiteral("/v1/geolocate"));
    QCOMPARE(r.body.value(QStringLiteral("wifiAccessPoints")).toArray().size(), 2);
    QCOMPARE(r.body.value(QStringLiteral("cellTowers")).toArray().size(), 1);
    QVERIFY2(!got->message.contains(kKey), qPrintable(got->message));
    if (got->ok()) {
        QCOMPARE(got->latitude, 22.676746);
        QCOMPARE(got->longitude, 113.940940);
        QCOMPARE(got->accuracy, 35.0);
        QCOMPARE(got->source, proto::PositionSource::Wifi);
    }
    if (error == int(GeoError::Timeout))
        QVERIFY2(t.elapsed() < 2500, "the timeout must cut the slow answer short");
    if (error == int(GeoError::KeyInvalid))
        QVERIFY2(got->message.contains(QStringLiteral("***")), qPrintable(got->message));   // the echoed key, redacted
    // nothing configured: no request at all
    WebProviderConfig g;
    g.url = GoogleShapeProvider::googleUrl();
    GoogleShapeProvider google(&nam, g);
    QString why;
    QVERIFY(!google.canResolve(q, &why));
    QVERIFY(why.contains(QStringLiteral("API key")));
}

void TestGeo::cacheHitsCounted() {
    Fixture f;
    QString err;
    QVERIFY2(f.open(&err), qPrintable(err));
    QSignalSpy resolved(&f.resolver, &GeoResolver::resolved);
    GeoQuery q1, q2;
    q1.wifi = {{QStringLiteral("14:75:90:5b:d3:0e"), -37}, {QStringLiteral("00:1e:10:bb:f7:63"), -93}};
    q1.cells = {cell(3873), cell(3871)};
    q2.wifi = {{QStringLiteral("00:1e:10:bb:f7:63"), -80}, {QStringLiteral("14:75:90:5b:d3:0e"), -40}};
    q2.cells = {cell(3871, 10342, 460, 0, 9), cell(3873, 10342, 460, 0, 7)};
    f.resolver.submit(request(q1, 1, 0));
    f.resolver.submit(request(q2, 1, 10));
    f.resolver.submit(request(q1, 2, 20));
    QTRY_COMPARE_WITH_TIMEOUT(resolved.count(), 3, 5000);
    QCOMPARE(f.server.requestCount(), 1);
    QCOMPARE(f.resolver.stats().cacheHits, 2);
    QCOMPARE(f.resolver.stats().requestsToday, 1);
    QCOMPARE(f.resolver.stats().resolved, 3);
    QCOMPARE(f.resolver.stats().pending, 0);
    int fromCache = 0;
    for (int i = 0; i < 3; ++i)
        fromCache += resultAt(resolved, i).fromCache;
    QCOMPARE(fromCache, 2);
    // different inputs: asked again
    f.resolver.submit(request(cellQuery(4211), 1, 30));
    QTRY_COMPARE_WITH_TIMEOUT(resolved.count(), 4, 5000);
    QCOMPARE(f.server.requestCount(), 2);
    // TTL 0: no cache
    GeoConfig c = f.config;
    c.cacheTtlSec = 0;
    f.resolver.setConfig(c);
    QTest::qWait(5);
    f.resolver.submit(request(cellQuery(4211), 1, 40));
    QTRY_COMPARE_WITH_TIMEOUT(resolved.count(), 5, 5000);
    QCOMPARE(f.server.requestCount(), 3);
}

void TestGeo::budgetStopsRequests() {
    Fixture f;
    f.config.dailyBudget = 2;
    QString err;
    QVERIFY2(f.open(&err), qPrintable(err));
    QSignalSpy resolved(&f.resolver, &GeoResolver::resolved);
    QSignalSpy failed(&f.resolver, &GeoResolver::failed);
    for (int i = 0; i < 4; ++i)
        f.resolver.submit(request(cellQuery(100 + i), 1, i));
    QTRY_COMPARE_WITH_TIMEOUT(resolved.count() + failed.count(), 4, 5000);
    QCOMPARE(resolved.count(), 2);
    QCOMPARE(failed.count(), 2);
    QCOMPARE(f.server.requestCount(), 2);
    QCOMPARE(f.resolver.stats().requestsToday, 2);
    for (int i = 0; i < failed.count(); ++i) {
        QCOMPARE(resultAt(failed, i).error, GeoError::BudgetExhausted);
        const GeoRequest r = requestAt(failed, i);
        QVERIFY(!r.parked);
        QVERIFY2(r.nextAttempt >= QDateTime(QDate::currentDate().addDays(1), QTime(0, 0)).toUTC(), "retried tomorrow");
    }
    QCOMPARE(f.resolver.stats().pending, 2);
    QVERIFY(f.resolver.stats().lastError.contains(QStringLiteral("budget")));
    // The count survives a restart.
    f.resolver.shutdown();
    GeoResolver again;
    QVERIFY2(again.open(f.db(), f.config, &err), qPrintable(err));
    QCOMPARE(again.stats().requestsToday, 2);
    QCOMPARE(again.stats().pending, 2);
    // A larger budget lets them through at once.
    QSignalSpy resolved2(&again, &GeoResolver::resolved);
    GeoConfig c = f.config;
    c.dailyBudget = 10;
    again.setConfig(c);
    QTRY_COMPARE_WITH_TIMEOUT(resolved2.count(), 2, 5000);
    QCOMPARE(f.server.requestCount(), 4);
    QCOMPARE(again.stats().pending, 0);
}

void TestGeo::rateLimitSpacesRequests() {
    Fixture f;
    f.config.minIntervalMs = 250;
    QString err;
    QVERIFY2(f.open(&err), qPrintable(err));
    QSignalSpy resolved(&f.resolver, &GeoResolver::resolved);
    QElapsedTimer t;
    t.start();
    for (int i = 0; i < 3; ++i)
        f.resolver.submit(request(cellQuery(200 + i), 1, i));
    QTRY_COMPARE_WITH_TIMEOUT(resolved.count(), 3, 5000);
    QVERIFY2(t.elapsed() >= 500, qPrintable(QString::number(t.elapsed())));
    QCOMPARE(f.server.requestCount(), 3);
}

void TestGeo::oneRequestAtATime() {
    Fixture f;
    QString err;
    QVERIFY2(f.open(&err), qPrintable(err));
    f.server.setMode(test::FakeGeoServer::Slow);
    f.server.setSlowDelayMs(300);
    QSignalSpy resolved(&f.resolver, &GeoResolver::resolved);
    f.resolver.submit(request(cellQuery(250), 1, 0));
    QTRY_COMPARE_WITH_TIMEOUT(f.server.requestCount(), 1, 5000);
    // records arriving while a request is in flight wait for it
    f.resolver.submit(request(cellQuery(251), 1, 1));
    f.resolver.submit(request(cellQuery(252), 1, 2));
    QTest::qWait(100);
    QCOMPARE(f.server.requestCount(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(resolved.count(), 3, 5000);
    QCOMPARE(f.server.requestCount(), 3);
    QCOMPARE(f.resolver.stats().requestsToday, 3);
}

void TestGeo::retryBackoffThenSuccess() {
    Fixture f;
    QString err;
    QVERIFY2(f.open(&err), qPrintable(err));
    f.server.setScript({test::FakeGeoServer::ServerError, test::FakeGeoServer::RateLimited, test::FakeGeoServer::Malformed});
    QSignalSpy resolved(&f.resolver, &GeoResolver::resolved);
    QSignalSpy failed(&f.resolver, &GeoResolver::failed);
    QElapsedTimer t;
    t.start();
    f.resolver.submit(request(cellQuery(300)));
    QTRY_COMPARE_WITH_TIMEOUT(resolved.count(), 1, 8000);
    QCOMPARE(failed.count(), 3);
    QCOMPARE(resultAt(failed, 0).error, GeoError::ServerError);
    QCOMPARE(resultAt(failed, 1).error, GeoError::RateLimited);
    QCOMPARE(resultAt(failed, 2).error, GeoError::Malformed);
    for (int i = 0; i < 3; ++i) {
        const GeoRequest r = requestAt(failed, i);
        QCOMPARE(r.attempts, i + 1);
        QVERIFY(!r.parked);
        QCOMPARE(r.lastError, resultAt(failed, i).error);
    }
    // backoff 100 + 200 + 400 ms
    QVERIFY2(t.elapsed() >= 700, qPrintable(QString::number(t.elapsed())));
    QCOMPARE(f.server.requestCount(), 4);
    QCOMPARE(requestAt(resolved, 0).attempts, 3);
    QCOMPARE(f.resolver.stats().pending, 0);
    QCOMPARE(f.resolver.stats().failures, 3);
    // A record that keeps failing gives up after maxAttempts and waits for the user.
    GeoConfig c = f.config;
    c.maxAttempts = 2;
    f.resolver.setConfig(c);
    f.server.setMode(test::FakeGeoServer::ServerError);
    f.resolver.submit(request(cellQuery(301)));
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 5, 5000);
    QVERIFY(requestAt(failed, 4).parked);
    QCOMPARE(f.resolver.stats().parked, 1);
}

void TestGeo::pendingSurvivesRestart() {
    Fixture f;
    f.config.timeoutMs = 500;
    f.config.retryBaseMs = 600;
    QString err;
    QVERIFY2(f.open(&err), qPrintable(err));
    f.server.setMode(test::FakeGeoServer::Slow);
    f.server.setSlowDelayMs(3000);
    QSignalSpy failed(&f.resolver, &GeoResolver::failed);
    f.resolver.submit(request(cellQuery(400), 7, 0));
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 5000);
    QCOMPARE(resultAt(failed, 0).error, GeoError::Timeout);
    const qint64 id = requestAt(failed, 0).pendingId;
    QVERIFY(id > 0);
    f.resolver.shutdown();   // "restart"
    f.server.setMode(test::FakeGeoServer::Valid);
    GeoResolver again;
    QSignalSpy resolved(&again, &GeoResolver::resolved);
    QVERIFY2(again.open(f.db(), f.config, &err), qPrintable(err));
    QCOMPARE(again.stats().pending, 1);
    const QList<GeoRequest> pending = again.pendingRecords();
    QCOMPARE(pending.size(), 1);
    QCOMPARE(pending.first().deviceId, 7);
    QCOMPARE(pending.first().lastError, GeoError::Timeout);
    QCOMPARE(pending.first().query.cells.size(), 1);
    QCOMPARE(pending.first().query.cells.first().cellId, 400);
    QTRY_COMPARE_WITH_TIMEOUT(resolved.count(), 1, 5000);
    QCOMPARE(requestAt(resolved, 0).pendingId, id);
    QCOMPARE(requestAt(resolved, 0).deviceId, 7);
    QCOMPARE(requestAt(resolved, 0).fixTime, request(cellQuery(400), 7, 0).fixTime);
    QCOMPARE(again.stats().pending, 0);
}

void TestGeo::notFoundWaitsForResolvePending() {
    Fixture f;
    QString err;
    QVERIFY2(f.open(&err), qPrintable(err));
    f.server.setMode(test::FakeGeoServer::NotFound);
    QSignalSpy resolved(&f.resolver, &GeoResolver::resolved);
    QSignalSpy failed(&f.resolver, &GeoResolver::failed);
    f.resolver.submit(request(cellQuery(500), 1, 0));
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 5000);
    QVERIFY(requestAt(failed, 0).parked);
    QCOMPARE(resultAt(failed, 0).error, GeoError::NotFound);
    // the same surroundings again: "not found" from the cache, no request
    f.resolver.submit(request(cellQuery(500), 1, 30));
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 2, 5000);
    QVERIFY(resultAt(failed, 1).fromCache);
    QCOMPARE(f.server.requestCount(), 1);
    QCOMPARE(f.resolver.stats().parked, 2);
    QTest::qWait(300);   // parked: no automatic retry
    QCOMPARE(f.server.requestCount(), 1);
    f.server.setMode(test::FakeGeoServer::Valid);
    f.resolver.resolvePending();
    QTRY_COMPARE_WITH_TIMEOUT(resolved.count(), 2, 5000);
    QCOMPARE(f.server.requestCount(), 2);   // the second one from the cache
    QCOMPARE(f.resolver.stats().pending, 0);
}

void TestGeo::providersTriedInOrder() {
    Fixture f;
    QString err;
    QVERIFY2(f.open(&err), qPrintable(err));
    {
        GeoStore s;
        QVERIFY2(s.open(f.db(), &err), qPrintable(err));
        QVERIFY(s.beginBatch());
        CellRow r;
        r.radio = QStringLiteral("GSM");
        r.mcc = 460;
        r.lac = 10342;
        r.cid = 600;
        r.latitude = 10;
        r.longitude = 20;
        r.range = 500;
        QVERIFY(s.putCell(r));
        QVERIFY(s.commitBatch());
    }
    f.resolver.offlineDataChanged();
    GeoConfig c = f.config;
    c.providers = {QStringLiteral("web"), QStringLiteral("offline")};
    f.resolver.setConfig(c);
    f.server.setMode(test::FakeGeoServer::ServerError);
    QSignalSpy resolved(&f.resolver, &GeoResolver::resolved);
    f.resolver.submit(request(cellQuery(600)));
    QTRY_COMPARE_WITH_TIMEOUT(resolved.count(), 1, 5000);
    QCOMPARE(f.server.requestCount(), 1);              // web first, failed
    QCOMPARE(resultAt(resolved, 0).provider, QStringLiteral("offline"));   // then the offline database
    QCOMPARE(resultAt(resolved, 0).latitude, 10.0);
    QCOMPARE(f.resolver.stats().offlineHits, 1);
    // offline first: no network request at all
    c.providers = {QStringLiteral("offline"), QStringLiteral("web")};
    f.resolver.setConfig(c);
    f.resolver.submit(request(cellQuery(600), 2));
    QTRY_COMPARE_WITH_TIMEOUT(resolved.count(), 2, 5000);
    QCOMPARE(f.server.requestCount(), 1);
    // nothing enabled: the record waits
    c.providers = {};
    f.resolver.setConfig(c);
    QSignalSpy failed(&f.resolver, &GeoResolver::failed);
    f.resolver.submit(request(cellQuery(601), 3));
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 5000);
    QCOMPARE(resultAt(failed, 0).error, GeoError::NotConfigured);
    QVERIFY(requestAt(failed, 0).parked);
    // enabling a provider releases it
    f.server.setMode(test::FakeGeoServer::Valid);
    c.providers = {QStringLiteral("web")};
    f.resolver.setConfig(c);
    QTRY_COMPARE_WITH_TIMEOUT(resolved.count(), 3, 5000);
}

void TestGeo::offlineImportAndLookup() {
    QTemporaryDir dir;
    const QString csv = dir.filePath(QStringLiteral("cells.csv"));
    QVERIFY(writeFile(csv, "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal\n"
                           "GSM,460,0,10342,3873,,113.940,22.670,1000,12,1,1459813000,1459813000,0\n"
                           "GSM,460,0,10342,3871,,113.950,22.680,500,5,1,1459813000,1459813000,0\r\n"
                           "UMTS,460,0,10342,3871,,113.900,22.600,5000,1,1,1459813000,1459813000,0\n"
                           "LTE,262,2,801,26564123,,13.40,52.52,2000,40,1,1459813000,1459813000,-90\n"));
    GeoStore store;
    QString err;
    QVERIFY2(store.open(dir.filePath(QStringLiteral("trackerdesk.db")), &err), qPrintable(err));
    QList<qint64> progress;
    const ImportReport rep = importGeoFile(store, csv, nullptr, [&](qint64 done, qint64, qint64) { progress << done; });
    QVERIFY2(rep.ok(), qPrintable(rep.summary()));
    QCOMPARE(rep.format, QStringLiteral("OpenCelliD cells"));
    QCOMPARE(rep.lines, 4);
    QCOMPARE(rep.cells, 4);
    QCOMPARE(rep.bad, 0);
    QVERIFY(!progress.isEmpty());
    QCOMPARE(progress.last(), QFileInfo(csv).size());
    QCOMPARE(store.cellCount(), 4);
    // Re-importing replaces, does not duplicate.
    QVERIFY(importGeoFile(store, csv).ok());
    QCOMPARE(store.cellCount(), 4);

    OfflineCellProvider p(&store);
    GeoQuery q;
    q.cells = {cell(3873), cell(3871), cell(9999)};
    std::optional<GeoResult> got;
    p.resolve(q, [&got](const GeoResult &r) { got = r; });
    QVERIFY(got.has_value());
    QVERIFY2(got->ok(), qPrintable(got->message));
    QCOMPARE(got->source, proto::PositionSource::Lbs);
    // weights 1/1000 and 1/500 (the GSM row of 3871 has more samples than the UMTS one)
    const double lat = (22.670 / 1000 + 22.680 / 500) / (1.0 / 1000 + 1.0 / 500);
    const double lon = (113.940 / 1000 + 113.950 / 500) / (1.0 / 1000 + 1.0 / 500);
    QVERIFY2(std::fabs(got->latitude - lat) < 1e-4, qPrintable(QString::number(got->latitude, 'f', 6)));
    QVERIFY2(std::fabs(got->longitude - lon) < 1e-4, qPrintable(QString::number(got->longitude, 'f', 6)));
    const double spread = std::max(distanceMetres(got->latitude, got->longitude, 22.670, 113.940),
                                   distanceMetres(got->latitude, got->longitude, 22.680, 113.950));
    QVERIFY(got->accuracy >= spread - 1);
    QVERIFY(got->accuracy >= 500);
    // an LTE cell with a 28-bit id
    got.reset();
    GeoQuery lte;
    lte.cells = {cell(26564123, 801, 262, 2)};
    p.resolve(lte, [&got](const GeoResult &r) { got = r; });
    QVERIFY(got && got->ok());
    QCOMPARE(got->latitude, 52.52);
    QCOMPARE(got->accuracy, 2000.0);
    // unknown cells: not found
    got.reset();
    p.resolve(cellQuery(1), [&got](const GeoResult &r) { got = r; });
    QVERIFY(got.has_value());
    QCOMPARE(got->error, GeoError::NotFound);
}

void TestGeo::offlineImportBadLinesAndCancel() {
    QTemporaryDir dir;
    const QString csv = dir.filePath(QStringLiteral("bad.csv"));
    QByteArray data =
        "GSM,460,0,10342,3873,,113.940,22.670,1000,12,1,1459813000,1459813000,0\n"   // headerless file
        "GSM,460,0,10342\n"                                                            // too few fields
        "WIMAX,460,0,1,2,,1,2,3,4,1,1,1,0\n"                                           // unknown radio
        "GSM,1000,0,1,2,,1,2,3,4,1,1,1,0\n"                                            // MCC
        "GSM,460,0,1,2,,181.5,2,3,4,1,1,1,0\n"                                         // longitude
        "GSM,460,0,1,2,,1,-90.5,3,4,1,1,1,0\n"                                         // latitude
        "GSM,460,0,1,2,,0,0,3,4,1,1,1,0\n"                                             // 0,0
        "GSM,460,0,1,x2,,1,2,3,4,1,1,1,0\n"                                            // cell id
        "GSM,460,0,1,2,,1,2,3,\"4,1,1,1,0\n"                                           // quote
        "\n"
        "LTE,460,1,5,6,,1.5,2.5,,,1,1,1,0\n";                                          // empty range/samples: fine
    data += "GSM,460,0,1,2,," + QByteArray(70000, '9') + ",2,3,4,1,1,1,0\n";          // overlong
    QVERIFY(writeFile(csv, data));
    GeoStore store;
    QString err;
    QVERIFY2(store.open(dir.filePath(QStringLiteral("trackerdesk.db")), &err), qPrintable(err));
    const ImportReport rep = importGeoFile(store, csv);
    QVERIFY2(rep.ok(), qPrintable(rep.summary()));
    QCOMPARE(rep.cells, 2);
    QCOMPARE(rep.bad, 9);
    QCOMPARE(rep.lines, 11);
    QVERIFY(rep.badSamples.first().startsWith(QStringLiteral("line 2:")));
    QVERIFY(rep.badSamples.join(QLatin1Char('|')).contains(QStringLiteral("unknown radio 'WIMAX'")));
    QVERIFY(rep.badSamples.join(QLatin1Char('|')).contains(QStringLiteral("longitude")));
    QVERIFY(rep.summary().contains(QStringLiteral("9 bad lines")));
    QCOMPARE(store.cellCount(), 2);

    // not a known format / missing file: a clear error, nothing stored
    const QString other = dir.filePath(QStringLiteral("other.csv"));
    QVERIFY(writeFile(other, "name,age\nbob,3\n"));
    const ImportReport unknown = importGeoFile(store, other);
    QVERIFY(unknown.error.contains(QStringLiteral("unknown format")));
    QVERIFY(importGeoFile(store, dir.filePath(QStringLiteral("missing.csv"))).error.contains(QStringLiteral("cannot open")));

    // cancel: stops, the committed batches stay, the open one is rolled back
    const QString big = dir.filePath(QStringLiteral("big.csv"));
    QByteArray rows;
    for (int i = 0; i < 3000; ++i)
        rows += "GSM,262,1,77," + QByteArray::number(i) + ",,13.4,52.5,1000,3,1,1,1,0\n";
    QVERIFY(writeFile(big, rows));
    std::atomic<bool> cancel{false};
    ImportOptions o;
    o.batchRows = 1000;
    const qint64 before = store.cellCount();
    const ImportReport c = importGeoFile(store, big, &cancel, [&](qint64, qint64, qint64 lines) {
        if (lines >= 1000)
            cancel.store(true);
    }, o);
    QVERIFY(c.cancelled);
    QVERIFY(!c.ok());
    QCOMPARE(c.cells, 1000);
    QCOMPARE(store.cellCount() - before, 1000);
    QVERIFY(c.summary().contains(QStringLiteral("CANCELLED")));
}

void TestGeo::offlineWifiSkippedUnlessImported() {
    QTemporaryDir dir;
    GeoStore store;
    QString err;
    QVERIFY2(store.open(dir.filePath(QStringLiteral("trackerdesk.db")), &err), qPrintable(err));
    const QString cells = dir.filePath(QStringLiteral("cells.csv"));
    QVERIFY(writeFile(cells, "GSM,460,0,10342,3873,,113.940,22.670,1000,12,1,1,1,0\n"));
    QVERIFY(importGeoFile(store, cells).ok());
    OfflineCellProvider p(&store);
    GeoQuery wifiOnly;
    wifiOnly.wifi = {{QStringLiteral("14:75:90:5b:d3:0e"), -40}, {QStringLiteral("00:1e:10:bb:f7:63"), -80}};
    QString why;
    QVERIFY(!p.canResolve(wifiOnly, &why));
    QVERIFY2(why.contains(QStringLiteral("Wi-Fi")), qPrintable(why));
    // Wi-Fi + cells without Wi-Fi data: the cells are used, source lbs
    GeoQuery both = wifiOnly;
    both.cells = {cell(3873)};
    std::optional<GeoResult> got;
    p.resolve(both, [&got](const GeoResult &r) { got = r; });
    QVERIFY(got && got->ok());
    QCOMPARE(got->source, proto::PositionSource::Lbs);

    const QString wifi = dir.filePath(QStringLiteral("wifi.csv"));
    QVERIFY(writeFile(wifi, "bssid,lat,lon,range\n14:75:90:5B:D3:0E,22.6000,113.9000,40\n00-1e-10-bb-f7-63,22.6010,113.9010,60\n"
                            "nonsense,1,2,3\n"));
    const ImportReport rep = importGeoFile(store, wifi);
    QVERIFY2(rep.ok(), qPrintable(rep.summary()));
    QCOMPARE(rep.format, QStringLiteral("Wi-Fi CSV"));
    QCOMPARE(rep.wifi, 2);
    QCOMPARE(rep.bad, 1);
    p.refreshCounts();
    QVERIFY(p.canResolve(wifiOnly, nullptr));
    got.reset();
    p.resolve(both, [&got](const GeoResult &r) { got = r; });
    QVERIFY(got && got->ok());
    QCOMPARE(got->source, proto::PositionSource::Wifi);
    // -40 dBm weighs 100x more than -80 dBm: next to the first access point
    QVERIFY(distanceMetres(got->latitude, got->longitude, 22.6, 113.9) < distanceMetres(got->latitude, got->longitude, 22.601, 113.901));
    QVERIFY(got->accuracy >= 40 && got->accuracy < 300);
}

void TestGeo::wigleImport() {
    QTemporaryDir dir;
    GeoStore store;
    QString err;
    QVERIFY2(store.open(dir.filePath(QStringLiteral("trackerdesk.db")), &err), qPrintable(err));
    const QString f = dir.filePath(QStringLiteral("wigle.csv"));
    QVERIFY(writeFile(f, "WigleWifi-1.4,appRelease=2.26,model=Pixel,release=11,device=x,display=y,board=z,brand=g\n"
                         "MAC,SSID,AuthMode,FirstSeen,Channel,RSSI,CurrentLatitude,CurrentLongitude,AltitudeMeters,AccuracyMeters,Type\n"
                         "14:75:90:5b:d3:0e,\"Cafe, free\",[ESS],2024-01-01 10:00:00,6,-50,48.0,11.0,500,10,WIFI\n"
                         "14:75:90:5b:d3:0e,\"Cafe, free\",[ESS],2024-01-01 10:01:00,6,-60,48.0002,11.0002,500,20,WIFI\n"
                         "aa:bb:cc:00:11:22,Headset,Misc,2024-01-01 10:00:00,0,-70,48.0,11.0,500,5,BT\n"
                         "260_2_1234,Vodafone,GSM,2024-01-01 10:00:00,0,-70,48.0,11.0,500,5,GSM\n"));
    const ImportReport rep = importGeoFile(store, f);
    QVERIFY2(rep.ok(), qPrintable(rep.summary()));
    QCOMPARE(rep.format, QStringLiteral("WiGLE Wi-Fi"));
    QCOMPARE(rep.wifi, 2);
    QCOMPARE(rep.skipped, 2);
    QCOMPARE(rep.bad, 0);
    QCOMPARE(store.wifiCount(), 1);   // two sightings, one access point
    const auto rows = store.findWifi({{QStringLiteral("14:75:90:5B:D3:0E"), -50}});
    QVERIFY(rows && rows->size() == 1);
    QCOMPARE(rows->first().samples, 2);
    QVERIFY(std::fabs(rows->first().latitude - 48.0001) < 1e-9);
    QCOMPARE(rows->first().range, 10);
}

void TestGeo::gzipImport() {
    if (!importSupportsGzip())
        QSKIP("built without zlib");
    QTemporaryDir dir;
    GeoStore store;
    QString err;
    QVERIFY2(store.open(dir.filePath(QStringLiteral("trackerdesk.db")), &err), qPrintable(err));
    QByteArray csv = "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal\n";
    for (int i = 0; i < 20000; ++i)
        csv += "GSM,262,1,77," + QByteArray::number(i) + ",,13.4,52.5,1000,3,1,1,1,0\n";
    const QByteArray gz = gzip(csv);
    QVERIFY(gz.size() < csv.size() / 4);
    const QString f = dir.filePath(QStringLiteral("262.csv.gz"));
    QVERIFY(writeFile(f, gz));
    const ImportReport rep = importGeoFile(store, f);
    QVERIFY2(rep.ok(), qPrintable(rep.summary()));
    QCOMPARE(rep.cells, 20000);
    QCOMPARE(rep.bytesRead, gz.size());
    QCOMPARE(store.cellCount(), 20000);
    // a truncated download: the complete lines before are kept, the error says so
    const QString cut = dir.filePath(QStringLiteral("cut.csv.gz"));
    QVERIFY(writeFile(cut, gz.left(gz.size() / 2)));
    const ImportReport bad = importGeoFile(store, cut);
    QVERIFY2(bad.error.contains(QStringLiteral("truncated")), qPrintable(bad.summary()));
}

void TestGeo::keyNeverLoggedNorInSettings() {
    {
        QMutexLocker lock(&g_logMutex);
        g_log.clear();
    }
    QLoggingCategory::setFilterRules(QStringLiteral("trackerdesk.geo.debug=true"));
    g_previous = qInstallMessageHandler(captureMessages);
    QStringList signalled;
    {
        Fixture f;
        QString err;
        QVERIFY2(f.open(&err), qPrintable(err));
        f.config.timeoutMs = 400;
        f.config.maxAttempts = 1;
        f.resolver.setConfig(f.config);
        connect(&f.resolver, &GeoResolver::logMessage, this, [&signalled](server::LogLevel, const QString &t) { signalled << t; });
        QSignalSpy done(&f.resolver, &GeoResolver::failed);
        QSignalSpy ok(&f.resolver, &GeoResolver::resolved);
        f.server.setScript({test::FakeGeoServer::KeyInvalid, test::FakeGeoServer::Quota, test::FakeGeoServer::Malformed,
                            test::FakeGeoServer::ServerError, test::FakeGeoServer::Slow, test::FakeGeoServer::Valid});
        for (int i = 0; i < 6; ++i)
            f.resolver.submit(request(cellQuery(700 + i), 1, i));
        QTRY_COMPARE_WITH_TIMEOUT(done.count() + ok.count(), 6, 8000);
        QCOMPARE(ok.count(), 1);
        for (const test::FakeGeoServer::Request &r : f.server.requests())
            QCOMPARE(r.key, kKey);   // the key was really used
        bool redacted = false;
        for (int i = 0; i < done.count(); ++i) {
            QVERIFY2(!resultAt(done, i).message.contains(kKey), qPrintable(resultAt(done, i).message));
            redacted = redacted || resultAt(done, i).message.contains(QStringLiteral("***"));
        }
        QVERIFY2(redacted, "the answer echoing the request line was redacted");
        QVERIFY(!f.resolver.stats().lastError.contains(kKey));
    }
    qInstallMessageHandler(g_previous);
    QLoggingCategory::setFilterRules(QString());
    QStringList captured;
    {
        QMutexLocker lock(&g_logMutex);
        captured = g_log;
    }
    QVERIFY2(captured.size() >= 6, "debug output of trackerdesk.geo was captured");
    QVERIFY(!signalled.isEmpty());
    for (const QString &line : captured + signalled)
        QVERIFY2(!line.contains(kKey) && !line.contains(QString::fromLatin1(QUrl::toPercentEncoding(kKey))), qPrintable(line));
    QVERIFY(captured.join(QLatin1Char('\n')).contains(QStringLiteral("key=***")));   // the URL is logged, redacted

    // The settings file never holds the key; the secret store does.
    QTemporaryDir dir;
    AppSettings settings(dir.filePath(QStringLiteral("settings.ini")));
    SecretStore secrets(dir.path(), SecretStore::Backend::File);
    GeoConfig c;
    c.url = QUrl(QStringLiteral("https://beacon.example/v1/geolocate"));
    c.urlOrigin = QStringLiteral("settings");
    c.dailyBudget = 77;
    QString err;
    QVERIFY2(saveGeoConfig(settings, secrets, c, kKey, &err), qPrintable(err));
    QFile ini(dir.filePath(QStringLiteral("settings.ini")));
    QVERIFY(ini.open(QIODevice::ReadOnly));
    const QByteArray iniText = ini.readAll();
    QVERIFY(iniText.contains("dailyBudget=77"));
    QVERIFY(iniText.contains("beacon.example"));
    QVERIFY2(!iniText.contains(kKey.toUtf8()), iniText.constData());
    QStringList problems;
    const GeoConfig back = loadGeoConfig(settings, dir.path(), secrets, &problems);
    QCOMPARE(back.apiKey, kKey);
    QCOMPARE(back.dailyBudget, 77);
    QCOMPARE(back.url, c.url);
    QVERIFY(back.keyOrigin.contains(QStringLiteral("secrets.json")));
    QVERIFY(problems.isEmpty());
    // A key typed into the settings file by hand is moved out of it.
    SecretStore other(dir.filePath(QStringLiteral("other")), SecretStore::Backend::File);
    settings.raw().setValue(QStringLiteral("geo/apiKey"), QStringLiteral("HAND-TYPED-KEY-1"));
    settings.raw().sync();
    problems.clear();
    const GeoConfig moved = loadGeoConfig(settings, dir.filePath(QStringLiteral("other")), other, &problems);
    QCOMPARE(moved.apiKey, QStringLiteral("HAND-TYPED-KEY-1"));
    QVERIFY(problems.join(QLatin1Char(' ')).contains(QStringLiteral("moved")));
    QVERIFY(!problems.join(QLatin1Char(' ')).contains(QStringLiteral("HAND-TYPED")));
    ini.close();
    QVERIFY(ini.open(QIODevice::ReadOnly));
    QVERIFY(!ini.readAll().contains("HAND-TYPED-KEY-1"));
    // removing the key
    QVERIFY(saveGeoConfig(settings, secrets, c, QString(), &err));
    QVERIFY(loadGeoConfig(settings, dir.path(), secrets).apiKey.isEmpty());
}

void TestGeo::secretFileIsPrivate() {
    QTemporaryDir dir;
    SecretStore s(dir.filePath(QStringLiteral("data")), SecretStore::Backend::File);
    QString err;
    QVERIFY2(s.write(QStringLiteral("a"), QStringLiteral("one"), &err), qPrintable(err));
    QVERIFY(s.write(QStringLiteral("b"), QStringLiteral("two"), &err));
    QCOMPARE(*s.read(QStringLiteral("a")), QStringLiteral("one"));
    QCOMPARE(*s.read(QStringLiteral("b")), QStringLiteral("two"));
    QCOMPARE(*s.read(QStringLiteral("c")), QString());
    const QFileDevice::Permissions p = QFile::permissions(s.filePath());
    QVERIFY(p & QFileDevice::ReadOwner);
    QVERIFY2(!(p & (QFileDevice::ReadGroup | QFileDevice::ReadOther | QFileDevice::WriteGroup | QFileDevice::WriteOther)),
             "secrets.json must be readable by its owner only");
    // loosened by someone: tightened on the next read
    QFile::setPermissions(s.filePath(), p | QFileDevice::ReadOther | QFileDevice::ReadGroup);
    QVERIFY(s.read(QStringLiteral("a")).has_value());
    QVERIFY(!(QFile::permissions(s.filePath()) & (QFileDevice::ReadGroup | QFileDevice::ReadOther)));
    QVERIFY(s.remove(QStringLiteral("a"), &err));
    QCOMPARE(*s.read(QStringLiteral("a")), QString());
    QCOMPARE(*s.read(QStringLiteral("b")), QStringLiteral("two"));
    // a damaged file: a clear error, no crash
    QVERIFY(writeFile(s.filePath(), "{not json"));
    err.clear();
    QVERIFY(!s.read(QStringLiteral("b"), &err).has_value());
    QVERIFY(err.contains(QStringLiteral("damaged")));
    QVERIFY(s.describe().contains(QStringLiteral("secrets.json")));
}

void TestGeo::dotEnvHonoured() {
    QTemporaryDir dir;
    QVERIFY(writeFile(dir.filePath(QStringLiteral(".env")),
                      "# cat tracker\n"
                      "GMAPS_API_KEY=\"ENV-KEY-0042\"\n"
                      "export GEOLOCATION_URL=http://127.0.0.1:8080/v1/geolocate   # community service\n"
                      "this line is wrong SECRETVALUE\n"
                      "OTHER='x y'\n"));
    QStringList problems;
    const auto env = readDotEnv(dir.filePath(QStringLiteral(".env")), &problems);
    QCOMPARE(env.value(QStringLiteral("GMAPS_API_KEY")), QStringLiteral("ENV-KEY-0042"));
    QCOMPARE(env.value(QStringLiteral("GEOLOCATION_URL")), QStringLiteral("http://127.0.0.1:8080/v1/geolocate"));
    QCOMPARE(env.value(QStringLiteral("OTHER")), QStringLiteral("x y"));
    QCOMPARE(problems.size(), 1);
    QVERIFY(problems.first().contains(QStringLiteral("line 4")));
    QVERIFY2(!problems.first().contains(QStringLiteral("SECRETVALUE")), "values are never reported");

    AppSettings settings(dir.filePath(QStringLiteral("settings.ini")));
    SecretStore secrets(dir.path(), SecretStore::Backend::File);
    GeoConfig c = loadGeoConfig(settings, dir.path(), secrets);
    QCOMPARE(c.apiKey, QStringLiteral("ENV-KEY-0042"));
    QCOMPARE(c.keyOrigin, QStringLiteral(".env"));
    QCOMPARE(c.effectiveUrl(), QUrl(QStringLiteral("http://127.0.0.1:8080/v1/geolocate")));
    QCOMPARE(c.urlOrigin, QStringLiteral(".env"));
    // what the user set wins over .env
    QVERIFY(secrets.write(kApiKeySecret, QStringLiteral("STORED-KEY")));
    settings.raw().setValue(QStringLiteral("geo/url"), QStringLiteral("https://example.org/geolocate"));
    c = loadGeoConfig(settings, dir.path(), secrets);
    QCOMPARE(c.apiKey, QStringLiteral("STORED-KEY"));
    QCOMPARE(c.urlOrigin, QStringLiteral("settings"));
    QCOMPARE(c.effectiveUrl().host(), QStringLiteral("example.org"));
    // nothing anywhere: Google's endpoint, no key
    QTemporaryDir empty;
    AppSettings none(empty.filePath(QStringLiteral("s.ini")));
    SecretStore noSecrets(empty.path(), SecretStore::Backend::File);
    c = loadGeoConfig(none, empty.path(), noSecrets);
    QCOMPARE(c.effectiveUrl(), GoogleShapeProvider::googleUrl());
    QVERIFY(c.apiKey.isEmpty());
    QCOMPARE(c.urlOrigin, QStringLiteral("default"));
}

void TestGeo::settingsValidated() {
    QTemporaryDir dir;
    AppSettings settings(dir.filePath(QStringLiteral("settings.ini")));
    QSettings &s = settings.raw();
    s.setValue(QStringLiteral("geo/dailyBudget"), QStringLiteral("lots"));
    s.setValue(QStringLiteral("geo/timeoutMs"), 5);
    s.setValue(QStringLiteral("geo/retryBaseSec"), 30);
    s.setValue(QStringLiteral("geo/providers"), QStringLiteral("offline, carrier-pigeon ,web,offline"));
    s.setValue(QStringLiteral("geo/url"), QStringLiteral("ftp://nope"));
    SecretStore secrets(dir.path(), SecretStore::Backend::File);
    QStringList problems;
    const GeoConfig c = loadGeoConfig(settings, dir.path(), secrets, &problems);
    QCOMPARE(c.dailyBudget, GeoConfig().dailyBudget);
    QCOMPARE(c.timeoutMs, GeoConfig().timeoutMs);
    QCOMPARE(c.retryBaseMs, 30000);
    QCOMPARE(c.providers, QStringList({QStringLiteral("offline"), QStringLiteral("web")}));
    QCOMPARE(c.effectiveUrl(), GoogleShapeProvider::googleUrl());
    const QString all = problems.join(QLatin1Char('\n'));
    QVERIFY(all.contains(QStringLiteral("geo/dailyBudget")));
    QVERIFY(all.contains(QStringLiteral("geo/timeoutMs")));
    QVERIFY(all.contains(QStringLiteral("carrier-pigeon")));
    QVERIFY(all.contains(QStringLiteral("geo/url")));
}

void TestGeo::cliImportAndResolvePending() {
    QTemporaryDir dir;
    test::FakeGeoServer server;
    QVERIFY(server.listen());
    const QString data = dir.filePath(QStringLiteral("data"));
    QVERIFY(QDir().mkpath(data));
    // The service and key come from .env, as for the cat-tracker scripts.
    QVERIFY(writeFile(data + QStringLiteral("/.env"),
                      "GMAPS_API_KEY=" + kKey.toUtf8() + "\nGEOLOCATION_URL=" + server.url().toString().toUtf8() + "\n"));
    const cli::Command *geoCmd = cli::findCommand(QStringLiteral("geo"));
    QVERIFY(geoCmd);
    const QString csv = dir.filePath(QStringLiteral("cells.csv"));
    QVERIFY(writeFile(csv, "GSM,460,0,10342,3873,,113.940,22.670,1000,12,1,1,1,0\nGSM,460,0,10342,bad,,1,2,3,4,1,1,1,0\n"));
    const QString prog = QStringLiteral("trackerdesk geo");
    // Reading commands on a folder without data (a typo) say so and make nothing there.
    const QString typo = dir.filePath(QStringLiteral("dat"));
    QCOMPARE(geoCmd->run({prog, QStringLiteral("status"), QStringLiteral("--data-dir"), typo}), 1);
    QCOMPARE(geoCmd->run({prog, QStringLiteral("resolve"), QStringLiteral("--pending"), QStringLiteral("--data-dir"), typo}), 1);
    QVERIFY(!QFileInfo::exists(typo));
    QCOMPARE(geoCmd->run({prog, QStringLiteral("import-cells"), csv, QStringLiteral("--data-dir"), data, QStringLiteral("-q")}), 0);
    QCOMPARE(geoCmd->run({prog, QStringLiteral("import-cells"), dir.filePath(QStringLiteral("none.csv")), QStringLiteral("--data-dir"), data}), 1);
    QCOMPARE(geoCmd->run({prog, QStringLiteral("import-cells")}), 2);
    QCOMPARE(geoCmd->run({prog, QStringLiteral("bogus")}), 2);
    QCOMPARE(geoCmd->run({prog, QStringLiteral("resolve"), QStringLiteral("--data-dir"), data}), 2);   // --pending missing
    // two pending records (as a stopped TrackerDesk left them)
    {
        store::Store st;
        QVERIFY2(st.open(data + QStringLiteral("/trackerdesk.db")), qPrintable(st.lastError()));
        store::Device d;
        d.imei = QStringLiteral("359339075016208");
        QVERIFY(st.addDevice(d) > 0);
        GeoStore gs;
        QString err;
        QVERIFY2(gs.open(data + QStringLiteral("/trackerdesk.db"), &err), qPrintable(err));
        QCOMPARE(gs.cellCount(), 1);
        GeoRequest a = request(cellQuery(3873), st.deviceByImei(d.imei)->id, 0);
        GeoRequest b = request(cellQuery(4000), st.deviceByImei(d.imei)->id, 5);
        b.parked = true;
        QVERIFY(gs.addPending(a) > 0);
        QVERIFY(gs.addPending(b) > 0);
    }
    QCOMPARE(geoCmd->run({prog, QStringLiteral("status"), QStringLiteral("--data-dir"), data}), 0);
    QCOMPARE(geoCmd->run({prog, QStringLiteral("resolve"), QStringLiteral("--pending"), QStringLiteral("--data-dir"), data,
                          QStringLiteral("--wait"), QStringLiteral("20")}), 0);
    QCOMPARE(server.requestCount(), 2);
    QCOMPARE(server.requests().first().key, kKey);
    store::Store st;
    QVERIFY(st.open(data + QStringLiteral("/trackerdesk.db")));
    int fixes = 0;
    st.forEachPosition({}, {}, {}, {}, [&fixes](const store::StoredPosition &p) {
        fixes += p.position.hasCoordinates && p.position.source == proto::PositionSource::Lbs && p.position.accuracy == 35.0;
        return true;
    });
    QCOMPARE(fixes, 2);
    GeoStore gs;
    QVERIFY(gs.open(data + QStringLiteral("/trackerdesk.db")));
    QCOMPARE(gs.pendingCount(), 0);
}

QTEST_GUILESS_MAIN(TestGeo)
#include "tst_geo.moc"
