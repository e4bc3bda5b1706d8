// Zero-copy large GETs. nginx answers a large GET with sendfile(2): the kernel hands page-cache pages
// to the socket, and no CPU copies the body on the sending side. Through uWS every body byte is
// copied twice on this side (pread into a buffer, then the buffer into the socket). Here, once uWS
// has written the head and the first piece (and holds nothing back), a native thread sends the body
// but its last bytes (the tail) on the connection's socket itself with sendfile, while it hashes the
// whole rest through a small buffer that stays in cache. Then the caller has uWS write the tail —
// only if the digest matched — which completes the response in uWS's eyes, so the connection stays
// open for the next request.
//
// uWebSockets.js does not expose a response's socket, so socketFd() reads it from uWS's own objects:
// the HttpResponse's internal field 0 is its us_socket_t, which begins with the us_poll_t of
// uSockets' libuv build ({ uv_poll_t* uv_p; int fd; ... }). That is only trusted when both fields
// agree (the int is a socket whose local port is the server's, and libuv's poll handle reports the
// same fd); anything else answers -1 and the caller keeps the uWS path.
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <napi.h>
#include <uv.h>
#include <v8.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "hashers.h"
#include "napi_util.h"

namespace tais {
namespace {

// Hashing reads the file through this much at a time: small enough to stay in L2 for the hash.
constexpr size_t HASH_PIECE = 256 * 1024;
// Hashing runs at most this far ahead of the bytes sent: the pages it read are then still in the
// CPU's cache when the socket's reader copies them (on loopback, the reader shares those caches).
constexpr int64_t HASH_AHEAD = 2 * 1024 * 1024;
// A client that takes nothing for this long is given up on (uWS's own idle timeout is 10 s).
constexpr int STALL_MS = 30000;

std::atomic<int> g_active{0};

int LocalPort(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return -1;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return -1;
}

// socketFd(res, port) -> the socket fd under a uWS HttpResponse, or -1 (see the top of the file).
Napi::Value SocketFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto none = Napi::Number::New(env, -1);
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsNumber()) return none;
  const int port = info[1].As<Napi::Number>().Int32Value();
  // A napi_value is a v8::Local's handle slot in Node's implementation of Node-API.
  napi_value raw = info[0];
  v8::Local<v8::Value> value;
  static_assert(sizeof value == sizeof raw, "napi_value is not a v8::Local");
  std::memcpy(static_cast<void*>(&value), &raw, sizeof raw);
  v8::Local<v8::Object> obj = value.As<v8::Object>();
  if (obj->InternalFieldCount() < 1) return none;
  const auto* sock = static_cast<const unsigned char*>(obj->GetAlignedPointerFromInternalField(0));
  if (sock == nullptr) return none;  // the response has ended or was aborted
  int fd;
  std::memcpy(&fd, sock + sizeof(void*), sizeof fd);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode) || LocalPort(fd) != port) return none;
  uv_poll_t* poll;
  std::memcpy(&poll, sock, sizeof poll);
  uv_os_fd_t pollFd = -1;
  if (poll == nullptr || uv_handle_get_type(reinterpret_cast<uv_handle_t*>(poll)) != UV_POLL ||
      uv_fileno(reinterpret_cast<uv_handle_t*>(poll), &pollFd) != 0 || pollFd != fd)
    return none;
  return Napi::Number::New(env, fd);
}

struct SendJob {
  int sock = -1;  // our own dup of the connection: valid whatever uWS does with its fd meanwhile
  int file = -1;
  int64_t start = 0;
  int64_t end = 0;
  int64_t tail = 0;  // bytes before `end` not sent here
  bool verify = false;
  HashKind kind = HashKind::XXHASH;
  std::vector<uint8_t> state;
  std::string expected;
  // Outcome.
  int64_t sent = 0;  // body bytes
  int err = 0;
  const char* syscall = "";
  bool shortFile = false;  // the file ended before `end`
  int64_t fileEnd = 0;
  bool mismatch = false;
  std::string digest;
  Napi::ThreadSafeFunction done;
};

// Waits until `fd` is ready for `events`; false (with errno set) on timeout or error.
bool Wait(int fd, short events, int timeoutMs) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int r = poll(&p, 1, timeoutMs);
    if (r > 0) return true;  // POLLERR/POLLHUP also end the wait: the next call reports why
    if (r == 0) {
      errno = ETIMEDOUT;
      return false;
    }
    if (errno != EINTR) return false;
  }
}

bool Fail(SendJob& j, const char* syscall) {
  j.err = errno;
  j.syscall = syscall;
  return false;
}

