// The geolocation path end to end: a loopback client plays a Topin ZX303 sending the real
// 0x69 Wi-Fi + LBS frame from tests/data/gt06_vectors.tsv to a running TrackerService; the
// GeoService resolves it through a loopback geolocation service (or the offline database
// imported through the service), the fix is stored as a Wi-Fi/LBS fix with its accuracy and
// inputs, published, kept out of GPS-only exports, and the device receives the 0x69 text reply.
#include "fakegeoserver.h"

#include "../../protocol/gt06/gt06_vectors.h"

#include "export/exporter.h"
#include "export/storesource.h"
#include "geo/geoservice.h"
#include "service/trackerservice.h"

#include "trackerdesk/protocol/gt06.h"

#include <QFile>
#include <QJsonArray>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

using namespace td;
using namespace td::geo;

namespace {

const QString kImei = QStringLiteral("359339075016208");

// The real Topin 0x69 upload with 3 access points and 5 cells (MCC 460).
QByteArray topinWifiVector(QString *error) {
    for (const Gt06Vector &v : loadGt06Vectors(error))
        if (v["message_type"] == QLatin1String("0x69") && v.bytes.size() > 40 && v.bytes[2] == 3)
            return v.bytes;
    if (error->isEmpty())
        *error = QStringLiteral("no Topin 0x69 vector with 3 access points in gt06_vectors.tsv");
    return {};
}

struct Rig {
    QTemporaryDir dir;
    test::FakeGeoServer web;
    TrackerService service;
    GeoService geo{&service};
    QTcpSocket client;
    QByteArray received;
    QString error;

    bool start(const GeoConfig &tweak) {
        if (!web.listen()) {
            error = QStringLiteral("fake geolocation service");
            return false;
        }
        ServiceConfig config;
        config.dataDir = dir.filePath(QStringLiteral("data"));
        config.server.listeners = {server::ListenSpec{QHostAddress::LocalHost, 0, {}}};
        config.publishIntervalMs = 20;
        if (!service.start(config, &error))
            return false;
        GeoConfig c = tweak;
        c.url = web.url();
        c.apiKey = QStringLiteral("TEST-KEY");
        c.minIntervalMs = 0;
        c.timeoutMs = 3000;
        if (!geo.start(c, &error))
            return false;
        QObject::connect(&client, &QTcpSocket::readyRead, &client, [this] { received += client.readAll(); });
        client.connectToHost(QHostAddress::LocalHost, service.listening().first().second);
        if (!client.waitForConnected(5000)) {
            error = client.errorString();
            return false;
        }
        client.write(proto::gt06::encodeTopinLogin(kImei));
        return true;
    }
    QList<store::StoredPosition> positions() {
        QList<store::StoredPosition> out;
        service.store().forEachPosition({}, {}, {}, {}, [&out](const store::StoredPosition &p) {
            out << p;
            return true;
        });
        return out;
    }
    std::optional<store::StoredPosition> fix() {
        for (const store::StoredPosition &p : positions())
            if (p.position.hasCoordinates)
                return p;
        return std::nullopt;
    }
};

} // namespace

class TestGeoService : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void topinWifiFrameBecomesStoredFix();
    void failureKeptAndResolvedLater();
    void offlineImportThroughService();
};

void TestGeoService::initTestCase() {
    QString err;
    QVERIFY2(!topinWifiVector(&err).isEmpty(), qPrintable(err));
}

