/**
 * Parity helper shared by every kernel test of this package: runs the same computation on the `cpu` backend
 * (the reference) and on `onednn`, with the same seeded random inputs, and asserts the results agree within a
 * threshold relative to the magnitude of the reference values.
 *
 * Usage:
 * ```ts
 * import { expectParity, tf } from './parity.js';
 * await expectParity((rand) => tf.matMul(rand([3, 5]), rand([5, 7])), { rtol: 1e-5 });
 * await expectParity((rand) => tf.grad((x) => tf.relu(x).sum())(rand([4, 4])));
 * ```
 *
 * The check, per output tensor (the outputs of `fn`, flattened, in order):
 *   max_i |onednn_i - cpu_i|  <=  atol + rtol * max_i |cpu_i|
 * i.e. the worst absolute error is compared with the largest value of the reference ("relative to the
 * magnitude"), which is robust to cancellation near zero in sums/matmuls. Shapes and dtypes must match
 * exactly; NaN must match NaN, +-Inf must match exactly.
 *
 * Signature (kept stable, other tests import it):
 *   expectParity(fn, opts?) -> Promise<ParityResult>
 *   fn: (rand: RandFn) => tf.Tensor | tf.Tensor[]   (may also ignore `rand` and build its own inputs; they
 *       must then be deterministic, e.g. tf.tensor(...) of fixed data)
 */
import * as tf from '@tensorflow/tfjs';
import { available, BACKEND_NAME } from '../src/index.js';

export { tf, available, BACKEND_NAME };

export interface ParityOptions {
  /** Relative tolerance, against max |cpu value| of each output. Default 1e-5. */
  rtol?: number;
  /** Absolute tolerance added to the relative one. Default 1e-6. */
  atol?: number;
  /** Seed of the input generator (same inputs on both backends). Default 1. */
  seed?: number;
  /** Backend used as reference. Default 'cpu'. */
  reference?: string;
  /** Backend under test. Default 'onednn'. */
  backend?: string;
  /** Text prefixed to assertion messages. */
  label?: string;
}

export interface RandOptions {
  /** Distribution: 'normal' (default, mean 0, std `scale`), 'uniform' in [lo, hi), or 'int' in [lo, hi). */
  dist?: 'normal' | 'uniform' | 'int';
  scale?: number;
  lo?: number;
  hi?: number;
  dtype?: 'float32' | 'int32';
}

/** Makes a random tensor on the active backend from the shared seeded generator. */
export type RandFn = (shape: number[], opts?: RandOptions | number) => tf.Tensor;

export interface ParityResult {
  /** Per output: max absolute error, max |reference|, and their ratio. */
  outputs: { maxAbsErr: number; maxAbsRef: number; relErr: number; shape: number[] }[];
  /** Worst relErr over all outputs. */
  worstRelErr: number;
}

/** A small deterministic PRNG (mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A RandFn drawing from `seed`; calling it in the same order gives the same tensors. */
export function makeRand(seed: number): RandFn {
  const next = mulberry32(seed);
  return (shape, o) => {
    const opts: RandOptions = typeof o === 'number' ? { scale: o } : (o ?? {});
    const n = shape.reduce((a, b) => a * b, 1);
    const dist = opts.dist ?? 'normal';
    const dtype = opts.dtype ?? (dist === 'int' ? 'int32' : 'float32');
    const data = dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) {
      if (dist === 'normal') {
        // Box-Muller
        const u = Math.max(next(), 1e-12);
        const v = next();
        data[i] = (opts.scale ?? 1) * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
      } else if (dist === 'uniform') {
        const lo = opts.lo ?? 0;
        const hi = opts.hi ?? 1;
        data[i] = lo + (hi - lo) * next();
      } else {
        const lo = opts.lo ?? 0;
        const hi = opts.hi ?? 10;
        data[i] = lo + Math.floor((hi - lo) * next());
      }
    }
    return tf.tensor(data, shape, dtype);
  };
}

interface Snapshot {
  shape: number[];
  dtype: string;
  values: ArrayLike<number>;
}

