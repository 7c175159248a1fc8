/**
 * Output buffers of the native kernels.
 *
 * tfjs needs a new tensor per kernel call. A fresh large `new Float32Array(n)` costs page faults and zeroing
 * (measured: 25 MB, ~9 ms, vs ~1 ms to fill a resident buffer), so large outputs come from the addon's
 * buffer pool (`allocF32`: memory recycled when V8 collects the array, contents uninitialized — the kernel
 * must write every element). Small ones use `new Float32Array`, which is faster below the threshold.
 *
 * LWLR_OUTPUT_ALLOC=js forces `new Float32Array` everywhere (pool off); LWLR_POOL_MIN_BYTES sets the threshold.
 */
import type { MathBackendOneDNN } from '../backend.js';

const mode = process.env.LWLR_OUTPUT_ALLOC === 'js' ? 'js' : 'pool';
const minBytes = Number(process.env.LWLR_POOL_MIN_BYTES ?? '') > 0 ? Number(process.env.LWLR_POOL_MIN_BYTES) : 256 * 1024;
const minElems = Math.ceil(minBytes / 4);

/** A Float32Array of n elements for a kernel output; uninitialized when pooled. */
export function allocOutput(backend: MathBackendOneDNN, n: number): Float32Array {
  if (mode === 'pool' && n >= minElems && typeof backend.native.allocF32 === 'function') {
    return backend.native.allocF32(n) as Float32Array;
  }
  return new Float32Array(n);
}

/** Which allocator is in use (for the benchmark). */
export function outputAllocMode(): { mode: string; minBytes: number } {
  return { mode, minBytes };
}
