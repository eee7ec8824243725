// libFuzzer target for the AT line reader and reply parsers (td::proto::at). The first byte
// picks the command in flight; the rest is modem output, fed whole and in chunks whose sizes
// come from the input itself. Aborts when:
//   * the events differ between the whole feed and the chunked feed (the reader must not
//     depend on how the serial port cuts the stream);
//   * the reader holds more than its bound (MaxLine + one pending +CMT/+CDS header);
//   * a parser result breaks its own promises (CSQ range, CNMI choice among the offered
//     values, quoted() letting a quote or line end through).
// Every line of the input also goes through every parser. Seeds: the hex column of
// tests/data/atline_vectors.tsv (raw modem transcripts; scripts/fuzz).
//   scripts/in-env cmake --preset fuzz
//   scripts/in-env cmake --build build/fuzz --target fuzz_atline
//   scripts/in-env build/fuzz/protocol/fuzz/fuzz_atline -max_total_time=60 CORPUS_DIR
#include "trackerdesk/protocol/atline.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace td::proto::at;

namespace {

[[noreturn]] void fail(const char *what, const QByteArray &bytes) {
    std::fprintf(stderr, "fuzz_atline: %s for %s\n", what, bytes.toHex().constData());
    std::abort();
}

QByteArray describe(const QList<Event> &events) {
    QByteArray out;
    for (const Event &e : events) {
        out += QByteArray::number(int(e.kind)) + ':' + e.line + '/' + e.pdu + '/' + e.urc.toLatin1() + '/'
            + (e.final ? e.final->text.toUtf8() : QByteArray()) + '\n';
    }
    return out;
}

void checkParsers(const QByteArray &line) {
    (void)parseFinal(line);
    (void)urcName(line);
    (void)parseCmti(line);
    if (const auto r = parseCreg(line))
        (void)registrationText(r->stat);
    if (const auto q = parseCsq(line)) {
        if (q->rssi < 0 || q->rssi > 99 || (q->dbm && (*q->dbm < -113 || *q->dbm > -51)))
            fail("CSQ out of range", line);
    }
    (void)parseCpin(line);
    (void)parseCops(line);
    if (const auto mr = parseCmgs(line); mr && (*mr < 0 || *mr > 255))
        fail("CMGS reference out of range", line);
    (void)parseCpms(line);
    (void)parseCpmsTest(line);
    const QList<QList<int>> cnmi = parseCnmiTest(line);
    const QByteArray chosen = chooseCnmi(cnmi);
    if (!chosen.isEmpty()) {
        const QList<QByteArray> values = chosen.split(',');
        for (int i = 0; i < values.size(); ++i)
            if (i >= cnmi.size() || !cnmi.at(i).contains(values.at(i).toInt()))
                fail("chooseCnmi picked a value that was not offered", line);
    }
    (void)parseCsca(line);
    (void)parseCmgl(line);
    (void)parseCmgr(line);
    (void)parsePduLength(line);
    if (const auto q = quoted(QString::fromLatin1(line))) {
        const QByteArray inner = q->mid(1, q->size() - 2);
        if (inner.contains('"') || inner.contains('\r') || inner.contains('\n'))
            fail("quoted() let a quote or a line end through", line);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2 || size > 64 * 1024)
        return 0;
    static const char *const commands[] = {"", "AT", "AT+CMGS=24", "AT+CREG?", "AT+CMGL=4", "ATE0", "AT+CPIN?", "AT+CMGW=10"};
    const QByteArray command(commands[data[0] % 8]);
    const int step = 1 + data[1] % 17;
    const QByteArray bytes(reinterpret_cast<const char *>(data) + 2, int(size) - 2);

    Reader whole;
    whole.setCommand(command);
    const QList<Event> all = whole.feed(bytes);

    Reader chunked;
    chunked.setCommand(command);
    QList<Event> pieces;
    for (int at = 0, n = step; at < bytes.size(); at += n, n = 1 + (n * 7 + 3) % 23) {
        pieces += chunked.feed(bytes.mid(at, n));
        if (chunked.buffered() > 2 * Reader::MaxLine + 2)
            fail("reader holds more than its bound", bytes);
    }
    if (describe(all) != describe(pieces))
        fail("events depend on the chunking", bytes);
    if (whole.buffered() != chunked.buffered())
        fail("buffered bytes depend on the chunking", bytes);

    for (const QByteArray &line : bytes.split('\n'))
        checkParsers(line.size() > 8192 ? line.left(8192) : line);
    return 0;
}
