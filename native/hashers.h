// Streaming hash states as plain bytes.
//
// A state is STATE_HEADER bytes of header followed by the algorithm's context:
//   [0] 'T' [1] 'H' [2] kind id [3] layout version, [4..8) zero, then the context
//   (Xxh64State, MD5_CTX, SHA256_CTX, SHA512_CTX, SHA_CTX or the running CRC-32C / CRC-32 /
//   CRC-64/NVME register).
// None of the contexts hold pointers, so a state can be copied, posted to another
// thread or live in a SharedArrayBuffer; byte order is the host's (little-endian).
// Updates copy the context into an aligned local, work on it and store it back, so the
// state may sit at any byte offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tais {

// Ids are stable (they are in every state's header): new kinds are appended.
enum class HashKind : int {
  XXHASH = 0, MD5 = 1, SHA256 = 2, SHA512 = 3, CRC32C = 4,
  CRC32 = 5, CRC64NVME = 6, SHA1 = 7
};
constexpr int HASH_KIND_COUNT = 8;
constexpr size_t STATE_HEADER = 8;
constexpr size_t MAX_DIGEST = 64;

bool valid_kind(int kind);
const char* kind_name(HashKind kind);
size_t state_size(HashKind kind);
size_t digest_size(HashKind kind);

// Writes a fresh state into `out` (state_size(kind) bytes).
void state_init(HashKind kind, uint8_t* out);
// Empty string when `state`/`len` is a well-formed state of `kind`, else why not.
std::string state_check(HashKind kind, const uint8_t* state, size_t len);

// Working copy of one state (aligned), for callers that update it several times.
struct HashContext {
  HashKind kind;
  alignas(16) uint8_t ctx[224];  // large enough for the biggest context (SHA512_CTX)
  void load(HashKind k, const uint8_t* state);
  void update(const uint8_t* p, size_t n);
  void store(uint8_t* state) const;
  // Final digest (big-endian bytes for xxhash and the CRCs); does not change the context.
  size_t digest(uint8_t out[MAX_DIGEST]) const;
};

// One call: load, update, store.
void state_update(HashKind kind, uint8_t* state, const uint8_t* p, size_t n);
size_t state_digest(HashKind kind, const uint8_t* state, uint8_t out[MAX_DIGEST]);

std::string to_hex(const uint8_t* p, size_t n);

}  // namespace tais
