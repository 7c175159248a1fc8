/**
 * A small, strict flag parser: `--name value`, `--name=value`, boolean `--flag` / `--no-flag`.
 * Unknown flags, missing values, bad numbers and values outside `choices` are usage errors (one line each).
 */
export type FlagType = 'string' | 'number' | 'int' | 'boolean';

export interface FlagSpec {
  type: FlagType;
  default?: string | number | boolean;
  choices?: readonly string[];
  help: string;
}

export type FlagSpecs = Record<string, FlagSpec>;
export type ParsedFlags = Record<string, string | number | boolean | undefined>;

/** A user error: printed as one line, exit code 2 (usage) or 1 (run-time). */
export class UsageError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
  }
}

/** `warmup-epochs` -> `warmupEpochs` (the key of a flag in {@link ParsedFlags}). */
export function toCamel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function parseFlags(argv: readonly string[], specs: FlagSpecs): { flags: ParsedFlags; positional: string[] } {
  const flags: ParsedFlags = {};
  const positional: string[] = [];
  for (const [name, s] of Object.entries(specs)) flags[toCamel(name)] = s.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    let [name, value] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const spec = specs[name];
    if (!spec && name.startsWith('no-') && specs[name.slice(3)]?.type === 'boolean') {
      flags[toCamel(name.slice(3))] = false;
      continue;
    }
    if (!spec) throw new UsageError(`unknown flag --${name}`);
    if (spec.type === 'boolean') {
      if (value !== undefined && !['true', 'false'].includes(value)) throw new UsageError(`--${name} takes no value`);
      flags[toCamel(name)] = value !== 'false';
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
    }
    flags[toCamel(name)] = convert(name, spec, value);
  }
  return { flags, positional };
}

/**
 * Checks a flag value that came from somewhere other than the command line (a config file): booleans must be
 * booleans, numbers numbers (or numeric strings), strings strings (numbers are taken as their text), choices
 * as on the command line. `where` names the source in the one-line error.
 *
 * @example
 * ```ts
 * flagValue('lr', { type: 'number', help: '' }, 0.1, 'run.yaml'); // 0.1
 * ```
 */
export function flagValue(name: string, spec: FlagSpec, value: unknown, where: string): string | number | boolean {
  try {
    if (spec.type === 'boolean') {
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      throw new UsageError(`--${name} must be true or false (got '${String(value)}')`);
    }
    if (typeof value === 'number' || typeof value === 'string') return convert(name, spec, String(value));
    throw new UsageError(`--${name} must be a ${spec.type === 'string' ? 'string' : 'number'} (got ${JSON.stringify(value)})`);
  } catch (e) {
    throw new UsageError(`${where}: ${(e as Error).message}`);
  }
}

function convert(name: string, spec: FlagSpec, value: string): string | number {
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

export function helpText(command: string, summary: string, specs: FlagSpecs): string {
  const lines = [`usage: lwlr ${command} [flags]`, '', summary, '', 'flags:'];
  for (const [name, s] of Object.entries(specs)) {
    const arg = s.type === 'boolean' ? '' : s.choices ? ` ${s.choices.join('|')}` : ` <${s.type}>`;
    const dflt = s.default !== undefined ? ` (default ${s.default})` : '';
    const head = `  --${name}${arg}`;
    lines.push(`${head.length < 42 ? head.padEnd(44) : `${head}  `}${s.help}${dflt}`);
  }
  return lines.join('\n');
}
