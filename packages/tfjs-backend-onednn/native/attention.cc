// Multi-head scaled dot-product attention, forward and backward, on the projections' own layout [B, N, H*d]:
// no split/merge transposes, the softmax fused with the additive terms. Two steps, each a kernel with its own
// gradient (src/kernels/attention.ts), so that the probabilities P are an ordinary tensor between them:
//
//   attentionScores(q, k, bias | null, mask | null, dims = [B, N, H, d, nW], scale, probs)
//     P[b,h] = softmax(scale * Q[b,h] K[b,h]^T (+ bias[h]) (+ mask[b % nW])) over rows
//     q, k: [B, N, H*d] (head h = columns h*d .. h*d+d-1); bias [H, N, N]; mask [nW, N, N]; probs [B, H, N, N]
//   attentionApply(probs, v, dims, out):               O[b,h] = P[b,h] V[b,h], out [B, N, H*d]
//   attentionApplyGrad(dout, probs, v, dims, dprobs, dv): dP = dO V^T, dV = P^T dO
//   attentionScoresGrad(dprobs, q, k, probs, dims, scale, dq, dk, dbias | null)
//     dS = P * (dP - rowsum(dP * P)), dQ = scale dS K, dK = scale dS^T Q, dbias = sum over b of dS
// The products are oneDNN matmuls with batch dims [B, H] and the strides of the [B, N, H*d] layout; the
// softmax, its gradient and the bias sum are loops here (row sums in double, as the Softmax / Sum kernels).
#include <cmath>

#include "buffer-pool.h"
#include "dnnl-cache.h"
#include "ew_common.h"

namespace lwlr {
namespace mm {
namespace {

struct BmmEntry {
  dnnl::matmul prim;
  memory a, b, c;
};

LruCache<BmmEntry>& bmmCache() {
  static LruCache<BmmEntry> c(cacheCapacity());
  return c;
}

// A strided 4-D view: logical dims {B, H, rows, cols} with the given strides.
struct View {
  memory::dims d, s;
};

// C = scale * A B over batch dims {B, H} (all 4-D views).
void bmm(const View& a, const View& b, const View& c, float scale, const float* A, const float* B, float* C) {
  Key key("attn:");
  for (const View* v : {&a, &b, &c}) {
    for (auto x : v->d) key << x;
    for (auto x : v->s) key << x;
    key << "|";
  }
  key << scale;
  auto& cache = bmmCache();
  auto e = cache.get(key.s);
  if (!e) {
    e = std::make_shared<BmmEntry>();
    auto& eng = cpuEngine();
    memory::desc amd(a.d, dt::f32, a.s), bmd(b.d, dt::f32, b.s), cmd(c.d, dt::f32, c.s);
    dnnl::primitive_attr attr;
    if (scale != 1.f) attr.set_output_scales(0, {scale});
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(amd, bmd, cmd), attr, eng);
    e->prim = dnnl::matmul(pd);
    e->a = memory(amd, eng, DNNL_MEMORY_NONE);
    e->b = memory(bmd, eng, DNNL_MEMORY_NONE);
    e->c = memory(cmd, eng, DNNL_MEMORY_NONE);
    cache.put(key.s, e);
  }
  e->a.set_data_handle(const_cast<float*>(A));
  e->b.set_data_handle(const_cast<float*>(B));
  e->c.set_data_handle(C);
  e->prim.execute(cpuStream(), {{DNNL_ARG_SRC, e->a}, {DNNL_ARG_WEIGHTS, e->b}, {DNNL_ARG_DST, e->c}});
  cpuStream().wait();
}

struct Dims {
  int64_t B, N, H, d, nW, C;
};

Dims parseDims(const Napi::Value& v) {
  auto p = dims(v);
  if (p.size() != 5) throw std::runtime_error("attention: dims must be [B, N, H, d, nW]");
  Dims r{p[0], p[1], p[2], p[3], p[4], p[2] * p[3]};
  if (r.B < 1 || r.N < 1 || r.H < 1 || r.d < 1 || r.nW < 1 || r.B % r.nW != 0) throw std::runtime_error("attention: bad dims");
  return r;
}

// Views of the [B, N, H*d] tensors as {B, H, N, d} and transposed {B, H, d, N}; P as {B, H, N, N}.
View heads(const Dims& m) { return {{m.B, m.H, m.N, m.d}, {m.N * m.C, m.d, m.C, 1}}; }
View headsT(const Dims& m) { return {{m.B, m.H, m.d, m.N}, {m.N * m.C, m.d, 1, m.C}}; }
View square(const Dims& m) { return {{m.B, m.H, m.N, m.N}, {m.H * m.N * m.N, m.N * m.N, m.N, 1}}; }
View squareT(const Dims& m) { return {{m.B, m.H, m.N, m.N}, {m.H * m.N * m.N, m.N * m.N, 1, m.N}}; }

void checkLen(const Napi::Value& v, int64_t n, const char* what) {
  if (int64_t(f32len(v)) < n) throw std::runtime_error(std::string("attention: ") + what + " too small");
}

// Softmax over each row of S (length N) after adding bias[h, i, :] and mask[b % nW, i, :].
LWLR_SIMD void addRow(float* __restrict s, const float* __restrict t, int64_t n) {
  for (int64_t j = 0; j < n; ++j) s[j] += t[j];
}
LWLR_SIMD float maxRow(const float* __restrict s, int64_t n) {
  float m = s[0];
  for (int64_t j = 1; j < n; ++j) m = s[j] > m ? s[j] : m;
  return m;
}
LWLR_SIMD double expRow(float* __restrict s, float m, int64_t n) {
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < n; ++j) {
    const float e = ew::vexp(s[j] - m);
    s[j] = e;
    sum += double(e);
  }
  return sum;
}
LWLR_SIMD void scaleRow(float* __restrict s, float f, int64_t n) {
  for (int64_t j = 0; j < n; ++j) s[j] = s[j] / f;
}
LWLR_SIMD double dotRow(const float* __restrict a, const float* __restrict b, int64_t n) {
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < n; ++j) {
    const float q = a[j] * b[j];
    sum += double(q);
  }
  return sum;
}
LWLR_SIMD void softmaxGradRow(const float* __restrict dp, const float* __restrict p, float* __restrict ds, float dot,
                              int64_t n) {
  for (int64_t j = 0; j < n; ++j) ds[j] = (dp[j] - dot) * p[j];
}

