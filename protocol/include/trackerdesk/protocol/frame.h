// The one decoded-frame model shared by the inspector, the store, the CLI and the tests.
//
// A protocol decoder turns one framed message (the bytes a framer cut out of a stream)
// into a DecodedFrame:
//   (a) fields   - annotated byte ranges (Wireshark style). Top-level fields cover the
//                  frame's bytes exactly, without gaps or overlaps; children lie inside
//                  their parent. Offsets refer to DecodedFrame::bytes (for JT/T 808 the
//                  unescaped bytes; DecodedFrame::wire keeps what was on the wire).
//   (b) message  - the typed meaning: login, positions, status, alarms, command reply...
//   (c) replies  - the exact bytes the server must send back, computed here, not by the
//                  server.
// Pure value types, QtCore only.
#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>
#include <optional>

namespace td::proto {

struct Field {
    int offset = 0;          // into DecodedFrame::bytes
    int length = 0;
    QString name;            // "Latitude"
    QString value;           // shown value with units: "23.111668° N"
    QString warning;         // non-empty: something is wrong with this field
    QList<Field> children;   // bit fields, sub-structures; inside [offset, offset+length)

    int end() const { return offset + length; }
    Field &add(Field child) { children.append(std::move(child)); return children.last(); }
};

// Convenience constructor.
inline Field makeField(int offset, int length, QString name, QString value = {}) {
    Field f; f.offset = offset; f.length = length; f.name = std::move(name); f.value = std::move(value);
    return f;
}

enum class PositionSource { Gps, Lbs, Wifi, Sms };
QString positionSourceName(PositionSource s);

struct CellTower {
    int mcc = 0;
    int mnc = 0;
    qint64 lac = 0;
    qint64 cellId = 0;
    int signal = 0;          // rssi / signal strength as sent (0 = unknown)
};

struct WifiAccessPoint {
    QString bssid;           // "aa:bb:cc:dd:ee:ff"
    int rssi = 0;            // dBm (negative) when known
};

struct Position {
    QDateTime time;          // UTC
    bool timeValid = true;   // false when the device sent an impossible date
    double latitude = 0;     // degrees, south negative
    double longitude = 0;    // degrees, west negative
    std::optional<double> altitude;  // metres
    std::optional<double> speedKmh;
    std::optional<double> course;    // degrees clockwise from north
    std::optional<int> satellites;
    bool valid = false;      // GPS fix valid
    PositionSource source = PositionSource::Gps;
    std::optional<double> accuracy;  // metres (LBS/Wi-Fi estimates)
    bool hasCoordinates = true;      // false: LBS/Wi-Fi only, needs geolocation
    QList<CellTower> cells;
    QList<WifiAccessPoint> wifi;
};

struct Status {
    std::optional<int> batteryPercent;
    std::optional<double> batteryVolts;
    std::optional<int> gsmSignal;    // 0..4 bars (GT06) or 0..31 CSQ-like (JT808)
    std::optional<bool> charging;
    std::optional<bool> acc;
    std::optional<bool> armed;
    std::optional<bool> gpsTracking;
    std::optional<bool> relayCut;
};

enum class MessageKind {
    Unknown,       // decoded framing, content not understood; raw content kept in fields
    Login,         // GT06 login, JT808 register/authenticate
    Heartbeat,
    Position,      // one or more positions (JT808 batch)
    Lbs,           // cell/Wi-Fi only position data (needs geolocation)
    Alarm,
    Status,
    CommandReply,  // reply text to an online command
    TimeRequest,
    Information,
    Logout,
    GeneralResponse,
    Downlink,      // a server -> device message (decoding our own replies/commands)
};
QString messageKindName(MessageKind k);

struct Message {
    MessageKind kind = MessageKind::Unknown;
    QString deviceId;            // IMEI (GT06 login) or terminal phone number (JT808 header)
    QString model;               // type id / model hint when the frame carries one
    std::optional<int> timeZoneMinutes;  // from the GT06 login
    QList<Position> positions;
    std::optional<Status> status;
    QStringList alarms;          // machine names: "sos", "powerCut", "vibration", ...
    QString text;                // command reply / firmware / info text
    QString authCode;            // JT808 authentication code
};

struct DecodedFrame {
    QString protocol;            // "gt06", "topin", "jt808"
    int type = -1;               // protocol message id
    QString typeName;            // "Login", "GPS+LBS location", ...
    QString summary;             // one line for lists: "IMEI 864717003283581"
    QByteArray bytes;            // the frame the fields refer to
    QByteArray wire;             // bytes as received when different (JT808 escaping); else empty
    int serial = -1;             // GT06 serial / JT808 message serial, -1 if none
    QList<Field> fields;
    QStringList warnings;        // frame-level problems (bad CRC, length mismatch, ...)
    Message message;
    QList<QByteArray> replies;   // exact bytes to send back, in order (may be empty)
    bool ok() const { return warnings.isEmpty(); }
    const QByteArray &wireBytes() const { return wire.isEmpty() ? bytes : wire; }
};

// ---- invariants and helpers shared by decoders, tests and the UI ----

// Checks that top-level fields tile [0, frameLength) and children nest inside their
// parents. Returns an empty string when fine, else a description of the first problem.
QString checkFieldCoverage(const QList<Field> &fields, int frameLength);

// The innermost field containing byte `offset`, as a path of indexes from the top level.
QList<int> fieldPathAt(const QList<Field> &fields, int offset);

// Renders the tree like `tshark -V`: one line per field, indented, with offsets.
QString formatFieldTree(const DecodedFrame &frame);

// A message type for people: "0x22" (GT06, one byte), "0x0200" (JT/T 808 ids are words);
// empty for a frame without a type (-1).
QString typeIdText(int type);

// Hex helpers.
QString toHex(const QByteArray &bytes, char separator = 0);
// Parses hex text: whitespace, ':' and '-' separators and a 0x prefix are allowed.
// Returns std::nullopt and sets *error on bad input.
std::optional<QByteArray> fromHex(const QString &text, QString *error = nullptr);

} // namespace td::proto

#include <QJsonObject>
namespace td::proto {
// JSON form of a decoded frame (CLI --json, scripts, debugging).
QJsonObject frameToJson(const DecodedFrame &frame);
QJsonObject positionToJson(const Position &p);
} // namespace td::proto
