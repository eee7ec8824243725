// TrackerService: the one facade the GUI and the headless mode use. It owns the store
// (a query connection on the owner's thread, and the writer thread with group commit)
// and the tracker server (sockets on the owner's thread), and turns what the server
// commits into Qt signals for a UI: frames for the inspector in batches, device
// added/updated with live state, fixes stored, alarms, connection count, frames/s.
// Slots send commands to online devices and edit devices.
#pragma once

#include "server/trackerserver.h"
#include "store/store.h"

#include <QHostAddress>
#include <QObject>
#include <QSet>
#include <QTimer>
#include <memory>

namespace td {

class AppSettings;
struct StartOptions;

namespace store {
class StoreWriter;
}

struct ServiceConfig {
    QString dataDir;                      // empty: defaultDataDir()
    server::ServerConfig server;
    store::StoreOptions store;
    int commitWindowMs = 2;               // group-commit window
    int deferPositionsMs = 1000;          // see store::StoreOptions::deferPositionsMs
    int deferFromItems = 32;              // see store::StoreOptions::deferFromItems
    store::RetentionPolicy retention;     // raw frames
    int publishIntervalMs = 100;          // UI signals are batched this often
};

// Builds the configuration from the settings, with the command line winning.
// Keys (besides the server/... ones, see serverconfig.h): store/synchronous (full|normal),
// store/commitWindowMs, store/deferPositionsMs, store/deferFromItems, store/retentionDays,
// store/retentionFrames.
ServiceConfig serviceConfig(AppSettings &settings, const StartOptions &options, QStringList *problems);

// A device with its live state.
struct DeviceStatus {
    store::Device device;
    bool online = false;
    QString peer;                         // "address:port" while online
    std::optional<store::StoredPosition> lastFix;
    std::optional<proto::Status> status;
    QDateTime statusTime;
    QDateTime lastSeen;                   // last frame, UTC
};

struct AlarmInfo {
    qint64 deviceId = 0;
    QString imei;
    QString name;
    QString alarm;                        // "sos", "powerCut", ...
    std::optional<proto::Position> where;
    QDateTime time;
};

class TrackerService : public QObject {
    Q_OBJECT
public:
    explicit TrackerService(QObject *parent = nullptr);
    ~TrackerService() override;  // stop()s

    static QString defaultDataDir();

    bool start(const ServiceConfig &config, QString *error);
    // Stops accepting, commits what is pending, writes the last acks, closes everything.
    void stop(const QString &reason = QStringLiteral("server shutting down"));
    bool isRunning() const { return m_running; }

    QString databasePath() const { return m_dbPath; }
    QList<QPair<QHostAddress, quint16>> listening() const;
    // The query connection (owner's thread): positions, frames, devices for views/exporters.
    store::Store &store() { return m_store; }
    QList<DeviceStatus> devices() const { return m_status.values(); }
    std::optional<DeviceStatus> device(qint64 id) const;
    std::optional<DeviceStatus> deviceByImei(const QString &imei) const;
    int connectionCount() const;
    double framesPerSecond() const { return m_fps; }
    qint64 framesReceived() const;
    qint64 newFixCount() const { return m_positionsStored; }
    server::TrackerServer *server() const { return m_server.get(); }
    // Group-commit figures of the writer thread (commits, batch sizes, commit times).
    // (After stop(): the figures of the run that ended.)
    QString writerStats() const;
    // How long acks took inside the server (frame read -> ack written): count, p50/p90/p99/max.
    QString ackDelayStats() const;

public slots:
    // Sends a text command (GT06 0x80 online command / JT/T 808 0x8300 text message) to an
    // online device. Returns an error text, empty when queued (written after it is stored).
    QString sendCommand(qint64 deviceId, const QString &command);
    // Saves the user-editable device fields and applies them (blocking, time zone) live.
    QString updateDevice(const td::store::Device &device);
    // Adds a device to the list (allowlist); returns an error text, empty on success.
    QString addDevice(const td::store::Device &device);
    // Stores fixes that did not arrive in a tracker frame (an SMS position, a geolocated
    // cell/Wi-Fi position) and publishes them like live fixes (positionsStored, the device's
    // last fix). frameId: the stored frame they were derived from, 0 for none. Returns an
    // error text, empty on success; *stored: how many were new (resends are not stored twice).
    QString addDerivedPositions(qint64 deviceId, const td::proto::PositionList &positions,
                                qint64 frameId = 0, int *stored = nullptr);
    // Stores an outbound frame the caller encoded (e.g. the Topin 0x69 position reply) and
    // writes it if the device is online. Returns an error text, empty when queued.
    QString sendRawToDevice(qint64 deviceId, const QByteArray &bytes, int type, const QString &summary = {});
    void setAcceptUnknownDevices(bool accept);
    void setRetention(const td::store::RetentionPolicy &policy);

signals:
    void framesPublished(const QList<td::server::FrameRecord> &frames);
    void deviceAdded(const td::DeviceStatus &device);
    void deviceUpdated(const td::DeviceStatus &device);
    void positionsStored(const QList<td::store::StoredPosition> &positions);  // new fixes, batched
    void alarmRaised(const td::AlarmInfo &alarm);
    void commandReply(qint64 deviceId, const QString &text);
    void connectionOpened(const QString &peer);
    void connectionClosed(const QString &peer, const QString &deviceKey, const QString &reason);
    void connectionCountChanged(int count);
    void framesPerSecondChanged(double fps);
    void deviceRefused(const QString &imei, const QString &peer, const QString &reason);
    void logMessage(td::server::LogLevel level, const QString &text);
    void storeError(const QString &error);

protected:
    void connectNotify(const QMetaMethod &signal) override;
    void disconnectNotify(const QMetaMethod &signal) override;

private:
    void onCommitted(const QList<server::CommittedFrame> &frames);
    void publish();
    void markDirty(qint64 id);
    DeviceStatus *statusFor(qint64 id, const QString &imei);
    bool wants(const char *signal) const;

    ServiceConfig m_config;
    store::Store m_store;
    std::unique_ptr<store::StoreWriter> m_writer;
    std::unique_ptr<server::TrackerServer> m_server;
    QString m_finalWriterStats;                // of the last run, kept by stop()
    server::DelayHistogram m_finalAckDelays;
    QHash<qint64, DeviceStatus> m_status;
    QHash<QString, qint64> m_idByImei;
    QList<server::FrameRecord> m_frameBuffer;
    QList<store::StoredPosition> m_positionBuffer;
    QList<qint64> m_dirty;
    QSet<qint64> m_dirtySet;
    QList<qint64> m_added;
    QTimer m_publishTimer;
    QTimer m_rateTimer;
    qint64 m_lastFrames = 0;
    qint64 m_positionsStored = 0;
    double m_fps = 0;
    QString m_dbPath;
    quint16 m_commandSerial = 0;
    quint32 m_commandFlag = 1;
    bool m_running = false;
};

} // namespace td

Q_DECLARE_METATYPE(td::DeviceStatus)
Q_DECLARE_METATYPE(td::AlarmInfo)
