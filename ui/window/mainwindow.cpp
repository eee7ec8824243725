#include "window/mainwindow.h"

#include "dialogs/devicedialog.h"
#include "dialogs/exportdialog.h"
#include "dialogs/geosettingspage.h"
#include "dialogs/modemsettingspage.h"
#include "dialogs/settingsdialog.h"
#include "docks/devicesdock.h"
#include "docks/inspectordock.h"
#include "docks/smsdock.h"
#include "geo/geoservice.h"
#include "models/devicelistmodel.h"
#include "models/mapmodels.h"
#include "service/trackerservice.h"
#include "sms/smsservice.h"
#include "widgets/mapwidget.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QNetworkInterface>
#include <QQuickItem>
#include <QStatusBar>
#include <QTreeView>

#include <algorithm>

namespace td::ui {

MainWindow::MainWindow(AppSettings &settings, const StartOptions &options, TrackerService *service, QWidget *parent)
    : QMainWindow(parent), m_settings(settings), m_options(options), m_service(service) {
    setObjectName(QStringLiteral("MainWindow"));
    setWindowTitle(QStringLiteral("TrackerDesk"));
    setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks | QMainWindow::AllowNestedDocks);

    m_deviceModel = new DeviceListModel(this);
    m_markerModel = new DeviceMarkersModel(this);
    m_track = new TrackModel(this);

    m_map = new MapWidget(settings.tileSource(), this);
    m_map->setObjectName(QStringLiteral("map"));
    m_map->setMinimumSize(320, 240);
    m_map->setModels(m_markerModel, m_track);
    setCentralWidget(m_map);

    m_devicesPane = new DevicesPane(m_deviceModel, this);
    m_devicesDock = new QDockWidget(tr("Devices"), this);
    m_devicesDock->setObjectName(QStringLiteral("devicesDock"));
    m_devicesDock->setWidget(m_devicesPane);
    addDockWidget(Qt::LeftDockWidgetArea, m_devicesDock);

    m_inspector = new InspectorPane(this);
    m_inspectorDock = new QDockWidget(tr("Inspector"), this);
    m_inspectorDock->setObjectName(QStringLiteral("inspectorDock"));
    m_inspectorDock->setWidget(m_inspector);
    addDockWidget(Qt::BottomDockWidgetArea, m_inspectorDock);

    m_smsDock = new QDockWidget(tr("SMS"), this);
    m_smsDock->setObjectName(QStringLiteral("smsDock"));
    m_smsPane = new SmsPane(this);
    m_smsDock->setWidget(m_smsPane);
    addDockWidget(Qt::RightDockWidgetArea, m_smsDock);

    // The map is the main view: give the docks modest default sizes.
    resizeDocks({m_devicesDock, m_smsDock}, {380, 260}, Qt::Horizontal);
    resizeDocks({m_inspectorDock}, {300}, Qt::Vertical);

