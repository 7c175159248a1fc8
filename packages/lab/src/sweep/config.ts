/**
 * A sweep file (YAML or JSON): top-level keys are `lwlr train` flags with fixed values, `grid:` maps flags
 * to lists of values; the trials are the cross product. Every problem is one line naming the file and key.
 *
 * ```yaml
 * model: mlp
 * epochs: 20
 * grid:
 *   lr: [0.01, 0.1]
 *   optimizer: [sgd, lamb]
 * ```
 *
 * A grid key whose values are mappings is a named axis of variants (flags that go together, which a cross
 * product cannot express): each mapping has a `name` (the axis value in ids and results) and flags:
 *
 * ```yaml
 * grid:
 *   scheme:
 *     - {name: sgd, optimizer: sgd, lr-scheme: uniform}
 *     - {name: mup, optimizer: mup-sgd, lr-scheme: uniform, init: fan-in, mup-base-width: 128}
 * ```
 *
 * `early-stop:` turns on ASHA (see `asha.ts`): `{metric: testAcc|trainLoss|valAcc, grace-epochs: r, reduction-factor: eta}`.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../errors.js';

/** A flag value in a sweep file. */
export type SweepValue = string | number | boolean;

/** The metrics early stopping can rank trials by (an eval record's fields; trainLoss: lower is better). */
export const EARLY_STOP_METRICS = ['testAcc', 'trainLoss', 'valAcc'] as const;
export type EarlyStopMetric = (typeof EARLY_STOP_METRICS)[number];

/** ASHA's settings: rungs at r, r*eta, r*eta^2, ... epochs; the top 1/eta of a rung continue. */
export interface EarlyStopConfig {
  metric: EarlyStopMetric;
  /** r: the first rung's epochs. */
  graceEpochs: number;
  /** eta: the fraction 1/eta of a rung's trials continues, and the rungs are eta times apart. */
  reductionFactor: number;
}

export interface SweepConfig {
  /** Flags with one value for every trial (dashed names, as on the command line). */
  fixed: Record<string, SweepValue>;
  /** Flags swept over (dashed names), in file order; the last varies fastest. A variant axis lists its names. */
  grid: Record<string, SweepValue[]>;
  /** Variant axes: axis -> variant name -> its flags. */
  variants?: Record<string, Record<string, Record<string, SweepValue>>>;
  /** ASHA early stopping (the sweep file's `early-stop:`). */
  earlyStop?: EarlyStopConfig;
}

/** Keys of a sweep file that are not `lwlr train` flags. */
const SWEEP_KEYS = ['grid', 'early-stop'];

/** Flags the sweep sets itself. */
const RESERVED = ['out', 'overwrite', 'quiet', 'help', 'resume', 'stop-after'];

function checkValue(file: string, key: string, v: unknown): SweepValue {
  if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) return v;
  throw new UsageError(`${file}: '${key}' must be a string, a finite number or a boolean (got ${JSON.stringify(v)})`);
}

function checkKey(file: string, key: string): void {
  if (!/^[a-z][a-z0-9-]*$/.test(key)) throw new UsageError(`${file}: '${key}' is not an lwlr train flag name (lower-case with dashes, no leading --)`);
  if (RESERVED.includes(key)) throw new UsageError(`${file}: '${key}' is lwlr sweep's (each trial runs to the end with --out DIR/trials/<id> --quiet, resumed from its checkpoint after an interruption)`);
}

/**
 * Validates a parsed sweep object (what a YAML or JSON file holds).
 *
 * @example
 * ```ts
 * sweepConfigFrom({ model: 'mlp', grid: { lr: [0.1, 1] } }, 'sweep.yaml');
 * // { fixed: { model: 'mlp' }, grid: { lr: [0.1, 1] } }
 * ```
 */
export function sweepConfigFrom(raw: unknown, file: string): SweepConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UsageError(`${file}: expected a mapping of flags with a 'grid' key`);
  const fixed: Record<string, SweepValue> = {};
  const grid: Record<string, SweepValue[]> = {};
  let variants: SweepConfig['variants'];
  for (const [key, v] of Object.entries(raw as Record<string, unknown>)) {
    if (SWEEP_KEYS.includes(key)) continue;
    checkKey(file, key);
    fixed[key] = checkValue(file, key, v);
  }
  const g = (raw as Record<string, unknown>).grid;
  if (g === undefined || g === null || typeof g !== 'object' || Array.isArray(g)) {
    throw new UsageError(`${file}: 'grid' must map flags to lists of values (e.g. grid: {lr: [0.01, 0.1]})`);
  }
  for (const [key, list] of Object.entries(g as Record<string, unknown>)) {
    checkKey(file, key);
    if (!Array.isArray(list) || list.length === 0) throw new UsageError(`${file}: grid.${key} must be a non-empty list`);
    if (key in fixed) throw new UsageError(`${file}: '${key}' is both fixed and in the grid`);
    if (list.some((v) => v !== null && typeof v === 'object' && !Array.isArray(v))) {
      (variants ??= {})[key] = variantAxis(file, key, list, fixed);
      grid[key] = Object.keys(variants[key]!);
      continue;
    }
    const values = list.map((v) => checkValue(file, `grid.${key}`, v));
    if (new Set(values.map(String)).size !== values.length) throw new UsageError(`${file}: grid.${key} lists a value twice`);
    grid[key] = values;
  }
  if (Object.keys(grid).length === 0) throw new UsageError(`${file}: 'grid' is empty`);
  const es = (raw as Record<string, unknown>)['early-stop'];
  const earlyStop = es === undefined ? undefined : earlyStopFrom(file, es, fixed, grid, variants);
  if (variants) {
    const setBy = new Map<string, string>();
    for (const [axis, vs] of Object.entries(variants)) {
      for (const flag of new Set(Object.values(vs).flatMap((v) => Object.keys(v)))) {
        if (flag in grid) throw new UsageError(`${file}: '${flag}' is both a grid axis and set by grid.${axis}`);
        if (setBy.has(flag)) throw new UsageError(`${file}: '${flag}' is set by both grid.${setBy.get(flag)} and grid.${axis}`);
        setBy.set(flag, axis);
      }
    }
    return earlyStop ? { fixed, grid, variants, earlyStop } : { fixed, grid, variants };
  }
  return earlyStop ? { fixed, grid, earlyStop } : { fixed, grid };
}

