// XXH64, written from the public xxHash specification
// (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md).
// One-shot and streaming forms; the streaming state is a plain struct (no pointers)
// so it can be copied byte-wise between threads.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tais {

struct Xxh64State {
  uint64_t total_len;   // bytes consumed so far
  uint64_t acc[4];      // the four lane accumulators (valid once a stripe was processed)
  uint64_t seed;
  uint8_t buf[32];      // pending bytes of an incomplete stripe
  uint32_t buf_len;     // 0..31
  uint32_t reserved;
};
static_assert(sizeof(Xxh64State) == 88, "Xxh64State layout");

void xxh64_reset(Xxh64State* st, uint64_t seed);
void xxh64_update(Xxh64State* st, const uint8_t* p, size_t n);
uint64_t xxh64_digest(const Xxh64State* st);
uint64_t xxh64(const uint8_t* p, size_t n, uint64_t seed);

}  // namespace tais
