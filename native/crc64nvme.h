// CRC-64/NVME (NVM Express spec, "CRC-64" of the end-to-end data protection: polynomial
// 0xAD93D23594C93659 normal, 0x9A6C9329AC4BC9B5 reflected; init and final XOR all ones), as S3 uses
// for x-amz-checksum-crc64nvme. Check value: "123456789" -> 0xAE8B14860A799888.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tais {

// Continues a CRC: crc64nvme_update(0, data) is the CRC of data, and
// crc64nvme_update(crc64nvme_update(0, a), b) == crc64nvme_update(0, a || b). PCLMULQDQ folding
// (crc_fold.h) for pieces of 256 bytes and more when the CPU has it, slicing-by-8 tables otherwise.
uint64_t crc64nvme_update(uint64_t crc, const uint8_t* p, size_t n);

}  // namespace tais
