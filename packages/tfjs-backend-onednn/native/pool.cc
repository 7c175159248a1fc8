// 2-D pooling, NHWC: MaxPool / AvgPool forward and AvgPoolGrad on oneDNN's pooling primitives; MaxPoolGrad
// as a direct vectorized loop with tfjs's exact semantics (gradient to the FIRST maximum of each window in row-major
// window order, NaN ignored), which oneDNN's workspace-based backward does not promise and which would need
// the forward's workspace (tfjs does not keep it).
//
// tfjs semantics matched: AvgPool divides by the number of input pixels in the window (exclude padding);
// AvgPoolGrad multiplies by 1 / (KH * KW) (include padding), as the cpu kernel does.
//
// Parameter array p: [N, IH, IW, C, OH, OW, KH, KW, SH, SW, PT, PL, PB, PR]
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "dnnl-cache.h"

namespace lwlr {
namespace mm {

namespace {

struct PoolParams {
  int64_t N, IH, IW, C, OH, OW, KH, KW, SH, SW, PT, PL, PB, PR;
};

PoolParams parsePool(const Napi::Value& v) {
  std::vector<int64_t> p = dims(v);
  if (p.size() != 14) throw std::runtime_error("pool: expected 14 parameters");
  return PoolParams{p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13]};
}

void keyOf(Key& k, const PoolParams& c) {
  k << c.N << c.IH << c.IW << c.C << c.OH << c.OW << c.KH << c.KW << c.SH << c.SW << c.PT << c.PL << c.PB << c.PR;
}

dnnl::pooling_forward::desc poolDesc(const PoolParams& c, dnnl::algorithm alg, dnnl::prop_kind pk) {
  memory::desc src({c.N, c.C, c.IH, c.IW}, dt::f32, tag::nhwc), dst({c.N, c.C, c.OH, c.OW}, dt::f32, tag::nhwc);
  return dnnl::pooling_forward::desc(pk, alg, src, dst, {c.SH, c.SW}, {c.KH, c.KW}, {c.PT, c.PL}, {c.PB, c.PR});
}

struct PoolFwdEntry {
  dnnl::pooling_forward prim;
  memory src, dst;
  std::string impl;
};

struct PoolBwdEntry {
  dnnl::pooling_backward prim;
  memory diffDst, diffSrc;
  std::string impl;
};

}  // namespace

// pool2d(x, y, p, isMax) -> implementation name
static Napi::Value Pool2d(const Napi::CallbackInfo& info) {
  return guarded(info, "pool2d", [&]() -> Napi::Value {
    static LruCache<PoolFwdEntry> cache(cacheCapacity());
    float* X = f32(info[0]);
    float* Y = f32(info[1]);
    PoolParams c = parsePool(info[2]);
    bool isMax = info[3].ToBoolean().Value();
    Key key(isMax ? "pmax:" : "pavg:");
    keyOf(key, c);
    auto e = cache.get(key.s);
    if (!e) {
      e = std::make_shared<PoolFwdEntry>();
      auto alg = isMax ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_exclude_padding;
      dnnl::pooling_forward::primitive_desc pd(poolDesc(c, alg, dnnl::prop_kind::forward_inference), cpuEngine());
      e->prim = dnnl::pooling_forward(pd);
      e->src = memory(pd.src_desc(), cpuEngine(), DNNL_MEMORY_NONE);
      e->dst = memory(pd.dst_desc(), cpuEngine(), DNNL_MEMORY_NONE);
      e->impl = pd.impl_info_str();
      cache.put(key.s, e);
    }
    e->src.set_data_handle(X);
    e->dst.set_data_handle(Y);
    e->prim.execute(cpuStream(), {{DNNL_ARG_SRC, e->src}, {DNNL_ARG_DST, e->dst}});
    cpuStream().wait();
    return Napi::String::New(info.Env(), e->impl);
  });
}

// avgPoolGrad(dy, dx, p) -> implementation name
static Napi::Value AvgPoolGrad(const Napi::CallbackInfo& info) {
  return guarded(info, "avgPoolGrad", [&]() -> Napi::Value {
    static LruCache<PoolBwdEntry> cache(cacheCapacity());
    float* DY = f32(info[0]);
    float* DX = f32(info[1]);
    PoolParams c = parsePool(info[2]);
    Key key("pavgb:");
    keyOf(key, c);
    auto e = cache.get(key.s);
    if (!e) {
      e = std::make_shared<PoolBwdEntry>();
      auto alg = dnnl::algorithm::pooling_avg_include_padding;
      auto fd = poolDesc(c, alg, dnnl::prop_kind::forward_training);
      dnnl::pooling_forward::primitive_desc hint(fd, cpuEngine());
      memory::desc dsrc({c.N, c.C, c.IH, c.IW}, dt::f32, tag::nhwc), ddst({c.N, c.C, c.OH, c.OW}, dt::f32, tag::nhwc);
      dnnl::pooling_backward::desc bd(alg, dsrc, ddst, {c.SH, c.SW}, {c.KH, c.KW}, {c.PT, c.PL}, {c.PB, c.PR});
      dnnl::pooling_backward::primitive_desc pd(bd, cpuEngine(), hint);
      e->prim = dnnl::pooling_backward(pd);
      e->diffDst = memory(ddst, cpuEngine(), DNNL_MEMORY_NONE);
      e->diffSrc = memory(dsrc, cpuEngine(), DNNL_MEMORY_NONE);
      e->impl = pd.impl_info_str();
      cache.put(key.s, e);
    }
    e->diffDst.set_data_handle(DY);
    e->diffSrc.set_data_handle(DX);
    e->prim.execute(cpuStream(), {{DNNL_ARG_DIFF_DST, e->diffDst}, {DNNL_ARG_DIFF_SRC, e->diffSrc}});
    cpuStream().wait();
    return Napi::String::New(info.Env(), e->impl);
  });
}

// maxPoolGrad(x, dy, dx, p): dx = 0; for each output (n, oh, ow, c): dx[first argmax of the window] += dy.
// Two vectorized passes per window over the channel vector (NHWC): the maximum (NaN ignored, as tfjs's
// `pixel > max`), then the window positions in row-major order, giving dy to the first equal to the maximum
// (tfjs's first strict maximum); a window whose maximum is -Infinity gives nothing (tfjs: position -1).
// Parallel over (image, channel block): blocks are disjoint in dx, so the scatter has no races.
// Compiled for AVX-512, AVX2 and baseline x86-64, chosen at load time (the addon is built without -march).
__attribute__((target_clones("avx512f", "avx2", "default"))) static void maxPoolGradLoop(const float* X,
                                                                                         const float* DY, float* DX,
                                                                                         const PoolParams c) {
  constexpr int64_t CB = 64;
  const int64_t nCb = (c.C + CB - 1) / CB;
  const int64_t tasks = c.N * nCb;
  const int64_t HWC = c.IH * c.IW * c.C;
  const float ninf = -std::numeric_limits<float>::infinity();
#pragma omp parallel for schedule(static) if (tasks > 1 && c.N * HWC > 32768)
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t n = t / nCb, c0 = (t % nCb) * CB, cb = std::min(CB, c.C - c0);
    const float* x = X + n * HWC + c0;
    float* dx = DX + n * HWC + c0;
    const float* dy = DY + n * c.OH * c.OW * c.C + c0;
    for (int64_t p = 0; p < c.IH * c.IW; ++p) std::fill(dx + p * c.C, dx + p * c.C + cb, 0.f);
    float best[CB], pend[CB];
    for (int64_t oh = 0; oh < c.OH; ++oh) {
      const int64_t r0 = oh * c.SH - c.PT;
      const int64_t rMin = std::max<int64_t>(r0, 0), rMax = std::min<int64_t>(c.IH, r0 + c.KH);
      for (int64_t ow = 0; ow < c.OW; ++ow) {
        const int64_t q0 = ow * c.SW - c.PL;
        const int64_t qMin = std::max<int64_t>(q0, 0), qMax = std::min<int64_t>(c.IW, q0 + c.KW);
        for (int64_t k = 0; k < cb; ++k) best[k] = ninf;
        for (int64_t r = rMin; r < rMax; ++r)
          for (int64_t q = qMin; q < qMax; ++q) {
            const float* xp = x + (r * c.IW + q) * c.C;
            for (int64_t k = 0; k < cb; ++k) best[k] = xp[k] > best[k] ? xp[k] : best[k];
          }
        const float* dyp = dy + (oh * c.OW + ow) * c.C;
        for (int64_t k = 0; k < cb; ++k) pend[k] = best[k] > ninf ? dyp[k] : 0.f;
        for (int64_t r = rMin; r < rMax; ++r)
          for (int64_t q = qMin; q < qMax; ++q) {
            const float* xp = x + (r * c.IW + q) * c.C;
            float* dxp = dx + (r * c.IW + q) * c.C;
            for (int64_t k = 0; k < cb; ++k) {
              const bool hit = xp[k] == best[k];
              dxp[k] += hit ? pend[k] : 0.f;
              pend[k] = hit ? 0.f : pend[k];
            }
          }
      }
    }
  }
}

static Napi::Value MaxPoolGrad(const Napi::CallbackInfo& info) {
  return guarded(info, "maxPoolGrad", [&]() -> Napi::Value {
    const PoolParams c = parsePool(info[3]);
    maxPoolGradLoop(f32(info[0]), f32(info[1]), f32(info[2]), c);
    return info.Env().Undefined();
  });
}

LWLR_EXPORT("pool2d", Pool2d);
LWLR_EXPORT("avgPoolGrad", AvgPoolGrad);
LWLR_EXPORT("maxPoolGrad", MaxPoolGrad);

}  // namespace mm
}  // namespace lwlr
