// How long a large report takes to build and to load in a browser: 20 runs x 100k logged train steps each
// (generated, not trained), the "loads in a browser in under 2 s". Needs /usr/bin/chromium and a build
// (`make setup`).   node bench/report-load.mjs [--runs 20] [--steps 100000]
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { buildReport } from '../packages/lab/dist/src/report/report.js';
import { bigRuns } from '../packages/lab/dist/test/report-fixtures.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' }, steps: { type: 'string', default: '100000' } } });
const runs = bigRuns(Number(values.runs), Number(values.steps));
const t0 = performance.now();
const { html, charts } = await buildReport(runs);
const buildMs = performance.now() - t0;
const out = path.join(mkdtempSync(path.join(tmpdir(), 'lwlr-report-load-')), 'report.html');
writeFileSync(out, html);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
const rows = [];
try {
  for (let i = 0; i < 3; i++) {
    const page = await browser.newPage();
    await page.goto(`file://${out}`, { waitUntil: 'load' });
    // the page's own clock at the second frame after load: everything laid out and painted
    const painted = await page.evaluate(() => new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(() => res(performance.now())))));
    const load = await page.evaluate(() => performance.getEntriesByType('navigation')[0].loadEventEnd);
    rows.push({ load, painted });
    await page.close();
  }
} finally {
  await browser.close();
}
console.log(`${values.runs} runs x ${values.steps} steps: ${(statSync(out).size / 2 ** 20).toFixed(1)} MiB, ${charts.length} charts, built in ${(buildMs / 1000).toFixed(1)} s`);
for (const [i, r] of rows.entries()) console.log(`load ${i + 1}: load event ${r.load.toFixed(0)} ms, painted ${r.painted.toFixed(0)} ms after navigation start`);
