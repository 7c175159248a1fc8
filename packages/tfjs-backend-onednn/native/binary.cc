// Binary elementwise kernels on float32 with numpy/tfjs broadcasting, comparisons (-> Uint8Array), AddN.
//
//   ewBinary(op, a: Float32Array, aShape, b: Float32Array, bShape, out, outShape)
//     out is a Float32Array, or a Uint8Array for the comparison ops (tfjs 'bool').
//   ewAddN([x0, x1, ...]: Float32Array[], out: Float32Array)
//
// Broadcasting: the shapes are collapsed once into at most rank runs of dimensions with the same
// broadcast pattern (a varies / b varies). The innermost run is a contiguous loop in one of three forms
// (vector-vector, vector-scalar, scalar-vector); the outer runs are walked with incremental counters.
// Same shape and scalar operands become one flat loop; a bias row [N] on [M, N] becomes M vector-vector
// rows, a column [M, 1] M vector-scalar rows.
#include "addon.h"
#include "ew_common.h"

namespace lwlr {
namespace ew {
namespace {

enum BinaryOp {
  kAdd = 0, kSub, kMul, kDiv, kMax, kMin, kPow, kSqDiff, kEluGrad,
  kGreater, kGreaterEqual, kLess, kLessEqual, kEqual, kNotEqual, kReluGrad, kSquareGrad, kNumBinary
};

LWLR_INLINE float jsPow(float a, float b) {
  // Math.pow: pow(x, NaN) is NaN, pow(+-1, +-Inf) is NaN (C gives 1).
  if (b != b) return kNaN;
  if (std::fabs(a) == 1.f && std::fabs(b) == kInf) return kNaN;
  return std::pow(a, b);
}

struct OAdd { using T = float; static LWLR_INLINE float f(float a, float b) { return a + b; } };
struct OSub { using T = float; static LWLR_INLINE float f(float a, float b) { return a - b; } };
struct OMul { using T = float; static LWLR_INLINE float f(float a, float b) { return a * b; } };
struct ODiv { using T = float; static LWLR_INLINE float f(float a, float b) { return a / b; } };
struct OMax {
  using T = float;
  static LWLR_INLINE float f(float a, float b) { const float m = a > b ? a : b; return a != a ? a : m; }
};
struct OMin {
  using T = float;
  static LWLR_INLINE float f(float a, float b) { const float m = a < b ? a : b; return a != a ? a : m; }
};
struct OPow { using T = float; static LWLR_INLINE float f(float a, float b) { return jsPow(a, b); } };
struct OSqDiff {
  using T = float;
  static LWLR_INLINE float f(float a, float b) { const float d = a - b; return d * d; }
};
struct OEluGrad {  // a = dy, b = y
  using T = float;
  static LWLR_INLINE float f(float a, float b) { return b >= 0.f ? a : a * (b + 1.f); }
};
struct OReluGrad {  // a = dy, b = x: dy * step(x), exactly as tfjs's Relu gradient (NaN/Inf included)
  using T = float;
  static LWLR_INLINE float f(float a, float b) {
    const float s = b > 0.f ? 1.f : (b != b ? b : 0.f);
    return a * s;
  }
};
struct OSquareGrad {  // a = dy, b = x: dy * (x * 2), exactly as tfjs's Square gradient
  using T = float;
  static LWLR_INLINE float f(float a, float b) { return a * (b * 2.f); }
};
struct OGreater { using T = uint8_t; static LWLR_INLINE uint8_t f(float a, float b) { return a > b; } };
struct OGreaterEqual { using T = uint8_t; static LWLR_INLINE uint8_t f(float a, float b) { return a >= b; } };
struct OLess { using T = uint8_t; static LWLR_INLINE uint8_t f(float a, float b) { return a < b; } };
struct OLessEqual { using T = uint8_t; static LWLR_INLINE uint8_t f(float a, float b) { return a <= b; } };
struct OEqual { using T = uint8_t; static LWLR_INLINE uint8_t f(float a, float b) { return a == b; } };
struct ONotEqual { using T = uint8_t; static LWLR_INLINE uint8_t f(float a, float b) { return a != b; } };

// The three inner loops of every op; `o` is float* or uint8_t* per Op::T.
template <class Op>
LWLR_SIMD void loopVV(const float* __restrict a, const float* __restrict b, void* __restrict out, int64_t n) {
  typename Op::T* __restrict o = static_cast<typename Op::T*>(out);
  for (int64_t i = 0; i < n; ++i) o[i] = Op::f(a[i], b[i]);
}
template <class Op>
LWLR_SIMD void loopVS(const float* __restrict a, const float* __restrict b, void* __restrict out, int64_t n) {
  typename Op::T* __restrict o = static_cast<typename Op::T*>(out);
  const float s = *b;
  for (int64_t i = 0; i < n; ++i) o[i] = Op::f(a[i], s);
}
template <class Op>
LWLR_SIMD void loopSV(const float* __restrict a, const float* __restrict b, void* __restrict out, int64_t n) {
  typename Op::T* __restrict o = static_cast<typename Op::T*>(out);
  const float s = *a;
  for (int64_t i = 0; i < n; ++i) o[i] = Op::f(s, b[i]);
}

using LoopFn = void (*)(const float*, const float*, void*, int64_t);
struct BinaryEntry {
  LoopFn vv, vs, sv;
  int outBytes;
  int cost;
};
template <class Op>
BinaryEntry entry(int cost) {
  return {loopVV<Op>, loopVS<Op>, loopSV<Op>, int(sizeof(typename Op::T)), cost};
}

const BinaryEntry kBinary[kNumBinary] = {
    entry<OAdd>(1),      entry<OSub>(1),          entry<OMul>(1),   entry<ODiv>(2),
    entry<OMax>(1),      entry<OMin>(1),          entry<OPow>(40),  entry<OSqDiff>(1),
    entry<OEluGrad>(1),  entry<OGreater>(1),      entry<OGreaterEqual>(1),
    entry<OLess>(1),     entry<OLessEqual>(1),    entry<OEqual>(1), entry<ONotEqual>(1),
    entry<OReluGrad>(1), entry<OSquareGrad>(1),
};

struct Run {
  int64_t size;
  bool va, vb;      // a / b vary along this run
  int64_t sa, sb;   // element strides of a / b along this run (0 when broadcast)
};

// Collapses the broadcast of aShape and bShape to outShape into runs (size-1 output dims dropped).
std::vector<Run> collapse(const std::vector<int64_t>& as, const std::vector<int64_t>& bs,
                          const std::vector<int64_t>& os) {
  const size_t R = os.size();
  std::vector<Run> runs;
  for (size_t d = 0; d < R; ++d) {
    const int64_t od = os[d];
    if (od == 1) continue;
    const int64_t ad = d + as.size() >= R ? as[d + as.size() - R] : 1;
    const int64_t bd = d + bs.size() >= R ? bs[d + bs.size() - R] : 1;
    const bool va = ad != 1, vb = bd != 1;
    if (!runs.empty() && runs.back().va == va && runs.back().vb == vb) {
      runs.back().size *= od;
    } else {
      runs.push_back({od, va, vb, 0, 0});
    }
  }
  int64_t pa = 1, pb = 1;
  for (size_t i = runs.size(); i-- > 0;) {
    runs[i].sa = runs[i].va ? pa : 0;
    runs[i].sb = runs[i].vb ? pb : 0;
    if (runs[i].va) pa *= runs[i].size;
    if (runs[i].vb) pb *= runs[i].size;
  }
  return runs;
}

void checkShape(const Napi::Env& env, const std::vector<int64_t>& s, size_t len, const char* what) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  if (int64_t(len) < n) throw Napi::RangeError::New(env, std::string("ewBinary: ") + what + " smaller than its shape");
}

Napi::Value Binary(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const int op = info[0].As<Napi::Number>().Int32Value();
  if (op < 0 || op >= kNumBinary) throw Napi::RangeError::New(env, "ewBinary: bad op");
  const BinaryEntry& E = kBinary[op];
  size_t na = 0, nb = 0, no = 0;
  const float* a = f32p(info[1], &na);
  const std::vector<int64_t> as = ivec(info[2]);
  const float* b = f32p(info[3], &nb);
  const std::vector<int64_t> bs = ivec(info[4]);
  napi_typedarray_type ot;
  char* out = static_cast<char*>(tdata(info[5], &no, &ot));
  const std::vector<int64_t> os = ivec(info[6]);
  if (elemSize(ot) != E.outBytes) throw Napi::TypeError::New(env, "ewBinary: wrong output array type");
  checkShape(env, as, na, "a");
  checkShape(env, bs, nb, "b");
  checkShape(env, os, no, "out");
  int64_t n = 1;
  for (int64_t d : os) n *= d;
  if (n == 0) return env.Undefined();

  std::vector<Run> runs = collapse(as, bs, os);
  const int ob = E.outBytes;
  // A short operand row repeated over rows (a bias [C] on [M, C] with small C): tile it k times once so
  // that the inner loop runs over k*C elements instead of k calls of C.
  std::vector<float> tiled;
  if (runs.size() >= 2 && runs.back().va && runs.back().vb && runs.back().size < 512) {
    Run& in = runs.back();
    Run& pr = runs[runs.size() - 2];
    bool bRow = pr.va && !pr.vb, aRow = !pr.va && pr.vb;
    for (size_t i = 0; i + 2 < runs.size(); ++i) {
      if (runs[i].sb != 0) bRow = false;
      if (runs[i].sa != 0) aRow = false;
    }
    if (bRow || aRow) {
      int64_t k = std::min<int64_t>(pr.size, 4096 / in.size);
      while (k > 1 && pr.size % k != 0) --k;
      if (k > 1) {
        const float* src = bRow ? b : a;
        tiled.resize(size_t(k * in.size));
        for (int64_t r = 0; r < k; ++r) std::memcpy(tiled.data() + r * in.size, src, size_t(in.size) * 4);
        (bRow ? b : a) = tiled.data();
        in.size *= k;
        pr.size /= k;
        if (pr.size == 1) runs.erase(runs.end() - 2);
        int64_t pa = 1, pb = 1;
        for (size_t i = runs.size(); i-- > 0;) {
          runs[i].sa = runs[i].va ? pa : 0;
          runs[i].sb = runs[i].vb ? pb : 0;
          if (runs[i].va) pa *= runs[i].size;
          if (runs[i].vb) pb *= runs[i].size;
        }
        // the tiled operand repeats every in.size elements: its strides over outer runs are 0
        for (size_t i = 0; i + 1 < runs.size(); ++i) (bRow ? runs[i].sb : runs[i].sa) = 0;
      }
    }
  }
  if (runs.empty()) {  // every dim 1: one element
    E.vv(a, b, out, 1);
    return env.Undefined();
  }
  const Run& in = runs.back();
  const LoopFn loop = in.va && in.vb ? E.vv : (in.va ? E.vs : E.sv);
  const int64_t inner = in.size;
  if (runs.size() == 1) {
    parallelFor(n, E.cost, [&](int64_t s, int64_t e) {
      loop(a + s * in.sa, b + s * in.sb, out + s * ob, e - s);
    });
    return env.Undefined();
  }
  const int k = int(runs.size()) - 1;  // outer runs 0..k-1
  if (k > 64) throw Napi::RangeError::New(env, "ewBinary: rank too large");
  parallelFor(n, E.cost, [&](int64_t s, int64_t e) {
    int64_t row = s / inner, col = s % inner;
    // decompose row over the outer runs
    int64_t idx[64];
    int64_t offA = 0, offB = 0;
    {
      int64_t r = row;
      for (int d = k - 1; d >= 0; --d) {
        idx[d] = r % runs[d].size;
        r /= runs[d].size;
        offA += idx[d] * runs[d].sa;
        offB += idx[d] * runs[d].sb;
      }
    }
    int64_t pos = s;
    while (pos < e) {
      const int64_t len = std::min(inner - col, e - pos);
      loop(a + offA + col * in.sa, b + offB + col * in.sb, out + pos * ob, len);
      pos += len;
      col = 0;
      // next row: increment the counters with carry
      for (int d = k - 1; d >= 0; --d) {
        offA += runs[d].sa;
        offB += runs[d].sb;
        if (++idx[d] < runs[d].size) break;
        offA -= runs[d].sa * runs[d].size;
        offB -= runs[d].sb * runs[d].size;
        idx[d] = 0;
      }
    }
  });
  return env.Undefined();
}

LWLR_SIMD void addInto(float* __restrict o, const float* __restrict x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] += x[i];
}
LWLR_SIMD void add2(float* __restrict o, const float* __restrict x, const float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = x[i] + y[i];
}

Napi::Value AddN(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  auto arr = info[0].As<Napi::Array>();
  const uint32_t m = arr.Length();
  size_t n = 0;
  float* out = f32p(info[1], &n);
  std::vector<const float*> xs(m);
  for (uint32_t i = 0; i < m; ++i) {
    size_t ni = 0;
    xs[i] = f32p(arr.Get(i), &ni);
    if (ni < n) throw Napi::RangeError::New(env, "ewAddN: input smaller than output");
  }
  if (m == 0) {
    std::memset(out, 0, n * 4);
    return env.Undefined();
  }
  // Blocks of 4096 elements: every input streams through once, the block of `out` stays in L1.
  parallelFor(int64_t(n), int64_t(m), [&](int64_t s, int64_t e) {
    for (int64_t b = s; b < e; b += 4096) {
      const int64_t len = std::min<int64_t>(4096, e - b);
      if (m == 1) {
        std::memcpy(out + b, xs[0] + b, len * 4);
        continue;
      }
      add2(out + b, xs[0] + b, xs[1] + b, len);
      for (uint32_t i = 2; i < m; ++i) addInto(out + b, xs[i] + b, len);
    }
  });
  return env.Undefined();
}

}  // namespace

LWLR_EXPORT("ewBinary", Binary);
LWLR_EXPORT("ewAddN", AddN);

}  // namespace ew
}  // namespace lwlr
