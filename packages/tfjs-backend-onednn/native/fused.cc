// Fused kernels with their own gradients (src/kernels/fused.ts): LayerNorm over the last axis and exact GELU.
// Each replaces a chain of ~10 tfjs kernels whose intermediates the autodiff tape would keep; the gradients
// need only what is saved here (LayerNorm: x and gamma; GELU: x).
//
//   fusedLayerNorm(x, gamma | null, beta | null, eps, C, y, mean | null, rstd | null)
//     per row of C: mean, var = mean((x - mean)^2) (sums in double), rstd = 1 / sqrt(var + eps),
//     y = ((x - mean) * rstd) * gamma + beta; the float operations of tfjs's composition
//     (sub, square, mean, add eps, rsqrt, mul, mul, add), so the same values up to the sum order.
//   fusedLayerNormGrad(dy, x, gamma | null, eps, C, dx, dgamma | null, dbeta | null)
//     mean and rstd recomputed from x as the forward does (one extra read of x instead of two saved tensors);
//     xhat = (x - mean) * rstd, g = dy * gamma:
//     dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) (row means in double),
//     dgamma = sum over rows of dy * xhat, dbeta = sum over rows of dy (double totals).
//   fusedBatchNormTrain(x, gamma | null, beta | null, eps, C, y, mean, var[, residual | null, relu])
//     training-mode BatchNorm over every axis but the last (C channels): mean, biased var = mean((x - mean)^2)
//     (sums in double), y = beta + (x - mean) * (gamma / sqrt(var + eps)) (the factor in double), as tf.moments
//     followed by the FusedBatchNorm kernel compute them. Optionally in the same pass: y += residual (same size
//     as x), then y = max(y, 0) (a ResNet block's BN -> add -> ReLU tail, or BN -> ReLU).
//   fusedBatchNormTrainGrad(dy, x, gamma | null, mean, var, dmean | null, dvar | null, eps, C, dx, dgamma, dbeta
//                           [, y | null, g | null])
//     with M rows, r = 1 / sqrt(var + eps), sums per channel (double) Sdy = sum dy, Sdyx = sum dy (x - mean):
//     dbeta = Sdy, dgamma = r Sdyx,
//     dx = gamma r (dy - Sdy / M - (x - mean) r^2 Sdyx / M) + dmean / M + 2 dvar (x - mean) / M.
//     Given the forward's ReLU output y, dy is first gated by the ReLU (dy where y > 0, else 0); given g, the
//     gated dy is also stored there (the gradient of the residual input).
//   fusedGelu(x, y):          y = x * (0.5 * (1 + erf(x / sqrt 2)))   (tfjs-layers' 'gelu'; erf as the Erf kernel)
//   fusedGeluGrad(dy, x, dx): dx = dy * (Phi(x) + x * exp(-x^2 / 2) / sqrt(2 pi))
#include "addon.h"
#include "ew_common.h"

namespace lwlr {
namespace ew {
namespace {

// ---- LayerNorm --------------------------------------------------------------------------------------------

// mean and 1 / sqrt(var + eps) of one row, as the composition rounds them
inline void lnStats(const float* xr, int64_t C, float eps, float* m, float* rs) {
  *m = float(rowSum(xr, C) / double(C));
  const float var = float(centeredSqRow(xr, *m, C) / double(C));
  *rs = 1.f / std::sqrt(var + eps);
}

LWLR_SIMD void lnRow(const float* __restrict x, float m, float r, const float* __restrict g,
                     const float* __restrict b, float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float t = (x[i] - m) * r;
    y[i] = t * g[i] + b[i];
  }
}

Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  size_t n = 0, ng = 0, nb = 0, ny = 0, nm = 0, nr = 0;
  const float* x = f32p(info[0], &n);
  const bool hasG = !(info[1].IsNull() || info[1].IsUndefined());
  const bool hasB = !(info[2].IsNull() || info[2].IsUndefined());
  const float* gamma = hasG ? f32p(info[1], &ng) : nullptr;
  const float* beta = hasB ? f32p(info[2], &nb) : nullptr;
  const float eps = float(num(info[3]));
  const int64_t C = info[4].As<Napi::Number>().Int64Value();
  float* y = f32p(info[5], &ny);
  float* mean = (info[6].IsNull() || info[6].IsUndefined()) ? nullptr : f32p(info[6], &nm);
  float* rstd = (info[7].IsNull() || info[7].IsUndefined()) ? nullptr : f32p(info[7], &nr);
  if (C < 1 || int64_t(n) % C != 0 || (hasG && int64_t(ng) != C) || (hasB && int64_t(nb) != C) || ny < n ||
      (mean && int64_t(nm) < int64_t(n) / C) || (rstd && int64_t(nr) < int64_t(n) / C)) {
    throw Napi::RangeError::New(env, "fusedLayerNorm: bad sizes");
  }
  const int64_t rows = int64_t(n) / C;
  std::vector<float> ones, zeros;
  if (!hasG) ones.assign(size_t(C), 1.f);
  if (!hasB) zeros.assign(size_t(C), 0.f);
  const float* g = hasG ? gamma : ones.data();
  const float* b = hasB ? beta : zeros.data();
  parallelFor(rows, C * 4, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * C;
      float m, rs;
      lnStats(xr, C, eps, &m, &rs);
      if (mean) mean[r] = m;
      if (rstd) rstd[r] = rs;
      lnRow(xr, m, rs, g, b, y + r * C, C);
    }
  });
  return env.Undefined();
}

