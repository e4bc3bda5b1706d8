#include "hashers.h"

#include <openssl/md5.h>
#include <openssl/sha.h>

#include <cstring>

#include "crc32.h"
#include "crc32c.h"
#include "crc64nvme.h"
#include "xxh64.h"

namespace tais {
namespace {

constexpr uint8_t MAGIC0 = 'T';
constexpr uint8_t MAGIC1 = 'H';
constexpr uint8_t LAYOUT_VERSION = 1;

struct Crc32cState {
  uint32_t crc;
  uint32_t reserved;
};
using Crc32State = Crc32cState;
struct Crc64State {
  uint64_t crc;
};

constexpr size_t round8(size_t n) { return (n + 7) & ~static_cast<size_t>(7); }

size_t ctx_size(HashKind kind) {
  switch (kind) {
    case HashKind::XXHASH: return sizeof(Xxh64State);
    case HashKind::MD5: return sizeof(MD5_CTX);
    case HashKind::SHA256: return sizeof(SHA256_CTX);
    case HashKind::SHA512: return sizeof(SHA512_CTX);
    case HashKind::CRC32C: return sizeof(Crc32cState);
    case HashKind::CRC32: return sizeof(Crc32State);
    case HashKind::CRC64NVME: return sizeof(Crc64State);
    case HashKind::SHA1: return sizeof(SHA_CTX);
  }
  return 0;
}

static_assert(sizeof(SHA_CTX) <= sizeof(HashContext::ctx), "ctx buffer");
static_assert(sizeof(Xxh64State) <= sizeof(HashContext::ctx), "ctx buffer");
static_assert(sizeof(MD5_CTX) <= sizeof(HashContext::ctx), "ctx buffer");
static_assert(sizeof(SHA256_CTX) <= sizeof(HashContext::ctx), "ctx buffer");
static_assert(sizeof(SHA512_CTX) <= sizeof(HashContext::ctx), "ctx buffer");

inline void put_be64(uint8_t* out, uint64_t v) {
  for (int i = 7; i >= 0; i--) {
    out[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
}

}  // namespace

bool valid_kind(int kind) { return kind >= 0 && kind < HASH_KIND_COUNT; }

const char* kind_name(HashKind kind) {
  switch (kind) {
    case HashKind::XXHASH: return "xxhash";
    case HashKind::MD5: return "md5";
    case HashKind::SHA256: return "sha256";
    case HashKind::SHA512: return "sha512";
    case HashKind::CRC32C: return "crc32c";
    case HashKind::CRC32: return "crc32";
    case HashKind::CRC64NVME: return "crc64nvme";
    case HashKind::SHA1: return "sha1";
  }
  return "?";
}

size_t state_size(HashKind kind) { return STATE_HEADER + round8(ctx_size(kind)); }

size_t digest_size(HashKind kind) {
  switch (kind) {
    case HashKind::XXHASH: return 8;
    case HashKind::MD5: return MD5_DIGEST_LENGTH;
    case HashKind::SHA256: return SHA256_DIGEST_LENGTH;
    case HashKind::SHA512: return SHA512_DIGEST_LENGTH;
    case HashKind::CRC32C: return 4;
    case HashKind::CRC32: return 4;
    case HashKind::CRC64NVME: return 8;
    case HashKind::SHA1: return SHA_DIGEST_LENGTH;
  }
  return 0;
}

void state_init(HashKind kind, uint8_t* out) {
  std::memset(out, 0, state_size(kind));
  out[0] = MAGIC0;
  out[1] = MAGIC1;
  out[2] = static_cast<uint8_t>(kind);
  out[3] = LAYOUT_VERSION;
  HashContext hc;
  hc.kind = kind;
  std::memset(hc.ctx, 0, sizeof(hc.ctx));
  switch (kind) {
    case HashKind::XXHASH: xxh64_reset(reinterpret_cast<Xxh64State*>(hc.ctx), 0); break;
    case HashKind::MD5: MD5_Init(reinterpret_cast<MD5_CTX*>(hc.ctx)); break;
    case HashKind::SHA256: SHA256_Init(reinterpret_cast<SHA256_CTX*>(hc.ctx)); break;
    case HashKind::SHA512: SHA512_Init(reinterpret_cast<SHA512_CTX*>(hc.ctx)); break;
    case HashKind::CRC32C: break;  // crc of nothing is 0
    case HashKind::CRC32: break;
    case HashKind::CRC64NVME: break;
    case HashKind::SHA1: SHA1_Init(reinterpret_cast<SHA_CTX*>(hc.ctx)); break;
  }
  hc.store(out);
}

std::string state_check(HashKind kind, const uint8_t* state, size_t len) {
  const std::string name = kind_name(kind);
  if (len != state_size(kind)) {
    return "state is " + std::to_string(len) + " bytes, a " + name + " state is " +
           std::to_string(state_size(kind)) + " (use hashInit('" + name + "'))";
  }
  if (state[0] != MAGIC0 || state[1] != MAGIC1 || state[3] != LAYOUT_VERSION) {
    return "not a hash state made by hashInit()";
  }
  if (state[2] != static_cast<uint8_t>(kind)) {
    const int other = state[2];
    return "state belongs to '" +
           std::string(valid_kind(other) ? kind_name(static_cast<HashKind>(other)) : "?") +
           "', not '" + name + "'";
  }
  return std::string();
}

void HashContext::load(HashKind k, const uint8_t* state) {
  kind = k;
  std::memcpy(ctx, state + STATE_HEADER, ctx_size(k));
}

void HashContext::store(uint8_t* state) const {
  std::memcpy(state + STATE_HEADER, ctx, ctx_size(kind));
}

void HashContext::update(const uint8_t* p, size_t n) {
  if (n == 0) return;
  switch (kind) {
    case HashKind::XXHASH: xxh64_update(reinterpret_cast<Xxh64State*>(ctx), p, n); break;
    case HashKind::MD5: MD5_Update(reinterpret_cast<MD5_CTX*>(ctx), p, n); break;
    case HashKind::SHA256: SHA256_Update(reinterpret_cast<SHA256_CTX*>(ctx), p, n); break;
    case HashKind::SHA512: SHA512_Update(reinterpret_cast<SHA512_CTX*>(ctx), p, n); break;
    case HashKind::CRC32C: {
      auto* c = reinterpret_cast<Crc32cState*>(ctx);
      c->crc = crc32c_update(c->crc, p, n);
      break;
    }
    case HashKind::CRC32: {
      auto* c = reinterpret_cast<Crc32State*>(ctx);
      c->crc = crc32_update(c->crc, p, n);
      break;
    }
    case HashKind::CRC64NVME: {
      auto* c = reinterpret_cast<Crc64State*>(ctx);
      c->crc = crc64nvme_update(c->crc, p, n);
      break;
    }
    case HashKind::SHA1: SHA1_Update(reinterpret_cast<SHA_CTX*>(ctx), p, n); break;
  }
}

size_t HashContext::digest(uint8_t out[MAX_DIGEST]) const {
  // Final() functions consume their context: work on a copy.
  alignas(16) uint8_t copy[sizeof(ctx)];
  std::memcpy(copy, ctx, sizeof(ctx));
  switch (kind) {
    case HashKind::XXHASH:
      put_be64(out, xxh64_digest(reinterpret_cast<const Xxh64State*>(copy)));
      return 8;
    case HashKind::MD5:
      MD5_Final(out, reinterpret_cast<MD5_CTX*>(copy));
      return MD5_DIGEST_LENGTH;
    case HashKind::SHA256:
      SHA256_Final(out, reinterpret_cast<SHA256_CTX*>(copy));
      return SHA256_DIGEST_LENGTH;
    case HashKind::SHA512:
      SHA512_Final(out, reinterpret_cast<SHA512_CTX*>(copy));
      return SHA512_DIGEST_LENGTH;
    case HashKind::CRC64NVME:
      put_be64(out, reinterpret_cast<const Crc64State*>(copy)->crc);
      return 8;
    case HashKind::SHA1:
      SHA1_Final(out, reinterpret_cast<SHA_CTX*>(copy));
      return SHA_DIGEST_LENGTH;
    case HashKind::CRC32:
    case HashKind::CRC32C: {
      const uint32_t crc = reinterpret_cast<const Crc32cState*>(copy)->crc;
      out[0] = static_cast<uint8_t>(crc >> 24);
      out[1] = static_cast<uint8_t>(crc >> 16);
      out[2] = static_cast<uint8_t>(crc >> 8);
      out[3] = static_cast<uint8_t>(crc);
      return 4;
    }
  }
  return 0;
}

void state_update(HashKind kind, uint8_t* state, const uint8_t* p, size_t n) {
  HashContext hc;
  hc.load(kind, state);
  hc.update(p, n);
  hc.store(state);
}

size_t state_digest(HashKind kind, const uint8_t* state, uint8_t out[MAX_DIGEST]) {
  HashContext hc;
  hc.load(kind, state);
  return hc.digest(out);
}

std::string to_hex(const uint8_t* p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string s(n * 2, '0');
  for (size_t i = 0; i < n; i++) {
    s[2 * i] = digits[p[i] >> 4];
    s[2 * i + 1] = digits[p[i] & 15];
  }
  return s;
}

}  // namespace tais
