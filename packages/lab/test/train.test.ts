import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { schemeTable, collectParams } from 'layerwise-lr';
import { setupRun, initForTraining, measureOnTrainSplit, InterruptedError } from '../src/train/setup.js';
import { trainLoop, DivergenceError, type LoopOptions } from '../src/train/loop.js';
import { makeOptimizer, type OptimizerChoice } from '../src/train/optimizers.js';
import { RunDir } from '../src/train/run-dir.js';
import { mlp } from '../src/models/mlp.js';

test('MLP: parameter names fc1.kernel ... and depth', () => {
  const m = mlp({ inputShape: [4, 4, 1], numClasses: 3, width: 5, depth: 3 });
  assert.deepEqual(m.trainableWeights.map((w) => w.originalName), ['fc1/kernel', 'fc1/bias', 'fc2/kernel', 'fc2/bias', 'fc3/kernel', 'fc3/bias']);
  assert.deepEqual(m.outputs[0].shape, [null, 3]);
  m.dispose();
  assert.throws(() => mlp({ inputShape: [4], numClasses: 3, depth: 0 }), /--depth must be an integer >= 1/);
});

const loop: LoopOptions = { epochs: 2, logEvery: 1 };
const sgd: OptimizerChoice = { optimizer: 'sgd', lr: 0.05, momentum: 0.9, wd: 5e-4, epochs: 2, warmupEpochs: 0.5 };

test('training loop: loss falls, tensors stable across steps, metrics written', async () => {
  await tf.setBackend('cpu');
  const run = await setupRun({ model: 'mlp', data: 'synthetic', limit: 512, width: 32, batchSize: 64, seed: 1 });
  initForTraining(run, 'fan-out', 1);
  const opt = makeOptimizer(run.params, schemeTable(run.params, 'uniform'), sgd, run.train.batchesPerEpoch);
  const counts: number[] = [];
  const dir = new RunDir(mkdtempSync(path.join(tmpdir(), 'lwlr-train-')));
  const res = await trainLoop(run, opt, loop, dir, { onStep: () => { counts.push(tf.memory().numTensors); } });
  assert.equal(res.length, 2);
  assert.ok(res[1].trainLoss < res[0].trainLoss, `${res[0].trainLoss} -> ${res[1].trainLoss}`);
  assert.ok(res[1].testAcc > 0.3, `synthetic data is learnable: acc ${res[1].testAcc} (chance 0.1)`);
  // After the first step created the optimizer state, the count never changes.
  assert.ok(counts.slice(1).every((c) => c === counts[1]), `tensor counts ${counts}`);
  opt.dispose();
  run.dispose();
});

test('training loop: a diverging run stops with a clear error', async () => {
  await tf.setBackend('cpu');
  const run = await setupRun({ model: 'mlp', data: 'synthetic', limit: 128, width: 16, batchSize: 64, seed: 2 });
  initForTraining(run, 'fan-out', 2);
  const bad = { ...sgd, lr: 1e12, warmupEpochs: 0 };
  const opt = makeOptimizer(run.params, schemeTable(run.params, 'uniform'), bad, run.train.batchesPerEpoch);
  const dir = new RunDir(mkdtempSync(path.join(tmpdir(), 'lwlr-train-')));
  await assert.rejects(trainLoop(run, opt, loop, dir), (e: Error) => e instanceof DivergenceError && /^training diverged at epoch \d+ (step \d+: loss|\(evaluation\): test loss) is (NaN|Infinity) \(lower --lr\?\)$/.test(e.message));
  opt.dispose();
  run.dispose();
});

