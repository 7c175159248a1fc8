/**
 * Frozen Adagrad: the baseline the paper's reviewers asked for ("an adaptive optimizer run with learning rate 0
 * for T minibatches"). From the same measurement init and the same T minibatches as Algorithm 1, each ELEMENT j
 * of each tensor accumulates S_j = sum_t g_j^2 (what torch.optim.Adagrad keeps in `state_sum`; with lr 0 it
 * moves nothing). Its multiplier is Adagrad's step scale, frozen for the whole run:
 *
 * ```
 * raw_j = 1 / (sqrt(S_j) + eps)                    eps = 1e-10, torch.optim.Adagrad's default
 * a_j   = raw_j / mean_k raw_k                     mean over every element of every tensor (weighted by count,
 *                                                  as Algorithm 1 normalizes eta), so the mean of a is 1
 * ```
 *
 * Zero gradients. An element whose gradient is zero in exact arithmetic (a bias feeding BatchNorm, the attention
 * key bias, a dead unit, a pixel that is constant over the data) has S_j = 0 and raw_j = 1/eps = 1e10: that one
 * element would take the whole normalization mass and leave every other multiplier near 0, and would itself
 * train at a huge rate once it gets a gradient. As Algorithm 1's guard does for whole tensors, elements with
 * sqrt(S_j) <= zeroThreshold x median_k sqrt(S_k) (default 1e-4; or S_j = 0) get a_j = 1 and take no part in
 * the normalization. eps then only matters for elements just above that cutoff; it is kept for fidelity to
 * Adagrad's denominator.
 *
 * The table the optimizers take: `etaMap()` gives each tensor's mean multiplier eta_i (so the report's eta map
 * and `summary` read like a layer-wise table, and sum_i m_i eta_i = sum_i m_i), `elementEtaMap()` each tensor's
 * relative factors a_ij / eta_i (mean 1 per tensor) as tensors; an optimizer multiplies the two, so element j of
 * tensor i trains with lr * a_ij exactly as if it had its own torch param group (weight decay included).
 */
import * as tf from '@tensorflow/tfjs-core';
import { accumulateGradients, type BatchSource, type MeasureOptions, type MeasureTarget } from './measure.js';
import { LRTable, type LRTableEntry, type LRTableMetaInput } from './lr-table.js';
import type { ParamKind } from './types.js';

/** torch.optim.Adagrad's default eps, added to sqrt(sum g^2) before the division. */
export const FROZEN_ADAGRAD_EPS = 1e-10;
/** Elements with sqrt(sum g^2) at or below this times the median over all elements have a zero gradient. */
export const FROZEN_ADAGRAD_ZERO_THRESHOLD = 1e-4;

/** Options of {@link measureFrozenAdagrad}. */
export interface FrozenAdagradOptions extends Omit<MeasureOptions, 'gradNorm'> {
  /** Added to sqrt(sum g^2) (default 1e-10, torch.optim.Adagrad's). */
  eps?: number;
  /** Zero-gradient cutoff relative to the median of sqrt(sum g^2) over all elements (default 1e-4). */
  zeroThreshold?: number;
}

/** What {@link frozenAdagradFromSquares} needs of a parameter. */
export interface ElementParam {
  readonly name: string;
  readonly shape: readonly number[];
  readonly numel: number;
  readonly kind: ParamKind;
}

/** How the squares were measured (the table's metadata). */
export interface FrozenAdagradMeasurement {
  steps: number;
  batchSize: number | null;
  init: LRTableMetaInput['init'];
  seed: number | null;
  eps?: number;
  zeroThreshold?: number;
}

const REL_TOL = 1e-5;

function checkNonNeg(what: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`frozen-adagrad: ${what} must be a finite number >= 0, got ${v}`);
}

