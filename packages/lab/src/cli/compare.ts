/**
 * `lwlr compare RUN_DIR...`: the final epoch of each run side by side.
 * `lwlr compare --schemes uniform,layerwise[,...] [train flags] --out DIR`: trains each scheme (`lwlr train`
 * with `--lr-scheme S --out DIR/S`: the same seeded init and data order, only the learning rates differ), then
 * prints the table and writes it to DIR/summary.csv and DIR/summary.md.
 */
import { readFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { UsageError } from './args.js';
import { parseMetrics, type EvalPoint } from '../report/load.js';

type EvalLine = EvalPoint;

export function readRunSummary(dir: string): { name: string; scheme: string; last: EvalLine; best: number } {
  const metrics = path.join(dir, 'metrics.jsonl');
  if (!existsSync(metrics)) throw new UsageError(`${dir}: no metrics.jsonl (not a run directory?)`, 1);
  const { evals } = parseMetrics(readFileSync(metrics, 'utf8'), metrics);
  if (!evals.length) throw new UsageError(`${dir}: no completed epoch yet`, 1);
  let scheme = '?';
  try {
    const cfg = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
    scheme = cfg.lrScheme ?? '?';
    if (cfg.lrTable) {
      // a saved table: its own scheme (layerwise, uniform, ...) and the file it came from
      let tableScheme = 'table';
      try {
        tableScheme = JSON.parse(readFileSync(path.join(dir, 'lr-table.json'), 'utf8')).meta?.scheme ?? tableScheme;
      } catch { /* keep 'table' */ }
      scheme = `${tableScheme} (${path.basename(cfg.lrTable)})`;
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
  const { SCHEMES, trainCommand } = await import('./train.js');
  const schemes = (s.value ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  if (!schemes.length) throw new UsageError('--schemes needs a comma-separated list of schemes');
  for (const x of schemes) {
    if (!(SCHEMES as readonly string[]).includes(x)) throw new UsageError(`--schemes: unknown scheme '${x}' (expected ${SCHEMES.join(', ')})`);
  }
  if (new Set(schemes).size !== schemes.length) throw new UsageError('--schemes: a scheme is listed twice');
  if (!o.value) throw new UsageError('--out DIR is required (one run directory per scheme goes under it)');
  for (const bad of ['lr-scheme', 'lr-table', 'resume']) {
    if (o.rest.some((a) => a === `--${bad}` || a.startsWith(`--${bad}=`))) throw new UsageError(`--${bad} cannot be used with --schemes (each run gets its scheme)`);
  }
  const out = o.value;
  mkdirSync(out, { recursive: true });
  for (const scheme of schemes) {
    console.log(`== ${scheme} -> ${path.join(out, scheme)}`);
    const code = await trainCommand([...o.rest, '--lr-scheme', scheme, '--out', path.join(out, scheme)]);
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
