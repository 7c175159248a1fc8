/**
 * Binary elementwise kernels on float32 with broadcasting (native/binary.cc), the comparisons that the
 * gradients use (-> bool), EluGrad and AddN. int32/bool/complex operands and mixed dtypes use the cpu kernel,
 * so integer arithmetic stays exact.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendOneDNN } from '../backend.js';
import { allocOutput, f32In, nativeKernel, nativeOrCpu, sizeOf } from './ew-util.js';
import { centeredLayout, centeredSource, padShape } from './centered.js';

const lazyCentered = process.env.LWLR_LAZY !== '0';

/** Native op codes of ewBinary (native/binary.cc, enum BinaryOp). */
export const BinaryOp = {
  Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Maximum: 4, Minimum: 5, Pow: 6, SquaredDifference: 7, EluGrad: 8,
  Greater: 9, GreaterEqual: 10, Less: 11, LessEqual: 12, Equal: 13, NotEqual: 14, ReluGrad: 15, SquareGrad: 16,
} as const;

const comparisons = new Set<string>(['Greater', 'GreaterEqual', 'Less', 'LessEqual', 'Equal', 'NotEqual']);

/** Runs ewBinary on two float32 tensors; null when either is not float32. */
export function runBinary(
  backend: Parameters<typeof f32In>[0],
  opName: keyof typeof BinaryOp,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
): tf.TensorInfo | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  // A deferred broadcast operand (backend.broadcastSource): read its source, when broadcasting that gives
  // the same output shape; same values, and the full-size broadcast is never written.
  const sa = backend.broadcastSource(a);
  const sb = backend.broadcastSource(b);
  if (sa !== null || sb !== null) {
    const a2 = sa ?? a;
    const b2 = sb ?? b;
    const s2 = tf.backend_util.assertAndGetBroadcastShape(a2.shape, b2.shape);
    if (s2.length === outShape.length && s2.every((d, i) => d === outShape[i])) {
      a = a2;
      b = b2;
    }
  }
  const av = f32In(backend, a);
  const bv = f32In(backend, b);
  if (av === null || bv === null) return null;
  const n = sizeOf(outShape);
  const isCmp = comparisons.has(opName);
  const out = isCmp ? new Uint8Array(n) : allocOutput(backend, n);
  backend.native.ewBinary(BinaryOp[opName], av, a.shape, bv, b.shape, out, outShape);
  return backend.makeTensorInfo(outShape, isCmp ? 'bool' : 'float32', out);
}

function binaryKernel(kernelName: keyof typeof BinaryOp): tf.KernelConfig {
  return nativeKernel(kernelName, ({ inputs, backend }) => runBinary(backend, kernelName, inputs.a!, inputs.b!));
}

/**
 * Sub, deferred when b is smaller than a and broadcast along one block of a's dims (x - mean in
 * tf.moments): see centered.ts.
 */
function subKernel(): tf.KernelConfig {
  const eager = nativeOrCpu('Sub', ({ inputs, backend }) => runBinary(backend, 'Sub', inputs.a!, inputs.b!));
  return {
    kernelName: 'Sub',
    backendName: 'onednn',
    kernelFunc: (args) => {
      const { a, b } = args.inputs;
      const backend = args.backend as MathBackendOneDNN;
      if (!lazyCentered || a!.dtype !== 'float32' || b!.dtype !== 'float32' || sizeOf(a!.shape) < 1024 ||
          sizeOf(b!.shape) >= sizeOf(a!.shape) || centeredLayout(a!.shape, b!.shape) === null) {
        return eager(args);
      }
      return backend.lazyTensorInfo([...a!.shape], 'float32', [a!, b!], () => eager(args) as tf.TensorInfo, {
        subOf: { a: a!, b: b! },
      });
    },
  };
}

