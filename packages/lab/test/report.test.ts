// The report's pieces (blocks, downsampling, metrics parsing, config diff, heat-map cells), the rendered charts
// (marks counted in the SVG) and the CLI as a user runs it: lwlr report, --png, lwlr lr --plot, one-line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { blockOf, blockSpans } from '../src/report/blocks.js';
import { lttbIndices, downsample } from '../src/report/downsample.js';
import { loadInput, parseMetrics, type SweepData } from '../src/report/load.js';
import { configDiff } from '../src/report/summary.js';
import { curveAxis, curvePoints, curveSpec, etaMapSpec, heatmapAxes, heatmapCells, heatmapSpec, lossByStepSpec } from '../src/report/specs.js';
import { renderSVG, svgSize } from '../src/report/render.js';
import { fakeSweep, fakeTable, writeRun, writeSweep, bigRuns } from './report-fixtures.js';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'lwlr.js');
function lwlr(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const tmp = () => mkdtempSync(path.join(tmpdir(), 'lwlr-report-'));

/** Items of the Vega mark named `name` in an SVG: the children of `<g class="mark-<type> role-mark <name>_marks">`. */
export function markItems(svg: string, name: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`<g class="mark-\\w+ role-mark ${name}_marks"[^>]*>`, 'g');
  for (let m; (m = re.exec(svg));) {
    // the group's direct children up to its closing tag (mark items are leaf elements)
    const rest = svg.slice(m.index + m[0].length);
    const body = rest.slice(0, rest.indexOf('</g>'));
    out.push(...(body.match(/<(path|line|text)\b[^>]*>/g) ?? []));
  }
  return out;
}

test('blockOf: numbered blocks from dotted names (ResNet, ViT, Swin, ConvNeXt), none for stem/head', () => {
  const cases: Array<[string, string]> = [
    ['layer2.0.conv1.kernel', 'layer2.0'], ['layer2.0.downsample.0.kernel', 'layer2.0'], ['layer2.0.bn1.gamma', 'layer2.0'],
    ['blocks.3.attn.q.kernel', 'blocks.3'], ['layers.0.blocks.1.mlp.fc1.bias', 'layers.0.blocks.1'], ['layers.1.downsample.norm.gamma', 'layers.1'],
    ['stages.0.blocks.2.gamma', 'stages.0.blocks.2'], ['stages.1.downsample.1.kernel', 'stages.1'],
    ['conv1.kernel', ''], ['stem.0.kernel', ''], ['cls_token', ''], ['head.bias', ''], ['fc1.kernel', ''],
  ];
  for (const [name, block] of cases) assert.equal(blockOf(name), block, name);
  assert.deepEqual(blockSpans(['conv1.kernel', 'layer1.0.conv1.kernel', 'layer1.0.bn1.gamma', 'layer1.1.conv1.kernel', 'fc.kernel']), [
    { block: 'layer1.0', start: 1, end: 2, index: 0 }, { block: 'layer1.1', start: 3, end: 3, index: 1 },
  ]);
});

test('LTTB: known answer, keeps ends and spikes, bounded size; short series untouched', () => {
  // 5 points to 3: the middle bucket is points 1..3, the next "bucket" is point 4 = (4, 0); triangle areas with
  // (0, 0) are 4 * y, so point 1 (y = 5) wins.
  assert.deepEqual(lttbIndices([0, 1, 2, 3, 4], [0, 5, 0, 0, 0], 3), [0, 1, 4]);
  assert.deepEqual(lttbIndices([0, 1, 2], [1, 2, 3], 10), [0, 1, 2]);
  const n = 100_000;
  const xs = Float64Array.from({ length: n }, (_, i) => i);
  const ys = Float64Array.from({ length: n }, (_, i) => Math.exp(-i / 20000) + (i === 54321 ? 50 : 0) + (i === 777 ? NaN : 0));
  const idx = lttbIndices(xs, ys, 2000);
  assert.equal(idx.length, 2000);
  assert.equal(idx[0], 0);
  assert.equal(idx.at(-1), n - 1);
  assert.ok(idx.includes(54321), 'the spike survives');
  assert.ok(!idx.includes(777), 'NaN is never chosen while a finite point is available');
  assert.ok(idx.every((v, i) => i === 0 || v > idx[i - 1]), 'increasing');
  const pts = downsample(Array.from({ length: 10 }, (_, i) => ({ s: i, l: i % 3 })), 4, (p) => p.s, (p) => p.l);
  assert.equal(pts.length, 4);
});

