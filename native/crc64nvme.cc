// CRC-64/NVME, slicing-by-8: eight 256-entry tables derived from the reflected polynomial; table t
// maps a byte to the register contribution of that byte followed by t zero bytes, so 8 input bytes
// fold into the 64-bit register with 8 independent lookups.
#include "crc64nvme.h"

#include "crc_fold.h"

#include <cstring>

namespace tais {
namespace {

constexpr uint64_t POLY = 0x9A6C9329AC4BC9B5ull;  // 0xAD93D23594C93659 bit-reversed

struct Tables {
  uint64_t t[8][256];
  Tables() {
    for (uint64_t n = 0; n < 256; n++) {
      uint64_t c = n;
      for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
      t[0][n] = c;
    }
    for (uint64_t n = 0; n < 256; n++) {
      uint64_t c = t[0][n];
      for (int i = 1; i < 8; i++) {
        c = t[0][c & 0xff] ^ (c >> 8);
        t[i][n] = c;
      }
    }
  }
};

const Tables g;
const FoldConstants g_fold = fold_constants(POLY, 64);
const bool g_use_fold = fold_supported();
constexpr size_t FOLD_MIN = 256;

uint64_t table_raw(uint64_t c, const uint8_t* p, size_t n);

}  // namespace

uint64_t crc64nvme_update(uint64_t crc, const uint8_t* p, size_t n) {
  uint64_t c = ~crc;
  if (g_use_fold && n >= FOLD_MIN) {
    const size_t blocks = n & ~static_cast<size_t>(15);
    uint8_t r[16];
    fold_blocks(g_fold, c, p, blocks, r);
    c = table_raw(0, r, 16);
    p += blocks;
    n -= blocks;
  }
  return ~table_raw(c, p, n);
}

namespace {

uint64_t table_raw(uint64_t c, const uint8_t* p, size_t n) {
  const auto& t = g.t;
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    w ^= c;
    c = t[7][w & 0xff] ^ t[6][(w >> 8) & 0xff] ^ t[5][(w >> 16) & 0xff] ^ t[4][(w >> 24) & 0xff] ^
        t[3][(w >> 32) & 0xff] ^ t[2][(w >> 40) & 0xff] ^ t[1][(w >> 48) & 0xff] ^ t[0][w >> 56];
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    c = t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    n--;
  }
  return c;
}

}  // namespace

}  // namespace tais
