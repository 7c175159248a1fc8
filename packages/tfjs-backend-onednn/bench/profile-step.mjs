#!/usr/bin/env node
// Where a training step's time goes: per-kernel wall time (every onednn kernel wrapped), the rest of the step
// (engine, tape, gradient bookkeeping, JavaScript), and GC pauses (perf_hooks 'gc' entries).
// Same models as the root bench/step.mjs (SGD momentum through layerwise-lr). Not a test.
//
//   node bench/profile-step.mjs [--model bn-cnn|mlp] [--iters 10] [--backend onednn]
import * as tf from '@tensorflow/tfjs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PerformanceObserver } from 'node:perf_hooks';
import { collectParams, SGD } from 'layerwise-lr';

const here = path.dirname(fileURLToPath(import.meta.url));
await import(path.join(here, '..', 'dist', 'src', 'index.js'));
const args = process.argv.slice(2);
const opt = (n, d) => (args.indexOf(`--${n}`) >= 0 ? args[args.indexOf(`--${n}`) + 1] : d);
const modelName = opt('model', 'bn-cnn');
const iters = Number(opt('iters', '10'));
const backend = opt('backend', 'onednn');
await tf.setBackend(backend);

const build = {
  mlp: () => [tf.sequential({ layers: [
    tf.layers.flatten({ inputShape: [28, 28, 1] }),
    tf.layers.dense({ units: 1024, activation: 'relu' }),
    tf.layers.dense({ units: 1024, activation: 'relu' }),
    tf.layers.dense({ units: 10 })] }), 256],
  'bn-cnn': () => [tf.sequential({ layers: [
    tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, padding: 'same' }),
    tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }),
    tf.layers.activation({ activation: 'relu' }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same' }),
    tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }),
    tf.layers.activation({ activation: 'relu' }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.flatten(),
    tf.layers.dense({ units: 10 })] }), 128],
};
const [model, batch] = build[modelName]();
const params = collectParams(model);
const sgd = new SGD(params, { lr: 0.01, momentum: 0.9 });
const x = tf.randomNormal([batch, 28, 28, 1]);
const y = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32'), 10);
const vars = params.map((p) => p.variable);
const step = () => {
  const cost = sgd.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true })), true, vars);
  cost.dataSync();
  cost.dispose();
};
for (let i = 0; i < 3; i++) step();

// Wrap every kernel of the backend (the registry hands out its config objects).
const stats = new Map();
let on = false;
for (const k of tf.getKernelsForBackend(backend)) {
  const f = k.kernelFunc;
  k.kernelFunc = (a) => {
    if (!on) return f(a);
    const t0 = performance.now();
    const r = f(a);
    const dt = performance.now() - t0;
    const shapes = Object.values(a.inputs).map((t) => (t ? `[${t.shape}]` : '-')).join('');
    const key = `${k.kernelName} ${shapes}`;
    const s = stats.get(key) ?? { n: 0, ms: 0, name: k.kernelName };
    s.n++; s.ms += dt; stats.set(key, s);
    return r;
  };
}
let gcMs = 0, gcN = 0;
const gcKinds = new Map();
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcMs += e.duration; gcN++;
    const kind = e.detail?.kind ?? e.kind;
    gcKinds.set(kind, (gcKinds.get(kind) ?? 0) + e.duration);
  }
});
obs.observe({ entryTypes: ['gc'] });
const times = [];
on = true;
for (let i = 0; i < iters; i++) {
  const t0 = performance.now();
  step();
  times.push(performance.now() - t0);
}
on = false;
await new Promise((r) => setTimeout(r, 50));
obs.disconnect();
const total = times.reduce((a, b) => a + b, 0);
const med = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
let kernMs = 0, kernN = 0;
for (const s of stats.values()) { kernMs += s.ms; kernN += s.n; }
console.log(`${modelName} on ${backend}: median ${med.toFixed(1)} ms/step, mean ${(total / iters).toFixed(1)}; ` +
  `kernels ${(kernMs / iters).toFixed(1)} ms (${kernN / iters} calls); rest ${((total - kernMs) / iters).toFixed(1)} ms; ` +
  `GC ${(gcMs / iters).toFixed(1)} ms/step (${(gcN / iters).toFixed(1)} pauses; ${[...gcKinds].map(([k, v]) => `kind${k} ${(v / iters).toFixed(1)}`).join(', ')})`);
const byName = new Map();
for (const s of stats.values()) {
  const b = byName.get(s.name) ?? { n: 0, ms: 0 };
  b.n += s.n; b.ms += s.ms; byName.set(s.name, b);
}
console.log('\nby kernel (ms/step, calls/step):');
for (const [k, s] of [...byName].sort((a, b) => b[1].ms - a[1].ms)) {
  if (s.ms / iters < 0.05) continue;
  console.log(`  ${(s.ms / iters).toFixed(2).padStart(7)}  ${String(s.n / iters).padStart(4)}  ${k}`);
}
console.log('\nby kernel and input shapes (top 30):');
for (const [k, s] of [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, 30)) {
  console.log(`  ${(s.ms / iters).toFixed(2).padStart(7)}  ${String(s.n / iters).padStart(4)}  ${k}`);
}
