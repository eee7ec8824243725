// Checksums used by the tracker protocols. Table-driven, no allocation.
#pragma once

#include <QtGlobal>

namespace td::proto {

// CRC-16/X-25 (the "CRC-ITU" of the GT06 documents): poly 0x1021 reflected (0x8408),
// init 0xFFFF, reflected in/out, final XOR 0xFFFF. check("123456789") == 0x906E.
quint16 crc16X25(const char *data, qsizetype len);

// Incremental form: start with crc16X25Init(), feed with crc16X25Update(), finish with
// crc16X25Final(). crc16X25(d, n) == crc16X25Final(crc16X25Update(crc16X25Init(), d, n)).
constexpr quint16 crc16X25Init() { return 0xFFFF; }
quint16 crc16X25Update(quint16 state, const char *data, qsizetype len);
constexpr quint16 crc16X25Final(quint16 state) { return quint16(~state); }

} // namespace td::proto