test('parseMetrics: train/eval records, unknown types and extra fields ignored, partial last line skipped, bad lines name the line', () => {
  const text = [
    '{"type":"train","epoch":1,"step":1,"loss":2.5,"lr":0.1,"imagesPerSec":10,"time":0.1}',
    '{"type":"lr","epoch":1,"step":1,"whatever":3}',
    '{"type":"eval","epoch":1,"step":1,"trainLoss":2,"testLoss":2.1,"testAcc":0.5,"valAcc":0.4,"valLoss":2.2,"extra":1,"time":0.2}',
    '{"type":"train","epoch":2,"step":2,"loss":null,"lr":0.1,"imagesPerSec":10,"time":0.3}',
    '{"type":"train","epo',
  ].join('\n');
  const m = parseMetrics(text, 'x/metrics.jsonl');
  assert.equal(m.train.length, 2);
  assert.ok(Number.isNaN(m.train[1].loss));
  assert.deepEqual(m.evals[0], { epoch: 1, step: 1, trainLoss: 2, testLoss: 2.1, testAcc: 0.5, time: 0.2, valLoss: 2.2, valAcc: 0.4 });
  assert.throws(() => parseMetrics('{"type":"train","epoch":1,"step":1}\nnot json\n{"type":"train","epoch":1,"step":2}\n', 'x/metrics.jsonl'), /^Error: x\/metrics\.jsonl:2: not a JSON object$/);
  assert.throws(() => parseMetrics('{"type":"train"}\n', 'f'), /f:1: expected a record with numeric epoch and step/);
});

test('configDiff: only keys that differ (missing counts), argv/out/command left out', () => {
  const d = configDiff([
    { command: 'train', argv: ['a'], out: 'a', lr: 0.1, model: 'mlp', lrScheme: 'layerwise' },
    { command: 'train', argv: ['b'], out: 'b', lr: 0.2, model: 'mlp', lrScheme: 'uniform', wd: 0 },
    null,
  ]);
  assert.deepEqual(d, [
    { key: 'lr', values: ['0.1', '0.2', '(unset)'] }, { key: 'model', values: ['mlp', 'mlp', '(unset)'] },
    { key: 'lrScheme', values: ['layerwise', 'uniform', '(unset)'] }, { key: 'wd', values: ['(unset)', '0', '(unset)'] },
  ]);
  assert.deepEqual(configDiff([{ a: 1, b: [1, 2] }, { a: 1, b: [1, 2] }]), []);
});

