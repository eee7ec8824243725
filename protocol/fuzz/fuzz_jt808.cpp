// libFuzzer target for JT/T 808: the stream session (fed in input-derived chunks, with
// input-derived options) and decodeFrame on the whole input. Aborts when a promise breaks:
// fields must tile every frame (td::proto::checkFieldCoverage), the session must stay within
// its buffer bound, and every reply we compute must decode back as a clean downlink frame.
//   scripts/in-env cmake --preset fuzz
//   scripts/in-env cmake --build build/fuzz --target fuzz_jt808
//   scripts/in-env build/fuzz/protocol/fuzz/fuzz_jt808 -max_total_time=60 CORPUS_DIR
// Seeds: one file per hex column row of tests/data/jt808_vectors.tsv.
#include "trackerdesk/protocol/jt808.h"
#include "trackerdesk/protocol/protocol.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace td::proto;

namespace {

[[noreturn]] void fail(const char *what, const QByteArray &bytes, const QString &detail = {}) {
    std::fprintf(stderr, "fuzz_jt808: %s: %s\n  bytes: %s\n", what, detail.toUtf8().constData(),
                 bytes.left(300).toHex().constData());
    std::abort();
}

void checkFrame(const DecodedFrame &f, const char *where) {
    const QString cov = checkFieldCoverage(f.fields, int(f.bytes.size()));
    if (!cov.isEmpty())
        fail(where, f.bytes, cov);
    if (f.protocol != QLatin1String("jt808"))
        fail("wrong protocol id", f.bytes, f.protocol);
    (void)formatFieldTree(f);
    (void)frameToJson(f);
    for (const Position &p : f.message.positions) {
        if (p.latitude != p.latitude || p.longitude != p.longitude)
            fail("NaN coordinate", f.bytes);
        if (p.timeValid && !p.time.isValid())
            fail("timeValid without a time", f.bytes);
    }
    SessionOptions down;
    down.direction = Direction::ToDevice;
    for (const QByteArray &r : f.replies) {
        if (r.startsWith('('))
            continue;   // e-lock sentence echo
        const DecodedFrame d = jt808::protocol().decodeFrame(r, down);
        if (!d.ok())
            fail("a computed reply does not decode cleanly", r, d.warnings.join(QStringLiteral("; ")));
        if (d.message.deviceId != f.message.deviceId)
            fail("reply addressed to another terminal", r, d.message.deviceId + QLatin1String(" vs ") + f.message.deviceId);
        const QString rc = checkFieldCoverage(d.fields, int(d.bytes.size()));
        if (!rc.isEmpty())
            fail("reply coverage", r, rc);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 64 * 1024)
        return 0;
    const QByteArray input(reinterpret_cast<const char *>(data), int(size));
    const Protocol &p = jt808::protocol();

    // Options from the XOR of all bytes (0 for a well-formed frame: the realistic defaults);
    // chunk sizes from a small generator seeded by the input.
    quint8 sel = 0;
    for (size_t i = 0; i < size; ++i)
        sel ^= data[i];
    SessionOptions o;
    o.direction = (sel & 1) ? Direction::ToDevice : Direction::FromDevice;
    o.strictChecksum = sel & 2;
    o.maxBufferedBytes = (sel & 4) ? 100 : (sel & 8) ? 1500 : 64 * 1024;
    if (sel & 16)
        o.timeZoneMinutes = (sel & 32) ? -720 : 840;

    auto s = p.createSession(o);
    quint32 rng = 2166136261u;
    for (size_t i = 0; i < size && i < 16; ++i)
        rng = (rng ^ data[i]) * 16777619u;
    int pos = 0;
    while (pos < input.size()) {
        rng = rng * 1103515245u + 12345u;
        const int n = 1 + int((rng >> 16) % 97);
        const QList<StreamEvent> events = s->feed(input.mid(pos, n));
        pos += n;
        for (const StreamEvent &e : events) {
            if (e.kind == StreamEvent::Frame) {
                checkFrame(e.frame, "session frame coverage");
                // The inspector re-decodes what was received.
                if (!e.frame.bytes.startsWith('(')) {
                    const DecodedFrame again = p.decodeFrame(e.frame.wireBytes(), o);
                    checkFrame(again, "re-decoded frame coverage");
                }
            } else if (e.bytes.isEmpty() && e.kind == StreamEvent::Garbage) {
                fail("empty garbage event", input);
            }
        }
        if (s->bufferedBytes() > 2 * o.maxBufferedBytes)
            fail("session exceeds its buffer bound", input, QString::number(s->bufferedBytes()));
    }

    checkFrame(p.decodeFrame(input, o), "decodeFrame coverage");
    SessionOptions other = o;
    other.direction = o.direction == Direction::ToDevice ? Direction::FromDevice : Direction::ToDevice;
    checkFrame(p.decodeFrame(input, other), "decodeFrame coverage (other direction)");
    bool more = false;
    (void)sniffProtocol(input, &more);
    return 0;
}
