/**
 * From raw relative learning rates to eta: the one normalization of Algorithm 1 (lines 9-13), the
 * layer-wise scheme eta ~ G^(-p), its zero-gradient guard, and the comparison schemes of the paper's
 * Figure 1 (uniform, depth-increasing 0.1 -> 1, depth-decreasing 2 -> 1), all normalized alike so
 * that sum_i m_i eta_i = sum_i m_i (the average per-element learning rate is the global one).
 */
import { LRTable, type LRTableEntry, type ZeroGradientReport } from './lr-table.js';
import type { ParamInfo } from './types.js';

/**
 * The learning-rate schemes: measured `layerwise` (Algorithm 1), the three fixed ones, `mup` (per-tensor
 * multipliers of maximal update parametrization relative to a base model, built by `mupTable` in `mup.ts`),
 * and `frozen-adagrad` (per-element multipliers measured like Algorithm 1, built by `measureFrozenAdagrad` in
 * `frozen-adagrad.ts`; its table holds each tensor's mean multiplier).
 */
export type LRSchemeName = 'uniform' | 'layerwise' | 'depth-increasing' | 'depth-decreasing' | 'mup' | 'frozen-adagrad';

/** The schemes of {@link schemeTable} and Algorithm 1, in a stable order (for CLIs and reports); `mup` has its own builder. */
export const LR_SCHEMES: readonly LRSchemeName[] = ['uniform', 'layerwise', 'depth-increasing', 'depth-decreasing'];

/** The schemes that need no measurement. */
export type FixedLRSchemeName = Exclude<LRSchemeName, 'layerwise' | 'mup' | 'frozen-adagrad'>;

/** What to do with parameters whose gradient is zero in exact arithmetic (see {@link layerwiseEtaFromG}). */
export type ZeroGradientPolicy = 'exclude' | 'error' | 'keep';

/** Options of the zero-gradient guard. */
export interface ZeroGradientOptions {
  /**
   * A parameter is zero-gradient when G_i <= threshold * median(G) (or G_i = 0). Default 1e-4.
   * Relative to the median, not the largest G: the largest can be an outlier many orders above the
   * rest (a ViT's class token sits ~1e5 above the smallest real tensor), while the median is a
   * typical tensor; structural zeros (attention key bias, a bias feeding BatchNorm) sit five or more
   * orders of magnitude below every real tensor, float noise of ~1e-9 against ~1e-2.
   */
  threshold?: number;
  /**
   * `exclude` (default): eta = 1, left out of the normalization, named in the table's metadata and
   * warnings; `error`: throw, naming them; `keep`: treat them like any other (eta = G^-p, which explodes).
   */
  policy?: ZeroGradientPolicy;
}

/** Options of {@link layerwiseEtaFromG}. */
export interface LayerwiseEtaOptions {
  /** eta~ = G^(-exponent). Default 0.5 (the paper's 1/sqrt(G)). */
  exponent?: number;
  zeroGradient?: ZeroGradientOptions;
  /** Parameter names, for messages and the report (default `param0`, `param1`, ...). */
  names?: readonly string[];
}

/** Result of {@link layerwiseEtaFromG}. */
export interface LayerwiseEta {
  eta: number[];
  /** True where a zero-gradient parameter was left out of the normalization (policy `exclude`). */
  excluded: boolean[];
  zeroGradient: ZeroGradientReport;
  /** Human-readable notes (zero-gradient parameters found), also stored in the table's metadata. */
  warnings: string[];
}

const REL_TOL = 1e-6;

function checkArrays(raw: readonly number[], numel: readonly number[], excluded?: readonly boolean[]): void {
  if (raw.length !== numel.length) throw new Error(`normalizeEta: ${raw.length} values but ${numel.length} sizes`);
  if (excluded && excluded.length !== raw.length) throw new Error(`normalizeEta: ${raw.length} values but ${excluded.length} exclusion flags`);
  if (raw.length === 0) throw new Error('normalizeEta: no parameters');
  numel.forEach((m, i) => {
    if (!Number.isInteger(m) || m < 1) throw new Error(`normalizeEta: numel[${i}] must be a positive integer, got ${m}`);
  });
}

/**
 * Algorithm 1, lines 11-13: eta_i = raw_i / (sum_i m_i raw_i / sum_i m_i), so that
 * sum_i m_i eta_i = sum_i m_i. Excluded entries get eta = 1 and take no part in either sum.
 * Checks the identity to 1e-6 relative.
 *
 * @example
 * ```ts
 * normalizeEta([1, 2], [3, 1]);               // [0.8, 1.6]: 3*0.8 + 1*1.6 = 4
 * normalizeEta([1, 2, 1e6], [3, 1, 5], [false, false, true]); // [0.8, 1.6, 1]
 * ```
 */
