// The central map really draws tiles: a loopback tile server (also installed as the
// application's HTTP proxy, so any request to any other host would be seen) serves
// magenta tiles; the MapWidget must fetch them and show them in the grabbed image.
#include "tileserver.h"
#include "models/mapmodels.h"
#include "widgets/mapwidget.h"

#include <QGeoRectangle>
#include <QGeoShape>

#include <QNetworkProxy>
#include <QQuickItem>
#include <QTcpServer>
#include <memory>
#include <QTemporaryDir>
#include <QtQml/qqmlextensionplugin.h>
#include <QtTest>

Q_IMPORT_QML_PLUGIN(TrackerDesk_MapPlugin)

class TestMap : public QObject {
    Q_OBJECT
private slots:
    void drawsTilesFromLoopbackOnly();
    void tileSourceChangeReloads();
    void rejectsBadTileTemplates();
    void fitsTheDevicesUntilTheUserMovesTheMap();
    void aViewTheUserAskedForStays();
    void saysWhyThereAreNoTiles();
};

namespace {
td::DeviceStatus deviceAt(qint64 id, double lat, double lon) {
    td::DeviceStatus d;
    d.device.id = id;
    d.device.imei = QString::number(358000000000000 + id);
    td::store::StoredPosition p;
    p.deviceId = id;
    p.position.latitude = lat;
    p.position.longitude = lon;
    p.position.valid = true;
    p.position.time = QDateTime::currentDateTimeUtc();
    d.lastFix = p;
    return d;
}
QGeoRectangle visibleBox(td::ui::MapWidget &map) {
    QObject *m = map.mapRoot()->property("mapItem").value<QObject *>();
    return m ? QGeoRectangle(m->property("visibleRegion").value<QGeoShape>().boundingGeoRectangle()) : QGeoRectangle();
}
// A shown map over a marker model that knew device 1 (Utrecht) before the map was ready.
struct MarkerMap {
    td::test::TileServer server{QColor(0xd0, 0xd0, 0xd0)};
    QTemporaryDir cache;
    td::DeviceMarkersModel markers;
    td::TrackModel track;
    std::unique_ptr<td::ui::MapWidget> map;
    bool show() {
        if (!server.listen())
            return false;
        markers.upsert(deviceAt(1, 52.0900, 5.1200));
        map = std::make_unique<td::ui::MapWidget>(td::TileSource{server.tileTemplate(), cache.path()});
        map->setModels(&markers, &track);
        map->resize(640, 480);
        map->show();
        return QTest::qWaitForWindowExposed(map.get());
    }
};
QGeoCoordinate mapCenter(td::ui::MapWidget &map) { return map.mapRoot()->property("currentCenter").value<QGeoCoordinate>(); }
} // namespace

