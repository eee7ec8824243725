#include "service/trackerservice.h"

#include "core/options.h"
#include "core/settings.h"
#include "store/writer.h"

#include "trackerdesk/protocol/gt06.h"
#include "trackerdesk/protocol/jt808.h"

#include <QDir>
#include <QMetaMethod>
#include <QStandardPaths>
#include <QTimeZone>

namespace td {

namespace {

int settingInt(QSettings &s, const QString &key, int def, int min, int max, QStringList *problems) {
    const QVariant v = s.value(key);
    if (!v.isValid())
        return def;
    bool ok = false;
    const qlonglong n = v.toString().trimmed().toLongLong(&ok);
    if (!ok || n < min || n > max) {
        if (problems)
            *problems << QStringLiteral("setting %1 = '%2' is not a number from %3 to %4; using %5").arg(key, v.toString()).arg(min).arg(max).arg(def);
        return def;
    }
    return int(n);
}

void mergeStatus(std::optional<proto::Status> &into, const proto::Status &s) {
    if (!into) {
        into = s;
        return;
    }
    proto::Status &d = *into;
    if (s.batteryPercent) d.batteryPercent = s.batteryPercent;
    if (s.batteryVolts) d.batteryVolts = s.batteryVolts;
    if (s.gsmSignal) d.gsmSignal = s.gsmSignal;
    if (s.charging) d.charging = s.charging;
    if (s.acc) d.acc = s.acc;
    if (s.armed) d.armed = s.armed;
    if (s.gpsTracking) d.gpsTracking = s.gpsTracking;
    if (s.relayCut) d.relayCut = s.relayCut;
}

} // namespace

ServiceConfig serviceConfig(AppSettings &settings, const StartOptions &options, QStringList *problems) {
    ServiceConfig c;
    c.server = server::serverConfigFromSettings(settings, problems);
    if (options.port)
        c.server.listeners[0].port = *options.port;
    if (options.listen)
        for (server::ListenSpec &l : c.server.listeners)
            l.address = *options.listen;
    c.dataDir = options.dataDir.isEmpty() ? settings.dataDir() : options.dataDir;
    QSettings &s = settings.raw();
    const QString sync = s.value(QStringLiteral("store/synchronous"), QStringLiteral("full")).toString().trimmed().toLower();
    if (sync == QLatin1String("normal")) {
        c.store.synchronousFull = false;
    } else if (sync != QLatin1String("full") && problems) {
        *problems << QStringLiteral("setting store/synchronous = '%1' is not full or normal; using full").arg(sync);
    }
    c.commitWindowMs = settingInt(s, QStringLiteral("store/commitWindowMs"), c.commitWindowMs, 0, 100, problems);
    c.deferPositionsMs = settingInt(s, QStringLiteral("store/deferPositionsMs"), c.deferPositionsMs, 0, 60000, problems);
    c.deferFromItems = settingInt(s, QStringLiteral("store/deferFromItems"), c.deferFromItems, 1, 100000, problems);
    c.retention.maxAgeDays = settingInt(s, QStringLiteral("store/retentionDays"), 0, 0, 36500, problems);
    c.retention.maxFrames = settingInt(s, QStringLiteral("store/retentionFrames"), 0, 0, 2000000000, problems);
    if (problems)
        *problems << settings.problems();
    return c;
}

TrackerService::TrackerService(QObject *parent) : QObject(parent) {
    qRegisterMetaType<td::DeviceStatus>();
    qRegisterMetaType<td::AlarmInfo>();
    qRegisterMetaType<td::server::FrameRecord>();
    qRegisterMetaType<QList<td::server::FrameRecord>>();
    qRegisterMetaType<td::store::StoredPosition>();
    qRegisterMetaType<QList<td::store::StoredPosition>>();
    connect(&m_publishTimer, &QTimer::timeout, this, &TrackerService::publish);
    connect(&m_rateTimer, &QTimer::timeout, this, [this] {
        const qint64 n = framesReceived();
        m_fps = double(n - m_lastFrames);
        m_lastFrames = n;
        emit framesPerSecondChanged(m_fps);
    });
}

TrackerService::~TrackerService() { stop(); }

QString TrackerService::defaultDataDir() { return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation); }

