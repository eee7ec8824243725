// Positions in free SMS text: tracker replies (GT06 WHERE#/URL#, Xexun, Coban, ...),
// NMEA sentences pasted into a message, map links, the formats of the "Trackbox"
// supported-formats list (docs/protocols.md, section "SMS text positions").
//
// One small parser per format, all in one registry table (smstext.cpp), each run over
// the whole text; a message may hold several positions in different formats.
// Pure functions, QtCore only. Never throws; text without a position gives an empty list
// (never a guessed position).
#pragma once

#include "trackerdesk/protocol/frame.h"

#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>
#include <optional>

namespace td::proto::sms {

// Where SmsPosition::position.time came from.
enum class TimeSource {
    None,          // the text has no usable time and no receive time was given (timeValid = false)
    Text,          // date and time from the text
    TextTimeOfDay, // time of day from the text, date from the receive time (nearest day)
    Received,      // the text has no time: the SMS receive time (SCTS) is used
};
QString timeSourceName(TimeSource s);

struct SmsPosition {
    Position position;          // source = Sms; time in UTC (see timeSource / deviceLocalTime)
    QString format;             // format id from formats(): "nmea-rmc", "gt06-where", ...
    int offset = 0;             // the matched record in the text, in QString (UTF-16) units
    int length = 0;
    std::optional<bool> checksumOk;  // NMEA-style *hh present and checked; nullopt: none/not checkable
    QString note;               // event word, IMEI, fields not decoded, ... ("; "-separated)
    TimeSource timeSource = TimeSource::None;
    // The text's time is in the device's configured zone (Chinese tracker texts, formats that
    // don't state a zone); it was converted with ParseOptions::deviceUtcOffsetMinutes.
    bool deviceLocalTime = false;
};

struct ParseOptions {
    QDateTime received;              // SMS centre time stamp; invalid = unknown
    int deviceUtcOffsetMinutes = 0;  // zone of device-local times (GMT,E,8# -> 480); UTC = local - offset
};

// All positions found, ordered by offset. Duplicates (the same point found twice, e.g. a
// Lat:/Lon: line and a map link) are merged into the first one.
QList<SmsPosition> parsePositions(const QString &text, const QDateTime &received = {});
// Same, with options. *rejected (optional) receives one line per record that looked like a
// known format but was refused ("nmea-rmc at 0: latitude out of range").
QList<SmsPosition> parsePositions(const QString &text, const ParseOptions &options,
                                  QStringList *rejected = nullptr);

struct FormatInfo {
    QString id;       // "nmea-rmc"
    QString name;     // "NMEA $GPRMC"
    QString evidence; // where the format description comes from (sample source / "generic")
};
// The registry, in the order the parsers run.
QList<FormatInfo> formats();
QString formatName(const QString &id);   // empty for an unknown id

// JSON of one result: positionToJson() plus format, offset, length, checksum_ok, note, time_source.
QJsonObject smsPositionToJson(const SmsPosition &p);

} // namespace td::proto::sms