// One row of the gradient: returns nothing; accumulates dy * xhat and dy into float partial sums.
LWLR_SIMD void lnGradSums(const float* __restrict dy, const float* __restrict x, const float* __restrict g, float m,
                          float r, double* __restrict out2, int64_t n) {
  double a = 0, c = 0;
#pragma omp simd reduction(+ : a, c)
  for (int64_t i = 0; i < n; ++i) {
    const float xh = (x[i] - m) * r;
    const float gi = dy[i] * g[i];
    a += double(gi);
    c += double(gi * xh);
  }
  out2[0] = a;
  out2[1] = c;
}
LWLR_SIMD void lnGradRow(const float* __restrict dy, const float* __restrict x, const float* __restrict g, float m,
                         float r, float ma, float mc, float* __restrict dx, float* __restrict fdg,
                         float* __restrict fdb, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float xh = (x[i] - m) * r;
    const float d = dy[i];
    dx[i] = r * (d * g[i] - ma - xh * mc);
    fdg[i] += d * xh;
    fdb[i] += d;
  }
}
LWLR_SIMD void lnFlush(double* __restrict s, float* __restrict f, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    s[i] += double(f[i]);
    f[i] = 0.f;
  }
}

Napi::Value LayerNormGrad(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  size_t n = 0, nx = 0, ng = 0, ndx = 0, ndg = 0, ndb = 0;
  const float* dy = f32p(info[0], &n);
  const float* x = f32p(info[1], &nx);
  const bool hasG = !(info[2].IsNull() || info[2].IsUndefined());
  const float* gamma = hasG ? f32p(info[2], &ng) : nullptr;
  const float eps = float(num(info[3]));
  const int64_t C = info[4].As<Napi::Number>().Int64Value();
  float* dx = f32p(info[5], &ndx);
  float* dg = (info[6].IsNull() || info[6].IsUndefined()) ? nullptr : f32p(info[6], &ndg);
  float* db = (info[7].IsNull() || info[7].IsUndefined()) ? nullptr : f32p(info[7], &ndb);
  const int64_t rows = C > 0 ? int64_t(n) / C : 0;
  if (C < 1 || int64_t(n) % C != 0 || nx != n || (hasG && int64_t(ng) != C) || ndx < n ||
      (dg && int64_t(ndg) < C) || (db && int64_t(ndb) < C)) {
    throw Napi::RangeError::New(env, "fusedLayerNormGrad: bad sizes");
  }
  std::vector<float> ones;
  if (!hasG) ones.assign(size_t(C), 1.f);
  const float* g = hasG ? gamma : ones.data();
  const int T = threadsFor(rows, C * 8);
  std::vector<double> part(size_t(T) * 2 * C, 0.0);
  constexpr int64_t kFlush = 16;
  parallelFor(rows, C * 8, [&](int64_t b, int64_t e) {
    const int t = T > 1 ? omp_get_thread_num() : 0;
    double* sdg = part.data() + size_t(t) * 2 * C;
    double* sdb = sdg + C;
    std::vector<float> facc(size_t(2 * C), 0.f);
    float* fdg = facc.data();
    float* fdb = fdg + C;
    const double invC = 1.0 / double(C);
    for (int64_t r0 = b; r0 < e; r0 += kFlush) {
      const int64_t r1 = std::min(e, r0 + kFlush);
      for (int64_t r = r0; r < r1; ++r) {
        const float* dyr = dy + r * C;
        const float* xr = x + r * C;
        float m, rs;
        lnStats(xr, C, eps, &m, &rs);
        double s[2];
        lnGradSums(dyr, xr, g, m, rs, s, C);
        // dx = r * (dy * g - mean(dy * g) - xhat * mean(dy * g * xhat))
        lnGradRow(dyr, xr, g, m, rs, float(s[0] * invC), float(s[1] * invC), dx + r * C, fdg, fdb, C);
      }
      lnFlush(sdg, fdg, C);
      lnFlush(sdb, fdb, C);
    }
  });
  for (int64_t c = 0; c < C; ++c) {
    double a = 0, q = 0;
    for (int t = 0; t < T; ++t) {
      a += part[size_t(t) * 2 * C + c];
      q += part[size_t(t) * 2 * C + C + c];
    }
    if (dg) dg[c] = float(a);
    if (db) db[c] = float(q);
  }
  return env.Undefined();
}