/** The median of the square roots of all values (sorted copy; the measurement's end, not a training step). */
function medianSqrt(squares: readonly Float32Array[], total: number): number {
  const all = new Float32Array(total);
  let o = 0;
  for (const s of squares) { all.set(s, o); o += s.length; }
  all.sort();
  const mid = total >> 1;
  const m = total % 2 === 1 ? all[mid]! : (all[mid - 1]! + all[mid]!) / 2;
  return Math.sqrt(m);
}

/**
 * Per-element multipliers from each element's sum over the T minibatches of g^2 (see the module doc): raw
 * 1 / (sqrt(S) + eps), zero-gradient elements at 1, normalized to a mean of 1 over all elements. Pure: no tensors.
 *
 * @example
 * ```ts
 * const t = frozenAdagradFromSquares([{ name: 'w', shape: [2], numel: 2, kind: 'kernel' }],
 *   [Float32Array.of(1, 4)], { steps: 1, batchSize: null, init: 'none', seed: null });
 * t.multipliers.w; // [4/3, 2/3]: raw [1, 1/2], mean 3/4
 * ```
 */
export function frozenAdagradFromSquares(
  params: readonly ElementParam[], squares: readonly Float32Array[], how: FrozenAdagradMeasurement,
): FrozenAdagradTable {
  const eps = how.eps ?? FROZEN_ADAGRAD_EPS;
  const zeroThreshold = how.zeroThreshold ?? FROZEN_ADAGRAD_ZERO_THRESHOLD;
  checkNonNeg('eps', eps);
  checkNonNeg('zeroThreshold', zeroThreshold);
  if (params.length === 0) throw new Error('frozen-adagrad: no parameters');
  if (squares.length !== params.length) throw new Error(`frozen-adagrad: ${params.length} parameters but ${squares.length} arrays of squares`);
  let total = 0;
  params.forEach((p, i) => {
    const s = squares[i]!;
    if (s.length !== p.numel) throw new Error(`frozen-adagrad: '${p.name}' has ${p.numel} elements but ${s.length} squares`);
    total += p.numel;
  });
  const med = medianSqrt(squares, total);
  const cutoff = zeroThreshold * med;
  // pass 1: the mean raw multiplier over the elements that take part (float64 sums)
  let sum = 0;
  let count = 0;
  let zeros = 0;
  for (const s of squares) {
    for (let j = 0; j < s.length; j++) {
      const v = s[j]!;
      if (!(v >= 0) || !Number.isFinite(v)) throw new Error(`frozen-adagrad: a sum of squares is ${v} (expected finite and >= 0)`);
      const r = Math.sqrt(v);
      if (v === 0 || r <= cutoff) { zeros++; continue; }
      sum += 1 / (r + eps);
      count++;
    }
  }
  if (count === 0) throw new Error(`every element has a zero gradient (median sqrt(sum g^2) = ${med}): is the loss connected to the parameters?`);
  const mean = sum / count;
  // pass 2: the normalized multipliers, and each tensor's mean
  const multipliers: Record<string, Float32Array> = {};
  const entries: LRTableEntry[] = [];
  const allZero: string[] = [];
  let lo = Infinity;
  let hi = -Infinity;
  params.forEach((p, i) => {
    const s = squares[i]!;
    const a = new Float32Array(p.numel);
    let tensorSum = 0;
    let tensorZeros = 0;
    for (let j = 0; j < s.length; j++) {
      const r = Math.sqrt(s[j]!);
      const v = s[j] === 0 || r <= cutoff ? (tensorZeros++, 1) : 1 / (r + eps) / mean;
      a[j] = v;
      tensorSum += a[j]!;
      if (a[j]! < lo) lo = a[j]!;
      if (a[j]! > hi) hi = a[j]!;
    }
    multipliers[p.name] = a;
    const e: LRTableEntry = { name: p.name, shape: [...p.shape], numel: p.numel, kind: p.kind, G: null, eta: tensorSum / p.numel };
    if (tensorZeros === p.numel) {
      allZero.push(p.name);
      entries.push({ ...e, excluded: true });
    } else {
      entries.push(e);
    }
  });
  const warnings: string[] = [];
  if (zeros > 0) {
    warnings.push(`${zeros} of ${total} elements have a zero gradient (sqrt(sum g^2) <= ${zeroThreshold} x median ${med.toExponential(2)}): ` +
      `multiplier 1, left out of the normalization${allZero.length ? `; whole tensors: ${allZero.join(', ')}` : ''}`);
  }
  const summary = new LRTable(entries, {
    scheme: 'frozen-adagrad',
    steps: how.steps,
    batchSize: how.batchSize,
    init: how.init,
    gradNorm: null,
    elementwise: { eps, zeroThreshold, zeroElements: zeros, min: lo, max: hi },
    exponent: 0.5,
    seed: how.seed,
    zeroGradient: { threshold: zeroThreshold, policy: 'exclude', medianG: med, cutoff, names: allZero },
    signature: LRTable.signatureOf(params),
    warnings,
  });
  return new FrozenAdagradTable(summary, multipliers);
}

