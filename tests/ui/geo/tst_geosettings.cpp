// Settings > Geolocation as a user drives it, against a running service and a loopback
// geolocation service: the tab, the providers and URL from the settings, a typed key that
// lands in the secret store (never in the settings file), the import with progress, the
// counters, and "Resolve pending now". With TD_SCREENSHOT=path the page is also saved as
// geosettings.png next to that path.
#include "fakegeoserver.h"

#include "dialogs/geosettingspage.h"
#include "dialogs/settingsdialog.h"
#include "geo/geoservice.h"
#include "geo/secretstore.h"
#include "service/trackerservice.h"

#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

using namespace td;

class TestGeoSettings : public QObject {
    Q_OBJECT
private slots:
    void pageDrivesGeolocation();
};

void TestGeoSettings::pageDrivesGeolocation() {
    qputenv("TRACKERDESK_SECRET_STORE", "file");   // never the developer's real keychain
    QTemporaryDir dir;
    test::FakeGeoServer web;
    QVERIFY(web.listen());
    AppSettings settings(dir.filePath(QStringLiteral("settings.ini")));
    settings.raw().setValue(QStringLiteral("geo/url"), web.url().toString());
    settings.raw().setValue(QStringLiteral("geo/minIntervalMs"), 0);
    settings.raw().setValue(QStringLiteral("geo/retryBaseSec"), 3600);
    TrackerService service;
    ServiceConfig config;
    config.dataDir = dir.filePath(QStringLiteral("data"));
    config.server.listeners = {server::ListenSpec{QHostAddress::LocalHost, 0, {}}};
    config.publishIntervalMs = 20;
    QString err;
    QVERIFY2(service.start(config, &err), qPrintable(err));
    geo::GeoService geoService(&service);
    const QStringList problems = geoService.startFromSettings(settings);
    QVERIFY2(geoService.isRunning(), qPrintable(problems.join(QLatin1Char('\n'))));
    QVERIFY(geoService.config().apiKey.isEmpty());

    ui::SettingsDialog dlg(settings);
    ui::GeoSettingsPage *page = dlg.geoPage();
    QVERIFY(page);
    page->setService(&geoService);
    QCOMPARE(dlg.tabs()->tabText(dlg.tabs()->indexOf(page)), QStringLiteral("Geolocation"));
    dlg.tabs()->setCurrentWidget(page);
    QCOMPARE(page->providerList()->count(), 2);
    QCOMPARE(page->providerList()->item(0)->data(Qt::UserRole).toString(), QStringLiteral("web"));
    QCOMPARE(page->providerList()->item(0)->checkState(), Qt::Checked);
    QCOMPARE(page->urlEdit()->text(), web.url().toString());
    QCOMPARE(page->keyEdit()->echoMode(), QLineEdit::Password);
    QVERIFY(page->resolveButton()->isVisible() || !dlg.isVisible());

    // A key typed into the page: secret store, never the settings file; applied live.
    const QString key = QStringLiteral("UI-TYPED-KEY-9931");
    page->keyEdit()->setText(key);
    page->budgetBox()->setValue(123);
    page->urlEdit()->setText(QStringLiteral("not a url"));
    QVERIFY(dlg.validate().contains(QStringLiteral("Geolocation URL")));
    page->urlEdit()->setText(web.url().toString());
    QVERIFY2(dlg.validate().isEmpty(), qPrintable(dlg.validate()));
    dlg.save();
    QCOMPARE(dlg.findChild<QLabel *>(QStringLiteral("settingsError"))->text(), QString());
    QVERIFY(page->keyEdit()->text().isEmpty());
    QVERIFY(page->keyEdit()->placeholderText().contains(QStringLiteral("set")));
    QFile ini(dir.filePath(QStringLiteral("settings.ini")));
    QVERIFY(ini.open(QIODevice::ReadOnly));
    const QByteArray iniText = ini.readAll();
    QVERIFY(iniText.contains("dailyBudget=123"));
    QVERIFY2(!iniText.contains(key.toUtf8()), iniText.constData());
    geo::SecretStore secrets(geoService.dataDir());
    QCOMPARE(secrets.read(geo::kApiKeySecret).value_or(QString()), key);
    QCOMPARE(geoService.config().apiKey, key);
    QCOMPARE(geoService.config().dailyBudget, 123);

    // Import with progress.
    const QString csv = dir.filePath(QStringLiteral("cells.csv"));
    {
        QFile f(csv);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal\n");
        for (int i = 0; i < 3000; ++i)
            f.write("GSM,262,1,77," + QByteArray::number(i) + ",,13.4,52.5,1000,3,1,1,1,0\n");
        f.write("GSM,262,1,77,oops,,13.4,52.5,1000,3,1,1,1,0\n");
    }
    QVERIFY(page->startImport(csv, &err));
    QVERIFY(!page->importButton()->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(page->importLabel()->text().contains(QStringLiteral("3000 cells imported")), 20000);
    QVERIFY(page->importLabel()->text().contains(QStringLiteral("1 bad lines")));
    QCOMPARE(page->importProgress()->value(), 1000);
    QVERIFY(page->importButton()->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(page->countersLabel()->text().contains(QRegularExpression(QStringLiteral("3.?000 cells"))), 5000);

    // A record that fails, shown in the counters; "Resolve pending now" resolves it.
    store::Device d;
    d.imei = QStringLiteral("359339075016208");
    QCOMPARE(service.addDevice(d), QString());
    const qint64 deviceId = service.deviceByImei(d.imei)->device.id;
    web.setMode(test::FakeGeoServer::ServerError);
    store::StoredPosition sp;
    sp.deviceId = deviceId;
    sp.serverTime = QDateTime::currentDateTimeUtc();
    sp.position.time = QDateTime::currentDateTimeUtc().addSecs(-60);
    sp.position.hasCoordinates = false;
    sp.position.source = proto::PositionSource::Wifi;
    sp.position.wifi = {{QStringLiteral("14:75:90:5b:d3:0e"), -37}, {QStringLiteral("00:1e:10:bb:f7:63"), -60}};
    emit service.positionsStored({sp});   // as the service publishes a Wi-Fi record
    QTRY_VERIFY_WITH_TIMEOUT(page->countersLabel()->text().contains(QStringLiteral("Last error")), 10000);
    QVERIFY(page->countersLabel()->text().contains(QStringLiteral("503")));
    QVERIFY(page->countersLabel()->text().contains(QStringLiteral("Pending: 1")));
    QVERIFY(page->resolveButton()->isEnabled());
    QCOMPARE(web.requests().last().key, key);
    dlg.resize(760, 900);
    dlg.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dlg));
    if (qEnvironmentVariableIsSet("TD_SCREENSHOT")) {
        const QString shot = QFileInfo(qEnvironmentVariable("TD_SCREENSHOT")).dir().filePath(QStringLiteral("geosettings.png"));
        QVERIFY(dlg.grab().save(shot));
        qInfo("page saved as %s", qPrintable(shot));
    }
    web.setMode(test::FakeGeoServer::Valid);
    QTest::mouseClick(page->resolveButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(page->countersLabel()->text().contains(QStringLiteral("Pending: 0")), 10000);
    QVERIFY(page->countersLabel()->text().contains(QStringLiteral("resolved: 1")));
    QVERIFY(!page->resolveButton()->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(service.device(deviceId)->lastFix.has_value(), 5000);
    QCOMPARE(service.device(deviceId)->lastFix->position.source, proto::PositionSource::Wifi);
    geoService.stop();
    service.stop();
}

QTEST_MAIN(TestGeoSettings)
#include "tst_geosettings.moc"
