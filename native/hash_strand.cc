// Hash strands: the streaming hashes of one upload, advanced over its body buffers in order by a
// small pool of native threads, with no JS thread between one buffer and the next.
//
// Why not Piscina tasks: a task ends, its completion is handled on the uWS thread (busy receiving the
// body), and only then can the next batch go out. For an MD5-bound 64 MiB upload those gaps were a
// third of the hashing time. A pool worker that kept waiting for an upload's next buffers would hold
// a worker (and the PUT budget) hostage; these threads belong to no JS pool and never wait on JS.
//
// Model: a strand is a FIFO of buffers plus the upload's states. push() appends and, if the strand is
// idle, puts it on the run queue. A pool thread takes a strand, hashes up to BATCH of its buffers,
// reports how many it hashed (a thread-safe function call, delivered on the JS thread in order), and
// puts the strand back at the tail of the run queue if more are waiting. One thread at a time works on
// a strand, so its states advance in order; strands are interleaved fairly.
//
// Lifetimes: while buffers are pending, the JS object is strongly referenced (so are the buffers, one
// reference each) and so are its states (a property of it); when the last completion is delivered
// it goes back to weak, so a finished upload is collected with no explicit close. When the JS
// environment goes away (a worker thread exits), its strands are cancelled and the cleanup hook waits
// for any being hashed: no thread touches freed memory.
#include <napi.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "hashers.h"
#include "napi_util.h"

namespace tais {
namespace {

constexpr size_t BATCH = 4;           // buffers hashed before a strand yields its thread
constexpr size_t SLICE = 64 * 1024;   // all kinds over one slice while it is in cache
constexpr size_t MAX_KINDS = 8;

struct EnvState;
class HashStrand;

struct Item {
  const uint8_t* data;
  size_t len;
};

struct Strand {
  EnvState* env;
  HashStrand* wrap;  // valid while items are pending (the JS object is then strongly held)
  std::vector<HashKind> kinds;
  std::vector<uint8_t*> states;
  std::deque<Item> items;  // guarded by the pool mutex
  bool scheduled = false;  // on the run queue or being worked on
  bool running = false;
  bool drop = false;       // report the remaining buffers without hashing them (failed upload)
  bool cancelled = false;  // environment gone: forget everything
};

// One per JS environment (main thread, each HTTP worker thread): the thread-safe function that
// carries completions back to it.
struct EnvState {
  napi_threadsafe_function tsfn = nullptr;
  std::vector<std::shared_ptr<Strand>> live;  // strands with pending buffers, guarded by the pool mutex
};

struct Done {
  HashStrand* wrap;
  uint32_t count;
};

class Pool {
 public:
  static Pool& get() {
    // Never destroyed: detached threads may still sit on the condition variable at exit.
    static Pool* pool = new Pool();
    return *pool;
  }

  std::mutex mu;
  std::condition_variable work;  // run queue not empty
  std::condition_variable idle;  // a strand stopped running (for environment cleanup)
  std::deque<std::shared_ptr<Strand>> runq;

  void schedule(const std::shared_ptr<Strand>& s) {  // with mu held
    if (s->scheduled) return;
    s->scheduled = true;
    runq.push_back(s);
    work.notify_one();
  }

 private:
  Pool() {
    const unsigned n = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
    for (unsigned i = 0; i < n; i++) std::thread([this] { loop(); }).detach();
  }

  void loop() {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      work.wait(lock, [this] { return !runq.empty(); });
      std::shared_ptr<Strand> s = std::move(runq.front());
      runq.pop_front();
      if (s->cancelled) {
        s->scheduled = false;
        continue;
      }
      Item batch[BATCH];
      size_t n = 0;
      while (n < BATCH && !s->items.empty()) {
        batch[n++] = s->items.front();
        s->items.pop_front();
      }
      const bool hash = !s->drop;
      s->running = true;
      lock.unlock();
      if (hash) update(*s, batch, n);
      lock.lock();
      s->running = false;
      if (s->cancelled) {
        s->scheduled = false;
        idle.notify_all();
        continue;
      }
      // Under the lock: the environment's cleanup hook takes it before the function goes away.
      napi_call_threadsafe_function(s->env->tsfn, new Done{s->wrap, static_cast<uint32_t>(n)},
                                    napi_tsfn_nonblocking);
      if (!s->items.empty()) runq.push_back(std::move(s));
      else s->scheduled = false;
    }
  }

