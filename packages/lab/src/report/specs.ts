/**
 * The report's charts as Vega-Lite specs (rendered by {@link renderSVG}): the eta map of an eta table (paper
 * Figs 4, 5, 11, 12, 14), training curves of several runs (Figs 2, 3, 9, 10) and sweep heat maps (Figs 6, 7, 13).
 * Every data mark carries a `description` (shown on hover in the HTML report) and a `name` the tests count.
 */
import type { TopLevelSpec } from 'vega-lite';
import { PARAM_KINDS, type EtaTableJSON, type ParamKind } from 'layerwise-lr';
import { blockOf, blockSpans } from './blocks.js';
import { downsample } from './downsample.js';
import type { RunData, SweepData } from './load.js';

export const FONT = 'DejaVu Sans';
const CONFIG = {
  font: FONT,
  background: 'white',
  view: { stroke: '#ccc' },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
  title: { fontSize: 14, anchor: 'start' as const },
};
/** One colour per parameter kind (typed by the library's one list of kinds: a new kind needs a colour here). */
const KIND_COLORS: Record<ParamKind, string> = { kernel: '#4c78a8', bias: '#f58518', scale: '#54a24b', shift: '#b279a2', embedding: '#e45756' };

const fmt = (x: number | null | undefined, p = 4) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : Number(x.toPrecision(p)).toString());

export type EtaView = 'all' | 'kernels';

/** Rows of the eta map (network order), with their block. */
export function etaRows(table: EtaTableJSON, view: EtaView) {
  const entries = view === 'all' ? table.entries : table.entries.filter((e) => e.kind === 'kernel');
  return entries.map((e, i) => ({
    i, name: e.name, shape: `[${e.shape.join(',')}]`, numel: e.numel, kind: e.kind, G: e.G, eta: e.eta, block: blockOf(e.name),
    desc: `${e.name} ${`[${e.shape.join(',')}]`} numel ${e.numel} ${e.kind}; G ${fmt(e.G)}; eta ${fmt(e.eta)}${e.excluded ? ' (zero gradient, excluded)' : ''}`,
  }));
}

/** Width of the report's full-width charts (the page is 1500 px wide; an SVG never overflows it, see report.ts). */
export const CHART_WIDTH = 1240;

/** At most this many tensors are named one by one on the eta map's x axis; beyond, blocks are. */
const NAMED_TENSORS = 40;

/**
 * The log-scale eta range of tables: whole decades around every eta (and 1), the floor strictly below the
 * smallest so that no bar has zero height. Give the same domain to every eta map of a report, so that their
 * bars compare by height.
 *
 * @example
 * ```ts
 * etaDomain([tableA, tableB]); // [0.001, 10]
 * ```
 */
export function etaDomain(tables: readonly EtaTableJSON[]): [number, number] {
  const etas = tables.flatMap((t) => t.entries.map((e) => e.eta)).filter((x) => Number.isFinite(x) && x > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...etas, 1)) - 1e-9);
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...etas, 1)) - 1e-9);
  return [lo, hi];
}

/**
 * The eta map's x axis: tick positions and their labels. Up to {@link NAMED_TENSORS} tensors each get its name;
 * more get one label per block (at its middle) and the names of the tensors outside blocks (stem, tokens, head),
 * overlapping labels dropped.
 */
function etaAxisTicks(rows: ReturnType<typeof etaRows>, spans: ReturnType<typeof blockSpans>): { values: number[]; labels: string[]; byName: boolean } {
  if (rows.length <= NAMED_TENSORS) return { values: rows.map((r) => r.i), labels: rows.map((r) => r.name), byName: true };
  const ticks: Array<[number, string]> = spans.map((sp) => [(sp.start + sp.end) / 2, sp.block]);
  for (const r of rows) if (!r.block) ticks.push([r.i, r.name]);
  ticks.sort((a, b) => a[0] - b[0]);
  return { values: ticks.map((t) => t[0]), labels: ticks.map((t) => t[1]), byName: false };
}

/**
 * The eta map: one bar per parameter tensor in network order, log-scale eta, coloured by kind (the legend lists
 * the kinds the table has), blocks shaded; the x axis names the tensors (or, for large models, the blocks).
 * `view: 'kernels'` keeps only conv/linear kernels (the paper's right-hand panels). `domain`: the y range, shared
 * by every map of a report ({@link etaDomain}).
 * @example const svg = await renderSVG(etaMapSpec(table, { view: 'all', title: 'resnet18 etas', domain: etaDomain([table]) }));
 */
