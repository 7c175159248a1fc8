/** Shared helpers of the core tests (params, init, measure, schemes, eta-table). */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';

let ready: Promise<void> | null = null;

/**
 * Selects the pure-JS cpu backend once (the tests must not depend on a native backend). The backend's
 * "install tfjs-node to speed things up" banner is noise for tests on cpu by design: silenced.
 */
export function useCpu(): Promise<void> {
  ready ??= tf.setBackend('cpu').then((ok) => {
    if (!ok) throw new Error('could not select the cpu backend');
    (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
  });
  return ready;
}

/** Asserts |actual - expected| <= rel * max(|expected|, tiny). */
export function assertClose(actual: number, expected: number, rel = 1e-6, msg = ''): void {
  const tol = rel * Math.max(Math.abs(expected), 1e-30);
  assert.ok(Math.abs(actual - expected) <= tol, `${msg} expected ${expected}, got ${actual} (rel tol ${rel})`);
}

/** Asserts two arrays agree elementwise to a relative tolerance. */
export function assertAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel = 1e-6, msg = ''): void {
  assert.equal(actual.length, expected.length, `${msg} length`);
  for (let i = 0; i < expected.length; i++) assertClose(actual[i]!, expected[i]!, rel, `${msg}[${i}]`);
}

/** The values of a tensor as a plain array. */
export function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

/** Deterministic pseudo-random floats in [-1, 1) (for test inputs; no tfjs RNG). */
export function detFloats(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

/** A batch of deterministic inputs [B, ...shape] and integer labels in [0, classes). */
export function makeBatch(B: number, shape: number[], classes: number, seed: number): { x: tf.Tensor; y: tf.Tensor } {
  const n = B * shape.reduce((a, b) => a * b, 1);
  const x = tf.tensor(detFloats(n, seed), [B, ...shape]);
  const labels = Array.from(detFloats(B, seed + 1000), (v) => Math.floor(((v + 1) / 2) * classes) % classes);
  const y = tf.tensor1d(labels, 'int32');
  return { x, y };
}

/** Disposes the tensors of batches. */
export function disposeBatches(batches: Array<{ x: tf.Tensor | tf.Tensor[]; y: tf.Tensor }>): void {
  for (const b of batches) tf.dispose([...(Array.isArray(b.x) ? b.x : [b.x]), b.y]);
}

/** Snapshot of every weight's values of a model, by tfjs name (to compare before/after). */
export function weightValues(model: tf.LayersModel): Map<string, number[]> {
  return new Map(model.weights.map((w) => [w.name, values(w.read())]));
}

/** Asserts that `fn` throws (or rejects) with a message matching every pattern. */
export async function assertRejects(fn: () => unknown, ...patterns: RegExp[]): Promise<Error> {
  let err: unknown = null;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof Error, 'expected an error');
  for (const p of patterns) assert.match(err.message, p);
  return err;
}
