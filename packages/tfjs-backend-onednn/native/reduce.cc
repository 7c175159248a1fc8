// Reductions over the middle axis of a [outer, r, inner] view (the JS side groups any set of axes into
// this form, transposing first only when the reduced axes are not one contiguous block), Softmax /
// LogSoftmax over the last axis, and the scalar norms used by optimizers.
//
//   ewReduce(op, x: Float32Array, outer, r, inner, out: Float32Array | Int32Array)
//     op: 0 sum, 1 mean, 2 max, 3 min, 4 prod, 5 argmax, 6 argmin (out Int32Array for 5 and 6),
//         7 sum of squares, 8 mean of squares
//   ewSoftmax(x, rows, cols, out, log: boolean)
//   ewSumAbs(x) -> number, ewSumSquares(x) -> number    (double accumulation)
//
// inner == 1 reduces contiguous rows (vector loop with a SIMD reduction); inner > 1 accumulates whole rows
// of `inner` elements (e.g. the bias gradient, Sum over axis 0 of [B, N]). Sums and products accumulate in
// double, as tfjs-backend-cpu does in JavaScript; max/min propagate NaN as tfjs does; argmax/argmin return
// the first index of the extreme value and ignore NaN after the first element, as tfjs does.
#include "addon.h"
#include "ew_common.h"

namespace lwlr {
namespace ew {
namespace {

enum ReduceOp { kSum = 0, kMean, kMax, kMin, kProd, kArgMax, kArgMin, kSumSq, kMeanSq };
// kSumSq / kMeanSq: the sum / mean of x*x (each square rounded to float first, as Square then Sum would).

// ---- contiguous rows -------------------------------------------------------------------------------------
LWLR_SIMD double rowSumSq(const float* __restrict x, int64_t n) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) {
    const float q = x[i] * x[i];
    s += double(q);
  }
  return s;
}
LWLR_SIMD double rowProd(const float* __restrict x, int64_t n) {
  double p = 1;
#pragma omp simd reduction(* : p)
  for (int64_t i = 0; i < n; ++i) p *= double(x[i]);
  return p;
}
LWLR_SIMD float rowMax(const float* __restrict x, int64_t n) {
  float m = x[0];
  int nan = 0;
#pragma omp simd reduction(max : m) reduction(| : nan)
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    m = v > m ? v : m;
    nan |= v != v;
  }
  return nan ? kNaN : m;
}
LWLR_SIMD float rowMin(const float* __restrict x, int64_t n) {
  float m = x[0];
  int nan = 0;
#pragma omp simd reduction(min : m) reduction(| : nan)
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    m = v < m ? v : m;
    nan |= v != v;
  }
  return nan ? kNaN : m;
}
template <bool kIsMax>
int32_t rowArg(const float* x, int64_t n) {
  float best = x[0];
  int32_t bi = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    if (kIsMax ? v > best : v < best) {
      best = v;
      bi = int32_t(i);
    }
  }
  return bi;
}

