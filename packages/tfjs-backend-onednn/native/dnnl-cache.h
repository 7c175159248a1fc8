// Helpers of the matmul/conv/pool kernels: an LRU cache of oneDNN primitives keyed by a string (shape +
// attributes), argument parsing, activation post-ops, and the conversion of C++ errors into JS errors.
#pragma once
#include "addon.h"

#include <cstdlib>
#include <list>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>

namespace lwlr {
namespace mm {

using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

// A small LRU map: key -> shared_ptr<V>. Capacity from LWLR_PRIM_CACHE (default 1024 entries per family).
template <typename V>
class LruCache {
 public:
  explicit LruCache(size_t capacity) : cap_(capacity) {}
  std::shared_ptr<V> get(const std::string& key) {
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second.second);
    return it->second.first;
  }
  void put(const std::string& key, std::shared_ptr<V> v) {
    auto it = map_.find(key);
    if (it != map_.end()) {
      it->second.first = std::move(v);
      order_.splice(order_.begin(), order_, it->second.second);
      return;
    }
    order_.push_front(key);
    map_.emplace(key, std::make_pair(std::move(v), order_.begin()));
    while (map_.size() > cap_) {
      map_.erase(order_.back());
      order_.pop_back();
    }
  }
  size_t size() const { return map_.size(); }
  void clear() {
    map_.clear();
    order_.clear();
  }

