/**
 * Output buffers of the native kernels.
 *
 * tfjs needs a new tensor per kernel call. A fresh large `new Float32Array(n)` costs page faults and zeroing
 * (measured: 25 MB, ~9 ms, vs ~1 ms to fill a resident buffer), so large outputs come from the addon's
 * buffer pool (`allocF32`: memory recycled when V8 collects the array, contents uninitialized — the kernel
 * must write every element). Small ones use `new Float32Array`, which is faster below the threshold.
 *
 * Release on dispose. Memory that returns only when V8 collects the array is not reusable within a training
 * step (a ViT-S/16 step held 7 GB at the end of its backward with 92 MB live), and every ArrayBuffer V8 still
 * accounts for counts as external memory towards its next GC. So an output array made here (from 4 KB on) is
 * released as soon as the last tensor that stores it is disposed: `releaseF32` detaches its ArrayBuffer, the
 * memory of a pooled array is reusable at once by the next kernel of any size up to twice as large, and V8's
 * accounting drops at once. (A free list of arrays by exact length in front of the pool was tried: it raised a
 * ResNet-50 b8 step's peak RSS from 1.62 to 1.80 GB, memory of one size not serving another, for no CPU gain.)
 * This is only safe when nothing else can still read the array, so the backend (backend.ts) reports every
 * storage event:
 *  - `noteStored(values)` when a dataId starts to hold the array or a view of its buffer (write, move): the
 *    cpu kernels alias storage (lossless casts, contiguous Slice returns a subarray), each alias counts;
 *  - `noteReleased(values)` when a dataId holding it is deleted; at zero holders the array is released;
 *  - `noteEscaped(values)` when the array leaves the backend (readSync/read: `dataSync()`, `data()`,
 *    `bufferSync`, moving to another backend): such an array is never released, GC frees it as before.
 * A stale reference that escaped this accounting would see an empty (detached) array, never other data.
 * Kernels release their own scratch arrays with `releaseScratch`.
 *
 * LWLR_OUTPUT_ALLOC=js forces `new Float32Array` everywhere (pool and release off); LWLR_POOL_MIN_BYTES sets
 * the pool threshold; LWLR_RECYCLE=0 leaves released arrays to GC.
 */
import type { MathBackendOneDNN } from '../backend.js';

const mode = process.env.LWLR_OUTPUT_ALLOC === 'js' ? 'js' : 'pool';
const minBytes = Number(process.env.LWLR_POOL_MIN_BYTES ?? '') > 0 ? Number(process.env.LWLR_POOL_MIN_BYTES) : 256 * 1024;
const minElems = Math.ceil(minBytes / 4);
/** Outputs from this size on (4 KB) are released on dispose; smaller ones are left to GC. */
const releaseMinElems = Math.min(1024, minElems);
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

/**
 * A Float32Array of n elements for a kernel output: uninitialized when large (from the native pool), zeros
 * when small (`new Float32Array(n)`).
 */
export function allocOutput(backend: MathBackendOneDNN, n: number): Float32Array {
  if (mode !== 'pool' || n < releaseMinElems || typeof backend.native.allocF32 !== 'function') return new Float32Array(n);
  let arr: Float32Array;
  if (n >= minElems) {
    arr = backend.native.allocF32(n) as Float32Array;
    stats.pooled++;
  } else {
    arr = new Float32Array(n);
  }
  if (releaseOn) recs.set(arr.buffer, { arr, holders: 0, escaped: false, release: backend.native.releaseF32 });
  return arr;
}

function release(r: Rec): void {
  recs.delete(r.arr.buffer);
  r.release(r.arr);
  stats.released++;
}

/**
 * Releases a kernel's scratch array (from allocOutput, never stored in a tensor and not referenced after this
 * call) at once. Anything else is left to GC.
 */
export function releaseScratch(arr: Float32Array): void {
  const r = recOf(arr);
  if (r === undefined || r.holders > 0 || r.escaped || r.arr !== arr) return;
  release(r);
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
  release(r);
}

/** Which allocator is in use, the release counters and the native pool's (for tests and the benchmark). */
export function outputAllocMode(backend?: MathBackendOneDNN): { mode: string; minBytes: number; release: boolean } & typeof stats & { native: Record<string, number> } {
  const pool = (backend?.native.poolStats?.() ?? {}) as Record<string, number>;
  return { mode, minBytes, release: releaseOn, ...stats, native: pool };
}
