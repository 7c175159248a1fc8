/**
 * The trials of a sweep: the cross product of the grid (last key fastest), with `--repeat N` seeds, each
 * with a readable id (`lr-0.1_width-256_seed-0`) and the `lwlr train` arguments it runs with.
 */
import { UsageError } from '../errors.js';
import type { SweepConfig, SweepValue } from './config.js';

export interface Trial {
  /** Readable slug of the grid values; the trial's directory name under `DIR/trials/`. */
  id: string;
  /** The grid flags' values of this trial (dashed names). */
  params: Record<string, SweepValue>;
  /** `lwlr train` arguments (fixed flags, then the grid's), without `--out` and `--quiet`. */
  argv: string[];
  /** Every flag of the trial (fixed, swept, and its variants' flags): what `argv` says, as a mapping. */
  flags: Record<string, SweepValue>;
}

/** `--name value`, or `--name` / `--no-name` for booleans. */
export function flagArgs(name: string, v: SweepValue): string[] {
  if (typeof v === 'boolean') return [v ? `--${name}` : `--no-${name}`];
  return [`--${name}`, String(v)];
}

/** The flags of one grid value: the flag itself, or a variant's flags. */
function axisFlags(config: SweepConfig, key: string, v: SweepValue): Record<string, SweepValue> {
  return config.variants?.[key]?.[String(v)] ?? { [key]: v };
}

/** The arguments of one grid value: a flag's, or a variant's flags. */
export function axisArgs(config: SweepConfig, key: string, v: SweepValue): string[] {
  return Object.entries(axisFlags(config, key, v)).flatMap(([k, x]) => flagArgs(k, x));
}

function slugPart(name: string, v: SweepValue): string {
  const value = String(v).replace(/[^A-Za-z0-9.+-]+/g, '-');
  return `${name}-${value}`;
}

/**
 * The grid after `--repeat N`: seeds 0..N-1 (or `seed + 0..N-1` when the file fixes `seed`) become a
 * `seed` axis. A grid that already sweeps `seed` cannot also be repeated.
 *
 * @example
 * ```ts
 * withRepeat({ fixed: { seed: 10 }, grid: { lr: [1] } }, 2).grid; // { lr: [1], seed: [10, 11] }
 * ```
 */
export function withRepeat(config: SweepConfig, repeat: number | undefined): SweepConfig {
  if (repeat === undefined) return config;
  if (!Number.isInteger(repeat) || repeat < 1) throw new UsageError(`--repeat must be an integer >= 1 (got ${repeat})`);
  if ('seed' in config.grid || Object.values(config.variants ?? {}).some((vs) => Object.values(vs).some((v) => 'seed' in v))) throw new UsageError("--repeat adds a 'seed' axis but the grid already sweeps seed (drop one of the two)");
  const start = config.fixed.seed ?? 0;
  if (typeof start !== 'number' || !Number.isInteger(start)) throw new UsageError(`seed must be an integer to --repeat (got ${JSON.stringify(start)})`);
  const { seed: _drop, ...fixed } = config.fixed;
  return { ...config, fixed, grid: { ...config.grid, seed: Array.from({ length: repeat }, (_, i) => start + i) } };
}

/**
 * Every trial of the (repeated) config, in order.
 *
 * @example
 * ```ts
 * expandTrials({ fixed: { epochs: 1 }, grid: { lr: [0.1, 1], width: [8] } }).map((t) => t.id);
 * // ['lr-0.1_width-8', 'lr-1_width-8']
 * ```
 */
export function expandTrials(config: SweepConfig): Trial[] {
  const keys = Object.keys(config.grid);
  const fixedArgs = Object.entries(config.fixed).flatMap(([k, v]) => flagArgs(k, v));
  let combos: Array<Record<string, SweepValue>> = [{}];
  for (const k of keys) combos = combos.flatMap((c) => config.grid[k]!.map((v) => ({ ...c, [k]: v })));
  const seen = new Map<string, number>();
  return combos.map((params) => {
    let id = keys.map((k) => slugPart(k, params[k]!)).join('_');
    const n = seen.get(id) ?? 0;
    seen.set(id, n + 1);
    if (n > 0) id = `${id}_${n}`; // values that slug alike ('a b' and 'a-b')
    const flags = Object.assign({ ...config.fixed }, ...keys.map((k) => axisFlags(config, k, params[k]!))) as Record<string, SweepValue>;
    return { id, params, argv: [...fixedArgs, ...keys.flatMap((k) => axisArgs(config, k, params[k]!))], flags };
  });
}