    // Devices pane actions
    connect(m_devicesPane, &DevicesPane::showHistory, this, [this](qint64 id, const QDateTime &f, const QDateTime &t) {
        const QString err = showHistory(id, f, t);
        if (!err.isEmpty())
            m_devicesPane->setHistoryInfo(err);
    });
    connect(m_devicesPane, &DevicesPane::clearHistory, this, [this] {
        m_track->clear();
        m_devicesPane->setHistoryInfo(QString());
    });
    connect(m_devicesPane, &DevicesPane::followRequested, this, [this](qint64 id) {
        m_map->setAutoFit(false);   // the user chose what to look at
        m_map->follow(id);
        const store::Device &d = m_deviceModel->deviceAt(m_deviceModel->rowOfDevice(id)).device;
        const QString who = d.name.isEmpty() ? d.imei : d.name;
        const QGeoCoordinate c = m_markerModel->coordinateOf(id);
        if (c.isValid()) {
            m_map->centerOn(c, 16);
            statusBar()->showMessage(tr("Following %1 (pan the map to stop)").arg(who), 5000);
        } else {   // the map goes to it with its first position (the marker's move is followed)
            statusBar()->showMessage(tr("Following %1: no position yet, the map goes to it when one arrives (pan the map to stop)").arg(who), 8000);
        }
    });
    connect(m_devicesPane, &DevicesPane::centerRequested, this, [this](qint64 id) {
        const QGeoCoordinate c = m_markerModel->coordinateOf(id);
        if (c.isValid()) {
            m_map->setAutoFit(false);
            m_map->centerOn(c, 16);
            m_map->selectDevice(id);
        } else {
            statusBar()->showMessage(tr("This device has not sent a position yet."), 5000);
        }
    });
    connect(m_devicesPane, &DevicesPane::editRequested, this, &MainWindow::editDevice);
    connect(m_devicesPane, &DevicesPane::blockRequested, this, [this](qint64 id, bool block) {
        if (!m_service) return;
        const auto d = m_service->device(id);
        if (!d) return;
        store::Device dev = d->device;
        dev.state = block ? store::DeviceState::Blocked : store::DeviceState::Accepted;
        const QString err = m_service->updateDevice(dev);
        if (!err.isEmpty()) QMessageBox::warning(this, tr("Device"), err);
    });
    connect(m_deviceModel, &DeviceListModel::deviceEdited, this, [this](const store::Device &d) {
        if (!m_service) return;
        const QString err = m_service->updateDevice(d);
        if (!err.isEmpty()) QMessageBox::warning(this, tr("Device"), err);
    });
    connect(m_map, &MapWidget::markerClicked, m_devicesPane, &DevicesPane::selectDevice);
    connect(m_inspector, &InspectorPane::historyRequested, this, &MainWindow::loadFrameHistory);

    buildMenus();
    buildStatusBar();
    connectService();
    restoreLayout();
    for (const QString &p : settings.problems())
        statusBar()->showMessage(p, 15000);
}

MainWindow::~MainWindow() = default;

QTreeView *MainWindow::deviceList() const { return m_devicesPane->view(); }

void MainWindow::connectService() {
    if (!m_service)
        return;
    m_deviceModel->attach(m_service);
    m_markerModel->attach(m_service);
    auto refreshNames = [this] {
        QHash<QString, QString> names;
        QStringList labels;
        for (int i = 0; i < m_deviceModel->rowCount(); ++i) {
            const store::Device &d = m_deviceModel->deviceAt(i).device;
            if (!d.name.isEmpty()) names.insert(d.imei, d.name);
            labels << (d.name.isEmpty() ? d.imei : d.name);
        }
        m_inspector->model()->setDeviceNames(names);
        m_inspector->setKnownDevices(labels);
    };
    refreshNames();
    connect(m_service, &TrackerService::deviceAdded, this, refreshNames);
    connect(m_service, &TrackerService::deviceUpdated, this, [this, refreshNames](const DeviceStatus &d) {
        if (m_inspector->model()->deviceNames().value(d.device.imei) != d.device.name)
            refreshNames();  // renamed
    });
    connect(m_service, &TrackerService::framesPublished, m_inspector->model(), &FrameListModel::appendFrames);
    connect(m_service, &TrackerService::connectionCountChanged, this, &MainWindow::updateStatus);
    connect(m_service, &TrackerService::framesPerSecondChanged, this, &MainWindow::updateStatus);
    connect(m_service, &TrackerService::alarmRaised, this, [this](const AlarmInfo &a) {
        statusBar()->showMessage(tr("ALARM %1 from %2").arg(a.alarm, a.name.isEmpty() ? a.imei : a.name), 30000);
    });
    connect(m_service, &TrackerService::deviceRefused, m_devicesPane, &DevicesPane::addRefused);
    connect(m_devicesPane, &DevicesPane::acceptRequested, this, [this](const QString &imei) {
        store::Device d;
        d.imei = imei;
        const QString err = m_service->addDevice(d);
        if (!err.isEmpty()) {
            QMessageBox::warning(this, tr("Device"), err);
            return;
        }
        m_devicesPane->removeRefused(imei);
        statusBar()->showMessage(tr("%1 accepted: its next connection is served.").arg(imei), 8000);
    });
    connect(m_service, &TrackerService::storeError, this, [this](const QString &e) {
        statusBar()->showMessage(tr("Database problem: %1").arg(e), 60000);
    });
    updateStatus();
}

