// The central map really draws tiles: a loopback tile server (also installed as the
// application's HTTP proxy, so any request to any other host would be seen) serves
// magenta tiles; the MapWidget must fetch them and show them in the grabbed image.
#include "tileserver.h"
#include "widgets/mapwidget.h"

#include <QNetworkProxy>
#include <QQuickItem>
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
};

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

QTEST_MAIN(TestMap)
#include "tst_map.moc"
