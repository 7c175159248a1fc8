/**
 * What a flag is (type, default, choices, help) and how a value from anywhere (the command line, a YAML or JSON
 * file, an object in code) becomes a typed flag value. Shared by the CLI's parser and `resolveRunConfig`, so
 * both accept and refuse the same values with the same one-line messages.
 */
import { UsageError } from './errors.js';

export type FlagType = 'string' | 'number' | 'int' | 'boolean';

export interface FlagSpec {
  type: FlagType;
  default?: string | number | boolean;
  choices?: readonly string[];
  help: string;
}

export type FlagSpecs = Record<string, FlagSpec>;
export type FlagValue = string | number | boolean;
export type ParsedFlags = Record<string, FlagValue | undefined>;

/** `warmup-epochs` -> `warmupEpochs` (the key of a flag in {@link ParsedFlags} and in a run's config). */
export function toCamel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** `warmupEpochs` -> `warmup-epochs` (the flag of a config key). */
export function toDashed(camel: string): string {
  return camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * A command-line string as the flag's type: numbers must parse, integers be whole, strings be among `choices`.
 *
 * @example
 * ```ts
 * convertFlag('epochs', { type: 'int', help: '' }, '3'); // 3
 * ```
 */
export function convertFlag(name: string, spec: FlagSpec, value: string): string | number {
  if (spec.type === 'string') {
    if (spec.choices && !spec.choices.includes(value)) {
      throw new UsageError(`--${name} must be one of ${spec.choices.join(', ')} (got '${value}')`);
    }
    return value;
  }
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number (got '${value}')`);
  if (spec.type === 'int' && !Number.isInteger(n)) throw new UsageError(`--${name} must be an integer (got '${value}')`);
  return n;
}

/**
 * Checks a flag value that came from somewhere other than the command line (a config file, an object): booleans
 * must be booleans, numbers numbers (or numeric strings), strings strings (numbers are taken as their text),
 * choices as on the command line. `where` (when given) names the source in the one-line error.
 *
 * @example
 * ```ts
 * flagValue('lr', { type: 'number', help: '' }, 0.1, 'run.yaml'); // 0.1
 * ```
 */
export function flagValue(name: string, spec: FlagSpec, value: unknown, where?: string): FlagValue {
  try {
    if (spec.type === 'boolean') {
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      throw new UsageError(`--${name} must be true or false (got '${String(value)}')`);
    }
    if (typeof value === 'number' && spec.type !== 'string') {
      if (!Number.isFinite(value)) throw new UsageError(`--${name} must be a number (got ${value})`);
      if (spec.type === 'int' && !Number.isInteger(value)) throw new UsageError(`--${name} must be an integer (got '${value}')`);
      return value;
    }
    if (typeof value === 'number' || typeof value === 'string') return convertFlag(name, spec, String(value));
    throw new UsageError(`--${name} must be a ${spec.type === 'string' ? 'string' : 'number'} (got ${JSON.stringify(value)})`);
  } catch (e) {
    if (where === undefined) throw e;
    throw new UsageError(`${where}: ${(e as Error).message}`);
  }
}
