// The main window's lasting layout: map in the centre, the three docks, the status bar
// with the tracker port and LAN addresses, layout persistence, the About box, and the
// inspector's decode box annotating a pasted frame.
#include "tileserver.h"

#include "dialogs/devicedialog.h"
#include "geo/geoservice.h"
#include "dialogs/settingsdialog.h"
#include "docks/inspectordock.h"
#include "widgets/framedetail.h"
#include "widgets/hexview.h"
#include "widgets/mapwidget.h"
#include "window/mainwindow.h"

#include "models/devicelistmodel.h"
#include "trackerdesk/protocol/gt06.h"

#include <QDockWidget>
#include <QHeaderView>
#include <QLabel>
#include <QCheckBox>
#include <QComboBox>
#include <QDateTimeEdit>
#include <QLineEdit>
#include <QSpinBox>
#include <QMessageBox>
#include <QNetworkProxy>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTreeView>
#include <QTreeWidget>
#include <QtQml/qqmlextensionplugin.h>
#include <QGeoCoordinate>
#include <QQuickItem>
#include <QtTest>

Q_IMPORT_QML_PLUGIN(TrackerDesk_MapPlugin)

class TestMainWindow : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void layoutIsComplete();
    void layoutPersists();
    void aboutBox();
    void decodeBoxAnnotatesFrame();
    void decodeBoxRejectsBadInput();
    void settingsDialogValidatesAndApplies();
    void deviceDialogValidates();
    void clickingAByteSelectsTheInnermostField();
    void historyRangeFieldsShowThePreset();
    void geolocationFailuresDoNotFloodTheStatusBar();
    void decodeBoxReadsPastedAcksAsServerMessages();

private:
    std::unique_ptr<td::AppSettings> settingsIn(const QString &dir) {
        auto s = std::make_unique<td::AppSettings>(dir + QStringLiteral("/settings.ini"));
        s->setTileSource({m_tiles.tileTemplate(), dir + QStringLiteral("/tiles")});
        return s;
    }
    td::test::TileServer m_tiles;
    QTemporaryDir m_dir;
};

void TestMainWindow::initTestCase() {
    QVERIFY(m_tiles.listen());
    QNetworkProxy::setApplicationProxy(m_tiles.proxy());  // nothing may leave loopback
}