// ---- whole rows (inner > 1) ------------------------------------------------------------------------------
// Each accumulates `rows` rows of `w` elements, `stride` apart, into acc (one call per block of rows).
LWLR_SIMD void colSumInit(double* __restrict acc, const float* __restrict x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) acc[i] = double(x[i]);
}
LWLR_SIMD void colSum(double* __restrict acc, const float* __restrict x, int64_t rows, int64_t stride, int64_t w) {
  for (int64_t j = 0; j < rows; ++j, x += stride)
    for (int64_t i = 0; i < w; ++i) acc[i] += double(x[i]);
}
LWLR_SIMD void colSumSqInit(double* __restrict acc, const float* __restrict x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float q = x[i] * x[i];
    acc[i] = double(q);
  }
}
LWLR_SIMD void colSumSq(double* __restrict acc, const float* __restrict x, int64_t rows, int64_t stride, int64_t w) {
  for (int64_t j = 0; j < rows; ++j, x += stride)
    for (int64_t i = 0; i < w; ++i) {
      const float q = x[i] * x[i];
      acc[i] += double(q);
    }
}
LWLR_SIMD void colProd(double* __restrict acc, const float* __restrict x, int64_t rows, int64_t stride, int64_t w) {
  for (int64_t j = 0; j < rows; ++j, x += stride)
    for (int64_t i = 0; i < w; ++i) acc[i] *= double(x[i]);
}
LWLR_SIMD void colMax(float* __restrict acc, const float* __restrict x, int64_t rows, int64_t stride, int64_t w) {
  for (int64_t j = 0; j < rows; ++j, x += stride) {
    for (int64_t i = 0; i < w; ++i) {
      const float v = x[i], a = acc[i];
      acc[i] = (v > a || v != v) ? v : a;  // once NaN, stays NaN
    }
  }
}
LWLR_SIMD void colMin(float* __restrict acc, const float* __restrict x, int64_t rows, int64_t stride, int64_t w) {
  for (int64_t j = 0; j < rows; ++j, x += stride) {
    for (int64_t i = 0; i < w; ++i) {
      const float v = x[i], a = acc[i];
      acc[i] = (v < a || v != v) ? v : a;
    }
  }
}
template <bool kIsMax>
LWLR_SIMD void colArg(float* __restrict best, int32_t* __restrict idx, const float* __restrict x, int64_t rows,
                      int64_t stride, int64_t w, int32_t j0) {
  for (int64_t j = 0; j < rows; ++j, x += stride) {
    const int32_t jj = j0 + int32_t(j);
    for (int64_t i = 0; i < w; ++i) {
      const float v = x[i], b = best[i];
      const bool take = kIsMax ? v > b : v < b;
      best[i] = take ? v : b;
      idx[i] = take ? jj : idx[i];
    }
  }
}
LWLR_SIMD void doubleToFloat(float* __restrict o, const double* __restrict a, int64_t n, double scale) {
  for (int64_t i = 0; i < n; ++i) o[i] = float(a[i] * scale);
}

// Reduces rows [r0, r1) of the [r, inner] block x, columns [k0, k1), into out (double acc for sum/prod).
void colBlock(int op, const float* x, int64_t r0, int64_t r1, int64_t inner, int64_t k0, int64_t k1,
              double* dacc, float* facc, int32_t* iacc, bool sq) {
  const int64_t w = k1 - k0;
  const float* row0 = x + r0 * inner + k0;
  const float* row1 = row0 + inner;
  const int64_t rest = r1 - r0 - 1;
  switch (op) {
    case kSum: case kMean:
      if (sq) {
        colSumSqInit(dacc, row0, w);
        colSumSq(dacc, row1, rest, inner, w);
      } else {
        colSumInit(dacc, row0, w);
        colSum(dacc, row1, rest, inner, w);
      }
      break;
    case kProd:
      colSumInit(dacc, row0, w);
      colProd(dacc, row1, rest, inner, w);
      break;
    case kMax:
      std::memcpy(facc, row0, w * 4);
      colMax(facc, row1, rest, inner, w);
      break;
    case kMin:
      std::memcpy(facc, row0, w * 4);
      colMin(facc, row1, rest, inner, w);
      break;
    case kArgMax: case kArgMin:
      std::memcpy(facc, row0, w * 4);
      std::fill(iacc, iacc + w, int32_t(r0));
      if (op == kArgMax) colArg<true>(facc, iacc, row1, rest, inner, w, int32_t(r0 + 1));
      else colArg<false>(facc, iacc, row1, rest, inner, w, int32_t(r0 + 1));
      break;
  }
}