void TestGeoService::topinWifiFrameBecomesStoredFix() {
    Rig rig;
    GeoConfig c;
    c.providers = {QStringLiteral("web")};
    QVERIFY2(rig.start(c), qPrintable(rig.error));
    QSignalSpy stored(&rig.service, &TrackerService::positionsStored);
    QSignalSpy resolved(&rig.geo, &GeoService::positionResolved);
    QSignalSpy replied(&rig.geo, &GeoService::deviceReplySent);
    QString err;
    const QByteArray frame = topinWifiVector(&err);
    rig.client.write(frame);
    const QByteArray expected = proto::gt06::encodeTopinPositionText(22.676746, 113.940940);
    QCOMPARE(expected, QByteArray("\x78\x78\x17\x69+22.676746,+113.940940\r\n", 28));
    // First the time echo the decoder computed, then - once resolved - the position text.
    QTRY_VERIFY_WITH_TIMEOUT(rig.received.contains(expected), 10000);
    QVERIFY(rig.received.contains(QByteArray::fromHex("787800691604130318490d0a")));
    QVERIFY(rig.received.indexOf(QByteArray::fromHex("787800691604130318490d0a")) < rig.received.indexOf(expected));
    QCOMPARE(resolved.count(), 1);
    QCOMPARE(replied.count(), 1);

    // What the service was asked: the record's 3 access points and 5 cells, considerIp false.
    QCOMPARE(rig.web.requestCount(), 1);
    const QJsonObject body = rig.web.requests().first().body;
    QCOMPARE(body.value(QStringLiteral("considerIp")).toBool(true), false);
    QCOMPARE(body.value(QStringLiteral("wifiAccessPoints")).toArray().size(), 3);
    QCOMPARE(body.value(QStringLiteral("cellTowers")).toArray().size(), 5);
    QCOMPARE(body.value(QStringLiteral("wifiAccessPoints")).toArray().first().toObject().value(QStringLiteral("macAddress")).toString(),
             QStringLiteral("14:75:90:5b:d3:0e"));
    QCOMPARE(rig.web.requests().first().key, QStringLiteral("TEST-KEY"));

    // Stored: the LBS/Wi-Fi record as it came, and the resolved Wi-Fi fix next to it.
    const QList<store::StoredPosition> all = rig.positions();
    QCOMPARE(all.size(), 2);
    const auto fix = rig.fix();
    QVERIFY(fix.has_value());
    const proto::Position &p = fix->position;
    QCOMPARE(p.source, proto::PositionSource::Wifi);
    QCOMPARE(p.latitude, 22.676746);
    QCOMPARE(p.longitude, 113.940940);
    QVERIFY(p.accuracy.has_value());
    QCOMPARE(*p.accuracy, 35.0);
    QVERIFY(p.valid);
    QCOMPARE(p.time, QDateTime(QDate(2016, 4, 13), QTime(3, 18, 49), QTimeZone::UTC));   // the record's fix time
    QCOMPARE(p.wifi.size(), 3);
    QCOMPARE(p.cells.size(), 5);
    QCOMPARE(p.cells.first().lac, 10342);
    for (const store::StoredPosition &sp : all) {
        QVERIFY(sp.frameId > 0);
        QCOMPARE(sp.frameId, fix->frameId);   // derived from the frame that carried the inputs
    }
    // published like a live fix (map, device list)
    QTRY_VERIFY_WITH_TIMEOUT([&] {
        for (const QList<QVariant> &args : stored)
            for (const store::StoredPosition &sp : qvariant_cast<QList<store::StoredPosition>>(args.at(0)))
                if (sp.position.hasCoordinates && sp.position.source == proto::PositionSource::Wifi)
                    return true;
        return false;
    }(), 5000);
    const auto dev = rig.service.deviceByImei(kImei);
    QVERIFY(dev && dev->lastFix);
    QCOMPARE(dev->lastFix->position.source, proto::PositionSource::Wifi);

    // The reply is stored as an outbound frame like every other.
    store::FrameFilter ff;
    ff.direction = proto::Direction::ToDevice;
    bool found = false;
    for (const store::StoredFrame &f : rig.service.store().frames(ff))
        found = found || (f.bytes == expected && f.type == 0x69);
    QVERIFY(found);

    // Exported only when the user asks for non-GPS fixes.
    exporter::TrackOptions gpsOnly;
    exporter::StoreTrackSource a(rig.service.store(), {}, {}, {}, gpsOnly);
    QCOMPARE(a.count(), 0);
    exporter::TrackOptions all2;
    all2.includeNetworkFixes = true;
    exporter::StoreTrackSource b(rig.service.store(), {}, {}, {}, all2);
    QCOMPARE(b.count(), 1);
    QVERIFY(exporter::TrackAssembler::rejectReason(p, gpsOnly).contains(QStringLiteral("network")));
    QVERIFY(exporter::TrackAssembler::rejectReason(p, all2).isEmpty());

    // The same frame again (a resend): recognised by the store, nothing asked or stored twice.
    rig.received.clear();
    rig.client.write(frame);
    QTRY_VERIFY_WITH_TIMEOUT(rig.received.contains(QByteArray::fromHex("787800691604130318490d0a")), 5000);
    QTest::qWait(300);
    QCOMPARE(rig.web.requestCount(), 1);
    QCOMPARE(rig.positions().size(), 2);
    QCOMPARE(rig.geo.stats().requestsToday, 1);
}

void TestGeoService::failureKeptAndResolvedLater() {
    Rig rig;
    GeoConfig c;
    c.providers = {QStringLiteral("web")};
    c.retryBaseMs = 60000;   // no automatic retry within the test
    QVERIFY2(rig.start(c), qPrintable(rig.error));
    rig.web.setMode(test::FakeGeoServer::ServerError);
    QSignalSpy failed(&rig.geo, &GeoService::resolveFailed);
    QSignalSpy logs(&rig.service, &TrackerService::logMessage);
    QString err;
    rig.client.write(topinWifiVector(&err));
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 10000);
    QVERIFY(failed.first().at(1).toString().contains(QStringLiteral("503")));
    QTRY_COMPARE_WITH_TIMEOUT(rig.geo.stats().pending, 1, 5000);
    QVERIFY(rig.geo.stats().lastError.contains(QStringLiteral("serverError")));
    // the failure is logged through the service (headless output, the GUI)
    bool logged = false;
    for (const QList<QVariant> &args : logs)
        logged = logged || args.at(1).toString().contains(QStringLiteral("no position"));
    QVERIFY(logged);
    QVERIFY(!rig.fix().has_value());
    const QList<GeoRequest> pending = rig.geo.pendingRecords();
    QCOMPARE(pending.size(), 1);
    QCOMPARE(pending.first().attempts, 1);
    QVERIFY(pending.first().frameId > 0);
    QVERIFY(pending.first().nextAttempt > QDateTime::currentDateTimeUtc().addSecs(30));
    // "Resolve pending now" with the service back
    rig.web.setMode(test::FakeGeoServer::Valid);
    rig.received.clear();
    rig.geo.resolvePending();
    QTRY_VERIFY_WITH_TIMEOUT(rig.fix().has_value(), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(rig.received.contains(proto::gt06::encodeTopinPositionText(22.676746, 113.940940)), 5000);
    QTRY_COMPARE_WITH_TIMEOUT(rig.geo.stats().pending, 0, 5000);
    QCOMPARE(rig.web.requestCount(), 2);
}