void TestMainWindow::layoutIsComplete() {
    auto s = settingsIn(m_dir.path());
    td::StartOptions o;
    o.port = 6001;
    td::ui::MainWindow w(*s, o);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(qobject_cast<td::ui::MapWidget *>(w.centralWidget()));
    QVERIFY(w.devicesDock()->isVisible());
    QVERIFY(w.inspectorDock()->isVisible());
    QVERIFY(w.smsDock()->isVisible());
    QCOMPARE(w.deviceList()->model()->columnCount(), 7);
    // Beside the name what one looks for first: state, last fix, battery, signal; the ids last.
    const QHeaderView *h = w.deviceList()->header();
    QCOMPARE(h->visualIndex(td::DeviceListModel::Name), 0);
    QCOMPARE(h->visualIndex(td::DeviceListModel::State), 1);
    QCOMPARE(h->visualIndex(td::DeviceListModel::LastFix), 2);
    QCOMPARE(h->logicalIndex(h->count() - 1), int(td::DeviceListModel::Protocol));
    auto *listen = w.findChild<QLabel *>(QStringLiteral("listenLabel"));
    QVERIFY(listen);
    QVERIFY2(listen->text().contains(QLatin1String("6001")), qPrintable(listen->text()));  // the command line wins
    QTRY_VERIFY_WITH_TIMEOUT(w.map()->isMapReady(), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(m_tiles.tilesServed() > 0, 20000);
    QVERIFY(m_tiles.nonLoopbackRequests().isEmpty());
}

void TestMainWindow::layoutPersists() {
    QTemporaryDir dir;
    QSize closedSize;
    {
        auto s = settingsIn(dir.path());
        td::ui::MainWindow w(*s, {});
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.resize(770, 560);  // inside the offscreen screen (800x600), above the minimum size
        w.smsDock()->hide();
        QTRY_VERIFY_WITH_TIMEOUT(w.map()->isMapReady(), 10000);
        w.map()->centerOn(QGeoCoordinate(47.3769, 8.5417), 12);   // the user looked at Zurich
        QCoreApplication::processEvents();
        closedSize = w.size();
        QCOMPARE(closedSize.width(), 770);
        w.close();
    }
    auto s = settingsIn(dir.path());
    td::ui::MainWindow w(*s, {});
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QCOMPARE(w.size(), closedSize);  // not the default size
    QVERIFY(!w.smsDock()->isVisible());
    QVERIFY(w.inspectorDock()->isVisible());
    // No device has a position: the map opens where it was left.
    QTRY_VERIFY_WITH_TIMEOUT(w.map()->isMapReady(), 10000);
    const QGeoCoordinate c = w.map()->mapRoot()->property("currentCenter").value<QGeoCoordinate>();
    QVERIFY2(c.distanceTo(QGeoCoordinate(47.3769, 8.5417)) < 50, qPrintable(c.toString()));
    QCOMPARE(w.map()->mapRoot()->property("currentZoom").toDouble(), 12.0);
}

void TestMainWindow::aboutBox() {
    auto s = settingsIn(m_dir.path());
    td::ui::MainWindow w(*s, {});
    w.show();
    QString text;
    QTimer::singleShot(200, [&] {
        for (QWidget *tl : QApplication::topLevelWidgets())
            if (auto *box = qobject_cast<QMessageBox *>(tl)) {
                text = box->text();
                box->accept();
            }
    });
    w.showAbout();
    QVERIFY2(text.contains(QLatin1String("TrackerDesk " TD_VERSION)), qPrintable(text));
}

void TestMainWindow::decodeBoxAnnotatesFrame() {
    auto s = settingsIn(m_dir.path());
    td::ui::MainWindow w(*s, {});
    auto *edit = w.inspector()->findChild<QLineEdit *>(QStringLiteral("decodeHex"));
    QVERIFY(edit);
    // A real GT06 login frame (IMEI 864717003283581, serial 9).
    edit->setText(QStringLiteral("78 78 0d 01 08 64 71 70 03 28 35 81 00 09 3f 04 0d 0a"));
    QTest::keyClick(edit, Qt::Key_Return);
    td::ui::FrameDetailView *d = w.inspector()->detail();
    QCOMPARE(d->hexView()->data().size(), 18);
    QVERIFY(d->tree()->topLevelItemCount() >= 5);
    QVERIFY(!d->tree()->findItems(QStringLiteral("864717003283581"), Qt::MatchContains | Qt::MatchRecursive, 1).isEmpty());
    // Clicking a byte of the IMEI selects the innermost field that covers it, and the
    // hex view highlights exactly that field's bytes.
    d->hexView()->byteClicked(6);
    QTreeWidgetItem *cur = d->tree()->currentItem();
    QVERIFY(cur);
    const int off = d->hexView()->highlightOffset(), len = d->hexView()->highlightLength();
    QVERIFY(off <= 6 && 6 < off + len);
    QCOMPARE(cur->text(2).toInt(), off);
    QCOMPARE(cur->text(3).toInt(), len);
}

void TestMainWindow::decodeBoxRejectsBadInput() {
    auto s = settingsIn(m_dir.path());
    td::ui::MainWindow w(*s, {});
    QVERIFY(!w.inspector()->decodeHex(QStringLiteral("78 78 zz")));
    auto *status = w.inspector()->findChild<QLabel *>(QStringLiteral("decodeStatus"));
    QVERIFY(status->text().contains(QLatin1String("Not hex")));
    QVERIFY(!w.inspector()->decodeHex(QStringLiteral("47 45 54 20 2f")));  // "GET /"
    QVERIFY(status->text().contains(QLatin1String("known protocol")));
}

void TestMainWindow::settingsDialogValidatesAndApplies() {
    QTemporaryDir dir;
    auto s = settingsIn(dir.path());
    td::ui::SettingsDialog dlg(*s);
    QSignalSpy tiles(&dlg, &td::ui::SettingsDialog::tileSourceChanged);
    dlg.tileUrlEdit()->setText(QStringLiteral("https://tiles.example/{z}/{x}.png"));  // no {y}
    QVERIFY(dlg.validate().contains(QLatin1String("{y}")));
    dlg.accept();
    QCOMPARE(dlg.result(), int(QDialog::Rejected));   // stays open with the error shown
    QVERIFY(dlg.findChild<QLabel *>(QStringLiteral("settingsError"))->text().contains(QLatin1String("{y}")));
    QCOMPARE(s->tileSource().urlTemplate, m_tiles.tileTemplate());  // nothing saved
    dlg.listenEdit()->setText(QStringLiteral("300.1.2.3"));
    dlg.tileUrlEdit()->setText(QStringLiteral("https://tiles.example/{z}/{x}/{y}.png"));
    QVERIFY(dlg.validate().contains(QLatin1String("Listen address")));
    dlg.listenEdit()->setText(QStringLiteral("127.0.0.1"));
    dlg.portBox()->setValue(6100);
    dlg.acceptUnknownBox()->setChecked(false);
    QVERIFY(dlg.validate().isEmpty());
    const QStringList restart = dlg.save();
    QVERIFY(restart.contains(QStringLiteral("port")));
    QVERIFY(restart.contains(QStringLiteral("listen address")));
    QCOMPARE(tiles.count(), 1);                          // applied live
    QCOMPARE(s->tileSource().urlTemplate, QStringLiteral("https://tiles.example/{z}/{x}/{y}.png"));
    QCOMPARE(s->port(), quint16(6100));
    QCOMPARE(s->raw().value(QStringLiteral("server/acceptUnknownDevices")).toBool(), false);
}

void TestMainWindow::deviceDialogValidates() {
    td::store::Device d;
    d.id = 3;
    d.imei = QStringLiteral("864717003283581");
    td::ui::DeviceDialog dlg(d);
    dlg.nameEdit()->setText(QStringLiteral("  Minou "));
    dlg.phoneEdit()->setText(QStringLiteral("call me"));
    QVERIFY(!dlg.validate().isEmpty());
    dlg.phoneEdit()->setText(QStringLiteral("+49 176 1234-5678"));
    dlg.timeZoneBox()->setCurrentIndex(dlg.timeZoneBox()->findData(120));
    QVERIFY2(dlg.validate().isEmpty(), qPrintable(dlg.validate()));
    const td::store::Device out = dlg.device();
    QCOMPARE(out.name, QStringLiteral("Minou"));
    QCOMPARE(out.phone, QStringLiteral("+4917612345678"));
    QCOMPARE(out.timeZoneMinutes.value_or(-1), 120);
    QCOMPARE(out.imei, d.imei);
    // The model comes from the device's login: shown read-only (an edit was saved nowhere).
    auto *model = dlg.findChild<QLineEdit *>(QStringLiteral("deviceModel"));
    QVERIFY(model && model->isReadOnly());
    // Quarter-hour zones can be chosen; a JT/T 808 device's default says what it means.
    QVERIFY(dlg.timeZoneBox()->findData(5 * 60 + 45) > 0);
    QVERIFY(dlg.timeZoneBox()->itemText(0).contains(QLatin1String("login")));
    td::store::Device j = d;
    j.protocol = QStringLiteral("jt808");
    td::ui::DeviceDialog jdlg(j);
    QVERIFY2(jdlg.timeZoneBox()->itemText(0).contains(QLatin1String("UTC+08:00")), qPrintable(jdlg.timeZoneBox()->itemText(0)));
}

void TestMainWindow::clickingAByteSelectsTheInnermostField() {
    auto s = settingsIn(m_dir.path());
    td::ui::MainWindow w(*s, {});
    // A real GT06 0x22 GPS+LBS frame (tests/data/gt06_vectors.tsv); byte 20 lies in the course/status word, whose
    // children are bit fields over the same two bytes: the innermost one is selected.
    QVERIFY(w.inspector()->decodeHex(QStringLiteral(
        "787822220f0c1d023305c9027ac8180c46586000140001cc00287d001f71000001000820860d0a")));
    td::ui::FrameDetailView *d = w.inspector()->detail();
    const QList<int> path = td::proto::fieldPathAt(d->frame().fields, 20);
    QVERIFY(path.size() >= 2);
    d->hexView()->byteClicked(20);
    QCOMPARE(d->selectedFieldPath(), path);
    // Selecting a field highlights exactly its bytes.
    const td::proto::Field *f = &d->frame().fields[path[0]];
    for (int i = 1; i < path.size(); ++i)
        f = &f->children[path[i]];
    QCOMPARE(d->hexView()->highlightOffset(), f->offset);
    QCOMPARE(d->hexView()->highlightLength(), f->length);
    d->selectFieldPath({0});
    QCOMPARE(d->hexView()->highlightOffset(), 0);
    QCOMPARE(d->hexView()->highlightLength(), d->frame().fields[0].length);
}

// The greyed From/To fields show the range a preset loads ("Today" showed the last 24 hours);
// Custom starts from what was shown and keeps what the user types.
void TestMainWindow::historyRangeFieldsShowThePreset() {
    auto s = settingsIn(m_dir.path());
    td::StartOptions o;
    o.port = 6004;
    td::ui::MainWindow w(*s, o);
    auto *range = w.findChild<QComboBox *>(QStringLiteral("historyRange"));
    auto *from = w.findChild<QDateTimeEdit *>(QStringLiteral("historyFrom"));
    auto *to = w.findChild<QDateTimeEdit *>(QStringLiteral("historyTo"));
    QVERIFY(range && from && to);
    auto near = [](const QDateTime &a, const QDateTime &b) { return qAbs(a.secsTo(b)) <= 120; };
    range->setCurrentIndex(1);
    QVERIFY(!from->isEnabled() && !to->isEnabled());
    QVERIFY2(near(from->dateTime(), QDateTime::currentDateTime().addDays(-1)), qPrintable(from->dateTime().toString()));
    QVERIFY(near(to->dateTime(), QDateTime::currentDateTime()));
    range->setCurrentIndex(0);
    QVERIFY(!from->isEnabled());
    QCOMPARE(from->dateTime(), QDateTime(QDate::currentDate(), QTime(0, 0)));
    QVERIFY(near(to->dateTime(), QDateTime::currentDateTime()));
    range->setCurrentIndex(2);
    QVERIFY(from->isEnabled() && to->isEnabled());
    QCOMPARE(from->dateTime(), QDateTime(QDate::currentDate(), QTime(0, 0)));
    const QDateTime typed(QDate(2026, 1, 2), QTime(3, 4));
    from->setDateTime(typed);
    range->setCurrentIndex(2);
    QCOMPARE(from->dateTime(), typed);
}

// A tracker sending cells every minute with no geolocation provider set up put a message in
// the status bar each time (hiding the port and address shown there), with the error's token:
// now the words, once per kind of failure every 5 minutes.
void TestMainWindow::geolocationFailuresDoNotFloodTheStatusBar() {
    auto s = settingsIn(m_dir.path());
    td::StartOptions o;
    o.port = 6005;
    td::ui::MainWindow w(*s, o);
    td::geo::GeoService geo(nullptr);
    w.setGeoService(&geo);
    emit geo.resolveFailed(42, QStringLiteral("notConfigured: no geolocation provider is enabled"));
    const QString first = w.statusBar()->currentMessage();
    QVERIFY2(first.contains(QLatin1String("no geolocation provider is enabled")), qPrintable(first));
    QVERIFY2(!first.contains(QLatin1String("notConfigured")), qPrintable(first));
    w.statusBar()->clearMessage();
    emit geo.resolveFailed(43, QStringLiteral("notConfigured: no geolocation provider is enabled"));
    QVERIFY2(w.statusBar()->currentMessage().isEmpty(), qPrintable(w.statusBar()->currentMessage()));
    emit geo.resolveFailed(43, QStringLiteral("network: connection refused"));   // another kind: said
    QVERIFY(w.statusBar()->currentMessage().contains(QLatin1String("connection refused")));
}

// An ack copied from an "out" row and pasted into the decode box decoded as a broken login
// ("content too short for the 8-byte terminal ID"); a device's frame still reads as one.
void TestMainWindow::decodeBoxReadsPastedAcksAsServerMessages() {
    auto s = settingsIn(m_dir.path());
    td::ui::MainWindow w(*s, {});
    const QByteArray ack = td::proto::gt06::encodeAck(0x01, 1);
    QVERIFY(w.inspector()->decodeHex(QString::fromLatin1(ack.toHex())));
    const td::proto::DecodedFrame &f = w.inspector()->detail()->frame();
    QVERIFY2(f.ok(), qPrintable(f.warnings.join(QStringLiteral("; "))));
    QCOMPARE(f.message.kind, td::proto::MessageKind::Downlink);
    QVERIFY(w.inspector()->decodeHex(QStringLiteral("78780d01086471700328358100093f040d0a")));   // a login
    QCOMPARE(w.inspector()->detail()->frame().message.kind, td::proto::MessageKind::Login);
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"

