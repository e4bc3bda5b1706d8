// Argument checking and Node-style errno errors shared by the binding files.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "hashers.h"

namespace tais {

struct Bytes {
  uint8_t* data;
  size_t len;
};

// Any TypedArray (any element type, counted in bytes) or DataView, including views on a
// SharedArrayBuffer. Throws TypeError otherwise.
Bytes GetBytes(const Napi::Env& env, const Napi::Value& v, const char* what);
// A Uint8Array (or Buffer) only.
Bytes GetUint8Array(const Napi::Env& env, const Napi::Value& v, const char* what);
// Hash kind id (0..4) as passed by the TypeScript wrapper; TypeError otherwise.
HashKind GetKind(const Napi::Env& env, const Napi::Value& v);
// A Uint8Array holding a state of `kind` (checked: size and header); TypeError otherwise.
Bytes GetState(const Napi::Env& env, HashKind kind, const Napi::Value& v);
// File descriptor: an integer number (a bad one fails later in the syscall with EBADF).
int GetFd(const Napi::Env& env, const Napi::Value& v);
// File position: a non-negative safe integer.
int64_t GetPosition(const Napi::Env& env, const Napi::Value& v);
std::string GetString(const Napi::Env& env, const Napi::Value& v, const char* what);

// Error shaped like Node's fs errors: message "CODE: description, syscall 'path'",
// properties errno (negative, as libuv), code, syscall and path.
Napi::Error ErrnoError(const Napi::Env& env, int err, const char* syscall,
                       const std::string* path = nullptr);

}  // namespace tais