/**
 * Frozen Adagrad on a model: the measurement init, T minibatches at fixed weights (as Algorithm 1), each
 * element's sum of g^2, then {@link frozenAdagradFromSquares}. The model's weights are restored afterwards
 * unless `keepInit` (as {@link measureLayerwiseLR}).
 *
 * @example
 * ```ts
 * const fa = await measureFrozenAdagrad(model, batches, { steps: 100, seed: 0, keepInit: true });
 * const opt = new SGD(collectParams(model), { lr: 0.1, momentum: 0.9, eta: fa }); // per-element lr
 * // ... train; then
 * opt.dispose(); fa.dispose();
 * ```
 */
export async function measureFrozenAdagrad(
  target: MeasureTarget, batches: BatchSource, opts: FrozenAdagradOptions,
): Promise<FrozenAdagradTable> {
  // validate the cheap options before spending T steps
  checkNonNeg('eps', opts?.eps ?? FROZEN_ADAGRAD_EPS);
  checkNonNeg('zeroThreshold', opts?.zeroThreshold ?? FROZEN_ADAGRAD_ZERO_THRESHOLD);
  const m = await accumulateGradients(target, batches, { ...opts, gradNorm: 'l1' }, true);
  return frozenAdagradFromSquares(m.params, m.squares!, {
    steps: m.steps, batchSize: m.batchSize, init: m.init, seed: m.seed, eps: opts.eps, zeroThreshold: opts.zeroThreshold,
  });
}

/**
 * A frozen-adagrad table: the per-element multipliers (host arrays, keyed by parameter name, in the tfjs layout
 * of the parameter) and their per-tensor summary, an {@link LRTable} of scheme `frozen-adagrad` whose eta is
 * each tensor's mean multiplier. Pass it as an optimizer's `eta`: the optimizer takes `etaMap()` and
 * `elementEtaMap()` and trains element j of tensor i with `lr * a_ij`. The factor tensors are made on first use
 * and belong to the table: `dispose()` them after the optimizer.
 *
 * @example
 * ```ts
 * const fa = FrozenAdagradTable.fromMultipliers(LRTable.fromJSON(jsonText), arraysFromSafetensors);
 * fa.checkCompatible(collectParams(model));
 * const opt = new AdamW(params, { lr: 1e-3, eta: fa, weightDecay: 0.05 });
 * ```
 */
export class FrozenAdagradTable {
  /** Per tensor: the mean multiplier as eta, with the measurement's metadata (what `lr-table.json` holds). */
  readonly summary: LRTable;
  /** Per parameter name: every element's multiplier a (mean 1 over all elements of all tensors). */
  readonly multipliers: Readonly<Record<string, Float32Array>>;
  private factors: Record<string, tf.Tensor> | null = null;

