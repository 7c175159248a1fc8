// A pool of output buffers for large Float32Arrays.
//
// Why: a fresh 25 MB `new Float32Array` costs ~9 ms on this machine (page faults + zeroing by calloc/mmap),
// about half of the conv that fills it. A Float32Array made here is backed by memory from a pool; when its
// ArrayBuffer is released, the memory goes back to the pool, so the next allocation is resident and not
// re-zeroed. The contents of a new array are UNINITIALIZED: callers must overwrite every element.
//
// Release happens two ways:
//  - `release(array)` (releaseF32 in JS) detaches the ArrayBuffer: the BackingStore's deleter runs at once and
//    the memory is reusable by the very next kernel. The backend calls it when the last tensor storing the
//    array is disposed and nothing outside the backend can read it (kernels/shared-output-alloc.ts). A stale
//    JavaScript reference to a detached array sees length 0, never another tensor's data.
//  - otherwise when V8 collects the array (the V8 BackingStore deleter runs promptly at GC, also inside a
//    synchronous training loop, unlike N-API external-buffer finalizers, which wait for the event loop).
//
// Free buffers are kept by capacity; a request takes the smallest free buffer that holds it, if that is at most
// twice the request (so the memory a training step frees in its backward serves the next kernels of any size;
// the untouched tail of a fresh buffer costs no resident memory). Cap of pooled (free) bytes: the larger of
// LWLR_POOL_MB (default 1024; 0 disables the pool) and 1.5x the peak of the live pooled bytes so far: a training
// step frees at its end what its next forward allocates again, and memory handed back to the system is faulted
// in again page by page. A page fault costs ~6.6 us here (a 103 MB output: 186 ms fresh, 19.5 ms pooled), and
// page faults were ~15% of a ResNet-50 step's CPU time at a 1 GB cap. The margin over the live peak is for
// fragmentation: buffers of mixed sizes own more than the live peak (ResNet-50 at batch 32: 3.26 GB owned for a
// 2.89 GB live peak; a cap of exactly the live peak dropped and re-faulted ~210 MB, 54k pages, every step). It
// does not raise the peak RSS: the dropped memory had been resident at that peak. Beyond the cap released
// memory goes back to the system.
#pragma once
#include <napi.h>
#include <v8.h>

#include <cstdint>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

namespace lwlr {
namespace pool {

struct State {
  std::mutex mu;
  std::multimap<size_t, void*> free;  // capacity in bytes -> buffer
  size_t freeBytes = 0;
  size_t capBytes = 0;
  size_t liveBytes = 0;      // capacity of the buffers handed out and not yet returned
  size_t peakLiveBytes = 0;
  // statistics
  size_t hits = 0, misses = 0, released = 0, dropped = 0, detached = 0;
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

// A buffer of at least `bytes`; its capacity is stored in *capacity (passed back to release()).
inline void* acquire(size_t bytes, size_t* capacity) {
  State& s = state();
  size_t rb = roundBytes(bytes);
  {
    std::lock_guard<std::mutex> g(s.mu);
    auto it = s.free.lower_bound(rb);
    if (it != s.free.end() && it->first <= 2 * rb) {
      void* p = it->second;
      *capacity = it->first;
      s.freeBytes -= it->first;
      s.free.erase(it);
      ++s.hits;
      s.liveBytes += *capacity;
      if (s.liveBytes > s.peakLiveBytes) s.peakLiveBytes = s.liveBytes;
      return p;
    }
    ++s.misses;
    s.liveBytes += rb;
    if (s.liveBytes > s.peakLiveBytes) s.peakLiveBytes = s.liveBytes;
  }
  void* p = std::aligned_alloc(64, rb);
  if (!p) {
    std::lock_guard<std::mutex> g(s.mu);
    s.liveBytes -= rb;
    throw std::bad_alloc();
  }
  *capacity = rb;
  return p;
}

// BackingStore deleter: deleter_data is the buffer's capacity.
inline void release(void* data, size_t, void* capacityAsPtr) {
  State& s = state();
  const size_t cap = reinterpret_cast<uintptr_t>(capacityAsPtr);
  {
    std::lock_guard<std::mutex> g(s.mu);
    s.liveBytes -= cap;
    if (s.capBytes > 0 && s.freeBytes + cap <= std::max(s.capBytes, s.peakLiveBytes + s.peakLiveBytes / 2)) {
      s.free.emplace(cap, data);
      s.freeBytes += cap;
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
  for (auto& kv : s.free) std::free(kv.second);
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
  size_t capacity = 0;
  void* p = acquire(bytes, &capacity);
  std::unique_ptr<v8::BackingStore> bs =
      v8::ArrayBuffer::NewBackingStore(p, bytes, release, reinterpret_cast<void*>(static_cast<uintptr_t>(capacity)));
  v8::Local<v8::ArrayBuffer> ab = v8::ArrayBuffer::New(isolate, std::move(bs));
  v8::Local<v8::Float32Array> fa = v8::Float32Array::New(ab, 0, n);
  return Napi::Value(env, toNapi(fa));
}

}  // namespace pool
}  // namespace lwlr
