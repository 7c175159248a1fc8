// The README's library quickstart, run as written (with tiny data), so the README cannot silently rot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { collectParams, measureLayerwiseLR, SGD, cosineWithWarmup } from '../src/index.js';

test('README quickstart: measure, then train with SGD and the table', async () => {
  await tf.setBackend('cpu');
  const before = tf.memory().numTensors;
  const xBatch = tf.randomNormal([8, 784], 0, 1, 'float32', 1);
  const yBatch = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 10));
  const batches = Array.from({ length: 3 }, () => ({ x: xBatch, y: yBatch }));

  const model = tf.sequential({ layers: [
    tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu', name: 'fc1' }),
    tf.layers.dense({ units: 10, name: 'fc2' }) ] });
  const table = await measureLayerwiseLR(model, batches, { steps: 3, init: 'fan-out', keepInit: true });
  assert.match(table.format(), /fc1\.kernel/);
  const opt = new SGD(collectParams(model), {
    lr: cosineWithWarmup({ peak: 0.1, warmupSteps: 500, totalSteps: 10_000 }),
    eta: table, momentum: 0.9, weightDecay: 5e-4 });
  const lossOf = () => tf.losses.softmaxCrossEntropy(yBatch, model.apply(xBatch, { training: true }) as tf.Tensor);
  const l0 = tf.tidy(() => lossOf().dataSync()[0]);
  for (let i = 0; i < 20; i++) opt.minimize(() => lossOf() as tf.Scalar);
  const l1 = tf.tidy(() => lossOf().dataSync()[0]);
  assert.ok(l1 < l0, `loss should fall: ${l0} -> ${l1}`);
  model.dispose();
  opt.dispose();
  tf.dispose([xBatch, yBatch]);
  assert.equal(tf.memory().numTensors, before, "no tensors leaked");
});
