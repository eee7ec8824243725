// The central map: a QtLocation Map on the osm plugin. The tile source (any {z}/{x}/{y}
// URL, given to the plugin in its %z/%x/%y form), the tile cache folder and the user
// agent come from C++ (MapWidget). Changing them rebuilds the map through the Loader,
// because plugin parameters are only read when the plugin is created.
import QtQuick
import QtLocation
import QtPositioning
import QtQuick.Controls
import QtQuick.Layouts

Item {
    id: root
    property string tileHost: ""          // e.g. "https://tile.openstreetmap.org/%z/%x/%y.png"
    property string cacheDirectory: ""
    property string userAgent: "TrackerDesk"
    // Initial view; the user's panning/zooming lives in the map itself (currentCenter/currentZoom).
    property var center: QtPositioning.coordinate(48.8566, 2.3522)
    property real zoomLevel: 13
    readonly property var currentCenter: loader.item ? loader.item.center : center
    readonly property real currentZoom: loader.item ? loader.item.zoomLevel : zoomLevel
    // Fed by C++ (MapWidget): DeviceMarkersModel and TrackModel.
    property var markers: null
    property var track: null
    property int followDeviceId: -1        // >= 0: keep this device's marker centred
    property int selectedDeviceId: -1      // marker whose info bubble is open
    property int markersRevision: 0        // bumped by C++ when marker data changes
    property string tileError: ""          // set by C++ when the tile source does not answer
    // The user panned or zoomed the map: C++ stops fitting it to the devices, and panning
    // stops following a device.
    property bool userMoved: false
    function userPanned() { userMoved = true; followDeviceId = -1 }
    // Shows `region` (a geoRectangle), zoomed in no further than `maxZoom`.
    function fitRegion(region, maxZoom) {
        if (!loader.item) { center = region.center; return }
        loader.item.visibleRegion = region
        if (loader.item.zoomLevel > maxZoom) loader.item.zoomLevel = maxZoom
    }
    signal markerClicked(int deviceId)
    readonly property bool ready: loader.status === Loader.Ready && loader.item && loader.item.mapReady
    readonly property var mapItem: loader.item
    function centerOn(coordinate) { if (loader.item && coordinate && coordinate.isValid) loader.item.center = coordinate }
    function fitTrack() {
        if (!loader.item || !track || track.pointCount === 0) return
        var segs = track.segments, lats = [], lons = []
        var minLat = 90, maxLat = -90, minLon = 180, maxLon = -180
        for (var i = 0; i < segs.length; ++i)
            for (var j = 0; j < segs[i].length; ++j) {
                var c = segs[i][j]
                minLat = Math.min(minLat, c.latitude); maxLat = Math.max(maxLat, c.latitude)
                minLon = Math.min(minLon, c.longitude); maxLon = Math.max(maxLon, c.longitude)
            }
        loader.item.visibleRegion = QtPositioning.rectangle(QtPositioning.coordinate(maxLat, minLon),
                                                            QtPositioning.coordinate(minLat, maxLon))
        loader.item.zoomLevel = Math.max(loader.item.minimumZoomLevel, loader.item.zoomLevel - 0.5)
    }
    readonly property string providerError: loader.item ? loader.item.errorText : ""

    function infoFor(id, revision) {
        if (!markers || id < 0) return ""
        for (var i = 0; i < markers.count; ++i) {
            var idx = markers.index(i, 0)
            if (markers.data(idx, Qt.UserRole + 1) === id) return markers.data(idx, Qt.UserRole + 13)
        }
        return ""
    }

    // Plugin parameters are read once, when the plugin is created: rebuild the map.
    function reload() {
        if (!loader.item)
            return
        loader.sourceComponent = null
        loader.sourceComponent = mapComponent
    }
    onTileHostChanged: reload()
    onCacheDirectoryChanged: reload()

    Loader {
        id: loader
        anchors.fill: parent
        active: root.tileHost !== ""   // set by C++ after loading (cache folder first)
        sourceComponent: mapComponent
    }

    Component {
        id: mapComponent
        Map {
            id: map
            property bool mapReady: false
            property string errorText: map.error === Map.NoError ? "" : map.errorString
            plugin: Plugin {
                name: "osm"
                PluginParameter { name: "osm.useragent"; value: root.userAgent }
                PluginParameter { name: "osm.mapping.custom.host"; value: root.tileHost }
                PluginParameter { name: "osm.mapping.providersrepository.disabled"; value: true }
                PluginParameter { name: "osm.mapping.cache.directory"; value: root.cacheDirectory }
                PluginParameter { name: "osm.mapping.prefetching_style"; value: "NoPrefetching" }
                PluginParameter { name: "osm.mapping.highdpi_tiles"; value: false }
            }
            copyrightsVisible: true
            Component.onCompleted: {
                // The custom map type's index moves between Qt versions: search it by style.
                for (var i = 0; i < supportedMapTypes.length; ++i) {
                    if (supportedMapTypes[i].style === MapType.CustomMap) {
                        activeMapType = supportedMapTypes[i]
                        break
                    }
                }
                center = root.center
                zoomLevel = root.zoomLevel
                mapReady = true
            }

            PinchHandler { target: null
                onScaleChanged: (delta) => { map.zoomLevel += Math.log2(delta); root.userMoved = true }
            }
            WheelHandler {
                acceptedDevices: Qt.platform.pluginName === "cocoa" || Qt.platform.pluginName === "wayland"
                                 ? PointerDevice.Mouse | PointerDevice.TouchPad : PointerDevice.Mouse
                rotationScale: 1/120
                property: "zoomLevel"
                onWheel: root.userMoved = true
            }
            DragHandler { target: null
                onTranslationChanged: (delta) => {
                    if (delta.x === 0 && delta.y === 0) return
                    map.pan(-delta.x, -delta.y)
                    root.userPanned()
                }
            }

            onZoomLevelChanged: if (root.track) root.track.setZoomLevel(map.zoomLevel)

            // ---- history track: one polyline per continuous span (gaps break the line) ----
            MapItemView {
                model: root.track ? root.track.segments : []
                delegate: MapPolyline {
                    required property var modelData
                    line.width: 3
                    line.color: root.track ? root.track.color : "red"
                    path: modelData
                }
            }
            MapItemView {
                model: root.track ? root.track.points : []
                delegate: MapQuickItem {
                    required property var modelData
                    coordinate: modelData
                    anchorPoint.x: 3; anchorPoint.y: 3
                    sourceItem: Rectangle { width: 6; height: 6; radius: 3; color: "white"
                        border.color: root.track ? root.track.color : "red"; border.width: 1.5 }
                }
            }
            MapQuickItem {
                objectName: "trackCursor"
                visible: root.track !== null && root.track.pointCount > 0
                coordinate: root.track ? root.track.cursor : QtPositioning.coordinate()
                anchorPoint.x: 9; anchorPoint.y: 9
                z: 5
                sourceItem: Rectangle { width: 18; height: 18; radius: 9; color: "#ffd400"
                    border.color: "black"; border.width: 2 }
            }

            // ---- accuracy circles: LBS / Wi-Fi fixes are never drawn as precise points ----
            MapItemView {
                model: root.markers
                delegate: MapCircle {
                    required property var fixCoordinate
                    required property real accuracy
                    required property bool precise
                    required property string markerColor
                    center: fixCoordinate
                    radius: accuracy
                    visible: !precise && accuracy > 0
                    color: Qt.rgba(0.2, 0.4, 0.9, 0.12)
                    border.color: markerColor
                    border.width: 2
                }
            }

            // ---- one marker per device, pointing along its course ----
            MapItemView {
                model: root.markers
                delegate: MapQuickItem {
                    id: marker
                    required property int deviceId
                    required property var fixCoordinate
                    required property real course
                    required property string markerColor
                    required property string name
                    required property string info
                    required property bool precise
                    required property bool online
                    objectName: "marker_" + deviceId
                    coordinate: marker.fixCoordinate
                    anchorPoint.x: 14; anchorPoint.y: 14
                    z: 10
                    sourceItem: Item {
                        width: 28; height: 28
                        Rectangle {
                            anchors.centerIn: parent
                            width: 22; height: 22; radius: 11
                            color: marker.precise ? marker.markerColor : "white"
                            border.color: marker.precise ? "white" : marker.markerColor
                            border.width: 3
                            opacity: marker.online ? 1.0 : 0.6
                        }
                        // heading arrow (hidden when the course is unknown)
                        Canvas {
                            anchors.fill: parent
                            visible: marker.course >= 0
                            rotation: marker.course
                            onPaint: {
                                var ctx = getContext("2d")
                                ctx.reset()
                                ctx.fillStyle = "black"
                                ctx.beginPath(); ctx.moveTo(14, 0); ctx.lineTo(19, 9); ctx.lineTo(9, 9); ctx.closePath(); ctx.fill()
                            }
                        }
                        Text {
                            anchors.left: parent.right; anchors.verticalCenter: parent.verticalCenter
                            text: marker.name; font.bold: true; style: Text.Outline; styleColor: "white"
                        }
                        TapHandler {
                            onTapped: { root.selectedDeviceId = marker.deviceId; root.markerClicked(marker.deviceId) }
                        }
                    }
                    // follow mode
                    onFixCoordinateChanged: if (root.followDeviceId === deviceId) map.center = fixCoordinate
                }
            }
            // the clicked marker's last fix
            MapQuickItem {
                id: bubble
                objectName: "infoBubble"
                property int row: -1
                visible: root.selectedDeviceId >= 0 && bubbleText.text !== ""
                coordinate: root.markers && root.selectedDeviceId >= 0 && root.markersRevision >= 0 ? root.markers.coordinateOf(root.selectedDeviceId) : QtPositioning.coordinate()
                anchorPoint.x: -16; anchorPoint.y: 0
                z: 20
                sourceItem: Rectangle {
                    width: bubbleText.implicitWidth + 16; height: bubbleText.implicitHeight + 12
                    radius: 6; color: "#fffff0"; border.color: "#555"
                    Text { id: bubbleText; objectName: "infoText"; x: 8; y: 6; text: root.infoFor(root.selectedDeviceId, root.markersRevision) }
                    TapHandler { onTapped: root.selectedDeviceId = -1 }
                }
            }
        }
    }

    // ---- why the map has no tiles (offline, wrong tile URL, ...) ----
    Rectangle {
        objectName: "tileErrorBanner"
        visible: root.tileError !== ""
        anchors { left: parent.left; right: parent.right; top: parent.top; margins: 8 }
        height: tileErrorText.implicitHeight + 12
        radius: 4
        color: "#fff3cd"
        border.color: "#d6b656"
        z: 100
        Text {
            id: tileErrorText
            anchors { left: parent.left; right: parent.right; verticalCenter: parent.verticalCenter; margins: 8 }
            wrapMode: Text.Wrap
            text: root.tileError
        }
    }

    // ---- history time slider: moves a cursor along the track; play runs through it ----
    Rectangle {
        id: timeBar
        objectName: "timeBar"
        anchors { left: parent.left; right: parent.right; bottom: parent.bottom; margins: 8 }
        height: 44
        radius: 6
        color: Qt.rgba(1, 1, 1, 0.92)
        border.color: "#999"
        visible: root.track !== null && root.track.pointCount > 1
        RowLayout {
            anchors.fill: parent
            anchors.margins: 6
            Button {
                id: playButton
                text: playTimer.running ? "❚❚" : "▶"
                onClicked: {
                    if (!playTimer.running && root.track.cursorMs >= root.track.endMs)
                        root.track.cursorMs = root.track.startMs
                    playTimer.running = !playTimer.running
                }
            }
            Slider {
                id: timeSlider
                objectName: "timeSlider"
                Layout.fillWidth: true
                from: root.track ? root.track.startMs : 0
                to: root.track ? root.track.endMs : 1
                value: root.track ? root.track.cursorMs : 0
                onMoved: root.track.cursorMs = value
            }
            Label { text: root.track ? root.track.cursorText : ""; Layout.minimumWidth: 190 }
        }
        Timer {
            id: playTimer
            interval: 50
            repeat: true
            onTriggered: {
                var step = (root.track.endMs - root.track.startMs) / 400
                var next = root.track.cursorMs + step
                if (next >= root.track.endMs) { next = root.track.endMs; running = false }
                root.track.cursorMs = next
            }
        }
    }
}