bool TrackerService::start(const ServiceConfig &config, QString *error) {
    auto fail = [&](const QString &e) {
        if (error) *error = e;
        m_server.reset();
        if (m_writer)
            m_writer->stop();
        m_writer.reset();
        m_store.close();
        return false;
    };
    if (m_running)
        return fail(QStringLiteral("the service is already running"));
    m_config = config;
    const QString dir = config.dataDir.isEmpty() ? defaultDataDir() : config.dataDir;
    m_dbPath = QDir(dir).filePath(store::Store::fileName());
    if (!m_store.open(m_dbPath, config.store))
        return fail(m_store.lastError());

    m_writer = std::make_unique<store::StoreWriter>();
    store::WriterOptions wo;
    wo.path = m_dbPath;
    wo.store = config.store;
    wo.commitWindowMs = config.commitWindowMs;
    wo.deferPositionsMs = config.deferPositionsMs;
    wo.deferFromItems = config.deferFromItems;
    wo.trace = qEnvironmentVariableIntValue("TRACKERDESK_WRITER_TRACE") > 0;
    wo.retention = config.retention;
    QString err;
    if (!m_writer->start(wo, &err))
        return fail(err);
    connect(m_writer.get(), &store::StoreWriter::pruned, this, [this](qint64 n) {
        emit logMessage(server::LogLevel::Info, QStringLiteral("retention: %1 old raw frames removed").arg(n));
    });
    connect(m_writer.get(), &store::StoreWriter::pruneFailed, this, [this](const QString &e) {
        emit logMessage(server::LogLevel::Error, QStringLiteral("retention: pruning failed: %1").arg(e));
    });
    connect(m_writer.get(), &store::StoreWriter::problem, this, [this](const QString &e) {
        emit logMessage(server::LogLevel::Error, QStringLiteral("store: %1").arg(e));
    });

    m_server = std::make_unique<server::TrackerServer>(m_writer.get());
    server::TrackerServer *s = m_server.get();
    connect(s, &server::TrackerServer::committed, this, &TrackerService::onCommitted);
    connect(s, &server::TrackerServer::connectionOpened, this, &TrackerService::connectionOpened);
    // What the connection brought is published first: a log (headless) or a view reads the
    // last fix before the disconnect, not after it.
    connect(s, &server::TrackerServer::connectionClosed, this,
            [this](const QString &peer, const QString &deviceKey, const QString &reason) {
                publish();
                emit connectionClosed(peer, deviceKey, reason);
            });
    connect(s, &server::TrackerServer::connectionCountChanged, this, &TrackerService::connectionCountChanged);
    connect(s, &server::TrackerServer::deviceRefused, this, &TrackerService::deviceRefused);
    connect(s, &server::TrackerServer::logMessage, this, &TrackerService::logMessage);
    connect(s, &server::TrackerServer::storeFailed, this, &TrackerService::storeError);
    connect(s, &server::TrackerServer::deviceOnline, this, [this](const QString &imei, const QString &, const QString &peer) {
        const qint64 id = m_idByImei.value(imei);
        if (DeviceStatus *d = id ? &m_status[id] : nullptr) {
            d->online = true;
            d->peer = peer;
            markDirty(id);
        }
    });
    connect(s, &server::TrackerServer::deviceOffline, this, [this](const QString &imei, const QString &) {
        const qint64 id = m_idByImei.value(imei);
        if (DeviceStatus *d = id ? &m_status[id] : nullptr) {
            d->online = m_server && m_server->isOnline(imei);
            d->peer = d->online ? m_server->peerOf(imei) : QString();
            markDirty(id);
        }
    });

    m_status.clear();
    m_idByImei.clear();
    QHash<QString, server::DeviceEntry> entries;
    const QList<store::Device> devices = m_store.devices();
    const auto lastFix = m_store.lastPositions();
    const auto lastStatus = m_store.lastStatus();
    for (const store::Device &d : devices) {
        DeviceStatus ds;
        ds.device = d;
        ds.lastSeen = d.lastSeen;
        if (lastFix.contains(d.id))
            ds.lastFix = lastFix.value(d.id);
        if (lastStatus.contains(d.id)) {
            ds.status = lastStatus.value(d.id).status;
            ds.statusTime = lastStatus.value(d.id).time;
        }
        m_status.insert(d.id, ds);
        m_idByImei.insert(d.imei, d.id);
        entries.insert(d.imei, server::DeviceEntry{d.id, d.state, d.timeZoneMinutes});
    }
    s->setDevices(entries);
    s->setConfig(config.server);
    s->setDetailedReplies(wants("framesPublished(QList<td::server::FrameRecord>)"));
    if (!s->listen(&err))
        return fail(err);
    m_publishTimer.start(qMax(10, config.publishIntervalMs));
    m_rateTimer.start(1000);
    m_lastFrames = 0;
    m_running = true;
    return true;
}