test('eta map: one bar per tensor (and per kernel in the kernels view), kinds coloured, blocks shaded, hover text', async () => {
  const table = fakeTable(3); // 3 + 3 * 6 + 2 = 23 tensors, 3 blocks, 8 kernels
  const svg = await renderSVG(etaMapSpec(table, { view: 'all' }));
  const bars = markItems(svg, 'eta_bars_all');
  assert.equal(bars.length, 23);
  assert.match(bars[3], /aria-label="layer1\.0\.conv1\.kernel \[3,3,8,8\] numel 576 kernel; G 0\.25; eta 0\.0.*"/);
  assert.equal(new Set(bars.map((b) => /fill="([^"]+)"/.exec(b)![1])).size, 4, 'kernel, scale, shift, bias colours');
  assert.equal(markItems(svg, 'blocks_all').length, 2, 'blocks 0 and 2 shaded');
  assert.equal(markItems(svg, 'block_labels_all').length, 3);
  assert.match(svg, /<text[^>]*>layer1\.1<\/text>/);
  const kernels = await renderSVG(etaMapSpec(table, { view: 'kernels' }));
  assert.equal(markItems(kernels, 'eta_bars_kernels').length, 8);
  // bar heights follow log10(eta): etas 1e-2..1e1 on a 1e-3..1e1 axis (the floor below the smallest eta)
  // of height 240: eta 10 is full height, 10^-0.5 is 2.5/4 of it, 0.01 is 1/4
  const h = (b: string) => Number(/d="M[\d.-]+,[\d.-]+h[\d.]+v([\d.]+)/.exec(b)![1]);
  assert.ok(Math.abs(h(bars[22]) - 240) < 0.5, `last bar ${h(bars[22])}`);
  assert.ok(Math.abs(h(bars[11]) - 150) < 0.5, `middle bar (eta 10^-0.5): ${h(bars[11])}`);
  assert.ok(Math.abs(h(bars[0]) - 60) < 0.5, `first bar (eta 0.01): ${h(bars[0])}`);
});

test('curves: one line per run, downsampled to --max-points', async () => {
  const runs = bigRuns(3, 50_000, 10);
  const spec = lossByStepSpec(runs, { maxPoints: 500, log: true });
  const rows = (spec as unknown as { data: { values: unknown[] } }).data.values;
  assert.equal(rows.length, 3 * 500);
  const svg = await renderSVG(spec);
  assert.equal(markItems(svg, 'curves').length, 3);
});

test('sweep heat map: axes by most values, seed averaged, panels per optimizer, diverged cells crossed', async () => {
  const sweep: SweepData = { kind: 'sweep', dir: 'sw', name: 'sw', results: fakeSweep() };
  assert.deepEqual(heatmapAxes(sweep), { x: 'lr', y: 'wd', panel: ['optimizer'] });
  assert.deepEqual(heatmapAxes(sweep, 'wd', 'lr'), { x: 'wd', y: 'lr', panel: ['optimizer'] });
  assert.throws(() => heatmapAxes(sweep, 'momentum'), /^Error: --x momentum: not a grid flag of sw\/results\.json \(grid: lr, wd, optimizer, seed, epochs\)$/);
  const cells = heatmapCells(sweep, 'finalTestAcc', heatmapAxes(sweep));
  assert.equal(cells.length, 2 * 4 * 3);
  const c = cells.find((x) => x.panel === 'optimizer=adamw' && x.xv === 0.03 && x.yv === 0.0001)!;
  assert.ok(Math.abs(c.value! - (0.5 + 0.03 - 0.001 + 0.05 + 0.005)) < 1e-12, 'mean over the two seeds');
  const half = cells.find((x) => x.panel === 'optimizer=sgd' && x.xv === 0.3 && x.yv === 0.001)!;
  assert.deepEqual([half.diverged, half.value], [1, 0.5 + 0.3 - 0.01]);
  assert.ok(cells.filter((x) => x.xv === 1).every((x) => x.value === null && x.diverged === 2));
  const svg = await renderSVG(heatmapSpec(sweep, { metric: 'finalTrainLoss' }));
  assert.equal(markItems(svg, 'cells').length, 18);
  const grey = markItems(svg, 'cells_missing');
  assert.equal(grey.length, 6, 'lr = 1: 3 wd x 2 panels grey');
  assert.ok(grey.every((r) => /fill="#bbb"/.test(r) && /aria-label="optimizer=\w+; lr=1, wd=[\d.e-]+: finalTrainLoss - \(0\/2 finished, 2 diverged\)"/.test(r)), grey[0]);
  assert.equal((svg.match(/>✕</g) ?? []).length, 6);
  assert.match(svg, />optimizer=adamw</);
});

test('lwlr report: HTML with summary, config diff, curves, eta maps and heat maps; --png writes valid PNGs', () => {
  const dir = tmp();
  const a = writeRun(path.join(dir, 'a'), { scheme: 'layerwise', lr: 0.1, val: true });
  const b = writeRun(path.join(dir, 'b'), { scheme: 'uniform', lr: 0.2 });
  const s = writeSweep(path.join(dir, 'sweep'));
  const out = path.join(dir, 'out', 'report.html');
  const r = lwlr('report', a, b, s, '--out', out, '--png', path.join(dir, 'png'));
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^wrote .*report\.html \(11 charts, \d+ KiB\); PNG and SVG in /);
  const html = readFileSync(out, 'utf8');
  assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!www\.w3\.org)/, 'self-contained: no external scripts, styles or URLs');
  assert.match(html, /<td>a<\/td><td>resnet18-cifar<\/td><td>layerwise<\/td><td>fan-out; G l1, p=0\.5, T=[0-9]+<\/td><td>sgd lr 0\.1<\/td><td>3\/3<\/td>/);
  assert.match(html, /<tr><td>lr<\/td><td>0\.1<\/td><td>0\.2<\/td><\/tr>/);
  assert.match(html, /<tr><td>lrScheme<\/td><td>layerwise<\/td><td>uniform<\/td><\/tr>/);
  assert.doesNotMatch(html, /<td>model<\/td>/, 'equal keys are not in the diff');
  assert.match(html, /final val acc/);
  for (const id of ['loss-step-lin', 'loss-step-log', 'loss-epoch-lin', 'loss-epoch-log', 'accuracy-epoch', 'eta-all-a', 'eta-kernels-a', 'eta-all-b', 'eta-kernels-b', 'sweep-sweep-finalTestAcc', 'sweep-sweep-finalTrainLoss']) {
    assert.match(html, new RegExp(`data-chart="${id}"`), id);
  }
  const files = readdirSync(path.join(dir, 'png')).sort();
  assert.equal(files.length, 22);
  for (const f of files.filter((x) => x.endsWith('.png'))) {
    const png = readFileSync(path.join(dir, 'png', f));
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${f}: PNG signature`);
    assert.equal(png.toString('latin1', 12, 16), 'IHDR');
    const { width, height } = svgSize(readFileSync(path.join(dir, 'png', f.replace(/png$/, 'svg')), 'utf8'));
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [Math.round(2 * width), Math.round(2 * height)], `${f}: twice the SVG's size`);
  }
});

