#!/usr/bin/env node
/**
 * Training-step benchmark: ms per full step (forward, backward, SGD-momentum update) and GFLOP/s on the
 * `onednn` and `cpu` backends, PyTorch's step on the same shapes in the same run (when /usr/bin/python3 has
 * torch), Algorithm 1's cost with T=10, and which kernels a step dispatches that are still JavaScript.
 *
 *   node bench/step.mjs [--models mlp,bn-cnn] [--backends onednn,cpu] [--iters 10] [--no-torch]
 *
 * Timings are medians over `--iters` steps after 3 warm-up steps. Not a test: nothing here asserts a time.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import * as onednn from 'tfjs-backend-onednn';
import { applyMeasurementInit, collectParams, SGD, measureLayerwiseLR } from 'layerwise-lr';
import { resnet18, zooModels, zooOptions } from 'lwlr-lab';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const models = opt('models', 'mlp,bn-cnn').split(',');
const backends = opt('backends', 'onednn,cpu').split(',');
const iters = Number(opt('iters', '10'));
const withTorch = !args.includes('--no-torch');
const alg1Steps = Number(opt('alg1-steps', '10'));

/** Model builders: [model, input shape (NHWC), forward GFLOP per example]. */
const builders = {
  mlp() {
    const model = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [28, 28, 1], name: 'flatten' }),
        tf.layers.dense({ units: 1024, activation: 'relu', name: 'fc1' }),
        tf.layers.dense({ units: 1024, activation: 'relu', name: 'fc2' }),
        tf.layers.dense({ units: 10, name: 'fc3' }),
      ],
    });
    return { model, batch: 256, input: [28, 28, 1] };
  },
  'bn-cnn'() {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, padding: 'same', name: 'conv1' }),
        tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, name: 'bn1' }),
        tf.layers.activation({ activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same', name: 'conv2' }),
        tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, name: 'bn2' }),
        tf.layers.activation({ activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 10, name: 'fc' }),
      ],
    });
    return { model, batch: 128, input: [28, 28, 1] };
  },
  'resnet18-cifar'() {
    const model = resnet18({ inputShape: [32, 32, 3], numClasses: 10, cifar: true });
    return { model, batch: 128, input: [32, 32, 3], cpuTooSlow: true };
  },
  'vit-tiny'() {
    // dim 192, depth 6, heads 3, patch 4, 32x32x3 (65 tokens), exact GELU, LayerNorm eps 1e-6
    const model = zooModels['vit-tiny'](zooOptions({ inputShape: [32, 32, 3], numClasses: 10 }));
    return { model, batch: 128, input: [32, 32, 3], cpuTooSlow: true, extraFwdFlopPerExample: vitAttentionFlops(65, 192, 6) };
  },
};

/** The attention products (q k^T and attn v) per example, which are not layers: 2 matmuls of tokens^2 x dim. */
function vitAttentionFlops(tokens, dim, depth) {
  return depth * 2 * 2 * tokens * tokens * dim;
}

/** Forward FLOP per example of the conv and dense layers (2 per multiply-add). */
function forwardFlops(model) {
  let flop = 0;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (cls === 'Conv2D' || cls === 'DepthwiseConv2D') {
      const [, h, w, c] = layer.outputShape;
      const [kh, kw, cin] = layer.getWeights()[0].shape;
      flop += 2 * h * w * kh * kw * (cls === 'Conv2D' ? cin * c : c);
    } else if (cls === 'Dense') {
      const [cin, cout] = layer.getWeights()[0].shape;
      const rows = layer.outputShape.slice(1, -1).reduce((a, b) => a * b, 1); // tokens for [B, T, C]
      flop += 2 * rows * cin * cout;
    }
  }
  return flop;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function lossOf(model, x, y) {
  const logits = model.apply(x, { training: true });
  return tf.losses.softmaxCrossEntropy(y, logits);
}