export function etaMapSpec(table: EtaTableJSON, opts: { view?: EtaView; title?: string; width?: number; height?: number; domain?: [number, number] } = {}): TopLevelSpec {
  const view = opts.view ?? 'all';
  const rows = etaRows(table, view);
  const n = rows.length;
  const [lo, hi] = opts.domain ?? etaDomain([table]);
  const spans = blockSpans(rows.map((r) => r.name));
  const bands = spans.filter((s) => s.index % 2 === 0).map((s) => ({ x: s.start - 0.5, x2: s.end + 0.5, desc: `block ${s.block}` }));
  const starts = spans.map((s) => ({ x: s.start - 0.5, desc: `block ${s.block}` }));
  const width = opts.width ?? CHART_WIDTH;
  const ticks = etaAxisTicks(rows, spans);
  // with tensor names below, block names along the top, cut to the block's width (none when too many to read)
  const labels = ticks.byName && spans.length <= 40 ? spans.map((s) => ({ mid: (s.start + s.end) / 2, block: s.block, limit: Math.max(0, ((s.end - s.start + 1) * width) / Math.max(n, 1) - 2) })) : [];
  const kinds = PARAM_KINDS.filter((k) => rows.some((r) => r.kind === k));
  const x = {
    field: 'x', type: 'quantitative' as const, scale: { domain: [-0.5, Math.max(n, 1) - 0.5], nice: false, zero: false },
    axis: {
      title: view === 'all' ? `parameter tensor (network order${ticks.byName ? '' : '; blocks labelled'})` : `conv/linear kernel (network order${ticks.byName ? '' : '; blocks labelled'})`,
      values: ticks.values, labelExpr: `${JSON.stringify(ticks.labels)}[indexof(${JSON.stringify(ticks.values)}, datum.value)]`,
      // names stand upright so that up to NAMED_TENSORS fit side by side; block labels lean
      labelAngle: ticks.byName ? -90 : -40, labelAlign: 'right' as const, labelBaseline: ticks.byName ? ('middle' as const) : ('top' as const),
      labelFontSize: 9, labelLimit: 170, labelOverlap: 'greedy' as const,
      grid: false, tickSize: 3,
    },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: opts.title ?? (view === 'all' ? 'assigned learning rate, all parameter tensors' : 'assigned learning rate, conv/linear kernels only'),
    width, height: opts.height ?? 240,
    config: CONFIG,
    layer: [
      { name: `blocks_${view}`, data: { values: bands }, mark: { type: 'rect', color: '#888', opacity: 0.1 }, encoding: { x, x2: { field: 'x2' }, description: { field: 'desc' } } },
      { name: `block_starts_${view}`, data: { values: starts }, mark: { type: 'rule', color: '#999', strokeWidth: 0.6, strokeDash: [2, 2] }, encoding: { x, description: { field: 'desc' } } },
      {
        name: `eta_bars_${view}`,
        data: { values: rows },
        transform: [{ calculate: 'datum.i - 0.4', as: 'x' }, { calculate: 'datum.i + 0.4', as: 'x2' }],
        mark: { type: 'rect' },
        encoding: {
          x, x2: { field: 'x2' },
          y: { field: 'eta', type: 'quantitative', title: 'eta (log scale)', scale: { type: 'log', domain: [lo, hi], nice: false } },
          y2: { datum: lo },
          color: { field: 'kind', type: 'nominal', title: 'kind', scale: { domain: kinds, range: kinds.map((k) => KIND_COLORS[k]) } },
          description: { field: 'desc' },
          tooltip: [{ field: 'name' }, { field: 'shape' }, { field: 'numel' }, { field: 'kind' }, { field: 'G', format: '.4g' }, { field: 'eta', format: '.4g' }],
        },
      },
      {
        name: `block_labels_${view}`,
        data: { values: labels },
        mark: { type: 'text', fontSize: 9, color: '#555', baseline: 'top', dy: 3, limit: { expr: 'datum.limit' } },
        encoding: { x: { ...x, field: 'mid' }, y: { datum: hi }, text: { field: 'block' } },
      },
      { name: `unit_${view}`, data: { values: [{ y: 1 }] }, mark: { type: 'rule', color: '#333', strokeDash: [4, 3], strokeWidth: 0.8 }, encoding: { y: { field: 'y', type: 'quantitative' } } },
    ],
  } as TopLevelSpec;
}

