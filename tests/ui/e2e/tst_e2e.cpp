// End to end, as a user sees it: the running app (TrackerService + MainWindow) on a
// loopback port, simulated trackers (GT06 and JT/T 808) connect, and their fixes appear
// in the device list, on the map model and as markers in the grabbed map, in the
// inspector (frames in and the server's replies out, linked), and as a history track.
// With TD_SCREENSHOT=path the window is saved there (docs/screenshot.png).
#include "tileserver.h"

#include "dialogs/exportdialog.h"
#include "docks/devicesdock.h"
#include "docks/inspectordock.h"
#include "models/devicelistmodel.h"
#include "models/framelistmodel.h"
#include "models/mapmodels.h"
#include "service/trackerservice.h"
#include "sim/simulator.h"
#include "sms/smsservice.h"
#include "widgets/framedetail.h"
#include "widgets/mapwidget.h"
#include "window/mainwindow.h"

#include <QComboBox>
#include <QDateTimeEdit>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QNetworkProxy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTreeView>
#include <QTreeWidget>
#include <QtQml/qqmlextensionplugin.h>
#include <QtTest>

Q_IMPORT_QML_PLUGIN(TrackerDesk_MapPlugin)

using namespace td;

class TestE2E : public QObject {
    Q_OBJECT
private slots:
    void simulatedTrackersShowUpEverywhere();
    void refusedDeviceCanBeAccepted();
};

// The app as gui.cpp builds it: settings pointing at a loopback tile server (also the
// application proxy, so nothing leaves loopback), a service on an ephemeral port.
struct App {
    explicit App(bool labelledTiles) : tiles(QColor(0xf2, 0xef, 0xe9), nullptr, labelledTiles),
        settings(dir.path() + QStringLiteral("/settings.ini")) {}
    bool start(const std::function<void(ServiceConfig &)> &tweak = {}) {
        if (!tiles.listen()) { error = QStringLiteral("tile server"); return false; }
        QNetworkProxy::setApplicationProxy(tiles.proxy());
        settings.setTileSource({tiles.tileTemplate(), dir.path() + QStringLiteral("/tiles")});
        ServiceConfig config;
        config.dataDir = dir.path() + QStringLiteral("/data");
        config.server.listeners = {server::ListenSpec{QHostAddress::LocalHost, 0, {}}};
        if (tweak) tweak(config);
        return service.start(config, &error);
    }
    QTemporaryDir dir;
    test::TileServer tiles;
    AppSettings settings;
    TrackerService service;
    QString error;
};

