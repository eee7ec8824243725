// The central map view: a QQuickWidget hosting the TrackerDesk.Map QML module
// (QtLocation Map on the osm plugin) configured from the tile settings, showing the
// device markers and a history track from C++ models.
#pragma once

#include "core/settings.h"

#include <QGeoCoordinate>
#include <QQuickWidget>

class QNetworkAccessManager;
class QNetworkReply;
class QTimer;

namespace td {
class DeviceMarkersModel;
class TrackModel;
}

namespace td::ui {

class MapWidget : public QQuickWidget {
    Q_OBJECT
public:
    explicit MapWidget(const TileSource &tiles, QWidget *parent = nullptr);
    void setTileSource(const TileSource &tiles);   // reloads the map
    TileSource tileSource() const { return m_tiles; }
    QQuickItem *mapRoot() const;                   // the TrackerMap item
    bool isMapReady() const;
    QString loadErrors() const { return m_errors; }

    void setModels(DeviceMarkersModel *markers, TrackModel *track);
    void follow(qint64 deviceId);                  // -1 stops following
    qint64 followedDevice() const;
    void centerOn(const QGeoCoordinate &c, double zoom = -1);
    void fitTrack();
    // Shows every device's last fix (a lone device at street level).
    void fitMarkers();
    // On (the default): the map fits the devices when the first positions are known and
    // whenever another device appears, until the user pans or zooms it (or shows a track:
    // fitTrack() turns it off).
    void setAutoFit(bool on);
    bool userMovedMap() const;
    // Why tiles cannot be fetched from the tile source (empty: they can). The map asks the
    // source for one tile when it is set, and again every minute while that fails; the
    // map shows the reason over the tiles (offline, wrong URL, refused...).
    QString tileError() const { return m_tileError; }
    void selectDevice(qint64 deviceId);            // opens its info bubble

signals:
    void markerClicked(qint64 deviceId);
    void tileErrorChanged(const QString &error);

private slots:
    void onMarkerClicked(int deviceId);
    void onMapReadyChanged();

private:
    void autoFit();
    void probeTiles();
    void setTileError(const QString &error);

    TileSource m_tiles;
    QString m_errors;
    DeviceMarkersModel *m_markers = nullptr;
    bool m_autoFit = true;
    bool m_fitPending = false;   // asked before the map was ready
    QNetworkAccessManager *m_net = nullptr;
    QNetworkReply *m_probe = nullptr;
    QTimer *m_probeRetry = nullptr;
    QString m_tileError;
};

} // namespace td::ui
