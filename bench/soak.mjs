#!/usr/bin/env node
/**
 * Soak: N training steps (default 1000) of the MLP 784-1024-1024-10 (batch 256) with layerwise-lr's SGD on
 * `onednn`; prints tf.memory().numTensors and the process RSS every 100 steps. Flat numbers = no leaks.
 *
 *   node bench/soak.mjs [--steps 1000] [--backend onednn]
 */
import * as tf from '@tensorflow/tfjs';
import 'tfjs-backend-onednn';
import { collectParams, SGD } from 'layerwise-lr';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(`--${n}`) ? args[args.indexOf(`--${n}`) + 1] : d);
const steps = Number(opt('steps', '1000'));
await tf.setBackend(opt('backend', 'onednn'));
const model = tf.sequential({ layers: [
  tf.layers.flatten({ inputShape: [28, 28, 1] }),
  tf.layers.dense({ units: 1024, activation: 'relu', name: 'fc1' }),
  tf.layers.dense({ units: 1024, activation: 'relu', name: 'fc2' }),
  tf.layers.dense({ units: 10, name: 'fc3' })] });
const sgd = new SGD(collectParams(model), { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 });
const x = tf.randomNormal([256, 28, 28, 1]);
const y = tf.oneHot(tf.randomUniform([256], 0, 10, 'int32'), 10);
const mb = () => (process.memoryUsage().rss / 2 ** 20).toFixed(0);
console.log('step  numTensors  rssMB  ms/step(last 100)');
let t0 = performance.now();
for (let s = 1; s <= steps; s++) {
  const cost = sgd.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true })), true);
  cost.dataSync();
  cost.dispose();
  if (s % 100 === 0) {
    console.log(`${String(s).padEnd(6)}${String(tf.memory().numTensors).padEnd(12)}${mb().padEnd(7)}${((performance.now() - t0) / 100).toFixed(1)}`);
    t0 = performance.now();
  }
}
