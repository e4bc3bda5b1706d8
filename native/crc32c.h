// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by iSCSI (RFC 3720),
// ext4, S3 x-amz-checksum-crc32c and AIStore's "crc32c" checksum type.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tais {

// Continues a CRC: crc32c_update(0, data) is the CRC-32C of data, and
// crc32c_update(crc32c_update(0, a), b) == crc32c_update(0, a || b).
// Uses SSE4.2 (3 interleaved streams) when the CPU has it, else slicing-by-8.
// Setting TAIS_CRC32C_SOFTWARE=1 in the environment before the addon loads forces
// the portable path (used by the tests to cover it).
uint32_t crc32c_update(uint32_t crc, const uint8_t* p, size_t n);

// Portable slicing-by-8 implementation (always available).
uint32_t crc32c_update_sw(uint32_t crc, const uint8_t* p, size_t n);

// True if crc32c_update uses the SSE4.2 instruction.
bool crc32c_hw_enabled();

}  // namespace tais
