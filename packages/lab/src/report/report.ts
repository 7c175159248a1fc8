/**
 * The report: every chart of the inputs rendered to SVG ({@link ReportChart}), assembled into one self-contained
 * HTML page (inline SVG, inline CSS, a small inline script for hover text and the log-loss toggle; no network).
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ReportInput, RunData, SweepData } from './load.js';
import { renderSVG } from './render.js';
import {
  accuracyByEpochSpec, curveAxis, curveSpec, etaMapSpec, heatmapAxes, heatmapSpec, lossByEpochSpec, lossByStepSpec, type SweepMetric,
} from './specs.js';
import { configDiff, summarize } from './summary.js';

export interface ReportOptions {
  title?: string;
  /** Points per curve after downsampling (default 2000). */
  maxPoints?: number;
  /** Sweep heat-map colour; default both final test accuracy and final train loss. */
  metric?: SweepMetric;
  x?: string;
  y?: string;
}

export interface ReportChart {
  /** File-name-safe id, unique in the report (`eta-all-run-a`, `loss-step-log`, `sweep-lr-finalTestAcc`). */
  id: string;
  section: 'curves' | 'eta' | 'sweep';
  /** 'lin' / 'log' variants of the loss charts (the page shows one of the two). */
  variant?: 'lin' | 'log';
  /** The run or sweep the chart shows (none for the overlaid curves). */
  source?: string;
  svg: string;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const slug = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '') || 'x';
