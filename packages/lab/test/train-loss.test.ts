// The training loss (label smoothing, Mixup) against PyTorch values, and gradient accumulation against the
// plain step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { measureLayerwiseLR, meanSoftmaxCrossEntropy, schemeTable } from 'layerwise-lr';
import { trainingLoss, trainingTarget } from '../src/train/loss.js';
import { microBatchSizes, trainLoop } from '../src/train/loop.js';
import { setupRun, initForTraining, measureOnTrainSplit } from '../src/train/setup.js';
import { makeOptimizer } from '../src/train/optimizers.js';
import { RunDir } from '../src/train/metrics.js';
import { readWeights } from '../src/train/weights.js';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test('label smoothing and Mixup: known answers from torch.nn.CrossEntropyLoss(label_smoothing=...)', async () => {
  await tf.setBackend('cpu');
  const logits = tf.tensor2d([[1, 2, 3], [0.5, -1, 2]]);
  const y = tf.tensor1d([2, 0], 'int32');
  const y2 = tf.tensor1d([1, 1], 'int32');
  const value = (s: tf.Scalar) => { const v = s.dataSync()[0]; s.dispose(); return v; };
  // torch: CrossEntropyLoss(label_smoothing=0.0)(l, y) = 1.0744585990905762, 0.1 -> 1.1244585514068604
  close(value(trainingLoss({ y }, logits)), 1.0744585990905762, 1e-6, 'plain');
  close(value(trainingLoss({ y }, logits, 0.1)), 1.1244585514068604, 1e-6, 'smoothing 0.1');
  // 0.7 * CE_0.1(l, y) + 0.3 * CE_0.1(l, y2) = 1.4619585514068603
  close(value(trainingLoss({ y, mixup: { y2, lambda: 0.7 } }, logits, 0.1)), 1.4619585514068603, 1e-6, 'mixup + smoothing');
  // lambda 1 is the plain loss; the gradient of smoothing pulls towards eps/C on every class
  close(value(trainingLoss({ y, mixup: { y2, lambda: 1 } }, logits)), 1.0744585990905762, 1e-6, 'mixup lambda 1');
  assert.throws(() => trainingLoss({ y }, logits, 1), /label smoothing must be in \[0, 1\)/);
  const before = tf.memory().numTensors;
  value(trainingLoss({ y, mixup: { y2, lambda: 0.5 } }, logits, 0.2));
  assert.equal(tf.memory().numTensors, before, 'no tensors left');
  tf.dispose([logits, y, y2]);
});

test('micro-batch sizes: near-equal, never empty, summing to the batch', () => {
  assert.deepEqual(microBatchSizes(64, 4), [16, 16, 16, 16]);
  assert.deepEqual(microBatchSizes(10, 4), [2, 3, 2, 3]);
  assert.deepEqual(microBatchSizes(3, 8), [1, 1, 1]);
});