void TrackerService::stop(const QString &reason) {
    if (!m_running)
        return;
    m_running = false;
    m_server->shutdown(reason);  // commits what is pending, writes the last acks
    publish();
    m_publishTimer.stop();
    m_rateTimer.stop();
    // The figures of the run, final now that the last commits and acks are done.
    m_finalWriterStats = m_writer->stats().text();
    m_finalAckDelays = m_server->ackDelays();
    m_server.reset();
    m_writer.reset();
    m_store.close();
}

QList<QPair<QHostAddress, quint16>> TrackerService::listening() const {
    return m_server ? m_server->boundAddresses() : QList<QPair<QHostAddress, quint16>>();
}

std::optional<DeviceStatus> TrackerService::device(qint64 id) const {
    const auto it = m_status.constFind(id);
    if (it == m_status.constEnd())
        return std::nullopt;
    return *it;
}

std::optional<DeviceStatus> TrackerService::deviceByImei(const QString &imei) const {
    const qint64 id = m_idByImei.value(imei);
    return id ? device(id) : std::nullopt;
}

QString TrackerService::writerStats() const { return m_writer ? m_writer->stats().text() : m_finalWriterStats; }

QString TrackerService::ackDelayStats() const {
    return (m_server ? m_server->ackDelays() : m_finalAckDelays).text(QStringLiteral("acks"));
}

int TrackerService::connectionCount() const { return m_server ? m_server->connectionCount() : 0; }

qint64 TrackerService::framesReceived() const { return m_server ? m_server->framesReceived() : 0; }

void TrackerService::connectNotify(const QMetaMethod &signal) {
    if (signal == QMetaMethod::fromSignal(&TrackerService::framesPublished) && m_server)
        m_server->setDetailedReplies(true);
}

void TrackerService::disconnectNotify(const QMetaMethod &signal) {
    if (signal == QMetaMethod::fromSignal(&TrackerService::framesPublished) && m_server)
        m_server->setDetailedReplies(wants("framesPublished(QList<td::server::FrameRecord>)"));
}

bool TrackerService::wants(const char *signal) const {
    const QMetaObject *mo = metaObject();
    const int index = mo->indexOfSignal(signal);
    return index >= 0 && isSignalConnected(mo->method(index));
}

DeviceStatus *TrackerService::statusFor(qint64 id, const QString &imei) {
    auto it = m_status.find(id);
    if (it != m_status.end())
        return &it.value();
    DeviceStatus ds;
    if (const auto d = m_store.device(id)) {
        ds.device = *d;
    } else {
        ds.device.id = id;
        ds.device.imei = imei;
    }
    m_idByImei.insert(ds.device.imei, id);
    m_added << id;
    return &m_status.insert(id, ds).value();
}

void TrackerService::markDirty(qint64 id) {
    if (!m_dirtySet.contains(id)) {
        m_dirtySet.insert(id);
        m_dirty << id;
    }
}

