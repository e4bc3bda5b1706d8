// XXH64 from the xxHash specification: 4 lane accumulators over 32-byte stripes,
// convergence, length, tail consumption, avalanche.
#include "xxh64.h"

#include <cstring>

namespace tais {
namespace {

constexpr uint64_t P1 = 0x9E3779B185EBCA87ULL;
constexpr uint64_t P2 = 0xC2B2AE3D27D4EB4FULL;
constexpr uint64_t P3 = 0x165667B19E3779F9ULL;
constexpr uint64_t P4 = 0x85EBCA77C2B2AE63ULL;
constexpr uint64_t P5 = 0x27D4EB2F165667C5ULL;

inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// Little-endian loads (x86/arm64 are little-endian; memcpy compiles to one mov).
inline uint64_t le64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}
inline uint32_t le32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap32(v);
#endif
  return v;
}

inline uint64_t round(uint64_t acc, uint64_t lane) {
  acc += lane * P2;
  acc = rotl(acc, 31);
  return acc * P1;
}

inline uint64_t merge(uint64_t acc, uint64_t accN) {
  acc ^= round(0, accN);
  return acc * P1 + P4;
}

// Consumes all whole stripes of [p, p+n); returns the number of bytes consumed.
inline size_t stripes(uint64_t acc[4], const uint8_t* p, size_t n) {
  uint64_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  const uint8_t* const start = p;
  const uint8_t* const limit = p + (n & ~static_cast<size_t>(31));
  while (p < limit) {
    a0 = round(a0, le64(p));
    a1 = round(a1, le64(p + 8));
    a2 = round(a2, le64(p + 16));
    a3 = round(a3, le64(p + 24));
    p += 32;
  }
  acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
  return static_cast<size_t>(p - start);
}

inline uint64_t converge(const uint64_t acc[4]) {
  uint64_t h = rotl(acc[0], 1) + rotl(acc[1], 7) + rotl(acc[2], 12) + rotl(acc[3], 18);
  h = merge(h, acc[0]);
  h = merge(h, acc[1]);
  h = merge(h, acc[2]);
  h = merge(h, acc[3]);
  return h;
}

// Steps 5 and 6: remaining (< 32) bytes, then avalanche.
inline uint64_t finish(uint64_t h, const uint8_t* p, size_t n) {
  while (n >= 8) {
    h ^= round(0, le64(p));
    h = rotl(h, 27) * P1 + P4;
    p += 8; n -= 8;
  }
  if (n >= 4) {
    h ^= static_cast<uint64_t>(le32(p)) * P1;
    h = rotl(h, 23) * P2 + P3;
    p += 4; n -= 4;
  }
  while (n > 0) {
    h ^= static_cast<uint64_t>(*p) * P5;
    h = rotl(h, 11) * P1;
    ++p; --n;
  }
  h ^= h >> 33;
  h *= P2;
  h ^= h >> 29;
  h *= P3;
  h ^= h >> 32;
  return h;
}

inline void init_acc(uint64_t acc[4], uint64_t seed) {
  acc[0] = seed + P1 + P2;
  acc[1] = seed + P2;
  acc[2] = seed;
  acc[3] = seed - P1;
}

}  // namespace

void xxh64_reset(Xxh64State* st, uint64_t seed) {
  std::memset(st, 0, sizeof(*st));
  st->seed = seed;
  init_acc(st->acc, seed);
}

void xxh64_update(Xxh64State* st, const uint8_t* p, size_t n) {
  if (n == 0) return;
  st->total_len += n;
  if (st->buf_len + n < 32) {
    std::memcpy(st->buf + st->buf_len, p, n);
    st->buf_len += static_cast<uint32_t>(n);
    return;
  }
  if (st->buf_len > 0) {
    const size_t fill = 32 - st->buf_len;
    std::memcpy(st->buf + st->buf_len, p, fill);
    stripes(st->acc, st->buf, 32);
    p += fill; n -= fill;
    st->buf_len = 0;
  }
  const size_t done = stripes(st->acc, p, n);
  p += done; n -= done;
  if (n > 0) {
    std::memcpy(st->buf, p, n);
    st->buf_len = static_cast<uint32_t>(n);
  }
}

uint64_t xxh64_digest(const Xxh64State* st) {
  uint64_t h;
  if (st->total_len >= 32) {
    h = converge(st->acc);
  } else {
    h = st->seed + P5;
  }
  h += st->total_len;
  return finish(h, st->buf, st->buf_len);
}

uint64_t xxh64(const uint8_t* p, size_t n, uint64_t seed) {
  uint64_t h;
  if (n >= 32) {
    uint64_t acc[4];
    init_acc(acc, seed);
    const size_t done = stripes(acc, p, n);
    h = converge(acc) + n;
    return finish(h, p + done, n - done);
  }
  h = seed + P5 + n;
  return finish(h, p, n);
}

}  // namespace tais
