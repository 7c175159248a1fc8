/** Flags and helpers shared by the commands. */
import { toCamel, type FlagSpecs, type ParsedFlags } from './args.js';
import type { SetupOptions } from '../train/setup.js';
import { resolveRunConfig, runFlagSpecs, type RunConfig } from '../train/run-config.js';
import { setupOptions } from '../train/run.js';

/** The model, data and init flags `lwlr lr` shares with `lwlr train` (specs from `RUN_FIELDS`, the one source). */
const COMMON_NAMES = [
  'model', 'data', 'data-dir', 'limit', 'width', 'depth', 'width-mult', 'image-size', 'channels', 'num-classes', 'drop', 'attn-drop',
  'drop-path', 'output-scale', 'augment', 'mixup', 'randaugment', 'val-split', 'data-file', 'tokenizer', 'context', 'untie-head',
  'batch-size', 'seed', 'init', 'exponent', 'grad-norm', 'backend',
] as const;

export const COMMON_FLAGS: FlagSpecs = {
  ...Object.fromEntries(COMMON_NAMES.map((n) => [n, runFlagSpecs()[n]!])),
  help: { type: 'boolean', help: 'show this help' },
};
/** h:mm:ss */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * The data and model part of a run ({@link SetupOptions}) from parsed {@link COMMON_FLAGS}: checked as
 * `resolveRunConfig` checks them (a bad value is a `ConfigError`, exit 2); the commands add what is theirs
 * (`shuffle`).
 *
 * @example
 * ```ts
 * const run = await setupRun({ ...setupOptionsFromFlags(flags), shuffle: false });
 * ```
 */
export function setupOptionsFromFlags(f: ParsedFlags): SetupOptions {
  return setupOptions(commonRunConfig(f));
}

/**
 * The run config of parsed {@link COMMON_FLAGS} plus `extra` run fields (the others at their defaults), checked
 * by `resolveRunConfig`.
 *
 * @example
 * ```ts
 * commonRunConfig(flags).init; // 'fan-out' unless given
 * commonRunConfig(flags, { lrScheme: 'frozen-adagrad' }); // refuses --exponent / --grad-norm
 * ```
 */
export function commonRunConfig(f: ParsedFlags, extra: Readonly<Record<string, unknown>> = {}): RunConfig {
  const given: Record<string, unknown> = { ...extra };
  for (const name of COMMON_NAMES) {
    const k = toCamel(name);
    if (f[k] !== undefined) given[k] = f[k];
  }
  return resolveRunConfig(given);
}
