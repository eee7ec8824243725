// The central map view: a QQuickWidget hosting the TrackerDesk.Map QML module
// (QtLocation Map on the osm plugin) configured from the tile settings, showing the
// device markers and a history track from C++ models.
#pragma once

#include "core/settings.h"

#include <QGeoCoordinate>
#include <QQuickWidget>

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
    void selectDevice(qint64 deviceId);            // opens its info bubble

signals:
    void markerClicked(qint64 deviceId);

private slots:
    void onMarkerClicked(int deviceId);

private:
    TileSource m_tiles;
    QString m_errors;
};

} // namespace td::ui
