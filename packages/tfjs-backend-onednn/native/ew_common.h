// Shared by the elementwise families (eltwise, binary, reduce, shape_ops, norm, optim):
//  - LWLR_SIMD: loops compiled three times (AVX-512, AVX2+FMA, baseline x86-64) and chosen at load time by
//    the dynamic loader (GCC target_clones), so the addon stays portable without -march;
//  - vectorizable float math (exp, log, tanh, erf, ...) written with selects only, so GCC vectorizes the loops
//    that call them (libm calls would keep them scalar);
//  - parallelFor: OpenMP only above a work threshold (small tensors run on the calling thread, no fork);
//  - typed-array access without copies.
#pragma once
// Let the vectorizer if-convert float selects/conversions and use sqrtps: we never enable FP traps and JS
// has no errno. Only the translation units that include this header are affected.
#pragma GCC optimize("no-trapping-math", "no-math-errno")

#include <napi.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define LWLR_SIMD __attribute__((target_clones("arch=x86-64-v4", "arch=haswell", "default")))
#else
#define LWLR_SIMD
#endif
#define LWLR_INLINE inline __attribute__((always_inline))

namespace lwlr {
namespace ew {

// ---------------------------------------------------------------------------------------------------------
// Row sums shared by the reductions (reduce.cc) and the fused LayerNorm / BatchNorm statistics (fused.cc):
// accumulated in double, as the composed kernels round them. Internal linkage: each unit gets its own clones.

[[maybe_unused]] static LWLR_SIMD double rowSum(const float* __restrict x, int64_t n) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += double(x[i]);
  return s;
}
/** sum_i (x_i - m)^2, each square rounded to float first (as Sub, Square, then Sum would). */
[[maybe_unused]] static LWLR_SIMD double centeredSqRow(const float* __restrict x, float m, int64_t n) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) {
    const float d = x[i] - m;
    const float q = d * d;
    s += double(q);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------------------
// Threading

/** Work units (elements x per-element cost) below which a kernel runs on the calling thread. */
int64_t& parallelThreshold();

/** Number of threads parallelFor uses for n items of `cost` work units each (1 = the calling thread). */
inline int threadsFor(int64_t n, int64_t cost) {
  const int64_t work = n * cost;
  const int64_t thr = parallelThreshold();
  const int nt = omp_get_max_threads();
  if (nt <= 1 || work < thr || n < 2) return 1;
  return int(std::min<int64_t>({int64_t(nt), n, std::max<int64_t>(2, work / std::max<int64_t>(thr / 2, 1))}));
}

/**
 * Calls f(begin, end) over [0, n): on the calling thread when n * cost is below the threshold, otherwise
 * split into contiguous chunks (multiples of 16 elements) over at most omp_get_max_threads() threads, and no
 * more threads than the work justifies.
 */
template <class F>
void parallelFor(int64_t n, int64_t cost, F&& f) {
  if (n <= 0) return;
  const int nt = threadsFor(n, cost);
  if (nt <= 1) {
    f(int64_t(0), n);
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    const int T = omp_get_num_threads();
    const int t = omp_get_thread_num();
    int64_t chunk = (n + T - 1) / T;
    if (chunk >= 256) chunk = (chunk + 15) & ~int64_t(15);  // whole vectors per thread for element loops
    const int64_t b = std::min<int64_t>(n, int64_t(t) * chunk);
    const int64_t e = std::min<int64_t>(n, b + chunk);
    if (b < e) f(b, e);
  }
}

// ---------------------------------------------------------------------------------------------------------
// N-API helpers (zero-copy)

/** Pointer to the first element of a TypedArray (byte offset applied), and its element count. */
inline void* tdata(const Napi::Value& v, size_t* length = nullptr, napi_typedarray_type* type = nullptr) {
  napi_typedarray_type t;
  size_t n = 0;
  void* data = nullptr;
  napi_value ab;
  size_t off;
  napi_status s = napi_get_typedarray_info(v.Env(), v, &t, &n, &data, &ab, &off);
  if (s != napi_ok) throw Napi::TypeError::New(v.Env(), "expected a TypedArray");
  if (length) *length = n;
  if (type) *type = t;
  return data;
}
inline float* f32p(const Napi::Value& v, size_t* n = nullptr) {
  napi_typedarray_type t;
  void* p = tdata(v, n, &t);
  if (t != napi_float32_array) throw Napi::TypeError::New(v.Env(), "expected a Float32Array");
  return static_cast<float*>(p);
}
inline int32_t* i32p(const Napi::Value& v, size_t* n = nullptr) {
  napi_typedarray_type t;
  void* p = tdata(v, n, &t);
  if (t != napi_int32_array) throw Napi::TypeError::New(v.Env(), "expected an Int32Array");
  return static_cast<int32_t*>(p);
}
/** Element size in bytes of a TypedArray type. */
inline int elemSize(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array: case napi_uint8_array: case napi_uint8_clamped_array: return 1;
    case napi_int16_array: case napi_uint16_array: return 2;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: return 4;
    default: return 8;
  }
}
inline std::vector<int64_t> ivec(const Napi::Value& v) {
  auto a = v.As<Napi::Array>();
  const uint32_t n = a.Length();
  std::vector<int64_t> out(n);
  for (uint32_t i = 0; i < n; ++i) out[i] = a.Get(i).As<Napi::Number>().Int64Value();
  return out;
}
inline double num(const Napi::Value& v) { return v.As<Napi::Number>().DoubleValue(); }

// ---------------------------------------------------------------------------------------------------------
// Vectorizable float math. Every function is branch-free (selects), accurate to a few ulp, and propagates
// NaN. Results below FLT_MIN (denormals) are flushed to zero by vexp.

