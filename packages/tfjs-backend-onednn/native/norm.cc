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

LWLR_SIMD void bnCoef(const float* __restrict v, const float* __restrict s, float eps, float* __restrict a, int64_t n) {
  for (int64_t i = 0; i < n; ++i) a[i] = s[i] / __builtin_sqrtf(v[i] + eps);
}

LWLR_SIMD void bnRowA(const float* __restrict x, const float* __restrict m, const float* __restrict a,
                      const float* __restrict o, float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = o[i] + (x[i] - m[i]) * a[i];
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
  // y = offset + (x - mean) * a with a = scale / sqrt(variance + eps): when neither variance nor scale is
  // full-size, a is one C-long row computed once (in double; the division and square root leave the
  // per-element loop, which becomes a vectorized subtract and fused multiply-add); otherwise a is computed
  // per row. Scalars are expanded to C-long rows once.
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
  const bool rowA = full[1] || full[3];
  std::vector<float> a0;
  if (!rowA) {
    a0.resize(size_t(C));
    for (int64_t c = 0; c < C; ++c) a0[c] = float(double(base[3][c]) / std::sqrt(double(base[1][c]) + double(eps)));
  }
  const int64_t rows = N / C;
  auto row = [&](int64_t r, int64_t c0, int64_t c1, float* scratch) {
    const int64_t off = r * C;
    const float* p[4];
    for (int i = 0; i < 4; ++i) p[i] = base[i] + (full[i] ? off : 0) + c0;
    const float* a = a0.data() + c0;
    if (rowA) {
      bnCoef(p[1], p[3], eps, scratch, c1 - c0);
      a = scratch;
    }
    bnRowA(x + off + c0, p[0], a, p[2], y + off + c0, c1 - c0);
  };
  if (rows == 1) {
    parallelFor(C, 4, [&](int64_t b, int64_t e) {
      std::vector<float> scratch(rowA ? size_t(e - b) : 0);
      row(0, b, e, scratch.data());
    });
  } else {
    parallelFor(rows, C * 4, [&](int64_t b, int64_t e) {
      std::vector<float> scratch(rowA ? size_t(C) : 0);
      for (int64_t r = b; r < e; ++r) row(r, 0, C, scratch.data());
    });
  }
  return env.Undefined();
}

// ---- gradient -------------------------------------------------------------------------------------------
// One pass for the gradients of FusedBatchNorm with respect to x, mean, variance, scale and offset, for
// parameters of one length L that is either x's last dimension (per-channel: the four parameter gradients
// are sums over the other dims) or x's size (full-size, as LayerNormalization's tiled ones: all elementwise).
// With rs = 1/sqrt(var + eps), s = scale (or 1), xm = x - mean:
//   dx = dy*rs*s, dmean = -rs*s*dy, dvar = -0.5*rs^3*s*xm*dy, dscale = rs*xm*dy, doffset = dy
// (summed per channel in the per-channel case; sums accumulate in double).
//
//   ewBatchNormGrad(dy, x, mean, variance, scale | null, eps, dx, dmean, dvar, dscale | null, doffset | null)

// Per-channel rows: dx, and float partial sums of dy and dy*(x - mean) over a block of rows (flushed into
// double accumulators every kFlush rows: vector float FMAs in the loop, double-accurate totals).
LWLR_SIMD void bnGradRow(const float* __restrict dy, const float* __restrict x, const float* __restrict m,
                         const float* __restrict a, float* __restrict dx, float* __restrict fdy,
                         float* __restrict fdyxm, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = dy[i];
    dx[i] = g * a[i];
    fdy[i] += g;
    fdyxm[i] += g * (x[i] - m[i]);
  }
}
LWLR_SIMD void bnGradFlush(double* __restrict sdy, double* __restrict sdyxm, float* __restrict fdy,
                           float* __restrict fdyxm, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    sdy[i] += double(fdy[i]);
    sdyxm[i] += double(fdyxm[i]);
    fdy[i] = 0.f;
    fdyxm[i] = 0.f;
  }
}

