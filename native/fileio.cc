// File I/O bindings: O_DIRECT helpers, extended attributes, and pread/pwrite fused with
// hash updates (the bytes are hashed while they are hot in cache, off the JS thread for
// the async read).
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <napi.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "hashers.h"
#include "napi_util.h"

namespace tais {
namespace {

constexpr size_t DIRECT_ALIGN = 4096;
constexpr size_t HASH_SLICE = 64 * 1024;
constexpr size_t MAX_FUSED_HASHES = 8;

// ---- O_DIRECT ---------------------------------------------------------------------------

// addressMod(view) -> address of the view's first byte modulo 4096. The wrapper passes an
// empty Uint8Array at offset 0 of the (Shared)ArrayBuffer: Node-API of Node 20 cannot
// take a SharedArrayBuffer itself, but can read a view on one.
Napi::Value AddressMod(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes b = GetBytes(env, info[0], "buf");
  return Napi::Number::New(
      env, static_cast<double>(reinterpret_cast<uintptr_t>(b.data) % DIRECT_ALIGN));
}

// setDirect(fd, on)
Napi::Value SetDirect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fd = GetFd(env, info[0]);
  if (!info[1].IsBoolean()) throw Napi::TypeError::New(env, "on must be a boolean");
  const bool on = info[1].As<Napi::Boolean>().Value();
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0) throw ErrnoError(env, errno, "fcntl");
  const int want = on ? (flags | O_DIRECT) : (flags & ~O_DIRECT);
  if (want != flags && fcntl(fd, F_SETFL, want) < 0) throw ErrnoError(env, errno, "fcntl");
  return env.Undefined();
}

struct FdCloser {
  int fd = -1;
  ~FdCloser() {
    if (fd >= 0) close(fd);
  }
};

// probeDirectIO(dir) -> boolean. Creates `dir/.tais-odirect-probe.<pid>.<n>` with a plain
// open, reopens it with O_DIRECT, writes and reads back one aligned 4 KiB block, removes
// it. EINVAL (the file system refuses O_DIRECT, or the alignment it needs is bigger)
// means false; any other failure (missing dir, permissions...) throws.
Napi::Value ProbeDirectIO(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string dir = GetString(env, info[0], "dir");
  static std::atomic<unsigned> counter{0};
  const std::string path = dir + "/.tais-odirect-probe." + std::to_string(getpid()) + "." +
                           std::to_string(counter.fetch_add(1));

  FdCloser plain;
  plain.fd = open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (plain.fd < 0) throw ErrnoError(env, errno, "open", &path);

  struct Cleanup {
    const std::string& p;
    ~Cleanup() { unlink(p.c_str()); }
  } cleanup{path};

  FdCloser direct;
  direct.fd = open(path.c_str(), O_RDWR | O_DIRECT | O_CLOEXEC);
  if (direct.fd < 0) {
    if (errno == EINVAL || errno == EOPNOTSUPP) return Napi::Boolean::New(env, false);
    throw ErrnoError(env, errno, "open", &path);
  }

  void* raw = nullptr;
  if (posix_memalign(&raw, DIRECT_ALIGN, 2 * DIRECT_ALIGN) != 0)
    throw Napi::Error::New(env, "probeDirectIO: out of memory");
  std::unique_ptr<void, decltype(&free)> mem(raw, free);
  uint8_t* out = static_cast<uint8_t*>(raw);
  uint8_t* in = out + DIRECT_ALIGN;
  for (size_t i = 0; i < DIRECT_ALIGN; i++) out[i] = static_cast<uint8_t>(i * 7 + 1);
  std::memset(in, 0, DIRECT_ALIGN);

  ssize_t w;
  do {
    w = pwrite(direct.fd, out, DIRECT_ALIGN, 0);
  } while (w < 0 && errno == EINTR);
  if (w < 0) {
    if (errno == EINVAL || errno == EOPNOTSUPP) return Napi::Boolean::New(env, false);
    throw ErrnoError(env, errno, "write", &path);
  }
  if (static_cast<size_t>(w) != DIRECT_ALIGN) return Napi::Boolean::New(env, false);

  ssize_t r;
  do {
    r = pread(direct.fd, in, DIRECT_ALIGN, 0);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    if (errno == EINVAL || errno == EOPNOTSUPP) return Napi::Boolean::New(env, false);
    throw ErrnoError(env, errno, "read", &path);
  }
  const bool ok = static_cast<size_t>(r) == DIRECT_ALIGN && std::memcmp(in, out, DIRECT_ALIGN) == 0;
  return Napi::Boolean::New(env, ok);
}

// ---- extended attributes ----------------------------------------------------------------

// fsetxattr(fd, name, value)
Napi::Value FSetXattr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fd = GetFd(env, info[0]);
  const std::string name = GetString(env, info[1], "name");
  Bytes value = GetBytes(env, info[2], "value");
  if (fsetxattr(fd, name.c_str(), value.data, value.len, 0) < 0)
    throw ErrnoError(env, errno, "fsetxattr");
  return env.Undefined();
}

