#!/usr/bin/env node
/**
 * One benchmark measurement in its own process (bench/step.mjs starts one per model, backend and mode, so that
 * each peak RSS is that run's alone): a model's full training step (forward, backward, SGD-momentum update with
 * layerwise-lr's SGD) or Algorithm 1's measurement loop, on one tfjs backend. Prints one JSON line.
 *
 *   node bench/step-worker.mjs --model vit-s16 [--backend onednn] [--batch 32] [--warmup 3] [--steps 10]
 *        [--mode step|alg1] [--kernels] [--profile [N]]
 *
 * Output: { model, backend, mode, batch, times: [ms per step], cpu: [CPU ms per step], peakRssMB, baseRssMB,
 * leaked, fwdGflop, jsKernels?, pageFaults: [minor page faults per step], pool: { hits, misses, dropped } }. Algorithm 1 (`--mode alg1`): `--warmup` training-mode passes, then
 * measureGradientMagnitudes with T = `--steps` batches (init 'none'); `times` holds one entry, the loop's ms
 * per batch. `--profile [N]` (step mode) first prints where one more step's CPU time goes, the N (default 25)
 * costliest kernels: CPU ms, calls, input shapes of the costliest call (a deferred kernel's time shows in the
 * kernel that first reads its output; a `*__op` row includes the kernels it runs). Not a test: nothing here
 * asserts a time.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import 'tfjs-backend-onednn';
import { collectParams, measureGradientMagnitudes, SGD } from 'layerwise-lr';
import { resnet18, resnet50, zooModels, zooOptions } from 'lwlr-lab';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};

/** The benchmark models: builder, input shape (HWC), default batch, extra forward FLOP per example. */
export const MODELS = {
  mlp: {
    batch: 256,
    input: [28, 28, 1],
    build: () => tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [28, 28, 1], name: 'flatten' }),
        tf.layers.dense({ units: 1024, activation: 'relu', name: 'fc1' }),
        tf.layers.dense({ units: 1024, activation: 'relu', name: 'fc2' }),
        tf.layers.dense({ units: 10, name: 'fc3' }),
      ],
    }),
  },
  'bn-cnn': {
    batch: 128,
    input: [28, 28, 1],
    build: () => tf.sequential({
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
    }),
  },
  'resnet18-cifar': { batch: 128, input: [32, 32, 3], build: () => resnet18({ inputShape: [32, 32, 3], numClasses: 10, cifar: true }) },
  // dim 192, depth 6, heads 3, patch 4, 32x32x3 (65 tokens), exact GELU, LayerNorm eps 1e-6
  'vit-tiny': { batch: 128, input: [32, 32, 3], build: () => zooModels['vit-tiny'](zooOptions({ inputShape: [32, 32, 3], numClasses: 10 })), attention: [65, 192, 6] },
  resnet50: { batch: 32, input: [224, 224, 3], build: () => resnet50({ inputShape: [224, 224, 3], numClasses: 10 }) },
  'vit-s16': { batch: 32, input: [224, 224, 3], build: () => zooModels['vit-s16'](zooOptions({ inputShape: [224, 224, 3], numClasses: 10 })), attention: [197, 384, 12] },
  'convnext-t': { batch: 32, input: [224, 224, 3], build: () => zooModels['convnext-t'](zooOptions({ inputShape: [224, 224, 3], numClasses: 10 })) },
  'swin-t': { batch: 32, input: [224, 224, 3], build: () => zooModels['swin-t'](zooOptions({ inputShape: [224, 224, 3], numClasses: 10 })) },
};

/** Forward FLOP per example of the conv and dense layers (2 per multiply-add), plus attention products. */
function forwardFlops(model, spec) {
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
  if (spec.attention) {
    const [tokens, dim, depth] = spec.attention;
    flop += depth * 2 * 2 * tokens * tokens * dim; // q k^T and attn v
  }
  return flop;
}

