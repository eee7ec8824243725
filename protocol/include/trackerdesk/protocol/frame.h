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
#include <QVarLengthArray>
#include <initializer_list>
#include <iterator>
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

// The positions of one message: nearly always one (a JT/T 808 batch has more). It is kept
// inside the message, without a heap block and a reference count of its own.
using PositionList = QVarLengthArray<Position, 1>;

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
    PositionList positions;
    std::optional<Status> status;
    QStringList alarms;          // machine names: "sos", "powerCut", "vibration", ...
    QString text;                // command reply / firmware / info text
    QString authCode;            // JT808 authentication code
};

// The replies to one frame, in order. Their bytes lie back to back in one array - what goes
// to the socket - with where each one ends beside them, so the usual single ack is one
// allocation and one reference count (a QList<QByteArray> made two of each for every frame).
// Reads like a list of QByteArray; an element is a copy that shares the storage when it is
// the only reply (the usual case) and a fresh array otherwise.
class Replies {
public:
    Replies() = default;
    Replies(std::initializer_list<QByteArray> replies) {
        for (const QByteArray &r : replies)
            append(r);
    }

    qsizetype size() const { return m_ends.size(); }
    qsizetype count() const { return m_ends.size(); }
    bool isEmpty() const { return m_ends.isEmpty(); }
    QByteArray at(qsizetype i) const {
        if (m_ends.size() == 1)
            return m_bytes;
        const qsizetype from = i == 0 ? 0 : m_ends[i - 1];
        return m_bytes.mid(from, m_ends[i] - from);
    }
    QByteArray operator[](qsizetype i) const { return at(i); }
    QByteArray first() const { return at(0); }
    QByteArray last() const { return at(size() - 1); }
    QByteArray value(qsizetype i) const { return i >= 0 && i < size() ? at(i) : QByteArray(); }
    // All replies back to back: what is written to the connection.
    const QByteArray &bytes() const { return m_bytes; }
    QList<QByteArray> toList() const {
        QList<QByteArray> out;
        out.reserve(size());
        for (qsizetype i = 0; i < size(); ++i)
            out.append(at(i));
        return out;
    }

    // The first reply is shared, not copied (an encoder's result, a frame echoed back).
    void append(const QByteArray &reply) {
        if (m_ends.isEmpty())
            m_bytes = reply;
        else
            m_bytes.append(reply);
        m_ends.append(int(m_bytes.size()));
    }
    void append(QByteArray &&reply) {
        if (m_ends.isEmpty())
            m_bytes = std::move(reply);
        else
            m_bytes.append(reply);
        m_ends.append(int(m_bytes.size()));
    }
    Replies &operator<<(const QByteArray &reply) {
        append(reply);
        return *this;
    }
    Replies &operator<<(QByteArray &&reply) {
        append(std::move(reply));
        return *this;
    }
    void clear() {
        m_bytes.clear();
        m_ends.clear();
    }

    class const_iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = QByteArray;
        using difference_type = qsizetype;
        using pointer = void;
        using reference = QByteArray;
        const_iterator() = default;
        const_iterator(const Replies *r, qsizetype i) : m_r(r), m_i(i) {}
        QByteArray operator*() const { return m_r->at(m_i); }
        const_iterator &operator++() {
            ++m_i;
            return *this;
        }
        const_iterator operator++(int) {
            const_iterator old = *this;
            ++m_i;
            return old;
        }
        friend bool operator==(const const_iterator &a, const const_iterator &b) { return a.m_i == b.m_i; }
        friend bool operator!=(const const_iterator &a, const const_iterator &b) { return a.m_i != b.m_i; }

    private:
        const Replies *m_r = nullptr;
        qsizetype m_i = 0;
    };
    const_iterator begin() const { return {this, 0}; }
    const_iterator end() const { return {this, size()}; }

    friend bool operator==(const Replies &a, const Replies &b) { return a.m_ends == b.m_ends && a.m_bytes == b.m_bytes; }
    friend bool operator!=(const Replies &a, const Replies &b) { return !(a == b); }

private:
    QByteArray m_bytes;
    QVarLengthArray<int, 2> m_ends;   // end of each reply in m_bytes
};

struct DecodedFrame {
    QString protocol;            // "gt06", "topin", "jt808"
    int type = -1;               // protocol message id
    QString typeName;            // "Login", "GPS+LBS location", ...
    QString summary;             // one line for lists: "IMEI 864717003283581" (GT06 leaves it
                                 // empty with SessionOptions::summarize = false: Protocol::summary())
    QByteArray bytes;            // the frame the fields refer to
    QByteArray wire;             // bytes as received when different (JT808 escaping); else empty
    int serial = -1;             // GT06 serial / JT808 message serial, -1 if none
    QList<Field> fields;
    QStringList warnings;        // frame-level problems (bad CRC, length mismatch, ...)
    Message message;
    Replies replies;             // exact bytes to send back, in order (may be empty)
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
