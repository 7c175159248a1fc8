/**
 * `lwlr compare RUN_DIR...`: the final epoch of each run side by side.
 * `lwlr compare --schemes uniform,layerwise[,...] [train flags] --out DIR`: trains each scheme in this process
 * (`runTraining` with `lrScheme: S, out: DIR/S`: the same seeded init and data order, only the learning rates
 * differ; every run's config is checked before the first starts), then prints the table and writes it to
 * DIR/summary.csv and DIR/summary.md.
 */
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { LR_SCHEMES } from 'layerwise-lr';
import { UsageError } from './args.js';
import { resolveFlags } from './config.js';
import { TRAIN_FLAGS, trainWithTerminal } from './train.js';
import { resolveRunConfig } from '../train/run-config.js';
import { readMetrics, readRunConfigFile, readRunEtaTable, runFile, RUN_FILES, type EvalPoint } from '../train/run-dir.js';

type EvalLine = EvalPoint;

export function readRunSummary(dir: string): { name: string; scheme: string; last: EvalLine; best: number } {
  if (!existsSync(runFile(dir, 'metrics'))) throw new UsageError(`${dir}: no ${RUN_FILES.metrics} (not a run directory?)`, 1);
  const { evals } = readMetrics(dir);
  if (!evals.length) throw new UsageError(`${dir}: no completed epoch yet`, 1);
  let scheme = '?';
  try {
    const cfg = readRunConfigFile(dir) ?? {};
    scheme = (cfg.lrScheme as string | undefined) ?? '?';
    const tableFile = cfg.etaTable ?? cfg.lrTable; // 0.1's key
    if (tableFile) {
      // a saved table: its own scheme (layerwise, uniform, ...) and the file it came from
      let tableScheme = 'table';
      try {
        tableScheme = readRunEtaTable(dir)?.meta.scheme ?? tableScheme;
      } catch { /* keep 'table' */ }
      scheme = `${tableScheme} (${path.basename(String(tableFile))})`;
    }
  } catch { /* a run without config still compares */ }
  return { name: path.basename(path.resolve(dir)), scheme, last: evals[evals.length - 1], best: Math.max(...evals.map((e) => e.testAcc)) };
}

interface Summary { name: string; scheme: string; last: EvalLine; best: number }

const HEADER = ['run', 'scheme', 'epochs', 'train loss', 'test loss', 'test acc', 'best acc', 'time'];

function cells(r: Summary): string[] {
  return [r.name, r.scheme, String(r.last.epoch), r.last.trainLoss.toFixed(4), r.last.testLoss.toFixed(4),
    `${(100 * r.last.testAcc).toFixed(2)}%`, `${(100 * r.best).toFixed(2)}%`, `${r.last.time.toFixed(0)} s`];
}

/** The runs as an aligned text table (header first). */
export function summaryText(rows: readonly Summary[]): string {
  const table = rows.map(cells);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(widths[i])).join('  ').trimEnd();
  return [line(HEADER), ...table.map(line)].join('\n');
}

