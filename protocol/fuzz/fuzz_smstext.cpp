// libFuzzer target for the SMS text position parser (td::proto::sms::parsePositions).
// Each input is parsed as UTF-8 and as Latin-1 (modems deliver both), with and without a
// receive time. Checks the parser's promises: never crashes, every position is in range,
// its span lies inside the text, spans do not overlap and come in text order.
//   scripts/in-env cmake --preset fuzz
//   scripts/in-env cmake --build build/fuzz --target fuzz_smstext
//   scripts/in-env build/fuzz/protocol/fuzz/fuzz_smstext -max_total_time=60 CORPUS_DIR
#include "trackerdesk/protocol/smstext.h"

#include <QTimeZone>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace td::proto::sms;

namespace {

void fail(const char *what, const QString &text) {
    std::fprintf(stderr, "fuzz_smstext: %s in: %s\n", what, text.left(200).toUtf8().constData());
    std::abort();
}

void check(const QString &text, const ParseOptions &options) {
    QStringList rejected;
    const QList<SmsPosition> found = parsePositions(text, options, &rejected);
    int lastEnd = 0;
    for (const SmsPosition &r : found) {
        const td::proto::Position &p = r.position;
        if (!(std::abs(p.latitude) <= 90.0) || !(std::abs(p.longitude) <= 180.0))
            fail("coordinates out of range", text);
        if (p.latitude == 0.0 && p.longitude == 0.0)
            fail("0/0 returned", text);
        if (r.offset < 0 || r.length <= 0 || r.offset + r.length > text.size())
            fail("span outside the text", text);
        if (r.offset < lastEnd)
            fail("overlapping or unordered spans", text);
        lastEnd = r.offset + r.length;
        if (p.timeValid && !p.time.isValid())
            fail("timeValid without a valid time", text);
        if (p.speedKmh && !(*p.speedKmh >= 0 && std::isfinite(*p.speedKmh)))
            fail("bad speed", text);
        if (p.course && !(*p.course >= 0 && *p.course <= 360))
            fail("bad course", text);
        if (formatName(r.format).isEmpty())
            fail("unknown format id", text);
        (void)smsPositionToJson(r);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 16 * 1024)   // a long concatenated SMS is ~39 kB of UTF-16; keep runs fast
        return 0;
    const QByteArray bytes(reinterpret_cast<const char *>(data), int(size));
    ParseOptions withTime;
    withTime.received = QDateTime(QDate(2024, 1, 2), QTime(0, 0, 30), QTimeZone::UTC);
    withTime.deviceUtcOffsetMinutes = 480;
    for (const QString &text : {QString::fromUtf8(bytes), QString::fromLatin1(bytes)}) {
        check(text, ParseOptions{});
        check(text, withTime);
    }
    return 0;
}
