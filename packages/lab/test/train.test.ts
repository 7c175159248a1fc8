import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { schemeTable } from 'layerwise-lr';
import { setupRun, initForTraining } from '../src/train/setup.js';
import { makeOptimizer, trainLoop, DivergenceError, type LoopOptions } from '../src/train/loop.js';
import { RunDir } from '../src/train/metrics.js';
import { mlp } from '../src/models/mlp.js';

test('MLP: parameter names fc1.kernel ... and depth', () => {
  const m = mlp({ inputShape: [4, 4, 1], numClasses: 3, width: 5, depth: 3 });
  assert.deepEqual(m.trainableWeights.map((w) => w.originalName), ['fc1/kernel', 'fc1/bias', 'fc2/kernel', 'fc2/bias', 'fc3/kernel', 'fc3/bias']);
  assert.deepEqual(m.outputs[0].shape, [null, 3]);
  m.dispose();
  assert.throws(() => mlp({ inputShape: [4], numClasses: 3, depth: 0 }), /--depth must be an integer >= 1/);
});

const loop: LoopOptions = { optimizer: 'sgd', lr: 0.05, momentum: 0.9, wd: 5e-4, epochs: 2, warmupEpochs: 0.5, logEvery: 1 };

test('training loop: loss falls, tensors stable across steps, metrics written', async () => {
  await tf.setBackend('cpu');
  const run = setupRun({ model: 'mlp', data: 'synthetic', limit: 256, width: 32, batchSize: 64, seed: 1 });
  initForTraining(run, 'fan-out', 1);
  const opt = makeOptimizer(run, schemeTable(run.params, 'uniform'), loop, run.train.batchesPerEpoch);
  const counts: number[] = [];
  const dir = new RunDir(mkdtempSync(path.join(tmpdir(), 'lwlr-train-')));
  const res = trainLoop(run, opt, loop, dir, { onStep: () => { counts.push(tf.memory().numTensors); } });
  assert.equal(res.length, 2);
  assert.ok(res[1].trainLoss < res[0].trainLoss, `${res[0].trainLoss} -> ${res[1].trainLoss}`);
  assert.ok(res[1].testAcc > 0.5, `synthetic data is learnable: acc ${res[1].testAcc}`);
  // After the first step created the optimizer state, the count never changes.
  assert.ok(counts.slice(1).every((c) => c === counts[1]), `tensor counts ${counts}`);
  opt.dispose();
  run.dispose();
});

test('training loop: a diverging run stops with a clear error', async () => {
  await tf.setBackend('cpu');
  const run = setupRun({ model: 'mlp', data: 'synthetic', limit: 128, width: 16, batchSize: 64, seed: 2 });
  initForTraining(run, 'fan-out', 2);
  const bad = { ...loop, lr: 1e12, warmupEpochs: 0 };
  const opt = makeOptimizer(run, schemeTable(run.params, 'uniform'), bad, run.train.batchesPerEpoch);
  const dir = new RunDir(mkdtempSync(path.join(tmpdir(), 'lwlr-train-')));
  assert.throws(() => trainLoop(run, opt, bad, dir), (e: Error) => e instanceof DivergenceError && /training diverged at epoch \d+ step \d+: loss is (NaN|Infinity)/.test(e.message));
  opt.dispose();
  run.dispose();
});