void TestE2E::simulatedTrackersShowUpEverywhere() {
    App app(true);
    QVERIFY2(app.start(), qPrintable(app.error));
    TrackerService &service = app.service;
    QTemporaryDir &dir = app.dir;
    test::TileServer &tiles = app.tiles;
    const quint16 port = service.listening().value(0).second;
    QVERIFY(port > 0);

    // The SMS service as the app wires it (no modem configured: the console still sends
    // GPRS commands and says how to set a modem up).
    sms::SmsService smsService(service.store(), &service);
    QString smsError;
    QVERIFY2(smsService.start(sms::SmsConfig{}, &smsError), qPrintable(smsError));
    ui::MainWindow w(app.settings, {}, &service);
    w.setSmsService(&smsService);
    w.resize(1280, 800);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QTRY_VERIFY_WITH_TIMEOUT(w.map()->isMapReady(), 10000);
    bool smsStateShown = false;
    for (const QLabel *l : w.findChildren<QLabel *>()) {
        QVERIFY2(!l->text().contains(QLatin1String("not available")), qPrintable(l->text()));
        smsStateShown |= l->text().contains(QLatin1String("No GSM modem configured"));
    }
    QVERIFY(smsStateShown);

    // Two trackers walking around a block in Paris, fixes in real time.
    sim::SimOptions so;
    so.port = port;
    so.realTime = true;
    so.recordAcked = true;
    sim::Simulator simulator(so);
    auto block = std::make_shared<const sim::Route>(sim::Route::block(48.8530, 2.3499, 300, 200, 15));
    auto walk = std::make_shared<const sim::Route>(sim::Route::randomWalk(48.8560, 2.3440, 7, 200, 20));
    simulator.addDevice({QStringLiteral("864717003283581"), QStringLiteral("cat"), sim::SimProtocol::Gt06, block, 20.0, 40, 0, 0, 76});
    simulator.addDevice({QStringLiteral("013912345678"), QStringLiteral("van"), sim::SimProtocol::Jt808, walk, 20.0, 30, 0, 0, 55});
    QSignalSpy done(&simulator, &sim::Simulator::finished);
    simulator.start();
    QElapsedTimer phase;
    phase.start();
    QTRY_VERIFY_WITH_TIMEOUT(!done.isEmpty(), 60000);
    qInfo("simulator finished after %lld ms", phase.elapsed());
    const sim::SimStats st = simulator.stats();
    QVERIFY2(st.fixesAcked == 70, qPrintable(st.summary()));

    // Device list: both devices, with a last fix, online, new (unnamed).
    DeviceListModel *devices = w.deviceModel();
    QTRY_COMPARE_WITH_TIMEOUT(devices->rowCount(), 2, 5000);
    for (int i = 0; i < 2; ++i) {
        QTRY_VERIFY_WITH_TIMEOUT(devices->data(devices->index(i, DeviceListModel::LastFix)).toString() != QLatin1String("no fix yet"), 5000);
        QVERIFY(devices->data(devices->index(i, 0), DeviceListModel::IsNewRole).toBool());
    }
    const int catRow = devices->data(devices->index(0, DeviceListModel::Imei)).toString() == QLatin1String("864717003283581") ? 0 : 1;
    const qint64 catId = devices->data(devices->index(catRow, 0), DeviceListModel::DeviceIdRole).toLongLong();
    // Naming the device in place goes to the store.
    QVERIFY(devices->setData(devices->index(catRow, DeviceListModel::Name), QStringLiteral("Minou")));
    QTRY_COMPARE_WITH_TIMEOUT(service.device(catId)->device.name, QStringLiteral("Minou"), 5000);
    QVERIFY(!devices->data(devices->index(catRow, 0), DeviceListModel::IsNewRole).toBool());

    // Map model: a marker per device at its last acknowledged fix.
    DeviceMarkersModel *markers = w.markerModel();
    QTRY_COMPARE_WITH_TIMEOUT(markers->count(), 2, 5000);
    const QList<sim::AckedFix> acked = simulator.ackedFixes();
    proto::Position lastCat;
    for (const sim::AckedFix &a : acked)
        if (a.deviceId == QLatin1String("864717003283581") && (!lastCat.time.isValid() || a.position.time >= lastCat.time))
            lastCat = a.position;
    QTRY_VERIFY_WITH_TIMEOUT(markers->coordinateOf(catId).distanceTo(QGeoCoordinate(lastCat.latitude, lastCat.longitude)) < 1.0, 5000);

    // Inspector: frames in and replies out, linked.
    FrameListModel *frames = w.inspector()->model();
    frames->flush();
    QTRY_VERIFY_WITH_TIMEOUT(frames->rowCount() >= 2 * 70, 5000);
    int in = 0, out = 0, linked = 0;
    for (int i = 0; i < frames->rowCount(); ++i) {
        const FrameRow &r = frames->rowAt(i);
        (r.direction == proto::Direction::FromDevice ? in : out)++;
        if (r.replyTo && frames->rowOfId(r.replyTo) >= 0)
            ++linked;
    }
    QVERIFY(in >= 70);
    QVERIFY(out >= 70);
    QVERIFY(linked >= 70);
    // Select a position frame: its fields decode, and "go to reply" jumps to the ack.
    int posRow = -1;
    for (int i = 0; i < frames->rowCount() && posRow < 0; ++i)
        if (frames->rowAt(i).type == 0x22 && frames->rowAt(i).direction == proto::Direction::FromDevice)
            posRow = i;
    QVERIFY(posRow >= 0);
    QVERIFY(w.inspector()->selectFrameId(frames->rowAt(posRow).id));
    QVERIFY(w.inspector()->detail()->tree()->topLevelItemCount() > 5);
    QVERIFY(w.inspector()->jumpToLinked());
    const QModelIndex cur = w.inspector()->frameList()->currentIndex();
    QCOMPARE(cur.data(FrameListModel::ReplyToRole).toLongLong(), frames->rowAt(posRow).id);
    QCOMPARE(cur.data(FrameListModel::DirectionRole).toInt(), 1);

    // The marker is drawn: centre on the cat and find its colour in the grabbed map.
    w.map()->centerOn(QGeoCoordinate(lastCat.latitude, lastCat.longitude), 16);
    const QColor catColour(DeviceListModel::colorFor(service.device(catId)->device));
    // The simulator has hung up: an offline device's marker is drawn at 60 % opacity
    // over the (light) map.
    QTRY_VERIFY_WITH_TIMEOUT(!service.device(catId)->online, 5000);
    const QColor paper(0xf2, 0xef, 0xe9);
    const QColor offlineColour(qRound(0.6 * catColour.red() + 0.4 * paper.red()),
                               qRound(0.6 * catColour.green() + 0.4 * paper.green()),
                               qRound(0.6 * catColour.blue() + 0.4 * paper.blue()));
    QImage shot;
    QDeadlineTimer markerDeadline(10000);
    while (!markerDeadline.hasExpired()) {
        shot = w.map()->grabFramebuffer();
        if (test::colourFraction(shot, offlineColour, 12) > 0.0003)
            break;
        QTest::qWait(100);
    }
    if (test::colourFraction(shot, offlineColour, 12) <= 0.0003)
        shot.save(QStringLiteral(TD_BINARY_DIR "/tst_e2e-marker.png"));  // for diagnosis
    QVERIFY2(test::colourFraction(shot, offlineColour, 12) > 0.0003, qPrintable(offlineColour.name()));

    // History: today's track of the cat, drawn as a polyline; cursor on the time slider.
    const QString err = w.showHistory(catId, QDateTime::currentDateTimeUtc().addSecs(-3600), QDateTime::currentDateTimeUtc().addSecs(60));
    QVERIFY2(err.isEmpty(), qPrintable(err));
    QCOMPARE(w.trackModel()->pointCount(), 40);
    QVERIFY(w.trackModel()->segmentCount() >= 1);
    TrackModel *track = w.trackModel();
    track->setCursorMs(track->startMs());
    QVERIFY(track->cursor().isValid());
    QTRY_VERIFY_WITH_TIMEOUT(test::colourFraction(w.map()->grabFramebuffer(), catColour, 10) > 0.001, 10000);
    QVERIFY(tiles.nonLoopbackRequests().isEmpty());

    // Export dialog: the day's fixes of both devices as GPX, on a worker thread.
    {
        ui::ExportDialog dlg(service.databasePath(), w.deviceModel(), &w);
        dlg.formatBox()->setCurrentIndex(dlg.formatBox()->findData(QStringLiteral("gpx")));
        dlg.fromEdit()->setDateTime(QDateTime::currentDateTime().addSecs(-3600));
        dlg.toEdit()->setDateTime(QDateTime::currentDateTime().addSecs(3600));
        const QString target = dir.path() + QStringLiteral("/today.gpx");
        dlg.fileEdit()->setText(target);
        QSignalSpy finished(&dlg, &ui::ExportDialog::exportFinished);
        QVERIFY(dlg.startExport());
        QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 20000);
        QVERIFY2(dlg.lastResult().ok, qPrintable(dlg.lastResult().error));
        QCOMPARE(dlg.lastResult().points, qint64(70));
        QCOMPARE(dlg.lastResult().tracks, qint64(2));
        QVERIFY(QFileInfo(target).size() > 1000);
        QVERIFY(dlg.statusText().contains(QLatin1String("70 points")));
        dlg.fromEdit()->setDateTime(QDateTime::currentDateTime().addDays(1));
        QVERIFY(!dlg.startExport());  // from after to: refused with a message
        QVERIFY(dlg.statusText().contains(QLatin1String("after")));
        // An empty capture says frames, not "0 points in 0 track(s)".
        dlg.formatBox()->setCurrentIndex(dlg.formatBox()->findData(QStringLiteral("pcapng")));
        dlg.toEdit()->setDateTime(QDateTime::currentDateTime().addDays(2));
        dlg.fileEdit()->setText(dir.path() + QStringLiteral("/none.pcapng"));
        finished.clear();
        QVERIFY(dlg.startExport());
        QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 20000);
        QVERIFY2(dlg.statusText().contains(QLatin1String("0 frames")), qPrintable(dlg.statusText()));
    }

    if (qEnvironmentVariableIsSet("TD_SCREENSHOT")) {
        w.inspector()->selectFrameId(frames->rowAt(posRow).id);
        QTest::qWait(1500);
        QVERIFY(w.grab().save(qEnvironmentVariable("TD_SCREENSHOT")));
    }

    // Inspector > History: a range with more frames than the list holds loads its newest
    // ones (it loaded the oldest), shown oldest first.
    {
        store::FrameFilter newest;
        newest.newestFirst = true;
        newest.limit = 1;
        const QList<store::StoredFrame> last = service.store().frames(newest);
        QCOMPARE(last.size(), 1);
        frames->setMaxRows(10);
        auto *history = w.inspector()->findChild<QComboBox *>(QStringLiteral("frameHistoryRange"));
        QVERIFY(history);
        emit history->activated(history->findData(1));   // last hour
        QCOMPARE(frames->rowCount(), 10);
        QCOMPARE(frames->rowAt(9).id, last.first().id);
        for (int i = 0; i + 1 < frames->rowCount(); ++i)
            QVERIFY(frames->rowAt(i).id < frames->rowAt(i + 1).id);
        frames->setMaxRows(50000);
    }
    service.stop();
}

