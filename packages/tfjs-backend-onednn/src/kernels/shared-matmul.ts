/**
 * The native matrix product behind BatchMatMul and _FusedMatMul (oneDNN matmul primitive, cached per shape):
 * rank >= 2 inputs, any transposes, broadcast batch dims (true numpy broadcasting), optional bias
 * (broadcastable to the output) and a fused activation (relu, relu6, leakyrelu, elu, sigmoid as oneDNN
 * post-ops; prelu applied after, by the backend's Prelu kernel).
 */
import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_NAME, type MathBackendOneDNN } from '../backend.js';
import { allocOutput } from './shared-output-alloc.js';
import { f32Values, noteFallback } from './shared-native-fallback.js';

const postOpActivations = new Set(['linear', 'relu', 'relu6', 'leakyrelu', 'elu', 'sigmoid']);

/** Broadcast of two batch shapes (numpy rules), or null when incompatible. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | null {
  const r = Math.max(a.length, b.length);
  const out: number[] = new Array(r);
  for (let i = 0; i < r; i++) {
    const x = i - (r - a.length) >= 0 ? a[i - (r - a.length)] : 1;
    const y = i - (r - b.length) >= 0 ? b[i - (r - b.length)] : 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out[i] = Math.max(x, y);
  }
  return out;
}

/**
 * Native a x b (+bias) (activation). Returns null when the case is not handled natively (the caller then
 * uses the cpu kernel): non-float32, shape errors (the cpu kernel raises the proper error), an empty inner
 * dimension, a bias that would enlarge the output, an unknown activation.
 */
export function nativeMatMul(
  backend: MathBackendOneDNN,
  kernelName: string,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  bias?: tf.TensorInfo | null,
  activation?: string | null,
  leakyreluAlpha?: number,
  preluWeights?: tf.TensorInfo | null,
): tf.TensorInfo | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || (bias && bias.dtype !== 'float32')) {
    noteFallback(kernelName, 'non-float32 input');
    return null;
  }
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) return null;
  const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const K = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const Kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (K !== Kb) return null;
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  if (batch === null) return null;
  const outShape = [...batch, M, N];
  const act = activation ?? 'linear';
  if (act !== 'prelu' && !postOpActivations.has(act)) {
    noteFallback(kernelName, `activation ${act}`);
    return null;
  }
  if (bias) {
    const bs = broadcastShapes(outShape, bias.shape);
    if (bs === null || bs.length !== outShape.length || bs.some((d, i) => d !== outShape[i])) {
      noteFallback(kernelName, `bias shape [${bias.shape}] broadcasts beyond the output [${outShape}]`);
      return null;
    }
  }
  const size = outShape.reduce((x, y) => x * y, 1);
  if (size === 0) return backend.makeTensorInfo(outShape, 'float32', new Float32Array(0));
  if (K === 0) {
    noteFallback(kernelName, 'empty inner dimension');
    return null;
  }
  const av = f32Values(backend, a);
  const bv = f32Values(backend, b);
  const biasV = bias ? f32Values(backend, bias) : null;
  if (!av || !bv || (bias && !biasV)) return null;
  const out = allocOutput(backend, size);
  backend.native.matmul(
    av,
    bv,
    out,
    a.shape,
    b.shape,
    transposeA,
    transposeB,
    biasV,
    bias ? bias.shape : null,
    act === 'prelu' ? 'linear' : act,
    leakyreluAlpha ?? 0.2,
  );
  const res = backend.makeTensorInfo(outShape, 'float32', out);
  if (act !== 'prelu') return res;
  // prelu: the backend's own Prelu kernel on the product (native if someone registered it, else cpu).
  const prelu = tf.getKernel('Prelu', BACKEND_NAME);
  if (!prelu || !preluWeights) {
    backend.disposeIntermediateTensorInfo(res);
    return null;
  }
  const r = prelu.kernelFunc({ inputs: { x: res, alpha: preluWeights }, backend, attrs: {} }) as tf.TensorInfo;
  backend.disposeIntermediateTensorInfo(res);
  return r;
}