/** Sets `flag` in the sweep: fixed, swept, or by a variant. */
function setsFlag(flag: string, fixed: Record<string, SweepValue>, grid: Record<string, SweepValue[]>, variants: SweepConfig['variants']): boolean {
  return flag in fixed || flag in grid || Object.values(variants ?? {}).some((vs) => Object.values(vs).every((v) => flag in v));
}

/** `early-stop: {metric, grace-epochs, reduction-factor}` (defaults r = 1, eta = 3). */
function earlyStopFrom(file: string, raw: unknown, fixed: Record<string, SweepValue>, grid: Record<string, SweepValue[]>, variants: SweepConfig['variants']): EarlyStopConfig {
  const where = `${file}: early-stop`;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UsageError(`${where} must be a mapping {metric: ${EARLY_STOP_METRICS.join('|')}, grace-epochs: r, reduction-factor: eta}`);
  const { metric, 'grace-epochs': r = 1, 'reduction-factor': eta = 3, ...rest } = raw as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw new UsageError(`${where}: unknown key '${extra}' (expected metric, grace-epochs, reduction-factor)`);
  if (!EARLY_STOP_METRICS.includes(metric as EarlyStopMetric)) throw new UsageError(`${where}.metric must be one of ${EARLY_STOP_METRICS.join(', ')} (got ${JSON.stringify(metric)})`);
  if (!Number.isInteger(r) || (r as number) < 1) throw new UsageError(`${where}.grace-epochs must be an integer >= 1 (got ${JSON.stringify(r)})`);
  if (!Number.isInteger(eta) || (eta as number) < 2) throw new UsageError(`${where}.reduction-factor must be an integer >= 2 (got ${JSON.stringify(eta)})`);
  // the rungs are counted in epochs: every trial's epochs must be known here, not left to lwlr train's default
  if (!setsFlag('epochs', fixed, grid, variants)) throw new UsageError(`${where} needs 'epochs' in the sweep file (fixed or in the grid): the rungs are counted in epochs`);
  if (metric === 'valAcc' && !setsFlag('val-split', fixed, grid, variants)) throw new UsageError(`${where}.metric valAcc needs a validation split: set 'val-split' in the sweep file`);
  return { metric: metric as EarlyStopMetric, graceEpochs: r as number, reductionFactor: eta as number };
}

/** `[{name, flag: value, ...}, ...]` -> name -> flags. */
function variantAxis(file: string, key: string, list: unknown[], fixed: Record<string, SweepValue>): Record<string, Record<string, SweepValue>> {
  const out: Record<string, Record<string, SweepValue>> = {};
  list.forEach((v, i) => {
    const where = `grid.${key}[${i}]`;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new UsageError(`${file}: ${where} must be a mapping {name: ..., <flag>: value} like the others`);
    const { name, ...flags } = v as Record<string, unknown>;
    if (typeof name !== 'string' || name === '') throw new UsageError(`${file}: ${where} needs a 'name' (a string)`);
    if (name in out) throw new UsageError(`${file}: grid.${key} has two variants named '${name}'`);
    const checked: Record<string, SweepValue> = {};
    for (const [flag, value] of Object.entries(flags)) {
      checkKey(file, flag);
      if (flag in fixed) throw new UsageError(`${file}: '${flag}' is both fixed and set by ${where}`);
      checked[flag] = checkValue(file, `${where}.${flag}`, value);
    }
    out[name] = checked;
  });
  return out;
}

/**
 * Reads a sweep file: `.json` as JSON, anything else as YAML (JSON is YAML too).
 *
 * @example
 * ```ts
 * const cfg = loadSweepConfig('sweeps/fig7-mlp-lr-width.yaml');
 * ```
 */
export function loadSweepConfig(file: string): SweepConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`--config ${file}: no such file`, 1);
  }
  let raw: unknown;
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new UsageError(`${file}: not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`);
  }
  return sweepConfigFrom(raw, file);
}
