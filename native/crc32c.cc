// CRC-32C. Two implementations:
//  * slicing-by-8 with eight 256-entry tables derived from the reflected polynomial;
//  * x86-64 SSE4.2 crc32 instruction, run on three independent streams at once to hide
//    the instruction's 3-cycle latency; the three partial CRCs are joined with
//    "shift by L zero bytes" operators, which are linear maps on the 32-bit register and
//    are tabulated at start-up (4 x 256 entries per block length).
#include "crc32c.h"

#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#define TAIS_CRC_X86 1
#include <nmmintrin.h>
#endif

namespace tais {
namespace {

constexpr uint32_t POLY = 0x82F63B78u;  // Castagnoli, bit-reversed

uint32_t g_table[8][256];

void init_sw_tables() {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
    g_table[0][n] = c;
  }
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = g_table[0][n];
    for (int t = 1; t < 8; t++) {
      c = g_table[0][c & 0xff] ^ (c >> 8);
      g_table[t][n] = c;
    }
  }
}

// Raw register update (no pre/post inversion).
uint32_t sw_raw(uint32_t c, const uint8_t* p, size_t n) {
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = g_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    n--;
  }
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    w ^= c;
    c = g_table[7][w & 0xff] ^ g_table[6][(w >> 8) & 0xff] ^
        g_table[5][(w >> 16) & 0xff] ^ g_table[4][(w >> 24) & 0xff] ^
        g_table[3][(w >> 32) & 0xff] ^ g_table[2][(w >> 40) & 0xff] ^
        g_table[1][(w >> 48) & 0xff] ^ g_table[0][w >> 56];
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    c = g_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    n--;
  }
  return c;
}

#ifdef TAIS_CRC_X86

constexpr size_t LONG_BLOCK = 8192;  // 3 x 8 KiB per iteration for big buffers
constexpr size_t SHORT_BLOCK = 256;  // 3 x 256 B for what is left

// shift tables: T[i][b] = register after feeding L zero bytes to register (b << 8i).
uint32_t g_shift_long[4][256];
uint32_t g_shift_short[4][256];

__attribute__((target("sse4.2"))) uint32_t hw_zeros(uint32_t c, size_t len) {
  uint64_t r = c;
  for (size_t i = 0; i < len; i += 8) r = _mm_crc32_u64(r, 0);
  return static_cast<uint32_t>(r);
}

void init_shift(uint32_t table[4][256], size_t len) {
  uint32_t basis[32];
  for (int bit = 0; bit < 32; bit++) basis[bit] = hw_zeros(1u << bit, len);
  for (int i = 0; i < 4; i++) {
    for (uint32_t b = 0; b < 256; b++) {
      uint32_t v = 0;
      for (int bit = 0; bit < 8; bit++)
        if (b & (1u << bit)) v ^= basis[8 * i + bit];
      table[i][b] = v;
    }
  }
}

inline uint32_t shift(const uint32_t table[4][256], uint32_t c) {
  return table[0][c & 0xff] ^ table[1][(c >> 8) & 0xff] ^ table[2][(c >> 16) & 0xff] ^
         table[3][c >> 24];
}

inline uint64_t load64(const uint8_t* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

__attribute__((target("sse4.2"))) uint32_t hw_raw(uint32_t crc, const uint8_t* p, size_t n) {
  uint64_t c0 = crc;
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c0 = _mm_crc32_u8(static_cast<uint32_t>(c0), *p++);
    n--;
  }
  while (n >= 3 * LONG_BLOCK) {
    uint64_t c1 = 0, c2 = 0;
    const uint8_t* const end = p + LONG_BLOCK;
    do {
      c0 = _mm_crc32_u64(c0, load64(p));
      c1 = _mm_crc32_u64(c1, load64(p + LONG_BLOCK));
      c2 = _mm_crc32_u64(c2, load64(p + 2 * LONG_BLOCK));
      p += 8;
    } while (p < end);
    c0 = shift(g_shift_long, static_cast<uint32_t>(c0)) ^ c1;
    c0 = shift(g_shift_long, static_cast<uint32_t>(c0)) ^ c2;
    p += 2 * LONG_BLOCK;
    n -= 3 * LONG_BLOCK;
  }
  while (n >= 3 * SHORT_BLOCK) {
    uint64_t c1 = 0, c2 = 0;
    const uint8_t* const end = p + SHORT_BLOCK;
    do {
      c0 = _mm_crc32_u64(c0, load64(p));
      c1 = _mm_crc32_u64(c1, load64(p + SHORT_BLOCK));
      c2 = _mm_crc32_u64(c2, load64(p + 2 * SHORT_BLOCK));
      p += 8;
    } while (p < end);
    c0 = shift(g_shift_short, static_cast<uint32_t>(c0)) ^ c1;
    c0 = shift(g_shift_short, static_cast<uint32_t>(c0)) ^ c2;
    p += 2 * SHORT_BLOCK;
    n -= 3 * SHORT_BLOCK;
  }
  while (n >= 8) {
    c0 = _mm_crc32_u64(c0, load64(p));
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    c0 = _mm_crc32_u8(static_cast<uint32_t>(c0), *p++);
    n--;
  }
  return static_cast<uint32_t>(c0);
}

#endif  // TAIS_CRC_X86

using RawFn = uint32_t (*)(uint32_t, const uint8_t*, size_t);

struct Dispatch {
  RawFn raw = sw_raw;
  bool hw = false;
  Dispatch() {
    init_sw_tables();
#ifdef TAIS_CRC_X86
    const char* force_sw = std::getenv("TAIS_CRC32C_SOFTWARE");
    const bool forced = force_sw != nullptr && force_sw[0] != '\0' && std::strcmp(force_sw, "0") != 0;
    __builtin_cpu_init();
    if (!forced && __builtin_cpu_supports("sse4.2")) {
      init_shift(g_shift_long, LONG_BLOCK);
      init_shift(g_shift_short, SHORT_BLOCK);
      raw = hw_raw;
      hw = true;
    }
#endif
  }
};

// Initialised when the shared object is loaded (once per process, before any worker
// thread can call in).
const Dispatch g_dispatch;

}  // namespace

uint32_t crc32c_update(uint32_t crc, const uint8_t* p, size_t n) {
  return ~g_dispatch.raw(~crc, p, n);
}

uint32_t crc32c_update_sw(uint32_t crc, const uint8_t* p, size_t n) {
  return ~sw_raw(~crc, p, n);
}

bool crc32c_hw_enabled() { return g_dispatch.hw; }

}  // namespace tais