test('lwlr report: one-line errors for missing, non-run and invalid inputs', () => {
  const dir = tmp();
  const good = writeRun(path.join(dir, 'good'));
  const badMetrics = writeRun(path.join(dir, 'bad-metrics'));
  appendFileSync(path.join(badMetrics, 'metrics.jsonl'), 'garbage\n{"type":"train","epoch":1,"step":1}\n');
  const badTable = writeRun(path.join(dir, 'bad-table'));
  writeFileSync(path.join(badTable, 'lr-table.json'), '{"schema":"layerwise-lr/lr-table@1","meta":{},"entries":[]}');
  const badSweep = writeSweep(path.join(dir, 'bad-sweep'), { format: 'something-else' });
  const notJSON = writeRun(path.join(dir, 'not-json'));
  writeFileSync(path.join(notJSON, 'config.json'), '{');
  const cases: Array<[string[], RegExp]> = [
    [[path.join(dir, 'missing')], /^lwlr: error: .*missing: no such directory$/],
    [[dir], /: not a run directory \(no metrics\.jsonl or lr-table\.json\) nor a sweep directory \(no results\.json\)$/],
    [[path.join(good, 'config.json')], /config\.json: not a directory \(expected a run or sweep directory\)$/],
    [[badMetrics], /bad-metrics\/metrics\.jsonl:34: not a JSON object$/],
    [[badTable], /bad-table\/lr-table\.json: LR table: meta\.scheme must be one of/],
    [[badSweep], /bad-sweep\/results\.json: expected "format": "lwlr-sweep@1"$/],
    [[notJSON], /not-json\/config\.json: not valid JSON/],
    [[], /^lwlr: error: give at least one RUN_DIR or SWEEP_DIR/],
    [[good, '--max-points', '2'], /--max-points must be >= 3/],
    [[writeSweep(path.join(dir, 'sw')), '--x', 'nope'], /^lwlr: error: --x nope: not a grid flag of/],
  ];
  for (const [args, re] of cases) {
    const r = lwlr('report', ...args, '--out', path.join(dir, 'r.html'));
    assert.notEqual(r.code, 0, args.join(' '));
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.match(r.err.trim(), re);
  }
});

