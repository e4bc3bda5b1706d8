// See crc_fold.h.
#include "crc_fold.h"

#if defined(__x86_64__) || defined(_M_X64)
#define TAIS_FOLD_X86 1
#include <immintrin.h>
#endif

namespace tais {

namespace {

// x^e mod P as a reflected 64-bit lane (bit i <-> x^(63-i)).
uint64_t xpow_lane(uint64_t poly, int bits, int e) {
  const uint64_t top = 1ull << (bits - 1);  // x^0 in a `bits`-wide reflected register
  uint64_t v = top;
  for (int i = 0; i < e; i++) v = (v & 1) ? (v >> 1) ^ poly : v >> 1;
  return bits == 64 ? v : v << (64 - bits);
}

void pair(uint64_t out[2], uint64_t poly, int bits, int d) {
  out[0] = xpow_lane(poly, bits, 64 + 8 * d - 1);
  out[1] = xpow_lane(poly, bits, 8 * d - 1);
}

}  // namespace

FoldConstants fold_constants(uint64_t poly, int bits) {
  FoldConstants k;
  pair(k.k64, poly, bits, 64);
  pair(k.k48, poly, bits, 48);
  pair(k.k32, poly, bits, 32);
  pair(k.k16, poly, bits, 16);
  return k;
}

#ifdef TAIS_FOLD_X86

bool fold_supported() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
}

namespace {

__attribute__((target("pclmul,sse4.1"))) inline __m128i fold(__m128i x, __m128i k) {
  return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11));
}

__attribute__((target("pclmul,sse4.1"))) inline __m128i load(const uint8_t* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

__attribute__((target("pclmul,sse4.1"))) inline __m128i consts(const uint64_t k[2]) {
  return _mm_set_epi64x(static_cast<long long>(k[1]), static_cast<long long>(k[0]));
}

}  // namespace

__attribute__((target("pclmul,sse4.1"))) void fold_blocks(const FoldConstants& k, uint64_t reg, const uint8_t* p, size_t n,
                                                         uint8_t out[16]) {
  __m128i a = _mm_xor_si128(load(p), _mm_cvtsi64_si128(static_cast<long long>(reg)));
  __m128i b = load(p + 16);
  __m128i c = load(p + 32);
  __m128i d = load(p + 48);
  p += 64;
  n -= 64;
  const __m128i k64 = consts(k.k64);
  while (n >= 64) {
    a = _mm_xor_si128(fold(a, k64), load(p));
    b = _mm_xor_si128(fold(b, k64), load(p + 16));
    c = _mm_xor_si128(fold(c, k64), load(p + 32));
    d = _mm_xor_si128(fold(d, k64), load(p + 48));
    p += 64;
    n -= 64;
  }
  __m128i x = _mm_xor_si128(_mm_xor_si128(fold(a, consts(k.k48)), fold(b, consts(k.k32))), _mm_xor_si128(fold(c, consts(k.k16)), d));
  const __m128i k16 = consts(k.k16);
  while (n >= 16) {
    x = _mm_xor_si128(fold(x, k16), load(p));
    p += 16;
    n -= 16;
  }
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), x);
}

#else

bool fold_supported() { return false; }
void fold_blocks(const FoldConstants&, uint64_t, const uint8_t*, size_t, uint8_t out[16]) {
  for (int i = 0; i < 16; i++) out[i] = 0;
}

#endif

}  // namespace tais