Napi::Value Reduce(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  int op = info[0].As<Napi::Number>().Int32Value();
  if (op < kSum || op > kMeanSq) throw Napi::RangeError::New(env, "ewReduce: bad op");
  const bool sq = op == kSumSq || op == kMeanSq;
  if (sq) op = op == kSumSq ? kSum : kMean;
  size_t nx = 0, no = 0;
  const float* x = f32p(info[1], &nx);
  const int64_t outer = info[2].As<Napi::Number>().Int64Value();
  const int64_t r = info[3].As<Napi::Number>().Int64Value();
  const int64_t inner = info[4].As<Napi::Number>().Int64Value();
  const bool isArg = op == kArgMax || op == kArgMin;
  void* outp = isArg ? static_cast<void*>(i32p(info[5], &no)) : static_cast<void*>(f32p(info[5], &no));
  float* outf = static_cast<float*>(outp);
  int32_t* outi = static_cast<int32_t*>(outp);
  if (outer < 0 || r < 1 || inner < 1 || int64_t(nx) < outer * r * inner || int64_t(no) < outer * inner) {
    throw Napi::RangeError::New(env, "ewReduce: bad sizes");
  }
  const double scale = op == kMean ? 1.0 / double(r) : 1.0;

  if (inner == 1) {
    const int64_t total = outer * r;
    const int T = threadsFor(total, 1);
    if (T > 1 && outer < 2 * T && !isArg && r >= 4096) {
      // Few long rows: split every row over the threads, combine the partials in order.
      std::vector<double> dpart(size_t(T) * outer);
      std::vector<float> fpart(size_t(T) * outer);
      std::vector<int64_t> cnt(size_t(T), 0);
#pragma omp parallel num_threads(T)
      {
        const int t = omp_get_thread_num();
        const int Tn = omp_get_num_threads();
        int64_t chunk = ((r + Tn - 1) / Tn + 15) & ~int64_t(15);
        const int64_t b = std::min<int64_t>(r, t * chunk), e = std::min<int64_t>(r, b + chunk);
        cnt[t] = e - b;
        for (int64_t o = 0; o < outer && b < e; ++o) {
          const float* row = x + o * r + b;
          switch (op) {
            case kSum: case kMean: dpart[t * outer + o] = sq ? rowSumSq(row, e - b) : rowSum(row, e - b); break;
            case kProd: dpart[t * outer + o] = rowProd(row, e - b); break;
            case kMax: fpart[t * outer + o] = rowMax(row, e - b); break;
            case kMin: fpart[t * outer + o] = rowMin(row, e - b); break;
          }
        }
      }
      for (int64_t o = 0; o < outer; ++o) {
        double d = op == kProd ? 1.0 : 0.0;
        float f = 0;
        bool first = true;
        for (int t = 0; t < T; ++t) {
          if (cnt[t] == 0) continue;
          if (op == kSum || op == kMean) d += dpart[t * outer + o];
          else if (op == kProd) d *= dpart[t * outer + o];
          else {
            const float v = fpart[t * outer + o];
            if (first) f = v;
            else if (v != v || f != f) f = kNaN;
            else f = op == kMax ? std::max(f, v) : std::min(f, v);
          }
          first = false;
        }
        outf[o] = (op == kMax || op == kMin) ? f : float(d * scale);
      }
      return env.Undefined();
    }
    parallelFor(outer, r, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        const float* row = x + o * r;
        switch (op) {
          case kSum: case kMean: outf[o] = float((sq ? rowSumSq(row, r) : rowSum(row, r)) * scale); break;
          case kProd: outf[o] = float(rowProd(row, r)); break;
          case kMax: outf[o] = rowMax(row, r); break;
          case kMin: outf[o] = rowMin(row, r); break;
          case kArgMax: outi[o] = rowArg<true>(row, r); break;
          case kArgMin: outi[o] = rowArg<false>(row, r); break;
        }
      }
    });
    return env.Undefined();
  }

  // inner > 1: accumulate whole rows. Work items are (o, block of columns); when there are too few of them
  // for the threads and r is long, rows are split over the threads and partials combined.
  const int64_t total = outer * r * inner;
  const int T = threadsFor(total, 1);
  auto store = [&](int64_t o, int64_t k0, int64_t w, const double* dacc, const float* facc, const int32_t* iacc) {
    if (op == kSum || op == kMean || op == kProd) doubleToFloat(outf + o * inner + k0, dacc, w, scale);
    else if (isArg) std::memcpy(outi + o * inner + k0, iacc, w * 4);
    else std::memcpy(outf + o * inner + k0, facc, w * 4);
  };
  // column blocks: at most 1024 wide, narrow enough that every thread gets one when outer is small
  const int64_t kBlock = std::min<int64_t>(1024, std::max<int64_t>(64, ((inner + T - 1) / T + 15) & ~int64_t(15)));
  if (T > 1 && outer * inner < int64_t(T) * 64 && r >= 64 * T && !isArg) {
    const int64_t cols = outer * inner;
    std::vector<double> dpart(size_t(T) * cols);
    std::vector<float> fpart(size_t(T) * cols);
    std::vector<int64_t> cnt(size_t(T), 0);
#pragma omp parallel num_threads(T)
    {
      const int t = omp_get_thread_num();
      const int Tn = omp_get_num_threads();
      const int64_t chunk = (r + Tn - 1) / Tn;
      const int64_t b = std::min<int64_t>(r, t * chunk), e = std::min<int64_t>(r, b + chunk);
      cnt[t] = e - b;
      if (b < e) {
        for (int64_t o = 0; o < outer; ++o) {
          colBlock(op, x + o * r * inner, b, e, inner, 0, inner, dpart.data() + t * cols + o * inner,
                   fpart.data() + t * cols + o * inner, nullptr, sq);
        }
      }
    }
    for (int64_t c = 0; c < cols; ++c) {
      double d = op == kProd ? 1.0 : 0.0;
      float f = 0;
      bool first = true;
      for (int t = 0; t < T; ++t) {
        if (cnt[t] == 0) continue;
        if (op == kSum || op == kMean) d += dpart[t * cols + c];
        else if (op == kProd) d *= dpart[t * cols + c];
        else {
          const float v = fpart[t * cols + c];
          if (first) f = v;
          else if (v != v || f != f) f = kNaN;
          else f = op == kMax ? std::max(f, v) : std::min(f, v);
        }
        first = false;
      }
      outf[c] = (op == kMax || op == kMin) ? f : float(d * scale);
    }
    return env.Undefined();
  }
  const int64_t kBlocks = (inner + kBlock - 1) / kBlock;
  parallelFor(outer * kBlocks, r * std::min(inner, kBlock), [&](int64_t b, int64_t e) {
    std::vector<double> dacc(size_t(std::min(inner, kBlock)));
    std::vector<float> facc(size_t(std::min(inner, kBlock)));
    std::vector<int32_t> iacc(size_t(std::min(inner, kBlock)));
    for (int64_t item = b; item < e; ++item) {
      const int64_t o = item / kBlocks, kb = item % kBlocks;
      const int64_t k0 = kb * kBlock, k1 = std::min(inner, k0 + kBlock);
      colBlock(op, x + o * r * inner, 0, r, inner, k0, k1, dacc.data(), facc.data(), iacc.data(), sq);
      store(o, k0, k1 - k0, dacc.data(), facc.data(), iacc.data());
    }
  });
  return env.Undefined();
}