export function normalizeEta(raw: readonly number[], numel: readonly number[], excluded?: readonly boolean[]): number[] {
  checkArrays(raw, numel, excluded);
  let mSum = 0;
  let weighted = 0;
  raw.forEach((r, i) => {
    if (excluded?.[i]) return;
    if (!Number.isFinite(r) || r <= 0) throw new Error(`normalizeEta: raw value ${i} must be a positive finite number, got ${r}`);
    mSum += numel[i]!;
    weighted += numel[i]! * r;
  });
  if (mSum === 0) throw new Error('normalizeEta: every parameter is excluded; nothing to normalize');
  const mean = weighted / mSum;
  if (!Number.isFinite(mean) || mean <= 0) throw new Error(`normalizeEta: weighted mean of raw values is ${mean}`);
  const eta = raw.map((r, i) => (excluded?.[i] ? 1 : r / mean));
  let check = 0;
  eta.forEach((e, i) => { if (!excluded?.[i]) check += numel[i]! * e; });
  if (!(Math.abs(check - mSum) <= REL_TOL * mSum)) {
    throw new Error(`normalizeEta: sum m_i eta_i = ${check} differs from sum m_i = ${mSum} by more than ${REL_TOL} relative`);
  }
  return eta;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/**
 * The layer-wise options with their defaults filled in (exponent 0.5, threshold 1e-4, policy
 * `exclude`); throws on a bad value. Lets a caller check options before spending T steps.
 *
 * @example
 * ```ts
 * resolveLayerwiseOptions({ exponent: 0.5, zeroGradient: { policy: 'error' } });
 * // { exponent: 0.5, threshold: 1e-4, policy: 'error' }
 * ```
 */
export function resolveLayerwiseOptions(opts: Pick<LayerwiseEtaOptions, 'exponent' | 'zeroGradient'> = {}): {
  exponent: number; threshold: number; policy: ZeroGradientPolicy;
} {
  const exponent = opts.exponent ?? 0.5;
  if (typeof exponent !== 'number' || !Number.isFinite(exponent) || exponent < 0) throw new Error(`exponent must be a finite number >= 0, got ${exponent}`);
  const threshold = opts.zeroGradient?.threshold ?? 1e-4;
  if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold < 0) throw new Error(`zeroGradient.threshold must be a finite number >= 0, got ${threshold}`);
  const policy = opts.zeroGradient?.policy ?? 'exclude';
  if (!['exclude', 'error', 'keep'].includes(policy)) throw new Error(`zeroGradient.policy must be 'exclude', 'error' or 'keep', got '${String(policy)}'`);
  return { exponent, threshold, policy };
}

/**
 * Algorithm 1, lines 9-13 with the zero-gradient guard: eta~_i = G_i^(-p), normalized by
 * {@link normalizeEta}. Parameters with G_i <= threshold * median(G) (or G_i = 0) are zero-gradient
 * (unused, dead, or structural: an attention key bias, a bias feeding BatchNorm); by default they get
 * eta = 1 and are left out of the normalization, so they cannot drag every other eta down.
 *
 * @example
 * ```ts
 * const { eta, excluded, warnings } = layerwiseEtaFromG([4e-2, 1e-2, 3e-11], [100, 10, 10], {
 *   names: ['fc1.kernel', 'fc1.bias', 'attn.k.bias'] });
 * // excluded = [false, false, true]; eta[2] = 1; 100*eta[0] + 10*eta[1] = 110
 * ```
 */
