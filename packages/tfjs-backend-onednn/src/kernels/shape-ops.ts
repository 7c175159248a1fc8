/**
 * Data-movement kernels (native/shape_ops.cc): Transpose, Slice, PadV2, Tile, Concat — on float32, int32 and
 * bool storage alike (the native side works on element sizes) — and Cast between float32, int32 and bool
 * with tfjs's semantics (float -> int truncates with JavaScript's ToInt32; -> bool is `x != 0`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { allocLike, f32In, movable, nativeKernel, noteFallback, rawValues, sizeOf, type Values } from './ew-util.js';
import { ensureGradient } from './gradients.js';

function fillArray(like: Values, value: number): Values {
  if (like instanceof Float32Array) return new Float32Array([value]);
  if (like instanceof Int32Array) return new Int32Array([value]);
  return new Uint8Array([value]);
}

const lazyBroadcasts = process.env.LWLR_LAZY !== '0';

/** Whether transposing `shape` by `perm` keeps the dims of size > 1 in their order (the data does not move). */
export function movesNoData(shape: readonly number[], perm: readonly number[]): boolean {
  let last = -1;
  for (const p of perm) {
    if (shape[p] === 1) continue;
    if (p < last) return false;
    last = p;
  }
  return true;
}

function tileOnCpu(backend: Parameters<typeof movable>[0], x: tf.TensorInfo, reps: number[]): tf.TensorInfo {
  return tf.getKernel('Tile', 'cpu')!.kernelFunc({ inputs: { x }, backend, attrs: { reps } }) as tf.TensorInfo;
}

