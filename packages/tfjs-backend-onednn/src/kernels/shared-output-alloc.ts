/**
 * Output buffers of the native kernels.
 *
 * tfjs needs a new tensor per kernel call. A fresh large `new Float32Array(n)` costs page faults and zeroing
 * (measured: 25 MB, ~9 ms, vs ~1 ms to fill a resident buffer), so large outputs come from the addon's
 * buffer pool (`allocF32`: memory recycled when V8 collects the array, contents uninitialized — the kernel
 * must write every element). Small ones use `new Float32Array`, which is faster below the threshold.
 *
 * Release on dispose. Memory that returns only when V8 collects the array is not reusable within a training
 * step (a ViT-S/16 step held 7 GB at the end of its backward with 92 MB live), and every new ArrayBuffer costs
 * GC (V8 starts a full mark-compact each ~64 MB of external memory). So a large output array made here is
 * handed back to the native pool (`releaseF32`: its ArrayBuffer is detached, the memory is reusable by the
 * next kernel of any size up to twice as large) as soon as the last tensor that stores it is disposed. This is
 * only safe when nothing else can still read the array, so the backend (backend.ts) reports every storage
 * event:
 *  - `noteStored(values)` when a dataId starts to hold the array or a view of its buffer (write, move): the
 *    cpu kernels alias storage (lossless casts, contiguous Slice returns a subarray), each alias counts;
 *  - `noteReleased(values)` when a dataId holding it is deleted; at zero holders the array is released;
 *  - `noteEscaped(values)` when the array leaves the backend (readSync/read: `dataSync()`, `data()`,
 *    `bufferSync`, moving to another backend): such an array is never released, GC frees it as before.
 * A stale reference that escaped this accounting would see an empty (detached) array, never other data.
 * Kernels release their own scratch arrays with `releaseScratch`.
 *
 * LWLR_OUTPUT_ALLOC=js forces `new Float32Array` everywhere (pool and release off); LWLR_POOL_MIN_BYTES sets
 * the threshold; LWLR_RECYCLE=0 leaves released arrays to GC (as before release existed).
 */
import type { MathBackendOneDNN } from '../backend.js';

const mode = process.env.LWLR_OUTPUT_ALLOC === 'js' ? 'js' : 'pool';
const minBytes = Number(process.env.LWLR_POOL_MIN_BYTES ?? '') > 0 ? Number(process.env.LWLR_POOL_MIN_BYTES) : 256 * 1024;
const minElems = Math.ceil(minBytes / 4);
const releaseOn = mode === 'pool' && process.env.LWLR_RECYCLE !== '0';

/** An array made by allocOutput: how many dataIds store it (or views of its buffer), and whether it escaped. */
interface Rec {
  arr: Float32Array;
  holders: number;
  escaped: boolean;
  release: (arr: Float32Array) => void;
}
const recs = new WeakMap<ArrayBufferLike, Rec>();
const stats = { pooled: 0, released: 0, escaped: 0 };

/** A Float32Array of n elements for a kernel output; uninitialized when pooled. */
export function allocOutput(backend: MathBackendOneDNN, n: number): Float32Array {
  if (mode === 'pool' && n >= minElems && typeof backend.native.allocF32 === 'function') {
    const arr = backend.native.allocF32(n) as Float32Array;
    stats.pooled++;
    if (releaseOn) recs.set(arr.buffer, { arr, holders: 0, escaped: false, release: backend.native.releaseF32 });
    return arr;
  }
  return new Float32Array(n);
}

/**
 * Gives a kernel's scratch array (from allocOutput, never stored in a tensor and not referenced after this
 * call) back to the pool at once. Anything else is left to GC.
 */
export function releaseScratch(arr: Float32Array): void {
  const r = recOf(arr);
  if (r === undefined || r.holders > 0 || r.escaped || r.arr !== arr) return;
  recs.delete(arr.buffer);
  r.release(arr);
  stats.released++;
}

function recOf(values: unknown): Rec | undefined {
  if (!releaseOn || !ArrayBuffer.isView(values)) return undefined;
  return recs.get(values.buffer);
}

/** A dataId now stores `values` (an array from allocOutput, a view of one, or anything else: ignored). */
export function noteStored(values: unknown): void {
  const r = recOf(values);
  if (r !== undefined) r.holders++;
}

/** `values` leaves the backend (read by the user or another backend): never release its buffer. */
export function noteEscaped(values: unknown): void {
  const r = recOf(values);
  if (r !== undefined && !r.escaped) {
    r.escaped = true;
    stats.escaped++;
  }
}

/** A dataId that stored `values` was deleted: release the array when nothing else holds it. */
export function noteReleased(values: unknown): void {
  const r = recOf(values);
  if (r === undefined) return;
  if (--r.holders > 0 || r.escaped) return;
  recs.delete(r.arr.buffer);
  r.release(r.arr);
  stats.released++;
}

/** Which allocator is in use, the release counters and the native pool's (for tests and the benchmark). */
export function outputAllocMode(backend?: MathBackendOneDNN): { mode: string; minBytes: number; release: boolean } & typeof stats & Record<string, unknown> {
  const pool = backend?.native.poolStats?.() ?? {};
  return { mode, minBytes, release: releaseOn, ...stats, ...pool };
}