void TrackerService::onCommitted(const QList<server::CommittedFrame> &frames) {
    const bool wantFrames = wants("framesPublished(QList<td::server::FrameRecord>)");
    const bool wantPositions = wants("positionsStored(QList<td::store::StoredPosition>)");
    for (const server::CommittedFrame &cf : frames) {
        if (wantFrames && m_frameBuffer.size() < 100000) {
            m_frameBuffer.append(cf.frame);
            m_frameBuffer.append(cf.replies);
        }
        const qint64 id = cf.frame.deviceId;
        if (id <= 0 || cf.frame.deviceKey.isEmpty())
            continue;
        DeviceStatus *d = statusFor(id, cf.frame.deviceKey);
        if (cf.frame.direction == proto::Direction::FromDevice) {
            d->lastSeen = cf.frame.time;
            d->online = m_server->isOnline(cf.frame.deviceKey);
            d->peer = d->online ? m_server->peerOf(cf.frame.deviceKey) : QString();
            if (!cf.frame.protocol.isEmpty())
                d->device.protocol = cf.frame.protocol;
        }
        for (int i = 0; i < cf.positions.size(); ++i) {
            if (!cf.positionIsNew.value(i, false))
                continue;
            ++m_positionsStored;
            store::StoredPosition sp;
            sp.deviceId = id;
            sp.serverTime = cf.frame.time;
            sp.frameId = cf.frame.id;
            sp.position = cf.positions[i];
            if (!sp.position.time.isValid())
                sp.position.time = cf.frame.time;
            if (store::isPlausibleFix(sp.position) && (!d->lastFix || sp.position.time >= d->lastFix->position.time))
                d->lastFix = sp;
            if (wantPositions && m_positionBuffer.size() < 200000)
                m_positionBuffer.append(sp);
        }
        if (cf.status) {
            mergeStatus(d->status, *cf.status);
            d->statusTime = cf.frame.time;
        }
        // A resent alarm (its fix already stored) is not raised again.
        const bool resend = !cf.positions.isEmpty() && !cf.positionIsNew.value(0, false);
        if (!resend) {
            for (const QString &a : cf.alarms) {
                AlarmInfo info;
                info.deviceId = id;
                info.imei = d->device.imei;
                info.name = d->device.name;
                info.alarm = a;
                if (!cf.positions.isEmpty())
                    info.where = cf.positions.first();
                info.time = cf.frame.time;
                emit alarmRaised(info);
            }
        }
        if (cf.kind == proto::MessageKind::CommandReply && !cf.text.isEmpty())
            emit commandReply(id, cf.text);
        markDirty(id);
    }
}

void TrackerService::publish() {
    if (!m_frameBuffer.isEmpty()) {
        QList<server::FrameRecord> batch;
        batch.swap(m_frameBuffer);
        emit framesPublished(batch);
    }
    if (!m_positionBuffer.isEmpty()) {
        QList<store::StoredPosition> batch;
        batch.swap(m_positionBuffer);
        emit positionsStored(batch);
    }
    const QList<qint64> added = std::exchange(m_added, {});
    const QList<qint64> dirty = std::exchange(m_dirty, {});
    m_dirtySet.clear();
    for (qint64 id : added)
        emit deviceAdded(m_status.value(id));
    for (qint64 id : dirty)
        if (!added.contains(id))
            emit deviceUpdated(m_status.value(id));
}

// ---------------------------------------------------------------------------------------
// slots

QString TrackerService::sendCommand(qint64 deviceId, const QString &command) {
    if (!m_running)
        return QStringLiteral("the server is not running");
    const auto it = m_status.constFind(deviceId);
    if (it == m_status.constEnd())
        return QStringLiteral("no device with id %1").arg(deviceId);
    const QString imei = it->device.imei;
    const QString text = command.trimmed();
    if (text.isEmpty())
        return QStringLiteral("the command is empty");
    if (!m_server->isOnline(imei))
        return QStringLiteral("device %1 is offline; commands go to online devices only (or by SMS)").arg(imei);
    const QString protocol = m_server->protocolOf(imei);
    QByteArray frame;
    int type = -1;
    if (protocol == QLatin1String("gt06")) {
        if (text.toUtf8().size() > 1000)
            return QStringLiteral("the command is too long for a GT06 frame");
        frame = proto::gt06::encodeCommand(++m_commandSerial, m_commandFlag++, text);
        type = 0x80;  // GT06 online command
    } else if (protocol == QLatin1String("jt808")) {
        QString err;
        // 20-digit terminal ids are JT/T 808-2019 terminals; shorter ones use the 2013 header.
        const auto terminal = proto::jt808::terminalFromId(imei, imei.size() == 20, &err);
        if (!terminal)
            return QStringLiteral("cannot address terminal %1: %2").arg(imei, err);
        frame = proto::jt808::encodeTextMessage(*terminal, ++m_commandSerial, 0x01, text, 1, &err);
        if (frame.isEmpty())
            return QStringLiteral("cannot encode the command: %1").arg(err);
        type = proto::jt808::msg::TextMessage;
    } else {
        return QStringLiteral("online commands are not supported for protocol '%1'").arg(protocol);
    }
    if (frame.isEmpty())
        return QStringLiteral("cannot encode the command");
    return m_server->sendToDevice(imei, frame, type, QStringLiteral("command: %1").arg(text));
}