/** Both eta views stacked (the paper's left and right panels), for `lwlr lr --plot`. */
export function etaFigureSpec(table: EtaTableJSON, title?: string): TopLevelSpec {
  const strip = (s: TopLevelSpec) => { const { $schema, config, ...rest } = s as unknown as Record<string, unknown>; void $schema; void config; return rest; };
  const domain = etaDomain([table]);
  const all = etaMapSpec(table, { view: 'all', title: title ? `${title}: all parameter tensors` : undefined, domain });
  const kernels = etaMapSpec(table, { view: 'kernels', title: title ? `${title}: conv/linear kernels only` : undefined, width: (all as unknown as { width: number }).width, domain });
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: CONFIG, vconcat: [strip(all), strip(kernels)], resolve: { scale: { color: 'shared' } } } as unknown as TopLevelSpec;
}

const logOk = (x: number) => Number.isFinite(x) && x > 0;

/** Train loss by logged step, one line per run, downsampled by LTTB to `maxPoints` per run. */
export function lossByStepSpec(runs: readonly RunData[], opts: { log?: boolean; maxPoints?: number } = {}): TopLevelSpec {
  const rows: Array<{ run: string; step: number; loss: number; epoch: number }> = [];
  for (const r of runs) {
    const pts = r.train.filter((p) => (opts.log ? logOk(p.loss) : Number.isFinite(p.loss)));
    for (const p of downsample(pts, opts.maxPoints ?? 2000, (q) => q.step, (q) => (opts.log ? Math.log(q.loss) : q.loss))) {
      rows.push({ run: r.name, step: p.step, loss: p.loss, epoch: p.epoch });
    }
  }
  return lineSpec(rows, 'step', 'loss', `train loss by step${opts.log ? ' (log scale)' : ''}`, 'step', 'train loss', opts.log, runs.map((r) => r.name));
}

/** Train (solid) and test (dashed) loss at the end of each epoch. */
export function lossByEpochSpec(runs: readonly RunData[], opts: { log?: boolean } = {}): TopLevelSpec {
  const rows: Array<Record<string, unknown>> = [];
  const ok = opts.log ? logOk : Number.isFinite;
  for (const r of runs) {
    for (const e of r.evals) {
      if (ok(e.trainLoss)) rows.push({ run: r.name, epoch: e.epoch, loss: e.trainLoss, split: 'train' });
      if (ok(e.testLoss)) rows.push({ run: r.name, epoch: e.epoch, loss: e.testLoss, split: 'test' });
      if (e.valLoss !== undefined && ok(e.valLoss)) rows.push({ run: r.name, epoch: e.epoch, loss: e.valLoss, split: 'val' });
    }
  }
  return lineSpec(rows, 'epoch', 'loss', `loss by epoch${opts.log ? ' (log scale)' : ''}`, 'epoch', 'loss', opts.log, runs.map((r) => r.name), true);
}

/** Test (solid) and validation (dashed, when logged) top-1 accuracy by epoch. */
export function accuracyByEpochSpec(runs: readonly RunData[]): TopLevelSpec {
  const rows: Array<Record<string, unknown>> = [];
  for (const r of runs) {
    for (const e of r.evals) {
      if (Number.isFinite(e.testAcc)) rows.push({ run: r.name, epoch: e.epoch, acc: e.testAcc, split: 'test' });
      if (e.valAcc !== undefined && Number.isFinite(e.valAcc)) rows.push({ run: r.name, epoch: e.epoch, acc: e.valAcc, split: 'val' });
    }
  }
  return lineSpec(rows, 'epoch', 'acc', 'top-1 accuracy by epoch', 'epoch', 'accuracy', false, runs.map((r) => r.name), true, '.1%');
}

/** Line width of run i of n: 1.5 px for the last, up to 4 px more for the first (steps of at least 1.2 px). */
function strokeWidthOf(i: number, n: number): number {
  return n <= 1 ? 1.8 : 1.5 + Math.min(1.2 * (n - 1), 4) * ((n - 1 - i) / (n - 1));
}

