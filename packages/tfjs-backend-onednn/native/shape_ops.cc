// Data-movement kernels on any element size (float32 and int32 share the 4-byte path, bool the 1-byte one)
// and Cast.
//
//   ewTranspose(x, shape, perm, out)
//   ewSlice(x, shape, begin, size, out)
//   ewPad(x, shape, before, after, fill: TypedArray of 1 element, out)
//   ewTile(x, shape, reps, out)
//   ewConcat([x0, x1, ...], [inner0, inner1, ...], rows, out)      (2-D view [rows, inner_i])
//   ewCast(mode, x, out)   mode 0 f32->i32 (JS ToInt32), 1 f32->bool, 2 i32->bool, 3 i32->f32, 4 u8->f32,
//                          5 u8->i32
//
// Shapes are collapsed first (size-1 dims dropped, dims that stay adjacent merged), so most calls become a
// few contiguous copies. A transpose that moves the innermost axis is done in 16x16 tiles.
#include "addon.h"
#include "ew_common.h"

namespace lwlr {
namespace ew {
namespace {

int64_t prod(const std::vector<int64_t>& v, size_t from = 0) {
  int64_t p = 1;
  for (size_t i = from; i < v.size(); ++i) p *= v[i];
  return p;
}

struct Arr {
  char* p;
  size_t n;
  int es;
};
Arr arr(const Napi::Value& v) {
  size_t n = 0;
  napi_typedarray_type t;
  char* p = static_cast<char*>(tdata(v, &n, &t));
  return {p, n, elemSize(t)};
}

template <class T>
void copyN(T* __restrict o, const T* __restrict x, int64_t n) {
  std::memcpy(o, x, size_t(n) * sizeof(T));
}
template <class T>
void fillN(T* __restrict o, T v, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = v;
}

// ---- row walker -----------------------------------------------------------------------------------------
// Calls f(row, coords) for rows [b, e) of an index space `dims` (coords kept incrementally).
template <class F>
void walkRows(const std::vector<int64_t>& dims, int64_t b, int64_t e, F&& f) {
  const int k = int(dims.size());
  std::vector<int64_t> c(k, 0);
  int64_t r = b;
  for (int d = k - 1; d >= 0; --d) { c[d] = r % dims[d]; r /= dims[d]; }
  for (int64_t row = b; row < e; ++row) {
    f(row, c);
    for (int d = k - 1; d >= 0; --d) {
      if (++c[d] < dims[d]) break;
      c[d] = 0;
    }
  }
}

// ---- transpose ------------------------------------------------------------------------------------------
template <class T>
void transposeT(const T* x, T* out, const std::vector<int64_t>& shape, const std::vector<int64_t>& perm) {
  const int R = int(shape.size());
  // Keep dims of size > 1; map their input index to a compact index.
  std::vector<int> keep, newIdx(R, -1);
  for (int i = 0; i < R; ++i) if (shape[i] > 1) { newIdx[i] = int(keep.size()); keep.push_back(i); }
  std::vector<int> p;  // output order, compact input indices
  for (int j = 0; j < R; ++j) if (newIdx[perm[j]] >= 0) p.push_back(newIdx[perm[j]]);
  const int64_t n = prod(shape);
  // Merge output dims that are consecutive input dims.
  std::vector<std::vector<int>> groups;
  for (int q : p) {
    if (!groups.empty() && groups.back().back() + 1 == q) groups.back().push_back(q);
    else groups.push_back({q});
  }
  const int G = int(groups.size());
  if (G <= 1) {
    copyN(out, x, n);
    return;
  }
  // Input view: groups ordered by first input dim.
  std::vector<int> order(G);
  for (int g = 0; g < G; ++g) order[g] = g;
  std::sort(order.begin(), order.end(), [&](int a, int b) { return groups[a][0] < groups[b][0]; });
  std::vector<int64_t> gsize(G), instride(G);
  for (int g = 0; g < G; ++g) {
    int64_t s = 1;
    for (int q : groups[g]) s *= shape[keep[q]];
    gsize[g] = s;
  }
  {
    int64_t s = 1;
    for (int k = G - 1; k >= 0; --k) { instride[order[k]] = s; s *= gsize[order[k]]; }
  }
  // Output dims are groups 0..G-1 in order; output strides:
  std::vector<int64_t> outstride(G);
  {
    int64_t s = 1;
    for (int g = G - 1; g >= 0; --g) { outstride[g] = s; s *= gsize[g]; }
  }
  const int q = G - 1;                      // innermost output dim
  int pd = -1;                              // the output dim that is innermost in the input
  for (int g = 0; g < G; ++g) if (instride[g] == 1) pd = g;
  if (pd == q) {
    // The innermost axis stays innermost: contiguous runs of Q elements.
    const int64_t Q = gsize[q];
    std::vector<int64_t> outer(gsize.begin(), gsize.end() - 1);
    parallelFor(n / Q, Q, [&](int64_t b, int64_t e) {
      walkRows(outer, b, e, [&](int64_t row, const std::vector<int64_t>& c) {
        int64_t off = 0;
        for (int g = 0; g < q; ++g) off += c[g] * instride[g];
        copyN(out + row * Q, x + off, Q);
      });
    });
    return;
  }
  // Batch dims: all but pd and q.
  std::vector<int> bd;
  for (int g = 0; g < G; ++g) if (g != pd && g != q) bd.push_back(g);
  int64_t batch = 1;
  for (int g : bd) batch *= gsize[g];
  const int64_t P = gsize[pd], Q = gsize[q];
  const int64_t osP = outstride[pd], isQ = instride[q];
  constexpr int64_t TB = 16;
  const int64_t tilesP = (P + TB - 1) / TB;
  parallelFor(batch * tilesP, TB * Q * 2, [&](int64_t b, int64_t e) {
    for (int64_t item = b; item < e; ++item) {
      int64_t bi = item / tilesP;
      const int64_t tp = item % tilesP;
      int64_t ib = 0, ob = 0;
      for (int k = int(bd.size()) - 1; k >= 0; --k) {
        const int g = bd[k];
        const int64_t c = bi % gsize[g];
        bi /= gsize[g];
        ib += c * instride[g];
        ob += c * outstride[g];
      }
      const int64_t i0 = tp * TB, i1 = std::min(P, i0 + TB);
      for (int64_t j0 = 0; j0 < Q; j0 += TB) {
        const int64_t j1 = std::min(Q, j0 + TB);
        for (int64_t i = i0; i < i1; ++i) {
          T* o = out + ob + i * osP;
          const T* s = x + ib + i;
          for (int64_t j = j0; j < j1; ++j) o[j] = s[j * isQ];
        }
      }
    }
  });
}

Napi::Value Transpose(const Napi::CallbackInfo& info) {
  const Arr x = arr(info[0]);
  const std::vector<int64_t> shape = ivec(info[1]);
  const std::vector<int64_t> perm = ivec(info[2]);
  const Arr o = arr(info[3]);
  const int64_t n = prod(shape);
  if (perm.size() != shape.size() || int64_t(x.n) < n || int64_t(o.n) < n || x.es != o.es) {
    throw Napi::RangeError::New(info.Env(), "ewTranspose: bad arguments");
  }
  for (int64_t p : perm) if (p < 0 || p >= int64_t(shape.size())) throw Napi::RangeError::New(info.Env(), "ewTranspose: bad perm");
  switch (x.es) {
    case 1: transposeT(reinterpret_cast<const uint8_t*>(x.p), reinterpret_cast<uint8_t*>(o.p), shape, perm); break;
    case 2: transposeT(reinterpret_cast<const uint16_t*>(x.p), reinterpret_cast<uint16_t*>(o.p), shape, perm); break;
    case 4: transposeT(reinterpret_cast<const uint32_t*>(x.p), reinterpret_cast<uint32_t*>(o.p), shape, perm); break;
    default: transposeT(reinterpret_cast<const uint64_t*>(x.p), reinterpret_cast<uint64_t*>(o.p), shape, perm); break;
  }
  return info.Env().Undefined();
}

// ---- slice ----------------------------------------------------------------------------------------------
template <class T>
void sliceT(const T* x, T* out, const std::vector<int64_t>& shape, const std::vector<int64_t>& begin,
            const std::vector<int64_t>& size) {
  const int R = int(shape.size());
  const int64_t n = prod(size);
  if (n == 0) return;
  // k: the first dim such that all dims after it are taken whole; the block at k is contiguous.
  int k = R - 1;
  while (k > 0 && size[k] == shape[k]) --k;
  std::vector<int64_t> stride(R);
  { int64_t s = 1; for (int d = R - 1; d >= 0; --d) { stride[d] = s; s *= shape[d]; } }
  const int64_t run = R == 0 ? 1 : size[k] * stride[k];
  const int64_t base = R == 0 ? 0 : begin[k] * stride[k];
  std::vector<int64_t> outer(size.begin(), size.begin() + std::max(k, 0));
  const int64_t rows = prod(outer);
  parallelFor(rows, run, [&](int64_t b, int64_t e) {
    walkRows(outer, b, e, [&](int64_t row, const std::vector<int64_t>& c) {
      int64_t off = base;
      for (int d = 0; d < k; ++d) off += (begin[d] + c[d]) * stride[d];
      copyN(out + row * run, x + off, run);
    });
  });
}

Napi::Value Slice(const Napi::CallbackInfo& info) {
  const Arr x = arr(info[0]);
  const std::vector<int64_t> shape = ivec(info[1]), begin = ivec(info[2]), size = ivec(info[3]);
  const Arr o = arr(info[4]);
  const size_t R = shape.size();
  bool ok = begin.size() == R && size.size() == R && int64_t(x.n) >= prod(shape) && int64_t(o.n) >= prod(size) && x.es == o.es;
  for (size_t d = 0; ok && d < R; ++d) ok = begin[d] >= 0 && size[d] >= 0 && begin[d] + size[d] <= shape[d];
  if (!ok) throw Napi::RangeError::New(info.Env(), "ewSlice: bad arguments");
  switch (x.es) {
    case 1: sliceT(reinterpret_cast<const uint8_t*>(x.p), reinterpret_cast<uint8_t*>(o.p), shape, begin, size); break;
    case 2: sliceT(reinterpret_cast<const uint16_t*>(x.p), reinterpret_cast<uint16_t*>(o.p), shape, begin, size); break;
    case 4: sliceT(reinterpret_cast<const uint32_t*>(x.p), reinterpret_cast<uint32_t*>(o.p), shape, begin, size); break;
    default: sliceT(reinterpret_cast<const uint64_t*>(x.p), reinterpret_cast<uint64_t*>(o.p), shape, begin, size); break;
  }
  return info.Env().Undefined();
}

// ---- pad ------------------------------------------------------------------------------------------------
template <class T>
void padT(const T* x, T* out, const std::vector<int64_t>& shape, const std::vector<int64_t>& before,
          const std::vector<int64_t>& after, T fill) {
  const int R = int(shape.size());
  std::vector<int64_t> os(R);
  for (int d = 0; d < R; ++d) os[d] = before[d] + shape[d] + after[d];
  const int64_t n = prod(os);
  if (n == 0) return;
  if (R == 0) { out[0] = x[0]; return; }
  const int64_t L = os[R - 1], xl = shape[R - 1], bl = before[R - 1];
  std::vector<int64_t> outer(os.begin(), os.end() - 1);
  std::vector<int64_t> xstride(R);
  { int64_t s = 1; for (int d = R - 1; d >= 0; --d) { xstride[d] = s; s *= shape[d]; } }
  parallelFor(prod(outer), L, [&](int64_t b, int64_t e) {
    walkRows(outer, b, e, [&](int64_t row, const std::vector<int64_t>& c) {
      T* o = out + row * L;
      bool inside = xl > 0;
      int64_t off = 0;
      for (int d = 0; d < R - 1 && inside; ++d) {
        const int64_t xi = c[d] - before[d];
        inside = xi >= 0 && xi < shape[d];
        off += xi * xstride[d];
      }
      if (!inside) { fillN(o, fill, L); return; }
      fillN(o, fill, bl);
      copyN(o + bl, x + off, xl);
      fillN(o + bl + xl, fill, L - bl - xl);
    });
  });
}

Napi::Value Pad(const Napi::CallbackInfo& info) {
  const Arr x = arr(info[0]);
  const std::vector<int64_t> shape = ivec(info[1]), before = ivec(info[2]), after = ivec(info[3]);
  const Arr f = arr(info[4]);
  const Arr o = arr(info[5]);
  const size_t R = shape.size();
  bool ok = before.size() == R && after.size() == R && x.es == o.es && f.es == o.es && f.n >= 1 &&
            int64_t(x.n) >= prod(shape);
  int64_t n = 1;
  for (size_t d = 0; ok && d < R; ++d) {
    ok = before[d] >= 0 && after[d] >= 0;
    n *= before[d] + shape[d] + after[d];
  }
  if (!ok || int64_t(o.n) < n) throw Napi::RangeError::New(info.Env(), "ewPad: bad arguments");
  switch (x.es) {
    case 1: padT(reinterpret_cast<const uint8_t*>(x.p), reinterpret_cast<uint8_t*>(o.p), shape, before, after, *reinterpret_cast<uint8_t*>(f.p)); break;
    case 2: padT(reinterpret_cast<const uint16_t*>(x.p), reinterpret_cast<uint16_t*>(o.p), shape, before, after, *reinterpret_cast<uint16_t*>(f.p)); break;
    case 4: padT(reinterpret_cast<const uint32_t*>(x.p), reinterpret_cast<uint32_t*>(o.p), shape, before, after, *reinterpret_cast<uint32_t*>(f.p)); break;
    default: padT(reinterpret_cast<const uint64_t*>(x.p), reinterpret_cast<uint64_t*>(o.p), shape, before, after, *reinterpret_cast<uint64_t*>(f.p)); break;
  }
  return info.Env().Undefined();
}

// ---- tile -----------------------------------------------------------------------------------------------
template <class T>
void tileT(const T* x, T* out, const std::vector<int64_t>& shape, const std::vector<int64_t>& reps) {
  const int R = int(shape.size());
  if (R == 0) { out[0] = x[0]; return; }
  std::vector<int64_t> os(R);
  for (int d = 0; d < R; ++d) os[d] = shape[d] * reps[d];
  if (prod(os) == 0) return;
  const int64_t xl = shape[R - 1], L = os[R - 1];
  std::vector<int64_t> outer(os.begin(), os.end() - 1);
  std::vector<int64_t> xstride(R);
  { int64_t s = 1; for (int d = R - 1; d >= 0; --d) { xstride[d] = s; s *= shape[d]; } }
  parallelFor(prod(outer), L, [&](int64_t b, int64_t e) {
    walkRows(outer, b, e, [&](int64_t row, const std::vector<int64_t>& c) {
      int64_t off = 0;
      for (int d = 0; d < R - 1; ++d) off += (c[d] % shape[d]) * xstride[d];
      T* o = out + row * L;
      if (xl == 1) { fillN(o, x[off], L); return; }
      for (int64_t r = 0; r < reps[R - 1]; ++r) copyN(o + r * xl, x + off, xl);
    });
  });
}

Napi::Value Tile(const Napi::CallbackInfo& info) {
  const Arr x = arr(info[0]);
  const std::vector<int64_t> shape = ivec(info[1]), reps = ivec(info[2]);
  const Arr o = arr(info[3]);
  const size_t R = shape.size();
  bool ok = reps.size() == R && x.es == o.es && int64_t(x.n) >= prod(shape);
  int64_t n = 1;
  for (size_t d = 0; ok && d < R; ++d) { ok = reps[d] >= 0; n *= shape[d] * reps[d]; }
  if (!ok || int64_t(o.n) < n) throw Napi::RangeError::New(info.Env(), "ewTile: bad arguments");
  switch (x.es) {
    case 1: tileT(reinterpret_cast<const uint8_t*>(x.p), reinterpret_cast<uint8_t*>(o.p), shape, reps); break;
    case 2: tileT(reinterpret_cast<const uint16_t*>(x.p), reinterpret_cast<uint16_t*>(o.p), shape, reps); break;
    case 4: tileT(reinterpret_cast<const uint32_t*>(x.p), reinterpret_cast<uint32_t*>(o.p), shape, reps); break;
    default: tileT(reinterpret_cast<const uint64_t*>(x.p), reinterpret_cast<uint64_t*>(o.p), shape, reps); break;
  }
  return info.Env().Undefined();
}

// ---- concat ---------------------------------------------------------------------------------------------
Napi::Value Concat(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  auto xs = info[0].As<Napi::Array>();
  const std::vector<int64_t> inner = ivec(info[1]);
  const int64_t rows = info[2].As<Napi::Number>().Int64Value();
  const Arr o = arr(info[3]);
  const uint32_t m = xs.Length();
  if (inner.size() != m) throw Napi::RangeError::New(env, "ewConcat: bad arguments");
  std::vector<const char*> src(m);
  int64_t rowLen = 0;
  for (uint32_t i = 0; i < m; ++i) {
    const Arr a = arr(xs.Get(i));
    if (a.es != o.es || int64_t(a.n) < rows * inner[i]) throw Napi::RangeError::New(env, "ewConcat: bad input");
    src[i] = a.p;
    rowLen += inner[i];
  }
  if (int64_t(o.n) < rows * rowLen) throw Napi::RangeError::New(env, "ewConcat: output too small");
  const int es = o.es;
  parallelFor(rows, rowLen, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      char* dst = o.p + r * rowLen * es;
      for (uint32_t i = 0; i < m; ++i) {
        const int64_t bytes = inner[i] * es;
        std::memcpy(dst, src[i] + r * bytes, size_t(bytes));
        dst += bytes;
      }
    }
  });
  return env.Undefined();
}

// ---- cast -----------------------------------------------------------------------------------------------
int32_t jsToInt32(float v) {
  if (!(std::fabs(v) < kInf)) return 0;  // NaN, +-Inf
  double m = std::fmod(std::trunc(double(v)), 4294967296.0);
  if (m < 0) m += 4294967296.0;
  if (m >= 2147483648.0) m -= 4294967296.0;
  return int32_t(m);
}
LWLR_SIMD int f32ToI32(const float* __restrict x, int32_t* __restrict o, int64_t n) {
  int out = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    const bool in = std::fabs(v) < 2147483648.f;
    o[i] = int32_t(in ? v : 0.f);
    out |= !in;
  }
  return out;
}
LWLR_SIMD void f32ToBool(const float* __restrict x, uint8_t* __restrict o, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = x[i] != 0.f;  // NaN -> 1, as tfjs (a !== 0)
}
LWLR_SIMD void i32ToBool(const int32_t* __restrict x, uint8_t* __restrict o, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = x[i] != 0;
}
LWLR_SIMD void i32ToF32c(const int32_t* __restrict x, float* __restrict o, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = float(x[i]);
}
LWLR_SIMD void u8ToF32c(const uint8_t* __restrict x, float* __restrict o, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = float(x[i]);
}
LWLR_SIMD void u8ToI32(const uint8_t* __restrict x, int32_t* __restrict o, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = int32_t(x[i]);
}

