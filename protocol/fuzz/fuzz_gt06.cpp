// libFuzzer target for the GT06 family: the bytes go to a GT06 session in chunks chosen by
// the first byte, and to decodeFrame directly in both directions and with the Topin
// override. Aborts when a decoded frame breaks the field-coverage invariant (top-level
// fields tile the frame, children nest in their parents) or a session holds more than its
// buffer bound. Seeds: the hex column of tests/data/gt06_vectors.tsv (scripts/fuzz).
#include "trackerdesk/protocol/gt06.h"
#include "trackerdesk/protocol/protocol.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace td::proto;

namespace {

void check(const DecodedFrame &f, const char *where) {
    const QString problem = checkFieldCoverage(f.fields, int(f.bytes.size()));
    if (!problem.isEmpty()) {
        std::fprintf(stderr, "coverage invariant violated (%s) for %s:\n%s\n%s\n", where,
                     qPrintable(toHex(f.bytes)), qPrintable(problem), qPrintable(formatFieldTree(f)));
        std::abort();
    }
    if (f.protocol != QLatin1String("gt06") && f.protocol != QLatin1String("topin")) {
        std::fprintf(stderr, "unexpected protocol '%s'\n", qPrintable(f.protocol));
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    const Protocol &gt06 = gt06Protocol();
    const QByteArray all(reinterpret_cast<const char *>(data), qsizetype(size));

    // 1. One frame, decoded directly, three ways.
    SessionOptions up, down, topin;
    down.direction = Direction::ToDevice;
    topin.model = QStringLiteral("topin");
    topin.timeZoneMinutes = -330;
    check(gt06.decodeFrame(all, up), "decodeFrame");
    check(gt06.decodeFrame(all, down), "decodeFrame to-device");
    check(gt06.decodeFrame(all, topin), "decodeFrame topin");

    // 2. A stream: the first byte picks the chunking and the options.
    const uint8_t ctl = data[0];
    SessionOptions opts;
    opts.strictChecksum = ctl & 0x20;
    if (ctl & 0x40)
        opts.model = QStringLiteral("topin");
    if (ctl & 0x80)
        opts.maxBufferedBytes = 64 + (ctl & 0x1F) * 8;   // exercise the bound
    const int chunk = 1 + (ctl & 0x1F) * ((ctl & 0x40) ? 1 : 7);
    auto session = gt06.createSession(opts);
    const QByteArray stream = all.mid(1);
    const int bound = std::max(64, opts.maxBufferedBytes);
    for (qsizetype pos = 0; pos < stream.size(); pos += chunk) {
        const QList<StreamEvent> events = session->feed(stream.mid(pos, chunk));
        for (const StreamEvent &e : events) {
            if (e.kind == StreamEvent::Frame)
                check(e.frame, "session");
            else if (e.bytes.isEmpty() || e.reason.isEmpty())
                std::abort();   // garbage / dropped events carry bytes and a reason
        }
        if (session->bufferedBytes() >= bound) {
            std::fprintf(stderr, "session holds %d bytes, bound %d\n", session->bufferedBytes(), bound);
            std::abort();
        }
    }
    return 0;
}