// fdCtime(fd, out: Float64Array(2)) -> link count; out = [ctime s, ctime ns]. One fstat tells the
// open-object cache (src/target/open-cache.ts) whether a cached fd is still the live object: a rename
// over its name or an unlink drops the link count to 0, and any write, xattr change or rename of the
// inode moves ctime (fine-grained once queried, on kernels with multigrain timestamps).
Napi::Value FdCtime(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fd = GetFd(env, info[0]);
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      info[1].As<Napi::Float64Array>().ElementLength() < 2)
    throw Napi::TypeError::New(env, "out: Float64Array(2) expected");
  double* out = info[1].As<Napi::Float64Array>().Data();
  struct stat st;
  if (fstat(fd, &st) < 0) throw ErrnoError(env, errno, "fstat");
  out[0] = static_cast<double>(st.st_ctim.tv_sec);
  out[1] = static_cast<double>(st.st_ctim.tv_nsec);
  return Napi::Number::New(env, static_cast<double>(st.st_nlink));
}

// Reads an attribute through `get(buf, size)` (fgetxattr or getxattr). Tries a stack
// buffer first; on ERANGE asks for the size and retries (the value may change between).
template <typename Get>
Napi::Value ReadXattr(const Napi::Env& env, Get get, const char* syscall,
                      const std::string* path) {
  uint8_t small[1024];
  ssize_t n = get(small, sizeof(small));
  if (n >= 0) return Napi::Buffer<uint8_t>::Copy(env, small, static_cast<size_t>(n));
  std::vector<uint8_t> big;
  while (n < 0 && errno == ERANGE) {
    const ssize_t size = get(nullptr, 0);
    if (size < 0) break;
    big.resize(static_cast<size_t>(size) + 1);
    n = get(big.data(), big.size());
  }
  if (n < 0) {
    if (errno == ENODATA) return env.Undefined();
    throw ErrnoError(env, errno, syscall, path);
  }
  return Napi::Buffer<uint8_t>::Copy(env, big.data(), static_cast<size_t>(n));
}

// fgetxattr(fd, name) -> Buffer | undefined
Napi::Value FGetXattr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fd = GetFd(env, info[0]);
  const std::string name = GetString(env, info[1], "name");
  return ReadXattr(
      env, [&](void* buf, size_t size) { return fgetxattr(fd, name.c_str(), buf, size); },
      "fgetxattr", nullptr);
}

// getxattr(path, name) -> Buffer | undefined
Napi::Value GetXattr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = GetString(env, info[0], "path");
  const std::string name = GetString(env, info[1], "name");
  return ReadXattr(
      env,
      [&](void* buf, size_t size) { return getxattr(path.c_str(), name.c_str(), buf, size); },
      "getxattr", &path);
}

// ---- pread / pwrite fused with hashing --------------------------------------------------

struct ReadArgs {
  int fd;
  Bytes buf;
  int64_t position;
  bool hash;
  HashKind kind;
  Bytes state;
};

ReadArgs GetReadArgs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ReadArgs a{};
  a.fd = GetFd(env, info[0]);
  a.buf = GetBytes(env, info[1], "buf");
  a.position = GetPosition(env, info[2]);
  const bool noKind = info[3].IsNull() || info[3].IsUndefined();
  const bool noState = info[4].IsNull() || info[4].IsUndefined();
  if (noKind != noState)
    throw Napi::TypeError::New(env, "kind and state must be given together (or both null)");
  a.hash = !noKind;
  if (a.hash) {
    a.kind = GetKind(env, info[3]);
    a.state = GetState(env, a.kind, info[4]);
  }
  return a;
}

// One pread (retried on EINTR), then the hash update over exactly the bytes read.
// Returns bytes read or -errno.
ssize_t DoReadHash(const ReadArgs& a) {
  ssize_t n;
  do {
    n = pread(a.fd, a.buf.data, a.buf.len, static_cast<off_t>(a.position));
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  if (a.hash && n > 0) state_update(a.kind, a.state.data, a.buf.data, static_cast<size_t>(n));
  return n;
}

// readHashSync(fd, buf, position, kind|null, state|null) -> bytes read
Napi::Value ReadHashSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const ReadArgs a = GetReadArgs(info);
  const ssize_t n = DoReadHash(a);
  if (n < 0) throw ErrnoError(env, static_cast<int>(-n), "read");
  return Napi::Number::New(env, static_cast<double>(n));
}

