/** The report's tables: one summary row per run, and the config keys that differ between runs. */
import type { RunData } from './load.js';

export interface RunSummary {
  name: string;
  model: string;
  scheme: string;
  /** The init training starts from and what the scheme measured there: `fan-out; G l1, p=0.5, T=235`. */
  setup: string;
  optimizer: string;
  epochs: string;
  finalTrainLoss: number | null;
  finalTestLoss: number | null;
  finalTestAcc: number | null;
  bestTestAcc: number | null;
  bestEpoch: number | null;
  finalValAcc: number | null;
  wallSeconds: number | null;
}

const str = (x: unknown) => (x === undefined || x === null ? '-' : String(x));

/**
 * The init and measurement settings of a run, for every scheme: the measurement init (`--init`, where every
 * scheme's training starts unless `--train-init default`), and what a measured table used: G's norm, the
 * exponent and T (layer-wise), or per-element sums of g^2 and T (frozen-adagrad).
 * @example setupOf({ init: 'fan-out', trainInit: 'default' }, null) // 'fan-out (trains from the default init)'
 */
export function setupOf(c: Record<string, unknown>, table: RunData['table']): string {
  const m = table?.meta;
  const init = str(m?.init ?? c.init);
  const parts: string[] = [];
  if (m?.scheme === 'layerwise') parts.push(`G ${m.gradNorm ?? 'l1'}, p=${m.exponent}, T=${m.steps}`);
  else if (m?.scheme === 'frozen-adagrad') parts.push(`per element, T=${m.steps}`);
  const train = c.trainInit === 'default' ? ' (trains from the default init)' : '';
  return `${init}${train}${parts.length ? `; ${parts.join(', ')}` : ''}`;
}

/** The final and best numbers of a run (nulls when it logged no epoch). */
export function summarize(run: RunData): RunSummary {
  const c = run.config ?? {};
  const last = run.evals.at(-1);
  let best: { acc: number; epoch: number } | null = null;
  for (const e of run.evals) if (Number.isFinite(e.testAcc) && (!best || e.testAcc > best.acc)) best = { acc: e.testAcc, epoch: e.epoch };
  const times = [...run.train.map((p) => p.time), ...run.evals.map((e) => e.time)].filter(Number.isFinite);
  const scheme = c.lrTable ? `${run.table?.meta.scheme ?? 'table'} (table)` : str(c.lrScheme ?? run.table?.meta.scheme);
  return {
    name: run.name,
    model: str(c.model),
    scheme,
    setup: setupOf(c, run.table),
    optimizer: c.optimizer !== undefined ? `${c.optimizer} lr ${str(c.lr)}` : '-',
    epochs: `${last?.epoch ?? 0}${c.epochs !== undefined ? `/${c.epochs}` : ''}`,
    finalTrainLoss: last?.trainLoss ?? null,
    finalTestLoss: last?.testLoss ?? null,
    finalTestAcc: last?.testAcc ?? null,
    bestTestAcc: best?.acc ?? null,
    bestEpoch: best?.epoch ?? null,
    finalValAcc: last?.valAcc ?? null,
    wallSeconds: times.length ? Math.max(...times) : null,
  };
}

/** Keys left out of the config diff: they differ between any two runs without saying anything. */
const NOISE = new Set(['argv', 'out', 'command']);

/**
 * The config keys whose values differ between runs (a key missing from one run counts as different),
 * in first-seen order, with each run's value as text.
 * @example configDiff([{ lr: 0.1, seed: 0 }, { lr: 0.2, seed: 0 }]) // [{ key: 'lr', values: ['0.1', '0.2'] }]
 */
export function configDiff(configs: ReadonlyArray<Record<string, unknown> | null>): Array<{ key: string; values: string[] }> {
  const keys: string[] = [];
  for (const c of configs) for (const k of Object.keys(c ?? {})) if (!keys.includes(k) && !NOISE.has(k)) keys.push(k);
  const out: Array<{ key: string; values: string[] }> = [];
  for (const k of keys) {
    const vals = configs.map((c) => (c && k in c ? JSON.stringify(c[k]) : undefined));
    if (new Set(vals).size > 1) out.push({ key: k, values: vals.map((v) => (v === undefined ? '(unset)' : v.replace(/^"(.*)"$/, '$1'))) });
  }
  return out;
}
