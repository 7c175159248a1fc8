/**
 * A small, strict flag parser: `--name value`, `--name=value`, boolean `--flag` / `--no-flag`.
 * Unknown flags, missing values, bad numbers and values outside `choices` are usage errors (one line each).
 */
import { UsageError } from '../errors.js';
import { convertFlag, toCamel, type FlagSpecs, type ParsedFlags } from '../flags.js';

export { UsageError } from '../errors.js';
export { toCamel, toDashed, flagValue, type FlagSpec, type FlagSpecs, type FlagType, type FlagValue, type ParsedFlags } from '../flags.js';

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
    flags[toCamel(name)] = convertFlag(name, spec, value);
  }
  return { flags, positional };
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
