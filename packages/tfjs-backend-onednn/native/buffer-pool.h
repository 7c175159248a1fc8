// A pool of output buffers for large Float32Arrays.
//
// Why: a fresh 25 MB `new Float32Array` costs ~9 ms on this machine (page faults + zeroing by calloc/mmap),
// about half of the conv that fills it. A Float32Array made here is backed by memory from a pool; when V8
// collects the array (whatever thread runs the BackingStore deleter), the memory goes back to the pool, so
// the next allocation of that size is resident and not re-zeroed. Memory is released by GC only, never on
// tfjs dispose (a disposed tensor's values may still be referenced: dataSync() results, subarray slices),
// so reuse is always safe. The contents of a new array are UNINITIALIZED: callers must overwrite every element.
//
// The deleter is a V8 BackingStore deleter (runs promptly at GC, also inside a synchronous training loop,
// unlike N-API external-buffer finalizers, which wait for the event loop).
// Cap of pooled (free) bytes: LWLR_POOL_MB (default 1024; 0 disables the pool).
#pragma once
#include <napi.h>
#include <v8.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace lwlr {
namespace pool {

struct State {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void*>> free;  // bytes -> buffers
  size_t freeBytes = 0;
  size_t capBytes = 0;
  // statistics
  size_t hits = 0, misses = 0, released = 0, dropped = 0;
  State() {
    const char* s = std::getenv("LWLR_POOL_MB");
    long mb = s ? std::atol(s) : 1024;
    if (mb < 0) mb = 0;
    capBytes = static_cast<size_t>(mb) << 20;
  }
};

inline State& state() {
  static State* s = new State();  // never destroyed: deleters may run during process teardown
  return *s;
}

inline size_t roundBytes(size_t bytes) { return (bytes + 63) & ~size_t(63); }

inline void* acquire(size_t bytes) {
  State& s = state();
  size_t rb = roundBytes(bytes);
  {
    std::lock_guard<std::mutex> g(s.mu);
    auto it = s.free.find(rb);
    if (it != s.free.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      s.freeBytes -= rb;
      ++s.hits;
      return p;
    }
    ++s.misses;
  }
  void* p = std::aligned_alloc(64, rb);
  if (!p) throw std::bad_alloc();
  return p;
}

inline void release(void* data, size_t byteLength, void*) {
  State& s = state();
  size_t rb = roundBytes(byteLength);
  {
    std::lock_guard<std::mutex> g(s.mu);
    if (s.freeBytes + rb <= s.capBytes) {
      s.free[rb].push_back(data);
      s.freeBytes += rb;
      ++s.released;
      return;
    }
    ++s.dropped;
  }
  std::free(data);
}

// Empties the pool (returns memory to the system).
inline void trim() {
  State& s = state();
  std::lock_guard<std::mutex> g(s.mu);
  for (auto& kv : s.free)
    for (void* p : kv.second) std::free(p);
  s.free.clear();
  s.freeBytes = 0;
}

// napi_value <-> v8::Local: in Node a napi_value is the address of a V8 handle slot (as in Node's own
// v8impl::JsValueFromV8LocalValue / V8LocalValueFromJsValue).
inline napi_value toNapi(v8::Local<v8::Value> local) { return reinterpret_cast<napi_value>(*local); }

// A new Float32Array of n elements backed by pooled, uninitialized memory.
inline Napi::Value newFloat32Array(Napi::Env env, size_t n) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  size_t bytes = n * sizeof(float);
  if (n == 0 || state().capBytes == 0) {
    return Napi::Float32Array::New(env, n);
  }
  void* p = acquire(bytes);
  std::unique_ptr<v8::BackingStore> bs = v8::ArrayBuffer::NewBackingStore(p, bytes, release, nullptr);
  v8::Local<v8::ArrayBuffer> ab = v8::ArrayBuffer::New(isolate, std::move(bs));
  v8::Local<v8::Float32Array> fa = v8::Float32Array::New(ab, 0, n);
  return Napi::Value(env, toNapi(fa));
}

}  // namespace pool
}  // namespace lwlr