// attentionScores(q, k, bias | null, mask | null, dims, scale, probs)
Napi::Value Scores(const Napi::CallbackInfo& info) {
  return guarded(info, "attentionScores", [&]() -> Napi::Value {
    const float* q = f32(info[0]);
    const float* k = f32(info[1]);
    const float* bias = optF32(info[2]);
    const float* mask = optF32(info[3]);
    const Dims m = parseDims(info[4]);
    const float scale = info[5].As<Napi::Number>().FloatValue();
    float* probs = f32(info[6]);
    const int64_t nx = m.B * m.N * m.C, N = m.N;
    checkLen(info[0], nx, "q");
    checkLen(info[1], nx, "k");
    if (bias) checkLen(info[2], m.H * N * N, "bias");
    if (mask) checkLen(info[3], m.nW * N * N, "mask");
    checkLen(info[6], m.B * m.H * N * N, "probs");
    bmm(heads(m), headsT(m), square(m), scale, q, k, probs);
    ew::parallelFor(m.B * m.H * N, N * 8, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t i = r % N, h = (r / N) % m.H, b = r / (N * m.H);
        float* s = probs + r * N;
        if (bias) addRow(s, bias + (h * N + i) * N, N);
        if (mask) addRow(s, mask + ((b % m.nW) * N + i) * N, N);
        const float mx = maxRow(s, N);
        const double sum = expRow(s, mx, N);
        scaleRow(s, float(sum), N);
      }
    });
    return info.Env().Undefined();
  });
}

// attentionApply(probs, v, dims, out): out[b,h] = P[b,h] V[b,h] in the merged layout
Napi::Value Apply(const Napi::CallbackInfo& info) {
  return guarded(info, "attentionApply", [&]() -> Napi::Value {
    const Dims m = parseDims(info[2]);
    checkLen(info[0], m.B * m.H * m.N * m.N, "probs");
    checkLen(info[1], m.B * m.N * m.C, "v");
    checkLen(info[3], m.B * m.N * m.C, "out");
    bmm(square(m), heads(m), heads(m), 1.f, f32(info[0]), f32(info[1]), f32(info[3]));
    return info.Env().Undefined();
  });
}

