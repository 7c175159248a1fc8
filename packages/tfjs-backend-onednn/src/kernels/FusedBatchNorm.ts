/**
 * FusedBatchNorm (inference-mode batch normalization, also used by LayerNormalization with full-size
 * mean/variance): out = offset + (x - mean) * scale / sqrt(variance + eps), each parameter cycling with its
 * own length as in the cpu kernel (native/norm.cc).
 */
import * as tf from '@tensorflow/tfjs-core';
import { allocOutput, f32In, nativeKernel, sizeOf } from './ew-util.js';

export const fusedBatchNormConfig: tf.KernelConfig = nativeKernel('FusedBatchNorm', ({ inputs, backend, attrs }) => {
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
