/**
 * "Each method at its own tuned learning rate": a sweep in two phases, in one directory.
 *
 * 1. `DIR/tune/`: the sweep file's grid on one seed (the file's `seed`, default 0), the tuned axis (`lr`) among
 *    its axes.
 * 2. For every combination of the OTHER axes (a method, a width, ...), the value of the tuned axis with the best
 *    metric on that seed; `DIR/confirm/`: each best combination again on the confirmation seeds (1, 2).
 * 3. `DIR/results.json` / `results.csv` (format `lwlr-sweep@1`, what `lwlr report` reads): per combination its
 *    best seed-0 trial and its confirmation trials, grouped over the seeds (mean and std over all of them).
 *
 * Re-running the command skips finished trials (each phase is an ordinary sweep); the confirmation starts only
 * when the tuning phase has no pending or failed trial, so the choice of the best never rests on a partial grid.
 * Ties go to the first value in the file's order. Diverged trials never win; a combination whose tuning trials
 * all diverged is reported and not confirmed.
 *
 * Selection bias: with `final-test-acc` the seed-0 member of each group is the maximum over the grid on the test
 * split; the confirmation seeds are not. `final-val-acc` (with `--val-split` in the sweep file) avoids it.
 */
import * as path from 'node:path';
import { UsageError } from '../cli/args.js';
import type { SweepConfig, SweepValue } from './config.js';
import { groupTrials, readRunMetrics, writeResults, type SweepResults, type TrialResult, SWEEP_FORMAT, type RunMetrics } from './results.js';
import { SweepRun, checkTrialFlags } from './runner.js';

/** The metrics a tuning phase can rank by (larger is better, except the loss). */
export const TUNE_METRICS = ['final-test-acc', 'best-test-acc', 'final-val-acc', 'final-train-loss'] as const;
export type TuneMetric = (typeof TUNE_METRICS)[number];

const METRIC_OF: Record<TuneMetric, { key: keyof RunMetrics; larger: boolean }> = {
  'final-test-acc': { key: 'finalTestAcc', larger: true },
  'best-test-acc': { key: 'bestTestAcc', larger: true },
  'final-val-acc': { key: 'finalValAcc', larger: true },
  'final-train-loss': { key: 'finalTrainLoss', larger: false },
};

export interface TuneOptions {
  /** The sweep file's config (no `--repeat`). */
  config: SweepConfig;
  out: string;
  workers: number;
  /** The grid axis tuned (`lr`). */
  axis: string;
  metric: TuneMetric;
  /** The seeds the best combinations run again on. */
  confirmSeeds: number[];
  dryRun?: boolean;
  log?: (line: string) => void;
}

/** One combination of the other axes and the tuned value it won with. */
export interface TunedGroup {
  /** The grid values of the other axes. */
  params: Record<string, SweepValue>;
  /** The winning value of the tuned axis, or null when every tuning trial of the group diverged or failed. */
  best: SweepValue | null;
  /** The winner's metric on the tuning seed. */
  score: number | null;
  /** The winner's trial (its id in `DIR/tune`). */
  trial: TrialResult | null;
}

/** Checks the options against the sweep file before anything runs. */
export function checkTuneOptions(o: Pick<TuneOptions, 'config' | 'axis' | 'confirmSeeds'>): number {
  const { config, axis, confirmSeeds } = o;
  if (!(axis in config.grid)) throw new UsageError(`--tune ${axis}: not an axis of the sweep's grid (axes: ${Object.keys(config.grid).join(', ')})`);
  if (config.variants?.[axis]) throw new UsageError(`--tune ${axis}: a variant axis cannot be tuned (tune a flag such as lr)`);
  if (config.grid[axis]!.length < 2) throw new UsageError(`--tune ${axis}: the grid has one value; nothing to tune`);
  if ('seed' in config.grid) throw new UsageError('--tune: the sweep file sweeps seed; tuning runs on one seed (set seed: N) and --confirm-seeds adds the others');
  const seed = config.fixed.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) throw new UsageError(`--tune: seed must be an integer (got ${JSON.stringify(seed)})`);
  if (confirmSeeds.length === 0) throw new UsageError('--confirm-seeds: give at least one seed (e.g. 1,2)');
  if (confirmSeeds.includes(seed) || new Set(confirmSeeds).size !== confirmSeeds.length) {
    throw new UsageError(`--confirm-seeds ${confirmSeeds.join(',')}: seeds must be distinct and differ from the tuning seed ${seed}`);
  }
  return seed;
}