// ---- BatchNorm (training mode) -------------------------------------------------------------------------

// Argument i is present and neither null nor undefined.
inline bool optArg(const Napi::CallbackInfo& info, size_t i) {
  return info.Length() > i && !info[i].IsNull() && !info[i].IsUndefined();
}

// Per-channel sums over rows of C, in parallel: f(row pointer offset, float accumulators) adds one row; the float
// accumulators are flushed into double totals every 16 rows. Returns the totals (k sums of C each).
template <int K, class F>
std::vector<double> channelSums(int64_t rows, int64_t C, int64_t costPerRow, F&& addRow) {
  const int T = threadsFor(rows, costPerRow);
  std::vector<double> part(size_t(T) * K * C, 0.0);
  constexpr int64_t kFlush = 16;
  parallelFor(rows, costPerRow, [&](int64_t b, int64_t e) {
    const int t = T > 1 ? omp_get_thread_num() : 0;
    double* tot = part.data() + size_t(t) * K * C;
    std::vector<float> facc(size_t(K * C), 0.f);
    for (int64_t r0 = b; r0 < e; r0 += kFlush) {
      const int64_t r1 = std::min(e, r0 + kFlush);
      for (int64_t r = r0; r < r1; ++r) addRow(r, facc.data());
      lnFlush(tot, facc.data(), K * C);
    }
  });
  std::vector<double> out(size_t(K * C), 0.0);
  for (int t = 0; t < T; ++t)
    for (int64_t i = 0; i < K * C; ++i) out[i] += part[size_t(t) * K * C + i];
  return out;
}

// Shifted sums of one row: s1 += x - k, s2 += (x - k)^2 (k: a per-channel shift, a sample of the data, so the
// variance S2/M - (S1/M)^2 in double does not cancel catastrophically when the mean is large against the spread).
LWLR_SIMD void bnAccShifted(const float* __restrict x, const float* __restrict k, float* __restrict s1,
                            float* __restrict s2, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float d = x[i] - k[i];
    s1[i] += d;
    s2[i] += d * d;
  }
}
// y = o + (x - m) * a per channel, then (kAdd) + res, then (kRelu) max(., 0)
template <bool kAdd, bool kRelu>
LWLR_SIMD void bnApply(const float* __restrict x, const float* __restrict m, const float* __restrict a,
                       const float* __restrict o, const float* __restrict res, float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    float v = o[i] + (x[i] - m[i]) * a[i];
    if constexpr (kAdd) v = v + res[i];
    if constexpr (kRelu) v = std::max(v, 0.f);
    y[i] = v;
  }
}
// Sums of one row: sdy += d, sdyx += d (x - m), with d = dy, or (kGate) dy gated by the forward's ReLU output y
// (dy where y > 0, else 0), stored in g when kStore.
template <bool kGate, bool kStore>
LWLR_SIMD void bnAccGrad(const float* __restrict dy, const float* __restrict y, const float* __restrict x,
                         const float* __restrict m, float* __restrict sdy, float* __restrict sdyx,
                         float* __restrict g, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    float d = dy[i];
    if constexpr (kGate) d = y[i] > 0.f ? d : 0.f;
    if constexpr (kStore) g[i] = d;
    sdy[i] += d;
    sdyx[i] += d * (x[i] - m[i]);
  }
}
// dx = a * d + b * (x - m) + c per channel, d = dy or (kGate) dy gated by y as in bnAccGrad
template <bool kGate>
LWLR_SIMD void bnGradApply(const float* __restrict dy, const float* __restrict y, const float* __restrict x,
                           const float* __restrict m, const float* __restrict a, const float* __restrict b,
                           const float* __restrict c, float* __restrict dx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    float d = dy[i];
    if constexpr (kGate) d = y[i] > 0.f ? d : 0.f;
    dx[i] = a[i] * d + b[i] * (x[i] - m[i]) + c[i];
  }
}

