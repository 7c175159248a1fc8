/**
 * tfjs-backend-onednn: importing this module registers the `onednn` backend (when the addon loads).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import 'tfjs-backend-onednn';
 * await tf.setBackend('onednn');
 * ```
 */
import { registerOneDNNBackend, registerNativeKernel, BACKEND_NAME, MathBackendOneDNN } from './backend.js';
import { nativeKernels } from './kernels/index.js';
import { loadNative, warnNativeUnavailableOnce } from './native.js';
import { silenceCpuBanner } from './cpu-banner.js';
import { installEagerBackprop } from './backprop.js';

export { BACKEND_NAME, MathBackendOneDNN, registerNativeKernel, loadNative };
export { attention, batchNormTrain, gelu, layerNorm, type AttentionOptions, type BatchNormTrainOptions, type BatchNormTrainResult } from './ops.js';
export { installLeanForward } from './lean-forward.js';
export { selectBackend, BACKEND_CHOICES, type BackendChoice } from './select.js';

/**
 * True when the native addon loaded and the backend is registered. When false, importing printed one warning
 * with the reason and the commands that build the addon.
 */
export const available: boolean = registerOneDNNBackend();
if (available) {
  for (const k of nativeKernels) registerNativeKernel(k);
  installEagerBackprop(BACKEND_NAME);
  silenceCpuBanner();
} else {
  warnNativeUnavailableOnce();
}

/** Number of native threads (OpenMP) in use. */
export function getNumThreads(): number {
  return loadNative().getNumThreads();
}
/** Sets the number of native threads. */
export function setNumThreads(n: number): void {
  loadNative().setNumThreads(n);
}
