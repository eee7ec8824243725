// GT06 family: stream framing (ProtocolSession), frame layout (start, length, type,
// serial, CRC, stop), dialect detection, replies and the encoders.
// The message catalogues (content of each type) live in gt06_messages.cpp.
#define QT_USE_QSTRINGBUILDER   // one allocation per concatenation chain (hot path)
#include "trackerdesk/protocol/gt06.h"

#include "gt06_p.h"
#include "trackerdesk/protocol/checksum.h"

#include <QTimeZone>

#include <algorithm>
#include <cstring>

namespace td::proto::gt06 {

using namespace detail;

namespace {

constexpr int kMaxFrameBytes = 16 * 1024;   // longest 79 79 frame accepted
constexpr int kMinWindow = 64;              // smallest useful buffer bound
constexpr int kInnerSearch = 2048;          // how far back an inner frame is looked for

inline bool isHeaderAt(const uchar *d) { return (d[0] == 0x78 && d[1] == 0x78) || (d[0] == 0x79 && d[1] == 0x79); }
inline bool isStartByte(uchar b) { return b == 0x78 || b == 0x79; }
inline quint16 be16(const uchar *d) { return quint16((d[0] << 8) | d[1]); }

inline quint16 crcOf(const uchar *d, int len) { return crc16X25(reinterpret_cast<const char *>(d), len); }

// CRC of a standard frame [0, end): covers length .. serial, stored before 0D 0A.
bool standardCrcValid(const uchar *d, int end) {
    if (end < 10)
        return false;
    return crcOf(d + 2, end - 6) == be16(d + end - 4);
}

bool validBcd(const uchar *d, int n) {
    for (int i = 0; i < n; ++i)
        if ((d[i] >> 4) > 9 || (d[i] & 0x0F) > 9)
            return false;
    return true;
}

bool isTopinLoginForm(const uchar *d, int n) {
    return n == 15 && d[0] == 0x78 && d[3] == 0x01 && d[13] == 0x0D && d[14] == 0x0A && (d[4] >> 4) == 0
           && validBcd(d + 4, 8);
}

bool modelIsTopin(const SessionOptions *o) {
    return o && !o->model.isEmpty() && o->model.compare(QLatin1String("topin"), Qt::CaseInsensitive) == 0;
}

QString garbageReason(const uchar *d, int n) {
    auto starts = [&](const char *s) {
        const int l = int(std::strlen(s));
        return n >= l && std::memcmp(d, s, size_t(l)) == 0;
    };
    if (n >= 3 && d[0] == 0x16 && d[1] == 0x03 && d[2] <= 0x04)
        return QStringLiteral("TLS handshake, not GT06");
    for (const char *m : {"GET ", "POST ", "HEAD ", "PUT ", "OPTIONS ", "CONNECT ", "DELETE "})
        if (starts(m))
            return QStringLiteral("HTTP request, not GT06");
    if (starts("*IDN?"))
        return QStringLiteral("SCPI *IDN? probe, not GT06");
    if (starts("SSH-"))
        return QStringLiteral("SSH banner, not GT06");
    return QStringLiteral("not a GT06 frame (no 78 78 / 79 79 start)");
}

// ---------------------------------------------------------------------------------
// Frame layout and decoding
// ---------------------------------------------------------------------------------

// What the framer needs to know about a decoded frame besides the frame itself.
struct DecodeResult {
    bool crcBad = false;
    bool lengthBad = false;
    Dialect dialect = Dialect::Standard;
};

Dialect detectDialect(const uchar *d, int n, int declaredTotal, bool standardOk, const Context &ctx) {
    if (d[0] != 0x78 || n < 6)
        return Dialect::Standard;
    const bool hasStop = d[n - 2] == 0x0D && d[n - 1] == 0x0A;
    if (!hasStop)
        return Dialect::Standard;
    const int ll = d[2];
    const int type = d[3];
    const bool forced = modelIsTopin(ctx.options) || ctx.topinHint;
    if (standardOk)
        return forced && isTopinLoginForm(d, n) ? Dialect::Topin : Dialect::Standard;
    if (n < 10 && declaredTotal == n)
        return Dialect::Topin;                       // 78 78 01 08 0D 0A and the like
    if (type == 0x01 && isTopinLoginForm(d, n))
        return Dialect::Topin;
    if ((type == 0x10 || type == 0x11) && declaredTotal != n && n >= 24)
        return Dialect::Topin;                       // length byte 0x12, no serial/CRC
    if (type == 0x69 || (type == 0x17 && ll <= 0x10))
        return Dialect::Topin;                       // length byte = Wi-Fi count
    if (type == 0x13 && declaredTotal == n && ll < 0x0A)
        return Dialect::Topin;
    const bool toDevice = ctx.options && ctx.options->direction == Direction::ToDevice;
    if (toDevice && (ll == 0 || (type == 0x30 && n == 13) || (type == 0x69 && declaredTotal == n)))
        return Dialect::Topin;                       // Topin replies: time echo, time, position text
    if (forced)
        return Dialect::Topin;
    return Dialect::Standard;
}

// Replies built in place: one allocation of the exact size, no intermediate content array
// (an ack is sent for nearly every frame).
// 78 78 LL TT <content> SS SS CRC 0D 0A, or 79 79 LL LL ... with `longHeader`.
QByteArray replyFrame(quint8 type, const uchar *content, int contentLen, quint16 serial, bool longHeader) {
    const int len = 1 + contentLen + 4;
    const int head = longHeader ? 4 : 3;
    QByteArray b(head + len + 2, Qt::Uninitialized);
    auto *o = reinterpret_cast<uchar *>(b.data());
    o[0] = o[1] = longHeader ? 0x79 : 0x78;
    if (longHeader) {
        o[2] = uchar(len >> 8);
        o[3] = uchar(len);
    } else {
        o[2] = uchar(len);
    }
    uchar *p = o + head;
    *p++ = type;
    if (contentLen > 0)
        std::memcpy(p, content, size_t(contentLen));
    p += contentLen;
    *p++ = uchar(serial >> 8);
    *p++ = uchar(serial);
    const quint16 crc = crcOf(o + 2, int(p - o) - 2);
    *p++ = uchar(crc >> 8);
    *p++ = uchar(crc);
    *p++ = 0x0D;
    *p = 0x0A;
    return b;
}

// Topin: 78 78 LL TT <content> 0D 0A (no serial, no CRC).
QByteArray topinReplyFrame(quint8 lengthByte, quint8 type, const uchar *content, int contentLen) {
    QByteArray b(4 + contentLen + 2, Qt::Uninitialized);
    auto *o = reinterpret_cast<uchar *>(b.data());
    o[0] = o[1] = 0x78;
    o[2] = lengthByte;
    o[3] = type;
    if (contentLen > 0)
        std::memcpy(o + 4, content, size_t(contentLen));
    o[4 + contentLen] = 0x0D;
    o[5 + contentLen] = 0x0A;
    return b;
}

// 0x8A time calibration reply for the current time `nowMs` (UTC).
QByteArray timeReply(quint16 serial, qint64 nowMs) {
    int v[6];
    civilFromMs(nowMs, v);
    const uchar content[6] = {uchar(std::clamp(v[0] - 2000, 0, 255)), uchar(v[1]), uchar(v[2]),
                              uchar(v[3]), uchar(v[4]), uchar(v[5])};
    return replyFrame(MsgTimeRequest, content, 6, serial, false);
}

// Value and warning text are built by the caller only when annotating (or on a problem).
void addTrailerField(DecodedFrame &f, bool annotate, int offset, int length, const QString &name, const QString &value,
                     const QString &warning = {}) {
    if (!warning.isEmpty())
        f.warnings.append(name + QLatin1String(": ") + warning);
    if (!annotate)
        return;
    Field fl = makeField(offset, length, name, value);
    fl.warning = warning;
    f.fields.append(std::move(fl));
}

void buildReplies(DecodedFrame &f, const DecodeResult &r, const MessageDef *def, const uchar *d, int n, int serial,
                  int contentStart) {
    ReplyPolicy policy = def ? def->reply : ReplyPolicy::None;
    const int type = f.type;
    if (!def && r.dialect == Dialect::Standard && d[0] == 0x78 && type != 0x80 && type != 0x81 && type != 0x82)
        policy = ReplyPolicy::Ack;   // Traccar: unknown 78 78 types are acked too
    switch (policy) {
    case ReplyPolicy::None:
        break;
    case ReplyPolicy::Ack:
        if (serial >= 0)
            f.replies.append(encodeAck(quint8(type), quint16(serial)));
        break;
    case ReplyPolicy::LongAck:
        if (serial >= 0)
            f.replies.append(encodeLongAck(quint8(type), quint16(serial)));
        break;
    case ReplyPolicy::TimeReply:
        if (serial >= 0)
            f.replies.append(timeReply(quint16(serial), QDateTime::currentMSecsSinceEpoch()));
        break;
    case ReplyPolicy::AddressReply: {
        if (serial < 0)
            break;
        // GPS 18 + phone 21 + language 2: phone at content + 18.
        const int phoneAt = contentStart + 18;
        QByteArray phone;
        if (phoneAt + 21 <= n)
            phone = QByteArray(reinterpret_cast<const char *>(d + phoneAt), 21);
        const bool chinese = phoneAt + 23 <= n && d[phoneAt + 22] == 0x01;
        f.replies.append(encodeAddressReply(quint16(serial), QStringLiteral("NA"), phone, chinese));
        break;
    }
    case ReplyPolicy::TopinAck:
        f.replies.append(topinReplyFrame(0x01, quint8(type), nullptr, 0));
        break;
    case ReplyPolicy::TopinTimeEcho:
        if (contentStart + 6 <= n)
            f.replies.append(topinReplyFrame(0x00, quint8(type), d + contentStart, 6));
        break;
    case ReplyPolicy::TopinTime:
        f.replies.append(encodeTopinTimeReply(QDateTime::currentDateTimeUtc()));
        break;
    case ReplyPolicy::TopinEcho:
        f.replies.append(QByteArray(reinterpret_cast<const char *>(d), n));
        break;
    }
}

// Decodes `frame` into `f` (a fresh DecodedFrame: the caller's return value or stream
// event, so that nothing is moved or copied afterwards).
DecodeResult decode(const QByteArray &frame, const Context &ctx, DecodedFrame &f) {
    DecodeResult r;
    f.bytes = frame;
    f.protocol = QStringLiteral("gt06");
    const auto *d = reinterpret_cast<const uchar *>(frame.constData());
    const int n = int(frame.size());
    const bool toDevice = ctx.options && ctx.options->direction == Direction::ToDevice;
    const bool annotate = !ctx.options || ctx.options->annotate;

    if (n == 0) {
        f.typeName = QStringLiteral("Empty");
        f.warnings.append(QStringLiteral("empty frame"));
        return r;
    }
    if (n < 2 || !isHeaderAt(d)) {
        f.typeName = QStringLiteral("Not GT06");
        addTrailerField(f, annotate, 0, n, QStringLiteral("Undecoded"), hexBytes(d, std::min(n, 32)) + (n > 32 ? QStringLiteral(" …") : QString()),
                        QStringLiteral("not a GT06 frame (must start with 78 78 or 79 79)"));
        f.summary = QStringLiteral("not a GT06 frame");
        return r;
    }
    const bool longHeader = d[0] == 0x79;
    const int lenBytes = longHeader ? 2 : 1;
    const int typeAt = 2 + lenBytes;
    if (annotate) {
        f.fields.reserve(24);
        f.fields.append(makeField(0, 2, QStringLiteral("Start"),
                                  longHeader ? QStringLiteral("79 79 (long frame, 2-byte length)")
                                             : QStringLiteral("78 78 (short frame, 1-byte length)")));
    }
    if (n < typeAt + 1) {
        f.typeName = QStringLiteral("Truncated");
        if (n > 2)
            addTrailerField(f, annotate, 2, n - 2, QStringLiteral("Truncated"), hexBytes(d + 2, n - 2),
                            QStringLiteral("frame ends before the protocol number"));
        else
            f.warnings.append(QStringLiteral("frame ends before the length field"));
        f.summary = QStringLiteral("truncated frame");
        return r;
    }
    const int declared = longHeader ? be16(d + 2) : d[2];
    const int declaredTotal = declared + (longHeader ? 6 : 5);
    const int type = d[typeAt];
    f.type = type;
    const bool hasStopAtEnd = n >= typeAt + 3 && d[n - 2] == 0x0D && d[n - 1] == 0x0A;
    const int minStandard = typeAt + 1 + 6;
    // The CRC over bytes 2 .. end-4, computed once: the dialect check and the CRC field
    // below ask for the same range on every well-formed frame.
    int crcLen = -1;
    quint16 crcValue = 0;
    auto crcOver = [&](int len) {
        if (len != crcLen) {
            crcValue = crcOf(d + 2, len);
            crcLen = len;
        }
        return crcValue;
    };
    const bool standardOk = declaredTotal == n && hasStopAtEnd && n >= minStandard && crcOver(n - 6) == be16(d + n - 4);
    r.dialect = detectDialect(d, n, declaredTotal, standardOk, ctx);
    const bool topin = r.dialect == Dialect::Topin;
    if (topin)
        f.protocol = QStringLiteral("topin");

    // ---- where things are ----
    const int contentStart = typeAt + 1;
    int contentEnd = n, serialAt = -1, crcAt = -1, stopAt = -1, trailingAt = -1, end = n;
    if (topin) {
        contentEnd = hasStopAtEnd ? n - 2 : n;
        stopAt = hasStopAtEnd ? n - 2 : -1;
    } else {
        if (declaredTotal >= minStandard && declaredTotal <= n && d[declaredTotal - 2] == 0x0D
            && d[declaredTotal - 1] == 0x0A) {
            end = declaredTotal;
            if (end < n)
                trailingAt = end;
        } else if (hasStopAtEnd) {
            end = n;
            r.lengthBad = true;
        } else {
            end = std::max(declaredTotal, minStandard);
            r.lengthBad = declaredTotal != end;
            if (end < n)
                trailingAt = end;
        }
        if (end >= minStandard) {
            serialAt = end - 6;
            crcAt = end - 4;
            stopAt = end - 2;
            contentEnd = std::min(serialAt, n);
        } else {
            contentEnd = hasStopAtEnd ? n - 2 : n;
            stopAt = hasStopAtEnd ? n - 2 : -1;
        }
        contentEnd = std::max(contentEnd, contentStart);
    }

    // ---- length field ----
    if (!annotate) {
        if (!topin && r.lengthBad)
            f.warnings.append(QLatin1String("Length: ")
                              + QStringLiteral("length mismatch: says %1 bytes in all, the frame has %2").arg(declaredTotal).arg(end));
    } else {
        Field lf = makeField(2, lenBytes, QStringLiteral("Length"));
        if (topin) {
            if (type == 0x69 || type == 0x17)
                lf.value = QString::number(declared) + QLatin1String(" (Topin: number of Wi-Fi access points, not a length)");
            else if (declaredTotal != n)
                lf.value = QString::number(declared) + QLatin1String(" (Topin: does not match the frame, as on real units)");
            else
                lf.value = QString::number(declared) + QLatin1String(" (type + content)");
        } else {
            lf.value = QString::number(declared) + QLatin1String(" (type + content + serial + CRC)");
            if (r.lengthBad) {
                lf.warning = QStringLiteral("length mismatch: says %1 bytes in all, the frame has %2").arg(declaredTotal).arg(end);
                f.warnings.append(QLatin1String("Length: ") + lf.warning);
            }
        }
        f.fields.append(std::move(lf));
    }

    // ---- protocol number and content ----
    const MessageDef *def = nullptr;
    QStringView typeName;
    if (toDevice) {
        typeName = topin ? topinDownlinkName(type) : standardDownlinkName(type);
    } else {
        def = topin ? topinMessage(type) : standardMessage(type);
        if (def)
            typeName = def->name;
    }
    if (!toDevice && !topin && type == 0x17 && declared == 0x28)
        typeName = u"GPS+LBS+RFID";   // the same number is used by the RFID variant
    f.typeName = typeName.isNull() ? QStringLiteral("Unknown") : staticText(typeName);
    if (annotate)
        f.fields.append(makeField(typeAt, 1, QStringLiteral("Protocol number"), hexByte(type) + QLatin1String(" (") + f.typeName + QLatin1Char(')')));

    Cursor c;
    c.d = d;
    c.pos = contentStart;
    c.end = contentEnd;
    c.f = &f;
    c.ctx = &ctx;
    c.dialect = r.dialect;
    c.longHeader = longHeader;
    c.type = type;
    c.lengthField = declared;
    c.localTime = def ? def->localTime : false;
    c.annotate = annotate;
    if (toDevice) {
        f.message.kind = MessageKind::Downlink;
        if (topin)
            decodeTopinDownlink(c);
        else
            decodeStandardDownlink(c);
    } else if (def && !topin && c.remaining() == 0
               && (def->kind == MessageKind::Position || def->kind == MessageKind::Lbs)) {
        f.message.kind = MessageKind::Unknown;   // e.g. an empty 0x12 (Traccar test): nothing to decode
        f.summary = f.typeName + QLatin1String(" without content");
    } else if (def) {
        f.message.kind = def->kind;
        def->decode(c);
    } else {
        f.message.kind = MessageKind::Unknown;
        if (c.remaining() > 0)
            c.add(c.remaining(), QStringLiteral("Content (unknown type)"), !annotate ? QString() : hexBytes(d + c.pos, std::min(c.remaining(), 64)) + (c.remaining() > 64 ? QStringLiteral(" …") : QString()));
    }
    if (c.pos < c.end)
        c.rest();

    // ---- serial, CRC, stop, trailing ----
    if (serialAt >= 0 && serialAt < n) {
        if (serialAt + 2 <= n) {
            f.serial = be16(d + serialAt);
            if (annotate)   // (the fast path builds no name or value strings for good trailers)
                addTrailerField(f, annotate, serialAt, 2, QStringLiteral("Serial number"), QString::number(f.serial));
        } else {
            addTrailerField(f, annotate, serialAt, n - serialAt, QStringLiteral("Serial number"), QStringLiteral("(truncated)"),
                            QStringLiteral("frame ends inside the serial number"));
        }
    }
    if (crcAt >= 0 && crcAt < n) {
        if (crcAt + 2 <= n) {
            const quint16 stored = be16(d + crcAt);
            const quint16 computed = crcOver(crcAt - 2);
            if (stored == computed) {
                if (annotate)
                    addTrailerField(f, annotate, crcAt, 2, QStringLiteral("CRC"), hexWord(stored) + QLatin1String(" (valid CRC-ITU)"));
            } else {
                r.crcBad = true;
                addTrailerField(f, annotate, crcAt, 2, QStringLiteral("CRC"), hexWord(stored),
                                QStringLiteral("bad CRC: computed %1 over bytes 2..%2").arg(hexWord(computed)).arg(crcAt - 1));
            }
        } else {
            r.crcBad = true;
            addTrailerField(f, annotate, crcAt, n - crcAt, QStringLiteral("CRC"), QStringLiteral("(truncated)"),
                            QStringLiteral("frame ends inside the CRC"));
        }
    }
    if (stopAt >= 0 && stopAt < n) {
        const int len = std::min(2, n - stopAt);
        if (len == 2 && d[stopAt] == 0x0D && d[stopAt + 1] == 0x0A) {
            if (annotate)
                addTrailerField(f, annotate, stopAt, 2, QStringLiteral("Stop"), QStringLiteral("0D 0A"));
        } else
            addTrailerField(f, annotate, stopAt, len, QStringLiteral("Stop"), hexBytes(d + stopAt, len),
                            len < 2 ? QStringLiteral("frame truncated: stop bytes missing")
                                    : QStringLiteral("expected 0D 0A"));
    } else if (stopAt < 0 && !hasStopAtEnd && (annotate ? !f.fields.isEmpty() && f.fields.last().end() == n : c.pos == n)) {
        f.warnings.append(QStringLiteral("frame does not end with 0D 0A"));
    }
    if (trailingAt >= 0 && trailingAt < n)
        addTrailerField(f, annotate, trailingAt, n - trailingAt, QStringLiteral("Trailing bytes"),
                        QString::number(n - trailingAt) + QLatin1String(" bytes after the frame end"),
                        QStringLiteral("bytes after the end the length field gives (another frame?)"));

    if (c.truncated && f.warnings.isEmpty())
        f.warnings.append(QStringLiteral("content shorter than the message type needs"));

    // ---- replies ----
    const bool complete = stopAt >= 0 && stopAt + 2 <= n && d[stopAt] == 0x0D && d[stopAt + 1] == 0x0A;
    if (!toDevice && complete)
        buildReplies(f, r, def, d, n, f.serial, contentStart);

    if (f.summary.isEmpty() && (!ctx.options || ctx.options->summarize))
        f.summary = summaryOf(f);
    return r;
}

// ---------------------------------------------------------------------------------
// Stream framing
// ---------------------------------------------------------------------------------

class Gt06Session final : public ProtocolSession {
public:
    explicit Gt06Session(const SessionOptions &o) : m_opt(o) {}