QString TrackerService::updateDevice(const store::Device &device) {
    if (!m_store.isOpen())
        return QStringLiteral("the store is not open");
    if (!m_store.updateDevice(device))
        return m_store.lastError();
    const auto fresh = m_store.device(device.id);
    if (!fresh)
        return m_store.lastError();
    DeviceStatus *d = statusFor(device.id, fresh->imei);
    d->device = *fresh;
    if (m_server)
        m_server->updateDevice(fresh->imei, server::DeviceEntry{fresh->id, fresh->state, fresh->timeZoneMinutes});
    markDirty(device.id);
    return {};
}

QString TrackerService::addDevice(const store::Device &device) {
    if (!m_store.isOpen())
        return QStringLiteral("the store is not open");
    if (m_store.deviceByImei(device.imei.trimmed()))
        return QStringLiteral("device %1 is already in the list").arg(device.imei.trimmed());
    const qint64 id = m_store.addDevice(device);
    if (id <= 0)
        return m_store.lastError();
    const auto fresh = m_store.device(id);
    if (!fresh)
        return m_store.lastError();
    statusFor(id, fresh->imei)->device = *fresh;
    if (m_server)
        m_server->updateDevice(fresh->imei, server::DeviceEntry{fresh->id, fresh->state, fresh->timeZoneMinutes});
    return {};
}

QString TrackerService::addDerivedPositions(qint64 deviceId, const proto::PositionList &positions,
                                            qint64 frameId, int *stored) {
    if (stored)
        *stored = 0;
    if (!m_store.isOpen())
        return QStringLiteral("the store is not open");
    const auto dev = m_store.device(deviceId);
    if (!dev)
        return QStringLiteral("no device with id %1").arg(deviceId);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QList<bool> isNew;
    if (!m_store.insertDerivedPositions(deviceId, now.toMSecsSinceEpoch(), frameId, positions, &isNew))
        return m_store.lastError();
    DeviceStatus *d = statusFor(deviceId, dev->imei);
    const bool wantPositions = wants("positionsStored(QList<td::store::StoredPosition>)");
    int count = 0;
    for (int i = 0; i < positions.size(); ++i) {
        if (!isNew.value(i, false))
            continue;
        ++count;
        ++m_positionsStored;
        store::StoredPosition sp;
        sp.deviceId = deviceId;
        sp.serverTime = now;
        sp.frameId = frameId;
        sp.position = positions[i];
        if (!sp.position.time.isValid())
            sp.position.time = now;
        if (store::isPlausibleFix(sp.position) && (!d->lastFix || sp.position.time >= d->lastFix->position.time))
            d->lastFix = sp;
        if (wantPositions && m_positionBuffer.size() < 200000)
            m_positionBuffer.append(sp);
    }
    if (count > 0)
        markDirty(deviceId);
    if (stored)
        *stored = count;
    return {};
}

QString TrackerService::sendRawToDevice(qint64 deviceId, const QByteArray &bytes, int type, const QString &summary) {
    if (!m_running)
        return QStringLiteral("the server is not running");
    const auto it = m_status.constFind(deviceId);
    if (it == m_status.constEnd())
        return QStringLiteral("no device with id %1").arg(deviceId);
    if (!m_server->isOnline(it->device.imei))
        return QStringLiteral("device %1 is offline").arg(it->device.imei);
    return m_server->sendToDevice(it->device.imei, bytes, type, summary);
}

void TrackerService::setAcceptUnknownDevices(bool accept) {
    m_config.server.acceptUnknownDevices = accept;
    if (m_server) {
        server::ServerConfig c = m_server->config();
        c.acceptUnknownDevices = accept;
        m_server->setConfig(c);
    }
}

void TrackerService::setRetention(const store::RetentionPolicy &policy) {
    m_config.retention = policy;
    if (m_writer)
        m_writer->setRetention(policy);
}

} // namespace td