void TestGeoService::offlineImportThroughService() {
    Rig rig;
    GeoConfig c;
    c.providers = {QStringLiteral("offline")};
    QVERIFY2(rig.start(c), qPrintable(rig.error));
    // the cells of the vector (MCC 460 MNC 0 LAC 10342)
    const QString csv = rig.dir.filePath(QStringLiteral("460.csv"));
    {
        QFile f(csv);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal\n");
        for (int i = 0; i < 40000; ++i)   // filler: several batches, progress, time for heartbeats
            f.write("GSM,460,1,1," + QByteArray::number(i) + ",,100.0,20.0,1000,1,1,1,1,0\n");
        f.write("GSM,460,0,10342,3873,,113.9400,22.6700,800,10,1,1,1,0\n"
                "GSM,460,0,10342,3871,,113.9420,22.6720,800,10,1,1,1,0\n"
                "GSM,460,0,10342,3752,,113.9410,22.6710,1200,10,1,1,1,0\n"
                "GSM,460,0,10342,bad,,113.9410,22.6710,1200,10,1,1,1,0\n");
    }
    // The device is known before the import starts (see the report on the writer's deferred
    // transactions: a first-seen device racing another connection's commit is refused).
    QTRY_VERIFY_WITH_TIMEOUT(rig.service.deviceByImei(kImei).has_value(), 5000);
    QElapsedTimer tt;
    tt.start();
    QSignalSpy progress(&rig.geo, &GeoService::importProgress);
    QSignalSpy finished(&rig.geo, &GeoService::importFinished);
    QSignalSpy closed(&rig.service, &TrackerService::connectionClosed);
    QString err;
    QVERIFY2(rig.geo.importFile(csv, &err), qPrintable(err));
    QVERIFY(rig.geo.importRunning());
    QVERIFY(!rig.geo.importFile(csv, &err));   // one at a time
    QVERIFY(err.contains(QStringLiteral("already")));
    // The tracker keeps talking during the import: every heartbeat is stored and acked.
    const QByteArray ack = proto::gt06::encodeTopinReply(0x13);
    rig.received.clear();
    int sent = 0;
    QTimer beat;
    connect(&beat, &QTimer::timeout, this, [&] {
        rig.client.write(proto::gt06::encodeTopinHeartbeat(80));
        ++sent;
    });
    beat.start(20);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    beat.stop();
    QVERIFY(sent >= 5);
    QTRY_COMPARE_WITH_TIMEOUT(int(rig.received.count(ack)), sent, 10000);
    QCOMPARE(closed.count(), 0);
    const ImportReport rep = qvariant_cast<ImportReport>(finished.first().at(0));
    QVERIFY2(rep.ok(), qPrintable(rep.summary()));
    qDebug() << tt.elapsed() << "ms:" << rep.summary();
    QCOMPARE(rep.cells, 40003);
    QCOMPARE(rep.bad, 1);
    QVERIFY(progress.count() >= 1);
    QVERIFY(!rig.geo.importRunning());
    QTRY_COMPARE_WITH_TIMEOUT(rig.geo.stats().offlineCells, 40003, 5000);

    rig.client.write(topinWifiVector(&err));
    QTRY_VERIFY_WITH_TIMEOUT(rig.fix().has_value(), 10000);
    const proto::Position p = rig.fix()->position;
    QCOMPARE(p.source, proto::PositionSource::Lbs);   // no Wi-Fi data imported: the cells
    QVERIFY(std::fabs(p.latitude - 22.671) < 0.002);
    QVERIFY(std::fabs(p.longitude - 113.941) < 0.002);
    QVERIFY(p.accuracy && *p.accuracy >= 800);
    QCOMPARE(rig.web.requestCount(), 0);   // offline: no network at all
    QCOMPARE(rig.geo.stats().offlineHits, 1);
    QTRY_VERIFY_WITH_TIMEOUT(rig.received.contains(proto::gt06::encodeTopinPositionText(p.latitude, p.longitude)), 5000);

    // a file that is not there: a clear error at once
    QVERIFY(!rig.geo.importFile(rig.dir.filePath(QStringLiteral("nope.csv")), &err));
    QVERIFY(err.contains(QStringLiteral("not a file")));
}

QTEST_GUILESS_MAIN(TestGeoService)
#include "tst_geoservice.moc"