/** The process's peak resident set (VmHWM) in MB; null where /proc is missing. */
function peakRssMB() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Prints the `top` kernels of one `step` by CPU time (the backend's timer replaced by process.cpuUsage). */
async function printProfile(step, top) {
  const be = tf.backend();
  const wallTimer = be.time;
  be.time = async (f) => {
    const c0 = process.cpuUsage();
    f();
    const c = process.cpuUsage(c0);
    return { kernelMs: (c.user + c.system) / 1000 };
  };
  const c0 = process.cpuUsage();
  const prof = await tf.profile(step);
  const c = process.cpuUsage(c0);
  be.time = wallTimer;
  const by = new Map();
  for (const k of prof.kernels) {
    const t = await k.kernelTimeMs;
    const ms = typeof t === 'number' ? t : 0;
    const e = by.get(k.name) ?? { n: 0, ms: 0, worst: 0, shapes: '' };
    e.n++;
    e.ms += ms;
    if (ms > e.worst) Object.assign(e, { worst: ms, shapes: JSON.stringify(k.inputShapes) });
    by.set(k.name, e);
  }
  console.log(`profile: one step ${((c.user + c.system) / 1000).toFixed(0)} CPU ms, ${prof.kernels.length} kernels; costliest:`);
  for (const [name, e] of [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
    console.log(`${e.ms.toFixed(1).padStart(9)} ms ${String(e.n).padStart(5)}x  ${name.padEnd(28)} ${e.shapes}`);
  }
}

async function main() {
  const name = opt('model', 'mlp');
  const spec = MODELS[name];
  if (!spec) throw new Error(`unknown model '${name}' (one of ${Object.keys(MODELS).join(', ')})`);
  const backend = opt('backend', 'onednn');
  const mode = opt('mode', 'step');
  if (mode !== 'step' && mode !== 'alg1') throw new Error(`--mode must be step or alg1, got '${mode}'`);
  const batch = Number(opt('batch', String(spec.batch)));
  const warmup = Number(opt('warmup', '3'));
  const steps = Number(opt('steps', '10'));
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} unavailable`);
  const model = spec.build();
  const params = collectParams(model);
  const vars = params.map((p) => p.variable);
  const x = tf.randomNormal([batch, ...spec.input], 0, 1, 'float32', 1);
  const y = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32', 2), 10);
  const lossOf = () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }));
  const baseRssMB = peakRssMB();
  const out = { model: name, backend, mode, batch, fwdGflop: (forwardFlops(model, spec) * batch) / 1e9, baseRssMB };
  const times = [];
  const cpu = [];
  const faults = [];
  const timed = (fn) => {
    const f0 = process.resourceUsage().minorPageFault;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    faults.push(process.resourceUsage().minorPageFault - f0);
  };
  if (mode === 'step') {
    const sgd = new SGD(params, { lr: 0.01, momentum: 0.9 });
    const step = () => {
      const cost = sgd.minimize(lossOf, true, vars);
      cost.dataSync();
      cost.dispose();
    };
    for (let i = 0; i < warmup; i++) step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < steps; i++) {
      if (process.env.LWLR_BENCH_MARK) console.log(`mark step ${i}`);
      timed(step);
    }
    out.leaked = tf.memory().numTensors - before;
    out.peakRssMB = peakRssMB();
    if (args.includes('--kernels') && backend === 'onednn') {
      // Kernels a step dispatches whose onednn registration is still the cpu (JavaScript) kernel.
      const prof = await tf.profile(step);
      out.jsKernels = [...new Set(prof.kernelNames)].filter((k) => {
        const mine = tf.getKernel(k, 'onednn');
        const ref = tf.getKernel(k, 'cpu');
        return mine && ref && mine.kernelFunc === ref.kernelFunc && !['Identity', 'Reshape'].includes(k);
      });
    }
    if (args.includes('--profile')) await printProfile(step, Number(opt('profile', '25')) || 25);
    sgd.dispose();
  } else {
    // Warm-up passes (kernel caches), then Algorithm 1's loop (init 'none': the measurement init is a one-time
    // cost reported by bench/step.mjs's older runs; here the loop alone).
    for (let i = 0; i < warmup; i++) {
      const { value, grads } = tf.variableGrads(lossOf, vars);
      tf.dispose([value, grads]);
    }
    const batches = Array.from({ length: steps }, () => ({ x, y }));
    const before = tf.memory().numTensors;
    let done = null;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    done = measureGradientMagnitudes(model, batches, { steps, init: 'none' });
    await done;
    const c = process.cpuUsage(c0);
    times.push((performance.now() - t0) / steps);
    cpu.push((c.user + c.system) / 1000 / steps);
    out.leaked = tf.memory().numTensors - before;
    out.peakRssMB = peakRssMB();
  }
  const native = tf.backend().native;
  if (native?.poolStats) {
    const ps = native.poolStats();
    out.poolPeakLiveMB = ps.peakLiveBytes / 2 ** 20;
    out.poolFreeMB = ps.freeBytes / 2 ** 20;
    out.pool = { hits: ps.hits, misses: ps.misses, dropped: ps.dropped };
  }
  // minor page faults per timed step (memory touched for the first time: fresh allocations)
  if (faults.length) out.pageFaults = faults;
  out.times = times;
  out.cpu = cpu;
  tf.dispose([x, y]);
  model.dispose();
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(`step-worker: ${e.message}`);
  process.exit(1);
});