async function runOn(
  backend: string,
  fn: (rand: RandFn) => tf.Tensor | tf.Tensor[],
  seed: number,
): Promise<Snapshot[]> {
  if (!(await tf.setBackend(backend))) throw new Error(`expectParity: backend ${backend} cannot be set`);
  const outs = tf.tidy(() => {
    const r = fn(makeRand(seed));
    return Array.isArray(r) ? r : [r];
  });
  const snaps: Snapshot[] = [];
  for (const t of outs) {
    snaps.push({ shape: t.shape.slice(), dtype: t.dtype, values: (await t.data()) as ArrayLike<number> });
    t.dispose();
  }
  return snaps;
}

/**
 * Runs `fn` on the reference backend ('cpu') and on 'onednn' with identical seeded inputs and asserts that
 * every output agrees (see the module comment for the formula). Restores the previously active backend.
 * Returns the measured errors so tests can log them.
 */
export async function expectParity(
  fn: (rand: RandFn) => tf.Tensor | tf.Tensor[],
  opts: ParityOptions = {},
): Promise<ParityResult> {
  const rtol = opts.rtol ?? 1e-5;
  const atol = opts.atol ?? 1e-6;
  const seed = opts.seed ?? 1;
  const label = opts.label ? `${opts.label}: ` : '';
  const prev = tf.getBackend();
  let ref: Snapshot[];
  let got: Snapshot[];
  try {
    ref = await runOn(opts.reference ?? 'cpu', fn, seed);
    got = await runOn(opts.backend ?? BACKEND_NAME, fn, seed);
  } finally {
    if (prev && prev !== tf.getBackend()) await tf.setBackend(prev);
  }
  if (ref.length !== got.length) {
    throw new Error(`${label}number of outputs differs: cpu ${ref.length}, onednn ${got.length}`);
  }
  const result: ParityResult = { outputs: [], worstRelErr: 0 };
  for (let k = 0; k < ref.length; k++) {
    const a = ref[k];
    const b = got[k];
    if (a.shape.join(',') !== b.shape.join(',')) {
      throw new Error(`${label}output ${k}: shape differs: cpu [${a.shape}], onednn [${b.shape}]`);
    }
    if (a.dtype !== b.dtype) throw new Error(`${label}output ${k}: dtype differs: cpu ${a.dtype}, onednn ${b.dtype}`);
    let maxAbsRef = 0;
    let maxAbsErr = 0;
    let worstAt = -1;
    for (let i = 0; i < a.values.length; i++) {
      const x = a.values[i];
      const y = b.values[i];
      if (Number.isNaN(x) || Number.isNaN(y)) {
        if (Number.isNaN(x) !== Number.isNaN(y)) throw new Error(`${label}output ${k}[${i}]: cpu ${x}, onednn ${y}`);
        continue;
      }
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        if (x !== y) throw new Error(`${label}output ${k}[${i}]: cpu ${x}, onednn ${y}`);
        continue;
      }
      maxAbsRef = Math.max(maxAbsRef, Math.abs(x));
      const e = Math.abs(x - y);
      if (e > maxAbsErr) {
        maxAbsErr = e;
        worstAt = i;
      }
    }
    const relErr = maxAbsRef > 0 ? maxAbsErr / maxAbsRef : maxAbsErr;
    result.outputs.push({ maxAbsErr, maxAbsRef, relErr, shape: a.shape });
    result.worstRelErr = Math.max(result.worstRelErr, relErr);
    if (maxAbsErr > atol + rtol * maxAbsRef) {
      throw new Error(
        `${label}output ${k} [${a.shape}]: max |onednn - cpu| = ${maxAbsErr.toExponential(3)} at ${worstAt} ` +
          `(cpu ${a.values[worstAt]}, onednn ${b.values[worstAt]}) > atol ${atol} + rtol ${rtol} * max|cpu| ` +
          `${maxAbsRef.toExponential(3)} (relative error ${relErr.toExponential(3)})`,
      );
    }
  }
  return result;
}

/** Asserts that `kernelName` is registered natively for onednn (not the copied cpu kernel). */
export function isNativeKernel(kernelName: string): boolean {
  const mine = tf.getKernel(kernelName, BACKEND_NAME);
  const cpu = tf.getKernel(kernelName, 'cpu');
  return mine !== undefined && cpu !== undefined && mine.kernelFunc !== cpu.kernelFunc;
}
