// Unary elementwise kernels (float32 -> float32), each as tfjs-backend-cpu defines it, and the conversion
// of Int32Array/Uint8Array storage to float32 (for tensors that tfjs labels float32 but stores otherwise).
//
//   ewUnary(op, x: Float32Array, y: Float32Array, alpha, beta) -> undefined     op: see UnaryOp
//   ewToF32(x: Int32Array|Uint8Array|Float32Array, y: Float32Array)
//   ewSetParallelThreshold(workUnits) / ewGetParallelThreshold()
#include <cstdlib>

#include "addon.h"
#include "ew_common.h"

namespace lwlr {
namespace ew {

int64_t& parallelThreshold() {
  static int64_t thr = [] {
    const char* s = std::getenv("LWLR_PARALLEL_MIN");
    const long long v = s ? std::atoll(s) : 0;
    // Measured on the 2-core VM (bench/eltwise.mjs --crossover and the kernel-only table, OMP_WAIT_POLICY
    // passive): waking the second thread costs ~5-10 us; memory-bound ops (Add, Relu: one core already
    // streams ~25 GB/s) gain nothing from it at any size, compute-bound ones (erf, optimizer steps) ~1.7x
    // at 1M elements. 512k work units: Add forks from 512k elements, erf (cost 8) from 64k.
    return int64_t(v > 0 ? v : 524288);
  }();
  return thr;
}

namespace {

enum UnaryOp {
  kRelu = 0, kRelu6, kStep, kElu, kSigmoid, kTanh, kExp, kLog, kSqrt, kRsqrt, kSquare, kAbs, kNeg, kErf,
  kSign, kReciprocal, kSoftplus, kExpm1, kLog1p, kLeakyRelu, kClip, kNumUnary
};

using UnaryFn = void (*)(const float*, float*, int64_t, float, float);

#define LWLR_UNARY(NAME, EXPR)                                                                      \
  LWLR_SIMD void NAME(const float* __restrict x, float* __restrict y, int64_t n, float alpha,         \
                 float beta) {                                                                      \
    for (int64_t i = 0; i < n; ++i) {                                                               \
      const float v = x[i];                                                                         \
      y[i] = (EXPR);                                                                                \
    }                                                                                               \
  }

LWLR_UNARY(uRelu, v < 0.f ? 0.f : v)
LWLR_UNARY(uRelu6, v < 0.f ? 0.f : (v > 6.f ? 6.f : v))
LWLR_UNARY(uStep, v > 0.f ? 1.f : (v != v ? v : alpha))
LWLR_UNARY(uElu, v >= 0.f ? v : vexpm1(v))
LWLR_UNARY(uSigmoid, vsigmoid(v))
LWLR_UNARY(uTanh, vtanh(v))
LWLR_UNARY(uExp, vexp(v))
LWLR_UNARY(uLog, vlog(v))
LWLR_UNARY(uSqrt, std::sqrt(v))
LWLR_UNARY(uRsqrt, 1.f / std::sqrt(v))
LWLR_UNARY(uSquare, v* v)
LWLR_UNARY(uAbs, std::fabs(v))
LWLR_UNARY(uNeg, -v)
LWLR_UNARY(uErf, verf(v))
LWLR_UNARY(uSign, v < 0.f ? -1.f : (v > 0.f ? 1.f : 0.f))
LWLR_UNARY(uReciprocal, 1.f / v)
LWLR_UNARY(uSoftplus, vsoftplus(v))
LWLR_UNARY(uExpm1, vexpm1(v))
LWLR_UNARY(uLog1p, vlog1p(v))
LWLR_UNARY(uLeakyRelu, v < 0.f ? alpha * v : v)
LWLR_UNARY(uClip, v > beta ? beta : (v < alpha ? alpha : v))

struct UnaryEntry {
  UnaryFn fn;
  int cost;  // relative cost per element, for the parallel threshold
};

const UnaryEntry kUnary[kNumUnary] = {
    {uRelu, 1},  {uRelu6, 1},  {uStep, 1},   {uElu, 6},  {uSigmoid, 6},     {uTanh, 8},     {uExp, 5},
    {uLog, 6},   {uSqrt, 2},   {uRsqrt, 3},  {uSquare, 1}, {uAbs, 1},       {uNeg, 1},      {uErf, 8},
    {uSign, 1},  {uReciprocal, 2}, {uSoftplus, 10}, {uExpm1, 6}, {uLog1p, 8}, {uLeakyRelu, 1}, {uClip, 1},
};

Napi::Value Unary(const Napi::CallbackInfo& info) {
  const int op = info[0].As<Napi::Number>().Int32Value();
  if (op < 0 || op >= kNumUnary) throw Napi::RangeError::New(info.Env(), "ewUnary: bad op");
  size_t n = 0, ny = 0;
  const float* x = f32p(info[1], &n);
  float* y = f32p(info[2], &ny);
  if (ny < n) throw Napi::RangeError::New(info.Env(), "ewUnary: output too small");
  const float alpha = info.Length() > 3 ? float(num(info[3])) : 0.f;
  const float beta = info.Length() > 4 ? float(num(info[4])) : 0.f;
  const UnaryEntry& e = kUnary[op];
  parallelFor(int64_t(n), e.cost, [&](int64_t b, int64_t end) { e.fn(x + b, y + b, end - b, alpha, beta); });
  return info.Env().Undefined();
}

LWLR_SIMD void i32ToF32(const int32_t* __restrict x, float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = float(x[i]);
}
LWLR_SIMD void u8ToF32(const uint8_t* __restrict x, float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = float(x[i]);
}

Napi::Value ToF32(const Napi::CallbackInfo& info) {
  size_t n = 0;
  napi_typedarray_type t;
  const void* x = tdata(info[0], &n, &t);
  float* y = f32p(info[1]);
  if (t == napi_int32_array) {
    const int32_t* xi = static_cast<const int32_t*>(x);
    parallelFor(int64_t(n), 1, [&](int64_t b, int64_t e) { i32ToF32(xi + b, y + b, e - b); });
  } else if (t == napi_uint8_array) {
    const uint8_t* xu = static_cast<const uint8_t*>(x);
    parallelFor(int64_t(n), 1, [&](int64_t b, int64_t e) { u8ToF32(xu + b, y + b, e - b); });
  } else if (t == napi_float32_array) {
    std::memcpy(y, x, n * 4);
  } else {
    throw Napi::TypeError::New(info.Env(), "ewToF32: unsupported array type");
  }
  return info.Env().Undefined();
}

Napi::Value SetThreshold(const Napi::CallbackInfo& info) {
  const int64_t v = info[0].As<Napi::Number>().Int64Value();
  if (v >= 1) parallelThreshold() = v;
  return Napi::Number::New(info.Env(), double(parallelThreshold()));
}
Napi::Value GetThreshold(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), double(parallelThreshold()));
}

}  // namespace

LWLR_EXPORT("ewUnary", Unary);
LWLR_EXPORT("ewToF32", ToF32);
LWLR_EXPORT("ewSetParallelThreshold", SetThreshold);
LWLR_EXPORT("ewGetParallelThreshold", GetThreshold);

}  // namespace ew
}  // namespace lwlr
