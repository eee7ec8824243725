// Main window: the map in the centre, docks for devices, inspector and SMS, a status
// bar. Owns no network or storage state: it shows models fed by TrackerService and
// forwards user actions to the service.
#pragma once

#include "core/options.h"
#include "core/settings.h"

#include <QHash>
#include <QMainWindow>
#include <QPointer>

class QLabel;
class QTreeView;
class QDockWidget;

namespace td::geo {
class GeoService;
}
namespace td::sms {
class SmsService;
}

namespace td {
class TrackerService;
class DeviceListModel;
class DeviceMarkersModel;
class TrackModel;
}

namespace td::ui {

class MapWidget;
class InspectorPane;
class DevicesPane;
class SmsPane;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    // service may be null (no server: the window still works for decoding and browsing).
    MainWindow(AppSettings &settings, const StartOptions &options, TrackerService *service = nullptr,
               QWidget *parent = nullptr);
    ~MainWindow() override;

    MapWidget *map() const { return m_map; }
    InspectorPane *inspector() const { return m_inspector; }
    DevicesPane *devicesPane() const { return m_devicesPane; }
    QTreeView *deviceList() const;
    DeviceListModel *deviceModel() const { return m_deviceModel; }
    DeviceMarkersModel *markerModel() const { return m_markerModel; }
    TrackModel *trackModel() const { return m_track; }
    QDockWidget *devicesDock() const { return m_devicesDock; }
    QDockWidget *inspectorDock() const { return m_inspectorDock; }
    QDockWidget *smsDock() const { return m_smsDock; }
    // Geolocation of cell/Wi-Fi records (Settings > Geolocation, failures in the status bar).
    void setGeoService(geo::GeoService *geo);
    // SMS console, modem status and Settings > Modem.
    void setSmsService(sms::SmsService *sms);
    SmsPane *smsPane() const { return m_smsPane; }
    void showAbout();
    void showSettings();
    void showExport();
    void editDevice(qint64 deviceId);
    // Loads a device's track into the map (history). Returns an error text or empty.
    QString showHistory(qint64 deviceId, const QDateTime &from, const QDateTime &to);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void buildMenus();
    void buildStatusBar();
    void connectService();
    void restoreLayout();
    void saveLayout();
    void updateStatus();
    void loadFrameHistory(const QDateTime &from, const QDateTime &to);

    AppSettings &m_settings;
    StartOptions m_options;
    TrackerService *m_service;
    DeviceListModel *m_deviceModel;
    DeviceMarkersModel *m_markerModel;
    TrackModel *m_track;
    MapWidget *m_map = nullptr;
    InspectorPane *m_inspector = nullptr;
    DevicesPane *m_devicesPane = nullptr;
    QDockWidget *m_devicesDock = nullptr;
    QDockWidget *m_inspectorDock = nullptr;
    QDockWidget *m_smsDock = nullptr;
    QLabel *m_listenLabel = nullptr;
    QLabel *m_connLabel = nullptr;
    QLabel *m_rateLabel = nullptr;
    QLabel *m_modemLabel = nullptr;
    QPointer<geo::GeoService> m_geo;
    QHash<QString, QDateTime> m_geoFailureShown;   // kind of geolocation failure -> last shown
    QPointer<sms::SmsService> m_sms;
    SmsPane *m_smsPane = nullptr;
};

} // namespace td::ui
