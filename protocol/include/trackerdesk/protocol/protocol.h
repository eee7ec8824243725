// Protocol registry: one entry per tracker protocol (GPXSee-style single table).
// A Protocol knows how to recognise a stream from its first bytes, how to cut and
// decode a stream (a stateful ProtocolSession per connection) and how to decode one
// already-cut frame (CLI, inspector, re-decoding stored captures).
#pragma once

#include "trackerdesk/protocol/frame.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <memory>

namespace td::proto {

enum class Direction { FromDevice, ToDevice };

struct SessionOptions {
    Direction direction = Direction::FromDevice;
    // Per-device time zone offset in minutes, applied to device-local timestamps
    // (UTC = device time - offset). std::nullopt: use what the protocol says (login tz) or UTC.
    std::optional<int> timeZoneMinutes;
    bool strictChecksum = false;   // drop frames with a bad CRC/XOR instead of warning
    int maxBufferedBytes = 64 * 1024;  // bound on bytes held waiting for a frame end
    QString model;                 // model/dialect override ("topin", ...)
    // true: build the annotated field tree (inspector, CLI, tests). false: the fast path
    // for the live server - type, typeName, serial, summary, warnings, message and replies
    // are filled exactly as with true, but `fields` stays empty and no field value text is
    // formatted (the inspector re-decodes the stored bytes on demand).
    bool annotate = true;
    // false: the decoder may leave DecodedFrame::summary empty - a one-line text for frame
    // lists that a server nobody watches never shows. GT06 then skips it; JT/T 808 makes its
    // summaries from what it reads along the way and fills it anyway. Protocol::summary()
    // makes it from the decoded frame when it is wanted after all.
    bool summarize = true;
};

struct StreamEvent {
    enum Kind {
        Frame,     // a decoded frame (possibly with warnings)
        Garbage,   // bytes skipped while resynchronising (not this protocol)
        Dropped,   // a frame dropped (strict checksum, oversized length, buffer bound)
    } kind = Frame;
    DecodedFrame frame;            // Frame
    QByteArray bytes;              // Garbage / Dropped: the bytes concerned
    QString reason;                // Garbage / Dropped: human-readable reason
};

class ProtocolSession {
public:
    virtual ~ProtocolSession() = default;
    // Feed bytes in any chunking; returns what became complete.
    virtual QList<StreamEvent> feed(const QByteArray &bytes) = 0;
    // Bytes held waiting for the rest of a frame.
    virtual int bufferedBytes() const = 0;
    // Updates the options mid-stream (e.g. time zone known once the device is identified).
    virtual void setOptions(const SessionOptions &options) = 0;
};

enum class Sniff { No, NeedMore, Yes };

class Protocol {
public:
    virtual ~Protocol() = default;
    virtual QString id() const = 0;           // "gt06", "jt808"
    virtual QString displayName() const = 0;  // "GT06 / Concox / Topin"
    virtual Sniff sniff(const QByteArray &head) const = 0;
    virtual std::unique_ptr<ProtocolSession> createSession(const SessionOptions &options = {}) const = 0;
    // Decode one complete frame. Never throws; a broken frame gives warnings and
    // fields covering what could be understood (the rest as one "Undecoded" field).
    virtual DecodedFrame decodeFrame(const QByteArray &frame, const SessionOptions &options = {}) const = 0;
    // The frame's one-line summary: DecodedFrame::summary, or, when the decode left it
    // empty (SessionOptions::summarize = false), the same text made from the decoded frame.
    virtual QString summary(const DecodedFrame &frame) const { return frame.summary; }
};

// All protocols, in sniffing order.
const QList<const Protocol *> &protocols();
const Protocol *protocolById(const QString &id);

// Picks the protocol of a new connection from its first bytes. Returns nullptr with
// *needMore = true while undecided, nullptr with *needMore = false when no protocol
// matches (the caller may skip a byte and retry, or treat it as garbage).
const Protocol *sniffProtocol(const QByteArray &head, bool *needMore);

} // namespace td::proto
