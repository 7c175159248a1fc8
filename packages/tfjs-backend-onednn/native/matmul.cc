// Matrix products on oneDNN's matmul primitive: BatchMatMul (2-D and batched, any transposes, broadcast
// batch dims) and _FusedMatMul (bias + activation as post-ops). Plus the output-buffer pool exports
// (allocF32) used by every kernel of this family, and dnnl_sgemm for the benchmark.
#include <algorithm>

#include "buffer-pool.h"
#include "dnnl-cache.h"

namespace lwlr {
namespace mm {

struct MatmulEntry {
  dnnl::matmul prim;
  memory a, b, c, bias;
  bool hasBias = false;
  std::string impl;
};

static LruCache<MatmulEntry>& matmulCache() {
  static LruCache<MatmulEntry> c(cacheCapacity());
  return c;
}

static std::vector<int64_t> padTo(const std::vector<int64_t>& s, size_t r) {
  std::vector<int64_t> out(r - s.size(), 1);
  out.insert(out.end(), s.begin(), s.end());
  return out;
}

static std::vector<int64_t> denseStrides(const std::vector<int64_t>& d) {
  std::vector<int64_t> st(d.size());
  int64_t acc = 1;
  for (size_t i = d.size(); i-- > 0;) {
    st[i] = acc;
    acc *= std::max<int64_t>(d[i], 1);
  }
  return st;
}

// matmul(a, b, out, aShape, bShape, transposeA, transposeB, bias|null, biasShape|null, activation, alpha)
//   -> implementation name
// Shapes are the tfjs shapes (rank >= 2, batch dims broadcastable). `out` has the broadcast shape
// [...batch, M, N], contiguous. bias (optional) is broadcastable to out without changing its shape.
static Napi::Value Matmul(const Napi::CallbackInfo& info) {
  return guarded(info, "matmul", [&]() -> Napi::Value {
    float* A = f32(info[0]);
    float* B = f32(info[1]);
    float* C = f32(info[2]);
    std::vector<int64_t> aShape = dims(info[3]), bShape = dims(info[4]);
    const bool ta = info[5].ToBoolean().Value(), tb = info[6].ToBoolean().Value();
    float* bias = optF32(info[7]);
    std::vector<int64_t> biasShape;
    if (bias) biasShape = dims(info[8]);
    const std::string act = optString(info[9]);
    const float alpha = optNumber(info[10], 0.f);

    size_t R = std::max<size_t>({aShape.size(), bShape.size(), 2});
    aShape = padTo(aShape, R);
    bShape = padTo(bShape, R);
    const int64_t M = ta ? aShape[R - 1] : aShape[R - 2];
    const int64_t K = ta ? aShape[R - 2] : aShape[R - 1];
    const int64_t Kb = tb ? bShape[R - 1] : bShape[R - 2];
    const int64_t N = tb ? bShape[R - 2] : bShape[R - 1];
    if (K != Kb) throw std::runtime_error("inner dimensions differ");
    std::vector<int64_t> aB(aShape.begin(), aShape.end() - 2), bB(bShape.begin(), bShape.end() - 2), oB(R - 2);
    bool sameBatch = true, bBatchOne = true;
    for (size_t i = 0; i < R - 2; ++i) {
      if (aB[i] != bB[i] && aB[i] != 1 && bB[i] != 1) throw std::runtime_error("batch dims not broadcastable");
      oB[i] = std::max(aB[i], bB[i]);
      sameBatch = sameBatch && aB[i] == bB[i];
      bBatchOne = bBatchOne && bB[i] == 1;
    }
    int64_t aBatch = 1, oBatch = 1;
    for (size_t i = 0; i < R - 2; ++i) {
      aBatch *= aB[i];
      oBatch *= oB[i];
    }
    std::vector<int64_t> biasP;
    bool biasPerRowOrBatch = false;
    if (bias) {
      if (biasShape.size() > R) throw std::runtime_error("bias rank exceeds output rank");
      biasP = padTo(biasShape, R);
      for (size_t i = 0; i < R; ++i) {
        int64_t od = i < R - 2 ? oB[i] : (i == R - 2 ? M : N);
        if (biasP[i] != 1 && biasP[i] != od) throw std::runtime_error("bias not broadcastable to output");
        if (i < R - 1 && biasP[i] != 1) biasPerRowOrBatch = true;
      }
    }

    // Canonical problem: logical dims [batch..., M, K] x [batch..., K, N] -> [batch..., M, N].
    std::vector<int64_t> ad, bd, cd, as, bs, cs, biasd;
    if (R == 2 || (bBatchOne && !ta && !biasPerRowOrBatch)) {
      // b is shared by every batch and a is row-major: one 2-D gemm of (batch*M) x K.
      const int64_t Mt = aBatch * M;
      ad = {Mt, K};
      as = {K, 1};
      if (R == 2 && ta) as = {1, M};
      bd = {K, N};
      bs = tb ? std::vector<int64_t>{1, K} : std::vector<int64_t>{N, 1};
      cd = {Mt, N};
      cs = {N, 1};
      if (bias) biasd = {biasP[R - 2], biasP[R - 1]};
      if (aBatch != oBatch) throw std::runtime_error("internal: batch mismatch");
    } else if (sameBatch) {
      // Equal batch dims: one batch dimension.
      ad = {oBatch, M, K};
      as = {M * K, ta ? 1 : K, ta ? M : 1};
      bd = {oBatch, K, N};
      bs = {K * N, tb ? 1 : N, tb ? K : 1};
      cd = {oBatch, M, N};
      cs = {M * N, N, 1};
      if (bias) {
        int64_t bb = 1;
        for (size_t i = 0; i < R - 2; ++i) bb *= biasP[i];
        if (bb != 1 && bb != oBatch) throw std::runtime_error("bias batch");
        biasd = {bb, biasP[R - 2], biasP[R - 1]};
      }
    } else {
      // General broadcast: full rank.
      std::vector<int64_t> aPhys = aShape, bPhys = bShape;
      std::vector<int64_t> aps = denseStrides(aPhys), bps = denseStrides(bPhys);
      ad = aB;
      ad.push_back(M);
      ad.push_back(K);
      as.assign(aps.begin(), aps.end() - 2);
      as.push_back(ta ? 1 : K);
      as.push_back(ta ? M : 1);
      bd = bB;
      bd.push_back(K);
      bd.push_back(N);
      bs.assign(bps.begin(), bps.end() - 2);
      bs.push_back(tb ? 1 : N);
      bs.push_back(tb ? K : 1);
      cd = oB;
      cd.push_back(M);
      cd.push_back(N);
      cs = denseStrides(cd);
      if (bias) biasd = biasP;
    }

    Key key("mm:");
    for (auto v : ad) key << v;
    for (auto v : as) key << v;
    key << "|";
    for (auto v : bd) key << v;
    for (auto v : bs) key << v;
    key << "|";
    for (auto v : biasd) key << v;
    key << act << alpha;

    auto& cache = matmulCache();
    auto e = cache.get(key.s);
    if (!e) {
      e = std::make_shared<MatmulEntry>();
      auto& eng = cpuEngine();
      memory::desc amd(ad, dt::f32, as), bmd(bd, dt::f32, bs), cmd(cd, dt::f32, cs);
      memory::desc biasmd;
      if (bias) biasmd = memory::desc(biasd, dt::f32, denseStrides(biasd));
      dnnl::post_ops po;
      if (!appendActivation(po, act, alpha)) throw std::runtime_error("unsupported activation " + act);
      dnnl::primitive_attr attr;
      attr.set_post_ops(po);
      auto d = bias ? dnnl::matmul::desc(amd, bmd, biasmd, cmd) : dnnl::matmul::desc(amd, bmd, cmd);
      dnnl::matmul::primitive_desc pd(d, attr, eng);
      e->prim = dnnl::matmul(pd);
      e->a = memory(amd, eng, DNNL_MEMORY_NONE);
      e->b = memory(bmd, eng, DNNL_MEMORY_NONE);
      e->c = memory(cmd, eng, DNNL_MEMORY_NONE);
      if (bias) e->bias = memory(biasmd, eng, DNNL_MEMORY_NONE);
      e->hasBias = bias != nullptr;
      e->impl = pd.impl_info_str();
      cache.put(key.s, e);
    }
    e->a.set_data_handle(A);
    e->b.set_data_handle(B);
    e->c.set_data_handle(C);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, e->a}, {DNNL_ARG_WEIGHTS, e->b}, {DNNL_ARG_DST, e->c}};
    if (e->hasBias) {
      e->bias.set_data_handle(bias);
      args.emplace(DNNL_ARG_BIAS, e->bias);
    }
    e->prim.execute(cpuStream(), args);
    cpuStream().wait();
    return Napi::String::New(info.Env(), e->impl);
  });
}

