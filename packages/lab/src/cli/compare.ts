/** `lwlr compare RUN_DIR...`: the final epoch of each run side by side. */
import { readFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { UsageError } from './args.js';

interface EvalLine { type: 'eval'; epoch: number; trainLoss: number; testLoss: number; testAcc: number; time: number }

export function readRunSummary(dir: string): { name: string; scheme: string; last: EvalLine; best: number } {
  const metrics = path.join(dir, 'metrics.jsonl');
  if (!existsSync(metrics)) throw new UsageError(`${dir}: no metrics.jsonl (not a run directory?)`, 1);
  const evals = readFileSync(metrics, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((r) => r.type === 'eval') as EvalLine[];
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

export function compareCommand(argv: string[]): number {
  if (!argv.length || argv.includes('--help')) {
    console.log('usage: lwlr compare RUN_DIR...\n\nPrints the final epoch of each run side by side.');
    return argv.length ? 0 : 2;
  }
  const rows = argv.map(readRunSummary);
  const header = ['run', 'scheme', 'epochs', 'train loss', 'test loss', 'test acc', 'best acc', 'time'];
  const table = rows.map((r) => [r.name, r.scheme, String(r.last.epoch), r.last.trainLoss.toFixed(4), r.last.testLoss.toFixed(4),
    `${(100 * r.last.testAcc).toFixed(2)}%`, `${(100 * r.best).toFixed(2)}%`, `${r.last.time.toFixed(0)} s`]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  console.log(line(header));
  for (const t of table) console.log(line(t));
  return 0;
}
