/**
 * Shared by the native matmul/conv/pool kernels: how a native kernel falls back to the cpu kernel.
 *
 * `nativeOrCpu(kernelName, impl)` makes a kernelFunc that runs `impl` and, when it returns `null` (a case it
 * does not support: non-float32 dtype, an odd attribute) or throws (a oneDNN error), runs the original cpu
 * kernel instead. Never crashes for a case the cpu kernel handles. In debug mode (`tf.env().set('DEBUG',
 * true)` or LWLR_DEBUG=1) each distinct fallback reason is printed once.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendOneDNN } from '../backend.js';

export type NativeImpl = (args: {
  inputs: tf.NamedTensorInfoMap;
  backend: MathBackendOneDNN;
  attrs: tf.NamedAttrMap;
}) => tf.TensorInfo | tf.TensorInfo[] | null;

const warned = new Set<string>();

function debugOn(): boolean {
  if (process.env.LWLR_DEBUG === '1') return true;
  try {
    return tf.env().getBool('DEBUG');
  } catch {
    return false;
  }
}

/** Prints `why` once (per kernel and reason) when debug mode is on. */
export function noteFallback(kernelName: string, why: string): void {
  if (!debugOn()) return;
  const k = `${kernelName}: ${why}`;
  if (warned.has(k)) return;
  warned.add(k);
  console.warn(`tfjs-backend-onednn: ${kernelName} falls back to the cpu kernel (${why})`);
}

/** The cpu backend's kernelFunc for `kernelName` (the reference implementation). */
export function cpuKernelFunc(kernelName: string): tf.KernelFunc {
  const k = tf.getKernel(kernelName, 'cpu');
  if (!k) throw new Error(`tfjs-backend-onednn: no cpu kernel ${kernelName}`);
  return k.kernelFunc;
}

/** Counters of native runs and fallbacks per kernel (for tests and the benchmark). */
export const kernelStats: Record<string, { native: number; fallback: number }> = {};

function count(kernelName: string, native: boolean): void {
  const s = (kernelStats[kernelName] ??= { native: 0, fallback: 0 });
  if (native) s.native++;
  else s.fallback++;
}

/** A kernelFunc running `impl` natively, the cpu kernel when `impl` declines (null) or throws. */
export function nativeOrCpu(kernelName: string, impl: NativeImpl): tf.KernelFunc {
  let cpu: tf.KernelFunc | undefined;
  return (args) => {
    let out: tf.TensorInfo | tf.TensorInfo[] | null = null;
    try {
      out = impl(args as Parameters<NativeImpl>[0]);
    } catch (e) {
      noteFallback(kernelName, `native error: ${(e as Error).message}`);
      out = null;
    }
    if (out !== null) {
      count(kernelName, true);
      return out;
    }
    count(kernelName, false);
    cpu ??= cpuKernelFunc(kernelName);
    return cpu(args);
  };
}

/** True when every tensor is float32. */
export function allFloat32(...ts: (tf.TensorInfo | undefined | null)[]): boolean {
  for (const t of ts) if (t && t.dtype !== 'float32') return false;
  return true;
}

/** The Float32Array behind a tensor (zero-copy), or null when its storage is not a Float32Array. */
export function f32Values(backend: MathBackendOneDNN, t: tf.TensorInfo): Float32Array | null {
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : null;
}
