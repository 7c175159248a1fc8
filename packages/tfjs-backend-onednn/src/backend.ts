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

/** A deferred output (see `lazyTensorInfo`): the kernel run that computes it and the dataIds it holds. */
interface Pending {
  compute: () => tf.TensorInfo;
  deps: object[];
  /** When the output is a broadcast (Tile with reps only on size-1 dims) of this tensor (same rank). */
  broadcastOf?: tf.TensorInfo;
  /** When the output is the elementwise square of this tensor (same shape). */
  squareOf?: tf.TensorInfo;
  /** When the output is a - b (b smaller, broadcast; see kernels/centered.ts). */
  subOf?: { a: tf.TensorInfo; b: tf.TensorInfo };
}

export class MathBackendOneDNN extends MathBackendCPU {
  readonly native: NativeAddon;
  private readonly pending = new WeakMap<object, Pending>();
  /** Deferred outputs computed (read) and dropped unread, for tests and the benchmark. */
  readonly lazyStats = { made: 0, computed: 0, dropped: 0 };
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
    const lazy = this.pending.get(dataId);
    const released = super.disposeData(dataId, force);
    if (entry !== undefined && !this.data.has(dataId)) {
      if (lazy !== undefined) {
        // Disposed before anything read it: never computed.
        this.pending.delete(dataId);
        this.lazyStats.dropped++;
        this.releaseDeps(lazy.deps);
      } else {
        noteReleased(entry.values);
      }
    }
    return released;
  }

  /**
   * An output whose values are computed when first read (by any kernel, readSync, dataSync...), or never if
   * the tensor is disposed unread. For kernels that tfjs runs eagerly although their result is often unused:
   * the fused conv2d/depthwise/matMul ops compute the input gradient in their custom gradient even when the
   * input needs none (the first layer's input, the data), and the tape then drops it. `compute` runs the
   * kernel for real on `deps` (held, by the backend's reference count, until it has run or the output is
   * disposed) and must return a tensor of `shape` and `dtype`; its storage becomes this output's.
   */
  lazyTensorInfo(
    shape: number[],
    dtype: tf.DataType,
    deps: tf.TensorInfo[],
    compute: () => tf.TensorInfo,
    recipe: Omit<Pending, 'compute' | 'deps'> = {},
  ): tf.TensorInfo {
    const dataId = super.write(new Float32Array(0), shape, dtype);
    const entry = this.data.get(dataId) as { values?: tf.backend_util.BackendValues };
    const depIds = deps.map((d) => d.dataId);
    for (const d of depIds) this.incRef(d);
    this.pending.set(dataId, { compute, deps: depIds, ...recipe });
    this.lazyStats.made++;
    let values: tf.backend_util.BackendValues | undefined;
    const self = this;
    Object.defineProperty(entry, 'values', {
      configurable: true,
      enumerable: true,
      get() {
        const p = self.pending.get(dataId);
        if (p !== undefined) {
          self.pending.delete(dataId);
          try {
            const res = p.compute();
            if (res.dtype !== dtype || res.shape.length !== shape.length || res.shape.some((d, i) => d !== shape[i])) {
              throw new Error(`tfjs-backend-onednn: deferred output [${res.shape}] ${res.dtype}, expected [${shape}] ${dtype}`);
            }
            // Share the result's storage (counted as stored here), then drop the result's own dataId.
            values = self.data.get(res.dataId).values;
            noteStored(values);
            self.disposeData(res.dataId);
            self.lazyStats.computed++;
          } finally {
            self.releaseDeps(p.deps);
          }
        }
        return values;
      },
      set(v: tf.backend_util.BackendValues) {
        values = v;
      },
    });
    return { dataId, shape, dtype };
  }
  override readSync(dataId: object): tf.backend_util.BackendValues {
    if (this.data.has(dataId)) noteEscaped(this.data.get(dataId).values);
    return super.readSync(dataId);
  }
  /** Drops the references a deferred output held; data whose last tensor is gone leaves the engine too. */
  private releaseDeps(deps: object[]): void {
    const engine = tf.engine() as unknown as { removeDataId?: (d: object, b: tf.KernelBackend) => void };
    for (const d of deps) {
      if (this.disposeData(d)) engine.removeDataId?.(d, this);
    }
  }

  /**
   * When `t` is a deferred broadcast not computed yet, the tensor it broadcasts (same rank, size 1 on the
   * broadcast dims): a broadcasting kernel can read that instead and leave `t` uncomputed.
   */
  broadcastSource(t: tf.TensorInfo): tf.TensorInfo | null {
    return this.pending.get(t.dataId)?.broadcastOf ?? null;
  }

  /** When `t` is a deferred Square not computed yet, its input: a reduction can square on the fly. */
  squareSource(t: tf.TensorInfo): tf.TensorInfo | null {
    return this.pending.get(t.dataId)?.squareOf ?? null;
  }

  /** When `t` is a deferred a - b (b broadcast) not computed yet, its operands. */
  subSource(t: tf.TensorInfo): { a: tf.TensorInfo; b: tf.TensorInfo } | null {
    return this.pending.get(t.dataId)?.subOf ?? null;
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
