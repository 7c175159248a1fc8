// End-to-end parity: whole training runs and Algorithm 1 give the same numbers on `cpu` and `onednn`.
// (layerwise-lr is a dev dependency only: the backend itself knows nothing of it.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { collectParams, measureLayerwiseLR, SGD, AdamW, type ParamInfo } from 'layerwise-lr';
import { available } from '../src/index.js';

type Builder = () => tf.LayersModel;

const mlp: Builder = () => tf.sequential({ layers: [
  tf.layers.flatten({ inputShape: [12, 12, 1] }),
  tf.layers.dense({ units: 48, activation: 'relu', name: 'fc1' }),
  tf.layers.dense({ units: 32, activation: 'relu', name: 'fc2' }),
  tf.layers.dense({ units: 10, name: 'fc3' })] });

const bnCnn: Builder = () => tf.sequential({ layers: [
  tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 8, kernelSize: 3, padding: 'same', name: 'conv1' }),
  tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, name: 'bn1' }),
  tf.layers.activation({ activation: 'relu' }),
  tf.layers.maxPooling2d({ poolSize: 2 }),
  tf.layers.conv2d({ filters: 12, kernelSize: 3, strides: 2, padding: 'valid', name: 'conv2' }),
  tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, name: 'bn2' }),
  tf.layers.activation({ activation: 'relu' }),
  tf.layers.flatten(),
  tf.layers.dense({ units: 10, name: 'fc' })] });

/** Deterministic data and weights, the same on every backend (made on the host, not by a backend RNG). */
function hostRandom(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

function setDeterministicWeights(model: tf.LayersModel): void {
  model.weights.forEach((w, i) => {
    const v = w.read();
    const isVar = /moving_variance/.test(w.name);
    const vals = isVar ? new Float32Array(v.size).fill(1) : hostRandom(v.size, 100 + i).map((x) => x * 0.5);
    w.write(tf.tensor(vals, v.shape));
  });
}

function batches(n: number, batch: number): Array<{ x: tf.Tensor; y: tf.Tensor }> {
  return Array.from({ length: n }, (_, i) => ({
    x: tf.tensor(hostRandom(batch * 144, 7 + i), [batch, 12, 12, 1]),
    y: tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, j) => (i * 3 + j) % 10), 'int32'), 10)),
  }));
}

async function trainLosses(backend: string, build: Builder, makeOpt: (p: ParamInfo[]) => SGD | AdamW, steps: number): Promise<{ losses: number[]; leaked: number }> {
  await tf.setBackend(backend);
  const model = build();
  setDeterministicWeights(model);
  const params = collectParams(model);
  const opt = makeOpt(params);
  const data = batches(4, 16);
  const losses: number[] = [];
  let start = 0;
  for (let s = 0; s < steps; s++) {
    if (s === 2) start = tf.memory().numTensors;
    const { x, y } = data[s % data.length];
    const cost = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true);
    losses.push((await cost!.data())[0]);
    cost!.dispose();
  }
  const leaked = tf.memory().numTensors - start;
  opt.dispose();
  model.dispose();
  for (const b of data) tf.dispose([b.x, b.y]);
  return { losses, leaked };
}

function assertClose(a: number[], b: number[], rtol: number, what: string): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-12);
    assert.ok(err <= rtol, `${what}[${i}]: onednn ${a[i]} vs cpu ${b[i]} (rel ${err.toExponential(2)} > ${rtol})`);
  }
}

const sgd = (p: ParamInfo[]) => new SGD(p, { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
const adamw = (p: ParamInfo[]) => new AdamW(p, { lr: 1e-3, weightDecay: 0.05 });

for (const [name, build] of [['MLP', mlp], ['BatchNorm CNN', bnCnn]] as const) {
  test(`${name}: 20 SGD steps give the same losses on cpu and onednn (1e-4 rel), no leaks`, { skip: !available }, async () => {
    const ref = await trainLosses('cpu', build, sgd, 20);
    const got = await trainLosses('onednn', build, sgd, 20);
    assert.ok(ref.losses[19] < ref.losses[0], `the run must learn: ${ref.losses[0]} -> ${ref.losses[19]}`);
    assertClose(got.losses, ref.losses, 1e-4, `${name} loss`);
    assert.equal(got.leaked, 0, 'onednn: tensors leaked across steps');
    assert.equal(ref.leaked, 0, 'cpu: tensors leaked across steps');
  });
}

test('MLP: 20 AdamW steps agree on cpu and onednn (1e-4 rel)', { skip: !available }, async () => {
  const ref = await trainLosses('cpu', mlp, adamw, 20);
  const got = await trainLosses('onednn', mlp, adamw, 20);
  assertClose(got.losses, ref.losses, 1e-4, 'MLP AdamW loss');
});

for (const [name, build] of [['MLP', mlp], ['BatchNorm CNN', bnCnn]] as const) {
  test(`${name}: layer-wise eta tables agree on cpu and onednn (1e-4 rel)`, { skip: !available }, async () => {
    const tables = [];
    for (const backend of ['cpu', 'onednn']) {
      await tf.setBackend(backend);
      const model = build();
      const data = batches(3, 16);
      tables.push(await measureLayerwiseLR(model, data, { steps: 3, init: 'fan-out', seed: 3 }));
      model.dispose();
      for (const b of data) tf.dispose([b.x, b.y]);
    }
    const [ref, got] = tables;
    assert.deepEqual(got.names, ref.names);
    const refEta = ref.entries.filter((e) => !e.excluded).map((e) => e.eta);
    const gotEta = got.entries.filter((e) => !e.excluded).map((e) => e.eta);
    assertClose(gotEta, refEta, 1e-4, `${name} eta`);
    assert.deepEqual(got.entries.map((e) => e.excluded ?? false), ref.entries.map((e) => e.excluded ?? false));
  });
}