void TestMap::drawsTilesFromLoopbackOnly() {
    td::test::TileServer server(QColor(0xff, 0x00, 0xff));
    QVERIFY(server.listen());
    QNetworkProxy::setApplicationProxy(server.proxy());
    QTemporaryDir cache;
    td::ui::MapWidget map({server.tileTemplate(), cache.path()});
    map.resize(640, 480);
    map.show();
    QVERIFY(QTest::qWaitForWindowExposed(&map));
    QVERIFY2(map.status() == QQuickWidget::Ready, qPrintable(map.loadErrors()));
    QTRY_VERIFY_WITH_TIMEOUT(map.isMapReady(), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(server.tilesServed() >= 4, 20000);
    // 640x480 at any zoom needs at least 3x2 tiles; all of them magenta once drawn.
    QImage shot;
    QTRY_VERIFY_WITH_TIMEOUT((shot = map.grabFramebuffer(), td::test::colourFraction(shot, QColor(0xff, 0x00, 0xff)) > 0.80), 20000);
    QVERIFY2(server.nonLoopbackRequests().isEmpty(), qPrintable(server.nonLoopbackRequests().join(QLatin1Char('\n'))));
    for (const auto &r : server.requests())
        QVERIFY2(r.host == QLatin1String("127.0.0.1"), qPrintable(r.host + r.path));
    // The tile cache folder of our own was used (not ~/.cache/QtLocation).
    QVERIFY(!QDir(cache.path()).entryList(QDir::AllEntries | QDir::NoDotAndDotDot).isEmpty());
    QNetworkProxy::setApplicationProxy(QNetworkProxy::NoProxy);
}

void TestMap::tileSourceChangeReloads() {
    td::test::TileServer red(QColor(0xe0, 0x10, 0x10)), green(QColor(0x10, 0xc0, 0x10));
    QVERIFY(red.listen());
    QVERIFY(green.listen());
    QTemporaryDir cacheA, cacheB;
    td::ui::MapWidget map({red.tileTemplate(), cacheA.path()});
    map.resize(512, 384);
    map.show();
    QVERIFY(QTest::qWaitForWindowExposed(&map));
    QTRY_VERIFY_WITH_TIMEOUT(td::test::colourFraction(map.grabFramebuffer(), QColor(0xe0, 0x10, 0x10)) > 0.8, 20000);
    map.setTileSource({green.tileTemplate(), cacheB.path()});
    QTRY_VERIFY_WITH_TIMEOUT(td::test::colourFraction(map.grabFramebuffer(), QColor(0x10, 0xc0, 0x10)) > 0.8, 20000);
    QVERIFY(green.tilesServed() >= 4);
}

void TestMap::rejectsBadTileTemplates() {
    QString why;
    QVERIFY(td::TileSource::isValidTemplate(QStringLiteral("https://tile.openstreetmap.org/{z}/{x}/{y}.png")));
    QVERIFY(!td::TileSource::isValidTemplate(QStringLiteral("ftp://x/{z}/{x}/{y}"), &why));
    QVERIFY(why.contains(QLatin1String("http")));
    QVERIFY(!td::TileSource::isValidTemplate(QStringLiteral("https://tiles.example/{z}/{x}.png"), &why));
    QVERIFY(why.contains(QLatin1String("{y}")));
    const td::TileSource t{QStringLiteral("http://h/{z}/{x}/{y}.png"), {}};
    QCOMPARE(t.osmPluginHost(), QStringLiteral("http://h/%z/%x/%y.png"));
}

// Opening the app must show where the trackers are, not the default view (Paris) while the
// cat is in Utrecht; once the user pans or zooms, the map stays where the user put it, and
// panning stops following a device.
void TestMap::fitsTheDevicesUntilTheUserMovesTheMap() {
    MarkerMap f;
    QVERIFY(f.show());
    td::DeviceMarkersModel &markers = f.markers;
    td::ui::MapWidget &map = *f.map;
    QTRY_VERIFY_WITH_TIMEOUT(map.isMapReady(), 10000);
    // One device: centred on it at street level.
    QTRY_VERIFY_WITH_TIMEOUT(mapCenter(map).distanceTo(QGeoCoordinate(52.09, 5.12)) < 50, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(map.mapRoot()->property("currentZoom").toDouble(), 16.0, 5000);

    // A second device 3 km away: both in view, zoomed out no further than needed.
    markers.upsert(deviceAt(2, 52.1100, 5.1500));
    QTRY_VERIFY_WITH_TIMEOUT(visibleBox(map).contains(QGeoCoordinate(52.09, 5.12)) && visibleBox(map).contains(QGeoCoordinate(52.11, 5.15)), 5000);
    const double zoom = map.mapRoot()->property("currentZoom").toDouble();
    QVERIFY2(zoom >= 11 && zoom < 16, qPrintable(QString::number(zoom)));
    QVERIFY(!visibleBox(map).contains(QGeoCoordinate(48.8566, 2.3522)));

    // The user drags the map: it is followed no more, and a new device does not move it.
    map.follow(1);
    QVERIFY(!map.userMovedMap());
    const QPoint from(320, 240);
    QTest::mousePress(map.windowHandle(), Qt::LeftButton, {}, from);
    for (int i = 1; i <= 10; ++i)
        QTest::mouseMove(map.windowHandle(), from + QPoint(i * 12, i * 6), 10);
    QTest::mouseRelease(map.windowHandle(), Qt::LeftButton, {}, from + QPoint(120, 60), 10);
    QTRY_VERIFY_WITH_TIMEOUT(map.userMovedMap(), 5000);
    QCOMPARE(map.followedDevice(), qint64(-1));
    const QGeoCoordinate moved = mapCenter(map);
    QVERIFY(moved.distanceTo(QGeoCoordinate(52.10, 5.135)) > 100);   // the drag did pan it
    markers.upsert(deviceAt(3, 48.8566, 2.3522));
    QTest::qWait(300);
    QVERIFY(mapCenter(map).distanceTo(moved) < 1);
    // Asking for it still works.
    map.fitMarkers();
    QTRY_VERIFY_WITH_TIMEOUT(visibleBox(map).contains(QGeoCoordinate(48.8566, 2.3522)) && visibleBox(map).contains(QGeoCoordinate(52.11, 5.15)), 5000);
}

// Showing a history track is the user's choice of view: a device appearing afterwards must
// not pull the map away from it.
void TestMap::aViewTheUserAskedForStays() {
    MarkerMap f;
    QVERIFY(f.show());
    td::DeviceMarkersModel &markers = f.markers;
    td::ui::MapWidget &map = *f.map;
    QTRY_VERIFY_WITH_TIMEOUT(map.isMapReady() && mapCenter(map).distanceTo(QGeoCoordinate(52.09, 5.12)) < 50, 10000);
    map.fitTrack();
    map.centerOn(QGeoCoordinate(52.2, 5.3), 14);   // where the track is
    markers.upsert(deviceAt(2, 48.8566, 2.3522));
    QTest::qWait(300);
    QVERIFY2(mapCenter(map).distanceTo(QGeoCoordinate(52.2, 5.3)) < 1, qPrintable(mapCenter(map).toString()));
}

// Offline (or a wrong tile URL), the map was plain grey with no word of why.
void TestMap::saysWhyThereAreNoTiles() {
    quint16 deadPort = 0;
    {
        QTcpServer s;   // a port nobody listens on any more
        QVERIFY(s.listen(QHostAddress::LocalHost, 0));
        deadPort = s.serverPort();
    }
    QTemporaryDir cache;
    td::ui::MapWidget map({QStringLiteral("http://127.0.0.1:%1/{z}/{x}/{y}.png").arg(deadPort), cache.path()});
    map.resize(640, 480);
    map.show();
    QVERIFY(QTest::qWaitForWindowExposed(&map));
    QTRY_VERIFY_WITH_TIMEOUT(!map.tileError().isEmpty(), 15000);
    QVERIFY2(map.tileError().contains(QLatin1String("127.0.0.1")) && map.tileError().contains(QLatin1String("refused")),
             qPrintable(map.tileError()));
    auto *banner = map.mapRoot()->findChild<QQuickItem *>(QStringLiteral("tileErrorBanner"));
    QVERIFY(banner);
    QTRY_VERIFY(banner->isVisible());
    // Another tile source that answers: the banner goes.
    td::test::TileServer server(QColor(0x20, 0x80, 0x20));
    QVERIFY(server.listen());
    map.setTileSource({server.tileTemplate(), cache.path()});
    QTRY_VERIFY_WITH_TIMEOUT(map.tileError().isEmpty(), 15000);
    QTRY_VERIFY(!banner->isVisible());
    // A server that answers, but not with tiles (404): said too.
    map.setTileSource({QStringLiteral("http://127.0.0.1:%1/nothing/{z}/{x}/{y}").arg(server.port()), cache.path()});
    QTRY_VERIFY_WITH_TIMEOUT(!map.tileError().isEmpty(), 15000);
}

QTEST_MAIN(TestMap)
#include "tst_map.moc"
