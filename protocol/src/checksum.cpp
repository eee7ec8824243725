#include "trackerdesk/protocol/checksum.h"

#include <array>

namespace td::proto {

namespace {

// The 256-entry table of the Concox document (reflected polynomial 0x8408),
// generated at compile time instead of pasted.
constexpr std::array<quint16, 256> makeX25Table() {
    std::array<quint16, 256> t{};
    for (unsigned i = 0; i < 256; ++i) {
        unsigned v = i;
        for (int b = 0; b < 8; ++b)
            v = (v & 1) ? (v >> 1) ^ 0x8408u : v >> 1;
        t[i] = quint16(v);
    }
    return t;
}

constexpr std::array<quint16, 256> kX25 = makeX25Table();
static_assert(kX25[1] == 0x1189 && kX25[255] == 0x0F78, "CRC-ITU table differs from the Concox document");

} // namespace

quint16 crc16X25Update(quint16 state, const char *data, qsizetype len) {
    unsigned fcs = state;
    const auto *p = reinterpret_cast<const unsigned char *>(data);
    const auto *end = p + (len > 0 ? len : 0);
    while (p != end)
        fcs = (fcs >> 8) ^ kX25[(fcs ^ *p++) & 0xFF];
    return quint16(fcs);
}

quint16 crc16X25(const char *data, qsizetype len) {
    return crc16X25Final(crc16X25Update(crc16X25Init(), data, len));
}

} // namespace td::proto