/** `1,2` -> [1, 2]; a usage error otherwise. */
export function parseSeeds(text: string): number[] {
  const seeds = text.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0)) throw new UsageError(`--confirm-seeds must be a comma-separated list of integers >= 0 (got '${text}')`);
  return seeds;
}

/**
 * The best value of `axis` for every combination of the other axes, from the tuning phase's trials (the
 * metrics read from each trial's directory under `tuneDir`).
 *
 * @example
 * ```ts
 * bestPerGroup(trials, 'runs/exp5/tune', 'lr', 'final-test-acc'); // [{ params: { method: 'sgd' }, best: 0.1, ... }, ...]
 * ```
 */
export function bestPerGroup(trials: readonly TrialResult[], tuneDir: string, axis: string, metric: TuneMetric): TunedGroup[] {
  const { key, larger } = METRIC_OF[metric];
  const groups = new Map<string, TunedGroup>();
  for (const t of trials) {
    const { [axis]: value, seed: _s, ...params } = t.params;
    const id = JSON.stringify(params);
    if (!groups.has(id)) groups.set(id, { params, best: null, score: null, trial: null });
    const g = groups.get(id)!;
    if (t.status !== 'done') continue;
    const score = readRunMetrics(path.join(tuneDir, t.dir))[key] as number | null;
    if (score === null || !Number.isFinite(score)) continue;
    if (g.score === null || (larger ? score > g.score : score < g.score)) {
      g.best = value!;
      g.score = score;
      g.trial = t;
    }
  }
  return [...groups.values()];
}

/** A readable, file-name-safe name of a combination (`method-sgd_width-64`). */
function groupName(params: Record<string, SweepValue>): string {
  return Object.entries(params).map(([k, v]) => `${k}-${String(v).replace(/[^A-Za-z0-9.+-]+/g, '-')}`).join('_') || 'all';
}

/** The flags of a combination: a variant axis's flags, a plain axis's value, and the tuned value. */
function groupFlags(config: SweepConfig, g: TunedGroup, axis: string): Record<string, SweepValue> {
  const flags: Record<string, SweepValue> = {};
  for (const [k, v] of Object.entries(g.params)) {
    const variant = config.variants?.[k]?.[String(v)];
    if (variant) Object.assign(flags, variant);
    else flags[k] = v;
  }
  flags[axis] = g.best!;
  return flags;
}

/**
 * The confirmation sweep: one variant per confirmed combination (its flags, the tuned value included) x the
 * confirmation seeds.
 */
export function confirmConfig(config: SweepConfig, groups: readonly TunedGroup[], axis: string, seeds: number[]): SweepConfig {
  const variants: Record<string, Record<string, SweepValue>> = {};
  for (const g of groups) if (g.best !== null) variants[groupName(g.params)] = groupFlags(config, g, axis);
  const { seed: _s, ...fixed } = config.fixed;
  return { fixed, grid: { tuned: Object.keys(variants), seed: seeds }, variants: { tuned: variants } };
}