test('training loop: a test loss that overflows is a divergence too (train loss finite), before the epoch\'s record', async () => {
  await tf.setBackend('cpu');
  const run = await setupRun({ model: 'mlp', data: 'synthetic', limit: 128, width: 16, batchSize: 64, seed: 2 });
  initForTraining(run, 'fan-out', 2);
  // the test split scaled to the edge of float32: its logits overflow, while training sees ordinary batches
  const test = run.test;
  (run as { test: unknown }).test = {
    count: test.count,
    *epoch(e: number) {
      for (const b of test.epoch(e)) {
        const x = tf.mul(b.x, 3e38);
        b.x.dispose();
        yield { ...b, x };
      }
    },
  };
  const opt = makeOptimizer(run.params, schemeTable(run.params, 'uniform'), sgd, run.train.batchesPerEpoch);
  const dir = new RunDir(mkdtempSync(path.join(tmpdir(), 'lwlr-train-')));
  await assert.rejects(trainLoop(run, opt, loop, dir),
    (e: Error) => e instanceof DivergenceError && /^training diverged at epoch 1 \(evaluation\): test loss is (NaN|Infinity) \(lower --lr\?\)$/.test(e.message));
  assert.ok(dir.readMetrics().every((r) => r.type === 'train'), 'no eval record of the diverged epoch');
  (run as { test: unknown }).test = test;
  opt.dispose();
  run.dispose();
});

test('every scheme starts from the same weights: the training init equals the measurement init kept by Algorithm 1', async () => {
  await tf.setBackend('cpu');
  const weights = (m: tf.LayersModel) => collectParams(m).map((p) => Array.from(p.variable.dataSync()));
  const a = await setupRun({ model: 'mlp', data: 'synthetic', limit: 128, width: 8, batchSize: 32, seed: 4 });
  initForTraining(a, 'fan-out', 4);
  const b = await setupRun({ model: 'mlp', data: 'synthetic', limit: 128, width: 8, batchSize: 32, seed: 4 });
  await measureOnTrainSplit(b, { steps: 3, init: 'fan-out', seed: 4, batchSize: 32 });
  assert.deepEqual(weights(b.model), weights(a.model));
  const c = await setupRun({ model: 'mlp', data: 'synthetic', limit: 128, width: 8, batchSize: 32, seed: 5 });
  initForTraining(c, 'fan-out', 5);
  assert.notDeepEqual(weights(c.model), weights(a.model));
  for (const r of [a, b, c]) r.dispose();
});

test('measurement: a stop request ends it with InterruptedError, weights restored and no tensors left', async () => {
  await tf.setBackend('cpu');
  const run = await setupRun({ model: 'mlp', data: 'synthetic', limit: 128, width: 8, batchSize: 32, seed: 6 });
  const before = tf.memory().numTensors;
  let steps = 0;
  await assert.rejects(
    measureOnTrainSplit(run, { steps: 10, init: 'fan-out', seed: 6, batchSize: 32, onStep: () => { steps++; }, shouldStop: () => steps >= 2 }),
    (e: Error) => e instanceof InterruptedError && /interrupted during the measurement/.test(e.message),
  );
  assert.equal(steps, 2);
  assert.equal(tf.memory().numTensors, before);
  run.dispose();
});