void MainWindow::buildMenus() {
    QMenu *file = menuBar()->addMenu(tr("&File"));
    QAction *exportAction = file->addAction(tr("&Export tracks or frames…"), this, &MainWindow::showExport);
    exportAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    exportAction->setEnabled(m_service != nullptr);
    file->addAction(tr("&Settings…"), this, &MainWindow::showSettings);
    file->addSeparator();
    QAction *quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu *view = menuBar()->addMenu(tr("&View"));
    view->addAction(m_devicesDock->toggleViewAction());
    view->addAction(m_inspectorDock->toggleViewAction());
    view->addAction(m_smsDock->toggleViewAction());
    view->addSeparator();
    view->addAction(tr("Stop following"), this, [this] { m_map->follow(-1); });

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About TrackerDesk"), this, &MainWindow::showAbout);
    help->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt);
}

static QStringList lanAddresses() {
    QStringList out;
    for (const QHostAddress &a : QNetworkInterface::allAddresses())
        if (!a.isLoopback() && a.protocol() == QAbstractSocket::IPv4Protocol)
            out << a.toString();
    return out;
}

void MainWindow::buildStatusBar() {
    m_listenLabel = new QLabel(this);
    m_listenLabel->setObjectName(QStringLiteral("listenLabel"));
    m_listenLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_connLabel = new QLabel(this);
    m_connLabel->setObjectName(QStringLiteral("connectionLabel"));
    m_rateLabel = new QLabel(this);
    m_rateLabel->setObjectName(QStringLiteral("rateLabel"));
    m_modemLabel = new QLabel(tr("Modem: none"), this);
    m_modemLabel->setObjectName(QStringLiteral("modemLabel"));
    statusBar()->addWidget(m_listenLabel, 1);
    statusBar()->addPermanentWidget(m_connLabel);
    statusBar()->addPermanentWidget(m_rateLabel);
    statusBar()->addPermanentWidget(m_modemLabel);
    updateStatus();
}

void MainWindow::updateStatus() {
    const QStringList lan = lanAddresses();
    const QString machine = lan.isEmpty() ? tr("no LAN address") : lan.join(QStringLiteral(", "));
    if (m_service && m_service->isRunning()) {
        QStringList bound;
        for (const auto &l : m_service->listening())
            bound << (l.first == QHostAddress::Any || l.first == QHostAddress::AnyIPv6 || l.first == QHostAddress::AnyIPv4
                          ? tr("port %1").arg(l.second) : QStringLiteral("%1:%2").arg(l.first.toString()).arg(l.second));
        m_listenLabel->setText(tr("Listening on %1 — this machine: %2").arg(bound.join(QStringLiteral(", ")), machine));
        m_connLabel->setText(tr("%n connection(s)", nullptr, m_service->connectionCount()));
        m_rateLabel->setText(tr("%1 frames/s").arg(m_service->framesPerSecond(), 0, 'f', 1));
    } else {
        const quint16 port = m_options.port.value_or(m_settings.port());
        m_listenLabel->setText(tr("Tracker port %1 — this machine: %2").arg(port).arg(machine));
        m_connLabel->setText(tr("Server not running"));
        m_rateLabel->setText(tr("0 frames/s"));
    }
    m_listenLabel->setToolTip(tr("Point the tracker's SERVER command at one of these addresses and the port."));
}