export const shapeKernels: tf.KernelConfig[] = [
  nativeKernel('Transpose', ({ inputs, backend, attrs }) => {
    const x = inputs.x!;
    const perm = attrs.perm as number[];
    const shape = perm.map((p) => x.shape[p]!);
    if (movesNoData(x.shape, perm)) {
      // The same elements in the same order (an identity perm, or only size-1 dims move): share the storage,
      // as Reshape does. tfjs-layers' Dense transposes its kernel with the identity perm on every call.
      backend.incRef(x.dataId);
      return { dataId: x.dataId, shape, dtype: x.dtype };
    }
    const xv = movable(backend, x);
    if (xv === null) return null;
    const out = allocLike(backend, xv, sizeOf(shape));
    backend.native.ewTranspose(xv, x.shape, perm, out);
    return backend.makeTensorInfo(shape, x.dtype, out);
  }),

  nativeKernel('Slice', ({ inputs, backend, attrs }) => {
    const x = inputs.x!;
    const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin as number[], attrs.size as number[]);
    tf.slice_util.assertParamsValid(x as tf.Tensor, begin, size);
    if (tf.slice_util.isSliceContinous(x.shape, begin, size)) {
      // The cpu kernel returns a zero-copy view (subarray) of a contiguous slice: nothing to gain natively.
      noteFallback('Slice', 'contiguous slice: the cpu kernel makes a zero-copy view');
      return null;
    }
    const xv = movable(backend, x);
    if (xv === null) return null;
    const out = allocLike(backend, xv, sizeOf(size));
    backend.native.ewSlice(xv, x.shape, begin, size, out);
    return backend.makeTensorInfo(size, x.dtype, out);
  }),

  // SplitV (e.g. attention heads) as one Slice per part: the native strided copy above, or a zero-copy view
  // where the part is contiguous; the cpu kernel would copy each part element by element in JavaScript.
  nativeKernel('SplitV', ({ inputs, backend, attrs }) => {
    const x = inputs.x!;
    const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits as number[] | number, axis);
    const slice = tf.getKernel('Slice', 'onednn')!.kernelFunc;
    const begin: number[] = new Array(x.shape.length).fill(0);
    return sizes.map((n) => {
      const size = [...x.shape];
      size[axis] = n;
      const out = slice({ inputs: { x }, backend, attrs: { begin: [...begin], size } }) as tf.TensorInfo;
      begin[axis] += n;
      return out;
    });
  }),

  nativeKernel('PadV2', ({ inputs, backend, attrs }) => {
    const x = inputs.x!;
    const paddings = attrs.paddings as [number, number][];
    const xv = movable(backend, x);
    if (xv === null) return null;
    const before = paddings.map((p) => p[0]);
    const after = paddings.map((p) => p[1]);
    const shape = x.shape.map((s, i) => before[i]! + s + after[i]!);
    const out = allocLike(backend, xv, sizeOf(shape));
    backend.native.ewPad(xv, x.shape, before, after, fillArray(xv, Number(attrs.constantValue ?? 0)), out);
    return backend.makeTensorInfo(shape, x.dtype, out);
  }),

  nativeKernel('Tile', ({ inputs, backend, attrs }) => {
    const x = inputs.x!;
    const reps = attrs.reps as number[];
    ensureGradient('Tile');
    if (reps.length !== x.shape.length) return null;
    const shape = x.shape.map((s, i) => s * reps[i]!);
    const run = () => {
      const xv = movable(backend, x);
      if (xv === null) return null;
      const out = allocLike(backend, xv, sizeOf(shape));
      backend.native.ewTile(xv, x.shape, reps, out);
      return backend.makeTensorInfo(shape, x.dtype, out);
    };
    // A broadcast (reps only on size-1 dims, as broadcastTo makes for the gradients of Sum/Mean and of
    // broadcasting binary ops) is deferred: the binary kernels read its source instead, and it is only
    // written out when something else reads it (see binary.ts, backend.broadcastSource).
    const isBroadcast = reps.every((r, i) => r === 1 || x.shape[i] === 1);
    if (lazyBroadcasts && isBroadcast && x.dtype === 'float32' && sizeOf(shape) >= 1024) {
      return backend.lazyTensorInfo(shape, 'float32', [x], () => run() ?? tileOnCpu(backend, x, reps), {
        broadcastOf: { dataId: x.dataId, shape: x.shape, dtype: x.dtype },
      });
    }
    return run();
  }),

  nativeKernel('Concat', ({ inputs, backend, attrs }) => {
    const ts = inputs as unknown as tf.TensorInfo[];
    if (ts.length === 0) return null;
    const axis = tf.util.parseAxisParam(attrs.axis as number, ts[0]!.shape)[0]!;
    const dtype = ts[0]!.dtype;
    const shapes = ts.map((t) => t.shape);
    tf.backend_util.assertParamsConsistent(shapes, axis);
    const outShape = tf.backend_util.computeOutShape(shapes, axis);
    const nonEmpty = ts.filter((t) => sizeOf(t.shape) > 0);
    // Empty output and a single non-empty input (identity) are the cpu kernel's (no copy).
    if (sizeOf(outShape) === 0 || nonEmpty.length < 2) return null;
    const vals: Values[] = [];
    const inner: number[] = [];
    for (const t of nonEmpty) {
      if (t.dtype !== dtype) return null;
      const v = movable(backend, t);
      if (v === null || (vals.length > 0 && v.constructor !== vals[0]!.constructor)) return null;
      vals.push(v);
      inner.push(sizeOf(t.shape.slice(axis)));
    }
    const rows = sizeOf(outShape.slice(0, axis));
    const out = allocLike(backend, vals[0]!, sizeOf(outShape));
    backend.native.ewConcat(vals, inner, rows, out);
    return backend.makeTensorInfo(outShape, dtype, out);
  }),

  nativeKernel('Cast', ({ inputs, backend, attrs }) => {
    const x = inputs.x!;
    const to = attrs.dtype as tf.DataType;
    const from = x.dtype;
    // Same dtype and lossless ones the cpu kernel shares storage for are handled below only when they make
    // a float32 tensor (so that float32 tensors made here are always Float32Array-backed).
    const v = rawValues(backend, x);
    const n = sizeOf(x.shape);
    let mode = -1;
    let out: Values | null = null;
    if (from === 'float32' && v instanceof Float32Array) {
      if (to === 'int32') { mode = 0; out = new Int32Array(n); }
      else if (to === 'bool') { mode = 1; out = new Uint8Array(n); }
    } else if (from === 'int32' && v instanceof Int32Array) {
      if (to === 'bool') { mode = 2; out = new Uint8Array(n); }
      else if (to === 'float32') { mode = 3; out = allocLike(backend, new Float32Array(0), n); }
    } else if (from === 'bool' && v instanceof Uint8Array) {
      if (to === 'float32') { mode = 4; out = allocLike(backend, new Float32Array(0), n); }
      else if (to === 'int32') { mode = 5; out = new Int32Array(n); }
    } else if (from === 'float32' && to === 'float32') {
      return null;
    }
    if (mode < 0 || out === null) {
      // float32 stored as Int32Array/Uint8Array and cast to int32/bool: convert then cast.
      if (from === 'float32' && (to === 'int32' || to === 'bool')) {
        const f = f32In(backend, x);
        if (f === null) return null;
        const o = to === 'int32' ? new Int32Array(n) : new Uint8Array(n);
        backend.native.ewCast(to === 'int32' ? 0 : 1, f, o);
        return backend.makeTensorInfo(x.shape, to, o);
      }
      return null;
    }
    backend.native.ewCast(mode, v, out);
    return backend.makeTensorInfo(x.shape, to, out);
  }),
];