// Reads and hashes the next piece at `pos`; false on a read error or a file that ends early.
bool HashPiece(SendJob& j, uint8_t* buf, int64_t& pos) {
  const size_t want = static_cast<size_t>(std::min<int64_t>(HASH_PIECE, j.end - pos));
  ssize_t n;
  do {
    n = pread(j.file, buf, want, pos);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Fail(j, "read");
  if (n == 0) {
    j.shortFile = true;
    j.fileEnd = pos;
    return false;
  }
  state_update(j.kind, j.state.data(), buf, static_cast<size_t>(n));
  pos += n;
  return true;
}

void Run(SendJob& j) {
  std::unique_ptr<uint8_t, decltype(&free)> buf(nullptr, &free);
  int64_t hashed = j.end;
  if (j.verify) {
    buf.reset(static_cast<uint8_t*>(malloc(HASH_PIECE)));
    if (!buf) {
      errno = ENOMEM;
      Fail(j, "malloc");
      return;
    }
    hashed = j.start;
  }
  const int64_t sendEnd = j.end - j.tail;
  int64_t pos = j.start;
  while (pos < sendEnd) {
    const int64_t limit = std::min(hashed, sendEnd);
    if (pos < limit) {
      off_t off = pos;
      const ssize_t n = sendfile(j.sock, j.file, &off, static_cast<size_t>(std::min<int64_t>(limit - pos, 1 << 30)));
      if (n > 0) {
        pos += n;
        j.sent = pos - j.start;
        continue;
      }
      if (n == 0) {
        j.shortFile = true;
        j.fileEnd = pos;
        return;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN) {
        Fail(j, "sendfile");
        return;
      }
    }
    // The socket is full (or nothing is hashed yet): hash ahead meanwhile, else wait for room.
    if (hashed < j.end && hashed - pos < HASH_AHEAD) {
      if (!HashPiece(j, buf.get(), hashed)) return;
    } else if (!Wait(j.sock, POLLOUT, STALL_MS)) {
      Fail(j, "poll");
      return;
    }
  }
  if (!j.verify) return;
  while (hashed < j.end)
    if (!HashPiece(j, buf.get(), hashed)) return;
  uint8_t d[MAX_DIGEST];
  j.digest = to_hex(d, state_digest(j.kind, j.state.data(), d));
  j.mismatch = j.digest != j.expected;
}

// sendObject(sock, file, start, length, tail, kind|null, state|null, expected|null, cb, maxActive) -> boolean
// Starts a thread that sends bytes [start, start+length-tail) of `file` on a dup of `sock`; with a
// kind, it continues `state` over all of [start, start+length) and compares the digest with
// `expected` (hex). `cb(result)` runs on this JS thread when it ends. False when `maxActive` sends are
// running already (the caller keeps the uWS path).
Napi::Value SendObject(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[9].IsNumber()) throw Napi::TypeError::New(env, "maxActive must be a number");
  const int maxActive = info[9].As<Napi::Number>().Int32Value();
  if (g_active.fetch_add(1) >= maxActive) {
    g_active.fetch_sub(1);
    return Napi::Boolean::New(env, false);
  }
  auto job = std::make_unique<SendJob>();
  try {
    const int sock = GetFd(env, info[0]);
    job->file = GetFd(env, info[1]);
    job->start = GetPosition(env, info[2]);
    job->end = job->start + GetPosition(env, info[3]);
    job->tail = GetPosition(env, info[4]);
    if (job->tail > job->end - job->start) throw Napi::RangeError::New(env, "tail is longer than the range");
    job->verify = !info[5].IsNull() && !info[5].IsUndefined();
    if (job->verify) {
      job->kind = GetKind(env, info[5]);
      Bytes st = GetState(env, job->kind, info[6]);
      job->state.assign(st.data, st.data + st.len);
      job->expected = GetString(env, info[7], "expected");
    }
    if (!info[8].IsFunction()) throw Napi::TypeError::New(env, "cb must be a function");
    job->sock = fcntl(sock, F_DUPFD_CLOEXEC, 0);
    if (job->sock < 0) throw ErrnoError(env, errno, "dup");
    job->done = Napi::ThreadSafeFunction::New(env, info[8].As<Napi::Function>(), "tais.sendObject", 0, 1);
  } catch (...) {
    if (job->sock >= 0) close(job->sock);
    g_active.fetch_sub(1);
    throw;
  }
  std::thread([j = job.release()] {
    Run(*j);
    close(j->sock);
    g_active.fetch_sub(1);
    const napi_status s = j->done.BlockingCall(j, [](Napi::Env env, Napi::Function cb, SendJob* j) {
      Napi::Object r = Napi::Object::New(env);
      r.Set("sent", Napi::Number::New(env, static_cast<double>(j->sent)));
      if (j->err) r.Set("error", ErrnoError(env, j->err, j->syscall).Value());
      if (j->shortFile) r.Set("fileEnd", Napi::Number::New(env, static_cast<double>(j->fileEnd)));
      if (j->mismatch) r.Set("digest", Napi::String::New(env, j->digest));
      std::unique_ptr<SendJob> own(j);
      own->done.Release();
      cb.Call({r});
    });
    if (s != napi_ok) {  // the JS environment is gone (its thread ended)
      j->done.Release();
      delete j;
    }
  }).detach();
  return Napi::Boolean::New(env, true);
}

}  // namespace

void RegisterSendfile(Napi::Env env, Napi::Object exports) {
  exports.Set("socketFd", Napi::Function::New(env, SocketFd, "socketFd"));
  exports.Set("sendObject", Napi::Function::New(env, SendObject, "sendObject"));
}

}  // namespace tais
