#!/usr/bin/env node
/**
 * Experiment 1 of docs/RESULTS.md: the eta patterns the paper describes (Sections 4.1-4.2, appendix), read off
 * measured eta tables of the full-size models, as a markdown table: each quantity per seed and, where the paper
 * gives a number, the paper's.
 *
 *   node scripts/eta-patterns.mjs DIR            (DIR holds <model>-seed<S>.json from sweeps/exp1-eta-patterns.sh)
 *
 * Quantities (tensor names as `lwlr info` prints them):
 * - ResNet-50: the stem conv and the BatchNorm scale after it; in how many bottlenecks conv1 gets a higher eta than
 *   conv2 and conv3; the rank correlation of the conv/linear kernels' eta with their depth.
 * - ViT-S/16: class token, patch conv, position embedding; per block the mean eta of q and k over that of v and
 *   proj ("the q/k spikes"); v/proj against the MLP's fc1/fc2.
 * - ConvNeXt-T: in how many blocks the depthwise conv gets a lower eta than both MLP linears.
 * - Swin-T: q/k over v/proj as for the ViT; the relative position bias tables' eta.
 */
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';

const dir = process.argv[2];
if (!dir) { console.error('usage: eta-patterns.mjs DIR'); process.exit(2); }

const eta = (table, name) => {
  const e = table.get(name);
  if (e === undefined) throw new Error(`no tensor '${name}' in the table`);
  return e;
};
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const ranks = (xs) => {
  const idx = xs.map((x, i) => [x, i]).sort((a, b) => a[0] - b[0]);
  const r = new Array(xs.length);
  idx.forEach(([, i], k) => { r[i] = k; });
  return r;
};
const spearman = (a, b) => {
  const ra = ranks(a), rb = ranks(b), ma = mean(ra), mb = mean(rb);
  let num = 0, da = 0, db = 0;
  for (let i = 0; i < a.length; i++) { num += (ra[i] - ma) * (rb[i] - mb); da += (ra[i] - ma) ** 2; db += (rb[i] - mb) ** 2; }
  return num / Math.sqrt(da * db);
};
/** Block prefixes ("layer1.0.", "blocks.3.", ...) in network order, from the names that end in `suffix`. */
const prefixes = (names, re) => [...new Set(names.map((n) => n.match(re)?.[1]).filter(Boolean))];

const fmt = (x) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 0.1 ? x.toFixed(2) : x.toFixed(3));
const frac = ([k, n]) => `${k}/${n}`;

const PATTERNS = {
  resnet50: (t, names) => {
    const blocks = prefixes(names, /^(layer\d\.\d+\.)conv1\.kernel$/);
    const c1High = blocks.filter((b) => eta(t, `${b}conv1.kernel`) > Math.max(eta(t, `${b}conv2.kernel`), eta(t, `${b}conv3.kernel`))).length;
    const kernels = names.filter((n) => n.endsWith('.kernel'));
    return [
      ['stem conv (conv1)', eta(t, 'conv1.kernel'), 0.038],
      ['BN scale after the stem (bn1.gamma)', eta(t, 'bn1.gamma'), 0.098],
      ['bottlenecks with conv1 above conv2 and conv3', [c1High, blocks.length], 'all (Fig. 4)'],
      ['rank correlation of kernel eta with depth', spearman(kernels.map((_, i) => i), kernels.map((n) => eta(t, n))), 'rising'],
    ];
  },
  'vit-s16': (t, names) => {
    const blocks = prefixes(names, /^(blocks\.\d+\.)attn\.q\.kernel$/);
    const qk = blocks.map((b) => mean([eta(t, `${b}attn.q.kernel`), eta(t, `${b}attn.k.kernel`)]) / mean([eta(t, `${b}attn.v.kernel`), eta(t, `${b}attn.proj.kernel`)]));
    const vpLow = blocks.filter((b) => Math.max(eta(t, `${b}attn.v.kernel`), eta(t, `${b}attn.proj.kernel`)) < Math.min(eta(t, `${b}mlp.fc1.kernel`), eta(t, `${b}mlp.fc2.kernel`))).length;
    return [
      ['class token', eta(t, 'cls_token'), 0.012],
      ['patch conv', eta(t, 'patch_embed.proj.kernel'), 0.092],
      ['position embedding', eta(t, 'pos_embed'), 0.16],
      ['q/k over v/proj eta, mean over blocks (min-max)', `${fmt(mean(qk))} (${fmt(Math.min(...qk))}-${fmt(Math.max(...qk))})`, 'spikes (Fig. 5)'],
      ['blocks with v and proj below fc1 and fc2', [vpLow, blocks.length], '"slightly lower"'],
    ];
  },
  'convnext-t': (t, names) => {
    const blocks = prefixes(names, /^(stages\.\d\.blocks\.\d+\.)conv_dw\.depthwise_kernel$/);
    const dwLow = blocks.filter((b) => eta(t, `${b}conv_dw.depthwise_kernel`) < Math.min(eta(t, `${b}mlp.fc1.kernel`), eta(t, `${b}mlp.fc2.kernel`))).length;
    return [
      ['stem conv', eta(t, 'stem.0.kernel'), '-'],
      ['blocks with the depthwise conv below both linears', [dwLow, blocks.length], 'all (Fig. 11)'],
    ];
  },
  'swin-t': (t, names) => {
    const blocks = prefixes(names, /^(layers\.\d\.blocks\.\d+\.)attn\.q\.kernel$/);
    const qk = blocks.map((b) => mean([eta(t, `${b}attn.q.kernel`), eta(t, `${b}attn.k.kernel`)]) / mean([eta(t, `${b}attn.v.kernel`), eta(t, `${b}attn.proj.kernel`)]));
    const rpb = blocks.map((b) => eta(t, `${b}attn.relative_position_bias_table`));
    return [
      ['patch conv', eta(t, 'patch_embed.proj.kernel'), '-'],
      ['q/k over v/proj eta, mean over blocks (min-max)', `${fmt(mean(qk))} (${fmt(Math.min(...qk))}-${fmt(Math.max(...qk))})`, 'as ViT (Fig. 12)'],
      ['relative position bias tables, mean eta (min-max)', `${fmt(mean(rpb))} (${fmt(Math.min(...rpb))}-${fmt(Math.max(...rpb))})`, '-'],
    ];
  },
};

const files = readdirSync(dir).filter((f) => /-seed\d+\.json$/.test(f)).sort();
const byModel = new Map();
for (const f of files) {
  const [, model, seed] = f.match(/^(.*)-seed(\d+)\.json$/);
  const j = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
  const table = new Map(j.entries.map((e) => [e.name, e.eta]));
  if (!byModel.has(model)) byModel.set(model, []);
  byModel.get(model).push({ seed: Number(seed), table, names: j.entries.map((e) => e.name), meta: j.meta });
}
const show = (v) => (Array.isArray(v) ? frac(v) : typeof v === 'number' ? fmt(v) : v);
for (const [model, runs] of byModel) {
  const pattern = PATTERNS[model];
  if (!pattern) continue;
  const rows = runs.map((r) => pattern(r.table, r.names));
  console.log(`\n**${model}** (${runs.map((r) => `seed ${r.seed}`).join(', ')})\n`);
  console.log(`| quantity | ${runs.map((r) => `seed ${r.seed}`).join(' | ')} | paper |`);
  console.log(`|---|${runs.map(() => '---|').join('')}---|`);
  rows[0].forEach(([label, , paper], i) => {
    console.log(`| ${label} | ${rows.map((row) => show(row[i][1])).join(' | ')} | ${show(paper)} |`);
  });
}