 private:
  size_t cap_;
  std::list<std::string> order_;
  std::unordered_map<std::string, std::pair<std::shared_ptr<V>, std::list<std::string>::iterator>> map_;
};

inline size_t cacheCapacity() {
  const char* s = std::getenv("LWLR_PRIM_CACHE");
  long v = s ? std::atol(s) : 0;
  return v > 0 ? static_cast<size_t>(v) : 1024;
}

// Key builder: appends integers separated by commas.
struct Key {
  std::string s;
  explicit Key(const char* prefix) : s(prefix) { s.reserve(160); }
  Key& operator<<(int64_t v) {
    s += std::to_string(v);
    s += ',';
    return *this;
  }
  Key& operator<<(const char* v) {
    s += v;
    s += ';';
    return *this;
  }
  Key& operator<<(const std::string& v) {
    s += v;
    s += ';';
    return *this;
  }
  Key& operator<<(float v) {
    s += std::to_string(v);
    s += ',';
    return *this;
  }
};

// Fused activation as post-op. Names follow tfjs: linear, relu, relu6, leakyrelu, elu, sigmoid.
// Returns false for activations that cannot be a post-op (prelu, unknown).
inline bool appendActivation(dnnl::post_ops& po, const std::string& act, float alpha) {
  using alg = dnnl::algorithm;
  if (act.empty() || act == "linear") return true;
  if (act == "relu") {
    po.append_eltwise(1.f, alg::eltwise_relu, 0.f, 0.f);
  } else if (act == "relu6") {
    po.append_eltwise(1.f, alg::eltwise_clip, 0.f, 6.f);
  } else if (act == "leakyrelu") {
    po.append_eltwise(1.f, alg::eltwise_relu, alpha, 0.f);
  } else if (act == "elu") {
    po.append_eltwise(1.f, alg::eltwise_elu, 1.f, 0.f);
  } else if (act == "sigmoid") {
    po.append_eltwise(1.f, alg::eltwise_logistic, 0.f, 0.f);
  } else {
    return false;
  }
  return true;
}

// Optional Float32Array argument (null/undefined -> nullptr).
inline float* optF32(const Napi::Value& v) {
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  return f32(v);
}

inline std::string optString(const Napi::Value& v) {
  if (v.IsString()) return v.As<Napi::String>().Utf8Value();
  return std::string();
}

inline float optNumber(const Napi::Value& v, float dflt) {
  if (v.IsNumber()) return v.As<Napi::Number>().FloatValue();
  return dflt;
}

// One lock for the kernels of this family: their caches, cached memory objects and the shared stream are
// not thread-safe, and worker_threads share the addon. Uncontended, it costs nanoseconds.
inline std::mutex& familyMutex() {
  static std::mutex m;
  return m;
}

// A persistent buffer that grows to the largest request (never shrinks); one per Tag. Calls are serialized by
// familyMutex, and each call uses a buffer for one thing at a time.
template <int Tag>
inline void* growingBuffer(size_t bytes) {
  struct Buf {
    void* p = nullptr;
    size_t n = 0;
    ~Buf() { std::free(p); }
  };
  static Buf b;
  if (bytes > b.n) {
    std::free(b.p);
    b.n = (bytes + 4095) & ~size_t(4095);
    b.p = std::aligned_alloc(64, b.n);
    if (!b.p) {
      b.n = 0;
      throw std::bad_alloc();
    }
  }
  return b.p;
}

// A scratch buffer for reordered weights / weight gradients, shared by all primitives.
inline void* weightScratch(size_t bytes) { return growingBuffer<0>(bytes); }

// oneDNN's default (library-mode) scratchpad is allocated when a primitive executes and freed when it returns
// (its global scratchpad is released as soon as no execution holds it), so a primitive that needs tens of MB
// page-faults them in on every call: a strided 1x1 convolution's backward data at batch 32 (ResNet-50's
// downsample, ~25 MB of scratchpad) took ~180 ms instead of ~20 ms. The primitives here use user-mode
// scratchpads instead, all served by one persistent buffer (primitives run one at a time).
inline dnnl::primitive_attr withUserScratchpad(dnnl::primitive_attr attr = dnnl::primitive_attr()) {
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// The scratchpad memory of one cached primitive: init() from its primitive descriptor (made with
// withUserScratchpad), bind() before each execution.
struct UserScratchpad {
  dnnl::memory mem;
  bool used = false;
  void init(const dnnl::memory::desc& d) {
    used = d.get_size() > 0;
    if (used) mem = dnnl::memory(d, cpuEngine(), DNNL_MEMORY_NONE);
  }
  void bind(std::unordered_map<int, dnnl::memory>& args) {
    if (!used) return;
    mem.set_data_handle(growingBuffer<1>(mem.get_desc().get_size()));
    args.emplace(DNNL_ARG_SCRATCHPAD, mem);
  }
};

// Runs body under familyMutex, turning C++/oneDNN exceptions into JS exceptions (never aborts the process).
template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, const char* what, F&& body) {
  std::lock_guard<std::mutex> lock(familyMutex());
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const dnnl::error& e) {
    throw Napi::Error::New(info.Env(), std::string(what) + ": oneDNN error " + std::to_string(e.status) + ": " +
                                           e.what());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string(what) + ": " + e.what());
  }
}

// Reorders between two memory descriptors (cached primitive). Used for weights to/from blocked layouts.
struct ReorderEntry {
  dnnl::reorder prim;
  memory src, dst;
};

inline dnnl::reorder& cachedReorder(const memory::desc& from, const memory::desc& to) {
  static LruCache<dnnl::reorder> cache(cacheCapacity());
  // Key by the binary descriptors: the C struct of a memory desc is POD.
  std::string key(reinterpret_cast<const char*>(&from.data), sizeof(from.data));
  key.append(reinterpret_cast<const char*>(&to.data), sizeof(to.data));
  auto r = cache.get(key);
  if (!r) {
    r = std::make_shared<dnnl::reorder>(dnnl::reorder::primitive_desc(cpuEngine(), from, cpuEngine(), to));
    cache.put(key, r);
  }
  return *r;
}

// Implementation name of the last primitive created by each family (for tests and the benchmark).
inline std::unordered_map<std::string, std::string>& lastImpl() {
  static std::unordered_map<std::string, std::string> m;
  return m;
}

}  // namespace mm
}  // namespace lwlr
