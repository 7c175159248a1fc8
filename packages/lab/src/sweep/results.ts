/**
 * A sweep's results: each trial's outcome (read from its `metrics.jsonl`), groups over seeds (mean and
 * sample standard deviation), and the files `results.json` (schema `lwlr-sweep@1`, read by the report)
 * and `results.csv`.
 */
import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import * as path from 'node:path';
import type { SweepConfig, SweepValue } from './config.js';

export const SWEEP_FORMAT = 'lwlr-sweep@1';

export type TrialStatus = 'done' | 'diverged' | 'failed' | 'pending';

export interface TrialResult {
  id: string;
  /** Relative to the sweep directory. */
  dir: string;
  params: Record<string, SweepValue>;
  status: TrialStatus;
  finalTrainLoss: number | null;
  finalTestLoss: number | null;
  finalTestAcc: number | null;
  bestTestAcc: number | null;
  /** Completed epochs (eval records). */
  epochs: number;
  wallSeconds: number | null;
  error: string | null;
}

export interface Stat {
  mean: number | null;
  std: number | null;
}

export interface GroupResult {
  params: Record<string, SweepValue>;
  n: number;
  finalTrainLoss: Stat;
  finalTestAcc: Stat;
  bestTestAcc: Stat;
  diverged: number;
}

export interface SweepResults {
  format: typeof SWEEP_FORMAT;
  config: Record<string, SweepValue>;
  grid: Record<string, SweepValue[]>;
  trials: TrialResult[];
  groups: GroupResult[];
  /** Only for a sweep with variant axes: axis -> variant name -> its flags (the grid lists the names). */
  variants?: Record<string, Record<string, Record<string, SweepValue>>>;
}

/** The metrics of a run directory's `metrics.jsonl`: last and best of its eval records. */
export interface RunMetrics {
  finalTrainLoss: number | null;
  finalTestLoss: number | null;
  finalTestAcc: number | null;
  bestTestAcc: number | null;
  /** Accuracy on the `--val-split` hold-out after the last epoch (null without one). */
  finalValAcc: number | null;
  epochs: number;
}

/**
 * Reads `metrics.jsonl` of a run (eval records `{type: 'eval', trainLoss, testLoss, testAcc}`); a missing
 * file or a torn last line (a killed run) counts what is there.
 *
 * @example
 * ```ts
 * readRunMetrics('runs/sweep/trials/lr-0.1').bestTestAcc; // 0.891
 * ```
 */
export function readRunMetrics(runDir: string): RunMetrics {
  const file = path.join(runDir, 'metrics.jsonl');
  const out: RunMetrics = { finalTrainLoss: null, finalTestLoss: null, finalTestAcc: null, bestTestAcc: null, finalValAcc: null, epochs: 0 };
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (r.type !== 'eval') continue;
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    out.epochs++;
    out.finalTrainLoss = num(r.trainLoss);
    out.finalTestLoss = num(r.testLoss);
    out.finalTestAcc = num(r.testAcc);
    out.finalValAcc = num(r.valAcc);
    const acc = num(r.testAcc);
    if (acc !== null && (out.bestTestAcc === null || acc > out.bestTestAcc)) out.bestTestAcc = acc;
  }
  return out;
}

/** Mean and sample standard deviation (n - 1; 0 for one value) of the finite values; nulls when none. */
export function meanStd(values: ReadonlyArray<number | null>): Stat {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (xs.length === 0) return { mean: null, std: null };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (xs.length === 1) return { mean, std: 0 };
  const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { mean, std: Math.sqrt(v) };
}

/**
 * Trials grouped by their grid values except `seed`: means and stds over the finished trials (diverged and
 * failed ones count in `n` and `diverged`, not in the means).
 *
 * @example
 * ```ts
 * groupTrials(trials)[0]; // { params: { lr: 0.1 }, n: 5, finalTestAcc: { mean: 0.89, std: 0.003 }, ..., diverged: 0 }
 * ```
 */
export function groupTrials(trials: readonly TrialResult[]): GroupResult[] {
  const groups = new Map<string, { params: Record<string, SweepValue>; members: TrialResult[] }>();
  for (const t of trials) {
    const { seed: _seed, ...params } = t.params;
    const key = JSON.stringify(params);
    if (!groups.has(key)) groups.set(key, { params, members: [] });
    groups.get(key)!.members.push(t);
  }
  return [...groups.values()].map(({ params, members }) => {
    const done = members.filter((t) => t.status === 'done');
    return {
      params,
      n: members.length,
      finalTrainLoss: meanStd(done.map((t) => t.finalTrainLoss)),
      finalTestAcc: meanStd(done.map((t) => t.finalTestAcc)),
      bestTestAcc: meanStd(done.map((t) => t.bestTestAcc)),
      diverged: members.filter((t) => t.status === 'diverged').length,
    };
  });
}

/** The whole results object of a sweep. */
export function sweepResults(config: SweepConfig, trials: readonly TrialResult[]): SweepResults {
  const r: SweepResults = { format: SWEEP_FORMAT, config: config.fixed, grid: config.grid, trials: [...trials], groups: groupTrials(trials) };
  if (config.variants) r.variants = config.variants;
  return r;
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV row per trial: id, status, the grid flags, then the metrics. */
export function resultsCsv(r: SweepResults): string {
  const keys = Object.keys(r.grid);
  const metrics = ['finalTrainLoss', 'finalTestLoss', 'finalTestAcc', 'bestTestAcc', 'epochs', 'wallSeconds', 'error'] as const;
  const rows = [['id', 'status', ...keys, ...metrics].join(',')];
  for (const t of r.trials) rows.push([t.id, t.status, ...keys.map((k) => t.params[k]), ...metrics.map((m) => t[m])].map(csvCell).join(','));
  return `${rows.join('\n')}\n`;
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** Writes `DIR/results.json` and `DIR/results.csv` (each atomically: a reader never sees half a file). */
export function writeResults(dir: string, r: SweepResults): void {
  writeAtomic(path.join(dir, 'results.json'), `${JSON.stringify(r, null, 2)}\n`);
  writeAtomic(path.join(dir, 'results.csv'), resultsCsv(r));
}
