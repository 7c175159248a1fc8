/**
 * The `onednn` backend: TensorFlow.js's CPU backend with its heavy kernels replaced by native ones.
 *
 * Every kernel of the `cpu` backend is registered again under `onednn`, so any model runs from day one;
 * native kernels then replace them one by one (see kernels/index.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { loadNative, type NativeAddon } from './native.js';

export const BACKEND_NAME = 'onednn';

export class MathBackendOneDNN extends MathBackendCPU {
  readonly native: NativeAddon;
  constructor() {
    super();
    // The cpu backend advertises tfjs-node on first use; this backend is the fast path, so skip the notice.
    (this as unknown as { firstUse: boolean }).firstUse = false;
    this.native = loadNative();
  }
  /** The Float32Array (or other typed array) behind a tensor, zero-copy. */
  values(t: tf.TensorInfo): tf.backend_util.BackendValues {
    return this.data.get(t.dataId).values as tf.backend_util.BackendValues;
  }
}

/** Register `onednn` a kernel (replacing the copied cpu one). */
export function registerNativeKernel(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, BACKEND_NAME) !== undefined) {
    tf.unregisterKernel(config.kernelName, BACKEND_NAME);
  }
  tf.registerKernel({ ...config, backendName: BACKEND_NAME });
}

let registered = false;

/** Registers the backend and copies of all cpu kernels. Idempotent. Returns false when the addon cannot load. */
export function registerOneDNNBackend(priority = 3): boolean {
  if (registered) return true;
  try {
    loadNative();
  } catch {
    return false;
  }
  tf.registerBackend(BACKEND_NAME, () => new MathBackendOneDNN(), priority);
  for (const k of tf.getKernelsForBackend('cpu')) {
    if (tf.getKernel(k.kernelName, BACKEND_NAME) === undefined) {
      tf.registerKernel({ ...k, backendName: BACKEND_NAME });
    }
  }
  registered = true;
  return true;
}
