// CRC-32 (IEEE 802.3, ISO-HDLC; reflected polynomial 0xEDB88320, init and final XOR 0xFFFFFFFF), as
// used by zlib, gzip, PNG and S3's x-amz-checksum-crc32. Written here from the polynomial.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tais {

// Continues a CRC: crc32_update(0, data) is the CRC-32 of data, and
// crc32_update(crc32_update(0, a), b) == crc32_update(0, a || b). PCLMULQDQ folding (crc_fold.h) for
// pieces of 256 bytes and more when the CPU has it, slicing-by-16 tables otherwise and for the rest.
uint32_t crc32_update(uint32_t crc, const uint8_t* p, size_t n);

}  // namespace tais
