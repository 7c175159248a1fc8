/**
 * Reductions over any set of axes (native/reduce.cc) and Softmax.
 *
 * The axes are grouped into the native [outer, r, inner] form: after dropping size-1 dims and merging
 * neighbours, reduced dims forming one block give (outer, r, inner) directly — innermost axes (inner = 1,
 * e.g. Softmax's sums, Mean over features) and outermost axes (outer = 1, e.g. the bias gradient Sum over
 * axis 0 of [B, N]) included. Any other pattern is transposed natively (kept dims first) and then reduced
 * over its innermost block.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendOneDNN } from '../backend.js';
import { allocOutput, f32In, nativeKernel, sizeOf } from './ew-util.js';
import { reductionBlock } from './reduce-block.js';
import { centeredSource, reducesBroadcastDims } from './centered.js';
import { ensureGradient } from './gradients.js';

const ReduceOp = { Sum: 0, Mean: 1, Max: 2, Min: 3, Prod: 4, ArgMax: 5, ArgMin: 6 } as const;
type ReduceName = keyof typeof ReduceOp;
/** ewReduce op codes of the sum / mean of squares (for a deferred Square input: backend.squareSource). */
const ReduceSquaresOp = { Sum: 7, Mean: 8 } as const;

export { reductionBlock };

function reduce(
  backend: MathBackendOneDNN,
  name: ReduceName,
  x: tf.TensorInfo,
  axisAttr: number | number[] | undefined | null,
  keepDims: boolean,
): tf.TensorInfo | null {
  // Sum/Mean of a deferred Square: reduce the squares of its input on the fly (same values; the squares
  // are never written).
  let op: number = ReduceOp[name];
  const sqOf = name === 'Sum' || name === 'Mean' ? backend.squareSource(x) : null;
  const centered = sqOf !== null ? centeredSource(backend, sqOf) : null;
  if (centered !== null) {
    const axes = tf.util.parseAxisParam((axisAttr ?? null) as number[], x.shape);
    if (new Set(axes).size === axes.length && reducesBroadcastDims(centered, axes)) {
      // the variance of tf.moments: sum of (x - m)^2 over the dims m is broadcast on, neither written
      const xv = f32In(backend, centered.x);
      const mv = f32In(backend, centered.m);
      if (xv !== null && mv !== null) {
        const [outShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
        const [outer, r, inner] = centered.block;
        const out = allocOutput(backend, outer * inner);
        backend.native.ewReduceCenteredSq(xv, mv, outer, r, inner, out, name === 'Mean');
        const shape = keepDims ? tf.backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
        return backend.makeTensorInfo(shape, 'float32', out);
      }
    }
  }
  if (sqOf !== null) {
    x = { dataId: sqOf.dataId, shape: x.shape, dtype: x.dtype };
    op = ReduceSquaresOp[name as 'Sum' | 'Mean'];
  }
  const xv = f32In(backend, x);
  if (xv === null) return null;
  const n = sizeOf(x.shape);
  if (n === 0) return null;
  const axes = tf.util.parseAxisParam((axisAttr ?? null) as number[], x.shape);
  const isArg = name === 'ArgMax' || name === 'ArgMin';
  if (new Set(axes).size !== axes.length) return null; // repeated axes: the cpu kernel's (odd) semantics
  const [outShape, reduceShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, isArg ? [axes[0]!] : axes);
  const outN = sizeOf(outShape);
  const r = sizeOf(reduceShape);
  let src = xv;
  let block = reductionBlock(x.shape, isArg ? [axes[0]!] : axes);
  if (block === null) {
    // Kept dims first (original order), reduced dims last.
    const red = new Set(axes);
    const perm = [...x.shape.keys()].filter((d) => !red.has(d)).concat(axes.slice().sort((p, q) => p - q));
    src = allocOutput(backend, n);
    backend.native.ewTranspose(xv, x.shape, perm, src);
    block = [outN, r, 1];
  }
  const out = isArg ? new Int32Array(outN) : allocOutput(backend, outN);
  backend.native.ewReduce(op, src, block[0], block[1], block[2], out);
  const shape = keepDims && !isArg ? tf.backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
  return backend.makeTensorInfo(shape, isArg ? 'int32' : 'float32', out);
}

export const reduceKernels: tf.KernelConfig[] = [
  nativeKernel('Sum', ({ inputs, backend, attrs }) => {
    ensureGradient('Sum');
    return reduce(backend, 'Sum', inputs.x!, attrs.axis as number[], !!attrs.keepDims);
  }),
  nativeKernel('Mean', ({ inputs, backend, attrs }) => {
    ensureGradient('Mean');
    return reduce(backend, 'Mean', inputs.x!, attrs.axis as number[], !!attrs.keepDims);
  }),
  nativeKernel('Max', ({ inputs, backend, attrs }) =>
    reduce(backend, 'Max', inputs.x!, attrs.reductionIndices as number[], !!attrs.keepDims)),
  nativeKernel('Min', ({ inputs, backend, attrs }) =>
    reduce(backend, 'Min', inputs.x!, attrs.axis as number[], !!attrs.keepDims)),
  nativeKernel('Prod', ({ inputs, backend, attrs }) =>
    reduce(backend, 'Prod', inputs.x!, attrs.axis as number[], !!attrs.keepDims)),
  nativeKernel('ArgMax', ({ inputs, backend, attrs }) =>
    reduce(backend, 'ArgMax', inputs.x!, attrs.axis as number, false)),
  nativeKernel('ArgMin', ({ inputs, backend, attrs }) =>
    reduce(backend, 'ArgMin', inputs.x!, attrs.axis as number, false)),
  nativeKernel('Softmax', ({ inputs, backend, attrs }) => {
    const x = inputs.logits!;
    const rank = x.shape.length;
    const dim = attrs.dim as number;
    if (rank === 0 || (dim !== -1 && dim !== rank - 1)) return null;
    const xv = f32In(backend, x);
    if (xv === null) return null;
    const n = sizeOf(x.shape);
    const cols = x.shape[rank - 1]!;
    if (n === 0) return null;
    const out = allocOutput(backend, n);
    backend.native.ewSoftmax(xv, n / cols, cols, out, false);
    return backend.makeTensorInfo(x.shape, 'float32', out);
  }),
];