const num = (x: number | null, p = 4) => (x === null || !Number.isFinite(x) ? '-' : Number(x.toPrecision(p)).toString());
const pct = (x: number | null) => (x === null || !Number.isFinite(x) ? '-' : `${(100 * x).toFixed(2)}%`);
function dur(s: number | null): string {
  if (s === null) return '-';
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(2)} h`;
}

/** Renders all charts of the inputs (eta maps, overlaid curves, sweep heat maps). */
export async function renderCharts(inputs: readonly ReportInput[], opts: ReportOptions = {}): Promise<{ charts: ReportChart[]; notes: string[] }> {
  const runs = inputs.filter((i): i is RunData => i.kind === 'run');
  const sweeps = inputs.filter((i): i is SweepData => i.kind === 'sweep');
  const charts: ReportChart[] = [];
  const notes: string[] = [];
  const add = async (id: string, section: ReportChart['section'], spec: TopLevelSpec, variant?: 'lin' | 'log', source?: string) => {
    charts.push({ id, section, variant, source, svg: await renderSVG(spec) });
  };
  const withSteps = runs.filter((r) => r.train.length);
  const withEvals = runs.filter((r) => r.evals.length);
  const maxPoints = opts.maxPoints ?? 2000;
  if (withSteps.length) {
    await add('loss-step-lin', 'curves', lossByStepSpec(withSteps, { maxPoints }), 'lin');
    await add('loss-step-log', 'curves', lossByStepSpec(withSteps, { maxPoints, log: true }), 'log');
  }
  if (withEvals.length) {
    await add('loss-epoch-lin', 'curves', lossByEpochSpec(withEvals), 'lin');
    await add('loss-epoch-log', 'curves', lossByEpochSpec(withEvals, { log: true }), 'log');
    await add('accuracy-epoch', 'curves', accuracyByEpochSpec(withEvals));
  }
  for (const r of runs) {
    if (!r.table) continue;
    await add(`eta-all-${slug(r.name)}`, 'eta', etaMapSpec(r.table, { view: 'all', title: `${r.name}: assigned learning rate, all parameter tensors` }), undefined, r.name);
    if (r.table.entries.some((e) => e.kind === 'kernel')) {
      await add(`eta-kernels-${slug(r.name)}`, 'eta', etaMapSpec(r.table, { view: 'kernels', title: `${r.name}: conv/linear kernels only` }), undefined, r.name);
    }
  }
  for (const s of sweeps) {
    const metrics: SweepMetric[] = opts.metric ? [opts.metric] : ['finalTestAcc', 'finalTrainLoss'];
    try {
      heatmapAxes(s, opts.x, opts.y);
    } catch (e) {
      if ((e as Error).message.startsWith('--')) throw e; // a bad --x/--y is the user's error
      // one numeric flag (a learning-rate grid over schemes and seeds): the metric against it, one line per scheme
      if (opts.x === undefined && opts.y === undefined && curveAxis(s) !== null) {
        for (const m of metrics) await add(`sweep-${slug(s.name)}-${m}`, 'sweep', curveSpec(s, { metric: m }), undefined, s.name);
        continue;
      }
      notes.push(`${s.name}: no heat map (${(e as Error).message})`);
      continue;
    }
    for (const m of metrics) await add(`sweep-${slug(s.name)}-${m}`, 'sweep', heatmapSpec(s, { metric: m, x: opts.x, y: opts.y }), undefined, s.name);
  }
  return { charts, notes };
}

const CSS = `
body{font-family:"DejaVu Sans",system-ui,sans-serif;margin:24px auto;max-width:1500px;padding:0 16px;color:#222}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}h3{font-size:15px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f4f4f4}
figure.chart{margin:12px 0;overflow-x:auto;content-visibility:auto;contain-intrinsic-size:auto 420px}figure.chart[hidden]{display:none}
.controls{font-size:13px;margin:8px 0}g[class*="labels_marks"]{pointer-events:none}.note{color:#a33;font-size:13px}
#tip{position:fixed;pointer-events:none;background:rgba(20,20,20,.88);color:#fff;font-size:12px;padding:4px 7px;border-radius:3px;display:none;max-width:520px;z-index:9}
`;

// Hover text: the aria-label Vega writes for each data mark item (its `description`); the log toggle swaps variants.
const SCRIPT = `
(function(){
  var tip=document.getElementById('tip');
  document.addEventListener('mousemove',function(ev){
    var t=ev.target&&ev.target.closest?ev.target.closest('.role-mark [aria-label]'):null;
    if(!t){tip.style.display='none';return;}
    tip.textContent=t.getAttribute('aria-label');tip.style.display='block';
    tip.style.left=Math.min(ev.clientX+12,window.innerWidth-tip.offsetWidth-4)+'px';tip.style.top=(ev.clientY+14)+'px';
  });
  var box=document.getElementById('logloss');
  function apply(){var log=box&&box.checked;document.querySelectorAll('figure[data-variant]').forEach(function(f){f.hidden=(f.getAttribute('data-variant')==='log')!==log;});}
  if(box){box.addEventListener('change',apply);apply();}
})();
`;

function figure(c: ReportChart, hidden = false): string {
  return `<figure class="chart" id="chart-${c.id}" data-chart="${c.id}"${c.variant ? ` data-variant="${c.variant}"` : ''}${hidden ? ' hidden' : ''}>${c.svg}</figure>`;
}

function runTables(runs: readonly RunData[]): string {
  if (!runs.length) return '';
  const rows = runs.map(summarize);
  const hasVal = rows.some((r) => r.finalValAcc !== null);
  const head = ['run', 'model', 'scheme', 'init; measurement', 'optimizer', 'epochs', 'final train loss', 'final test loss', 'final test acc', 'best test acc (epoch)', ...(hasVal ? ['final val acc'] : []), 'wall time'];
  const body = rows.map((r) => [r.name, r.model, r.scheme, r.setup, r.optimizer, r.epochs, num(r.finalTrainLoss), num(r.finalTestLoss), pct(r.finalTestAcc),
    r.bestTestAcc === null ? '-' : `${pct(r.bestTestAcc)} (${r.bestEpoch})`, ...(hasVal ? [pct(r.finalValAcc)] : []), dur(r.wallSeconds)]);
  let html = `<table id="summary"><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${body.map((b) => `<tr>${b.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</table>`;
  if (runs.length > 1) {
    const diff = configDiff(runs.map((r) => r.config));
    html += '<h3>Config differences</h3>';
    html += diff.length
      ? `<table id="config-diff"><tr><th>key</th>${runs.map((r) => `<th>${esc(r.name)}</th>`).join('')}</tr>${diff.map((d) => `<tr><td>${esc(d.key)}</td>${d.values.map((v) => `<td>${esc(v)}</td>`).join('')}</tr>`).join('')}</table>`
      : '<p id="config-diff">The runs have the same config.</p>';
  }
  return html;
}

function sweepStatus(s: SweepData): string {
  const counts: Record<string, number> = {};
  for (const t of s.results.trials) counts[t.status] = (counts[t.status] ?? 0) + 1;
  const grid = Object.entries(s.results.grid).map(([k, v]) => `${k}: ${v.join(', ')}`).join('; ');
  return `<p>${esc(`${s.results.trials.length} trials (${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}); grid ${grid}`)}</p>`;
}

/**
 * Builds the report page.
 * @example
 * const { html, charts } = await buildReport(loadInputs(['runs/a', 'runs/b']));
 * writeFileSync('report.html', html);
 */
export async function buildReport(inputs: readonly ReportInput[], opts: ReportOptions = {}): Promise<{ html: string; charts: ReportChart[]; notes: string[] }> {
  const { charts, notes } = await renderCharts(inputs, opts);
  const runs = inputs.filter((i): i is RunData => i.kind === 'run');
  const sweeps = inputs.filter((i): i is SweepData => i.kind === 'sweep');
  const title = opts.title ?? 'lwlr report';
  const parts: string[] = [`<h1>${esc(title)}</h1>`, `<p>${esc(inputs.map((i) => `${i.name} (${i.dir})`).join(', '))}</p>`];
  for (const n of notes) parts.push(`<p class="note">${esc(n)}</p>`);
  if (runs.length) parts.push('<h2>Runs</h2>', runTables(runs));
  const curves = charts.filter((c) => c.section === 'curves');
  if (curves.length) {
    parts.push('<h2>Curves</h2>', '<div class="controls"><label><input type="checkbox" id="logloss" checked> log-scale loss</label></div>');
    for (const c of curves) parts.push(figure(c, c.variant === 'lin'));
  }
  const etas = charts.filter((c) => c.section === 'eta');
  if (etas.length) {
    parts.push('<h2>Learning-rate maps</h2><p>One bar per parameter tensor in network order (shaded: blocks; dashed: eta = 1). Hover a bar for its name, shape, numel, G and eta.</p>');
    for (const c of etas) parts.push(figure(c));
  }
  if (sweeps.length) {
    parts.push('<h2>Sweeps</h2>');
    for (const s of sweeps) {
      parts.push(`<h3>${esc(s.name)}</h3>`, sweepStatus(s));
      for (const c of charts.filter((c) => c.section === 'sweep' && c.source === s.name)) parts.push(figure(c));
    }
  }
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body>
${parts.join('\n')}
<div id="tip"></div>
<script>${SCRIPT}</script>
</body></html>
`;
  return { html, charts, notes };
}