QString MainWindow::showHistory(qint64 deviceId, const QDateTime &from, const QDateTime &to) {
    if (!m_service)
        return tr("No database is open.");
    QString err;
    if (!m_track->load(m_service->store(), deviceId, from, to, 10, true, &err))
        return tr("Could not load the track: %1").arg(err);
    const int row = m_deviceModel->rowOfDevice(deviceId);
    if (row >= 0)
        m_track->setColor(DeviceListModel::colorFor(m_deviceModel->deviceAt(row).device));
    m_devicesPane->setHistoryInfo(m_track->pointCount() == 0
        ? tr("No fixes between %1 and %2.").arg(from.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm")),
                                                 to.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm")))
        : tr("%n fix(es)", nullptr, m_track->pointCount()) + tr(" in %n span(s)", nullptr, m_track->segmentCount()));
    if (m_track->pointCount() > 0) {
        m_map->follow(-1);
        m_map->fitTrack();
    }
    return {};
}

void MainWindow::loadFrameHistory(const QDateTime &from, const QDateTime &to) {
    if (!m_service)
        return;
    store::FrameFilter f;
    f.from = from;
    f.to = to;
    f.limit = m_inspector->model()->maxRows();
    f.newestFirst = true;   // a range with more frames than the list holds: its newest ones
    QHash<qint64, QString> keys;
    for (const DeviceStatus &d : m_service->devices())
        keys.insert(d.device.id, d.device.imei);
    QList<FrameRow> rows;
    const bool ok = m_service->store().forEachFrame(f, [&](const store::StoredFrame &sf) {
        rows.append(rowFromStored(sf, keys.value(sf.deviceId)));
        return true;
    });
    if (!ok) {
        statusBar()->showMessage(tr("Could not read stored frames: %1").arg(m_service->store().lastError()), 15000);
        return;
    }
    std::reverse(rows.begin(), rows.end());   // shown oldest first, as live frames arrive
    m_inspector->model()->clear();
    m_inspector->model()->appendFrames(rows);
    m_inspector->model()->flush();
    statusBar()->showMessage(rows.size() >= f.limit
                                 ? tr("the newest %n stored frame(s) of the range loaded (the list holds no more; narrow the range for older ones)",
                                      nullptr, int(rows.size()))
                                 : tr("%n stored frame(s) loaded", nullptr, int(rows.size())),
                             8000);
}

void MainWindow::editDevice(qint64 deviceId) {
    if (!m_service)
        return;
    const auto d = m_service->device(deviceId);
    if (!d)
        return;
    DeviceDialog dlg(d->device, this);
    if (dlg.exec() != QDialog::Accepted)
        return;
    const QString err = m_service->updateDevice(dlg.device());
    if (!err.isEmpty())
        QMessageBox::warning(this, tr("Device"), err);
}

void MainWindow::showExport() {
    if (!m_service)
        return;
    ExportDialog dlg(m_service->databasePath(), m_deviceModel, this);
    dlg.exec();
}

void MainWindow::setGeoService(geo::GeoService *geo) {
    m_geo = geo;
    if (geo)
        connect(geo, &geo::GeoService::resolveFailed, this, [this](qint64 deviceId, const QString &e) {
            // "notConfigured: no geolocation provider is enabled": the kind, then the words.
            const QString kind = e.section(QStringLiteral(": "), 0, 0);
            const bool token = !kind.contains(QLatin1Char(' ')) && kind.size() < e.size();
            // One message per kind of failure every 5 minutes: a tracker that sends cells every
            // minute with no provider set up kept the status bar, and the port shown in it, covered.
            const QDateTime now = QDateTime::currentDateTimeUtc();
            QDateTime &last = m_geoFailureShown[token ? kind : e];
            if (last.isValid() && last.secsTo(now) < 300)
                return;
            last = now;
            const auto d = m_service ? m_service->device(deviceId) : std::nullopt;
            const QString who = !d ? QString::number(deviceId) : d->device.name.isEmpty() ? d->device.imei : d->device.name;
            statusBar()->showMessage(tr("Geolocation of a cell/Wi-Fi position of %1 failed: %2 (Settings > Geolocation)")
                                         .arg(who, token ? e.section(QStringLiteral(": "), 1) : e),
                                     15000);
        });
}

void MainWindow::setSmsService(sms::SmsService *sms) {
    m_sms = sms;
    m_smsPane->setServices(sms, m_service);
    const QStringList lan = lanAddresses();
    m_smsPane->setServerAddress(lan.value(0), m_service && !m_service->listening().isEmpty() ? m_service->listening().first().second
                                                                                         : m_options.port.value_or(m_settings.port()));
    connect(m_smsPane, &SmsPane::modemStatusChanged, this, [this](const QString &s) {
        m_modemLabel->setText(tr("Modem: %1").arg(s.isEmpty() ? tr("none") : s));
    });
    connect(m_devicesPane->view()->selectionModel(), &QItemSelectionModel::currentChanged, m_smsPane, [this] {
        if (const qint64 id = m_devicesPane->currentDeviceId(); id > 0)
            m_smsPane->showDevice(id);
    });
    if (sms)
        m_modemLabel->setText(tr("Modem: %1").arg(sms->modemStatus()));
}

void MainWindow::showSettings() {
    SettingsDialog dlg(m_settings, this);
    dlg.geoPage()->setService(m_geo);
    if (m_service)
        dlg.modemPage()->setDataDir(QFileInfo(m_service->databasePath()).absolutePath());
    if (m_sms)
        connect(dlg.modemPage(), &ModemSettingsPage::modemChanged, m_sms, &sms::SmsService::setModem);
    connect(&dlg, &SettingsDialog::tileSourceChanged, m_map, &MapWidget::setTileSource);
    if (m_service) {
        connect(&dlg, &SettingsDialog::acceptUnknownChanged, m_service, &TrackerService::setAcceptUnknownDevices);
        connect(&dlg, &SettingsDialog::retentionChanged, this, [this](int days, qint64 frames) {
            store::RetentionPolicy p;
            p.maxAgeDays = days;
            p.maxFrames = frames;
            m_service->setRetention(p);
        });
        connect(&dlg, &SettingsDialog::idleTimeoutChanged, this, [this](int s) {
            if (!m_service->server()) return;
            server::ServerConfig c = m_service->server()->config();
            c.idleTimeoutSec = s;
            m_service->server()->setConfig(c);
        });
    }
    if (dlg.exec() != QDialog::Accepted)
        return;
}

void MainWindow::restoreLayout() {
    QSettings &s = m_settings.raw();
    if (!restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray()))
        resize(1280, 800);
    restoreState(s.value(QStringLiteral("window/state")).toByteArray());
    // Where the map was (shown when no device has a position yet: otherwise the map fits
    // the devices). A corrupt value is ignored.
    const QGeoCoordinate c(s.value(QStringLiteral("map/latitude")).toDouble(), s.value(QStringLiteral("map/longitude")).toDouble());
    const double zoom = s.value(QStringLiteral("map/zoom")).toDouble();
    if (s.contains(QStringLiteral("map/latitude")) && c.isValid() && zoom >= 1 && zoom <= 22)
        m_map->centerOn(c, zoom);
}