    QList<StreamEvent> feed(const QByteArray &bytes) override;
    int bufferedBytes() const override { return int(m_buf.size()); }
    void setOptions(const SessionOptions &options) override { m_opt = options; }

private:
    enum class Act : quint8 { Wait, Cut, Garbage, Drop };
    struct Decision {
        Act act = Act::Wait;
        int len = 0;
        QString reason;
    };
    int window() const { return std::max(kMinWindow, m_opt.maxBufferedBytes); }
    Decision decideAtHeader(const uchar *d, int n);
    bool earlyValid(const uchar *d, int end) const;
    int innerFrame(const uchar *d, int end) const;
    void resetScan() { m_scan = 0; m_firstCrlfEnd = -1; }

    SessionOptions m_opt;
    QByteArray m_buf;
    std::optional<int> m_loginTz;
    int m_scan = 0;           // CRLF scan resumes here (relative to the buffer start)
    int m_firstCrlfEnd = -1;  // first CR LF seen before the declared end, -1 if none
    bool m_topin = false;
};

bool Gt06Session::earlyValid(const uchar *d, int end) const {
    if (d[0] == 0x78 && isTopinLoginForm(d, end))
        return true;
    return standardCrcValid(d, end);
}

// A complete frame that starts inside [1, end) and ends exactly at `end`: the bytes before
// it were garbage that happened to start with 78 78 / 79 79.
int Gt06Session::innerFrame(const uchar *d, int end) const {
    for (int p = std::max(1, end - kInnerSearch); p + 6 <= end; ++p) {
        if (!isHeaderAt(d + p))
            continue;
        const uchar *q = d + p;
        const int len = end - p;
        if (isTopinLoginForm(q, len))
            return p;
        if (len < 10)
            continue;
        const int total = q[0] == 0x79 ? be16(q + 2) + 6 : q[2] + 5;
        if (total == len && standardCrcValid(q, len))
            return p;
    }
    return -1;
}

Gt06Session::Decision Gt06Session::decideAtHeader(const uchar *d, int n) {
    const int win = window();
    const int lim = std::min(n, win);
    const bool longHeader = d[0] == 0x79;
    const int lenBytes = longHeader ? 2 : 1;
    const int tAt = 2 + lenBytes;
    if (lim < tAt + 1)
        return {};
    const int declared = longHeader ? be16(d + 2) : d[2];
    int total = declared + (longHeader ? 6 : 5);
    const int type = d[tAt];
    if (!longHeader && (type == 0x69 || (type == 0x17 && declared <= 0x10))) {
        const int s = topinWifiFrameSize(d, lim);
        if (s == 0)
            return lim >= win ? Decision{Act::Drop, win, QStringLiteral("no frame end within %1 bytes").arg(win)} : Decision{};
        total = s;
    }
    // Topin GPS frames (0x10/0x11, length byte 0x12) carry no serial/CRC: the length byte
    // counts the content only, so the frame is 0x12 + 6 bytes. Cutting them by the standard
    // rule would fall back to the first CR LF, which can sit inside the coordinates.
    if (m_topin && !longHeader && declared == 0x12 && (type == 0x10 || type == 0x11))
        total = declared + 6;
    const int maxFrame = std::min(win, kMaxFrameBytes);
    if (total > maxFrame)
        return {Act::Drop, 2 + lenBytes,
                QStringLiteral("length field %1 exceeds the %2-byte frame limit").arg(declared).arg(maxFrame)};
    if (total < tAt + 3)
        total = -1;   // impossible (Topin replies): cut at the first CR LF

    int i = std::max(m_scan, tAt + 1);
    while (i + 1 < lim) {
        const void *hit = std::memchr(d + i, 0x0D, size_t(lim - 1 - i));
        if (!hit) {
            i = lim - 1;
            break;
        }
        i = int(static_cast<const uchar *>(hit) - d);
        if (d[i + 1] != 0x0A) {
            ++i;
            continue;
        }
        const int end = i + 2;
        if (total > 0 && end == total)
            return {Act::Cut, total, {}};
        if (total > 0 && end > total) {
            if (m_firstCrlfEnd > 0)
                return {Act::Cut, m_firstCrlfEnd, {}};
            const int p = innerFrame(d, end);
            if (p > 0)
                return {Act::Garbage, p, {}};
            return {Act::Cut, end, {}};
        }
        if (earlyValid(d, end))
            return {Act::Cut, end, {}};
        const int p = innerFrame(d, end);
        if (p > 0)
            return {Act::Garbage, p, {}};
        if (total < 0)
            return {Act::Cut, end, {}};
        if (m_firstCrlfEnd < 0)
            m_firstCrlfEnd = end;
        i = end;
    }
    m_scan = std::max(tAt + 1, std::min(i, lim - 1));
    if (total > 0 && lim >= total && m_firstCrlfEnd > 0)
        return {Act::Cut, m_firstCrlfEnd, {}};
    if (lim >= win)
        return {Act::Drop, win, QStringLiteral("no frame end within %1 bytes (buffer bound)").arg(win)};
    return {};
}

QList<StreamEvent> Gt06Session::feed(const QByteArray &bytes) {
    QList<StreamEvent> out;
    m_buf.append(bytes);
    const auto *base = reinterpret_cast<const uchar *>(m_buf.constData());
    const int size = int(m_buf.size());
    int pos = 0;
    auto garbage = [&](int len, const QString &reason) {
        if (!out.isEmpty() && out.last().kind == StreamEvent::Garbage) {
            out.last().bytes.append(reinterpret_cast<const char *>(base + pos), len);
        } else {
            StreamEvent e;
            e.kind = StreamEvent::Garbage;
            e.bytes = QByteArray(reinterpret_cast<const char *>(base + pos), len);
            e.reason = reason.isEmpty() ? garbageReason(base + pos, size - pos) : reason;
            out.append(std::move(e));
        }
        pos += len;
        resetScan();
    };
    while (pos < size) {
        const uchar *d = base + pos;
        const int n = size - pos;
        if (n < 2) {
            if (isStartByte(d[0]))
                break;
            garbage(1, {});
            continue;
        }
        if (!isHeaderAt(d)) {
            int p = 1;
            while (p + 1 < n && !isHeaderAt(d + p))
                ++p;
            if (p + 1 >= n)   // no header: keep a last 78/79, it may start one
                p = isStartByte(d[n - 1]) ? n - 1 : n;
            garbage(p, {});
            continue;
        }
        const Decision dec = decideAtHeader(d, n);
        if (dec.act == Act::Wait)
            break;
        if (dec.act == Act::Garbage) {
            garbage(dec.len, QStringLiteral("bytes before a frame (false 78 78 / 79 79 start)"));
            continue;
        }
        if (dec.act == Act::Drop) {
            StreamEvent e;
            e.kind = StreamEvent::Dropped;
            e.bytes = QByteArray(reinterpret_cast<const char *>(d), dec.len);
            e.reason = dec.reason;
            out.append(std::move(e));
            pos += dec.len;
            resetScan();
            continue;
        }
        // Cut. A frame that is the whole buffer (one frame per TCP segment, the usual case)
        // shares the buffer's bytes instead of copying them.
        const QByteArray frameBytes = pos == 0 && dec.len == size
                                          ? m_buf
                                          : QByteArray(reinterpret_cast<const char *>(d), dec.len);
        Context ctx;
        ctx.options = &m_opt;
        ctx.loginTz = m_loginTz;
        ctx.topinHint = m_topin;
        StreamEvent e;
        const DecodeResult r = decode(frameBytes, ctx, e.frame);
        if (r.dialect == Dialect::Standard && r.lengthBad && r.crcBad) {
            // Neither the length nor the CRC fits, and it is no Topin form: not a frame.
            garbage(2, QStringLiteral("78 78 / 79 79 start without a valid frame (length and CRC both wrong)"));
            continue;
        }
        pos += dec.len;
        resetScan();
        if (r.dialect == Dialect::Topin && e.frame.message.kind == MessageKind::Login)
            m_topin = true;   // a Topin login decides the connection; single odd frames do not
        if (e.frame.message.kind == MessageKind::Login && e.frame.message.timeZoneMinutes)
            m_loginTz = e.frame.message.timeZoneMinutes;
        if (m_opt.strictChecksum && r.crcBad) {
            e.kind = StreamEvent::Dropped;
            e.frame = DecodedFrame();
            e.bytes = frameBytes;
            e.reason = QStringLiteral("bad CRC (strict checksum)");
        } else {
            e.kind = StreamEvent::Frame;
        }
        out.append(std::move(e));
    }
    if (pos >= size) {
        m_buf.clear();   // frees the storage: idle sessions hold nothing
    } else if (pos > 0) {
        m_buf.remove(0, pos);
        if (m_buf.capacity() > 4 * m_buf.size() + 256)
            m_buf.squeeze();
    }
    return out;
}

class Gt06Protocol final : public Protocol {
public:
    QString id() const override { return QStringLiteral("gt06"); }
    QString displayName() const override { return QStringLiteral("GT06 / Concox / Topin"); }
    Sniff sniff(const QByteArray &head) const override {
        if (head.isEmpty())
            return Sniff::NeedMore;
        const auto b0 = uchar(head[0]);
        if (!isStartByte(b0))
            return Sniff::No;
        if (head.size() < 2)
            return Sniff::NeedMore;
        return uchar(head[1]) == b0 ? Sniff::Yes : Sniff::No;
    }
    std::unique_ptr<ProtocolSession> createSession(const SessionOptions &options) const override {
        return std::make_unique<Gt06Session>(options);
    }
    DecodedFrame decodeFrame(const QByteArray &frame, const SessionOptions &options) const override {
        Context ctx;
        ctx.options = &options;
        DecodedFrame f;
        decode(frame, ctx, f);
        return f;
    }
    // What decode() would have put there with summarize = true (an empty frame has none;
    // broken ones got theirs while decoding).
    QString summary(const DecodedFrame &frame) const override {
        if (!frame.summary.isEmpty() || frame.bytes.isEmpty())
            return frame.summary;
        return summaryOf(frame);
    }
};

// ---------------------------------------------------------------------------------
// Encoders
// ---------------------------------------------------------------------------------

void putU16(QByteArray &b, quint16 v) { b.append(char(v >> 8)); b.append(char(v & 0xFF)); }
void putU32(QByteArray &b, quint32 v) { putU16(b, quint16(v >> 16)); putU16(b, quint16(v & 0xFFFF)); }
void putU24(QByteArray &b, quint32 v) { b.append(char((v >> 16) & 0xFF)); putU16(b, quint16(v & 0xFFFF)); }

// Wraps type + content + serial into a standard frame (78 78 when it fits, else 79 79).
QByteArray standardFrame(quint8 type, const QByteArray &content, quint16 serial, bool forceLong = false) {
    const int len = 1 + int(content.size()) + 4;
    const bool longFrame = forceLong || len > 0xFF;
    QByteArray b;
    b.reserve(len + 6);
    if (longFrame) {
        b.append("\x79\x79", 2);
        putU16(b, quint16(len));
    } else {
        b.append("\x78\x78", 2);
        b.append(char(len));
    }
    b.append(char(type));
    b.append(content);
    putU16(b, serial);
    putU16(b, crc16X25(b.constData() + 2, b.size() - 2));
    b.append("\r\n", 2);
    return b;
}

QByteArray topinFrame(quint8 lengthByte, quint8 type, const QByteArray &content) {
    return topinReplyFrame(lengthByte, type, reinterpret_cast<const uchar *>(content.constData()), int(content.size()));
}

QByteArray dateBytes(const QDateTime &t) {
    const QDateTime u = t.toUTC();
    const QDate dd = u.date();
    const QTime tt = u.time();
    QByteArray b;
    b.append(char(std::clamp(dd.year() - 2000, 0, 255)));
    b.append(char(dd.month()));
    b.append(char(dd.day()));
    b.append(char(tt.hour()));
    b.append(char(tt.minute()));
    b.append(char(tt.second()));
    return b;
}

char bcd(int v) { return char(((v / 10) % 10) << 4 | (v % 10)); }

QByteArray bcdDateBytes(const QDateTime &t) {
    const QDateTime u = t.toUTC();
    QByteArray b;
    b.append(bcd(u.date().year() % 100));
    b.append(bcd(u.date().month()));
    b.append(bcd(u.date().day()));
    b.append(bcd(u.time().hour()));
    b.append(bcd(u.time().minute()));
    b.append(bcd(u.time().second()));
    return b;
}

// 18-byte GPS block: date, GPS info, latitude, longitude, speed, course/status.
QByteArray gpsBlock(const Position &p) {
    QByteArray b = dateBytes(p.time.isValid() ? p.time : QDateTime::fromSecsSinceEpoch(946684800, QTimeZone::UTC));
    const int sats = std::clamp(p.satellites.value_or(0), 0, 15);
    b.append(char(0xC0 | sats));
    putU32(b, quint32(std::llround(std::min(std::abs(p.latitude), 90.0) * 1800000.0)));
    putU32(b, quint32(std::llround(std::min(std::abs(p.longitude), 180.0) * 1800000.0)));
    b.append(char(std::clamp(int(std::lround(p.speedKmh.value_or(0))), 0, 255)));
    int course = int(std::lround(p.course.value_or(0))) % 360;
    if (course < 0)
        course += 360;
    quint16 word = quint16(course);
    if (p.latitude >= 0)
        word |= 1 << 10;
    if (p.longitude < 0)
        word |= 1 << 11;
    if (p.valid)
        word |= 1 << 12;
    putU16(b, word);
    return b;
}

QByteArray lbsBlock(const Position &p) {
    QByteArray b;
    const CellTower c = p.cells.isEmpty() ? CellTower{} : p.cells.first();
    putU16(b, quint16(c.mcc));
    b.append(char(c.mnc & 0xFF));
    putU16(b, quint16(c.lac & 0xFFFF));
    putU24(b, quint32(c.cellId & 0xFFFFFF));
    return b;
}

} // namespace

// ---------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------

quint16 crcItu(const char *data, qsizetype len) { return crc16X25(data, len); }

QByteArray encodeAck(quint8 type, quint16 serial) { return replyFrame(type, nullptr, 0, serial, false); }

QByteArray encodeLongAck(quint8 type, quint16 serial) { return replyFrame(type, nullptr, 0, serial, true); }

QByteArray encodeTimeReply(quint16 serial, const QDateTime &utc) {
    return standardFrame(MsgTimeRequest, dateBytes(utc), serial);
}

QByteArray encodeCommand(quint16 serial, quint32 serverFlag, const QString &text) {
    if (text.isEmpty())
        return {};
    const QByteArray t = text.toUtf8();
    if (t.size() > 0xFFFF - 32)
        return {};
    QByteArray content;
    const int cmdLen = 4 + int(t.size());
    const bool longFrame = 1 + 1 + cmdLen + 4 > 0xFF;
    if (longFrame)
        putU16(content, quint16(cmdLen));
    else
        content.append(char(cmdLen));
    putU32(content, serverFlag);
    content.append(t);
    return standardFrame(MsgCommand, content, serial, longFrame);
}

QByteArray encodeAddressReply(quint16 serial, const QString &address, const QByteArray &phone21, bool chinese) {
    QByteArray text("ADDRESS&&");
    for (QChar ch : address) {
        text.append(char(ch.unicode() >> 8));
        text.append(char(ch.unicode() & 0xFF));
    }
    text.append("&&");
    QByteArray phone = phone21.left(21);
    phone.append(QByteArray(21 - phone.size(), '0'));
    text.append(phone);
    text.append("##");
    QByteArray content;
    const int cmdLen = 4 + int(text.size());
    if (chinese)
        content.append(char(std::min(cmdLen, 0xFF)));
    else
        putU16(content, quint16(cmdLen));
    putU32(content, 0);
    content.append(text);
    return standardFrame(chinese ? quint8(0x17) : quint8(MsgAddressReplyEnglish), content, serial, !chinese);
}

QByteArray encodeTopinReply(quint8 type) { return topinFrame(0x01, type, {}); }

QByteArray encodeTopinTimeEcho(quint8 type, const QByteArray &time6) { return topinFrame(0x00, type, time6.left(6)); }

QByteArray encodeTopinTimeReply(const QDateTime &utc) {
    const QDateTime u = utc.toUTC();
    QByteArray c;
    putU16(c, quint16(u.date().year()));
    c.append(char(u.date().month()));
    c.append(char(u.date().day()));
    c.append(char(u.time().hour()));
    c.append(char(u.time().minute()));
    c.append(char(u.time().second()));
    return topinFrame(0x07, 0x30, c);
}

QByteArray encodeTopinPositionText(double lat, double lon) {
    const QByteArray text = (QString::asprintf("%+.6f,%+.6f", lat, lon)).toLatin1();
    return topinFrame(quint8(text.size() + 1), MsgWifi2, text);
}

QByteArray imeiToBcd(const QString &imei) {
    if (imei.isEmpty() || imei.size() > 16)
        return {};
    for (QChar ch : imei)
        if (ch < QLatin1Char('0') || ch > QLatin1Char('9'))
            return {};
    const QString digits = QString(16 - imei.size(), QLatin1Char('0')) + imei;
    QByteArray b;
    for (int i = 0; i < 16; i += 2)
        b.append(char(((digits[i].unicode() - '0') << 4) | (digits[i + 1].unicode() - '0')));
    return b;
}

quint16 timeZoneWord(int minutes) {
    const int a = std::min(std::abs(minutes), 12 * 60 + 59);
    const int hhmm = (a / 60) * 100 + a % 60;
    return quint16((hhmm << 4) | (minutes < 0 ? 0x08 : 0x00) | 0x02);
}

int timeZoneMinutes(quint16 word) {
    const int hhmm = word >> 4;
    const int minutes = (hhmm / 100) * 60 + hhmm % 100;
    return (word & 0x08) ? -minutes : minutes;
}

QByteArray encodeLogin(const QString &imei, quint16 serial, std::optional<int> tzMinutes, quint16 typeId) {
    QByteArray content = imeiToBcd(imei);
    if (content.isEmpty())
        return {};
    if (tzMinutes) {
        putU16(content, typeId);
        putU16(content, timeZoneWord(*tzMinutes));
    }
    return standardFrame(MsgLogin, content, serial);
}

QByteArray encodeHeartbeat(quint16 serial, int voltageLevel, int gsmSignal, bool charging) {
    QByteArray c;
    c.append(char(charging ? 0x04 : 0x00));
    c.append(char(std::clamp(voltageLevel, 0, 6)));
    c.append(char(std::clamp(gsmSignal, 0, 4)));
    c.append('\0');     // alarm: normal
    c.append('\x02');   // language: English
    return standardFrame(MsgStatus, c, serial);
}

QByteArray encodeGpsLbs(quint16 serial, const Position &p) {
    QByteArray c = gpsBlock(p);
    c.append(lbsBlock(p));
    c.append('\0');   // ACC
    c.append('\0');   // upload mode: interval
    c.append('\0');   // re-upload: real time
    return standardFrame(MsgGpsLbs2, c, serial);
}

QByteArray encodeAlarm(quint16 serial, const Position &p, int alarmCode) {
    QByteArray c = gpsBlock(p);
    c.append('\x09');   // LBS length, counting itself (Concox PDF)
    c.append(lbsBlock(p));
    int ti = 0x40;      // GPS tracking on
    switch (alarmCode) {
    case 0x01: ti |= 4 << 3; break;   // SOS
    case 0x02: ti |= 2 << 3; break;   // power cut
    case 0x03: ti |= 1 << 3; break;   // shock
    default: break;
    }
    c.append(char(ti));
    c.append('\x06');   // voltage level: very high
    c.append('\x04');   // GSM: strong
    c.append(char(alarmCode & 0xFF));
    c.append('\x02');   // language: English
    return standardFrame(MsgGpsLbsStatus2, c, serial);
}

QByteArray encodeCommandReply(quint16 serial, quint32 serverFlag, const QString &text) {
    const QByteArray t = text.toLatin1().left(200);
    QByteArray c;
    c.append(char(4 + t.size()));
    putU32(c, serverFlag);
    c.append(t);
    c.append("\x00\x02", 2);
    return standardFrame(MsgCommandReply, c, serial);
}

QByteArray encodeTimeRequest(quint16 serial) { return standardFrame(MsgTimeRequest, {}, serial); }

QByteArray encodeTopinLogin(const QString &imei, int softwareVersion) {
    QByteArray c = imeiToBcd(imei);
    if (c.isEmpty())
        return {};
    c.append(char(softwareVersion & 0xFF));
    return topinFrame(0x0D, MsgLogin, c);
}

QByteArray encodeTopinGps(const Position &p) { return topinFrame(0x12, MsgGps, gpsBlock(p)); }

QByteArray encodeTopinHeartbeat(int batteryPercent, int gsmSignal, int softwareVersion, int timeZoneHours,
                                int intervalMinutes) {
    QByteArray c;
    c.append(char(std::clamp(batteryPercent, 0, 100)));
    c.append(char(softwareVersion & 0xFF));
    c.append(char(std::clamp(timeZoneHours, -12, 14)));
    c.append(char(std::clamp(intervalMinutes, 0, 255)));
    c.append(char(std::clamp(gsmSignal, 0, 255)));
    return topinFrame(quint8(1 + c.size()), MsgStatus, c);
}

QByteArray encodeTopinWifi(const Position &p) {
    const int count = int(std::min<qsizetype>(p.wifi.size(), 15));
    QByteArray c = bcdDateBytes(p.time.isValid() ? p.time : QDateTime::currentDateTimeUtc());
    for (int i = 0; i < count; ++i) {
        const QByteArray mac = QByteArray::fromHex(p.wifi[i].bssid.toLatin1().replace(':', "").replace('-', ""));
        QByteArray m = mac.left(6);
        m.append(QByteArray(6 - m.size(), '\0'));
        c.append(m);
        c.append(char(std::clamp(-p.wifi[i].rssi, 0, 255)));
    }
    const int cells = int(std::min<qsizetype>(p.cells.size(), 255));
    c.append(char(cells));
    const CellTower first = p.cells.isEmpty() ? CellTower{} : p.cells.first();
    putU16(c, quint16(first.mcc));
    c.append(char(first.mnc & 0xFF));
    for (int i = 0; i < cells; ++i) {
        putU16(c, quint16(p.cells[i].lac & 0xFFFF));
        putU16(c, quint16(p.cells[i].cellId & 0xFFFF));
        c.append(char(std::clamp(std::abs(p.cells[i].signal), 0, 255)));
    }
    return topinFrame(quint8(count), MsgWifi2, c);
}

} // namespace td::proto::gt06

namespace td::proto {

const Protocol &gt06Protocol() {
    static const gt06::Gt06Protocol instance;
    return instance;
}

} // namespace td::proto