const DASH: Record<string, number[]> = { train: [1, 0], test: [5, 3], val: [2, 2] };
/** Dashes for the splits present, in train/test/val order (solid for the first). */
function splitScale(rows: Array<Record<string, unknown>>) {
  const present = new Set(rows.map((r) => r.split));
  const domain = ['train', 'test', 'val'].filter((k) => present.has(k));
  return { domain, range: domain.map((k, i) => (i === 0 ? [1, 0] : DASH[k])) };
}

function lineSpec(rows: Array<Record<string, unknown>>, xf: string, yf: string, title: string, xt: string, yt: string,
  log: boolean | undefined, runNames: string[], bySplit = false, yFormat?: string): TopLevelSpec {
  const desc = bySplit ? `datum.run + ' (' + datum.split + ')'` : 'datum.run';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title, width: CHART_WIDTH - 60, height: 320, config: CONFIG,
    data: { values: rows },
    transform: [{ calculate: desc, as: 'series' }],
    encoding: {
      x: { field: xf, type: 'quantitative', title: xt, axis: xf === 'epoch' ? { tickMinStep: 1, format: 'd' } : {} },
      y: { field: yf, type: 'quantitative', title: yt, scale: log ? { type: 'log' } : { zero: false }, axis: yFormat ? { format: yFormat } : {} },
      color: { field: 'run', type: 'nominal', title: 'run', scale: { domain: runNames } },
      // earlier runs drawn wider: a curve that a later one covers exactly still shows, as a coloured border around
      // it (the legend, shared with colour, shows each run's width)
      strokeWidth: { field: 'run', type: 'nominal', sort: runNames, scale: { domain: runNames, range: runNames.map((_, i) => strokeWidthOf(i, runNames.length)) } },
      description: { field: 'series' },
    },
    layer: [
      {
        name: 'curves',
        mark: { type: 'line', clip: true },
        encoding: bySplit
          ? { strokeDash: { field: 'split', type: 'nominal', title: 'split', scale: splitScale(rows), legend: { symbolType: 'stroke', symbolStrokeColor: '#333', symbolSize: 400 } } }
          : {},
      },
      ...(bySplit ? [{ name: 'curve_points', mark: { type: 'point', filled: true, size: 16, clip: true } }] : []),
    ],
  } as TopLevelSpec;
}

export type SweepMetric = 'finalTrainLoss' | 'finalTestAcc' | 'bestTestAcc';

export interface HeatmapAxes { x: string; y: string; panel: string[] }

const numeric = (vals: unknown[]) => vals.length > 0 && vals.every((v) => typeof v === 'number');

/** Grid flags that repeat a trial rather than change it: averaged over, never an axis or a panel. */
const REPLICATES = new Set(['seed']);

/**
 * The two numeric grid flags with the most values (or `x`/`y` as given); the other multi-valued flags make panels
 * (`seed` is averaged over).
 */
export function heatmapAxes(sweep: SweepData, x?: string, y?: string): HeatmapAxes {
  const grid = sweep.results.grid;
  const file = `${sweep.dir}/results.json`;
  for (const [flag, f] of [[x, '--x'], [y, '--y']] as const) {
    if (flag !== undefined && !(flag in grid)) throw new Error(`${f} ${flag}: not a grid flag of ${file} (grid: ${Object.keys(grid).join(', ')})`);
  }
  const cands = Object.keys(grid).filter((k) => numeric(grid[k]) && k !== x && k !== y && !REPLICATES.has(k)).sort((a, b) => grid[b].length - grid[a].length);
  const ax = x ?? cands.shift();
  const ay = y ?? cands.find((k) => k !== ax);
  if (!ax || !ay) throw new Error(`${file}: a heat map needs two numeric grid flags (grid: ${Object.keys(grid).join(', ') || 'empty'})`);
  const panel = Object.keys(grid).filter((k) => k !== ax && k !== ay && grid[k].length > 1 && !REPLICATES.has(k));
  return { x: ax, y: ay, panel };
}

export interface HeatCell {
  panel: string; xv: number; yv: number; value: number | null; n: number; diverged: number; failed: number;
  /** Trials stopped early (ASHA), and the last epoch one of them reached. */
  stopped: number; stoppedAt: number | null;
  desc: string;
}

