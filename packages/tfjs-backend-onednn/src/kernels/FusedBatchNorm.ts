/**
 * FusedBatchNorm (inference-mode batch normalization, also used by LayerNormalization with full-size
 * mean/variance): out = offset + (x - mean) * scale / sqrt(variance + eps), each parameter cycling with its
 * own length as in the cpu kernel (native/norm.cc).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendOneDNN } from '../backend.js';
import { allocOutput, f32In, nativeKernel, sizeOf } from './ew-util.js';
import { ensureGradient } from './gradients.js';

export const fusedBatchNormConfig: tf.KernelConfig = nativeKernel('FusedBatchNorm', ({ inputs, backend, attrs }) => {
  ensureGradient('FusedBatchNorm');
  const { x, mean, variance, offset, scale } = inputs;
  const xv = f32In(backend, x!);
  const mv = f32In(backend, mean!);
  const vv = f32In(backend, variance!);
  const ov = offset ? f32In(backend, offset) : undefined;
  const sv = scale ? f32In(backend, scale) : undefined;
  if (xv === null || mv === null || vv === null || ov === null || sv === null) return null;
  if (mv.length === 0 || vv.length === 0 || ov?.length === 0 || sv?.length === 0) return null;
  const eps = attrs.varianceEpsilon == null ? 0.001 : Number(attrs.varianceEpsilon);
  const out = allocOutput(backend, sizeOf(x!.shape));
  backend.native.ewBatchNorm(xv, mv, vv, ov ?? null, sv ?? null, eps, out);
  return backend.makeTensorInfo(x!.shape, 'float32', out);
});

/**
 * LwlrBatchNormGrad (project kernel, onednn only): inputs { dy, x, mean, variance, scale? }, attrs
 * { varianceEpsilon } -> [dx, dmean, dvariance, dscale, doffset] in one pass (native/norm.cc), for per-channel
 * parameters (rank 1, length = x's last dim) or full-size ones. Used by the FusedBatchNorm gradient
 * (gradients.ts), which checks those conditions.
 */
export const batchNormGradConfig: tf.KernelConfig = {
  kernelName: 'LwlrBatchNormGrad',
  backendName: 'onednn',
  kernelFunc: ({ inputs, backend: b, attrs }) => {
    const backend = b as MathBackendOneDNN;
    const { dy, x, mean, variance, scale } = inputs;
    const vals = [dy, x, mean, variance].map((t) => f32In(backend, t!));
    const sv = scale ? f32In(backend, scale) : null;
    if (vals.some((v) => v === null) || (scale && sv === null)) throw new Error('LwlrBatchNormGrad: inputs must be float32');
    const eps = attrs?.varianceEpsilon == null ? 0.001 : Number(attrs.varianceEpsilon);
    const n = sizeOf(x!.shape);
    const L = sizeOf(mean!.shape);
    const dx = allocOutput(backend, n);
    const params = [0, 1, 2, 3].map(() => allocOutput(backend, L));
    backend.native.ewBatchNormGrad(vals[0], vals[1], vals[2], vals[3], sv, eps, dx, params[0], params[1], params[2], params[3]);
    return [
      backend.makeTensorInfo(x!.shape, 'float32', dx),
      ...params.map((p) => backend.makeTensorInfo(mean!.shape, 'float32', p)),
    ];
  },
};