Napi::Value BatchNormTrain(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  size_t n = 0, ng = 0, nb = 0, ny = 0, nm = 0, nv = 0;
  const float* x = f32p(info[0], &n);
  const bool hasG = !(info[1].IsNull() || info[1].IsUndefined());
  const bool hasB = !(info[2].IsNull() || info[2].IsUndefined());
  const float* gamma = hasG ? f32p(info[1], &ng) : nullptr;
  const float* beta = hasB ? f32p(info[2], &nb) : nullptr;
  const double eps = num(info[3]);
  const int64_t C = info[4].As<Napi::Number>().Int64Value();
  float* y = f32p(info[5], &ny);
  float* mean = f32p(info[6], &nm);
  float* var = f32p(info[7], &nv);
  size_t nr = 0;
  const float* res = optArg(info, 8) ? f32p(info[8], &nr) : nullptr;
  const bool relu = info.Length() > 9 && info[9].ToBoolean().Value();
  if (C < 1 || n == 0 || int64_t(n) % C != 0 || (hasG && int64_t(ng) != C) || (hasB && int64_t(nb) != C) || ny < n ||
      int64_t(nm) < C || int64_t(nv) < C || (res && nr < n)) {
    throw Napi::RangeError::New(env, "fusedBatchNormTrain: bad sizes");
  }
  const int64_t rows = int64_t(n) / C;
  // One pass for both statistics (x is read twice in all, not three times: the layer is memory-bound), with the
  // first row as the shift; float partial sums over 16 rows, double totals.
  const std::vector<float> shift(x, x + C);
  const std::vector<double> s = channelSums<2>(rows, C, C * 2, [&](int64_t r, float* acc) {
    bnAccShifted(x + r * C, shift.data(), acc, acc + C, C);
  });
  std::vector<float> a(static_cast<size_t>(C)), o(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    const double d = s[c] / double(rows);  // mean - shift
    mean[c] = float(double(shift[c]) + d);
    var[c] = float(std::max(0.0, s[C + c] / double(rows) - d * d));
    a[c] = float((hasG ? double(gamma[c]) : 1.0) / std::sqrt(double(var[c]) + eps));
    o[c] = hasB ? beta[c] : 0.f;
  }
  parallelFor(rows, C * 2, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t k = r * C;
      const float* rk = res ? res + k : nullptr;
      if (res && relu) bnApply<true, true>(x + k, mean, a.data(), o.data(), rk, y + k, C);
      else if (res) bnApply<true, false>(x + k, mean, a.data(), o.data(), rk, y + k, C);
      else if (relu) bnApply<false, true>(x + k, mean, a.data(), o.data(), rk, y + k, C);
      else bnApply<false, false>(x + k, mean, a.data(), o.data(), rk, y + k, C);
    }
  });
  return env.Undefined();
}

