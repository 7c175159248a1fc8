/**
 * Index kernels (native/gather.cc): `GatherV2` (an embedding lookup, a batch gathered from a dataset held on the
 * device), `UnsortedSegmentSum` (the gradient of GatherV2 with respect to its params: a scatter-add) and
 * `OneHot` (the targets of a cross-entropy on integer labels).
 *
 * The cpu kernels do these in JavaScript: GatherV2 checks every index in a JS loop, and UnsortedSegmentSum runs
 * five kernels per segment (an equality mask, a cast, a multiply and a sum for each of `numSegments` segments),
 * so the gradient of a 256-token embedding cost 1,280 kernel calls a step. Here each is one native pass.
 * GatherV2 works on float32, int32 and bool storage, OneHot makes float32 or int32 (tf.oneHot's default),
 * UnsortedSegmentSum sums float32 (int32 goes to the cpu kernel, whose integer results are exact).
 */
import * as tf from '@tensorflow/tfjs-core';
import { allocLike, allocOutput, f32In, movable, nativeKernel, noteFallback, rawValues, sizeOf } from './ew-util.js';

/** The int32 storage of an index tensor, or null (a float32 or other storage: left to the cpu kernel). */
function indexValues(backend: Parameters<typeof rawValues>[0], t: tf.TensorInfo): Int32Array | null {
  const v = rawValues(backend, t);
  return t.dtype === 'int32' && v instanceof Int32Array ? v : null;
}

export const gatherKernels: tf.KernelConfig[] = [
  nativeKernel('GatherV2', ({ inputs, backend, attrs }) => {
    const x = inputs.x!;
    const indices = inputs.indices!;
    const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0]!;
    const batchDims = (attrs.batchDims as number | undefined) ?? 0;
    const idx = indexValues(backend, indices);
    if (idx === null) {
      noteFallback('GatherV2', `indices of dtype ${indices.dtype} or non-Int32Array storage`);
      return null;
    }
    const xv = movable(backend, x);
    if (xv === null) return null;
    const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(x as tf.Tensor, indices as tf.Tensor, axis, batchDims);
    const out = allocLike(backend, xv, sizeOf(info.outputShape));
    const nIdx = sizeOf(indices.shape) / info.batchSize;
    const bad = backend.native.gatherRows(xv, info.batchSize, info.outerSize, info.dimSize, info.sliceSize, idx, nIdx, out) as number;
    if (bad >= 0) throw new Error(`GatherV2: the index value ${idx[bad]} is not in [0, ${info.dimSize - 1}]`);
    return backend.makeTensorInfo(info.outputShape, x.dtype, out);
  }),

  nativeKernel('UnsortedSegmentSum', ({ inputs, backend, attrs }) => {
    const x = inputs.x!;
    const ids = inputs.segmentIds!;
    const numSegments = attrs.numSegments as number;
    const idv = indexValues(backend, ids);
    const xv = f32In(backend, x);
    if (idv === null || xv === null) {
      noteFallback('UnsortedSegmentSum', `x ${x.dtype} / segmentIds ${ids.dtype}`);
      return null;
    }
    const shape = [numSegments, ...x.shape.slice(ids.shape.length)];
    const out = allocOutput(backend, sizeOf(shape));
    backend.native.segmentSum(xv, idv, numSegments, out);
    return backend.makeTensorInfo(shape, 'float32', out);
  }),

  nativeKernel('OneHot', ({ inputs, backend, attrs }) => {
    const indices = inputs.indices!;
    const { depth, onValue, offValue } = attrs as { depth: number; onValue: number; offValue: number };
    const dtype = (attrs.dtype as tf.DataType | undefined) ?? 'int32';
    const idx = indexValues(backend, indices);
    if (idx === null || (dtype !== 'float32' && dtype !== 'int32')) {
      noteFallback('OneHot', `indices ${indices.dtype}, output ${dtype}`);
      return null;
    }
    const shape = [...indices.shape, depth];
    const n = sizeOf(shape);
    const out = dtype === 'float32' ? allocOutput(backend, n) : new Int32Array(n);
    backend.native.oneHot(idx, depth, onValue, offValue, out);
    return backend.makeTensorInfo(shape, dtype, out);
  }),
];