async function benchOne(name, backend) {
  await tf.setBackend(backend);
  const spec = builders[name]();
  const { model, batch } = spec;
  spec.fwdFlopPerExample = forwardFlops(model) + (spec.extraFwdFlopPerExample ?? 0);
  const params = collectParams(model);
  const sgd = new SGD(params, { lr: 0.01, momentum: 0.9 });
  const x = tf.randomNormal([batch, ...spec.input]);
  const y = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32'), 10);
  const vars = params.map((p) => p.variable);
  const step = () => {
    const cost = sgd.minimize(() => lossOf(model, x, y), true, vars);
    cost.dataSync();
    cost.dispose();
  };
  // The pure-JS cpu backend takes seconds per step: one warm-up and two timed steps are enough.
  const n = backend === 'cpu' ? Math.min(iters, 2) : iters;
  for (let i = 0; i < (backend === 'cpu' ? 1 : 2); i++) step();
  const before = tf.memory().numTensors;
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  const leaked = tf.memory().numTensors - before;
  // Kernels one step dispatches, and which of them still run the JavaScript cpu implementation.
  let jsKernels = [];
  if (backend === 'onednn') {
    const prof = await tf.profile(step);
    const names = [...new Set(prof.kernelNames)];
    jsKernels = names.filter((k) => {
      const mine = tf.getKernel(k, 'onednn');
      const cpu = tf.getKernel(k, 'cpu');
      return mine && cpu && mine.kernelFunc === cpu.kernelFunc && !['Identity', 'Reshape'].includes(k);
    });
  }
  // Algorithm 1 with T = 10 versus 10 forward-backward passes: the measurement loop alone (init 'none'),
  // and the one-time measurement init (seeded normals generated on the host) reported apart.
  let alg1Ratio = null;
  let initMs = null;
  if (backend === 'onednn') {
    const batches = Array.from({ length: alg1Steps }, () => ({ x, y }));
    const t0 = performance.now();
    applyMeasurementInit(params, { init: 'fan-out', seed: 0, model });
    initMs = performance.now() - t0;
    const t1 = performance.now();
    await measureLayerwiseLR(model, batches, { steps: alg1Steps, init: 'none' });
    const tAlg = performance.now() - t1;
    const t2 = performance.now();
    for (let i = 0; i < alg1Steps; i++) {
      // Every gradient is consumed (as a training step would): with the backend's deferred kernels an unread
      // gradient is never computed, which would make the baseline cheaper than any real use of the pass.
      const { value, grads } = tf.variableGrads(() => lossOf(model, x, y), vars);
      const total = tf.tidy(() => tf.addN([value, ...Object.values(grads).map((g) => tf.sum(g))]));
      total.dataSync();
      tf.dispose([total, value, grads]);
    }
    alg1Ratio = tAlg / (performance.now() - t2);
  }
  const ms = median(times);
  const gflops = (3 * spec.fwdFlopPerExample * batch) / (ms * 1e6);
  tf.dispose([x, y]);
  model.dispose();
  sgd.dispose();
  return { ms, gflops, leaked, jsKernels, alg1Ratio, initMs };
}

function torchTimes(names) {
  if (!withTorch || !existsSync('/usr/bin/python3')) return {};
  try {
    const out = execFileSync('/usr/bin/python3', [path.join(here, 'torch_step.py'), ...names], {
      env: { ...process.env, OMP_WAIT_POLICY: 'passive', BENCH_ITERS: String(iters) },
      encoding: 'utf8',
    });
    return JSON.parse(out.trim().split('\n').pop());
  } catch (e) {
    console.error(`(PyTorch reference skipped: ${String(e.message).split('\n')[0]})`);
    return {};
  }
}

if (backends.includes('onednn') && !onednn.available) {
  console.error('onednn backend unavailable: apt-get install libdnnl-dev && npm run build -w tfjs-backend-onednn');
  process.exit(1);
}
const torch = torchTimes(models);
console.log(`threads: ${onednn.available ? onednn.getNumThreads() : '-'}; iters: ${iters}; ${new Date().toISOString()}`);
const header = ['model', 'backend', 'ms/step', 'GFLOP/s', 'vs cpu', 'vs torch', 'leaked tensors', `alg1 loop(T=${alg1Steps})/${alg1Steps} fwd-bwd`, 'init ms'];
const rows = [];
for (const name of models) {
  const res = {};
  const spec0 = builders[name]();
  const tooSlow = spec0.cpuTooSlow;
  spec0.model.dispose();
  const run = backends.filter((b) => !(b === 'cpu' && tooSlow));
  for (const b of run) res[b] = await benchOne(name, b);
  for (const b of run) {
    const r = res[b];
    rows.push([
      name, b, r.ms.toFixed(1), r.gflops.toFixed(1),
      res.cpu && b !== 'cpu' ? `${(res.cpu.ms / r.ms).toFixed(1)}x faster` : '',
      torch[name] ? `${(r.ms / torch[name]).toFixed(2)}x torch time` : '',
      String(r.leaked), r.alg1Ratio ? r.alg1Ratio.toFixed(3) : '', r.initMs ? r.initMs.toFixed(0) : '',
    ]);
    if (b === 'onednn') console.log(`${name}: kernels of a step still running the JavaScript cpu implementation on onednn: ${r.jsKernels.join(', ') || 'none'}`);
  }
  if (torch[name]) rows.push([name, 'pytorch', torch[name].toFixed(1), '', '', '1.00x', '', '', '']);
}
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const fmt = (r) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
console.log(fmt(header));
for (const r of rows) console.log(fmt(r));
