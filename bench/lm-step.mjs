#!/usr/bin/env node
/**
 * Language-model training step: gpt-tiny (4 blocks, width 128, 4 heads, byte vocabulary 256, tied head) on a
 * batch of 32 windows of 128 tokens, one AdamW step (forward, backward, update), on `onednn`, against the same
 * model and step in PyTorch (bench/torch_lm_step.py: /usr/bin/python3, its own process, OMP_WAIT_POLICY=passive,
 * the same number of threads). Prints ms per step (median), peak RSS of each process and its growth over
 * the model's build, and the kernels of a step that still run the JavaScript cpu implementation.
 *
 *   node bench/lm-step.mjs [--iters 10] [--batch 32] [--context 128] [--model gpt-tiny] [--no-torch]
 *
 * Separate from bench/step.mjs (image models) on purpose; run by `npm run bench`. Not a test.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import * as onednn from 'tfjs-backend-onednn';
import { AdamW, collectParams, meanSoftmaxCrossEntropy } from 'layerwise-lr';
import { GPT_PRESETS, gptPreset } from 'lwlr-lab';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const iters = Number(opt('iters', '10'));
const batch = Number(opt('batch', '32'));
const context = Number(opt('context', '128'));
const name = opt('model', 'gpt-tiny');
const withTorch = !args.includes('--no-torch');
if (!onednn.available) {
  console.error('onednn backend unavailable: apt-get install libdnnl-dev && npm run build -w tfjs-backend-onednn');
  process.exit(1);
}
const threads = onednn.getNumThreads();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (bytes) => (bytes / 2 ** 20).toFixed(0);

function torchResult() {
  if (!withTorch || !existsSync('/usr/bin/python3')) return null;
  const p = GPT_PRESETS[name];
  try {
    const out = execFileSync('/usr/bin/python3', [path.join(here, 'torch_lm_step.py')], {
      env: {
        ...process.env, OMP_WAIT_POLICY: 'passive', LWLR_NUM_THREADS: String(threads), BENCH_ITERS: String(iters),
        BENCH_CONFIG: JSON.stringify({ vocab: 256, ctx: p.contextLength, depth: p.depth, dim: p.dim, heads: p.numHeads, batch, context }),
      },
      encoding: 'utf8',
    });
    return JSON.parse(out.trim().split('\n').pop());
  } catch (e) {
    console.error(`(PyTorch reference skipped: ${String(e.message).split('\n')[0]})`);
    return null;
  }
}

const torch = torchResult();
await tf.setBackend('onednn');
const rss0 = process.memoryUsage().rss;
const model = gptPreset(name, { vocabSize: 256, seed: 0 });
const params = collectParams(model);
const adamw = new AdamW(params, { lr: 1e-3, weightDecay: 0.1 });
const tokens = tf.randomUniform([batch, context + 1], 0, 256, 'int32', 1);
const x = tf.slice(tokens, [0, 0], [batch, context]);
const y = tf.slice(tokens, [0, 1], [batch, context]);
const step = () => {
  const cost = adamw.minimize(() => meanSoftmaxCrossEntropy(y, model.apply(x, { training: true })), true);
  cost.dataSync();
  cost.dispose();
};
for (let i = 0; i < 2; i++) step();
const before = tf.memory().numTensors;
const times = [];
let peak = process.memoryUsage().rss;
const cpu0 = process.cpuUsage();
for (let i = 0; i < iters; i++) {
  const t0 = performance.now();
  step();
  times.push(performance.now() - t0);
  peak = Math.max(peak, process.memoryUsage().rss);
}
const cpu = process.cpuUsage(cpu0);
const leaked = tf.memory().numTensors - before;
const prof = await tf.profile(step);
const jsKernels = [...new Set(prof.kernelNames)].filter((k) => {
  const mine = tf.getKernel(k, 'onednn');
  const cpuK = tf.getKernel(k, 'cpu');
  return mine && cpuK && mine.kernelFunc === cpuK.kernelFunc && !['Identity', 'Reshape'].includes(k);
});
const ms = median(times);
console.log(`${name}, batch ${batch} x ${context} tokens, AdamW; threads ${threads}; iters ${iters}; ${new Date().toISOString()}`);
console.log(`kernels of a step still running the JavaScript cpu implementation on onednn: ${jsKernels.join(', ') || 'none'}`);
const rows = [['', 'ms/step', 'tokens/s', 'CPU s/step', 'peak RSS MB', 'RSS growth MB', 'vs torch time', 'vs torch memory', 'leaked tensors']];
const growth = peak - rss0;
rows.push(['onednn', ms.toFixed(1), (batch * context / (ms / 1000)).toFixed(0), ((cpu.user + cpu.system) / 1e6 / iters).toFixed(3), mb(peak), mb(growth),
  torch ? `${(ms / torch.ms).toFixed(2)}x` : '', torch ? `${(growth / torch.rss_growth).toFixed(2)}x growth, ${(peak / torch.peak_rss).toFixed(2)}x peak` : '', String(leaked)]);
if (torch) rows.push(['pytorch', torch.ms.toFixed(1), (batch * context / (torch.ms / 1000)).toFixed(0), torch.cpu_s.toFixed(3), mb(torch.peak_rss), mb(torch.rss_growth), '1.00x', '1.00x', '']);
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
tf.dispose([tokens, x, y]);
adamw.dispose();
model.dispose();
