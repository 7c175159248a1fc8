/** `lwlr report RUN_DIR|SWEEP_DIR...`: one self-contained HTML report; `--png DIR` also writes every chart as PNG and SVG. */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { helpText, parseFlags, UsageError, type FlagSpecs } from './args.js';
import { loadInputs } from '../report/load.js';
import { buildReport } from '../report/report.js';
import { svgToPNG } from '../report/render.js';
import type { SweepMetric } from '../report/specs.js';

const FLAGS: FlagSpecs = {
  out: { type: 'string', default: 'report.html', help: 'the HTML file to write' },
  png: { type: 'string', help: 'also write each chart as DIR/<chart>.png and .svg' },
  'max-points': { type: 'int', default: 2000, help: 'points per curve shown (LTTB downsampling; the run dir keeps all)' },
  metric: { type: 'string', choices: ['finalTestAcc', 'bestTestAcc', 'finalTrainLoss'], help: 'sweep heat-map colour (default: final test acc and final train loss)' },
  x: { type: 'string', help: 'sweep heat-map x axis: a grid flag (default: the numeric flag with most values)' },
  y: { type: 'string', help: 'sweep heat-map y axis: a grid flag (default: the next one)' },
  title: { type: 'string', help: 'page title' },
  quiet: { type: 'boolean', default: false, help: 'print nothing but errors' },
  help: { type: 'boolean', help: 'show this help' },
};

export async function reportCommand(argv: string[]): Promise<number> {
  const { flags: f, positional } = parseFlags(argv, FLAGS);
  if (f.help) {
    console.log(helpText('report RUN_DIR|SWEEP_DIR...', 'Eta maps, overlaid curves, summary and sweep heat maps as one offline HTML page.', FLAGS));
    return 0;
  }
  if (!positional.length) throw new UsageError('give at least one RUN_DIR or SWEEP_DIR (see lwlr report --help)');
  if ((f.maxPoints as number) < 3) throw new UsageError('--max-points must be >= 3');
  const inputs = loadInputs(positional);
  let report;
  try {
    report = await buildReport(inputs, {
      maxPoints: f.maxPoints as number, metric: f.metric as SweepMetric | undefined, x: f.x as string | undefined, y: f.y as string | undefined,
      title: f.title as string | undefined,
    });
  } catch (e) {
    const msg = (e as Error).message;
    if (msg.startsWith('--')) throw new UsageError(msg);
    throw e;
  }
  const out = f.out as string;
  mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  writeFileSync(out, report.html);
  if (f.png) {
    const dir = f.png as string;
    mkdirSync(dir, { recursive: true });
    for (const c of report.charts) {
      writeFileSync(path.join(dir, `${c.id}.svg`), c.svg);
      writeFileSync(path.join(dir, `${c.id}.png`), svgToPNG(c.svg));
    }
  }
  if (!f.quiet) {
    for (const n of report.notes) process.stderr.write(`warning: ${n}\n`);
    console.log(`wrote ${out} (${report.charts.length} charts, ${(report.html.length / 1024).toFixed(0)} KiB)${f.png ? `; PNG and SVG in ${f.png}` : ''}`);
  }
  return 0;
}