/** LwlrSquareGrad(dy, x) = dy * (x * 2); x a deferred x0 - m: from x0 and m, x never written. */
function squareGrad(backend: MathBackendOneDNN, dy: tf.TensorInfo, x: tf.TensorInfo): tf.TensorInfo | null {
  const c = centeredSource(backend, x);
  if (c !== null && dy.dtype === 'float32') {
    const n = x.shape.length;
    const mShape = padShape(c.m.shape, n);
    const src = backend.broadcastSource(dy);
    let g: tf.TensorInfo | null = null;
    let full = false;
    if (src !== null && padShape(src.shape, n).every((d, i) => d === mShape[i])) g = src;
    else if (src === null && dy.shape.length === n && dy.shape.every((d, i) => d === x.shape[i])) {
      g = dy;
      full = true;
    } else if (dy.shape.length <= n && padShape(dy.shape, n).every((d, i) => d === mShape[i])) g = dy;
    if (g !== null) {
      const gv = f32In(backend, g);
      const xv = f32In(backend, c.x);
      const mv = f32In(backend, c.m);
      if (gv !== null && xv !== null && mv !== null) {
        const [outer, r, inner] = c.block;
        const out = allocOutput(backend, sizeOf(x.shape));
        backend.native.ewSquareGradCentered(gv, full, xv, mv, outer, r, inner, out);
        return backend.makeTensorInfo([...x.shape], 'float32', out);
      }
    }
  }
  return runBinary(backend, 'SquareGrad', dy, x);
}

export const binaryKernels: tf.KernelConfig[] = [
  binaryKernel('Add'),
  subKernel(),
  binaryKernel('Multiply'),
  binaryKernel('RealDiv'),
  binaryKernel('Maximum'),
  binaryKernel('Minimum'),
  binaryKernel('Pow'),
  binaryKernel('SquaredDifference'),
  binaryKernel('Greater'),
  binaryKernel('GreaterEqual'),
  binaryKernel('Less'),
  binaryKernel('LessEqual'),
  binaryKernel('Equal'),
  binaryKernel('NotEqual'),
  // EluGrad(dy, y): dy where y >= 0, dy * (y + 1) elsewhere; same shapes.
  nativeKernel('EluGrad', ({ inputs, backend }) => {
    const { dy, y } = inputs;
    if (dy!.shape.join(',') !== y!.shape.join(',')) return null;
    return runBinary(backend, 'EluGrad', dy!, y!);
  }),
  // LwlrReluGrad(dy, x) = dy * step(x) in one pass (project kernel used by the Relu gradient, see gradients.ts)
  {
    kernelName: 'LwlrReluGrad',
    backendName: 'onednn',
    kernelFunc: ({ inputs, backend }) => {
      const out = runBinary(backend as Parameters<typeof f32In>[0], 'ReluGrad', inputs.dy!, inputs.x!);
      if (out === null) throw new Error('LwlrReluGrad: dy and x must be float32');
      return out;
    },
  },
  // LwlrSquareGrad(dy, x) = dy * (x * 2) in one pass, broadcasting (project kernel used by the Square gradient)
  {
    kernelName: 'LwlrSquareGrad',
    backendName: 'onednn',
    kernelFunc: ({ inputs, backend }) => {
      const out = squareGrad(backend as MathBackendOneDNN, inputs.dy!, inputs.x!);
      if (out === null) throw new Error('LwlrSquareGrad: dy and x must be float32');
      return out;
    },
  },
  // AddN: the sum of same-shape float32 tensors (gradient accumulation).
  nativeKernel('AddN', ({ inputs, backend }) => {
    const ts = inputs as unknown as tf.TensorInfo[];
    if (ts.length === 0) return null;
    const shape = ts[0]!.shape;
    const vals: Float32Array[] = [];
    for (const t of ts) {
      if (t.shape.join(',') !== shape.join(',')) return null;
      const v = f32In(backend, t);
      if (v === null) return null;
      vals.push(v);
    }
    const out = allocOutput(backend, sizeOf(shape));
    backend.native.ewAddN(vals, out);
    return backend.makeTensorInfo(shape, 'float32', out);
  }),
];
