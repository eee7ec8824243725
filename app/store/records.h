// Value types of the store: what is kept about devices, fixes, status samples, events
// and raw frames, and the work items the server hands to the writer thread.
#pragma once

#include "trackerdesk/protocol/frame.h"
#include "trackerdesk/protocol/protocol.h"

#include <QByteArray>
#include <QDateTime>
#include <QHostAddress>
#include <QList>
#include <QString>
#include <QStringList>
#include <optional>

namespace td::store {

enum class DeviceState { Accepted = 0, Blocked = 1 };
QString deviceStateName(DeviceState s);

constexpr int kMaxDeviceNameLength = 64;   // the device dialog and renaming in the list

struct Device {
    qint64 id = 0;
    QString imei;                     // IMEI (GT06) or terminal id (JT/T 808): the unique key
    QString name;
    QString protocol;                 // "gt06", "jt808", ... as last seen
    QString model;
    QString phone;                    // SIM phone number (for SMS)
    QString smsPassword;
    std::optional<int> timeZoneMinutes;  // device-local time offset; nullopt: protocol/UTC
    QDateTime lastSeen;               // UTC
    DeviceState state = DeviceState::Accepted;
    QString color;                    // "#rrggbb", empty: automatic
    QDateTime created;                // UTC
};

struct StoredPosition {
    qint64 deviceId = 0;
    QDateTime serverTime;             // UTC, when the frame arrived
    qint64 frameId = 0;               // the raw frame it came from (0: unknown / pruned)
    proto::Position position;         // fix time, coordinates, cells/Wi-Fi
};

struct StatusSample {
    qint64 deviceId = 0;
    QDateTime time;                   // server time, UTC
    qint64 frameId = 0;
    proto::Status status;
};

struct Event {
    qint64 id = 0;
    qint64 deviceId = 0;
    QDateTime time;                   // UTC (device fix time for alarms, server time otherwise)
    QString kind;                     // "login", "online", "offline", "alarm", "refused"
    QString detail;                   // alarm name, peer address, ...
    qint64 frameId = 0;
};

struct StoredFrame {
    qint64 id = 0;
    QDateTime time;                   // server time, UTC
    proto::Direction direction = proto::Direction::FromDevice;
    QString peerAddress;
    quint16 peerPort = 0;
    qint64 deviceId = 0;              // 0: device not known yet (before a login)
    QString protocol;
    int type = -1;
    QByteArray bytes;                 // exactly as on the wire
    qint64 replyTo = 0;               // the inbound frame this one answers (0: none)
};

// A fix to put a device on the map: coordinates that the device did not flag invalid (a GT06
// without a GPS lock sends 0,0 or its last position, flagged), or an LBS/Wi-Fi estimate.
inline bool isPlausibleFix(const proto::Position &p) {
    return p.hasCoordinates && (p.valid || p.source == proto::PositionSource::Lbs || p.source == proto::PositionSource::Wifi);
}

// Optional filters for the streaming position query.
struct PositionFilter {
    bool validOnly = false;           // only fixes flagged valid by the device
    bool withCoordinatesOnly = false; // skip LBS/Wi-Fi records that have no coordinates
    bool plausibleOnly = false;       // skip GPS/SMS fixes the device flagged invalid (0,0 or stale), keep LBS/Wi-Fi estimates
    QList<proto::PositionSource> sources;  // empty: all sources
    qint64 limit = -1;                // per call, -1: no limit
};

struct FrameFilter {
    std::optional<qint64> deviceId;   // 0 matches frames without a device
    QDateTime from, to;               // invalid: open end
    std::optional<proto::Direction> direction;
    QString protocol;                 // empty: any
    qint64 afterId = 0;               // only frames with id > afterId (paging)
    int limit = 1000;                 // <= 0: no limit
    bool newestFirst = false;
};

// ---- writer work items ----

// One unit of work handed to the writer thread. Every item is committed in one
// transaction with the others of its group; the result comes back with the same ticket.
struct WorkItem {
    enum Kind {
        Inbound,      // a frame from a device, and the data it carries
        Outbound,     // a server-initiated frame (command) to store before sending
        DeviceEvent,  // online/offline/refused... (no frame)
    } kind = Inbound;

    quint64 ticket = 0;               // caller's id, echoed in the result
    qint64 serverTimeMs = 0;          // arrival time, ms since epoch (UTC)
    QString deviceKey;                // IMEI/terminal id; empty: not identified yet
    bool storeData = true;            // false: keep the raw frame only (before a login)
    QString peerAddress;
    quint16 peerPort = 0;

    // Inbound / Outbound frame
    QString protocol;
    int type = -1;
    QByteArray bytes;
    QString model;                    // login: model hint
    std::optional<int> loginTimeZone; // login: time zone the device announced
    proto::MessageKind messageKind = proto::MessageKind::Unknown;
    proto::PositionList positions;
    std::optional<proto::Status> status;
    QStringList alarms;
    proto::Replies replies;           // stored as ToDevice frames linked to this one
    QList<int> replyTypes;            // message type of each reply (-1: unknown)

    // DeviceEvent; for Inbound/Outbound frames an optional event recorded with the frame
    // (command text, command reply text)
    QString eventKind;
    QString eventDetail;
};

struct WorkResult {
    quint64 ticket = 0;
    bool ok = false;                  // false: not committed (error in WriteBatchResult)
    qint64 frameId = 0;
    QList<qint64> replyIds;
    qint64 deviceId = 0;
    bool deviceCreated = false;
    int positionsStored = 0;
    int duplicates = 0;               // positions already stored (resends)
    QList<bool> positionIsNew;        // per position of the item: false = a resend
};

// Stable 63-bit content key of a fix (coordinates, source, cells, Wi-Fi): with the device
// and the fix time it identifies a fix, so resends are recognised and stored once.
qint64 positionContentKey(const proto::Position &p);

// Compact JSON of the cell towers and Wi-Fi access points of a fix, empty when none.
QByteArray networkJson(const proto::Position &p);
void parseNetworkJson(const QByteArray &json, proto::Position *p);

} // namespace td::store