  static void update(Strand& s, const Item* batch, size_t n) {
    HashContext ctx[MAX_KINDS];
    const size_t k = s.kinds.size();
    for (size_t i = 0; i < k; i++) ctx[i].load(s.kinds[i], s.states[i]);
    for (size_t b = 0; b < n; b++) {
      for (size_t off = 0; off < batch[b].len; off += SLICE) {
        const size_t len = std::min(SLICE, batch[b].len - off);
        for (size_t i = 0; i < k; i++) ctx[i].update(batch[b].data + off, len);
      }
    }
    for (size_t i = 0; i < k; i++) ctx[i].store(s.states[i]);
  }
};

// new HashStrand(kinds: number[], states: Uint8Array[], onHashed: (n: number) => void)
//   push(buf: Uint8Array)  queue a buffer; the caller must not change it until it is reported
//   drop()                 report what is queued without hashing it (the upload failed)
class HashStrand : public Napi::ObjectWrap<HashStrand> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "HashStrand",
                       {InstanceMethod("push", &HashStrand::Push), InstanceMethod("drop", &HashStrand::Drop)});
  }

  explicit HashStrand(const Napi::CallbackInfo& info) : Napi::ObjectWrap<HashStrand>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsArray() || !info[1].IsArray()) throw Napi::TypeError::New(env, "kinds and states must be arrays");
    if (!info[2].IsFunction()) throw Napi::TypeError::New(env, "onHashed must be a function");
    Napi::Array kinds = info[0].As<Napi::Array>();
    Napi::Array states = info[1].As<Napi::Array>();
    if (kinds.Length() != states.Length() || kinds.Length() > MAX_KINDS) {
      throw Napi::RangeError::New(env, "kinds and states must be arrays of the same length (at most 8)");
    }
    env_ = envState(env);
    strand_ = std::make_shared<Strand>();
    strand_->env = env_;
    strand_->wrap = this;
    for (uint32_t i = 0; i < kinds.Length(); i++) {
      const HashKind kind = GetKind(env, kinds.Get(i));
      strand_->kinds.push_back(kind);
      strand_->states.push_back(GetState(env, kind, states.Get(i)).data);
    }
    // Properties of the object, not persistent references: an idle strand is collected with its upload.
    Napi::Object self = info.This().As<Napi::Object>();
    self.Set("states", states);
    self.Set("onHashed", info[2]);
  }

  ~HashStrand() override {
    // Collected only with nothing pending, so the strand is on no queue; mark it anyway.
    std::lock_guard<std::mutex> lock(Pool::get().mu);
    strand_->cancelled = true;
    strand_->wrap = nullptr;
  }

  // On the JS thread: a batch was hashed (or dropped).
  static void Deliver(napi_env raw, napi_value, void*, void* data) {
    std::unique_ptr<Done> done(static_cast<Done*>(data));
    if (raw == nullptr) return;  // environment torn down
    // No C++ exception may leave a thread-safe function's callback: an error of the JS callback (or
    // of a worker thread being terminated) goes back to JS as a pending, i.e. uncaught, exception.
    try {
      done->wrap->Delivered(Napi::Env(raw), done->count);
    } catch (const Napi::Error& e) {
      // Fails only while a worker thread is being terminated, when there is no one left to tell.
      if (!e.IsEmpty()) napi_throw(raw, e.Value());
    }
  }

 private:
  void Delivered(Napi::Env env, uint32_t count) {
    for (uint32_t i = 0; i < count; i++) bufs_.pop_front();
    pending_ -= count;
    Napi::Object self = Value();
    if (pending_ == 0) {
      Unref();
      std::lock_guard<std::mutex> lock(Pool::get().mu);
      auto& live = env_->live;
      live.erase(std::remove(live.begin(), live.end(), strand_), live.end());
      if (live.empty()) napi_unref_threadsafe_function(env, env_->tsfn);
    }
    Napi::Value cb = self.Get("onHashed");
    if (cb.IsFunction()) cb.As<Napi::Function>().Call(self, {Napi::Number::New(env, count)});
  }

  Napi::Value Push(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Bytes b = GetBytes(env, info[0], "buf");
    if (pending_ == 0) Ref();
    pending_++;
    bufs_.emplace_back(Napi::Persistent(info[0].As<Napi::Object>()));
    Pool& pool = Pool::get();
    std::lock_guard<std::mutex> lock(pool.mu);
    if (pending_ == 1) {
      // Pending hashes keep the event loop alive (like a pending fs request); an idle one does not.
      if (env_->live.empty()) napi_ref_threadsafe_function(env, env_->tsfn);
      env_->live.push_back(strand_);
    }
    strand_->items.push_back(Item{b.data, b.len});
    pool.schedule(strand_);
    return env.Undefined();
  }

  Napi::Value Drop(const Napi::CallbackInfo& info) {
    std::lock_guard<std::mutex> lock(Pool::get().mu);
    strand_->drop = true;
    return info.Env().Undefined();
  }

  static EnvState* envState(Napi::Env env) {
    EnvState* st = env.GetInstanceData<EnvState>();
    if (st) return st;
    st = new EnvState();
    napi_value name = Napi::String::New(env, "tais hash strand");
    napi_status s = napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, nullptr, nullptr, nullptr,
                                                    &HashStrand::Deliver, &st->tsfn);
    NAPI_THROW_IF_FAILED(env, s, nullptr);
    napi_unref_threadsafe_function(env, st->tsfn);  // referenced while strands have work (Push)
    // Registered after the function: cleanup hooks run in reverse order, so this one runs first.
    napi_add_env_cleanup_hook(env, &HashStrand::Cleanup, st);
    env.SetInstanceData<EnvState, &HashStrand::KeepEnvState>(st);
    return st;
  }

  static void KeepEnvState(Napi::Env, EnvState*) {}  // Cleanup frees it

  static void Cleanup(void* arg) {
    auto* st = static_cast<EnvState*>(arg);
    Pool& pool = Pool::get();
    {
      std::unique_lock<std::mutex> lock(pool.mu);
      for (auto& s : st->live) s->cancelled = true;
      pool.idle.wait(lock, [st] {
        for (auto& s : st->live)
          if (s->running) return false;
        return true;
      });
      st->live.clear();
    }
    delete st;
  }

  EnvState* env_;
  std::shared_ptr<Strand> strand_;
  std::deque<Napi::ObjectReference> bufs_;  // keeps each queued buffer alive until it is reported
  uint32_t pending_ = 0;
};

}  // namespace

void RegisterHashStrand(Napi::Env env, Napi::Object exports) {
  exports.Set("HashStrand", HashStrand::Define(env));
}

}  // namespace tais
