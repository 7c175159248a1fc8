import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { GradientAccumulator } from '../src/accumulate.js';
import { SGD } from '../src/optim/index.js';
import type { ParamInfo } from '../src/types.js';
import { useCpu } from './core-helpers.js';

await useCpu();

test('GradientAccumulator: exact mean over k micro-batches, missing names count as zero', () => {
  const acc = new GradientAccumulator();
  acc.add({ a: tf.tensor([1, 2, 3]), b: tf.tensor([[4]]) });
  acc.add({ a: tf.tensor([3, 2, 1]), b: tf.tensor([[0]]) });
  acc.add({ a: tf.tensor([4, 4, 4]) }); // no gradient for b in this micro-batch
  acc.add({ a: tf.tensor([0, 0, 8]), b: tf.tensor([[4]]) });
  assert.equal(acc.count, 4);
  assert.deepEqual(acc.names.sort(), ['a', 'b']);
  const mean = acc.mean();
  assert.deepEqual(Array.from(mean.a.dataSync()), [2, 2, 4]);
  assert.deepEqual(Array.from(mean.b.dataSync()), [2]);
  assert.deepEqual(mean.b.shape, [1, 1]);
  const sum = acc.sum();
  assert.deepEqual(Array.from(sum.a.dataSync()), [8, 8, 16]);
  tf.dispose([...Object.values(mean), ...Object.values(sum)]);
  acc.dispose();
});

test('GradientAccumulator: no tensor leaks; inputs stay the caller\'s; sums survive an enclosing tidy', () => {
  const acc = new GradientAccumulator();
  const inputs = { w: tf.ones([4, 4]), b: tf.ones([4]) };
  const before = tf.memory().numTensors;
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 5; i++) tf.tidy(() => acc.add({ w: tf.mul(inputs.w, i), b: inputs.b }));
    const n = tf.memory().numTensors;
    assert.equal(n, before + 2, 'only the two running sums are held');
    const mean = tf.tidy(() => acc.mean()); // returned from tidy: kept
    assert.deepEqual(Array.from(mean.w.dataSync()).slice(0, 2), [2, 2]); // (0+1+2+3+4)/5
    tf.dispose(Object.values(mean));
    acc.reset();
    assert.equal(acc.count, 0);
    assert.equal(tf.memory().numTensors, before);
  }
  assert.ok(!inputs.w.isDisposed && !inputs.b.isDisposed);
  acc.dispose();
  tf.dispose(Object.values(inputs));
});

test('GradientAccumulator: errors (shape change, empty mean) leave the state intact', () => {
  const acc = new GradientAccumulator();
  assert.throws(() => acc.mean(), /no gradients/);
  acc.add({ a: tf.tensor([1, 2]), b: tf.tensor([1]) });
  assert.throws(() => acc.add({ b: tf.tensor([5]), a: tf.tensor([1, 2, 3]) }), /"a" has shape \[3\], earlier \[2\]/);
  assert.equal(acc.count, 1);
  const mean = acc.mean();
  assert.deepEqual(Array.from(mean.b.dataSync()), [1]);
  tf.dispose(Object.values(mean));
  acc.dispose();
});

test('accumulating k micro-batches then one step equals one step on the full batch (mean loss)', () => {
  // loss(w) = mean over samples of (x.w - y)^2; 4 samples as 2 micro-batches of 2.
  const xs = tf.tensor2d([[1, 2], [0, 1], [2, -1], [1, 1]]);
  const ys = tf.tensor1d([1, 0, 2, -1]);
  const mk = (): ParamInfo => {
    const variable = tf.variable(tf.tensor1d([0.3, -0.2]));
    return { name: 'w', shape: [2], numel: 2, kind: 'kernel', fanIn: 2, fanOut: 1, variable };
  };
  const loss = (w: tf.Variable, x: tf.Tensor2D, y: tf.Tensor1D) => (): tf.Scalar =>
    tf.mean(tf.square(tf.sub(tf.squeeze(tf.matMul(x, tf.reshape(w, [2, 1]))), y)));

  const full = mk();
  const optFull = new SGD([full], { lr: 0.1, momentum: 0.9 });
  optFull.minimize(loss(full.variable, xs, ys));

  const micro = mk();
  const optMicro = new SGD([micro], { lr: 0.1, momentum: 0.9 });
  const acc = new GradientAccumulator();
  for (let i = 0; i < 2; i++) {
    const x = tf.slice(xs, [2 * i, 0], [2, 2]);
    const y = tf.slice(ys, [2 * i], [2]);
    const { value, grads } = tf.variableGrads(loss(micro.variable, x, y), [micro.variable]);
    acc.add(grads);
    tf.dispose([value, x, y, ...Object.values(grads)]);
  }
  const mean = acc.mean();
  optMicro.applyGradients(mean);
  tf.dispose(Object.values(mean));
  acc.dispose();
  const a = full.variable.dataSync();
  const b = micro.variable.dataSync();
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-6, `${a[i]} vs ${b[i]}`);
});