Napi::Value Cast(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const int mode = info[0].As<Napi::Number>().Int32Value();
  size_t n = 0, no = 0;
  napi_typedarray_type tx, to;
  void* x = tdata(info[1], &n, &tx);
  void* o = tdata(info[2], &no, &to);
  static const napi_typedarray_type kIn[] = {napi_float32_array, napi_float32_array, napi_int32_array,
                                             napi_int32_array, napi_uint8_array, napi_uint8_array};
  static const napi_typedarray_type kOut[] = {napi_int32_array, napi_uint8_array, napi_uint8_array,
                                              napi_float32_array, napi_float32_array, napi_int32_array};
  if (mode < 0 || mode > 5 || tx != kIn[mode] || to != kOut[mode] || no < n) {
    throw Napi::TypeError::New(env, "ewCast: bad arguments");
  }
  parallelFor(int64_t(n), 1, [&](int64_t b, int64_t e) {
    switch (mode) {
      case 0: {
        const float* xf = static_cast<const float*>(x) + b;
        int32_t* oi = static_cast<int32_t*>(o) + b;
        if (f32ToI32(xf, oi, e - b)) {
          for (int64_t i = 0; i < e - b; ++i) if (!(std::fabs(xf[i]) < 2147483648.f)) oi[i] = jsToInt32(xf[i]);
        }
        break;
      }
      case 1: f32ToBool(static_cast<const float*>(x) + b, static_cast<uint8_t*>(o) + b, e - b); break;
      case 2: i32ToBool(static_cast<const int32_t*>(x) + b, static_cast<uint8_t*>(o) + b, e - b); break;
      case 3: i32ToF32c(static_cast<const int32_t*>(x) + b, static_cast<float*>(o) + b, e - b); break;
      case 4: u8ToF32c(static_cast<const uint8_t*>(x) + b, static_cast<float*>(o) + b, e - b); break;
      case 5: u8ToI32(static_cast<const uint8_t*>(x) + b, static_cast<int32_t*>(o) + b, e - b); break;
    }
  });
  return env.Undefined();
}

}  // namespace

LWLR_EXPORT("ewTranspose", Transpose);
LWLR_EXPORT("ewSlice", Slice);
LWLR_EXPORT("ewPad", Pad);
LWLR_EXPORT("ewTile", Tile);
LWLR_EXPORT("ewConcat", Concat);
LWLR_EXPORT("ewCast", Cast);

}  // namespace ew
}  // namespace lwlr
