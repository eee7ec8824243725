#include "geo/geoservice.h"

#include "geo/georesolver.h"
#include "geo/geostore.h"
#include "geo/secretstore.h"
#include "service/trackerservice.h"

#include "trackerdesk/protocol/gt06.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QThread>

namespace td::geo {

GeoService::GeoService(TrackerService *service, QObject *parent) : QObject(parent), m_service(service) {
    qRegisterMetaType<td::geo::GeoRequest>();
    qRegisterMetaType<td::geo::GeoResult>();
    qRegisterMetaType<td::geo::GeoStats>();
    qRegisterMetaType<td::geo::ImportReport>();
    qRegisterMetaType<td::server::LogLevel>();
    if (m_service)
        connect(this, &GeoService::logMessage, m_service, &TrackerService::logMessage);
}

GeoService::~GeoService() { stop(); }

QString GeoService::databasePath() const { return m_service ? m_service->databasePath() : QString(); }

QString GeoService::dataDir() const { return QFileInfo(databasePath()).absolutePath(); }

bool GeoService::start(const GeoConfig &config, QString *error) {
    auto fail = [error](const QString &e) {
        if (error)
            *error = e;
        return false;
    };
    if (m_resolver)
        return fail(QStringLiteral("geolocation is already running"));
    if (!m_service || !m_service->isRunning())
        return fail(QStringLiteral("the tracker service is not running"));
    m_config = config;
    m_thread = new QThread;
    m_thread->setObjectName(QStringLiteral("geolocation"));
    m_resolver = new GeoResolver;
    m_resolver->moveToThread(m_thread);
    connect(m_resolver, &GeoResolver::resolved, this, &GeoService::onResolved);
    connect(m_resolver, &GeoResolver::failed, this, &GeoService::onFailed);
    connect(m_resolver, &GeoResolver::statsChanged, this, [this](const GeoStats &s) {
        m_stats = s;
        emit statsChanged(s);
    });
    connect(m_resolver, &GeoResolver::logMessage, this, &GeoService::logMessage);
    m_thread->start();
    bool ok = false;
    QString err;
    const QString db = databasePath();
    QMetaObject::invokeMethod(m_resolver, [&] { ok = m_resolver->open(db, config, &err); }, Qt::BlockingQueuedConnection);
    if (!ok) {
        stop();
        return fail(QStringLiteral("geolocation: %1").arg(err));
    }
    connect(m_service, &TrackerService::positionsStored, this, &GeoService::onPositions);
    return true;
}

QStringList GeoService::startFromSettings(AppSettings &settings) {
    QStringList messages;
    if (!m_service || !m_service->isRunning())
        return messages;
    SecretStore secrets(dataDir());
    const GeoConfig c = loadGeoConfig(settings, dataDir(), secrets, &messages);
    QString err;
    if (!start(c, &err))
        messages << QStringLiteral("geolocation is off: %1").arg(err);
    return messages;
}

void GeoService::reloadSettings(AppSettings &settings) {
    SecretStore secrets(dataDir());
    QStringList problems;
    const GeoConfig c = loadGeoConfig(settings, dataDir(), secrets, &problems);
    for (const QString &p : std::as_const(problems))
        emit logMessage(server::LogLevel::Warning, QStringLiteral("geolocation: %1").arg(p));
    setConfig(c);
}

void GeoService::stop() {
    if (m_importThread) {
        if (m_importCancel)
            m_importCancel->store(true);
        m_importThread->wait();
        delete m_importThread;
        m_importThread = nullptr;
        ++m_importGeneration;
    }
    if (m_service)
        disconnect(m_service, &TrackerService::positionsStored, this, &GeoService::onPositions);
    if (!m_resolver)
        return;
    QThread *home = thread();
    GeoResolver *r = m_resolver;
    // Closed on its own thread (its database connection and sockets live there), then
    // handed back so that it can be deleted here.
    QMetaObject::invokeMethod(r, [r, home] {
        r->shutdown();
        r->moveToThread(home);
    }, Qt::BlockingQueuedConnection);
    m_thread->quit();
    m_thread->wait();
    delete r;
    delete m_thread;
    m_resolver = nullptr;
    m_thread = nullptr;
}

void GeoService::setConfig(const GeoConfig &config) {
    m_config = config;
    if (!m_resolver)
        return;
    GeoResolver *r = m_resolver;
    QMetaObject::invokeMethod(r, [r, config] { r->setConfig(config); }, Qt::QueuedConnection);
}

void GeoService::resolvePending() {
    if (!m_resolver)
        return;
    GeoResolver *r = m_resolver;
    QMetaObject::invokeMethod(r, [r] { r->resolvePending(); }, Qt::QueuedConnection);
}

QList<GeoRequest> GeoService::pendingRecords(int limit) const {
    if (!m_resolver)
        return {};
    QList<GeoRequest> out;
    GeoResolver *r = m_resolver;
    QMetaObject::invokeMethod(r, [r, &out, limit] { out = r->pendingRecords(limit); }, Qt::BlockingQueuedConnection);
    return out;
}

void GeoService::onPositions(const QList<store::StoredPosition> &positions) {
    if (!m_resolver)
        return;
    QList<GeoRequest> batch;
    for (const store::StoredPosition &sp : positions) {
        const proto::Position &p = sp.position;
        if (p.hasCoordinates || (p.cells.isEmpty() && p.wifi.isEmpty()))
            continue;
        GeoRequest r;
        r.deviceId = sp.deviceId;
        r.frameId = sp.frameId;
        r.fixTime = (p.timeValid && p.time.isValid()) ? p.time.toUTC() : sp.serverTime.toUTC();
        r.query = GeoQuery::fromPosition(p);
        batch << r;
    }
    if (batch.isEmpty())
        return;
    GeoResolver *res = m_resolver;
    QMetaObject::invokeMethod(res, [res, batch] {
        for (const GeoRequest &r : batch)
            res->submit(r);
    }, Qt::QueuedConnection);
}

void GeoService::onResolved(const GeoRequest &request, const GeoResult &result) {
    proto::Position p;
    p.time = request.fixTime;
    p.timeValid = true;
    p.latitude = result.latitude;
    p.longitude = result.longitude;
    p.valid = true;
    p.source = result.source;
    p.accuracy = result.accuracy;
    p.hasCoordinates = true;
    p.cells = request.query.cells;
    p.wifi = request.query.wifi;
    int stored = 0;
    const QString err = m_service ? m_service->addDerivedPositions(request.deviceId, {p}, request.frameId, &stored)
                                  : QStringLiteral("no tracker service");
    if (!err.isEmpty()) {
        const QString text = QStringLiteral("geolocation: resolved position of device %1 not stored: %2").arg(request.deviceId).arg(err);
        emit logMessage(server::LogLevel::Error, text);
        emit resolveFailed(request.deviceId, text);
        return;
    }
    emit positionResolved(request.deviceId, p);
    replyToDevice(request, p);
}

void GeoService::onFailed(const GeoRequest &request, const GeoResult &result) {
    emit resolveFailed(request.deviceId, QStringLiteral("%1: %2").arg(geoErrorName(result.error), result.message));
}

void GeoService::replyToDevice(const GeoRequest &request, const proto::Position &fix) {
    if (!m_config.replyToDevices || request.frameId <= 0 || !m_service || !m_service->isRunning())
        return;
    store::FrameFilter f;
    f.afterId = request.frameId - 1;
    f.limit = 1;
    const QList<store::StoredFrame> frames = m_service->store().frames(f);
    if (frames.isEmpty() || frames.first().id != request.frameId)
        return;
    const store::StoredFrame &frame = frames.first();
    // Only the Topin Wi-Fi + LBS upload (0x69) asks for the position back; the offline
    // variant (0x17) and the standard GT06 LBS frames do not.
    if (frame.protocol != QLatin1String("topin") || frame.type != proto::gt06::MsgWifi2
        || frame.direction != proto::Direction::FromDevice)
        return;
    const qint64 age = frame.time.secsTo(QDateTime::currentDateTimeUtc());
    if (age > m_config.replyMaxAgeSec) {
        emit logMessage(server::LogLevel::Info,
                        QStringLiteral("geolocation: position of device %1 not sent back: the record is %2 min old")
                            .arg(request.deviceId).arg(age / 60));
        return;
    }
    const QByteArray bytes = proto::gt06::encodeTopinPositionText(fix.latitude, fix.longitude);
    const QString err = m_service->sendRawToDevice(request.deviceId, bytes, proto::gt06::MsgWifi2,
                                                   QStringLiteral("geolocated position %1,%2")
                                                       .arg(fix.latitude, 0, 'f', 6).arg(fix.longitude, 0, 'f', 6));
    if (!err.isEmpty()) {
        emit logMessage(server::LogLevel::Info, QStringLiteral("geolocation: position not sent back to device %1: %2").arg(request.deviceId).arg(err));
        return;
    }
    emit deviceReplySent(request.deviceId, bytes);
}

bool GeoService::importFile(const QString &path, QString *error) {
    auto fail = [error](const QString &e) {
        if (error)
            *error = e;
        return false;
    };
    if (m_importThread)
        return fail(QStringLiteral("an import is already running"));
    if (!m_resolver)
        return fail(QStringLiteral("geolocation is not running"));
    if (!QFileInfo(path).isFile())
        return fail(QStringLiteral("%1 is not a file").arg(path));
    m_importCancel = std::make_shared<std::atomic<bool>>(false);
    auto cancel = m_importCancel;
    const QString db = databasePath();
    const quint64 generation = ++m_importGeneration;
    m_importThread = QThread::create([this, cancel, db, path, generation] {
        GeoStore store;
        ImportReport rep;
        QString err;
        if (!store.open(db, &err)) {
            rep.file = path;
            rep.error = err;
        } else {
            QElapsedTimer t;
            t.start();
            qint64 last = -1000;
            rep = importGeoFile(store, path, cancel.get(), [&](qint64 done, qint64 total, qint64 rows) {
                if (t.elapsed() - last < 100)
                    return;
                last = t.elapsed();
                QMetaObject::invokeMethod(this, [this, done, total, rows] { emit importProgress(done, total, rows); },
                                          Qt::QueuedConnection);
            });
            store.close();
        }
        QMetaObject::invokeMethod(this, [this, rep, generation] {
            if (generation != m_importGeneration)
                return;   // stop() already collected this import
            if (m_importThread) {
                m_importThread->wait();
                delete m_importThread;
                m_importThread = nullptr;
            }
            emit importProgress(rep.bytesRead, rep.bytesTotal, rep.lines);
            emit logMessage(rep.error.isEmpty() ? server::LogLevel::Info : server::LogLevel::Error,
                            QStringLiteral("geolocation: %1").arg(rep.summary()));
            if ((rep.cells > 0 || rep.wifi > 0) && m_resolver) {
                GeoResolver *r = m_resolver;
                QMetaObject::invokeMethod(r, [r] { r->offlineDataChanged(); }, Qt::QueuedConnection);
            }
            emit importFinished(rep);
        }, Qt::QueuedConnection);
    });
    m_importThread->setObjectName(QStringLiteral("geo-import"));
    m_importThread->start(QThread::LowPriority);
    return true;
}

void GeoService::cancelImport() {
    if (m_importCancel)
        m_importCancel->store(true);
}

} // namespace td::geo