Napi::Value BatchNormTrainGrad(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  size_t n = 0, nx = 0, ng = 0, nm = 0, nv = 0, ndm = 0, ndv = 0, ndx = 0, ndg = 0, ndb = 0;
  const float* dy = f32p(info[0], &n);
  const float* x = f32p(info[1], &nx);
  const bool hasG = !(info[2].IsNull() || info[2].IsUndefined());
  const float* gamma = hasG ? f32p(info[2], &ng) : nullptr;
  const float* mean = f32p(info[3], &nm);
  const float* var = f32p(info[4], &nv);
  const float* dmean = (info[5].IsNull() || info[5].IsUndefined()) ? nullptr : f32p(info[5], &ndm);
  const float* dvar = (info[6].IsNull() || info[6].IsUndefined()) ? nullptr : f32p(info[6], &ndv);
  const double eps = num(info[7]);
  const int64_t C = info[8].As<Napi::Number>().Int64Value();
  float* dx = f32p(info[9], &ndx);
  float* dg = f32p(info[10], &ndg);
  float* db = f32p(info[11], &ndb);
  size_t nyr = 0, ngo = 0;
  const float* yRelu = optArg(info, 12) ? f32p(info[12], &nyr) : nullptr;
  float* gOut = optArg(info, 13) ? f32p(info[13], &ngo) : nullptr;
  if (C < 1 || n == 0 || int64_t(n) % C != 0 || nx != n || (hasG && int64_t(ng) != C) || int64_t(nm) < C ||
      int64_t(nv) < C || (dmean && int64_t(ndm) < C) || (dvar && int64_t(ndv) < C) || ndx < n || int64_t(ndg) < C ||
      int64_t(ndb) < C || (yRelu && nyr < n) || (gOut && (ngo < n || !yRelu))) {
    throw Napi::RangeError::New(env, "fusedBatchNormTrainGrad: bad sizes");
  }
  const int64_t rows = int64_t(n) / C;
  const std::vector<double> s = channelSums<2>(rows, C, C * 3, [&](int64_t r, float* acc) {
    const int64_t k = r * C;
    const float* yk = yRelu ? yRelu + k : nullptr;
    if (gOut) bnAccGrad<true, true>(dy + k, yk, x + k, mean, acc, acc + C, gOut + k, C);
    else if (yRelu) bnAccGrad<true, false>(dy + k, yk, x + k, mean, acc, acc + C, nullptr, C);
    else bnAccGrad<false, false>(dy + k, yk, x + k, mean, acc, acc + C, nullptr, C);
  });
  std::vector<float> a(static_cast<size_t>(C)), b(static_cast<size_t>(C)), c0(static_cast<size_t>(C));
  const double M = double(rows);
  for (int64_t c = 0; c < C; ++c) {
    const double r = 1.0 / std::sqrt(double(var[c]) + eps);
    const double g = hasG ? double(gamma[c]) : 1.0;
    const double sdy = s[c], sdyx = s[C + c];
    db[c] = float(sdy);
    dg[c] = float(sdyx * r);
    a[c] = float(g * r);
    b[c] = float(-g * r * r * r * sdyx / M + (dvar ? 2.0 * double(dvar[c]) / M : 0.0));
    c0[c] = float(-g * r * sdy / M + (dmean ? double(dmean[c]) / M : 0.0));
  }
  // the gated dy: read back from g where it was stored, else gated again on the fly
  parallelFor(rows, C * 3, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const int64_t k = r * C;
      if (gOut) bnGradApply<false>(gOut + k, nullptr, x + k, mean, a.data(), b.data(), c0.data(), dx + k, C);
      else if (yRelu) bnGradApply<true>(dy + k, yRelu + k, x + k, mean, a.data(), b.data(), c0.data(), dx + k, C);
      else bnGradApply<false>(dy + k, nullptr, x + k, mean, a.data(), b.data(), c0.data(), dx + k, C);
    }
  });
  return env.Undefined();
}

// ---- GELU -------------------------------------------------------------------------------------------------

constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;

LWLR_SIMD void geluFwd(const float* __restrict x, float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    y[i] = v * (0.5f * (1.f + verf(v * kInvSqrt2)));
  }
}
LWLR_SIMD void geluBwd(const float* __restrict dy, const float* __restrict x, float* __restrict dx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float cdf = 0.5f * (1.f + verf(v * kInvSqrt2));
    const float pdf = vexp(-0.5f * v * v) * kInvSqrt2Pi;
    dx[i] = dy[i] * (cdf + v * pdf);
  }
}

Napi::Value Gelu(const Napi::CallbackInfo& info) {
  size_t n = 0, ny = 0;
  const float* x = f32p(info[0], &n);
  float* y = f32p(info[1], &ny);
  if (ny < n) throw Napi::RangeError::New(info.Env(), "fusedGelu: output too small");
  parallelFor(int64_t(n), 10, [&](int64_t b, int64_t e) { geluFwd(x + b, y + b, e - b); });
  return info.Env().Undefined();
}

Napi::Value GeluGrad(const Napi::CallbackInfo& info) {
  size_t n = 0, nx = 0, nd = 0;
  const float* dy = f32p(info[0], &n);
  const float* x = f32p(info[1], &nx);
  float* dx = f32p(info[2], &nd);
  if (nx != n || nd < n) throw Napi::RangeError::New(info.Env(), "fusedGeluGrad: bad sizes");
  parallelFor(int64_t(n), 16, [&](int64_t b, int64_t e) { geluBwd(dy + b, x + b, dx + b, e - b); });
  return info.Env().Undefined();
}

}  // namespace

LWLR_EXPORT("fusedLayerNorm", LayerNorm);
LWLR_EXPORT("fusedLayerNormGrad", LayerNormGrad);
LWLR_EXPORT("fusedBatchNormTrain", BatchNormTrain);
LWLR_EXPORT("fusedBatchNormTrainGrad", BatchNormTrainGrad);
LWLR_EXPORT("fusedGelu", Gelu);
LWLR_EXPORT("fusedGeluGrad", GeluGrad);

}  // namespace ew
}  // namespace lwlr
