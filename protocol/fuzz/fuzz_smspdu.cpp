// libFuzzer target for the SMS PDU codec (td::proto::pdu). The bytes are decoded with and
// without the SMSC field, annotated, and the hex text of the input goes through decodeHex.
// Aborts when:
//   * decode() and annotate() disagree (one succeeds, the other not), or the fields break
//     the coverage invariant (top-level fields tile the PDU, children nest in parents);
//   * a failure comes without a "PDU: " error message;
//   * a decoded message, encoded again with encode(), does not decode, or comes back with
//     another type, address, message reference or status;
//   * GSM-7 packing does not round-trip.
// Seeds: the hex column of tests/data/smspdu_vectors.tsv (scripts/fuzz).
//   scripts/in-env cmake --preset fuzz
//   scripts/in-env cmake --build build/fuzz --target fuzz_smspdu
//   scripts/in-env build/fuzz/protocol/fuzz/fuzz_smspdu -max_total_time=60 CORPUS_DIR
#include "trackerdesk/protocol/smspdu.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace td::proto;
using namespace td::proto::pdu;

namespace {

[[noreturn]] void fail(const char *what, const QByteArray &bytes, const QString &detail = {}) {
    std::fprintf(stderr, "fuzz_smspdu: %s for %s\n%s\n", what, qPrintable(toHex(bytes)), qPrintable(detail));
    std::abort();
}

void check(const QByteArray &bytes, bool hasSmsc) {
    QString error;
    const auto sms = decode(bytes, hasSmsc, &error);
    const QList<Field> fields = annotate(bytes, hasSmsc);
    if (!sms) {
        if (!error.startsWith(QLatin1String("PDU: ")))
            fail("failure without a PDU: error", bytes, error);
        if (!fields.isEmpty())
            fail("annotate() gave fields for a PDU decode() refused", bytes, error);
        return;
    }
    if (fields.isEmpty())
        fail("annotate() empty for a decoded PDU", bytes);
    const QString problem = checkFieldCoverage(fields, int(bytes.size()));
    if (!problem.isEmpty()) {
        DecodedFrame f;
        f.bytes = bytes;
        f.fields = fields;
        fail("coverage invariant violated", bytes, problem + QLatin1Char('\n') + formatFieldTree(f));
    }
    // Encode what was understood and decode it again.
    const QByteArray again = encode(*sms);
    QString error2;
    const auto back = decode(again, true, &error2);
    if (!back)
        fail("re-encoded PDU does not decode", bytes, toHex(again) + QLatin1Char(' ') + error2);
    if (back->type != sms->type || back->address.text != sms->address.text || back->address.toa != sms->address.toa
        || back->messageReference != sms->messageReference || back->status != sms->status
        || back->smsc.text != sms->smsc.text)
        fail("re-encoded PDU decodes differently", bytes, toHex(again));
    if (sms->text.size() > 255 || sms->data.size() > 255)
        fail("more user data than a PDU can hold", bytes);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4096)
        return 0;
    const QByteArray bytes(reinterpret_cast<const char *>(data), int(size));
    check(bytes, true);
    check(bytes, false);
    // The same bytes as hex text (what +CMGR prints), and as raw text given to decodeHex.
    QString error;
    const auto viaHex = decodeHex(bytes.toHex(), true, &error);
    if (viaHex.has_value() != decode(bytes, true).has_value())
        fail("decodeHex and decode disagree", bytes, error);
    (void)decodeHex(bytes, false, &error);
    // GSM-7 packing round trip with every fill bit count.
    QByteArray septets = bytes.left(200);
    for (char &c : septets)
        c = char(c & 0x7F);
    const int fill = size ? data[0] % 7 : 0;
    if (unpackSeptets(packSeptets(septets, fill), int(septets.size()), fill) != septets)
        fail("septet packing does not round-trip", bytes);
    (void)gsm7Text(septets);
    return 0;
}