/** The runs as CSV (full precision, fractions not percents) and as a Markdown table. */
export function summaryFiles(rows: readonly Summary[]): { csv: string; md: string } {
  const csvCols = ['run', 'scheme', 'epochs', 'trainLoss', 'testLoss', 'testAcc', 'bestTestAcc', 'testTop5', 'valLoss', 'valAcc', 'time'];
  const q = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const opt = (v: number | undefined) => (v === undefined ? '' : String(v));
  const csv = [csvCols.join(','), ...rows.map((r) => [q(r.name), q(r.scheme), String(r.last.epoch), String(r.last.trainLoss), String(r.last.testLoss),
    String(r.last.testAcc), String(r.best), opt(r.last.testTop5), opt(r.last.valLoss), opt(r.last.valAcc), String(r.last.time)].join(','))].join('\n');
  const md = [`| ${HEADER.join(' | ')} |`, `|${HEADER.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((r) => `| ${cells(r).map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`)].join('\n');
  return { csv: `${csv}\n`, md: `${md}\n` };
}

/** Value of `--name V` / `--name=V` in argv, and argv without it. */
function takeFlag(argv: readonly string[], name: string): { value?: string; rest: string[] } {
  const rest: string[] = [];
  let value: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === `--${name}`) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
    } else if (a.startsWith(`--${name}=`)) value = a.slice(name.length + 3);
    else rest.push(a);
  }
  return { value, rest };
}

const COMPARE_USAGE = `usage: lwlr compare RUN_DIR...
       lwlr compare --schemes uniform,layerwise[,depth-increasing,depth-decreasing,frozen-adagrad] [lwlr train flags] --out DIR

The first form prints the final epoch of each run side by side. The second trains each scheme from the same
seeded init and data order into DIR/<scheme>, then prints the table and writes DIR/summary.csv and DIR/summary.md.`;

async function trainSchemes(argv: string[]): Promise<number> {
  const s = takeFlag(argv, 'schemes');
  const o = takeFlag(s.rest, 'out');
  const schemes = (s.value ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  if (!schemes.length) throw new UsageError('--schemes needs a comma-separated list of schemes');
  for (const x of schemes) {
    if (!(LR_SCHEMES as readonly string[]).includes(x)) throw new UsageError(`--schemes: unknown scheme '${x}' (expected ${LR_SCHEMES.join(', ')})`);
  }
  if (new Set(schemes).size !== schemes.length) throw new UsageError('--schemes: a scheme is listed twice');
  if (!o.value) throw new UsageError('--out DIR is required (one run directory per scheme goes under it)');
  for (const bad of ['lr-scheme', 'eta-table', 'lr-table', 'resume']) {
    if (o.rest.some((a) => a === `--${bad}` || a.startsWith(`--${bad}=`))) throw new UsageError(`--${bad} cannot be used with --schemes (each run gets its scheme)`);
  }
  const { flags, positional, explicit } = resolveFlags(o.rest, TRAIN_FLAGS);
  if (positional.length) throw new UsageError(`unexpected argument '${positional[0]}' (with --schemes, lwlr compare takes lwlr train's flags)`);
  const given: Record<string, unknown> = {};
  for (const k of explicit) if (!['config', 'stopAfter', 'overwrite', 'quiet', 'help'].includes(k)) given[k] = flags[k];
  const out = o.value;
  // every run's config is checked before the first one starts
  const runs = schemes.map((scheme) => ({ scheme, config: resolveRunConfig({ ...given, lrScheme: scheme, out: path.join(out, scheme) }) }));
  // no folder before the first run has read its inputs (runTraining creates DIR/<scheme>)
  for (const { scheme, config } of runs) {
    console.log(`== ${scheme} -> ${config.out}`);
    const code = await trainWithTerminal(config, {
      overwrite: flags.overwrite as boolean, stopAfter: flags.stopAfter as number | undefined, quiet: flags.quiet as boolean, argv,
    });
    if (code !== 0) return code;
  }
  const rows = schemes.map((x) => readRunSummary(path.join(out, x)));
  const files = summaryFiles(rows);
  writeFileSync(path.join(out, 'summary.csv'), files.csv);
  writeFileSync(path.join(out, 'summary.md'), files.md);
  console.log(summaryText(rows));
  console.log(`summary: ${path.join(out, 'summary.csv')}, ${path.join(out, 'summary.md')}`);
  return 0;
}

export async function compareCommand(argv: string[]): Promise<number> {
  if (!argv.length || argv.includes('--help')) {
    console.log(COMPARE_USAGE);
    return argv.length ? 0 : 2;
  }
  if (argv.some((a) => a === '--schemes' || a.startsWith('--schemes='))) return trainSchemes(argv);
  const flag = argv.find((a) => a.startsWith('--'));
  if (flag) throw new UsageError(`lwlr compare RUN_DIR...: unknown flag ${flag} (to train the schemes: --schemes LIST)`);
  console.log(summaryText(argv.map(readRunSummary)));
  return 0;
}
