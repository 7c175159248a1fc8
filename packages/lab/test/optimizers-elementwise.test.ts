// Per-element multipliers (frozen-adagrad) on the native backend: the composed update path equals the cpu
// backend's, the scalar-eta tensors of the same run keep the fused one-kernel step, and nothing leaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from 'tfjs-backend-onednn';
import {
  AdamW, SGD, SGD_STEP_KERNEL, collectParams, frozenAdagradFromSquares, hasFusedKernel, type ChainOptimizer, type FrozenAdagradTable, type ParamInfo,
} from 'layerwise-lr';
import { mlp } from '../src/models/mlp.js';

const host = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(k + 0.61 * i));

/** A 16-8-3 MLP with host-made weights, a frozen-adagrad table from host-made squares, and 3 steps of `make`. */
function run(make: (params: ParamInfo[], fa: FrozenAdagradTable) => ChainOptimizer): { weights: number[][]; counts: number[] } {
  const model = mlp({ inputShape: [4, 4, 1], numClasses: 3, width: 8, depth: 2 });
  const params = collectParams(model);
  params.forEach((p, k) => p.variable.assign(tf.tensor(host(p.numel, k).map((v) => 0.3 * v), [...p.shape])));
  // squares with one exact zero (a zero-gradient element: multiplier 1)
  const squares = params.map((p, k) => host(p.numel, 10 + k).map((v, i) => (k === 1 && i === 0 ? 0 : v * v + 0.01)));
  const fa = frozenAdagradFromSquares(params, squares, { steps: 1, batchSize: null, init: 'none', seed: null });
  const opt = make(params, fa);
  const x = tf.tensor(host(5 * 16, 99), [5, 4, 4, 1]);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 1, 0], 'int32'), 3);
  const counts: number[] = [];
  for (let i = 0; i < 3; i++) {
    opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
    counts.push(tf.memory().numTensors);
  }
  const weights = params.map((p) => Array.from(p.variable.dataSync()));
  tf.dispose([x, y]);
  opt.dispose();
  fa.dispose();
  model.dispose();
  return { weights, counts };
}

const optimizers: Record<string, (params: ParamInfo[], fa: FrozenAdagradTable) => ChainOptimizer> = {
  sgd: (params, fa) => new SGD(params, { lr: 0.1, momentum: 0.9, weightDecay: 0.01, eta: fa }),
  adamw: (params, fa) => new AdamW(params, { lr: 0.01, weightDecay: 0.05, eta: fa }),
};

test('frozen-adagrad: SGD and AdamW steps on onednn equal the cpu backend (1e-5), no leaks', async () => {
  for (const [name, make] of Object.entries(optimizers)) {
    await tf.setBackend('cpu');
    const cpu = run(make);
    await selectBackend('onednn');
    assert.equal(tf.getBackend(), 'onednn');
    const native = run(make);
    native.weights.forEach((w, i) => w.forEach((v, j) => {
      assert.ok(Math.abs(v - cpu.weights[i]![j]!) <= 1e-5 * Math.max(1, Math.abs(cpu.weights[i]![j]!)), `${name} tensor ${i}[${j}]: onednn ${v} vs cpu ${cpu.weights[i]![j]}`);
    }));
    assert.equal(native.counts[1], native.counts[2], `${name}: tensor count stable across steps`);
  }
  await tf.setBackend('cpu');
});

test('frozen-adagrad: tensors with per-element multipliers take the composed path, the others keep the fused kernel', async () => {
  await selectBackend('onednn');
  assert.ok(hasFusedKernel(SGD_STEP_KERNEL), 'onednn has the fused SGD step');
  const model = mlp({ inputShape: [4, 4, 1], numClasses: 3, width: 8, depth: 2 });
  const params = collectParams(model);
  const squares = params.map((p, k) => host(p.numel, k).map((v) => v * v + 0.01));
  const fa = frozenAdagradFromSquares(params, squares, { steps: 1, batchSize: null, init: 'none', seed: null });
  // per-element factors for fc1.kernel only: count the fused kernel's calls in one step
  const partial = { etaMap: () => fa.etaMap(), elementEtaMap: () => ({ 'fc1.kernel': fa.elementEtaMap()['fc1.kernel']! }) };
  const opt = new SGD(params, { lr: 0.1, momentum: 0.9, eta: partial });
  const kernel = tf.getKernel(SGD_STEP_KERNEL, 'onednn')!;
  let calls = 0;
  const original = kernel.kernelFunc;
  (kernel as { kernelFunc: typeof original }).kernelFunc = (args) => { calls++; return original(args); };
  try {
    const grads = Object.fromEntries(params.map((p) => [p.name, tf.onesLike(p.variable)]));
    opt.step(grads);
    tf.dispose(Object.values(grads));
  } finally {
    (kernel as { kernelFunc: typeof original }).kernelFunc = original;
  }
  assert.equal(calls, params.length - 1, 'every tensor but fc1.kernel took the fused step');
  opt.dispose();
  fa.dispose();
  model.dispose();
  await tf.setBackend('cpu');
});