// attentionApplyGrad(dout, probs, v, dims, dprobs, dv): dP = dO V^T, dV = P^T dO
Napi::Value ApplyGrad(const Napi::CallbackInfo& info) {
  return guarded(info, "attentionApplyGrad", [&]() -> Napi::Value {
    const Dims m = parseDims(info[3]);
    const int64_t nx = m.B * m.N * m.C, np = m.B * m.H * m.N * m.N;
    checkLen(info[0], nx, "dout");
    checkLen(info[1], np, "probs");
    checkLen(info[2], nx, "v");
    checkLen(info[4], np, "dprobs");
    checkLen(info[5], nx, "dv");
    const float *dout = f32(info[0]), *p = f32(info[1]), *v = f32(info[2]);
    bmm(heads(m), headsT(m), square(m), 1.f, dout, v, f32(info[4]));
    bmm(squareT(m), heads(m), heads(m), 1.f, p, dout, f32(info[5]));
    return info.Env().Undefined();
  });
}

// attentionScoresGrad(dprobs, q, k, probs, dims, scale, dq, dk, dbias | null):
//   dS = P * (dP - rowsum(dP * P)), dQ = scale dS K, dK = scale dS^T Q, dbias = sum over b of dS
Napi::Value ScoresGrad(const Napi::CallbackInfo& info) {
  return guarded(info, "attentionScoresGrad", [&]() -> Napi::Value {
    const float* dp = f32(info[0]);
    const float* q = f32(info[1]);
    const float* k = f32(info[2]);
    const float* p = f32(info[3]);
    const Dims m = parseDims(info[4]);
    const float scale = info[5].As<Napi::Number>().FloatValue();
    float* dq = f32(info[6]);
    float* dk = f32(info[7]);
    float* dbias = optF32(info[8]);
    const int64_t nx = m.B * m.N * m.C, np = m.B * m.H * m.N * m.N, N = m.N;
    for (int i : {1, 2, 6, 7}) checkLen(info[i], nx, "q/k/dq/dk");
    checkLen(info[0], np, "dprobs");
    checkLen(info[3], np, "probs");
    if (dbias) checkLen(info[8], m.H * N * N, "dbias");
    // dS in a pooled scratch buffer of P's size
    size_t cap = 0;
    float* ds = static_cast<float*>(pool::acquire(size_t(np) * sizeof(float), &cap));
    struct Give {
      void* p;
      size_t cap;
      ~Give() { pool::release(p, 0, reinterpret_cast<void*>(static_cast<uintptr_t>(cap))); }
    } give{ds, cap};
    ew::parallelFor(m.B * m.H * N, N * 4, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const float dot = float(dotRow(dp + r * N, p + r * N, N));
        softmaxGradRow(dp + r * N, p + r * N, ds + r * N, dot, N);
      }
    });
    if (dbias) {
      const int64_t hn = m.H * N * N;
      ew::parallelFor(hn, m.B * 2, [&](int64_t e0, int64_t e1) {
        std::vector<double> acc(size_t(e1 - e0), 0.0);
        for (int64_t b = 0; b < m.B; ++b) {
          const float* src = ds + b * hn + e0;
          for (int64_t e = 0; e < e1 - e0; ++e) acc[e] += double(src[e]);
        }
        for (int64_t e = 0; e < e1 - e0; ++e) dbias[e0 + e] = float(acc[e]);
      });
    }
    bmm(square(m), heads(m), heads(m), scale, ds, k, dq);   // dQ = scale dS K
    bmm(squareT(m), heads(m), heads(m), scale, ds, q, dk);  // dK = scale dS^T Q
    return info.Env().Undefined();
  });
}

}  // namespace

LWLR_EXPORT("attentionScores", Scores);
LWLR_EXPORT("attentionApply", Apply);
LWLR_EXPORT("attentionScoresGrad", ScoresGrad);
LWLR_EXPORT("attentionApplyGrad", ApplyGrad);

}  // namespace mm
}  // namespace lwlr
