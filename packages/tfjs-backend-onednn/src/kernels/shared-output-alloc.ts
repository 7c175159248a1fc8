/**
 * Output buffers of the native kernels.
 *
 * tfjs needs a new tensor per kernel call. A fresh large `new Float32Array(n)` costs page faults and zeroing
 * (measured: 25 MB, ~9 ms, vs ~1 ms to fill a resident buffer), so large outputs come from the addon's
 * buffer pool (`allocF32`: memory recycled when V8 collects the array, contents uninitialized — the kernel
 * must write every element). Small ones use `new Float32Array`, which is faster below the threshold.
 *
 * Release on dispose. Memory that returns only when V8 collects the array is not reusable within a training
 * step (a ViT-S/16 step held 7 GB at the end of its backward with 92 MB live). So a large output array made here
 * is recycled as soon as the last tensor that stores it is disposed, in two tiers:
 *  - a free list of arrays by exact length (LWLR_RECYCLE_MB, default 256 MB): the next kernel output of that
 *    length reuses the same Float32Array object. No new ArrayBuffer: every new ArrayBuffer counts as external
 *    memory to V8, which then runs a GC each few tens of MB (a ViT-S/16 step at batch 4 ran ~50 of them);
 *  - beyond that cap, the oldest free arrays are handed back to the native pool (`releaseF32`: the ArrayBuffer is
 *    detached, the memory is reusable at once by the next kernel of any size up to twice as large).
 * This is only safe when nothing else can still read the array, so the backend (backend.ts) reports every
 * storage event:
 *  - `noteStored(values)` when a dataId starts to hold the array or a view of its buffer (write, move): the
 *    cpu kernels alias storage (lossless casts, contiguous Slice returns a subarray), each alias counts;
 *  - `noteReleased(values)` when a dataId holding it is deleted; at zero holders the array is recycled;
 *  - `noteEscaped(values)` when the array leaves the backend (readSync/read: `dataSync()`, `data()`,
 *    `bufferSync`, moving to another backend): such an array is never recycled, GC frees it as before.
 * A stale reference that escaped this accounting would see another tensor's data (first tier) or an empty,
 * detached array (second tier). Kernels recycle their own scratch arrays with `releaseScratch`.
 *
 * LWLR_OUTPUT_ALLOC=js forces `new Float32Array` everywhere (pool and recycling off); LWLR_POOL_MIN_BYTES sets
 * the threshold; LWLR_RECYCLE_MB=0 hands every released array straight back to the native pool;
 * LWLR_RECYCLE=0 leaves released arrays to GC.
 */
import type { MathBackendOneDNN } from '../backend.js';

const mode = process.env.LWLR_OUTPUT_ALLOC === 'js' ? 'js' : 'pool';
const minBytes = Number(process.env.LWLR_POOL_MIN_BYTES ?? '') > 0 ? Number(process.env.LWLR_POOL_MIN_BYTES) : 256 * 1024;
const minElems = Math.ceil(minBytes / 4);
/** Outputs from this size on (4 KB) are recycled; smaller ones are left to GC. */
const recycleMinElems = Math.min(1024, minElems);
const releaseOn = mode === 'pool' && process.env.LWLR_RECYCLE !== '0';
const freeCapBytes = (process.env.LWLR_RECYCLE_MB !== undefined ? Math.max(0, Number(process.env.LWLR_RECYCLE_MB) || 0) : 256) * 2 ** 20;

/** An array made by allocOutput: how many dataIds store it (or views of its buffer), and whether it escaped. */
interface Rec {
  arr: Float32Array;
  holders: number;
  escaped: boolean;
}
const recs = new WeakMap<ArrayBufferLike, Rec>();
/** Free arrays by length, and all of them oldest first (entries reused since are skipped on eviction). */
const freeLists = new Map<number, Float32Array[]>();
const freeOrder: Float32Array[] = [];
const isFree = new Set<Float32Array>();
let freeBytes = 0;
let nativeRelease: ((arr: Float32Array) => void) | null = null;
const stats = { pooled: 0, reused: 0, recycled: 0, detached: 0, escaped: 0 };

/**
 * A Float32Array of n elements for a kernel output: uninitialized when large (pooled), zeros when small (as
 * `new Float32Array(n)`; small arrays from 4 KB on are recycled too, being external memory to V8 as well).
 */
export function allocOutput(backend: MathBackendOneDNN, n: number): Float32Array {
  if (mode !== 'pool' || n < recycleMinElems || typeof backend.native.allocF32 !== 'function') return new Float32Array(n);
  let arr = freeLists.get(n)?.pop();
  if (arr !== undefined) {
    isFree.delete(arr);
    freeBytes -= arr.byteLength;
    stats.reused++;
    if (n < minElems) arr.fill(0);
  } else if (n >= minElems) {
    arr = backend.native.allocF32(n) as Float32Array;
    stats.pooled++;
  } else {
    arr = new Float32Array(n);
  }
  if (releaseOn) {
    nativeRelease ??= backend.native.releaseF32;
    recs.set(arr.buffer, { arr, holders: 0, escaped: false });
  }
  return arr;
}

/** Puts an array nothing can read any more on the free list; the oldest beyond the cap go to the native pool. */
function recycle(arr: Float32Array): void {
  recs.delete(arr.buffer);
  stats.recycled++;
  let list = freeLists.get(arr.length);
  if (list === undefined) freeLists.set(arr.length, (list = []));
  list.push(arr);
  isFree.add(arr);
  freeOrder.push(arr);
  freeBytes += arr.byteLength;
  while (freeBytes > freeCapBytes && freeOrder.length > 0) {
    const old = freeOrder.shift()!;
    if (!isFree.has(old)) continue;
    isFree.delete(old);
    const l = freeLists.get(old.length)!;
    l.splice(l.lastIndexOf(old), 1);
    freeBytes -= old.byteLength;
    nativeRelease!(old);
    stats.detached++;
  }
  if (freeOrder.length > 4 * isFree.size + 64) {
    // drop the entries of arrays reused since (keeps the queue proportional to the free list)
    const keep = freeOrder.filter((a) => isFree.has(a));
    freeOrder.length = 0;
    freeOrder.push(...keep);
  }
}

/**
 * Recycles a kernel's scratch array (from allocOutput, never stored in a tensor and not referenced after this
 * call) at once. Anything else is left to GC.
 */
export function releaseScratch(arr: Float32Array): void {
  const r = recOf(arr);
  if (r === undefined || r.holders > 0 || r.escaped || r.arr !== arr) return;
  recycle(arr);
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
  recycle(r.arr);
}

/** Hands every free array back to the native pool (e.g. before a phase with other tensor sizes). */
export function trimRecycled(): void {
  for (const arr of isFree) {
    nativeRelease!(arr);
    stats.detached++;
  }
  freeLists.clear();
  freeOrder.length = 0;
  isFree.clear();
  freeBytes = 0;
}

/** Which allocator is in use, the release counters and the native pool's (for tests and the benchmark). */
export function outputAllocMode(backend?: MathBackendOneDNN): { mode: string; minBytes: number; release: boolean; freeCapBytes: number; freeBytes: number } & typeof stats & Record<string, unknown> {
  const pool = backend?.native.poolStats?.() ?? {};
  return { mode, minBytes, release: releaseOn, freeCapBytes, freeBytes, ...stats, native: pool };
}