LWLR_SIMD void bnGradFull(const float* __restrict dy, const float* __restrict x, const float* __restrict m,
                          const float* __restrict v, const float* __restrict s, float eps, float* __restrict dx,
                          float* __restrict dm, float* __restrict dv, float* __restrict ds, float* __restrict dof,
                          bool hasScale, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = dy[i];
    const float r = 1.f / std::sqrt(v[i] + eps);
    const float sc = hasScale ? s[i] : 1.f;
    const float xm = x[i] - m[i];
    const float gs = g * sc;
    dx[i] = g * r * sc;
    dm[i] = -r * gs;
    dv[i] = -0.5f * r * r * r * xm * gs;
    if (ds) ds[i] = g * (xm * r);
    if (dof) dof[i] = g;
  }
}

Napi::Value BatchNormGrad(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  size_t n = 0, nx = 0, L = 0, lv = 0, ls = 0, ndx = 0, ndm = 0, ndv = 0, nds = 0, ndo = 0;
  const float* dy = f32p(info[0], &n);
  const float* x = f32p(info[1], &nx);
  const float* mean = f32p(info[2], &L);
  const float* var = f32p(info[3], &lv);
  const bool hasScale = !(info[4].IsNull() || info[4].IsUndefined());
  const float* scale = hasScale ? f32p(info[4], &ls) : nullptr;
  const float eps = float(num(info[5]));
  float* dx = f32p(info[6], &ndx);
  float* dm = f32p(info[7], &ndm);
  float* dv = f32p(info[8], &ndv);
  float* ds = (info[9].IsNull() || info[9].IsUndefined()) ? nullptr : f32p(info[9], &nds);
  float* dof = (info[10].IsNull() || info[10].IsUndefined()) ? nullptr : f32p(info[10], &ndo);
  if (L == 0 || nx != n || lv != L || (hasScale && ls != L) || n % L != 0 || ndx < n || ndm < L || ndv < L ||
      (ds && nds < L) || (dof && ndo < L)) {
    throw Napi::RangeError::New(env, "ewBatchNormGrad: bad arguments");
  }
  const int64_t N = int64_t(n), C = int64_t(L);
  if (C == N) {
    parallelFor(N, 6, [&](int64_t b, int64_t e) {
      bnGradFull(dy + b, x + b, mean + b, var + b, hasScale ? scale + b : nullptr, eps, dx + b, dm + b, dv + b,
                 ds ? ds + b : nullptr, dof ? dof + b : nullptr, hasScale, e - b);
    });
    return env.Undefined();
  }
  std::vector<float> rs(static_cast<size_t>(C)), sc(static_cast<size_t>(C), 1.f), rss(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    rs[c] = 1.f / std::sqrt(var[c] + eps);
    if (hasScale) sc[c] = scale[c];
    rss[c] = rs[c] * sc[c];  // dx = dy * rs * s, as (dy * rs) * s rounds: within a float ulp
  }
  const int64_t rows = N / C;
  const int T = threadsFor(rows, C * 3);
  std::vector<double> part(size_t(T) * 2 * C, 0.0);
  constexpr int64_t kFlush = 16;
  parallelFor(rows, C * 3, [&](int64_t b, int64_t e) {
    const int t = T > 1 ? omp_get_thread_num() : 0;
    double* sdy = part.data() + size_t(t) * 2 * C;
    double* sdyxm = sdy + C;
    std::vector<float> facc(size_t(2 * C), 0.f);
    float* fdy = facc.data();
    float* fdyxm = fdy + C;
    for (int64_t r0 = b; r0 < e; r0 += kFlush) {
      const int64_t r1 = std::min(e, r0 + kFlush);
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t off = r * C;
        bnGradRow(dy + off, x + off, mean, rss.data(), dx + off, fdy, fdyxm, C);
      }
      bnGradFlush(sdy, sdyxm, fdy, fdyxm, C);
    }
  });
  for (int64_t c = 0; c < C; ++c) {
    double a = 0, q = 0;
    for (int t = 0; t < T; ++t) {
      a += part[size_t(t) * 2 * C + c];
      q += part[size_t(t) * 2 * C + C + c];
    }
    const double r = rs[c], s = sc[c];
    dm[c] = float(-r * s * a);
    dv[c] = float(-0.5 * r * r * r * s * q);
    if (ds) ds[c] = float(r * q);
    if (dof) dof[c] = float(a);
  }
  return env.Undefined();
}