test('gradient accumulation: K micro-batches of B/K step as one batch of B (MLP), uneven last batch included', async () => {
  await tf.setBackend('cpu');
  const train = async (k: number, smoothing = 0) => {
    // 200 examples, batches of 64: the last batch has 8, split into 4 micro-batches of 2
    const run = await setupRun({ model: 'mlp', data: 'synthetic', limit: 200, width: 16, batchSize: 64, seed: 5 });
    initForTraining(run, 'fan-out', 5);
    const opt = makeOptimizer(run.params, schemeTable(run.params, 'uniform'),
      { optimizer: 'sgd', lr: 0.05, momentum: 0.9, wd: 5e-4, epochs: 2, warmupEpochs: 0.5 }, run.train.batchesPerEpoch);
    const counts: number[] = [];
    const res = await trainLoop(run, opt, { epochs: 2, logEvery: 100, accumSteps: k, labelSmoothing: smoothing },
      new RunDir(mkdtempSync(path.join(tmpdir(), 'lwlr-accum-'))), { onStep: () => { counts.push(tf.memory().numTensors); } });
    const w = readWeights(run.model);
    const iterations = opt.iterations;
    opt.dispose();
    run.dispose();
    return { res, w, counts, iterations };
  };
  const one = await train(1);
  const four = await train(4);
  assert.equal(four.iterations, one.iterations, 'the schedule counts optimizer steps');
  assert.equal(four.iterations, 8);
  for (const [name, a] of Object.entries(one.w)) {
    const b = four.w[name].data;
    let maxDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < a.data.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(a.data[i] - b[i]));
      maxAbs = Math.max(maxAbs, Math.abs(a.data[i]));
    }
    assert.ok(maxDiff <= 1e-5 * Math.max(1, maxAbs), `${name}: max difference ${maxDiff}`);
  }
  close(four.res[1].trainLoss, one.res[1].trainLoss, 1e-4, 'train loss');
  assert.ok(four.counts.slice(1).every((c) => c === four.counts[1]), `tensor counts ${four.counts}`);
  // the comparison can fail: smoothing changes the weights beyond the tolerance
  const smoothed = await train(4, 0.3);
  assert.ok(Math.abs(smoothed.w['fc1.kernel'].data[0] - one.w['fc1.kernel'].data[0]) > 1e-5 || smoothed.res[1].trainLoss !== one.res[1].trainLoss);
});

test('trainingTarget: the soft target of Mixup and label smoothing (rows sum to 1)', async () => {
  await tf.setBackend('cpu');
  const y = tf.tensor1d([2, 0], 'int32');
  const y2 = tf.tensor1d([1, 0], 'int32');
  const t = trainingTarget({ y, mixup: { y2, lambda: 0.7 } }, 3, 0.3);
  // (1 - 0.3) * (0.7 onehot(y) + 0.3 onehot(y2)) + 0.1
  const want = [[0.1, 0.1 + 0.21, 0.1 + 0.49], [0.1 + 0.7, 0.1, 0.1]];
  const got = t.arraySync() as number[][];
  for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) close(got[i][j], want[i][j], 1e-6, `target[${i}][${j}]`);
  tf.dispose([t, y, y2]);
});

test('Algorithm 1 measures the training loss: with label smoothing, G is that of the smoothed cross-entropy', async () => {
  await tf.setBackend('cpu');
  const opts = { model: 'mlp', data: 'synthetic', limit: 128, width: 16, batchSize: 32, seed: 3 } as const;
  const a = await setupRun(opts);
  const before = tf.memory().numTensors;
  const smoothed = await measureOnTrainSplit(a, { steps: 3, init: 'fan-out', seed: 3, batchSize: 32, labelSmoothing: 0.2 });
  assert.equal(tf.memory().numTensors, before, 'no tensor left by the measurement');
  const b = await setupRun(opts);
  // the reference: the library's measurement with an explicit smoothed loss on integer labels
  const loss = (yTrue: tf.Tensor, logits: tf.Tensor) => tf.tidy(() => {
    const target = tf.add(tf.mul(tf.oneHot(tf.cast(yTrue, 'int32') as tf.Tensor1D, 10), 0.8), 0.02);
    return meanSoftmaxCrossEntropy(target, logits);
  });
  const reference = await measureLayerwiseLR(b.model, b.train.stream(), { steps: 3, init: 'fan-out', seed: 3, loss, disposeBatches: true });
  const plain = await measureOnTrainSplit(await setupRun(opts), { steps: 3, init: 'fan-out', seed: 3, batchSize: 32 });
  for (const [i, e] of smoothed.entries.entries()) {
    close(e.G!, reference.entries[i].G!, 1e-6 * reference.entries[i].G!, `G of ${e.name}`);
  }
  assert.ok(smoothed.entries.some((e, i) => Math.abs(e.G! - plain.entries[i].G!) > 1e-3 * plain.entries[i].G!), 'smoothing changes G');
  a.dispose();
  b.dispose();
});
