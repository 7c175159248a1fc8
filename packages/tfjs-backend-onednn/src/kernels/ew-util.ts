/**
 * Helpers of the elementwise kernel families (unary, binary, reductions, shape ops, norm, optimizer).
 *
 * tfjs stores a tensor's values as the typed array of its dtype — except that the cpu kernels make
 * "lossless" casts (int32 -> float32, bool -> float32) without copying, so a float32 tensor may be backed by
 * an Int32Array or a Uint8Array. `f32In` gives a Float32Array in every case (zero-copy when it already is
 * one, a native conversion otherwise), so the native kernels see one storage type.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendOneDNN } from '../backend.js';
import { allocOutput } from './shared-output-alloc.js';
import { nativeOrCpu, noteFallback, type NativeImpl } from './shared-native-fallback.js';

export { nativeOrCpu, noteFallback, allocOutput, type NativeImpl };

export type Values = Float32Array | Int32Array | Uint8Array;

/** The typed array behind a tensor (zero-copy). */
export function rawValues(backend: MathBackendOneDNN, t: tf.TensorInfo): unknown {
  return backend.data.get(t.dataId).values;
}

/**
 * The values of a float32 tensor as a Float32Array: the storage itself when it is one, otherwise a native
 * conversion of the Int32Array/Uint8Array storage. null for other dtypes or storages (string, complex).
 */
export function f32In(backend: MathBackendOneDNN, t: tf.TensorInfo): Float32Array | null {
  if (t.dtype !== 'float32') return null;
  const v = rawValues(backend, t);
  if (v instanceof Float32Array) return v;
  if (v instanceof Int32Array || v instanceof Uint8Array) {
    const out = allocOutput(backend, v.length);
    backend.native.ewToF32(v, out);
    return out;
  }
  return null;
}

/**
 * The storage of a tensor for data-movement kernels, in the canonical array type of its dtype
 * (float32 -> Float32Array, int32 -> Int32Array, bool -> Uint8Array); null when that is not possible.
 */
export function movable(backend: MathBackendOneDNN, t: tf.TensorInfo): Values | null {
  if (t.dtype === 'float32') return f32In(backend, t);
  const v = rawValues(backend, t);
  if (t.dtype === 'int32' && v instanceof Int32Array) return v;
  if (t.dtype === 'bool' && v instanceof Uint8Array) return v;
  return null;
}

/** A new output array of the same kind as `like` (pooled and uninitialized for large float32 outputs). */
export function allocLike(backend: MathBackendOneDNN, like: Values, n: number): Values {
  if (like instanceof Float32Array) return allocOutput(backend, n);
  if (like instanceof Int32Array) return new Int32Array(n);
  return new Uint8Array(n);
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A kernel config for the onednn backend, running `impl` natively and the cpu kernel when it returns null. */
export function nativeKernel(kernelName: string, impl: NativeImpl): tf.KernelConfig {
  return { kernelName, backendName: 'onednn', kernelFunc: nativeOrCpu(kernelName, impl) };
}
