// Internals shared by jt808.cpp (framing, header, message table, session, encoders) and
// jt808_location.cpp (location reports, additional-information items, batches).
#pragma once

#include "trackerdesk/protocol/jt808.h"

#include <QByteArray>
#include <QDateTime>
#include <QString>

namespace td::proto::jt808::detail {

// What a body decoder works with.
struct Ctx {
    const QByteArray &b;          // the unescaped frame (DecodedFrame::bytes)
    DecodedFrame &frame;
    const SessionOptions &options;
    bool v2019 = false;           // header layout of this frame
    int timeZoneMinutes = DefaultTimeZoneMinutes;  // applied to BCD device times
    // SessionOptions::annotate: false = no fields are added and no value text is built.
    bool annotate() const { return options.annotate; }
};

// Reads a region [offset, offset+length) of the frame left to right, adding annotated
// child fields to `parent`. need() reports a short region once (Truncated field + warning).
class Cursor {
public:
    Cursor(Ctx &ctx, Field &parent, int offset, int length)
        : ctx(ctx), parent(parent), m_pos(offset), m_end(offset + length) {}

    int pos() const { return m_pos; }
    int end() const { return m_end; }
    int left() const { return m_end - m_pos; }
    bool failed() const { return m_failed; }

    quint8 u8(int at) const { return quint8(ctx.b[at]); }
    quint16 u16(int at) const { return quint16((u8(at) << 8) | u8(at + 1)); }
    quint32 u32(int at) const { return (quint32(u16(at)) << 16) | u16(at + 2); }
    QByteArray bytes(int n) const { return ctx.b.mid(m_pos, n); }

    // True when n more bytes are there; otherwise covers the rest with a "Truncated" field,
    // adds a frame warning naming `what`, and returns false.
    bool need(int n, const QString &what);
    // Adds a child of n bytes at the current position and advances. When not annotating
    // it only advances and returns a scratch field that is never stored.
    Field &add(int n, const QString &name, const QString &value = {});
    bool annotate() const { return ctx.annotate(); }
    // Covers whatever is left (if anything) with one field.
    void rest(const QString &name, const QString &value = {});
    void skipTo(int offset) { m_pos = offset; }

    Ctx &ctx;
    Field &parent;

private:
    int m_pos;
    int m_end;
    bool m_failed = false;
    Field m_scratch;
};

// ---- value formatting ----
QString hex(const QByteArray &bytes);
bool isPrintableAscii(const QByteArray &bytes);
QString textOrHex(const QByteArray &bytes);        // "'text'" when printable ASCII, else hex
QByteArray trimPadding(const QByteArray &bytes);   // strips 0x00 (and 0xFF) padding on both ends
QString decodeGbk(const QByteArray &bytes);        // GBK (ASCII-compatible); falls back to Latin-1
QByteArray encodeGbk(const QString &text);
QString hexWord(quint32 v, int digits = 4);        // "0x0200"
// BCD digits of `bytes`; *ok = false when a nibble is not 0-9.
QString bcdDigits(const QByteArray &bytes, bool *ok);
// YYMMDDhhmmss BCD (6 bytes) as a local date-time (Qt::UTC spec, not yet shifted); invalid on bad digits.
QDateTime bcdDateTime(const QByteArray &bcd6);
QByteArray toBcd(const QString &digits);           // even number of digits
QString formatOffset(int minutes);                 // "UTC+08:00"
QString formatTime(const QDateTime &t);            // "yyyy-MM-dd HH:mm:ss" (fast; QDateTime::toString is slow)
QString hexByte(int v);                            // "0x7e"
QString describeDeviceTime(const QDateTime &local, int tzMinutes, const QDateTime &utc);

// ---- location reports (jt808_location.cpp) ----
struct LocationResult {
    Position position;
    Status status;
    QStringList alarms;
    quint32 alarmWord = 0;
    bool complete = false;        // the 28-byte basic block was there
};
// Decodes a 0x0200 body at [offset, offset+length) as children of `parent`.
LocationResult decodeLocationBody(Ctx &ctx, Field &parent, int offset, int length);
void decodeLocationReport(Ctx &ctx, Cursor &c);          // 0x0200
void decodeLocationQueryResponse(Ctx &ctx, Cursor &c);   // 0x0201
void decodeLocationBatch(Ctx &ctx, Cursor &c);           // 0x0704
void decodeVendorLocationBatch(Ctx &ctx, Cursor &c);     // 0x0210
void decodeVendorLocation(Ctx &ctx, Cursor &c);          // 0x5501 / 0x5502
QString positionSummary(const Position &p, const QStringList &alarms);

} // namespace td::proto::jt808::detail