void MainWindow::saveLayout() {
    QSettings &s = m_settings.raw();
    s.setValue(QStringLiteral("window/geometry"), saveGeometry());
    s.setValue(QStringLiteral("window/state"), saveState());
    if (QQuickItem *r = m_map->mapRoot()) {
        const QGeoCoordinate c = r->property("currentCenter").value<QGeoCoordinate>();
        if (c.isValid()) {
            s.setValue(QStringLiteral("map/latitude"), c.latitude());
            s.setValue(QStringLiteral("map/longitude"), c.longitude());
            s.setValue(QStringLiteral("map/zoom"), r->property("currentZoom").toDouble());
        }
    }
    s.sync();
}

void MainWindow::closeEvent(QCloseEvent *event) {
    saveLayout();
    event->accept();
}

void MainWindow::showAbout() {
    QMessageBox::about(this, tr("About TrackerDesk"),
        tr("<h3>TrackerDesk %1</h3>"
           "<p>Your own server, map and packet inspector for GSM GPS trackers "
           "(GT06 / Concox / Topin and JT/T 808 families): where is my cat right now, "
           "where was it today.</p>"
           "<p>Built with Qt %2. Map data © OpenStreetMap contributors.</p>")
            .arg(QStringLiteral(TD_VERSION), QString::fromLatin1(qVersion())));
}

} // namespace td::ui
