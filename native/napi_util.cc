#include "napi_util.h"

#include <uv.h>

#include <cmath>

namespace tais {
namespace {

size_t ElementSize(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array:
    case napi_uint8_array:
    case napi_uint8_clamped_array: return 1;
    case napi_int16_array:
    case napi_uint16_array: return 2;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array: return 4;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array: return 8;
  }
  return 1;
}

[[noreturn]] void ThrowType(const Napi::Env& env, const std::string& msg) {
  throw Napi::TypeError::New(env, msg);
}

}  // namespace

Bytes GetBytes(const Napi::Env& env, const Napi::Value& v, const char* what) {
  // Raw napi calls: they return the data pointer directly, which also works for views on
  // a SharedArrayBuffer (napi_get_arraybuffer_info would refuse the SAB itself).
  if (v.IsTypedArray()) {
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    napi_status st = napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr);
    NAPI_THROW_IF_FAILED(env, st, Bytes());
    return Bytes{static_cast<uint8_t*>(data), length * ElementSize(type)};
  }
  if (v.IsDataView()) {
    size_t length = 0;
    void* data = nullptr;
    napi_status st = napi_get_dataview_info(env, v, &length, &data, nullptr, nullptr);
    NAPI_THROW_IF_FAILED(env, st, Bytes());
    return Bytes{static_cast<uint8_t*>(data), length};
  }
  ThrowType(env, std::string(what) + " must be a Uint8Array");
}

Bytes GetUint8Array(const Napi::Env& env, const Napi::Value& v, const char* what) {
  if (v.IsTypedArray()) {
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    napi_status st = napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr);
    NAPI_THROW_IF_FAILED(env, st, Bytes());
    if (type == napi_uint8_array) return Bytes{static_cast<uint8_t*>(data), length};
  }
  ThrowType(env, std::string(what) + " must be a Uint8Array");
}

HashKind GetKind(const Napi::Env& env, const Napi::Value& v) {
  if (v.IsNumber()) {
    const double d = v.As<Napi::Number>().DoubleValue();
    const int k = static_cast<int>(d);
    if (static_cast<double>(k) == d && valid_kind(k)) return static_cast<HashKind>(k);
  }
  ThrowType(env, "unknown hash kind");
}

Bytes GetState(const Napi::Env& env, HashKind kind, const Napi::Value& v) {
  Bytes b = GetUint8Array(env, v, "state");
  const std::string why = state_check(kind, b.data, b.len);
  if (!why.empty()) ThrowType(env, "bad hash state: " + why);
  return b;
}

int GetFd(const Napi::Env& env, const Napi::Value& v) {
  if (v.IsNumber()) {
    const double d = v.As<Napi::Number>().DoubleValue();
    if (std::isfinite(d) && std::trunc(d) == d && d >= -2147483648.0 && d <= 2147483647.0)
      return static_cast<int>(d);
  }
  ThrowType(env, "fd must be an integer");
}

int64_t GetPosition(const Napi::Env& env, const Napi::Value& v) {
  if (v.IsNumber()) {
    const double d = v.As<Napi::Number>().DoubleValue();
    if (std::isfinite(d) && std::trunc(d) == d && d >= 0 && d <= 9007199254740991.0)
      return static_cast<int64_t>(d);
    throw Napi::RangeError::New(env, "position must be a non-negative safe integer");
  }
  ThrowType(env, "position must be a number");
}

std::string GetString(const Napi::Env& env, const Napi::Value& v, const char* what) {
  if (!v.IsString()) ThrowType(env, std::string(what) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

Napi::Error ErrnoError(const Napi::Env& env, int err, const char* syscall,
                       const std::string* path) {
  const char* code = uv_err_name(-err);
  std::string msg = std::string(code) + ": " + uv_strerror(-err) + ", " + syscall;
  if (path != nullptr) msg += " '" + *path + "'";
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("code", Napi::String::New(env, code));
  e.Set("syscall", Napi::String::New(env, syscall));
  if (path != nullptr) e.Set("path", Napi::String::New(env, *path));
  return e;
}

}  // namespace tais
