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
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../cli/args.js';

/** A flag value in a sweep file. */
export type SweepValue = string | number | boolean;

export interface SweepConfig {
  /** Flags with one value for every trial (dashed names, as on the command line). */
  fixed: Record<string, SweepValue>;
  /** Flags swept over (dashed names), in file order; the last varies fastest. */
  grid: Record<string, SweepValue[]>;
}

/** Flags the sweep sets itself. */
const RESERVED = ['out', 'quiet', 'help'];

function checkValue(file: string, key: string, v: unknown): SweepValue {
  if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) return v;
  throw new UsageError(`${file}: '${key}' must be a string, a finite number or a boolean (got ${JSON.stringify(v)})`);
}

function checkKey(file: string, key: string): void {
  if (!/^[a-z][a-z0-9-]*$/.test(key)) throw new UsageError(`${file}: '${key}' is not an lwlr train flag name (lower-case with dashes, no leading --)`);
  if (RESERVED.includes(key)) throw new UsageError(`${file}: '${key}' is set by lwlr sweep (each trial gets --out DIR/trials/<id> --quiet)`);
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
  for (const [key, v] of Object.entries(raw as Record<string, unknown>)) {
    if (key === 'grid') continue;
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
    const values = list.map((v) => checkValue(file, `grid.${key}`, v));
    if (new Set(values.map(String)).size !== values.length) throw new UsageError(`${file}: grid.${key} lists a value twice`);
    grid[key] = values;
  }
  if (Object.keys(grid).length === 0) throw new UsageError(`${file}: 'grid' is empty`);
  return { fixed, grid };
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