// ---- centered sums of squares ----------------------------------------------------------------------------
// ewReduceCenteredSq(x, m, outer, r, inner, out, mean: boolean): out[o, k] = sum_j q(x[o, j, k] - m[o, k])
// (or the mean), q(d) = d*d, with x - m and the square each rounded to float first, exactly as Sub, Square
// then Sum would compute them, sums in double. The variance of tf.moments without writing x - m or its square.
LWLR_SIMD void centeredSqRows(double* __restrict acc, const float* __restrict x, const float* __restrict m,
                              int64_t rows, int64_t inner) {
  for (int64_t j = 0; j < rows; ++j, x += inner)
    for (int64_t k = 0; k < inner; ++k) {
      const float d = x[k] - m[k];
      const float q = d * d;
      acc[k] += double(q);
    }
}

Napi::Value ReduceCenteredSq(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  size_t nx = 0, nm = 0, no = 0;
  const float* x = f32p(info[0], &nx);
  const float* m = f32p(info[1], &nm);
  const int64_t outer = info[2].As<Napi::Number>().Int64Value();
  const int64_t r = info[3].As<Napi::Number>().Int64Value();
  const int64_t inner = info[4].As<Napi::Number>().Int64Value();
  float* out = f32p(info[5], &no);
  const bool mean = info[6].ToBoolean().Value();
  if (outer < 1 || r < 1 || inner < 1 || int64_t(nx) < outer * r * inner || int64_t(nm) < outer * inner ||
      int64_t(no) < outer * inner) {
    throw Napi::RangeError::New(env, "ewReduceCenteredSq: bad sizes");
  }
  const double scale = mean ? 1.0 / double(r) : 1.0;
  const int T = threadsFor(outer * r * inner, 1);
  // Threads split the rows r (partials combined in thread order) when there are few outputs, else the outputs.
  if (T > 1 && outer < 2 * T) {
    const int64_t cols = outer * inner;
    std::vector<double> part(size_t(T) * cols, 0.0);
#pragma omp parallel num_threads(T)
    {
      const int t = omp_get_thread_num();
      const int Tn = omp_get_num_threads();
      const int64_t chunk = (r + Tn - 1) / Tn;
      const int64_t b = std::min<int64_t>(r, t * chunk), e = std::min<int64_t>(r, b + chunk);
      for (int64_t o = 0; o < outer && b < e; ++o) {
        double* acc = part.data() + t * cols + o * inner;
        const float* xo = x + (o * r + b) * inner;
        if (inner == 1) acc[0] = centeredSqRow(xo, m[o], e - b);
        else centeredSqRows(acc, xo, m + o * inner, e - b, inner);
      }
    }
    for (int64_t c = 0; c < cols; ++c) {
      double d = 0;
      for (int t = 0; t < T; ++t) d += part[t * cols + c];
      out[c] = float(d * scale);
    }
    return env.Undefined();
  }
  parallelFor(outer, r * inner, [&](int64_t b, int64_t e) {
    std::vector<double> acc(static_cast<size_t>(inner));
    for (int64_t o = b; o < e; ++o) {
      const float* xo = x + o * r * inner;
      if (inner == 1) {
        out[o] = float(centeredSqRow(xo, m[o], r) * scale);
      } else {
        std::fill(acc.begin(), acc.end(), 0.0);
        centeredSqRows(acc.data(), xo, m + o * inner, r, inner);
        for (int64_t k = 0; k < inner; ++k) out[o * inner + k] = float(acc[k] * scale);
      }
    }
  });
  return env.Undefined();
}

