// Shared by every native kernel family: a tiny registry so each .cc file exports its own
// functions (LWLR_EXPORT) without one central list to edit.
#pragma once
#include <napi.h>
#include <dnnl.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lwlr {

using NativeFn = Napi::Value (*)(const Napi::CallbackInfo&);

struct Registration {
  const char* name;
  NativeFn fn;
};

std::vector<Registration>& registry();

struct Registrar {
  Registrar(const char* name, NativeFn fn) { registry().push_back({name, fn}); }
};

// The CPU engine and a stream, created once.
dnnl::engine& cpuEngine();
dnnl::stream& cpuStream();

// A Float32Array argument as a raw pointer (zero-copy on the tfjs backend's storage).
inline float* f32(const Napi::Value& v) {
  auto a = v.As<Napi::TypedArrayOf<float>>();
  return a.Data();
}
inline size_t f32len(const Napi::Value& v) { return v.As<Napi::TypedArrayOf<float>>().ElementLength(); }

// An array of numbers (shape, strides, axes) as int64 vector.
inline std::vector<int64_t> dims(const Napi::Value& v) {
  auto a = v.As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) out[i] = a.Get(i).As<Napi::Number>().Int64Value();
  return out;
}

}  // namespace lwlr

#define LWLR_CONCAT_(a, b) a##b
#define LWLR_CONCAT(a, b) LWLR_CONCAT_(a, b)
// Export `fn` to JavaScript as addon.<name>.
#define LWLR_EXPORT(name, fn) static ::lwlr::Registrar LWLR_CONCAT(lwlr_reg_, __LINE__)(name, fn)