// sgemm(transA, transB, M, N, K, a, b, c): row-major C = op(A) op(B), for the benchmark baseline.
static Napi::Value Sgemm(const Napi::CallbackInfo& info) {
  return guarded(info, "sgemm", [&]() -> Napi::Value {
    bool ta = info[0].ToBoolean().Value(), tb = info[1].ToBoolean().Value();
    int64_t M = info[2].As<Napi::Number>().Int64Value(), N = info[3].As<Napi::Number>().Int64Value(),
            K = info[4].As<Napi::Number>().Int64Value();
    float *A = f32(info[5]), *B = f32(info[6]), *C = f32(info[7]);
    dnnl_status_t st = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, 1.f, A, ta ? M : K, B, tb ? K : N, 0.f,
                                  C, N);
    if (st != dnnl_success) throw std::runtime_error("dnnl_sgemm failed");
    return info.Env().Undefined();
  });
}

// allocF32(n): a Float32Array of n elements on pooled memory, contents uninitialized.
static Napi::Value AllocF32(const Napi::CallbackInfo& info) {
  return guarded(info, "allocF32", [&]() -> Napi::Value {
    int64_t n = info[0].As<Napi::Number>().Int64Value();
    if (n < 0) throw std::runtime_error("negative size");
    return pool::newFloat32Array(info.Env(), static_cast<size_t>(n));
  });
}