test('lwlr report on real lwlr train output; lwlr lr --plot writes the eta map (PNG and SVG)', () => {
  const dir = tmp();
  const small = ['--data', 'synthetic', '--limit', '128', '--width', '16', '--batch-size', '64', '--backend', 'cpu'];
  for (const scheme of ['layerwise', 'uniform']) {
    const t = lwlr('train', ...small, '--epochs', '2', '--log-every', '1', '--lr-scheme', scheme, '--quiet', '--out', path.join(dir, scheme));
    assert.equal(t.code, 0, t.err);
  }
  const r = lwlr('report', path.join(dir, 'layerwise'), path.join(dir, 'uniform'), '--out', path.join(dir, 'r.html'));
  assert.equal(r.code, 0, r.err);
  const html = readFileSync(path.join(dir, 'r.html'), 'utf8');
  assert.match(html, /<td>layerwise<\/td><td>mlp<\/td><td>layerwise<\/td>/);
  const fig = html.slice(html.indexOf('data-chart="eta-all-layerwise"'));
  assert.equal(markItems(fig.slice(0, fig.indexOf('</figure>')), 'eta_bars_all').length, 4);

  const png = path.join(dir, 'eta.png');
  const l = lwlr('lr', ...small, '--steps', '2', '--quiet', '--plot', png);
  assert.equal(l.code, 0, l.err);
  const buf = readFileSync(png);
  assert.equal(buf.toString('latin1', 1, 4), 'PNG');
  assert.ok(buf.readUInt32BE(16) > 700 && buf.readUInt32BE(20) > 900, `${buf.readUInt32BE(16)}x${buf.readUInt32BE(20)}`);
  const svgFile = path.join(dir, 'eta.svg');
  assert.equal(lwlr('lr', ...small, '--steps', '2', '--quiet', '--plot', svgFile).code, 0);
  const svg = readFileSync(svgFile, 'utf8');
  assert.equal(markItems(svg, 'eta_bars_all').length, 4);
  assert.equal(markItems(svg, 'eta_bars_kernels').length, 2);
  const bad = lwlr('lr', ...small, '--plot', path.join(dir, 'eta.jpg'));
  assert.equal(bad.code, 2);
  assert.match(bad.err, /^lwlr: error: --plot .*eta\.jpg: expected a file name ending in \.png or \.svg\n$/);
  void loadInput;
});

test('sweep over one numeric flag (lr x scheme x seed): a curve per scheme, mean ± std over the seeds, diverged points marked', async () => {
  const trials = [];
  for (const scheme of ['uniform', 'layerwise']) {
    for (const lr of [0.01, 0.1, 1]) {
      for (const seed of [0, 1]) {
        const diverged = lr === 1 && scheme === 'uniform';
        trials.push({
          id: `${scheme}-${lr}-${seed}`, params: { scheme, lr, seed }, status: diverged ? 'diverged' : 'done',
          finalTestAcc: diverged ? null : 0.5 + lr / 4 + (scheme === 'layerwise' ? 0.1 : 0) + seed * 0.02, finalTrainLoss: diverged ? null : 1 - lr / 2,
        });
      }
    }
  }
  const sweep: SweepData = { kind: 'sweep', dir: 'lr', name: 'lr', results: { format: 'lwlr-sweep@1', config: {}, grid: { scheme: ['uniform', 'layerwise'], lr: [0.01, 0.1, 1], seed: [0, 1] }, trials } as never };
  assert.equal(curveAxis(sweep), 'lr');
  assert.throws(() => heatmapAxes(sweep), /a heat map needs two numeric grid flags/);
  const pts = curvePoints(sweep, 'finalTestAcc', 'lr');
  assert.equal(pts.length, 6);
  const p = pts.find((q) => q.series === 'scheme=layerwise' && q.xv === 0.1)!;
  // seeds 0.625 and 0.645: mean 0.635, sample std 0.014142...
  assert.ok(Math.abs(p.mean! - 0.635) < 1e-12 && Math.abs(p.hi! - p.mean! - Math.SQRT2 * 0.01) < 1e-12, JSON.stringify(p));
  assert.match(p.desc, /scheme=layerwise; lr=0\.1: finalTestAcc 63\.50% ± 1\.41% \(2\/2 finished\)/);
  assert.deepEqual(pts.filter((q) => q.mean === null).map((q) => [q.series, q.xv, q.diverged]), [['scheme=uniform', 1, 2]]);
  const svg = await renderSVG(curveSpec(sweep, { metric: 'finalTestAcc' }));
  assert.equal(markItems(svg, 'points').length, 5);
  assert.equal(markItems(svg, 'errorbars').length, 5);
  assert.equal(markItems(svg, 'diverged').length, 1);
  assert.equal(curveAxis({ ...sweep, results: { ...sweep.results, grid: { ...sweep.results.grid, wd: [0, 1] } } }), null, 'two numeric flags: a heat map');
});