export function layerwiseEtaFromG(G: readonly number[], numel: readonly number[], opts: LayerwiseEtaOptions = {}): LayerwiseEta {
  const { exponent: p, threshold, policy } = resolveLayerwiseOptions(opts);
  if (G.length !== numel.length) throw new Error(`layerwiseEtaFromG: ${G.length} magnitudes but ${numel.length} sizes`);
  if (G.length === 0) throw new Error('layerwiseEtaFromG: no parameters');
  const names = opts.names ?? G.map((_, i) => `param${i}`);
  if (names.length !== G.length) throw new Error(`layerwiseEtaFromG: ${G.length} magnitudes but ${names.length} names`);
  G.forEach((g, i) => {
    if (!Number.isFinite(g) || g < 0) throw new Error(`G of '${names[i]}' must be a finite number >= 0, got ${g}`);
  });

  const med = median(G);
  const cutoff = threshold * med;
  const zero = G.map((g) => g === 0 || g <= cutoff);
  const zeroIdx = zero.flatMap((z, i) => (z ? [i] : []));
  const describe = (i: number): string =>
    `${names[i]} (G=${G[i]!.toExponential(2)}${med > 0 ? `, ${(G[i]! / med).toExponential(1)} x median` : ''})`;
  const report: ZeroGradientReport = { threshold, policy, medianG: med, cutoff, names: zeroIdx.map((i) => names[i]!) };
  if (zeroIdx.length === G.length) {
    throw new Error(`every parameter has a zero gradient (median G = ${med}): is the loss connected to the parameters?`);
  }
  const warnings: string[] = [];
  if (zeroIdx.length > 0) {
    const list = zeroIdx.map(describe).join(', ');
    if (policy === 'error') {
      throw new Error(`zero-gradient parameters (G <= ${threshold} x median G = ${cutoff.toExponential(2)}): ${list}; ` +
        `use zeroGradient.policy 'exclude' (eta = 1) or 'keep'`);
    }
    if (policy === 'keep') {
      const exact = zeroIdx.filter((i) => G[i] === 0);
      if (exact.length > 0 && p > 0) {
        throw new Error(`cannot keep parameters with G = 0 exactly (eta would be infinite): ${exact.map((i) => names[i]).join(', ')}; use zeroGradient.policy 'exclude'`);
      }
      warnings.push(`zero-gradient parameters kept in the normalization (policy 'keep'): ${list}`);
    } else {
      warnings.push(`zero-gradient parameters excluded from the normalization, eta = 1: ${list}`);
    }
  }
  const excluded = zero.map((z) => z && policy === 'exclude');
  const raw = G.map((g, i) => (excluded[i] ? 1 : Math.pow(g, -p)));
  return { eta: normalizeEta(raw, numel, excluded), excluded, zeroGradient: report, warnings };
}

/**
 * Raw (unnormalized) relative learning rates of a fixed scheme for `count` parameters in order:
 * `uniform` all 1; `depth-increasing` linear 0.1 -> 1; `depth-decreasing` linear 2 -> 1.
 *
 * @example
 * ```ts
 * schemeRawEta('depth-increasing', 4); // [0.1, 0.4, 0.7, 1]
 * ```
 */
export function schemeRawEta(scheme: FixedLRSchemeName, count: number): number[] {
  if (!Number.isInteger(count) || count < 1) throw new Error(`scheme '${scheme}': need at least one parameter, got ${count}`);
  const frac = (i: number): number => (count === 1 ? 1 : i / (count - 1));
  switch (scheme) {
    case 'uniform': return Array.from({ length: count }, () => 1);
    case 'depth-increasing': return Array.from({ length: count }, (_, i) => 0.1 + 0.9 * frac(i));
    case 'depth-decreasing': return Array.from({ length: count }, (_, i) => 2 - frac(i));
    default:
      if ((scheme as string) === 'layerwise') {
        throw new Error("scheme 'layerwise' needs a measurement: use measureLayerwiseLR(model, batches, { steps })");
      }
      throw new Error(`unknown LR scheme '${String(scheme)}' (expected one of ${LR_SCHEMES.join(', ')})`);
  }
}

/**
 * The LR table of a fixed scheme (`uniform`, `depth-increasing`, `depth-decreasing`) over
 * parameters in order, normalized like Algorithm 1's. G is null (nothing is measured).
 *
 * @example
 * ```ts
 * import { collectParams, schemeTable } from 'layerwise-lr';
 * const table = schemeTable(collectParams(model), 'depth-increasing');
 * table.etaMap(); // { 'fc1.kernel': ..., 'fc1.bias': ..., ... }
 * ```
 */
export function schemeTable(params: readonly ParamInfo[], scheme: FixedLRSchemeName): LRTable {
  const raw = schemeRawEta(scheme, params.length);
  const eta = normalizeEta(raw, params.map((p) => p.numel));
  const entries: LRTableEntry[] = params.map((p, i) => ({
    name: p.name, shape: [...p.shape], numel: p.numel, kind: p.kind, G: null, eta: eta[i]!,
  }));
  return new LRTable(entries, {
    scheme,
    steps: null,
    batchSize: null,
    init: null,
    gradNorm: null,
    exponent: null,
    seed: null,
    zeroGradient: null,
    signature: LRTable.signatureOf(params),
  });
}
