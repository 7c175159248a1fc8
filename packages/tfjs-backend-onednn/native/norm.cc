// Inference-mode batch normalization as tfjs's FusedBatchNorm kernel defines it:
//   out[i] = offset[i % Lo] + (x[i] - mean[i % Lm]) * scale[i % Ls] / sqrt(variance[i % Lv] + eps)
// (each parameter cycles with its own length; BatchNormalization passes per-channel [C] parameters,
// LayerNormalization full-size mean/variance and per-channel scale/offset).
//
//   ewBatchNorm(x, mean, variance, offset | null, scale | null, eps, out)
//
// When every parameter length is 1, C or N (x's size) for one C dividing N, the kernel walks rows of C with
// contiguous pointers (C-periodic parameters reuse the same row, scalars are expanded once); other length
// combinations take a modular loop.
#include "addon.h"
#include "ew_common.h"

namespace lwlr {
namespace ew {
namespace {

LWLR_SIMD void bnRow(const float* __restrict x, const float* __restrict m, const float* __restrict v,
                     const float* __restrict o, const float* __restrict s, float eps, float* __restrict y,
                     int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = o[i] + (x[i] - m[i]) * s[i] / std::sqrt(v[i] + eps);
}

Napi::Value BatchNorm(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  size_t n = 0, no = 0;
  const float* x = f32p(info[0], &n);
  struct P {
    const float* p;
    int64_t len;
  } prm[4];  // mean, variance, offset, scale
  static const float kZero = 0.f, kOne = 1.f;
  for (int i = 0; i < 4; ++i) {
    const Napi::Value v = info[1 + i];
    if (v.IsNull() || v.IsUndefined()) {
      prm[i] = {i == 3 ? &kOne : &kZero, 1};
    } else {
      size_t l = 0;
      prm[i].p = f32p(v, &l);
      prm[i].len = int64_t(l);
      if (l == 0) throw Napi::RangeError::New(env, "ewBatchNorm: empty parameter");
    }
  }
  const float eps = float(num(info[5]));
  float* y = f32p(info[6], &no);
  if (no < n) throw Napi::RangeError::New(env, "ewBatchNorm: output too small");
  const int64_t N = int64_t(n);
  if (N == 0) return env.Undefined();
  int64_t C = 0;
  bool regular = true;
  for (const P& q : prm) {
    if (q.len == 1 || q.len == N) continue;
    if (C == 0) C = q.len;
    else if (C != q.len) regular = false;
  }
  if (C == 0) C = N;  // only scalars and full-size parameters
  if (N % C != 0) regular = false;
  for (const P& q : prm) if (q.len != 1 && q.len != N && q.len != C) regular = false;
  if (!regular) {
    parallelFor(N, 4, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        y[i] = prm[2].p[i % prm[2].len] +
               (x[i] - prm[0].p[i % prm[0].len]) * prm[3].p[i % prm[3].len] / std::sqrt(prm[1].p[i % prm[1].len] + eps);
      }
    });
    return env.Undefined();
  }
  // Expand scalar parameters to C-long rows (once).
  std::vector<float> expanded[4];
  const float* base[4];
  bool full[4];
  for (int i = 0; i < 4; ++i) {
    full[i] = prm[i].len == N && N != C;
    if (prm[i].len == 1 && C > 1) {
      expanded[i].assign(size_t(C), prm[i].p[0]);
      base[i] = expanded[i].data();
    } else {
      base[i] = prm[i].p;
    }
  }
  const int64_t rows = N / C;
  auto row = [&](int64_t r, int64_t c0, int64_t c1) {
    const int64_t off = r * C;
    const float* p[4];
    for (int i = 0; i < 4; ++i) p[i] = base[i] + (full[i] ? off : 0) + c0;
    bnRow(x + off + c0, p[0], p[1], p[2], p[3], eps, y + off + c0, c1 - c0);
  };
  if (rows == 1) {
    parallelFor(C, 4, [&](int64_t b, int64_t e) { row(0, b, e); });
  } else {
    parallelFor(rows, C * 4, [&](int64_t b, int64_t e) { for (int64_t r = b; r < e; ++r) row(r, 0, C); });
  }
  return env.Undefined();
}

}  // namespace

LWLR_EXPORT("ewBatchNorm", BatchNorm);

}  // namespace ew
}  // namespace lwlr
