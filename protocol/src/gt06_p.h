// Internal to td_protocol: shared by gt06.cpp (framing, frame layout, replies, encoders)
// and gt06_messages.cpp (the message catalogues). Not installed, not part of the API.
#pragma once

#include "trackerdesk/protocol/frame.h"
#include "trackerdesk/protocol/gt06.h"
#include "trackerdesk/protocol/protocol.h"

#include <QByteArray>
#include <QString>
#include <QStringView>
#include <optional>
#include <type_traits>

namespace td::proto::gt06::detail {

enum class Dialect : quint8 { Standard, Topin };

// What the decoder knows besides the frame bytes.
struct Context {
    const SessionOptions *options = nullptr;
    std::optional<int> loginTz;   // time zone announced by the login on this connection
    bool topinHint = false;       // the connection already spoke the Topin dialect
};

enum class ReplyPolicy : quint8 {
    None,
    Ack,          // 78 78 05 TT SS SS CRC 0D 0A
    LongAck,      // 79 79 00 05 TT SS SS CRC 0D 0A
    TimeReply,    // 0x8A
    AddressReply, // 0x1A / 0x2A
    TopinAck,     // 78 78 01 TT 0D 0A
    TopinTimeEcho,// 78 78 00 TT <6-byte time> 0D 0A
    TopinTime,    // 0x30
    TopinEcho,    // the frame itself (0x98)
};

// Reads the content of one frame and appends top-level fields.
struct Cursor {
    const uchar *d = nullptr;   // frame bytes
    int pos = 0;                // next unread byte
    int end = 0;                // end of the content (exclusive)
    DecodedFrame *f = nullptr;
    const Context *ctx = nullptr;
    Dialect dialect = Dialect::Standard;
    bool longHeader = false;    // 79 79
    int type = 0;
    int lengthField = 0;        // the value of the length byte(s)
    bool localTime = false;     // the message's timestamps are device-local (classic types)
    bool truncated = false;     // a block did not fit
    bool annotate = true;       // SessionOptions::annotate: false = no field tree, no value text
    Field scratch;              // what add() hands out when not annotating (never stored)

    int remaining() const { return end - pos; }
    bool has(int n) const { return end - pos >= n; }
    quint8 u8(int at) const { return d[at]; }
    quint16 u16(int at) const { return quint16((d[at] << 8) | d[at + 1]); }
    quint32 u24(int at) const { return (quint32(d[at]) << 16) | (quint32(d[at + 1]) << 8) | d[at + 2]; }
    quint32 u32(int at) const {
        return (quint32(d[at]) << 24) | (quint32(d[at + 1]) << 16) | (quint32(d[at + 2]) << 8) | d[at + 3];
    }
    quint64 uN(int at, int n) const {
        quint64 v = 0;
        for (int i = 0; i < n; ++i)
            v = (v << 8) | d[at + i];
        return v;
    }

    // Appends a top-level field of `len` bytes at pos and advances (when not annotating:
    // only advances, and returns the scratch field so that warn() still names the field).
    Field &add(int len, QString name, QString value = {}) {
        if (annotate)
            return addField(len, std::move(name), std::move(value));
        pos += len;   // inline: the fast path calls this for most fields of every frame
        scratch.name = std::move(name);
        scratch.warning.clear();
        scratch.children.clear();
        return scratch;
    }
    Field &addField(int len, QString name, QString value);   // the annotating case
    // Same, with the value text computed by `value()` only when annotating (the fast path
    // formats no text): c.add(1, QStringLiteral("GSM"), [&]() -> QString { return ...; }).
    template <typename Fn, typename = std::enable_if_t<std::is_invocable_r_v<QString, Fn &>>>
    Field &add(int len, QString name, Fn &&value) {
        if (annotate)
            return addField(len, std::move(name), QString(value()));
        pos += len;
        scratch.name.swap(name);
        scratch.warning.clear();
        scratch.children.clear();
        return scratch;
    }
    // Appends a ready-made top-level field (dropped when not annotating).
    void append(Field &&field);
    // Records a warning on a field and on the frame.
    void warn(Field &field, const QString &warning);
    // Remaining content bytes as one raw field (no-op when nothing is left).
    void rest(const QString &name = QStringLiteral("Extra data"));
    // Marks the content as too short for `what`; the rest becomes an "Undecoded" field.
    void tooShort(const QString &what);
    Message &msg() { return f->message; }
    QString model() const { return ctx && ctx->options ? ctx->options->model : QString(); }
};

using DecodeFn = void (*)(Cursor &);

struct MessageDef {
    quint8 type;
    QStringView name;   // static UTF-16 text: typeName shares it without a copy
    MessageKind kind;
    ReplyPolicy reply;
    bool localTime;   // timestamps are device-local (login time zone applies)
    DecodeFn decode;
};

// Catalogue lookups (gt06_messages.cpp). nullptr: unknown type.
const MessageDef *standardMessage(int type);
const MessageDef *topinMessage(int type);
// Server -> device names, for ToDevice decoding (null view: unknown type).
QStringView standardDownlinkName(int type);
QStringView topinDownlinkName(int type);

// A QString over static UTF-16 text (the catalogue names): no allocation, and copies share
// no reference count.
inline QString staticText(QStringView s) { return QString::fromRawData(s.data(), s.size()); }

// Times without QDate/QTime/QDateTime arithmetic on the hot path.
// Milliseconds since 1970-01-01 UTC of a calendar date/time, std::nullopt when the date or
// time is out of range (same rules as QDate::isValid + QTime(h, m, s)).
std::optional<qint64> utcMs(int year, int month, int day, int hour, int minute, int second);
// The UTC QDateTime of `ms` (cheaper than QDateTime::fromMSecsSinceEpoch).
QDateTime utcDateTime(qint64 ms);
// Calendar fields of `ms` (UTC): {year, month, day, hour, minute, second}.
void civilFromMs(qint64 ms, int out[6]);

// Content decoders for the downlink direction (gt06_messages.cpp).
void decodeStandardDownlink(Cursor &c);
void decodeTopinDownlink(Cursor &c);

// Size of a Topin Wi-Fi frame (0x69/0x17) from its first bytes; 0 = need more bytes,
// -1 = not a Topin Wi-Fi frame.
int topinWifiFrameSize(const uchar *d, int n);

// Formatting helpers (gt06_messages.cpp), cheap on purpose.
QString hexByte(int v);                    // "0x1F"
QString hexWord(int v);                    // "0x1F2E"
QString hexBytes(const uchar *d, int n);   // "01 23 45"
QString bcdDigits(const uchar *d, int n, bool *ok = nullptr);  // "0123..." (nibbles)
QString summaryOf(const DecodedFrame &f);

} // namespace td::proto::gt06::detail
