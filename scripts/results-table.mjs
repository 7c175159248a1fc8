#!/usr/bin/env node
/**
 * Markdown tables for docs/RESULTS.md from a sweep's results.json (format lwlr-sweep@1).
 *
 *   node scripts/results-table.mjs runs/exp3/results.json [--metric finalTestAcc] [--x lr] [--within 1]
 *
 * Groups the trials by every grid key except `seed` and the x axis (default `lr`). For each group it prints one
 * row per x value: mean ± sample std over seeds of the metric, the number of seeds, and how many diverged (a
 * diverged trial counts as chance-level accuracy / missing loss and is listed). Then one summary row per group:
 * the best x (highest mean accuracy, or lowest mean loss) and the stable range = the x values whose mean is
 * within --within percentage points (accuracy) or --within percent (loss) of the best.
 */
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
if (!file) { console.error('usage: results-table.mjs RESULTS.json [--metric M] [--x KEY] [--within P]'); process.exit(2); }
const metric = opt('metric', 'finalTestAcc');
const xKey = opt('x', 'lr');
const within = Number(opt('within', '1'));
const isAcc = /Acc$/.test(metric);
const r = JSON.parse(readFileSync(file, 'utf8'));
if (r.format !== 'lwlr-sweep@1') { console.error(`${file}: not an lwlr-sweep@1 results file`); process.exit(1); }

const groups = new Map();
for (const t of r.trials) {
  const key = Object.entries(t.params).filter(([k]) => k !== 'seed' && k !== xKey).map(([k, v]) => `${k}=${v}`).join(', ');
  if (!groups.has(key)) groups.set(key, new Map());
  const byX = groups.get(key);
  const x = t.params[xKey];
  if (!byX.has(x)) byX.set(x, []);
  byX.get(x).push(t);
}
const fmt = (v) => (isAcc ? (100 * v).toFixed(2) : v.toPrecision(4));
const stats = (vs) => {
  const m = vs.reduce((a, b) => a + b, 0) / vs.length;
  const s = vs.length > 1 ? Math.sqrt(vs.reduce((a, b) => a + (b - m) ** 2, 0) / (vs.length - 1)) : NaN;
  return { m, s };
};
const summary = [];
for (const [key, byX] of groups) {
  console.log(`\n**${key || 'all'}** (${metric}${isAcc ? ', %' : ''}, mean ± std over seeds)\n`);
  console.log(`| ${xKey} | mean ± std | seeds | diverged |`);
  console.log('|---|---|---|---|');
  const rows = [];
  for (const [x, ts] of [...byX].sort((a, b) => Number(a[0]) - Number(b[0]))) {
    const finished = ts.filter((t) => t.status === 'done' || t.status === 'diverged' || t.status === 'stopped');
    const diverged = ts.filter((t) => t.status === 'diverged').length;
    // A diverged run is chance level for accuracy; for a loss it has no value.
    const vals = finished.map((t) => (t.status === 'diverged' ? (isAcc ? 0.1 : NaN) : t[metric])).filter((v) => Number.isFinite(v));
    if (vals.length === 0) { console.log(`| ${x} | – | 0/${ts.length} | ${diverged} |`); continue; }
    const { m, s } = stats(vals);
    rows.push({ x, m });
    console.log(`| ${x} | ${fmt(m)} ± ${Number.isFinite(s) ? fmt(s) : '–'} | ${vals.length}/${ts.length} | ${diverged} |`);
  }
  if (rows.length === 0) continue;
  const best = rows.reduce((a, b) => ((isAcc ? b.m > a.m : b.m < a.m) ? b : a));
  const ok = rows.filter((q) => (isAcc ? best.m - q.m <= within / 100 : q.m <= best.m * (1 + within / 100)));
  summary.push({ key, best: best.x, bestVal: fmt(best.m), range: ok.map((q) => q.x), n: ok.length });
}
console.log(`\n| group | best ${xKey} | best mean | ${xKey} within ${within}${isAcc ? ' pt' : '%'} of best | count |`);
console.log('|---|---|---|---|---|');
for (const s of summary) console.log(`| ${s.key} | ${s.best} | ${s.bestVal} | ${s.range.join(', ')} | ${s.n} |`);
