// Index kernels: the embedding lookup of a language model and its gradient, and one-hot targets.
//
//   gatherRows(x, batch, outer, dim, inner, indices: Int32Array, nIdx, out) -> -1, or the position of the first bad index
//       x viewed as [batch, outer, dim, inner] (any 1- or 4-byte element type), indices as [batch, nIdx];
//       out[b, o, i, :] = x[b, o, indices[b, i], :]  (tfjs GatherV2 with batchDims; out is [batch, outer, nIdx, inner]).
//       Nothing is written when an index is outside [0, dim): the caller reports it.
//   segmentSum(x: Float32Array, ids: Int32Array, numSegments, out: Float32Array)
//       x viewed as [n, inner] with n = ids.length; out [numSegments, inner] = 0, then out[ids[r], :] += x[r, :]
//       in row order (ids outside [0, numSegments) are dropped, as TensorFlow and tfjs do).
//   oneHot(indices: Int32Array, depth, on, off, out: Float32Array | Int32Array)
//       out [n, depth] = off, out[i, indices[i]] = on where the index is in [0, depth).
//
// Threads split gatherRows over output rows and segmentSum over columns (each thread owns a column range and
// walks every row in order), so results are deterministic and equal to a sequential loop bit for bit.
#include "addon.h"
#include "ew_common.h"

namespace lwlr {
namespace ew {
namespace {

template <class T>
void gatherT(const T* x, T* out, int64_t batch, int64_t outer, int64_t dim, int64_t inner, const int32_t* idx,
             int64_t nIdx) {
  const int64_t rows = batch * outer * nIdx;  // output rows of `inner` elements
  parallelFor(rows, std::max<int64_t>(inner, 1), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t i = r % nIdx;
      const int64_t bo = r / nIdx;  // b * outer + o
      const int64_t bi = bo / outer;
      const int64_t src = (bo * dim + idx[bi * nIdx + i]) * inner;
      if (inner == 1) out[r] = x[src];
      else std::memcpy(out + r * inner, x + src, size_t(inner) * sizeof(T));
    }
  });
}

Napi::Value GatherRows(const Napi::CallbackInfo& info) {
  size_t xn = 0, on = 0, in = 0;
  napi_typedarray_type xt, ot;
  void* x = tdata(info[0], &xn, &xt);
  const int64_t batch = int64_t(num(info[1])), outer = int64_t(num(info[2])), dim = int64_t(num(info[3])),
                inner = int64_t(num(info[4]));
  const int32_t* idx = i32p(info[5], &in);
  const int64_t nIdx = int64_t(num(info[6]));
  void* out = tdata(info[7], &on, &ot);
  const int es = elemSize(xt);
  if (es != elemSize(ot) || (es != 4 && es != 1)) throw Napi::TypeError::New(info.Env(), "gatherRows: x and out must be 4-byte or 1-byte arrays of one size");
  if (int64_t(xn) != batch * outer * dim * inner || int64_t(in) != batch * nIdx || int64_t(on) != batch * outer * nIdx * inner) {
    throw Napi::RangeError::New(info.Env(), "gatherRows: sizes do not match the shape");
  }
  for (int64_t i = 0; i < int64_t(in); ++i) {
    if (idx[i] < 0 || idx[i] >= dim) return Napi::Number::New(info.Env(), double(i));
  }
  if (es == 4) gatherT(static_cast<const int32_t*>(x), static_cast<int32_t*>(out), batch, outer, dim, inner, idx, nIdx);
  else gatherT(static_cast<const uint8_t*>(x), static_cast<uint8_t*>(out), batch, outer, dim, inner, idx, nIdx);
  return Napi::Number::New(info.Env(), -1);
}

Napi::Value SegmentSum(const Napi::CallbackInfo& info) {
  size_t xn = 0, n = 0, on = 0;
  const float* x = f32p(info[0], &xn);
  const int32_t* ids = i32p(info[1], &n);
  const int64_t segs = int64_t(num(info[2]));
  float* out = f32p(info[3], &on);
  if (n == 0) {  // no rows: all zeros
    std::memset(out, 0, on * sizeof(float));
    return info.Env().Undefined();
  }
  if (xn % n != 0) throw Napi::RangeError::New(info.Env(), "segmentSum: x is not [ids, inner]");
  const int64_t inner = int64_t(xn / n);
  if (int64_t(on) != segs * inner) throw Napi::RangeError::New(info.Env(), "segmentSum: out is not [numSegments, inner]");
  const int64_t rows = int64_t(n);
  // Columns per thread: whole cache lines where the row is wide enough.
  parallelFor(inner, rows + segs, [&](int64_t c0, int64_t c1) {
    const int64_t w = c1 - c0;
    for (int64_t s = 0; s < segs; ++s) std::memset(out + s * inner + c0, 0, size_t(w) * sizeof(float));
    for (int64_t r = 0; r < rows; ++r) {
      const int32_t s = ids[r];
      if (s < 0 || s >= segs) continue;
      float* o = out + int64_t(s) * inner + c0;
      const float* xr = x + r * inner + c0;
      for (int64_t c = 0; c < w; ++c) o[c] += xr[c];
    }
  });
  return info.Env().Undefined();
}

template <class T>
void oneHotT(const int32_t* idx, int64_t n, int64_t depth, T hot, T cold, T* out) {
  parallelFor(n, depth, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      T* o = out + i * depth;
      for (int64_t d = 0; d < depth; ++d) o[d] = cold;
      if (idx[i] >= 0 && idx[i] < depth) o[idx[i]] = hot;
    }
  });
}

Napi::Value OneHot(const Napi::CallbackInfo& info) {
  size_t n = 0, on = 0;
  const int32_t* idx = i32p(info[0], &n);
  const int64_t depth = int64_t(num(info[1]));
  const double hot = num(info[2]), cold = num(info[3]);
  napi_typedarray_type t;
  void* out = tdata(info[4], &on, &t);
  if (int64_t(on) != int64_t(n) * depth) throw Napi::RangeError::New(info.Env(), "oneHot: out is not [n, depth]");
  if (t == napi_float32_array) oneHotT(idx, int64_t(n), depth, float(hot), float(cold), static_cast<float*>(out));
  else if (t == napi_int32_array) oneHotT(idx, int64_t(n), depth, int32_t(hot), int32_t(cold), static_cast<int32_t*>(out));
  else throw Napi::TypeError::New(info.Env(), "oneHot: out must be a Float32Array or an Int32Array");
  return info.Env().Undefined();
}

}  // namespace

LWLR_EXPORT("gatherRows", GatherRows);
LWLR_EXPORT("segmentSum", SegmentSum);
LWLR_EXPORT("oneHot", OneHot);

}  // namespace ew
}  // namespace lwlr