  constructor(summary: LRTable, multipliers: Record<string, Float32Array>) {
    if (summary.meta.scheme !== 'frozen-adagrad') throw new Error(`frozen-adagrad: the summary table is '${summary.meta.scheme}', not 'frozen-adagrad'`);
    const missing = summary.names.filter((n) => !(n in multipliers));
    const extra = Object.keys(multipliers).filter((n) => summary.entry(n) === undefined);
    if (missing.length || extra.length) {
      throw new Error(`frozen-adagrad: the multipliers do not match the table` +
        `${missing.length ? `; missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}` : ''}` +
        `${extra.length ? `; not in the table: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', ...' : ''}` : ''}`);
    }
    let all = 0;
    let n = 0;
    for (const e of summary.entries) {
      const a = multipliers[e.name]!;
      if (!(a instanceof Float32Array)) throw new Error(`frozen-adagrad: multipliers of '${e.name}' must be a Float32Array`);
      if (a.length !== e.numel) throw new Error(`frozen-adagrad: '${e.name}' has ${a.length} multipliers for shape [${e.shape}] (${e.numel} elements)`);
      let s = 0;
      for (let j = 0; j < a.length; j++) {
        const v = a[j]!;
        if (!(v > 0) || !Number.isFinite(v)) throw new Error(`frozen-adagrad: multiplier ${j} of '${e.name}' is ${v} (must be finite and > 0)`);
        s += v;
      }
      if (!(Math.abs(s / a.length - e.eta) <= REL_TOL * e.eta)) {
        throw new Error(`frozen-adagrad: the mean multiplier of '${e.name}' is ${s / a.length}, its table says ${e.eta}`);
      }
      all += s;
      n += a.length;
    }
    if (!(Math.abs(all / n - 1) <= REL_TOL)) throw new Error(`frozen-adagrad: the multipliers' mean over all elements is ${all / n}, not 1`);
    this.summary = summary;
    this.multipliers = Object.freeze({ ...multipliers });
  }

  /**
   * A table from its summary and its multipliers (as read back from a file); checks that they agree.
   *
   * @example
   * ```ts
   * const fa = FrozenAdagradTable.fromMultipliers(LRTable.fromJSON(text), { 'fc1.kernel': a1, 'fc1.bias': a2 });
   * ```
   */
  static fromMultipliers(summary: LRTable, multipliers: Record<string, Float32Array>): FrozenAdagradTable {
    return new FrozenAdagradTable(summary, multipliers);
  }

  /** Parameter names in order. */
  get names(): string[] {
    return this.summary.names;
  }

  /**
   * Each tensor's mean multiplier (the optimizers' per-tensor eta).
   *
   * @example
   * ```ts
   * fa.etaMap(); // { 'fc1.kernel': 0.93, ... }
   * ```
   */
  etaMap(): Record<string, number> {
    return this.summary.etaMap();
  }

  /**
   * Per tensor, its multipliers divided by its mean (a tensor shaped like the parameter, mean 1): what an
   * optimizer multiplies into the update on top of `etaMap()`. Made once, owned by the table.
   *
   * @example
   * ```ts
   * const factors = fa.elementEtaMap(); // { 'fc1.kernel': Tensor [784, 256], ... }
   * ```
   */
  elementEtaMap(): Record<string, tf.Tensor> {
    if (this.factors === null) {
      const out: Record<string, tf.Tensor> = {};
      for (const e of this.summary.entries) {
        const a = this.multipliers[e.name]!;
        const f = new Float32Array(a.length);
        for (let j = 0; j < a.length; j++) f[j] = a[j]! / e.eta;
        out[e.name] = tf.keep(tf.tensor(f, [...e.shape], 'float32'));
      }
      this.factors = out;
    }
    return { ...this.factors };
  }

  /** Throws, listing the differences, unless the table's names and shapes are the model's (as `LRTable.checkCompatible`). */
  checkCompatible(params: readonly { readonly name: string; readonly shape: readonly number[] }[]): void {
    this.summary.checkCompatible(params);
  }

  /** Frees the factor tensors of {@link elementEtaMap} (the host arrays stay). */
  dispose(): void {
    if (this.factors) tf.dispose(Object.values(this.factors));
    this.factors = null;
  }
}
