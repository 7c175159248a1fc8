/** The native pooling kernels' common part: NHWC float32 checks and the identity case of the cpu kernel. */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendOneDNN } from '../backend.js';
import { f32Values, noteFallback } from './shared-native-fallback.js';

type ConvInfo = tf.backend_util.Conv2DInfo;

/** Null (fall back) for non-float32 or empty tensors and the 1x1 identity case the cpu kernel handles. */
export function poolInputsOk(
  backend: MathBackendOneDNN,
  kernelName: string,
  ci: ConvInfo,
  ...ts: tf.TensorInfo[]
): Float32Array[] | null {
  for (const t of ts) {
    if (t.dtype !== 'float32') {
      noteFallback(kernelName, 'non-float32 input');
      return null;
    }
  }
  if (ci.dataFormat !== 'channelsLast') return null;
  const vals: Float32Array[] = [];
  for (const t of ts) {
    const v = f32Values(backend, t);
    if (!v || v.length === 0) return null;
    vals.push(v);
  }
  if (ci.outHeight <= 0 || ci.outWidth <= 0) return null;
  // A window lying entirely in the padding (possible only with explicit pads) has no tfjs-compatible
  // oneDNN equivalent: leave it to the cpu kernel.
  if (ci.padInfo.top >= ci.filterHeight || ci.padInfo.left >= ci.filterWidth) return null;
  if (ci.padInfo.bottom >= ci.filterHeight || ci.padInfo.right >= ci.filterWidth) return null;
  return vals;
}
