import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  SGD, applyMeasurementInit, applyMupInit, collectParams, mupOutputMultiplier, mupShapes, mupTable,
} from 'layerwise-lr';
import { mupBaseShapes } from '../src/train/optimizers.js';
import { mlp } from '../src/models/mlp.js';
import { davidnet } from '../src/models/davidnet.js';
import { vit } from '../src/models/vit.js';

await tf.setBackend('cpu');

const roles = (model: tf.LayersModel, base: Record<string, number[]>) =>
  Object.fromEntries(mupShapes(collectParams(model), base).map((s) => [s.name, s.role]));

test('muP, DavidNet family (width multiplier 1 vs base 0.5): the paper\'s Figure 14 tensors get SGD multipliers', () => {
  const data = { inputShape: [8, 8, 3] as [number, number, number], numClasses: 10 };
  const base = mupBaseShapes('davidnet', data, 0.5);
  const model = davidnet({ numClasses: 10, imageSize: [8, 8], channels: 3, widthMultiplier: 1 });
  const r = roles(model, base);
  assert.equal(r['prep.conv.kernel'], 'input');
  assert.equal(r['layer1.conv.kernel'], 'hidden');
  assert.equal(r['layer1.bn.gamma'], 'vector');
  assert.equal(r['linear.kernel'], 'output');
  const eta = mupTable(collectParams(model), base, { optimizer: 'sgd' }).etaMap();
  // "muP scales the batchnorm scale, bias layer, the first convolution and last linear layer" (paper, Fig. 14)
  assert.equal(eta['prep.conv.kernel'], 2);
  assert.equal(eta['layer3.bn.beta'], 2);
  assert.equal(eta['layer2.conv.kernel'], 1);
  assert.equal(eta['linear.kernel'], 0.5);
  model.dispose();
});

test('muP, ViT family (embedding dim 48 vs base 24): q/k/v/mlp hidden, patch embedding input, tokens vector, head output', () => {
  const o = { numClasses: 5, imageSize: [8, 8] as [number, number], channels: 3, patchSize: 4, depth: 1, numHeads: 3 };
  const base = Object.fromEntries(collectParams(vit({ ...o, dim: 24 })).map((p) => [p.name, [...p.shape]]));
  const model = vit({ ...o, dim: 48 });
  const r = roles(model, base);
  for (const n of ['blocks.0.attn.q.kernel', 'blocks.0.attn.k.kernel', 'blocks.0.attn.v.kernel', 'blocks.0.attn.proj.kernel', 'blocks.0.mlp.fc1.kernel']) assert.equal(r[n], 'hidden', n);
  assert.equal(r['patch_embed.proj.kernel'], 'input');
  assert.equal(r['cls_token'], 'vector');
  assert.equal(r['pos_embed'], 'vector');
  assert.equal(r['blocks.0.norm1.gamma'], 'vector');
  assert.equal(r['head.kernel'], 'output');
  assert.equal(r['head.bias'], 'fixed');
  const adam = mupTable(collectParams(model), base, { optimizer: 'adam' }).etaMap();
  assert.equal(adam['blocks.0.attn.q.kernel'], 0.5);
  assert.equal(adam['cls_token'], 1);
  model.dispose();
});

test('muP knobs: the MLP with outputMultiplier 1/m (MuReadout) and the absorbed form train the same function', () => {
  const data = { inputShape: [4, 4, 1] as [number, number, number], numClasses: 3 };
  const base = mupBaseShapes('mlp', data, 4);
  assert.deepEqual(mlp({ ...data, width: 8 }).layers.map((l) => l.name), ['flatten', 'fc1', 'fc2'], 'default model unchanged');
  const mult = mupOutputMultiplier(mupShapes(collectParams(mlp({ ...data, width: 8 })), base));
  assert.equal(mult, 0.5);
  const withKnob = mlp({ ...data, width: 8, outputMultiplier: mult });
  const absorbed = mlp({ ...data, width: 8 });
  const x = tf.tensor(Array.from({ length: 3 * 16 }, (_, i) => Math.cos(i)), [3, 4, 4, 1]);
  const y = tf.oneHot(tf.tensor1d([0, 2, 1], 'int32'), 3);
  const run = (model: tf.LayersModel, mode: 'model' | 'absorb') => {
    const params = collectParams(model);
    applyMeasurementInit(params, { init: 'fan-in', seed: 5 });
    applyMupInit(params, base, { optimizer: 'sgd', outputMultiplier: mode });
    const opt = new SGD(params, { lr: 0.3, momentum: 0.9, eta: mupTable(params, base, { optimizer: 'sgd', outputMultiplier: mode }) });
    for (let i = 0; i < 3; i++) opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar);
    opt.dispose();
    return tf.tidy(() => Array.from((model.apply(x) as tf.Tensor).dataSync()));
  };
  const a = run(withKnob, 'model');
  const b = run(absorbed, 'absorb');
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-5, `logit ${i}: ${v} vs ${b[i]}`));
  tf.dispose([x, y]);
  withKnob.dispose();
  absorbed.dispose();
});
