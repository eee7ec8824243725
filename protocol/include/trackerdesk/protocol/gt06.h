// GT06 family (GT06 / Concox / Jimi, and the Topin ZX303/ZX612 dialect).
//
// The protocol object itself is registered in registry.cpp (td::proto::gt06Protocol());
// this header exposes the codec pieces that other code uses directly: the CRC, the
// server->device encoders (acks, time replies, online commands) and the device->server
// encoders used by the tracker simulator and the tests. See docs/protocols.md.
#pragma once

#include "trackerdesk/protocol/frame.h"
#include "trackerdesk/protocol/protocol.h"

#include <QByteArray>
#include <QDateTime>
#include <QString>
#include <optional>

namespace td::proto {
const Protocol &gt06Protocol();
}

namespace td::proto::gt06 {

// Protocol numbers (message types) of the standard dialect.
enum Type : quint8 {
    MsgLogin = 0x01,
    MsgGps = 0x10,
    MsgGpsLbs6 = 0x11,
    MsgGpsLbs = 0x12,
    MsgStatus = 0x13,
    MsgCommandReply = 0x15,
    MsgGpsLbsStatus = 0x16,
    MsgLbsPhone = 0x17,
    MsgLbsExtend = 0x18,
    MsgLbsStatus = 0x19,
    MsgGpsPhone = 0x1A,
    MsgCommandReply2 = 0x21,
    MsgGpsLbs2 = 0x22,
    MsgHeartbeat = 0x23,
    MsgGpsLbsStatus2 = 0x26,
    MsgGpsLbsStatus3 = 0x27,
    MsgLbsMultiple = 0x28,
    MsgAddressRequest = 0x2A,
    MsgLbsWifi = 0x2C,
    MsgWifi2 = 0x69,
    MsgGpsModular = 0x70,
    MsgCommand = 0x80,
    MsgTimeRequest = 0x8A,
    MsgInformation = 0x94,
    MsgAlarm95 = 0x95,
    MsgAddressReplyEnglish = 0x97,
    MsgGpsLbs4G = 0xA0,
    MsgLbsMultiple4G = 0xA1,
    MsgGpsLbsStatus4G = 0xA4,
    MsgLbsAlarm4G = 0xA5,
    MsgFirmware = 0xFD,
};

// CRC-16/X-25 ("CRC-ITU"), check("123456789") == 0x906E. Same as td::proto::crc16X25.
quint16 crcItu(const char *data, qsizetype len);

// Machine name of an alarm code (first byte of the alarm/language word, section 7 of the
// fact sheet), following Traccar's names. `model` selects the model-specific readings
// (VL*, G18, LL303, LW*, SEEWORLD, TRX16I). Empty for "normal" and unmapped codes.
QString alarmName(int code, const QString &model = {});

// ---- server -> device ----

// Standard acknowledgement: 78 78 05 TT SS SS CRC 0D 0A (serial echoed).
QByteArray encodeAck(quint8 type, quint16 serial);
// Same with the 79 79 header and a 2-byte length (acks of 0x70, 0xF1, 0xF2).
QByteArray encodeLongAck(quint8 type, quint16 serial);
// Time calibration reply to 0x8A: 78 78 0B 8A YY MM DD hh mm ss SS SS CRC 0D 0A, in UTC.
QByteArray encodeTimeReply(quint16 serial, const QDateTime &utc);
// Online command 0x80: server flag + ASCII text such as "WHERE#", "RESET#", "TIMER,30#".
// Uses the 79 79 header when the text does not fit a short frame. Empty on an empty text.
QByteArray encodeCommand(quint16 serial, quint32 serverFlag, const QString &text);
// Address reply to 0x1A/0x2A: 0x97 (79 79, English) or, with chinese = true, 0x17.
// Content: command length + server flag 0 + "ADDRESS&&" + address (UTF-16BE) + "&&" +
// phone (21 bytes, echoed) + "##".
QByteArray encodeAddressReply(quint16 serial, const QString &address, const QByteArray &phone21,
                              bool chinese = false);

// Topin replies (no serial, no CRC).
QByteArray encodeTopinReply(quint8 type);                               // 78 78 01 TT 0D 0A
QByteArray encodeTopinTimeEcho(quint8 type, const QByteArray &time6);   // 78 78 00 TT <time> 0D 0A
QByteArray encodeTopinTimeReply(const QDateTime &utc);                  // 78 78 07 30 YYYY MM DD hh mm ss 0D 0A
QByteArray encodeTopinPositionText(double lat, double lon);             // 78 78 LL 69 "+22.676746,+113.940940" 0D 0A

// ---- device -> server (tracker simulator, tests): exact frames a real device sends ----

// 0x01 login. With tzMinutes the GT06N form (type ID + time-zone/language word, length 0x11).
QByteArray encodeLogin(const QString &imei, quint16 serial, std::optional<int> tzMinutes = std::nullopt,
                       quint16 typeId = 0x0000);
// 0x13 status/heartbeat: TI (charging bit) + voltage level 0..6 + GSM 0..4 + alarm 0 + language 2.
QByteArray encodeHeartbeat(quint16 serial, int voltageLevel, int gsmSignal, bool charging);
// 0x22 GPS+LBS (UTC). The first cell of p.cells (if any) is the LBS block.
QByteArray encodeGpsLbs(quint16 serial, const Position &p);
// 0x26 alarm (UTC): GPS + LBS (length 0x09) + status + alarm code + language 2.
QByteArray encodeAlarm(quint16 serial, const Position &p, int alarmCode);
// 0x15 command reply (old form): command length + server flag + ASCII text + language.
QByteArray encodeCommandReply(quint16 serial, quint32 serverFlag, const QString &text);
// 0x8A time request.
QByteArray encodeTimeRequest(quint16 serial);

// Topin ZX303/ZX612: no serial, no CRC.
QByteArray encodeTopinLogin(const QString &imei, int softwareVersion = 0x34);   // length byte 0x0D as real units
QByteArray encodeTopinGps(const Position &p);                                    // 0x10, length byte 0x12
QByteArray encodeTopinHeartbeat(int batteryPercent, int gsmSignal = 4, int softwareVersion = 0x28,
                                int timeZoneHours = 0, int intervalMinutes = 60);  // 0x13
QByteArray encodeTopinWifi(const Position &p);  // 0x69: BCD UTC time, p.wifi then p.cells (same MCC/MNC)

// Helpers shared with the tests.
// IMEI as the 8-byte terminal ID (BCD, leading 0 nibble). Empty when imei is not 1..16 digits.
QByteArray imeiToBcd(const QString &imei);
// The login time-zone/language word for an offset in minutes (language bits = 2).
quint16 timeZoneWord(int minutes);
// Inverse: minutes east of UTC from a time-zone word.
int timeZoneMinutes(quint16 word);

} // namespace td::proto::gt06