/**
 * One cell per (panel, x, y): the mean of the metric over the finished (`done`) trials there, and how many
 * diverged, failed or were stopped early (their metrics are of an earlier epoch: not in the mean).
 */
export function heatmapCells(sweep: SweepData, metric: SweepMetric, axes: HeatmapAxes): HeatCell[] {
  type Acc = { panel: string; xv: number; yv: number; vals: number[]; n: number; diverged: number; failed: number; stopped: number; stoppedAt: number | null };
  const cells = new Map<string, Acc>();
  const panelOf = (p: Record<string, unknown>) => axes.panel.map((k) => `${k}=${p[k]}`).join(', ') || 'all';
  for (const t of sweep.results.trials) {
    const xv = Number(t.params[axes.x]), yv = Number(t.params[axes.y]);
    const panel = panelOf(t.params);
    const key = `${panel}|${xv}|${yv}`;
    const c = cells.get(key) ?? { panel, xv, yv, vals: [], n: 0, diverged: 0, failed: 0, stopped: 0, stoppedAt: null };
    c.n++;
    const v = t[metric];
    if (t.status === 'diverged') c.diverged++;
    else if (t.status === 'failed') c.failed++;
    else if (t.status === 'stopped') {
      c.stopped++;
      if (typeof t.epochs === 'number') c.stoppedAt = Math.max(c.stoppedAt ?? 0, t.epochs);
    } else if (t.status === 'done' && typeof v === 'number' && Number.isFinite(v)) c.vals.push(v);
    cells.set(key, c);
  }
  const pct = metric !== 'finalTrainLoss';
  return [...cells.values()].map((c) => {
    const value = c.vals.length ? c.vals.reduce((a, b) => a + b, 0) / c.vals.length : null;
    const shown = value === null ? '-' : pct ? `${(100 * value).toFixed(2)}%` : fmt(value);
    const stopped = c.stopped ? `, ${c.stopped} stopped early${c.stoppedAt !== null ? ` (by epoch ${c.stoppedAt})` : ''}` : '';
    return {
      panel: c.panel, xv: c.xv, yv: c.yv, value, n: c.n, diverged: c.diverged, failed: c.failed, stopped: c.stopped, stoppedAt: c.stoppedAt,
      desc: `${c.panel}; ${axes.x}=${c.xv}, ${axes.y}=${c.yv}: ${metric} ${shown} (${c.vals.length}/${c.n} finished${c.diverged ? `, ${c.diverged} diverged` : ''}${c.failed ? `, ${c.failed} failed` : ''}${stopped})`,
    };
  });
}

/** A cell's label: the value, with '✕n' for n diverged and 'sn' for n stopped early; without one, '✕' or 'stop@E'. */
function cellLabel(c: HeatCell, loss: boolean): string {
  if (c.value === null) return c.stopped ? `stop@${c.stoppedAt ?? '?'}` : c.diverged ? '✕' : '';
  return `${loss ? fmt(c.value, 3) : (100 * c.value).toFixed(1)}${c.diverged ? ` ✕${c.diverged}` : ''}${c.stopped ? ` s${c.stopped}` : ''}`;
}

/**
 * Sweep heat map: x and y the two swept numeric flags, colour the metric (mean over seeds), one panel per value of
 * the remaining swept flags; cells where no trial finished are grey, with a cross when a trial diverged and
 * 'stop@E' when the early stopping stopped them (by epoch E).
 */
