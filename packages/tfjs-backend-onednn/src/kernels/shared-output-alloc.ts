/**
 * Output buffers of the native kernels.
 *
 * tfjs needs a new tensor per kernel call. A fresh large `new Float32Array(n)` costs page faults and zeroing
 * (measured: 25 MB, ~9 ms, vs ~1 ms to fill a resident buffer), so large outputs come from the addon's
 * buffer pool (`allocF32`: memory recycled when V8 collects the array, contents uninitialized — the kernel
 * must write every element). Small ones use `new Float32Array`, which is faster below the threshold.
 *
 * Recycling on dispose. Memory that returns only when V8 collects the array still costs GC: every new
 * ArrayBuffer counts as external memory, and V8 starts a full mark-compact each ~64 MB of it (a BatchNorm-CNN
 * step allocated a few hundred MB: 4 mark-compacts and 8 scavenges a step, ~50 ms of a ~220 ms step). So a
 * large output array made here goes back to a free list (by length) as soon as the last tensor that stores
 * it is disposed — the same Float32Array object is handed to the next kernel that needs that length, no new
 * ArrayBuffer, no GC. This is only safe when nothing else can still read the array, so the backend
 * (backend.ts) reports every storage event:
 *  - `noteStored(values)` when a dataId starts to hold the array or a view of its buffer (write, move): the
 *    cpu kernels alias storage (lossless casts, contiguous Slice returns a subarray), each alias counts;
 *  - `noteReleased(values)` when a dataId holding it is deleted; at zero holders the array is recycled;
 *  - `noteEscaped(values)` when the array leaves the backend (readSync/read: `dataSync()`, `data()`,
 *    `bufferSync`, moving to another backend): such an array is never recycled, GC frees it as before.
 * Arrays a kernel allocates but never stores (temporaries) are left to GC too.
 *
 * LWLR_OUTPUT_ALLOC=js forces `new Float32Array` everywhere (pool and recycling off); LWLR_POOL_MIN_BYTES sets
 * the threshold; LWLR_RECYCLE_MB caps the bytes held in the free list (default 512; 0 turns recycling off).
 */
import type { MathBackendOneDNN } from '../backend.js';

const mode = process.env.LWLR_OUTPUT_ALLOC === 'js' ? 'js' : 'pool';
const minBytes = Number(process.env.LWLR_POOL_MIN_BYTES ?? '') > 0 ? Number(process.env.LWLR_POOL_MIN_BYTES) : 256 * 1024;
const minElems = Math.ceil(minBytes / 4);
const recycleCapBytes =
  mode === 'js' ? 0 : (process.env.LWLR_RECYCLE_MB !== undefined ? Math.max(0, Number(process.env.LWLR_RECYCLE_MB) || 0) : 512) * 2 ** 20;

/** An array made by allocOutput: how many dataIds store it (or views of its buffer), and whether it escaped. */
interface Rec {
  arr: Float32Array;
  holders: number;
  escaped: boolean;
}
const recs = new WeakMap<ArrayBufferLike, Rec>();
const freeLists = new Map<number, Float32Array[]>();
let freeBytes = 0;
const stats = { reused: 0, fresh: 0, recycled: 0, dropped: 0, escaped: 0 };

/** A Float32Array of n elements for a kernel output; uninitialized when pooled. */
export function allocOutput(backend: MathBackendOneDNN, n: number): Float32Array {
  if (mode === 'pool' && n >= minElems && typeof backend.native.allocF32 === 'function') {
    let arr: Float32Array | undefined;
    if (recycleCapBytes > 0) {
      const list = freeLists.get(n);
      if (list !== undefined && list.length > 0) {
        arr = list.pop()!;
        freeBytes -= arr.byteLength;
        stats.reused++;
      }
    }
    if (arr === undefined) {
      arr = backend.native.allocF32(n) as Float32Array;
      stats.fresh++;
    }
    if (recycleCapBytes > 0) recs.set(arr.buffer, { arr, holders: 0, escaped: false });
    return arr;
  }
  return new Float32Array(n);
}

function recOf(values: unknown): Rec | undefined {
  if (recycleCapBytes === 0 || !ArrayBuffer.isView(values)) return undefined;
  return recs.get(values.buffer);
}

/** A dataId now stores `values` (an array from allocOutput, a view of one, or anything else: ignored). */
export function noteStored(values: unknown): void {
  const r = recOf(values);
  if (r !== undefined) r.holders++;
}

/** `values` leaves the backend (read by the user or another backend): never recycle its buffer. */
export function noteEscaped(values: unknown): void {
  const r = recOf(values);
  if (r !== undefined && !r.escaped) {
    r.escaped = true;
    stats.escaped++;
  }
}

/** A dataId that stored `values` was deleted: recycle the array when nothing else holds it. */
export function noteReleased(values: unknown): void {
  const r = recOf(values);
  if (r === undefined) return;
  if (--r.holders > 0 || r.escaped) return;
  recs.delete(r.arr.buffer);
  const bytes = r.arr.byteLength;
  if (freeBytes + bytes > recycleCapBytes) {
    stats.dropped++;
    return;
  }
  let list = freeLists.get(r.arr.length);
  if (list === undefined) freeLists.set(r.arr.length, (list = []));
  list.push(r.arr);
  freeBytes += bytes;
  stats.recycled++;
}

/** Empties the free list (the arrays go back to the native pool when V8 collects them). */
export function trimRecycled(): void {
  freeLists.clear();
  freeBytes = 0;
}

/** Which allocator is in use, and the recycling counters (for the benchmark). */
export function outputAllocMode(): { mode: string; minBytes: number; recycleCapBytes: number; freeBytes: number } & typeof stats {
  return { mode, minBytes, recycleCapBytes, freeBytes, ...stats };
}
