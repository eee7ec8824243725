// JT/T 808 (2011/2013/2019, "huabao") — framing, decoding and encoding.
//
// Wire format: 7E | header | body | XOR checksum | 7E, everything between the flags escaped
// (7E -> 7D 02, 7D -> 7D 01, checksum byte included). DecodedFrame::bytes holds the frame
// unescaped (flags kept), DecodedFrame::wire the escaped bytes when they differ.
// Also handled: the "2013-force" quirk (2019 bit with a 2013 header), sub-packaged messages
// (reassembled by the stream session), the vendor 0x5501/0x5502 messages with a 1-byte serial,
// and the ASCII "(ID,...)" sentences of e-lock models that share the port.
//
// The platform-side replies (DecodedFrame::replies) follow the reply table of the fact sheet
// (docs/protocols.md, "JT/T 808"). Encoders below build complete, escaped frames.
#pragma once

#include "trackerdesk/protocol/frame.h"
#include "trackerdesk/protocol/protocol.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>
#include <optional>

namespace td::proto::jt808 {

// Message ids (uplink 0x0xxx..0x6xxx, platform -> terminal 0x8xxx).
namespace msg {
constexpr quint16 TerminalResponse = 0x0001;
constexpr quint16 Heartbeat = 0x0002;
constexpr quint16 Logout = 0x0003;
constexpr quint16 QueryServerTime = 0x0004;
constexpr quint16 Register = 0x0100;
constexpr quint16 Authentication = 0x0102;
constexpr quint16 ParameterQueryResponse = 0x0104;
constexpr quint16 Attributes = 0x0107;
constexpr quint16 TimeSyncRequest = 0x0109;        // vendor (Xinchun, C059 ...)
constexpr quint16 Location = 0x0200;
constexpr quint16 LocationQueryResponse = 0x0201;
constexpr quint16 VendorLocationBatch = 0x0210;
constexpr quint16 Waybill = 0x0701;
constexpr quint16 DriverIdentity = 0x0702;
constexpr quint16 LocationBatch = 0x0704;
constexpr quint16 Transparent = 0x0900;
constexpr quint16 TimeZoneSync = 0x1007;           // vendor
constexpr quint16 VendorTextUtf16 = 0x1300;        // vendor
constexpr quint16 VendorAccelerometer = 0x2070;    // vendor
constexpr quint16 VendorLocation = 0x5501;         // vendor, JT600-style body, 1-byte serial
constexpr quint16 VendorBlindLocation = 0x5502;    // vendor, JT600-style body, 1-byte serial
constexpr quint16 VendorText = 0x6006;             // vendor
constexpr quint16 PlatformResponse = 0x8001;
constexpr quint16 ResendRequest = 0x8003;
constexpr quint16 ServerTime = 0x8004;
constexpr quint16 RegisterResponse = 0x8100;
constexpr quint16 SetParameters = 0x8103;
constexpr quint16 QueryParameters = 0x8104;
constexpr quint16 TerminalControl = 0x8105;
constexpr quint16 TimeSyncResponse = 0x8109;       // vendor
constexpr quint16 QueryLocation = 0x8201;
constexpr quint16 TextMessage = 0x8300;
constexpr quint16 TransparentDownlink = 0x8900;
} // namespace msg

// General-response results (0x8001 / 0x0001).
namespace result {
constexpr quint8 Ok = 0;
constexpr quint8 Failure = 1;
constexpr quint8 MessageError = 2;
constexpr quint8 NotSupported = 3;
constexpr quint8 AlarmConfirmed = 4;   // 0x8001 only
} // namespace result

// 0x8105 terminal-control command words.
namespace control {
constexpr quint8 Upgrade = 1;
constexpr quint8 ConnectServer = 2;
constexpr quint8 PowerOff = 3;
constexpr quint8 Reset = 4;
constexpr quint8 FactoryReset = 5;
constexpr quint8 CloseDataLink = 6;
constexpr quint8 CloseRadio = 7;
} // namespace control

// Device time stamps are local time; the standard means GMT+8 (Beijing). Traccar's default too.
constexpr int DefaultTimeZoneMinutes = 8 * 60;
constexpr int MaxBodyLength = 1023;   // 10-bit length field

// Who a frame is addressed to / comes from, as carried by every header.
struct Terminal {
    QByteArray id;            // raw BCD bytes: 6 (2011/2013) or 10 (2019)
    bool v2019 = false;       // body-properties bit 14, version byte, 10-byte id
    quint8 protocolVersion = 1;  // 2019 only
};

// Builds a Terminal from text. Decimal digits are packed as BCD, left-padded with zeros
// (12 digits for 2013, 20 for 2019). A 15-digit IMEI that does not fit a 2013 id loses its
// Luhn digit and is packed as a 48-bit integer (Traccar's convention: 123456789012345 ->
// 0b3a73ce2ff2). Returns std::nullopt and sets *error for anything else.
std::optional<Terminal> terminalFromId(const QString &id, bool v2019 = false, QString *error = nullptr);
// The terminal id of a header as text: the BCD digits with leading zeros kept. A 6-byte id
// that is not decimal BCD is read as a 48-bit integer plus a Luhn digit (an IMEI, Traccar's rule).
QString terminalIdText(const QByteArray &idBytes);

// ---- framing primitives ----
quint8 checksum(const QByteArray &data);              // XOR of all bytes
QByteArray escape(const QByteArray &content);         // 7E -> 7D 02, 7D -> 7D 01 (no flags added)
// Undoes the escaping. A 7D followed by anything but 01/02 is kept as is and reported in
// *problems (one line per problem, offsets into `escaped`).
QByteArray unescape(const QByteArray &escaped, QStringList *problems = nullptr);
// A complete frame: 7E, header (2013 or 2019 per `to`), body, checksum, 7E, escaped.
// Returns an empty array and sets *error when the body is longer than MaxBodyLength.
QByteArray buildFrame(quint16 messageId, const Terminal &to, quint16 serial, const QByteArray &body,
                      QString *error = nullptr);

// ---- platform -> terminal (replies and commands) ----
QByteArray encodeGeneralResponse(const Terminal &to, quint16 serial, quint16 ackSerial, quint16 ackMessageId,
                                 quint8 result = result::Ok);                          // 0x8001
// 0x8100: the auth code is sent only when result == 0 (0 ok, 1 vehicle registered, 2 vehicle
// unknown, 3 terminal registered, 4 terminal unknown).
QByteArray encodeRegisterResponse(const Terminal &to, quint16 serial, quint16 ackSerial, quint8 result,
                                  const QByteArray &authCode);
QByteArray encodeTimeSyncResponse(const Terminal &to, quint16 serial, const QDateTime &utc,
                                  quint8 result = result::Ok);                         // 0x8109 (vendor)
QByteArray encodeServerTime(const Terminal &to, quint16 serial, const QDateTime &utc);  // 0x8004, BCD UTC
// 0x8300: flag bits 0 urgent, 2 display, 3 TTS, 4 advertising screen, 5 CAN fault code. The
// text is sent in GBK; 2019 frames carry `textType` (1 notice, 2 service) after the flag.
QByteArray encodeTextMessage(const Terminal &to, quint16 serial, quint8 flags, const QString &text,
                             quint8 textType = 1, QString *error = nullptr);

struct Parameter {
    quint32 id = 0;
    QByteArray value;
    static Parameter dword(quint32 id, quint32 v);
    static Parameter word(quint32 id, quint16 v);
    static Parameter byte(quint32 id, quint8 v);
    static Parameter string(quint32 id, const QString &text);  // GBK
};
QByteArray encodeSetParameters(const Terminal &to, quint16 serial, const QList<Parameter> &parameters,
                               QString *error = nullptr);                              // 0x8103
QByteArray encodeTerminalControl(const Terminal &to, quint16 serial, quint8 command,
                                 const QByteArray &parameters = {});                   // 0x8105
QString parameterName(quint32 id);   // "Heartbeat interval", ... (empty when unknown)

// ---- terminal -> platform (what a real device sends; used by the tracker simulator) ----
struct RegisterInfo {
    quint16 province = 0;
    quint16 city = 0;
    QString manufacturer;     // 5 bytes (11 in 2019), 0x00-padded
    QString model;            // 20 bytes (30 in 2019)
    QString terminalId;       // 7 bytes (30 in 2019)
    quint8 plateColor = 0;    // 0 = no plate: `plate` carries the VIN
    QString plate;            // GBK
};
QByteArray encodeRegister(const Terminal &from, quint16 serial, const RegisterInfo &info);      // 0x0100
// 2013: the body is the code. 2019: length-prefixed code, IMEI (15 bytes), software version (20 bytes).
QByteArray encodeAuthentication(const Terminal &from, quint16 serial, const QByteArray &authCode,
                                const QString &imei = {}, const QString &softwareVersion = {}); // 0x0102
QByteArray encodeHeartbeat(const Terminal &from, quint16 serial);                               // 0x0002

struct LocationOptions {
    quint32 alarmBits = 0;          // see alarmBit()
    quint32 extraStatusBits = 0;    // OR-ed into the status word (fix and hemispheres come from the Position)
    std::optional<bool> acc;        // status bit 0
    std::optional<int> gsmSignal;   // additional item 0x30
    std::optional<int> batteryPercent;  // additional item 0x06 with 1 byte (vendor convention)
    std::optional<double> odometerKm;   // additional item 0x01
    int timeZoneMinutes = DefaultTimeZoneMinutes;  // device-local time zone of the BCD time
};
// 0x0200 from a Position (satellites become item 0x31).
QByteArray encodeLocation(const Terminal &from, quint16 serial, const Position &position,
                          const LocationOptions &options = {});

// Alarm bits (0x0200 alarm word) by machine name: "sos" -> bit 0, "overspeed" -> 1,
// "lowBattery" -> 7, "powerCut" -> 8, "vibration" -> 15 (vendor), ... std::nullopt if unknown.
std::optional<int> alarmBit(const QString &machineName);
// Every machine name alarmBit() knows, in bit order.
QStringList alarmNames();

// The registry entry (id "jt808").
const Protocol &protocol();

} // namespace td::proto::jt808