// ---- gradient of (x - m)^2 with x - m never written ----------------------------------------------------
// ewSquareGradCentered(dy, dyFull, x, m, outer, r, inner, out): out[o, j, k] = g * ((x[o, j, k] - m[o, k]) * 2)
// with g = dy[o, j, k] (dyFull) or dy[o, k]; the same float operations as Sub then LwlrSquareGrad.
LWLR_SIMD void sqGradC(const float* __restrict g, int64_t gStride, const float* __restrict x,
                       const float* __restrict m, float* __restrict y, int64_t rows, int64_t inner) {
  for (int64_t j = 0; j < rows; ++j, x += inner, y += inner, g += gStride)
    for (int64_t k = 0; k < inner; ++k) {
      const float d = x[k] - m[k];
      y[k] = g[k] * (d * 2.f);
    }
}
LWLR_SIMD void sqGradCRow(const float* __restrict g, bool gFull, const float* __restrict x, float m,
                          float* __restrict y, int64_t n) {
  if (gFull) {
    for (int64_t i = 0; i < n; ++i) y[i] = g[i] * ((x[i] - m) * 2.f);
  } else {
    const float gv = g[0];
    for (int64_t i = 0; i < n; ++i) y[i] = gv * ((x[i] - m) * 2.f);
  }
}

Napi::Value SquareGradCentered(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  size_t ng = 0, nx = 0, nm = 0, no = 0;
  const float* g = f32p(info[0], &ng);
  const bool gFull = info[1].ToBoolean().Value();
  const float* x = f32p(info[2], &nx);
  const float* m = f32p(info[3], &nm);
  const int64_t outer = info[4].As<Napi::Number>().Int64Value();
  const int64_t r = info[5].As<Napi::Number>().Int64Value();
  const int64_t inner = info[6].As<Napi::Number>().Int64Value();
  float* y = f32p(info[7], &no);
  const int64_t n = outer * r * inner;
  if (outer < 1 || r < 1 || inner < 1 || int64_t(nx) < n || int64_t(no) < n || int64_t(nm) < outer * inner ||
      int64_t(ng) < (gFull ? n : outer * inner)) {
    throw Napi::RangeError::New(env, "ewSquareGradCentered: bad sizes");
  }
  if (inner == 1) {
    // rows of r elements, one m (and one g unless full) per row
    parallelFor(outer, r * 2, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o)
        sqGradCRow(gFull ? g + o * r : g + o, gFull, x + o * r, m[o], y + o * r, r);
    });
    return env.Undefined();
  }
  // blocks of rows of `inner` elements
  parallelFor(outer * r, inner * 2, [&](int64_t b, int64_t e) {
    int64_t i = b;
    while (i < e) {
      const int64_t o = i / r, j = i % r;
      const int64_t rows = std::min(e - i, r - j);
      const int64_t off = (o * r + j) * inner;
      sqGradC(gFull ? g + off : g + o * inner, gFull ? inner : 0, x + off, m + o * inner, y + off, rows, inner);
      i += rows;
    }
  });
  return env.Undefined();
}

}  // namespace

LWLR_EXPORT("ewBatchNorm", BatchNorm);
LWLR_EXPORT("ewBatchNormGrad", BatchNormGrad);
LWLR_EXPORT("ewSquareGradCentered", SquareGradCentered);

}  // namespace ew
}  // namespace lwlr