// releaseF32(array): detaches the array's ArrayBuffer, so that its pooled memory is reusable at once (the
// caller guarantees that nothing will read the array again; a stale reference sees an empty array).
static Napi::Value ReleaseF32(const Napi::CallbackInfo& info) {
  auto ta = info[0].As<Napi::TypedArray>();
  Napi::ArrayBuffer ab = ta.ArrayBuffer();
  if (!ab.IsDetached()) {
    ab.Detach();
    std::lock_guard<std::mutex> g(pool::state().mu);
    ++pool::state().detached;
  }
  return info.Env().Undefined();
}

static Napi::Value PoolStats(const Napi::CallbackInfo& info) {
  auto& s = pool::state();
  std::lock_guard<std::mutex> g(s.mu);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("freeBytes", Napi::Number::New(info.Env(), static_cast<double>(s.freeBytes)));
  o.Set("capBytes", Napi::Number::New(info.Env(), static_cast<double>(s.capBytes)));
  o.Set("hits", Napi::Number::New(info.Env(), static_cast<double>(s.hits)));
  o.Set("misses", Napi::Number::New(info.Env(), static_cast<double>(s.misses)));
  o.Set("released", Napi::Number::New(info.Env(), static_cast<double>(s.released)));
  o.Set("dropped", Napi::Number::New(info.Env(), static_cast<double>(s.dropped)));
  o.Set("detached", Napi::Number::New(info.Env(), static_cast<double>(s.detached)));
  o.Set("liveBytes", Napi::Number::New(info.Env(), static_cast<double>(s.liveBytes)));
  o.Set("peakLiveBytes", Napi::Number::New(info.Env(), static_cast<double>(s.peakLiveBytes)));
  return o;
}

static Napi::Value PoolTrim(const Napi::CallbackInfo& info) {
  pool::trim();
  return info.Env().Undefined();
}

LWLR_EXPORT("matmul", Matmul);
LWLR_EXPORT("sgemm", Sgemm);
LWLR_EXPORT("allocF32", AllocF32);
LWLR_EXPORT("releaseF32", ReleaseF32);
LWLR_EXPORT("poolStats", PoolStats);
LWLR_EXPORT("poolTrim", PoolTrim);

}  // namespace mm
}  // namespace lwlr
