#include "widgets/mapwidget.h"

#include "models/mapmodels.h"

#include <QDir>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTimer>
#include <QQmlEngine>
#include <QQuickItem>

#include <algorithm>

namespace td::ui {

MapWidget::MapWidget(const TileSource &tiles, QWidget *parent) : QQuickWidget(parent), m_tiles(tiles) {
    setResizeMode(QQuickWidget::SizeRootObjectToView);
    m_net = new QNetworkAccessManager(this);
    m_probeRetry = new QTimer(this);
    m_probeRetry->setSingleShot(true);
    m_probeRetry->setInterval(60000);
    connect(m_probeRetry, &QTimer::timeout, this, &MapWidget::probeTiles);
    QDir().mkpath(tiles.cacheDir);
    connect(this, &QQuickWidget::statusChanged, this, [this](QQuickWidget::Status s) {
        if (s == QQuickWidget::Error) {
            QStringList e;
            for (const QQmlError &err : errors())
                e << err.toString();
            m_errors = e.join(QLatin1Char('\n'));
            qWarning("map: QML failed to load: %s", qPrintable(m_errors));
        }
    });
    setSource(QUrl(QStringLiteral("qrc:/qt/qml/TrackerDesk/Map/TrackerMap.qml")));
    if (QQuickItem *r = rootObject()) {
        r->setProperty("userAgent", QStringLiteral("TrackerDesk/" TD_VERSION));
        connect(r, SIGNAL(markerClicked(int)), this, SLOT(onMarkerClicked(int)));
        connect(r, SIGNAL(readyChanged()), this, SLOT(onMapReadyChanged()));
        setTileSource(tiles);
    }
}

QQuickItem *MapWidget::mapRoot() const { return rootObject(); }

bool MapWidget::isMapReady() const {
    return rootObject() && rootObject()->property("ready").toBool();
}

void MapWidget::setTileSource(const TileSource &tiles) {
    m_tiles = tiles;
    QDir().mkpath(tiles.cacheDir);
    if (QQuickItem *r = rootObject()) {
        // The cache folder first: the map is (re)built when tileHost changes.
        r->setProperty("cacheDirectory", tiles.cacheDir);
        r->setProperty("tileHost", tiles.osmPluginHost());
    }
    probeTiles();
}

void MapWidget::probeTiles() {
    m_probeRetry->stop();
    if (m_probe) {
        m_probe->disconnect(this);
        m_probe->abort();
        m_probe->deleteLater();
        m_probe = nullptr;
    }
    QString url = m_tiles.urlTemplate;
    url.replace(QLatin1String("{z}"), QLatin1String("0")).replace(QLatin1String("{x}"), QLatin1String("0")).replace(QLatin1String("{y}"), QLatin1String("0"));
    QNetworkRequest req{QUrl(url)};
    req.setHeader(QNetworkRequest::UserAgentHeader, QStringLiteral("TrackerDesk/" TD_VERSION));
    req.setTransferTimeout(15000);
    m_probe = m_net->get(req);
    QNetworkReply *reply = m_probe;
    connect(reply, &QNetworkReply::finished, this, [this, reply] {
        reply->deleteLater();
        if (reply != m_probe)
            return;
        m_probe = nullptr;
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (reply->error() == QNetworkReply::NoError && (status == 0 || status < 400)) {
            setTileError({});
            return;
        }
        const QString host = reply->url().host();
        setTileError(tr("Map tiles cannot be loaded from %1: %2. Markers and tracks are still drawn; "
                        "the tile source is in Settings.")
                         .arg(host.isEmpty() ? reply->url().toString() : host, reply->errorString()));
        m_probeRetry->start();   // the network may come back
    });
}

void MapWidget::setTileError(const QString &error) {
    if (error == m_tileError)
        return;
    m_tileError = error;
    if (!error.isEmpty())
        qWarning("map: %s", qPrintable(error));
    if (QQuickItem *r = rootObject())
        r->setProperty("tileError", error);
    emit tileErrorChanged(error);
}


void MapWidget::setModels(DeviceMarkersModel *markers, TrackModel *track) {
    QQuickItem *r = rootObject();
    if (!r)
        return;
    r->setProperty("markers", QVariant::fromValue<QObject *>(markers));
    r->setProperty("track", QVariant::fromValue<QObject *>(track));
    m_markers = markers;
    if (markers) {
        auto bump = [r] { r->setProperty("markersRevision", r->property("markersRevision").toInt() + 1); };
        connect(markers, &QAbstractItemModel::dataChanged, r, bump);
        connect(markers, &QAbstractItemModel::rowsInserted, r, bump);
        connect(markers, &QAbstractItemModel::rowsRemoved, r, bump);
        // A device appears on the map: show it (and the others) unless the user moved the map.
        connect(markers, &QAbstractItemModel::rowsInserted, this, &MapWidget::autoFit);
        connect(markers, &QAbstractItemModel::modelReset, this, &MapWidget::autoFit);
        autoFit();
    }
}

void MapWidget::setAutoFit(bool on) {
    m_autoFit = on;
    if (on)
        autoFit();
}

bool MapWidget::userMovedMap() const {
    return rootObject() && rootObject()->property("userMoved").toBool();
}

void MapWidget::autoFit() {
    if (m_autoFit && !userMovedMap())
        fitMarkers();
}

void MapWidget::onMapReadyChanged() {
    if (m_fitPending && isMapReady()) {
        m_fitPending = false;
        fitMarkers();
    }
}

void MapWidget::fitMarkers() {
    QQuickItem *r = rootObject();
    if (!r || !m_markers)
        return;
    QGeoRectangle box = m_markers->bounds();
    if (!box.isValid())
        return;
    if (!isMapReady()) {
        m_fitPending = true;   // the region needs the map (and its size)
        r->setProperty("center", QVariant::fromValue(box.center()));
        return;
    }
    constexpr double kStreetZoom = 16;
    if (box.width() < 1e-4 && box.height() < 1e-4) {   // one device (or all in one place)
        centerOn(box.center(), kStreetZoom);
        return;
    }
    // A margin around the devices, so that no marker sits on the edge.
    box.setWidth(std::min(360.0, box.width() * 1.6 + 1e-4));
    box.setHeight(std::min(170.0, box.height() * 1.6 + 1e-4));
    QMetaObject::invokeMethod(r, "fitRegion", Q_ARG(QVariant, QVariant::fromValue(box)), Q_ARG(QVariant, kStreetZoom));
}

void MapWidget::follow(qint64 deviceId) {
    if (QQuickItem *r = rootObject())
        r->setProperty("followDeviceId", int(deviceId));
}

qint64 MapWidget::followedDevice() const {
    return rootObject() ? rootObject()->property("followDeviceId").toInt() : -1;
}

void MapWidget::centerOn(const QGeoCoordinate &c, double zoom) {
    QQuickItem *r = rootObject();
    if (!r || !c.isValid())
        return;
    QObject *map = r->property("mapItem").value<QObject *>();
    if (map) {
        map->setProperty("center", QVariant::fromValue(c));
        if (zoom > 0)
            map->setProperty("zoomLevel", zoom);
    } else {
        r->setProperty("center", QVariant::fromValue(c));
        if (zoom > 0)
            r->setProperty("zoomLevel", zoom);
    }
}

void MapWidget::fitTrack() {
    m_autoFit = false;   // the user asked for this view: a device appearing must not take it away
    if (QQuickItem *r = rootObject())
        QMetaObject::invokeMethod(r, "fitTrack");
}

void MapWidget::selectDevice(qint64 deviceId) {
    if (QQuickItem *r = rootObject())
        r->setProperty("selectedDeviceId", int(deviceId));
}

void MapWidget::onMarkerClicked(int deviceId) { emit markerClicked(deviceId); }

} // namespace td::ui
