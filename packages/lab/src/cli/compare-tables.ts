/**
 * `lwlr compare-tables REF OTHER...`: how far eta tables are from a reference table of the same model (the
 * paper's Table 3, T = 1, 10, 100 against one epoch): Spearman rank correlation, max and mean |ln(eta/eta_ref)|,
 * max and mean deviation %. Each argument is an LR table JSON (`lwlr lr --out`) or a run directory (its
 * `lr-table.json`).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { LRTable, compareEta, type EtaComparison } from 'layerwise-lr';
import { helpText, parseFlags, UsageError, type FlagSpecs } from './args.js';

const FLAGS: FlagSpecs = {
  json: { type: 'boolean', default: false, help: 'print a JSON array of { table, steps, ...statistics }' },
  help: { type: 'boolean', help: 'show this help' },
};

const SUMMARY = 'Compare eta tables with the first one (REF): Spearman rank correlation, max/mean |ln(eta/eta_ref)|, max/mean deviation %.';

/** Reads a table from a JSON file or a run directory's `lr-table.json`; one-line errors. */
export function readTableArg(arg: string): LRTable {
  if (!existsSync(arg)) throw new UsageError(`${arg}: no such file or directory`, 1);
  const file = statSync(arg).isDirectory() ? path.join(arg, 'lr-table.json') : arg;
  if (!existsSync(file)) throw new UsageError(`${arg}: a directory without lr-table.json (expected an LR table JSON or a run directory)`, 1);
  try {
    return LRTable.fromJSON(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${file}: ${(e as Error).message.split('\n')[0]}`, 1);
  }
}

export async function compareTablesCommand(argv: string[]): Promise<number> {
  const { flags: f, positional } = parseFlags(argv, FLAGS);
  if (f.help) {
    console.log(`${helpText('compare-tables REF OTHER...', SUMMARY, FLAGS)}\n\nREF, OTHER: LR table JSON files (lwlr lr --out) or run directories (their lr-table.json).`);
    return 0;
  }
  if (positional.length < 2) throw new UsageError('compare-tables needs a reference table and at least one other (lwlr compare-tables REF OTHER...)');
  const [ref, ...others] = positional.map((a) => ({ arg: a, table: readTableArg(a) }));
  const rows: Array<{ table: string; steps: number | null } & EtaComparison> = others.map((o) => {
    try {
      return { table: o.arg, steps: o.table.meta.steps, ...compareEta(ref!.table, o.table) };
    } catch (e) {
      throw new UsageError(`${o.arg} vs ${ref!.arg}: ${(e as Error).message}`, 1);
    }
  });
  if (f.json) {
    console.log(JSON.stringify(rows, null, 2));
    return 0;
  }
  const head = ['table', 'T', 'spearman', 'max |ln ratio|', 'at', 'mean |ln ratio|', 'max dev %', 'mean dev %'];
  const cells = rows.map((r) => [r.table, String(r.steps ?? '-'), r.spearman.toFixed(4), r.maxAbsLogRatio.toFixed(4), r.maxAbsLogRatioAt,
    r.meanAbsLogRatio.toFixed(4), r.maxDeviationPct.toFixed(2), r.meanDeviationPct.toFixed(2)]);
  const all = [head, ...cells];
  const widths = head.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  console.log(`reference: ${ref!.arg} (${ref!.table.meta.scheme}, T=${ref!.table.meta.steps ?? '-'}, ${ref!.table.entries.length} tensors)`);
  for (const r of all) console.log(r.map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd());
  return 0;
}