// Allowlist mode: an unknown tracker is refused (nothing stored) and listed in the
// devices dock; accepting it there lets its next connection in, and its fixes arrive.
void TestE2E::refusedDeviceCanBeAccepted() {
    App app(false);
    QVERIFY2(app.start([](ServiceConfig &c) { c.server.acceptUnknownDevices = false; }), qPrintable(app.error));
    TrackerService &service = app.service;
    ui::MainWindow w(app.settings, {}, &service);
    w.show();

    sim::SimOptions so;
    so.port = service.listening().value(0).second;
    so.realTime = true;
    so.ackTimeoutMs = 1000;
    so.reconnectDelayMs = 200;
    so.drainTimeoutMs = 30000;
    sim::Simulator simulator(so);
    auto block = std::make_shared<const sim::Route>(sim::Route::block(48.8530, 2.3499, 300, 200, 15));
    simulator.addDevice({QStringLiteral("359710040000017"), QStringLiteral("dog"), sim::SimProtocol::Gt06, block, 5.0, 5, 0, 0, 90});
    QSignalSpy done(&simulator, &sim::Simulator::finished);
    simulator.start();

    QListWidget *refused = w.devicesPane()->refusedList();
    QTRY_VERIFY_WITH_TIMEOUT(refused->count() == 1, 10000);
    QVERIFY(refused->item(0)->text().contains(QLatin1String("359710040000017")));
    QCOMPARE(w.deviceModel()->rowCount(), 0);             // nothing of it stored
    QCOMPARE(service.store().devices().size(), 0);
    emit w.devicesPane()->acceptRequested(QStringLiteral("359710040000017"));
    QTRY_COMPARE_WITH_TIMEOUT(refused->count(), 0, 5000);
    QTRY_VERIFY_WITH_TIMEOUT(!done.isEmpty(), 40000);
    QCOMPARE(simulator.stats().fixesAcked, qint64(5));
    QTRY_COMPARE_WITH_TIMEOUT(w.deviceModel()->rowCount(), 1, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(w.markerModel()->count(), 1, 5000);
    service.stop();
}

QTEST_MAIN(TestE2E)
#include "tst_e2e.moc"
