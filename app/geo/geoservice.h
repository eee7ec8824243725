// GeoService: geolocation wired to the tracker service, created next to TrackerService
// (GUI and headless). It listens to TrackerService::positionsStored for records without
// coordinates that carry cells or Wi-Fi access points, hands them to the GeoResolver on its
// own thread, stores what comes back through TrackerService::addDerivedPositions (source
// wifi/lbs, the accuracy radius, the record's fix time, the inputs kept on the fix) and, for
// a Topin 0x69 record whose device is still online, sends the optional second reply with
// the position as text (78 78 LL 69 "+22.676746,+113.940940" 0D 0A).
// Offline databases are imported on a worker thread with progress and cancellation.
#pragma once

#include "geo/cellimport.h"
#include "geo/geoconfig.h"
#include "geo/geotypes.h"
#include "server/trackerserver.h"
#include "store/records.h"

#include <QObject>
#include <QPointer>
#include <atomic>
#include <memory>

class QThread;

namespace td {
class AppSettings;
class TrackerService;
}

namespace td::geo {

class GeoResolver;

class GeoService : public QObject {
    Q_OBJECT
public:
    explicit GeoService(TrackerService *service, QObject *parent = nullptr);
    ~GeoService() override;   // stop()s

    // Starts the resolver thread on the service's database. The service must be running.
    // The log lines go out through TrackerService::logMessage as well.
    bool start(const GeoConfig &config, QString *error);
    // start() with the configuration from the settings, the secret store (the platform's,
    // else <data folder>/secrets.json) and <data folder>/.env. Returns the problems found
    // and the start error, if any (for the log; geolocation is simply off after an error).
    QStringList startFromSettings(AppSettings &settings);
    // Re-reads the settings and the key (after the settings dialog saved them).
    void reloadSettings(AppSettings &settings);
    void stop();
    bool isRunning() const { return m_resolver != nullptr; }

    const GeoConfig &config() const { return m_config; }
    void setConfig(const GeoConfig &config);
    QString dataDir() const;
    QString databasePath() const;
    GeoStats stats() const { return m_stats; }
    // Pending records (blocking call into the resolver thread; for the UI and tests).
    QList<GeoRequest> pendingRecords(int limit = 1000) const;

    // Imports an OpenCelliD / Wi-Fi CSV in the background (see cellimport.h). False with
    // *error when one is already running or the service is stopped.
    bool importFile(const QString &path, QString *error = nullptr);
    void cancelImport();
    bool importRunning() const { return m_importThread != nullptr; }

public slots:
    // "Resolve pending now": every pending record is tried again.
    void resolvePending();

signals:
    void statsChanged(const td::geo::GeoStats &stats);
    void logMessage(td::server::LogLevel level, const QString &text);
    // A fix stored for a record (also published by TrackerService::positionsStored).
    void positionResolved(qint64 deviceId, const td::proto::Position &position);
    void resolveFailed(qint64 deviceId, const QString &error);
    void deviceReplySent(qint64 deviceId, const QByteArray &frame);
    void importProgress(qint64 bytesRead, qint64 bytesTotal, qint64 rows);
    void importFinished(const td::geo::ImportReport &report);

private:
    void onPositions(const QList<td::store::StoredPosition> &positions);
    void onResolved(const GeoRequest &request, const GeoResult &result);
    void onFailed(const GeoRequest &request, const GeoResult &result);
    void replyToDevice(const GeoRequest &request, const proto::Position &fix);

    TrackerService *m_service;
    GeoConfig m_config;
    QThread *m_thread = nullptr;
    GeoResolver *m_resolver = nullptr;
    GeoStats m_stats;
    QThread *m_importThread = nullptr;
    quint64 m_importGeneration = 0;
    std::shared_ptr<std::atomic<bool>> m_importCancel;
};

} // namespace td::geo

Q_DECLARE_METATYPE(td::geo::ImportReport)
