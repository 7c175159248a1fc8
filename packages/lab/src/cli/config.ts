/**
 * `--config FILE`: flags from a JSON or YAML file (keys are flag names, with dashes or in camelCase), under
 * the command line: default < file < explicit flag. A run directory's `config.json` is such a file, so
 * `lwlr train --config RUN/config.json --out RUN2` repeats a run. Unknown keys are a one-line error naming
 * the key and the file.
 *
 * @example
 * ```yaml
 * # run.yaml
 * model: resnet18-cifar
 * data: cifar10
 * batch-size: 128
 * lrScheme: layerwise
 * ```
 * `lwlr train --config run.yaml --epochs 5 --out runs/a` (5 epochs: the flag wins).
 */
import { existsSync, readFileSync } from 'node:fs';
import YAML from 'yaml';
import { flagValue, parseFlags, toCamel, UsageError, type FlagSpecs, type ParsedFlags } from './args.js';

/** Keys a run's `config.json` holds besides flags (what the run found: dataset size, the command line). */
export const CONFIG_META_KEYS: ReadonlySet<string> = new Set(['command', 'argv', 'datasetName', 'trainCount', 'testCount', 'valCount', 'lwlrVersion', 'text']);

export interface ResolvedFlags {
  flags: ParsedFlags;
  positional: string[];
  /** Flags (camelCase keys) given on the command line or in the config file. */
  explicit: Set<string>;
  /** Flags (camelCase keys) given on the command line. */
  fromArgv: Set<string>;
}

/**
 * Reads a config file into camelCase flag values (checked against `specs`; throws {@link UsageError}).
 *
 * @example
 * ```ts
 * readConfigFile('run.yaml', FLAGS); // { model: 'mlp', batchSize: 128 }
 * ```
 */
export function readConfigFile(file: string, specs: FlagSpecs): ParsedFlags {
  const where = `--config ${file}`;
  if (!existsSync(file)) throw new UsageError(`${where}: no such file`, 1);
  let doc: unknown;
  try {
    doc = YAML.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${where}: not JSON or YAML (${(e as Error).message.split('\n')[0]})`, 1);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new UsageError(`${where}: expected a mapping of flag names to values`, 1);
  const byCamel = new Map(Object.keys(specs).map((name) => [toCamel(name), name]));
  const out: ParsedFlags = {};
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    if (CONFIG_META_KEYS.has(key)) continue;
    const name = specs[key] ? key : byCamel.get(key);
    if (!name || name === 'config' || name === 'help' || name === 'resume') {
      throw new UsageError(`${where}: unknown key '${key}' (keys are the flags of the command, e.g. batch-size or batchSize)`, 2);
    }
    if (value === null || value === undefined) continue;
    out[toCamel(name)] = flagValue(name, specs[name]!, value, where);
  }
  return out;
}

/**
 * Parses `argv` against `specs`, with `--config FILE` (a flag in `specs`) read underneath: defaults, then the
 * file, then the explicit flags.
 *
 * @example
 * ```ts
 * const { flags, explicit } = resolveFlags(['--config', 'run.yaml', '--lr', '0.2'], FLAGS);
 * ```
 */
export function resolveFlags(argv: readonly string[], specs: FlagSpecs): ResolvedFlags {
  const bare: FlagSpecs = {};
  for (const [name, s] of Object.entries(specs)) bare[name] = { ...s, default: undefined };
  const { flags: given, positional } = parseFlags(argv, bare);
  const fromArgv = new Set(Object.keys(given).filter((k) => given[k] !== undefined));
  const fromFile = typeof given.config === 'string' ? readConfigFile(given.config, specs) : {};
  const flags: ParsedFlags = {};
  for (const [name, s] of Object.entries(specs)) flags[toCamel(name)] = s.default;
  Object.assign(flags, fromFile);
  for (const k of fromArgv) flags[k] = given[k];
  return { flags, positional, explicit: new Set([...fromArgv, ...Object.keys(fromFile)]), fromArgv };
}