LWLR_INLINE uint32_t bitsOf(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
}
LWLR_INLINE float fromBits(uint32_t u) {
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

/** e^x (Cephes expf polynomial after Cody-Waite reduction; ~1 ulp). */
LWLR_INLINE float vexp(float x) {
  float xc = x < -87.33654f ? -87.33654f : x;
  xc = xc > 88.72283f ? 88.72283f : xc;
  const float k = xc * 1.44269504088896341f + 12582912.f;  // round(x / ln2) in the low mantissa bits
  const float fx = k - 12582912.f;
  const int32_t n = int32_t(bitsOf(k) - 0x4B400000u);
  float r = xc - fx * 0.693359375f;
  r = r + fx * 2.12194440e-4f;
  float p = 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  float y = p * r * r + r + 1.f;
  const int32_t hi = n > 127 ? 1 : 0;  // 2^128 is not a normal float: scale by 2^127 then by 2
  y = y * fromBits(uint32_t(n - hi + 127) << 23);
  y = hi ? y * 2.f : y;
  y = x > 88.72283935546875f ? kInf : y;
  y = x < -87.33654f ? 0.f : y;
  return y;
}

/** e^x - 1, accurate near 0 (Taylor series for |x| < ln2/2, vexp elsewhere). */
LWLR_INLINE float vexpm1(float x) {
  float p = 1.f / 40320.f;
  p = p * x + 1.f / 5040.f;
  p = p * x + 1.f / 720.f;
  p = p * x + 1.f / 120.f;
  p = p * x + 1.f / 24.f;
  p = p * x + 1.f / 6.f;
  p = p * x + 0.5f;
  const float small = p * x * x + x;
  const float big = vexp(x) - 1.f;
  return std::fabs(x) < 0.34657359f ? small : big;
}

/** ln x (Cephes logf; handles 0, negatives, inf, NaN and denormal inputs). */
LWLR_INLINE float vlog(float x) {
  const bool den = x < 1.17549435e-38f;
  const float xs = den ? x * 8388608.f : x;
  const uint32_t b = bitsOf(xs);
  int32_t e = int32_t((b >> 23) & 0xFF) - 126;
  e = den ? e - 23 : e;
  float m = fromBits((b & 0x007FFFFFu) | 0x3F000000u);  // [0.5, 1)
  float ef = float(e);
  const bool lt = m < 0.707106781186547524f;
  ef = lt ? ef - 1.f : ef;
  m = lt ? m + m - 1.f : m - 1.f;
  const float z = m * m;
  float p = 7.0376836292E-2f;
  p = p * m - 1.1514610310E-1f;
  p = p * m + 1.1676998740E-1f;
  p = p * m - 1.2420140846E-1f;
  p = p * m + 1.4249322787E-1f;
  p = p * m - 1.6668057665E-1f;
  p = p * m + 2.0000714765E-1f;
  p = p * m - 2.4999993993E-1f;
  p = p * m + 3.3333331174E-1f;
  float y = p * m * z;
  y = y - 2.12194440e-4f * ef;
  y = y - 0.5f * z;
  float r = m + y + 0.693359375f * ef;
  r = x == 0.f ? -kInf : r;
  r = x < 0.f ? kNaN : r;
  r = x == kInf ? kInf : r;
  r = x != x ? x : r;
  return r;
}

/** ln(1 + u), accurate for small u (the log1p trick with w = 1 + u). */
LWLR_INLINE float vlog1p(float u) {
  const float w = 1.f + u;
  const float d = w - 1.f;
  const float l = vlog(w);
  const float r = d == 0.f ? u : l * (u / d);
  return w == kInf ? kInf : r;
}

/** tanh x (Cephes polynomial for |x| < 0.625, 1 - 2/(e^{2|x|}+1) elsewhere). */
LWLR_INLINE float vtanh(float x) {
  const float ax = std::fabs(x);
  const float z = x * x;
  float p = -5.70498872745E-3f;
  p = p * z + 2.06390887954E-2f;
  p = p * z - 5.37397155531E-2f;
  p = p * z + 1.33314422036E-1f;
  p = p * z - 3.33332819422E-1f;
  const float small = p * z * x + x;
  const float e = vexp(2.f * ax);
  const float big = std::copysign(1.f - 2.f / (e + 1.f), x);
  return ax < 0.625f ? small : big;  // NaN: ax < .625 false, e NaN -> NaN
}

/** 1 / (1 + e^-x), as tfjs computes it. */
LWLR_INLINE float vsigmoid(float x) { return 1.f / (1.f + vexp(-x)); }

/** erf as tfjs-backend-cpu computes it (Abramowitz-Stegun 7.1.26, |error| <= 1.5e-7). */
LWLR_INLINE float verf(float x) {
  const float sgn = x > 0.f ? 1.f : (x < 0.f ? -1.f : 0.f);
  const float v = std::fabs(x);
  const float t = 1.f / (1.f + 0.3275911f * v);
  float p = 1.061405429f;
  p = p * t - 1.453152027f;
  p = p * t + 1.421413741f;
  p = p * t - 0.284496736f;
  p = p * t + 0.254829592f;
  const float r = sgn * (1.f - p * t * vexp(-v * v));
  return x != x ? x : r;
}

/** softplus with tfjs-backend-cpu's thresholds: x above 13.94 -> x, below -13.94 -> e^x. */
LWLR_INLINE float vsoftplus(float x) {
  const float thr = -13.942385152878742f;  // log(FLT_EPSILON) + 2
  const float ex = vexp(x);
  const float mid = vlog1p(ex);
  float r = x < thr ? ex : mid;
  r = x > -thr ? x : r;
  return r;
}

}  // namespace ew
}  // namespace lwlr
