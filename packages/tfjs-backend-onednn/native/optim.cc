// Fused optimizer updates: one pass over each parameter tensor, reading param/grad/state once and writing
// the new param/state once (PyTorch 1.13 semantics, see src/kernels/optim.ts for the kernel contract).
//
//   ewSgdStep(param, grad, buf | null, outParam, outBuf | null,
//             lr, momentum, dampening, nesterov, weightDecay, firstStep)
//   ewAdamWStep(param, grad, m, v, vmax | null, outParam, outM, outV, outVmax | null,
//               lr, beta1, beta2, eps, weightDecay, step, amsgrad)
#include "addon.h"
#include "ew_common.h"

namespace lwlr {
namespace ew {
namespace {

template <bool kWd, bool kMom, bool kNesterov, bool kFirst>
LWLR_SIMD void sgdLoop(const float* __restrict p, const float* __restrict g, const float* __restrict buf,
                       float* __restrict op, float* __restrict ob, int64_t n, float lr, float mom, float damp1,
                       float wd) {
  for (int64_t i = 0; i < n; ++i) {
    float d = g[i];
    if (kWd) d = d + wd * p[i];
    if (kMom) {
      const float b = kFirst ? d : mom * buf[i] + damp1 * d;
      ob[i] = b;
      d = kNesterov ? d + mom * b : b;
    }
    op[i] = p[i] - lr * d;
  }
}

using SgdFn = void (*)(const float*, const float*, const float*, float*, float*, int64_t, float, float, float, float);

template <int I>
SgdFn sgdPick() {
  return sgdLoop<bool(I & 1), bool(I & 2), bool(I & 4), bool(I & 8)>;
}
SgdFn sgdTable(int i) {
  static const SgdFn t[16] = {sgdPick<0>(),  sgdPick<1>(),  sgdPick<2>(),  sgdPick<3>(),
                              sgdPick<4>(),  sgdPick<5>(),  sgdPick<6>(),  sgdPick<7>(),
                              sgdPick<8>(),  sgdPick<9>(),  sgdPick<10>(), sgdPick<11>(),
                              sgdPick<12>(), sgdPick<13>(), sgdPick<14>(), sgdPick<15>()};
  return t[i];
}

Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  size_t n = 0, ng = 0, nb = 0, nop = 0, nob = 0;
  const float* p = f32p(info[0], &n);
  const float* g = f32p(info[1], &ng);
  const bool hasBuf = !(info[2].IsNull() || info[2].IsUndefined());
  const float* buf = hasBuf ? f32p(info[2], &nb) : nullptr;
  float* op = f32p(info[3], &nop);
  const bool hasOutBuf = !(info[4].IsNull() || info[4].IsUndefined());
  float* ob = hasOutBuf ? f32p(info[4], &nob) : nullptr;
  const float lr = float(num(info[5])), mom = float(num(info[6])), damp = float(num(info[7]));
  const bool nesterov = info[8].ToBoolean();
  const float wd = float(num(info[9]));
  const bool first = info[10].ToBoolean();
  const bool useMom = mom != 0.f;
  if (ng < n || nop < n || (useMom && (!hasOutBuf || nob < n)) || (useMom && !first && (!hasBuf || nb < n))) {
    throw Napi::RangeError::New(env, "ewSgdStep: bad arguments");
  }
  const int idx = (wd != 0.f ? 1 : 0) | (useMom ? 2 : 0) | (useMom && nesterov ? 4 : 0) | (useMom && first ? 8 : 0);
  const SgdFn fn = sgdTable(idx);
  const float damp1 = float(1.0 - double(damp));
  parallelFor(int64_t(n), 4, [&](int64_t b, int64_t e) {
    fn(p + b, g + b, buf ? buf + b : nullptr, op + b, ob ? ob + b : nullptr, e - b, lr, mom, damp1, wd);
  });
  return env.Undefined();
}

template <bool kAms>
LWLR_SIMD void adamLoop(const float* __restrict p, const float* __restrict g, const float* __restrict m,
                        const float* __restrict v, const float* __restrict vmax, float* __restrict op,
                        float* __restrict om, float* __restrict ov, float* __restrict ovmax, int64_t n,
                        float decay, float b1, float b1c, float b2, float b2c, float invBc2Sqrt, float eps,
                        float stepSize) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i];
    const float pi = p[i] * decay;
    const float mi = b1 * m[i] + b1c * gi;
    const float vi = b2 * v[i] + b2c * (gi * gi);
    om[i] = mi;
    ov[i] = vi;
    float vd = vi;
    if (kAms) {
      const float vm = vmax[i];
      vd = vm > vi ? vm : vi;
      ovmax[i] = vd;
    }
    const float denom = std::sqrt(vd) * invBc2Sqrt + eps;
    op[i] = pi - stepSize * (mi / denom);
  }
}

Napi::Value AdamWStep(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  size_t n = 0, ng = 0, nm = 0, nv = 0, nvm = 0, n1 = 0, n2 = 0, n3 = 0, n4 = 0;
  const float* p = f32p(info[0], &n);
  const float* g = f32p(info[1], &ng);
  const float* m = f32p(info[2], &nm);
  const float* v = f32p(info[3], &nv);
  const bool ams = info[15].ToBoolean();
  const float* vmax = ams ? f32p(info[4], &nvm) : nullptr;
  float* op = f32p(info[5], &n1);
  float* om = f32p(info[6], &n2);
  float* ov = f32p(info[7], &n3);
  float* ovmax = ams ? f32p(info[8], &n4) : nullptr;
  if (ng < n || nm < n || nv < n || n1 < n || n2 < n || n3 < n || (ams && (nvm < n || n4 < n))) {
    throw Napi::RangeError::New(env, "ewAdamWStep: bad arguments");
  }
  const double lr = num(info[9]), b1 = num(info[10]), b2 = num(info[11]), eps = num(info[12]);
  const double wd = num(info[13]), step = num(info[14]);
  const double bc1 = 1.0 - std::pow(b1, step);
  const double bc2 = 1.0 - std::pow(b2, step);
  const float decay = float(1.0 - lr * wd);
  const float stepSize = float(lr / bc1);
  const float invBc2Sqrt = float(1.0 / std::sqrt(bc2));
  parallelFor(int64_t(n), 8, [&](int64_t b, int64_t e) {
    if (ams) {
      adamLoop<true>(p + b, g + b, m + b, v + b, vmax + b, op + b, om + b, ov + b, ovmax + b, e - b, decay,
                     float(b1), float(1.0 - b1), float(b2), float(1.0 - b2), invBc2Sqrt, float(eps), stepSize);
    } else {
      adamLoop<false>(p + b, g + b, m + b, v + b, nullptr, op + b, om + b, ov + b, nullptr, e - b, decay,
                      float(b1), float(1.0 - b1), float(b2), float(1.0 - b2), invBc2Sqrt, float(eps), stepSize);
    }
  });
  return env.Undefined();
}

}  // namespace

LWLR_EXPORT("ewSgdStep", SgdStep);
LWLR_EXPORT("ewAdamWStep", AdamWStep);

}  // namespace ew
}  // namespace lwlr
