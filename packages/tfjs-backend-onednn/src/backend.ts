/**
 * The `onednn` backend: TensorFlow.js's CPU backend with its heavy kernels replaced by native ones.
 *
 * Every kernel of the `cpu` backend is registered again under `onednn`, so any model runs from day one;
 * native kernels then replace them one by one (see kernels/index.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { loadNative, type NativeAddon } from './native.js';
import { noteEscaped, noteReleased, noteStored } from './kernels/shared-output-alloc.js';

export const BACKEND_NAME = 'onednn';

export class MathBackendOneDNN extends MathBackendCPU {
  readonly native: NativeAddon;
  constructor() {
    super();
    // The cpu backend advertises tfjs-node on first use; this backend is the fast path, so skip the notice.
    (this as unknown as { firstUse: boolean }).firstUse = false;
    this.native = loadNative();
  }
  // Storage events, for recycling kernel outputs on dispose (kernels/shared-output-alloc.ts).
  override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): object {
    noteStored(values);
    return super.write(values, shape, dtype);
  }
  override move(dataId: object, values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType, refCount: number): void {
    if (this.data.has(dataId)) noteReleased(this.data.get(dataId).values);
    noteStored(values);
    super.move(dataId, values, shape, dtype, refCount);
  }
  override disposeData(dataId: object, force = false): boolean {
    const entry = this.data.has(dataId) ? this.data.get(dataId) : undefined;
    const released = super.disposeData(dataId, force);
    if (entry !== undefined && !this.data.has(dataId)) noteReleased(entry.values);
    return released;
  }
  override readSync(dataId: object): tf.backend_util.BackendValues {
    if (this.data.has(dataId)) noteEscaped(this.data.get(dataId).values);
    return super.readSync(dataId);
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
