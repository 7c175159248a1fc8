// The report as a person sees it: opened in headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core). Every chart drew with the expected number of marks, no console errors, hover text and the
// log-loss toggle work; a report of 20 runs x 100k logged steps stays small and loads (its load time is printed;
// bench/report-load.mjs measures it, since timed assertions do not belong in tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildReport } from '../src/report/report.js';
import { bigRuns, writeRun, writeSweep } from './report-fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} not found (Debian: apt-get install chromium); browser checks skipped`;
const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'lwlr.js');

async function open(browser: Browser, file: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('request', (r) => { if (!r.url().startsWith('file:')) errors.push(`network request: ${r.url()}`); });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, errors };
}

const count = (page: Page, chart: string, mark: string, el = 'path') => page.locator(`figure[data-chart="${chart}"] g.${mark}_marks > ${el}`).count();

test('report in Chromium: every chart drew, marks as expected, hover text, log toggle, no console errors', { skip, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lwlr-report-browser-'));
  const a = writeRun(path.join(dir, 'a'), { scheme: 'layerwise', val: true });
  const b = writeRun(path.join(dir, 'b'), { scheme: 'uniform', lr: 0.2, blocks: 2 });
  const s = writeSweep(path.join(dir, 'sweep'));
  const out = path.join(dir, 'report.html');
  const r = spawnSync(process.execPath, [bin, 'report', a, b, s, '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const browser = await chromium.launch({ executablePath: CHROMIUM });
  try {
    const { page, errors } = await open(browser, out);
    // every figure holds one SVG with a real size
    const figs = await page.locator('figure.chart').evaluateAll((fs) => fs.map((f) => {
      const svg = f.querySelector('svg');
      return { id: f.getAttribute('data-chart'), w: svg?.width.baseVal.value ?? 0, h: svg?.height.baseVal.value ?? 0, marks: svg?.querySelectorAll('.role-mark > *').length ?? 0 };
    }));
    assert.equal(figs.length, 11);
    for (const f of figs) assert.ok(f.w > 100 && f.h > 100 && f.marks > 0, JSON.stringify(f));
    // bars = tensors (a: 3 blocks -> 23 tensors, 8 kernels; b: 2 blocks -> 17 tensors, 6 kernels)
    assert.equal(await count(page, 'eta-all-a', 'eta_bars_all'), 23);
    assert.equal(await count(page, 'eta-kernels-a', 'eta_bars_kernels'), 8);
    assert.equal(await count(page, 'eta-all-b', 'eta_bars_all'), 17);
    assert.equal(await count(page, 'eta-kernels-b', 'eta_bars_kernels'), 6);
    // curves: a line per run; by epoch a line per run and split (a: train/test/val, b: train/test)
    assert.equal(await count(page, 'loss-step-log', 'curves'), 2);
    assert.equal(await count(page, 'loss-epoch-log', 'curves'), 5);
    assert.equal(await count(page, 'accuracy-epoch', 'curves'), 3);
    assert.equal(await count(page, 'accuracy-epoch', 'curve_points', 'path'), 9 /* 3 epochs x 3 lines */);
    // heat maps: 2 panels x 4 lr x 3 wd, the 6 cells at lr = 1 grey
    assert.equal(await count(page, 'sweep-sweep-finalTestAcc', 'cells') + await count(page, 'sweep-sweep-finalTestAcc', 'cells_missing'), 24);
    assert.equal(await count(page, 'sweep-sweep-finalTestAcc', 'cells_missing'), 6);

    // the visible curves are the log-scale ones; the toggle swaps them
    assert.ok(await page.locator('figure[data-chart="loss-step-log"]').isVisible());
    assert.ok(!(await page.locator('figure[data-chart="loss-step-lin"]').isVisible()));
    await page.locator('#logloss').uncheck();
    assert.ok(await page.locator('figure[data-chart="loss-step-lin"]').isVisible());
    assert.ok(!(await page.locator('figure[data-chart="loss-epoch-log"]').isVisible()));

    // hover a bar: its name, shape, numel, G and eta
    await page.locator('figure[data-chart="eta-all-a"] g.eta_bars_all_marks > path').nth(3).hover();
    const tip = page.locator('#tip');
    assert.ok(await tip.isVisible());
    assert.match(await tip.innerText(), /^layer1\.0\.conv1\.kernel \[3,3,8,8\] numel 576 kernel; G 0\.25; eta 0\.0\d+$/);
    await page.locator('figure[data-chart="sweep-sweep-finalTestAcc"] g.cells_missing_marks > path').first().hover();
    assert.match(await tip.innerText(), /lr=1, wd=.*\(0\/2 finished, 2 diverged\)/);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('report of 20 runs x 100k logged steps: curves downsampled, page bounded, loads without errors (time: a diagnostic; bench/report-load.mjs measures it)', { skip, timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lwlr-report-big-'));
  const runs = bigRuns(20, 100_000);
  const t0 = performance.now();
  const { html, charts } = await buildReport(runs);
  const buildMs = performance.now() - t0;
  const out = path.join(dir, 'big.html');
  writeFileSync(out, html);
  const browser = await chromium.launch({ executablePath: CHROMIUM });
  try {
    const t1 = performance.now();
    const { page, errors } = await open(browser, out);
    // load finished: now wait for the frame after layout, and read the page's own clock (ms since navigation start)
    const painted = await page.evaluate(() => new Promise<number>((res) => requestAnimationFrame(() => requestAnimationFrame(() => res(performance.now())))));
    const wallMs = performance.now() - t1;
    const nav = await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).loadEventEnd);
    const lines = await count(page, 'loss-step-log', 'curves');
    const points = await page.locator('figure[data-chart="loss-step-log"] g.curves_marks > path').evaluateAll((ps) => ps.map((p) => (p.getAttribute('d') ?? '').split(/[ML]/).length - 1));
    const msg = `20 runs x 100k steps: report ${(statSync(out).size / 2 ** 20).toFixed(1)} MiB, ${charts.length} charts, built in ${buildMs.toFixed(0)} ms; ` +
      `Chromium: load event ${nav.toFixed(0)} ms, painted ${painted.toFixed(0)} ms after navigation start (${wallMs.toFixed(0)} ms wall incl. the test's round trips)`;
    t.diagnostic(msg);
    console.log(msg);
    assert.equal(lines, 20);
    assert.ok(points.every((n) => n > 1000 && n <= 2000), `points per curve ${points}`);
    // the size of what the browser parses bounds its load time; the time itself is measured by bench/report-load.mjs
    assert.ok(statSync(out).size < 8 * 2 ** 20, msg);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('report cosmetics in Chromium (issue 13): one eta scale for all runs, legends with the kinds present, named x axes, overlapping curves visible, full page width; a screenshot', { skip, timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lwlr-report-look-'));
  const a = writeRun(path.join(dir, 'a'), { blocks: 3 }); // etas 0.01 .. 10
  const b = writeRun(path.join(dir, 'b'), { blocks: 2, etaScale: 10, lr: 0.2 }); // etas 0.1 .. 100
  const twin = writeRun(path.join(dir, 'a-again'), { blocks: 3 }); // a's curves exactly: they overlap
  const deep = writeRun(path.join(dir, 'deep'), { blocks: 20, lr: 0.05 }); // 125 tensors: blocks label the x axis
  const out = path.join(dir, 'report.html');
  const r = spawnSync(process.execPath, [bin, 'report', a, b, twin, deep, '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'no warnings from the chart compiler');
  const browser = await chromium.launch({ executablePath: CHROMIUM });
  try {
    const { page, errors } = await open(browser, out);
    const figs = await page.evaluate(() => [...document.querySelectorAll('figure.chart:not([hidden])')].map((f) => ({
      id: (f as HTMLElement).dataset.chart!,
      width: f.querySelector('svg')!.getBoundingClientRect().width,
      page: (document.querySelector('h1') as HTMLElement).getBoundingClientRect().width,
      axes: [...f.querySelectorAll('[aria-roledescription="axis"]')].map((g) => g.getAttribute('aria-label') ?? ''),
      legends: [...f.querySelectorAll('[aria-roledescription="legend"]')].map((g) => g.getAttribute('aria-label') ?? ''),
      xLabels: [...(f.querySelector('[aria-roledescription="axis"]')?.querySelectorAll('.role-axis-label text') ?? [])].map((x) => x.textContent ?? ''),
      strokes: [...f.querySelectorAll('g.curves_marks > path')].map((p) => p.getAttribute('stroke-width')),
    })));
    const fig = (id: string) => figs.find((f) => f.id === id)!;
    const eta = figs.filter((f) => f.id.startsWith('eta-'));
    assert.equal(eta.length, 8);
    // one y scale for every eta map (b's etas reach 100, a's go down to 0.01)
    for (const f of eta) assert.match(f.axes[1]!, /^Y-axis titled 'eta \(log scale\)' for a log scale with values from 0\.001 to 100$/, f.id);
    // the legend lists the kinds the table has, in the library's order (no 'embedding' in these ResNet-like tables)
    assert.match(fig('eta-all-a').legends[0]!, /with 4 values: kernel, bias, scale, shift$/);
    assert.match(fig('eta-kernels-a').legends[0]!, /with 1 value: kernel$/);
    // x axes: tensor names (up to 40 tensors), or block names and the tensors outside blocks
    assert.deepEqual(fig('eta-all-a').xLabels.slice(0, 4), ['conv1.kernel', 'bn1.gamma', 'bn1.beta', 'layer1.0.conv1.kernel']);
    assert.ok(fig('eta-all-deep').xLabels.includes('layer1.7') && fig('eta-all-deep').xLabels.includes('conv1.kernel'), fig('eta-all-deep').xLabels.join(' '));
    assert.ok(!fig('eta-all-deep').xLabels.some((l) => /^\d+$/.test(l)), 'no tensor numbers');
    assert.match(fig('eta-all-deep').axes[0]!, /blocks labelled/);
    // a run whose curve covers another's exactly: the lines differ in width, so both show
    const strokes = fig('loss-step-log').strokes;
    assert.equal(strokes.length, 4);
    assert.equal(new Set(strokes).size, 4, `stroke widths ${strokes}`);
    // every chart uses the page's width
    for (const f of figs) assert.ok(f.width >= 0.85 * f.page, `${f.id}: ${f.width.toFixed(0)} px of ${f.page.toFixed(0)}`);
    const shot = path.join(dir, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    t.diagnostic(`screenshot: ${shot}`);
    assert.ok(statSync(shot).size > 10_000);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
