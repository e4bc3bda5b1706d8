// CRC-32 (IEEE), slicing-by-16: sixteen 256-entry tables derived from the reflected polynomial;
// table t maps a byte to the register contribution of that byte followed by t zero bytes, so 16
// input bytes fold into the register with 16 independent lookups.
#include "crc32.h"

#include "crc_fold.h"

#include <cstring>

namespace tais {
namespace {

constexpr uint32_t POLY = 0xEDB88320u;  // 0x04C11DB7 bit-reversed

struct Tables {
  uint32_t t[16][256];
  Tables() {
    for (uint32_t n = 0; n < 256; n++) {
      uint32_t c = n;
      for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
      t[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++) {
      uint32_t c = t[0][n];
      for (int i = 1; i < 16; i++) {
        c = t[0][c & 0xff] ^ (c >> 8);
        t[i][n] = c;
      }
    }
  }
};

const Tables g;

inline uint32_t load32le(const uint8_t* p) {
  uint32_t w;
  std::memcpy(&w, p, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  w = __builtin_bswap32(w);
#endif
  return w;
}

const FoldConstants g_fold = fold_constants(POLY, 32);
const bool g_use_fold = fold_supported();
constexpr size_t FOLD_MIN = 256;

uint32_t table_raw(uint32_t c, const uint8_t* p, size_t n);

}  // namespace

uint32_t crc32_update(uint32_t crc, const uint8_t* p, size_t n) {
  uint32_t c = ~crc;
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

uint32_t table_raw(uint32_t c, const uint8_t* p, size_t n) {
  const auto& t = g.t;
  while (n >= 16) {
    const uint32_t a = load32le(p) ^ c;
    const uint32_t b = load32le(p + 4);
    const uint32_t d = load32le(p + 8);
    const uint32_t e = load32le(p + 12);
    c = t[15][a & 0xff] ^ t[14][(a >> 8) & 0xff] ^ t[13][(a >> 16) & 0xff] ^ t[12][a >> 24] ^
        t[11][b & 0xff] ^ t[10][(b >> 8) & 0xff] ^ t[9][(b >> 16) & 0xff] ^ t[8][b >> 24] ^
        t[7][d & 0xff] ^ t[6][(d >> 8) & 0xff] ^ t[5][(d >> 16) & 0xff] ^ t[4][d >> 24] ^
        t[3][e & 0xff] ^ t[2][(e >> 8) & 0xff] ^ t[1][(e >> 16) & 0xff] ^ t[0][e >> 24];
    p += 16;
    n -= 16;
  }
  while (n > 0) {
    c = t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    n--;
  }
  return c;
}

}  // namespace

}  // namespace tais