// ---- softmax ---------------------------------------------------------------------------------------------
LWLR_SIMD float expShiftSum(const float* __restrict x, float* __restrict y, int64_t n, float m) {
  float s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) {
    const float e = vexp(x[i] - m);
    y[i] = e;
    s += e;
  }
  return s;
}
LWLR_SIMD float expShiftSumOnly(const float* __restrict x, int64_t n, float m) {
  float s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += vexp(x[i] - m);
  return s;
}
LWLR_SIMD void divBy(float* __restrict y, int64_t n, float s) {
  for (int64_t i = 0; i < n; ++i) y[i] = y[i] / s;
}
LWLR_SIMD void subConst(const float* __restrict x, float* __restrict y, int64_t n, float c) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] - c;
}

Napi::Value Softmax(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  size_t nx = 0, no = 0;
  const float* x = f32p(info[0], &nx);
  const int64_t rows = info[1].As<Napi::Number>().Int64Value();
  const int64_t cols = info[2].As<Napi::Number>().Int64Value();
  float* y = f32p(info[3], &no);
  const bool log = info[4].ToBoolean();
  if (rows < 0 || cols < 1 || int64_t(nx) < rows * cols || int64_t(no) < rows * cols) {
    throw Napi::RangeError::New(env, "ewSoftmax: bad sizes");
  }
  parallelFor(rows, cols * 6, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const float* xr = x + i * cols;
      float* yr = y + i * cols;
      const float m = rowMax(xr, cols);
      if (log) {
        const float s = expShiftSumOnly(xr, cols, m);
        subConst(xr, yr, cols, m + vlog(s));
      } else {
        const float s = expShiftSum(xr, yr, cols, m);
        divBy(yr, cols, s);
      }
    }
  });
  return env.Undefined();
}

// ---- scalar norms ----------------------------------------------------------------------------------------
LWLR_SIMD double sumAbs(const float* __restrict x, int64_t n) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += double(std::fabs(x[i]));
  return s;
}
LWLR_SIMD double sumSq(const float* __restrict x, int64_t n) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) {
    const double v = x[i];
    s += v * v;
  }
  return s;
}

template <bool kSquares>
Napi::Value ScalarReduce(const Napi::CallbackInfo& info) {
  size_t n = 0;
  const float* x = f32p(info[0], &n);
  const int T = threadsFor(int64_t(n), 1);
  double total = 0;
  if (T <= 1) {
    total = kSquares ? sumSq(x, int64_t(n)) : sumAbs(x, int64_t(n));
  } else {
    std::vector<double> part(size_t(T), 0.0);
    parallelFor(int64_t(n), 1, [&](int64_t b, int64_t e) { 
      part[size_t(omp_get_thread_num())] = kSquares ? sumSq(x + b, e - b) : sumAbs(x + b, e - b);
    });
    for (double p : part) total += p;
  }
  return Napi::Number::New(info.Env(), total);
}

}  // namespace

LWLR_EXPORT("ewReduce", Reduce);
LWLR_EXPORT("ewSoftmax", Softmax);
LWLR_EXPORT("ewReduceCenteredSq", ReduceCenteredSq);
LWLR_EXPORT("ewSumAbs", ScalarReduce<false>);
LWLR_EXPORT("ewSumSquares", ScalarReduce<true>);

}  // namespace ew
}  // namespace lwlr