/** The combined results: per confirmed combination its winning tuning trial and its confirmation trials. */
export function tunedResults(
  config: SweepConfig, groups: readonly TunedGroup[], confirm: SweepResults, axis: string, tuneSeed: number, seeds: number[],
): SweepResults {
  const trials: TrialResult[] = [];
  const byName = new Map(groups.filter((g) => g.best !== null).map((g) => [groupName(g.params), g]));
  for (const g of byName.values()) {
    trials.push({ ...g.trial!, dir: path.join('tune', g.trial!.dir), params: { ...g.params, [axis]: g.best!, seed: tuneSeed } });
  }
  for (const t of confirm.trials) {
    const g = byName.get(String(t.params.tuned))!;
    trials.push({ ...t, dir: path.join('confirm', t.dir), params: { ...g.params, [axis]: g.best!, seed: t.params.seed! } });
  }
  const grid: Record<string, SweepValue[]> = {};
  for (const [k, values] of Object.entries(config.grid)) {
    grid[k] = k === axis ? values.filter((v) => [...byName.values()].some((g) => g.best === v)) : values;
  }
  grid.seed = [tuneSeed, ...seeds];
  const { seed: _s, ...fixed } = config.fixed;
  const r: SweepResults = { format: SWEEP_FORMAT, config: fixed, grid, trials, groups: groupTrials(trials) };
  if (config.variants) r.variants = config.variants;
  return r;
}

/**
 * Runs both phases (see the module doc) and writes the combined results; returns them, or null when the tuning
 * phase is not complete (interrupted, or failed trials to re-run).
 */
export async function runTunedSweep(o: TuneOptions): Promise<{ results: SweepResults | null; stopped: boolean; failed: number }> {
  const log = o.log ?? ((l: string) => console.log(l));
  const tuneSeed = checkTuneOptions(o);
  if (!o.dryRun) checkTrialFlags(o.config);
  const tuneDir = path.join(o.out, 'tune');
  log(`tuning ${o.axis} over ${o.config.grid[o.axis]!.join(', ')} on seed ${tuneSeed} by ${o.metric}`);
  const tuneConfig: SweepConfig = { ...o.config, fixed: { ...o.config.fixed, seed: tuneSeed } };
  const tune = new SweepRun({ config: tuneConfig, out: tuneDir, workers: o.workers, dryRun: o.dryRun, log });
  current = tune;
  const tuned = await tune.run();
  if (tune.stopped) return { results: null, stopped: true, failed: 0 };
  const unfinished = tuned.trials.filter((t) => t.status === 'pending' || t.status === 'failed').length;
  if (unfinished > 0) {
    log(`${unfinished} tuning trial(s) not finished (failed or not run): no confirmation yet${o.dryRun ? '' : ' (re-run the command to retry them)'}`);
    return { results: null, stopped: false, failed: tuned.trials.filter((t) => t.status === 'failed').length };
  }
  const groups = bestPerGroup(tuned.trials, tuneDir, o.axis, o.metric);
  for (const g of groups) {
    log(g.best === null
      ? `${groupName(g.params)}: every tuning trial diverged or has no ${o.metric}: not confirmed`
      : `${groupName(g.params)}: best ${o.axis} ${g.best} (${o.metric} ${g.score!.toPrecision(4)} on seed ${tuneSeed})`);
  }
  if (!groups.some((g) => g.best !== null)) throw new UsageError('--tune: no combination has a finished tuning trial to confirm', 1);
  const cConfig = confirmConfig(o.config, groups, o.axis, o.confirmSeeds);
  if (!o.dryRun) checkTrialFlags(cConfig);
  const confirm = new SweepRun({ config: cConfig, out: path.join(o.out, 'confirm'), workers: o.workers, dryRun: o.dryRun, log });
  current = confirm;
  const confirmed = await confirm.run();
  current = null;
  if (o.dryRun) return { results: null, stopped: false, failed: 0 };
  const results = tunedResults(o.config, groups, confirmed, o.axis, tuneSeed, o.confirmSeeds);
  writeResults(o.out, results);
  return { results, stopped: confirm.stopped, failed: confirmed.trials.filter((t) => t.status === 'failed').length };
}

/** The phase running now, for the Ctrl-C handler. */
let current: SweepRun | null = null;

/** Ctrl-C: stops the running phase's trials (see `SweepRun.stop`). */
export function stopTunedSweep(): void {
  current?.stop();
}