export function heatmapSpec(sweep: SweepData, opts: { metric?: SweepMetric; x?: string; y?: string } = {}): TopLevelSpec {
  const metric = opts.metric ?? 'finalTestAcc';
  const axes = heatmapAxes(sweep, opts.x, opts.y);
  const raw = heatmapCells(sweep, metric, axes);
  const loss = metric === 'finalTrainLoss';
  const positive = raw.every((c) => c.value === null || c.value > 0);
  // where the cell is bright (the top of viridis), its label is black
  const t = (v: number) => (loss && positive ? Math.log(v) : v);
  const vals = raw.flatMap((c) => (c.value === null ? [] : [t(c.value)]));
  const [vmin, vmax] = [Math.min(...vals), Math.max(...vals)];
  const bright = (v: number) => { const u = vmax > vmin ? (t(v) - vmin) / (vmax - vmin) : 0.5; return (loss ? 1 - u : u) > 0.6; };
  const cells = raw.map((c) => ({
    ...c,
    // a cross: every trial there diverged; '✕n' after a value: n of its trials diverged (the value is the others');
    // 'stop@E': the early stopping stopped them by epoch E ('sn' after a value: n of them)
    label: cellLabel(c, loss),
    marked: c.value === null,
    ink: c.value === null ? '#b00' : bright(c.value) ? 'black' : 'white',
  }));
  const xs = [...new Set(cells.map((c) => c.xv))].sort((a, b) => a - b);
  const ys = [...new Set(cells.map((c) => c.yv))].sort((a, b) => b - a);
  const x = { field: 'xv', type: 'ordinal' as const, title: axes.x, scale: { domain: xs }, axis: { labelAngle: 0 } };
  const y = { field: 'yv', type: 'ordinal' as const, title: axes.y, scale: { domain: ys } };
  const title = { finalTrainLoss: 'final train loss', finalTestAcc: 'final test accuracy', bestTestAcc: 'best test accuracy' }[metric];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${sweep.name}: ${title}`,
    config: { ...CONFIG, view: { stroke: null } },
    data: { values: cells },
    // panels wrap after three, so that five schemes (the paper's Figure 7) stay readable on a page
    // in the sweep file's order (cells follow the trials, which follow the grid), not alphabetical
    facet: { field: 'panel', type: 'nominal', title: null, header: { labelFontSize: 12 }, sort: [...new Set(cells.map((c) => c.panel))] },
    columns: 3,
    spec: {
      width: Math.max(160, xs.length * 48), height: Math.max(120, ys.length * 32),
      layer: [
        {
          name: 'cells',
          transform: [{ filter: '!datum.marked' }],
          mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
          encoding: {
            x, y,
            color: { field: 'value', type: 'quantitative', title: loss ? 'train loss' : 'accuracy', legend: loss ? { format: '.2~g' } : { format: '.0%' }, scale: { scheme: 'viridis', reverse: loss, type: loss && positive ? 'log' : 'linear' } },
            description: { field: 'desc' },
          },
        },
        {
          // no finished trial here: grey (with a cross or stop@E in the label layer)
          name: 'cells_missing',
          transform: [{ filter: 'datum.marked' }],
          mark: { type: 'rect', stroke: 'white', strokeWidth: 1, color: '#bbb' },
          encoding: { x, y, description: { field: 'desc' } },
        },
        {
          name: 'labels',
          mark: { type: 'text', fontSize: 10 },
          encoding: {
            x, y, text: { field: 'label' }, description: { field: 'desc' },
            color: { condition: [{ test: "datum.ink === 'black'", value: 'black' }, { test: 'datum.marked', value: '#b00' }], value: 'white' },
          },
        },
      ],
    },
    resolve: { scale: { color: 'shared' } },
  } as TopLevelSpec;
}

/** The one numeric swept flag of a sweep (besides seed), or null when it has none or several (then: a heat map). */
export function curveAxis(sweep: SweepData): string | null {
  const grid = sweep.results.grid;
  const nums = Object.keys(grid).filter((k) => numeric(grid[k]) && !REPLICATES.has(k));
  return nums.length === 1 ? nums[0]! : null;
}

export interface CurvePoint { series: string; xv: number; mean: number | null; lo: number | null; hi: number | null; n: number; done: number; diverged: number; desc: string }

/** One point per (series, x): mean and sample std of the metric over the finished trials (the seeds). */
export function curvePoints(sweep: SweepData, metric: SweepMetric, axis: string): CurvePoint[] {
  const grid = sweep.results.grid;
  const others = Object.keys(grid).filter((k) => k !== axis && !REPLICATES.has(k) && grid[k].length > 1);
  const groups = new Map<string, { series: string; xv: number; vals: number[]; n: number; diverged: number }>();
  for (const t of sweep.results.trials) {
    const series = others.map((k) => `${k}=${t.params[k]}`).join(', ') || 'all';
    const xv = Number(t.params[axis]);
    const key = `${series}|${xv}`;
    const g = groups.get(key) ?? { series, xv, vals: [], n: 0, diverged: 0 };
    g.n++;
    const v = t[metric];
    if (t.status === 'diverged') g.diverged++;
    else if (t.status === 'done' && typeof v === 'number' && Number.isFinite(v)) g.vals.push(v);
    groups.set(key, g);
  }
  const pct = metric !== 'finalTrainLoss';
  const show = (v: number) => (pct ? `${(100 * v).toFixed(2)}%` : fmt(v));
  return [...groups.values()].map((g) => {
    const k = g.vals.length;
    const mean = k ? g.vals.reduce((a, b) => a + b, 0) / k : null;
    const std = k > 1 ? Math.sqrt(g.vals.reduce((a, b) => a + (b - mean!) ** 2, 0) / (k - 1)) : 0;
    return {
      series: g.series, xv: g.xv, mean, lo: mean === null ? null : mean - std, hi: mean === null ? null : mean + std, n: g.n, done: k, diverged: g.diverged,
      desc: `${g.series}; ${axis}=${g.xv}: ${metric} ${mean === null ? '-' : `${show(mean)} ± ${show(std)}`} (${k}/${g.n} finished${g.diverged ? `, ${g.diverged} diverged` : ''})`,
    };
  });
}

/**
 * A sweep over one numeric flag (a learning-rate grid): the metric against it (log scale when it spans a factor
 * of 10 or more), one line per combination of the other swept flags, mean ± std over the seeds as error bars;
 * points where every trial diverged sit on the x axis as red crosses.
 */
export function curveSpec(sweep: SweepData, opts: { metric?: SweepMetric } = {}): TopLevelSpec {
  const metric = opts.metric ?? 'finalTestAcc';
  const axis = curveAxis(sweep);
  if (!axis) throw new Error(`${sweep.dir}/results.json: a curve needs exactly one numeric grid flag besides seed`);
  const points = curvePoints(sweep, metric, axis);
  const xs = points.map((p) => p.xv);
  const logX = xs.every((v) => v > 0) && Math.max(...xs) >= 10 * Math.min(...xs);
  const loss = metric === 'finalTrainLoss';
  const title = { finalTrainLoss: 'final train loss', finalTestAcc: 'final test accuracy', bestTestAcc: 'best test accuracy' }[metric];
  // a margin around the values, so that points (and error bars) at the ends of the grid are not cut in half
  const [xmin, xmax] = [Math.min(...xs), Math.max(...xs)];
  const domain = logX ? [xmin / 1.4, xmax * 1.4] : [xmin - 0.05 * (xmax - xmin || 1), xmax + 0.05 * (xmax - xmin || 1)];
  const x = { field: 'xv', type: 'quantitative' as const, title: axis, scale: { type: logX ? ('log' as const) : ('linear' as const), domain, nice: false } };
  const color = { field: 'series', type: 'nominal' as const, title: null, sort: [...new Set(points.map((p) => p.series))] };
  const yTitle = loss ? 'train loss' : 'accuracy';
  const yAxis = loss ? {} : { axis: { format: '.1~%' } }; // '~' trims zeros: 86%, 86.5% (a narrow range needs the decimal)
  const finite = points.filter((p) => p.mean !== null);
  const lowest = finite.length ? Math.min(...finite.map((p) => p.lo!)) : 0;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${sweep.name}: ${title} (mean ± std over seeds)`,
    config: CONFIG,
    width: 520, height: 300,
    data: { values: points.map((p) => ({ ...p, floor: lowest })) },
    layer: [
      { name: 'lines', transform: [{ filter: 'datum.mean !== null' }], mark: { type: 'line' }, encoding: { x, y: { field: 'mean', type: 'quantitative', title: yTitle, scale: loss ? { type: 'log' } : { zero: false }, ...yAxis }, color } },
      { name: 'errorbars', transform: [{ filter: 'datum.mean !== null' }], mark: { type: 'rule' }, encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color, description: { field: 'desc' } } },
      { name: 'points', transform: [{ filter: 'datum.mean !== null' }], mark: { type: 'point', filled: true, size: 40 }, encoding: { x, y: { field: 'mean', type: 'quantitative' }, color, description: { field: 'desc' } } },
      { name: 'diverged', transform: [{ filter: 'datum.mean === null' }], mark: { type: 'text', text: '✕', fontSize: 14, color: '#b00' }, encoding: { x, y: { field: 'floor', type: 'quantitative' }, description: { field: 'desc' } } },
    ],
  } as TopLevelSpec;
}
