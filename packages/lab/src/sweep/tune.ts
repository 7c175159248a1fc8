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
 *
 * Methods whose learning rates live on other scales (LAMB, frozen-adagrad next to SGD) get their own values: a
 * variant may set `tune-values: "0.001,0.002,0.004"` (a comma-separated string), used instead of the grid's list
 * for that variant. The tuning phase then runs one variant axis `point` of all (combination, value) pairs, and its
 * `results.json` is rewritten with the original axes (method, lr) afterwards.
 *
 * ```yaml
 * grid:
 *   method:
 *     - {name: sgd, optimizer: sgd, lr-scheme: uniform}
 *     - {name: lamb, optimizer: lamb, lr-scheme: uniform, tune-values: "0.0005,0.001,0.002,0.004,0.008"}
 *   lr: [0.0075, 0.015, 0.03, 0.06, 0.12]
 * ```
 */
import * as path from 'node:path';
import { UsageError } from '../errors.js';
import type { SweepConfig, SweepValue } from './config.js';
import { groupTrials, readRunMetrics, writeResults, type SweepResults, type TrialResult, SWEEP_FORMAT, type RunMetrics } from './results.js';
import { SweepRun, checkTrialFlags } from './runner.js';

/** The metrics a tuning phase can rank by (larger is better, except the losses; a language model's is final-test-loss). */
export const TUNE_METRICS = ['final-test-acc', 'best-test-acc', 'final-val-acc', 'final-train-loss', 'final-test-loss'] as const;
export type TuneMetric = (typeof TUNE_METRICS)[number];

const METRIC_OF: Record<TuneMetric, { key: keyof RunMetrics; larger: boolean }> = {
  'final-test-acc': { key: 'finalTestAcc', larger: true },
  'best-test-acc': { key: 'bestTestAcc', larger: true },
  'final-val-acc': { key: 'finalValAcc', larger: true },
  'final-train-loss': { key: 'finalTrainLoss', larger: false },
  'final-test-loss': { key: 'finalTestLoss', larger: false },
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

/** The key of a variant's own list of values for the tuned axis. */
export const TUNE_VALUES = 'tune-values';

/** The flags of a combination of the other axes: variant axes' flags (without `tune-values`), plain axes' values. */
function comboFlags(config: SweepConfig, params: Record<string, SweepValue>): Record<string, SweepValue> {
  const flags: Record<string, SweepValue> = {};
  for (const [k, v] of Object.entries(params)) {
    const variant = config.variants?.[k]?.[String(v)];
    if (variant) {
      const { [TUNE_VALUES]: _own, ...rest } = variant;
      Object.assign(flags, rest);
    } else {
      flags[k] = v;
    }
  }
  return flags;
}

/** The flags of a combination and its tuned value. */
function groupFlags(config: SweepConfig, g: TunedGroup, axis: string): Record<string, SweepValue> {
  return { ...comboFlags(config, g.params), [axis]: g.best! };
}

/** The config with `tune-values` taken out of its variants (what `lwlr train` sees of them). */
function withoutTuneValues(config: SweepConfig): SweepConfig {
  if (!config.variants) return config;
  const variants = Object.fromEntries(Object.entries(config.variants).map(([axis, vs]) => [axis,
    Object.fromEntries(Object.entries(vs).map(([name, flags]) => { const { [TUNE_VALUES]: _t, ...rest } = flags; return [name, rest]; }))]));
  return { ...config, variants };
}

/** A variant's own `tune-values`, parsed (numbers where they are numbers); undefined when it has none. */
function ownValues(text: SweepValue, where: string): SweepValue[] {
  const values = String(text).split(',').map((x) => x.trim()).filter(Boolean).map((x) => (Number.isFinite(Number(x)) ? Number(x) : x));
  if (values.length < 2 || new Set(values.map(String)).size !== values.length) {
    throw new UsageError(`${where}: ${TUNE_VALUES} must list two or more distinct values, comma-separated (got '${text}')`);
  }
  return values;
}

/**
 * The tuning points when some variant has its own `tune-values`: every combination of the other axes (in grid
 * order) with each of its values, as one variant axis `point`; with the original params of each point.
 */
export function tuningPoints(config: SweepConfig, axis: string): { config: SweepConfig; params: Record<string, Record<string, SweepValue>> } | null {
  const own = Object.entries(config.variants ?? {}).some(([, vs]) => Object.values(vs).some((v) => TUNE_VALUES in v));
  if (!own) return null;
  const others = Object.keys(config.grid).filter((k) => k !== axis);
  let combos: Array<Record<string, SweepValue>> = [{}];
  for (const k of others) combos = combos.flatMap((c) => config.grid[k]!.map((v) => ({ ...c, [k]: v })));
  const variants: Record<string, Record<string, SweepValue>> = {};
  const params: Record<string, Record<string, SweepValue>> = {};
  for (const c of combos) {
    let values = config.grid[axis]!;
    for (const [k, v] of Object.entries(c)) {
      const t = config.variants?.[k]?.[String(v)]?.[TUNE_VALUES];
      if (t !== undefined) values = ownValues(t, `grid.${k} '${v}'`);
    }
    for (const v of values) {
      const p = { ...c, [axis]: v };
      const name = groupName(p);
      variants[name] = { ...comboFlags(config, c), [axis]: v };
      params[name] = p;
    }
  }
  return { config: { fixed: config.fixed, grid: { point: Object.keys(variants) }, variants: { point: variants } }, params };
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
    grid[k] = k === axis ? [...new Set([...byName.values()].map((g) => g.best!))] : values;
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
  const tuneDir = path.join(o.out, 'tune');
  const points = tuningPoints(o.config, o.axis);
  log(`tuning ${o.axis} over ${o.config.grid[o.axis]!.join(', ')}${points ? ` (or a variant's own ${TUNE_VALUES})` : ''} on seed ${tuneSeed} by ${o.metric}`);
  const base = points?.config ?? o.config;
  // every trial of the file's grid resolves as a run (in process: resolveRunConfig), before anything runs
  if (!o.dryRun) checkTrialFlags(withoutTuneValues(o.config));
  const tuneConfig: SweepConfig = { ...base, fixed: { ...base.fixed, seed: tuneSeed } };
  const tune = new SweepRun({ config: tuneConfig, out: tuneDir, workers: o.workers, dryRun: o.dryRun, log });
  current = tune;
  let tuned = await tune.run();
  if (tune.stopped) return { results: null, stopped: true, failed: 0 };
  if (points) {
    // the tuning sweep's results with the original axes (method, lr), for the report and for bestPerGroup
    const trials = tuned.trials.map((t) => ({ ...t, params: points.params[String(t.params.point)]! }));
    const grid: Record<string, SweepValue[]> = {};
    for (const k of Object.keys(o.config.grid)) grid[k] = [...new Set(trials.map((t) => t.params[k]!))];
    tuned = { ...tuned, config: tuneConfig.fixed, grid, trials, groups: groupTrials(trials), variants: o.config.variants };
    if (!o.dryRun) writeResults(tuneDir, tuned);
  }
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
  // (its flags are the tuning trials', which ran)
  const cConfig = confirmConfig(o.config, groups, o.axis, o.confirmSeeds);
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
