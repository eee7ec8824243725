// SMS PDUs (3GPP TS 23.040 / 23.038) for AT+CMGF=0 modems: SMS-SUBMIT, SMS-DELIVER and
// SMS-STATUS-REPORT, with the optional SMSC field in front as modems print and expect it.
// GSM 7-bit default alphabet with its extension table, UCS-2 for anything else, 8-bit data;
// concatenated messages (8- and 16-bit reference UDH) split on send and reassembled on
// receive. Pure functions, QtCore only; every decoder is lenient where real modems are
// (UDL longer than the data is clamped, with a warning) and never crashes on bad input.
#pragma once

#include "trackerdesk/protocol/frame.h"

#include <QByteArray>
#include <QDateTime>
#include <QHash>
#include <QList>
#include <QString>
#include <optional>

namespace td::proto::pdu {

enum class PduType { Deliver, Submit, StatusReport };
enum class Encoding { Gsm7, EightBit, Ucs2 };

// An address (OA/DA/RA, SMSC). Text is "+4917..." for international numbers, digits for
// national/unknown ones, the decoded name for alphanumeric senders ("Megafon").
struct Address {
    QString text;
    quint8 toa = 0x81;               // type of address: 0x91 international, 0xA1 national,
                                     // 0x81 unknown, 0xD0 alphanumeric
    bool isEmpty() const { return text.isEmpty(); }
    bool isAlphanumeric() const { return (toa & 0x70) == 0x50; }
    // An address from what a user typed: "+49 170 123-4567" -> international; "0170..." ->
    // unknown (national); letters -> alphanumeric. nullopt with *error for junk.
    static std::optional<Address> fromUser(const QString &number, QString *error = nullptr);
};

// Concatenation information element (UDH IE 0x00 or 0x08).
struct Concat {
    quint16 reference = 0;
    quint8 total = 1;
    quint8 sequence = 1;             // 1-based
    bool sixteenBit = false;
};

struct Sms {
    PduType type = PduType::Deliver;
    Address smsc;                    // empty: none in the PDU (SUBMIT: "use AT+CSCA")
    Address address;                 // OA (DELIVER), DA (SUBMIT), RA (STATUS-REPORT)
    quint8 firstOctet = 0;
    quint8 messageReference = 0;     // SUBMIT / STATUS-REPORT
    quint8 pid = 0;
    quint8 dcs = 0;
    Encoding encoding = Encoding::Gsm7;
    std::optional<int> messageClass; // 0..3 from the DCS when set (0 = flash)
    QDateTime timestamp;             // SCTS (DELIVER / STATUS-REPORT), with its offset from UTC
    QDateTime dischargeTime;         // STATUS-REPORT
    quint8 status = 0;               // STATUS-REPORT TP-ST
    bool statusReportRequested = false;  // SUBMIT SRR / DELIVER SRI
    std::optional<int> validityMinutes;  // SUBMIT relative VP, in minutes
    std::optional<Concat> concat;
    QByteArray userDataHeader;       // raw UDH without the UDHL octet (empty: none)
    QString text;                    // GSM-7 / UCS-2 text
    QByteArray data;                 // 8-bit user data (encoding EightBit)
    QStringList warnings;            // leniency applied (UDL clamped, bad TZ, ...)
};

// TP-ST classes (23.040 9.2.3.15).
enum class DeliveryState { Delivered, Pending, Failed };
DeliveryState deliveryState(quint8 tpStatus);
QString deliveryStatusText(quint8 tpStatus);    // "delivered", "SC still trying: congestion", ...

// Decodes hex as printed by +CMGR / +CMGL / +CMT / +CDS. `hasSmsc`: the modem puts the
// SMSC field first (true for PDU mode reads; +CDS on some modems omits it: try true, then
// false). nullopt with *error ("PDU: address length 40 runs past the end (12 bytes)").
std::optional<Sms> decode(const QByteArray &bytes, bool hasSmsc = true, QString *error = nullptr);
std::optional<Sms> decodeHex(const QByteArray &hex, bool hasSmsc = true, QString *error = nullptr);

// Annotated fields of a PDU (for the SMS console's inspector), covering the bytes like a
// GT06 frame's fields do. Empty when decode() fails.
QList<Field> annotate(const QByteArray &bytes, bool hasSmsc = true);

struct SubmitOptions {
    Address smsc;                    // empty: "00" (the modem's AT+CSCA)
    bool requestStatusReport = true;
    std::optional<int> validityMinutes = 24 * 60;   // encoded as relative VP (rounded up)
    bool forceUcs2 = false;
    quint16 concatReference = 0;     // caller-chosen reference for multipart messages
    bool sixteenBitReference = false;
    quint8 messageReference = 0;     // TP-MR (modems overwrite it; 0 is usual)
};

struct EncodedPdu {
    QByteArray bytes;                // SMSC field + TPDU
    int tpduLength = 0;              // the n of AT+CMGS=n (without the SMSC field)
    QByteArray hex() const { return bytes.toHex().toUpper(); }
};

// Encodes a text as one SMS-SUBMIT, or several with a concatenation UDH when it does not
// fit in one (GSM-7 when every character is in the default alphabet or its extension table,
// else UCS-2; an escape is never split from its character, a UTF-16 surrogate pair never
// split). Empty list with *error for an invalid destination.
QList<EncodedPdu> encodeSubmit(const Address &to, const QString &text, const SubmitOptions &options = {},
                               QString *error = nullptr);

// Encoders for tests and the fake modem (the network side).
QByteArray encodeDeliver(const Sms &sms);       // uses type Deliver fields; SMSC field first
QByteArray encodeStatusReport(const Sms &sms);  // SMSC field first
// Any Sms as one PDU (by its type), SMSC field first: the inverse of decode(). A non-empty
// userDataHeader is used as is, else one is made from `concat` (total > 1); the DCS is the
// Sms's own when it agrees with `encoding`/`messageClass`. User data longer than one PDU
// (140 octets) is cut on a character boundary. An invalid time stamp encodes as zeros.
QByteArray encode(const Sms &sms);

// How many parts and characters a text takes (for the console's counter).
struct SegmentInfo {
    Encoding encoding = Encoding::Gsm7;
    int parts = 1;
    int units = 0;                   // septets (GSM-7) or UTF-16 units (UCS-2) used
    int perPart = 160;               // capacity per part at this size
};
SegmentInfo segmentInfo(const QString &text);

// GSM 03.38 helpers.
bool isGsm7(const QString &text);                      // every char in default + extension
QByteArray gsm7Septets(const QString &text);           // unpacked septets (escapes included)
QString gsm7Text(const QByteArray &septets);           // unpacked septets -> text
QByteArray packSeptets(const QByteArray &septets, int fillBits = 0);
QByteArray unpackSeptets(const QByteArray &packed, int count, int fillBits = 0);

// Reassembles concatenated messages. Parts are keyed by (sender, reference, total); a
// message is complete when all parts arrived, in any order; duplicates are ignored.
// Pure: the caller passes the time (ms) so tests control timeouts.
class Reassembler {
public:
    struct Part {
        Sms sms;
        qint64 receivedMs = 0;
        QString tag;                 // caller's id of the part (e.g. the stored message id)
    };
    struct Result {
        Sms sms;                     // first part's header with the joined text / data
        QList<QString> tags;         // every part's tag, in sequence order
        bool complete = true;        // false: delivered by timeout with parts missing
        QList<int> missing;          // sequence numbers missing (incomplete only)
    };
    explicit Reassembler(qint64 timeoutMs = 5 * 60 * 1000) : m_timeoutMs(timeoutMs) {}
    // A message without concatenation comes back at once. A part completing a message
    // returns it; otherwise nullopt (held).
    std::optional<Result> add(const Sms &sms, qint64 nowMs, const QString &tag = {});
    // Messages whose first part arrived more than timeout ago, joined with what is there.
    QList<Result> expire(qint64 nowMs);
    int pendingMessages() const { return m_pending.size(); }

private:
    struct Pending {
        QHash<int, Part> parts;
        qint64 firstMs = 0;
        int total = 0;
    };
    static Result join(const Pending &pending, bool complete);
    qint64 m_timeoutMs;
    QHash<QString, Pending> m_pending;
};

} // namespace td::proto::pdu
