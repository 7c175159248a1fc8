/**
 * How far one eta table is from another of the same model (the paper's Table 3: the assigned learning rates at
 * T = 1, 10, 100, 1000 minibatches against one epoch): rank agreement and ratio statistics over the tensors.
 */

/** What {@link compareEta} needs of a table: its rows' names and etas. */
export interface EtaRows {
  readonly entries: ReadonlyArray<{ readonly name: string; readonly eta: number }>;
}

/** Statistics of table `b` against reference `a`, over the tensors both have. */
export interface EtaComparison {
  /** Tensors compared. */
  count: number;
  /** Spearman rank correlation of the etas (ties get their average rank); 1 when the orders agree. NaN if constant. */
  spearman: number;
  /** max_i |ln(eta_b,i / eta_a,i)| and its tensor. */
  maxAbsLogRatio: number;
  maxAbsLogRatioAt: string;
  /** mean_i |ln(eta_b,i / eta_a,i)|. */
  meanAbsLogRatio: number;
  /** The paper's Table 3 columns: max_i and mean_i of 100 |eta_b,i - eta_a,i| / eta_a,i. */
  maxDeviationPct: number;
  meanDeviationPct: number;
}

/** Ranks 1..n, ties sharing their average rank. */
function ranks(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]);
  const r = new Array<number>(xs.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let k = i; k <= j; k++) r[order[k]![1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/**
 * Pearson correlation of the ranks (Spearman's rho with ties handled).
 *
 * @example
 * ```ts
 * spearman([1, 2, 3], [10, 30, 20]); // 0.5
 * ```
 */
export function spearman(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error(`spearman: ${a.length} vs ${b.length} values`);
  const ra = ranks(a);
  const rb = ranks(b);
  const n = a.length;
  const ma = ra.reduce((s, x) => s + x, 0) / n;
  const mb = rb.reduce((s, x) => s + x, 0) / n;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    cov += (ra[i]! - ma) * (rb[i]! - mb);
    va += (ra[i]! - ma) ** 2;
    vb += (rb[i]! - mb) ** 2;
  }
  return cov / Math.sqrt(va * vb);
}

/**
 * Compares the etas of `b` with those of the reference `a`, tensor by tensor (by name). Throws, listing them,
 * when the two tables do not have the same tensors.
 *
 * @example
 * ```ts
 * const c = compareEta(tableOneEpoch, tableT1);
 * console.log(c.spearman, c.maxAbsLogRatio, c.maxDeviationPct);
 * ```
 */
export function compareEta(a: EtaRows, b: EtaRows): EtaComparison {
  const bByName = new Map(b.entries.map((e) => [e.name, e.eta]));
  const aNames = new Set(a.entries.map((e) => e.name));
  const onlyA = a.entries.filter((e) => !bByName.has(e.name)).map((e) => e.name);
  const onlyB = b.entries.filter((e) => !aNames.has(e.name)).map((e) => e.name);
  if (onlyA.length || onlyB.length) {
    const few = (xs: string[]) => `${xs.slice(0, 5).join(', ')}${xs.length > 5 ? `, ... (${xs.length})` : ''}`;
    throw new Error(`the tables have different tensors${onlyA.length ? `; only in the first: ${few(onlyA)}` : ''}${onlyB.length ? `; only in the second: ${few(onlyB)}` : ''}`);
  }
  const ea = a.entries.map((e) => e.eta);
  const eb = a.entries.map((e) => bByName.get(e.name)!);
  let maxLog = -1;
  let at = '';
  let sumLog = 0;
  let maxDev = 0;
  let sumDev = 0;
  a.entries.forEach((e, i) => {
    const l = Math.abs(Math.log(eb[i]! / ea[i]!));
    if (l > maxLog) { maxLog = l; at = e.name; }
    sumLog += l;
    const d = (100 * Math.abs(eb[i]! - ea[i]!)) / ea[i]!;
    maxDev = Math.max(maxDev, d);
    sumDev += d;
  });
  const n = ea.length;
  return {
    count: n, spearman: spearman(ea, eb), maxAbsLogRatio: maxLog, maxAbsLogRatioAt: at, meanAbsLogRatio: sumLog / n,
    maxDeviationPct: maxDev, meanDeviationPct: sumDev / n,
  };
}
