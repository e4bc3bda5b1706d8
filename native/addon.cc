// Module init and the hashing bindings. The TypeScript wrapper (src/native/index.ts)
// maps hash kind names to ids 0..7 (xxhash, md5, sha256, sha512, crc32c, crc32, crc64nvme, sha1) and is the
// only caller; these functions still check every argument.
#include <napi.h>

#include <malloc.h>

#include <cstring>
#include <memory>

#include "crc32c.h"
#include "hashers.h"
#include "napi_util.h"
#include "xxh64.h"

namespace tais {

void RegisterFileIO(Napi::Env env, Napi::Object exports);      // fileio.cc
void RegisterHashStrand(Napi::Env env, Napi::Object exports);  // hash_strand.cc
void RegisterSendfile(Napi::Env env, Napi::Object exports);    // sendfile.cc

namespace {

// hashInit(kind) -> Uint8Array
Napi::Value HashInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const HashKind kind = GetKind(env, info[0]);
  Napi::Uint8Array out = Napi::Uint8Array::New(env, state_size(kind));
  state_init(kind, out.Data());
  return out;
}

// hashUpdate(kind, state, data)
Napi::Value HashUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const HashKind kind = GetKind(env, info[0]);
  Bytes state = GetState(env, kind, info[1]);
  Bytes data = GetBytes(env, info[2], "data");
  state_update(kind, state.data, data.data, data.len);
  return env.Undefined();
}

// hashDigest(kind, state) -> lowercase hex
Napi::Value HashDigest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const HashKind kind = GetKind(env, info[0]);
  Bytes state = GetState(env, kind, info[1]);
  uint8_t d[MAX_DIGEST];
  const size_t n = state_digest(kind, state.data, d);
  return Napi::String::New(env, to_hex(d, n));
}

// hashDigestBytes(kind, state) -> Buffer
Napi::Value HashDigestBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const HashKind kind = GetKind(env, info[0]);
  Bytes state = GetState(env, kind, info[1]);
  uint8_t d[MAX_DIGEST];
  const size_t n = state_digest(kind, state.data, d);
  return Napi::Buffer<uint8_t>::Copy(env, d, n);
}

uint64_t GetSeed(const Napi::Env& env, const Napi::Value& v) {
  if (v.IsUndefined()) return 0;
  if (!v.IsBigInt()) throw Napi::TypeError::New(env, "seed must be a bigint");
  bool lossless = false;
  const uint64_t seed = v.As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) throw Napi::RangeError::New(env, "seed must be in [0, 2^64)");
  return seed;
}

// xxh64(data, seed?) -> bigint
Napi::Value Xxh64(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes data = GetBytes(env, info[0], "data");
  const uint64_t seed = GetSeed(env, info[1]);
  return Napi::BigInt::New(env, xxh64(data.data, data.len, seed));
}

// xxh64String(s, seed?) -> bigint over the UTF-8 bytes of s. Short strings (object
// names, node ids for HRW) are encoded into a stack buffer, no allocation.
Napi::Value Xxh64String(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "s must be a string");
  const uint64_t seed = GetSeed(env, info[1]);
  char stack[512];
  size_t len = 0;
  napi_status st = napi_get_value_string_utf8(env, info[0], stack, sizeof(stack), &len);
  NAPI_THROW_IF_FAILED(env, st, env.Undefined());
  // The copy stops at a character boundary before the end of the buffer: if it got
  // close to full it may have been cut, so redo it with the exact size.
  if (len + 4 < sizeof(stack) - 1) {
    return Napi::BigInt::New(env, xxh64(reinterpret_cast<const uint8_t*>(stack), len, seed));
  }
  size_t full = 0;
  st = napi_get_value_string_utf8(env, info[0], nullptr, 0, &full);
  NAPI_THROW_IF_FAILED(env, st, env.Undefined());
  std::unique_ptr<char[]> heap(new char[full + 1]);
  st = napi_get_value_string_utf8(env, info[0], heap.get(), full + 1, &len);
  NAPI_THROW_IF_FAILED(env, st, env.Undefined());
  return Napi::BigInt::New(env, xxh64(reinterpret_cast<const uint8_t*>(heap.get()), len, seed));
}

// mmapThreshold(bytes): glibc serves allocations of at least `bytes` with their own mmap, and gives them
// back to the kernel when freed. glibc's default threshold rises to the size of the largest block
// freed (up to 32 MiB), after which the node's 1-2 MiB body buffers come from the heaps instead,
// where a freed one in the middle of a heap stays resident (see src/cmd/process-setup.ts).
Napi::Value MmapThreshold(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "mmapThreshold(bytes)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int bytes = info[0].As<Napi::Number>().Int32Value();
  return Napi::Boolean::New(env, mallopt(M_MMAP_THRESHOLD, bytes) == 1);
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("hashInit", Napi::Function::New(env, HashInit, "hashInit"));
  exports.Set("hashUpdate", Napi::Function::New(env, HashUpdate, "hashUpdate"));
  exports.Set("hashDigest", Napi::Function::New(env, HashDigest, "hashDigest"));
  exports.Set("hashDigestBytes", Napi::Function::New(env, HashDigestBytes, "hashDigestBytes"));
  exports.Set("xxh64", Napi::Function::New(env, Xxh64, "xxh64"));
  exports.Set("xxh64String", Napi::Function::New(env, Xxh64String, "xxh64String"));
  exports.Set("mmapThreshold", Napi::Function::New(env, MmapThreshold, "mmapThreshold"));
  exports.Set("crc32cHardware", Napi::Boolean::New(env, crc32c_hw_enabled()));
  RegisterFileIO(env, exports);
  RegisterHashStrand(env, exports);
  RegisterSendfile(env, exports);
  return exports;
}

}  // namespace tais

static Napi::Object InitTais(Napi::Env env, Napi::Object exports) {
  return tais::Init(env, exports);
}

NODE_API_MODULE(tais, InitTais)