test('training loop: shouldStop ends the run after the current step and logs that step', async () => {
  await tf.setBackend('cpu');
  const run = await setupRun({ model: 'mlp', data: 'synthetic', limit: 256, width: 8, batchSize: 32, seed: 7 });
  initForTraining(run, 'fan-out', 7);
  const o = { ...loop, logEvery: 100 };
  const opt = makeOptimizer(run.params, schemeTable(run.params, 'uniform'), sgd, run.train.batchesPerEpoch);
  const dir = new RunDir(mkdtempSync(path.join(tmpdir(), 'lwlr-train-')));
  let steps = 0;
  const res = await trainLoop(run, opt, o, dir, { onStep: () => { steps++; }, shouldStop: () => steps >= 3 });
  assert.equal(res.length, 0);
  assert.equal(steps, 3);
  const lines = readFileSync(dir.file('metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => [l.type, l.step]), [['train', 3]]);
  opt.dispose();
  run.dispose();
});

test('training loop: the eval record has valLoss/valAcc when the run has a validation split', async () => {
  await tf.setBackend('cpu');
  const run = await setupRun({ model: 'mlp', data: 'synthetic', limit: 128, width: 8, batchSize: 64, seed: 8 });
  initForTraining(run, 'fan-out', 8);
  // the test split doubles as a validation split here: the two evaluations must agree
  const withVal = { ...run, val: run.test };
  const opt = makeOptimizer(run.params, schemeTable(run.params, 'uniform'), sgd, run.train.batchesPerEpoch);
  const dir = new RunDir(mkdtempSync(path.join(tmpdir(), 'lwlr-train-')));
  const res = await trainLoop(withVal, opt, { epochs: 1, logEvery: 100 }, dir);
  assert.equal(res[0].valLoss, res[0].testLoss);
  assert.equal(res[0].valAcc, res[0].testAcc);
  const ev = readFileSync(dir.file('metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.type === 'eval');
  assert.deepEqual(Object.keys(ev), ['type', 'epoch', 'step', 'trainLoss', 'testLoss', 'testAcc', 'testTop5', 'valLoss', 'valAcc', 'time']);
  opt.dispose();
  run.dispose();
});

test('training loop: Mixup batches train with lambda*CE(y) + (1-lambda)*CE(y2), also split into micro-batches', async () => {
  await tf.setBackend('cpu');
  const train = async (k: number, lambda: number | undefined) => {
    const run = await setupRun({ model: 'mlp', data: 'synthetic', limit: 128, width: 8, batchSize: 64, seed: 9 });
    initForTraining(run, 'fan-out', 9);
    const src = run.train;
    // a mixup source: the second labels are the batch's labels reversed (the images are left as they are)
    const mixed = Object.create(src) as typeof src;
    mixed.epoch = function* (e: number, from = 0) {
      for (const b of src.epoch(e, from)) yield lambda === undefined ? b : { ...b, mixup: { y2: tf.reverse(b.y) as tf.Tensor1D, lambda } };
    };
    const opt = makeOptimizer(run.params, schemeTable(run.params, 'uniform'), sgd, run.train.batchesPerEpoch);
    const before = tf.memory().numTensors;
    const res = await trainLoop({ ...run, train: mixed }, opt, { epochs: 1, logEvery: 100, accumSteps: k }, new RunDir(mkdtempSync(path.join(tmpdir(), 'lwlr-train-'))));
    const grew = tf.memory().numTensors - before;
    const w = Array.from(run.params[0].variable.dataSync());
    opt.dispose();
    run.dispose();
    return { loss: res[0].trainLoss, w, grew };
  };
  const plain = await train(1, undefined);
  const lambda1 = await train(1, 1);
  assert.equal(lambda1.loss, plain.loss, 'lambda 1 is the plain loss');
  const m1 = await train(1, 0.6);
  const m2 = await train(2, 0.6);
  assert.notEqual(m1.loss, plain.loss);
  assert.ok(Math.abs(m1.loss - m2.loss) < 1e-5, `${m1.loss} vs ${m2.loss}`);
  assert.ok(m1.w.every((v, i) => Math.abs(v - m2.w[i]) < 1e-6));
  assert.equal(m1.grew, plain.grew, 'y2 is disposed with its batch (only the optimizer state remains)');
  assert.equal(m2.grew, plain.grew, 'and with its micro-batches');
});

test('--train-init default: Algorithm 1 measures at the measurement init and gives the model its own init back', async () => {
  await tf.setBackend('cpu');
  const weights = (m: tf.LayersModel) => collectParams(m).map((p) => Array.from(p.variable.dataSync()));
  const opts = { model: 'mlp', data: 'synthetic', limit: 128, width: 8, batchSize: 32, seed: 4 } as const;
  const a = await setupRun(opts);
  const own = weights(a.model);
  const restored = await measureOnTrainSplit(a, { steps: 3, init: 'fan-out', seed: 4, batchSize: 32, keepInit: false });
  assert.deepEqual(weights(a.model), own, 'the default init is back');
  const b = await setupRun(opts);
  const kept = await measureOnTrainSplit(b, { steps: 3, init: 'fan-out', seed: 4, batchSize: 32 });
  assert.notDeepEqual(weights(b.model), own, 'keepInit (the default) leaves the measurement init');
  assert.deepEqual(restored.entries.map((e) => e.eta), kept.entries.map((e) => e.eta), 'same etas either way');
  a.dispose();
  b.dispose();
});