class ReadHashWorker : public Napi::AsyncWorker {
 public:
  ReadHashWorker(Napi::Env env, const ReadArgs& args, Napi::Object buf, Napi::Value state)
      : Napi::AsyncWorker(env, "tais.readHash"), args_(args), deferred_(env) {
    // Keep the buffer and the state alive until the read completes.
    buf_ = Napi::Persistent(buf);
    if (state.IsObject()) state_ = Napi::Persistent(state.As<Napi::Object>());
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    const ssize_t n = DoReadHash(args_);
    if (n < 0) {
      err_ = static_cast<int>(-n);
      SetError("read failed");
    } else {
      n_ = n;
    }
  }

  void OnOK() override {
    deferred_.Resolve(Napi::Number::New(Env(), static_cast<double>(n_)));
  }

  void OnError(const Napi::Error&) override {
    deferred_.Reject(ErrnoError(Env(), err_, "read").Value());
  }

 private:
  ReadArgs args_;
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference buf_;
  Napi::ObjectReference state_;
  ssize_t n_ = 0;
  int err_ = 0;
};

// readHash(fd, buf, position, kind|null, state|null) -> Promise<bytes read>
Napi::Value ReadHash(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const ReadArgs a = GetReadArgs(info);
  auto* w = new ReadHashWorker(env, a, info[1].As<Napi::Object>(), info[4]);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// writeHashSync(fd, data, position, kinds: number[], states: Uint8Array[])
// Hashes `data` into every state (64 KiB slices, all hashers per slice so the slice is
// read from cache), writes all of it with pwrite (partial writes and EINTR retried), and
// only then stores the updated states: a failed write leaves the states untouched.
Napi::Value WriteHashSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fd = GetFd(env, info[0]);
  Bytes data = GetBytes(env, info[1], "data");
  const int64_t position = GetPosition(env, info[2]);
  if (!info[3].IsArray() || !info[4].IsArray())
    throw Napi::TypeError::New(env, "hashes must be an array of {kind, state}");
  Napi::Array kinds = info[3].As<Napi::Array>();
  Napi::Array states = info[4].As<Napi::Array>();
  const uint32_t count = kinds.Length();
  if (states.Length() != count) throw Napi::TypeError::New(env, "kinds/states length mismatch");
  if (count > MAX_FUSED_HASHES)
    throw Napi::RangeError::New(env, "at most 8 hashes per writeHashSync");

  HashContext ctx[MAX_FUSED_HASHES];
  Bytes st[MAX_FUSED_HASHES];
  for (uint32_t i = 0; i < count; i++) {
    const HashKind kind = GetKind(env, kinds.Get(i));
    st[i] = GetState(env, kind, states.Get(i));
    for (uint32_t j = 0; j < i; j++)
      if (st[j].data == st[i].data)
        throw Napi::TypeError::New(env, "the same state is given twice");
    ctx[i].load(kind, st[i].data);
  }

  if (count > 0) {
    for (size_t off = 0; off < data.len; off += HASH_SLICE) {
      const size_t n = data.len - off < HASH_SLICE ? data.len - off : HASH_SLICE;
      for (uint32_t i = 0; i < count; i++) ctx[i].update(data.data + off, n);
    }
  }

  size_t done = 0;
  while (done < data.len) {
    const ssize_t w = pwrite(fd, data.data + done, data.len - done,
                             static_cast<off_t>(position + static_cast<int64_t>(done)));
    if (w < 0) {
      if (errno == EINTR) continue;
      throw ErrnoError(env, errno, "write");
    }
    if (w == 0) throw ErrnoError(env, EIO, "write");
    done += static_cast<size_t>(w);
  }
  if (data.len == 0) {
    // Nothing to write, but still report a bad fd like a real write would.
    if (fcntl(fd, F_GETFL) < 0) throw ErrnoError(env, errno, "write");
  }

  for (uint32_t i = 0; i < count; i++) ctx[i].store(st[i].data);
  return env.Undefined();
}

}  // namespace

void RegisterFileIO(Napi::Env env, Napi::Object exports) {
  exports.Set("addressMod", Napi::Function::New(env, AddressMod, "addressMod"));
  exports.Set("setDirect", Napi::Function::New(env, SetDirect, "setDirect"));
  exports.Set("probeDirectIO", Napi::Function::New(env, ProbeDirectIO, "probeDirectIO"));
  exports.Set("fsetxattr", Napi::Function::New(env, FSetXattr, "fsetxattr"));
  exports.Set("fdCtime", Napi::Function::New(env, FdCtime, "fdCtime"));
  exports.Set("fgetxattr", Napi::Function::New(env, FGetXattr, "fgetxattr"));
  exports.Set("getxattr", Napi::Function::New(env, GetXattr, "getxattr"));
  exports.Set("readHash", Napi::Function::New(env, ReadHash, "readHash"));
  exports.Set("readHashSync", Napi::Function::New(env, ReadHashSync, "readHashSync"));
  exports.Set("writeHashSync", Napi::Function::New(env, WriteHashSync, "writeHashSync"));
}

}  // namespace tais
