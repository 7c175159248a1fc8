/**
 * Binary elementwise kernels with broadcasting (native/binary.cc) against the cpu backend: every broadcast
 * direction (scalar, row/bias, column, outer product, middle axes, rank mismatch), sizes above the parallel
 * threshold, special values (NaN/Inf/0 semantics of Math.max, Math.pow, division), comparisons (bool),
 * int32 fallbacks (exact), AddN, and gradients (broadcast gradients reduce with Sum; softmax cross-entropy).
 *
 * Thresholds: Add/Sub/Multiply/RealDiv/Maximum/Minimum/comparisons are exact (float32 arithmetic rounds as
 * the cpu kernel's double arithmetic rounded to float32); SquaredDifference and Pow rtol 1e-6.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectParity, isNativeKernel, tf, type RandFn } from './parity.js';
import { kernelStats } from '../src/kernels/shared-native-fallback.js';

type B = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
const OPS: [string, B, number][] = [
  ['Add', (a, b) => tf.add(a, b), 0],
  ['Sub', (a, b) => tf.sub(a, b), 0],
  ['Multiply', (a, b) => tf.mul(a, b), 0],
  ['RealDiv', (a, b) => tf.div(a, b), 0],
  ['Maximum', (a, b) => tf.maximum(a, b), 0],
  ['Minimum', (a, b) => tf.minimum(a, b), 0],
  ['SquaredDifference', (a, b) => tf.squaredDifference(a, b), 1e-6],
  ['Greater', (a, b) => tf.greater(a, b), 0],
  ['GreaterEqual', (a, b) => tf.greaterEqual(a, b), 0],
  ['Less', (a, b) => tf.less(a, b), 0],
  ['LessEqual', (a, b) => tf.lessEqual(a, b), 0],
  ['Equal', (a, b) => tf.equal(a, b), 0],
  ['NotEqual', (a, b) => tf.notEqual(a, b), 0],
];

const BROADCASTS: [number[], number[]][] = [
  [[3, 5], [3, 5]],
  [[], [4, 5]],
  [[4, 5], []],
  [[1], [7]],
  [[4, 5], [5]],
  [[5], [4, 5]],
  [[4, 1], [4, 5]],
  [[4, 5], [4, 1]],
  [[4, 1], [1, 5]],
  [[1, 5], [4, 1]],
  [[2, 3, 4], [3, 1]],
  [[2, 1, 4], [1, 3, 1]],
  [[2, 3, 4], [2, 1, 4]],
  [[1, 3, 1], [2, 1, 4]],
  [[5], [2, 3, 5]],
  [[3, 1], [2, 1, 1, 5]],
  [[2, 1, 3, 1], [1, 4, 1, 5]],
  [[2, 3, 1, 5], [3, 4, 1]],
  [[0, 3], [3]],
  // above the parallel threshold
  [[301, 257], [301, 257]],
  [[257, 301], [301]],
  [[257, 1], [257, 301]],
  [[1, 1], [301, 257]],
  [[2, 3, 40001], [3, 1]],
  [[3, 1, 20001], [1, 4, 1]],
];

test('every binary kernel is native for onednn', () => {
  for (const [k] of OPS) assert.ok(isNativeKernel(k), k);
  for (const k of ['Pow', 'AddN', 'EluGrad']) assert.ok(isNativeKernel(k), k);
});

test('binary kernels: every broadcast direction', async () => {
  for (const [name, f, rtol] of OPS) {
    for (const [sa, sb] of BROADCASTS) {
      const before = kernelStats[name]?.native ?? 0;
      await expectParity(
        (rand) => {
          const a = rand(sa);
          // comparisons: draw b partly equal to a's values so that ==/>= see ties
          const b = name.includes('Equal') && sa.join() === sb.join() ? tf.where(tf.greater(rand(sb), 0), a, rand(sb)) : rand(sb);
          return f(a, b);
        },
        { rtol, atol: 0, label: `${name} [${sa}] [${sb}]` },
      );
      if (sa.every((d) => d > 0)) assert.ok((kernelStats[name]?.native ?? 0) > before, `${name} [${sa}] [${sb}] ran natively`);
    }
  }
});

test('Pow: positive bases, negative bases with integer exponents, scalar exponents', async () => {
  const cases: [string, (rand: RandFn) => tf.Tensor][] = [
    ['pos^normal', (rand) => tf.pow(rand([17, 31], { dist: 'uniform', lo: 0.1, hi: 3 }), rand([17, 31]))],
    ['neg^int', (rand) => tf.pow(rand([300, 301]), tf.cast(rand([301], { dist: 'int', lo: -3, hi: 4 }), 'float32'))],
    ['x^2', (rand) => tf.pow(rand([9, 11]), tf.scalar(2))],
    ['x^1.5', (rand) => tf.pow(rand([9, 11], { dist: 'uniform', lo: 0, hi: 5 }), tf.scalar(1.5))],
    ['2^x', (rand) => tf.pow(tf.scalar(2), rand([9, 11], 5))],
  ];
  for (const [label, fn] of cases) await expectParity(fn, { rtol: 1e-6, label });
});

test('special values: NaN, +-Inf, +-0 in every operand position', async () => {
  const sp = [0, -0, 1, -1, 2.5, -3, Infinity, -Infinity, NaN, 1e-38, 3e38];
  const a = () => tf.tensor2d(sp, [sp.length, 1]);
  const b = () => tf.tensor2d(sp, [1, sp.length]);
  for (const [name, f] of [...OPS, ['Pow', (x: tf.Tensor, y: tf.Tensor) => tf.pow(x, y), 1e-6] as [string, B, number]]) {
    await expectParity(() => f(a(), b()), { rtol: name === 'Pow' || name === 'SquaredDifference' ? 1e-6 : 0, atol: 0, label: `${name} special` });
  }
});

test('int32 operands use the exact cpu kernels; bool/int32-backed float32 operands are converted', async () => {
  for (const [name, f] of OPS) {
    await expectParity(
      (rand) => f(rand([6, 7], { dist: 'int', lo: -1000, hi: 1000 }), rand([7], { dist: 'int', lo: -1000, hi: 1000 })),
      { rtol: 0, atol: 0, label: `int32 ${name}` },
    );
  }
  // large int32 products stay exact (a float32 path would round them)
  await expectParity(() => tf.mul(tf.tensor1d([46341, 123457, -99991], 'int32'), tf.tensor1d([46341, 17, 99989], 'int32')), { rtol: 0, atol: 0 });
  await expectParity(() => tf.add(tf.tensor1d([2147483000], 'int32'), tf.tensor1d([600], 'int32')), { rtol: 0, atol: 0 });
  // float32 tensors stored as Uint8Array (cast from bool) and Int32Array (cast from int32)
  await expectParity((rand) => tf.mul(rand([33, 9]), tf.cast(tf.greater(rand([33, 9]), 0.2), 'float32')), { rtol: 0, atol: 0 });
  await expectParity((rand) => tf.add(tf.cast(rand([33, 9], { dist: 'int', lo: -9, hi: 9 }), 'float32'), rand([9])), { rtol: 0, atol: 0 });
});

test('AddN', async () => {
  for (const [k, shape] of [[1, [5]], [2, [3, 4]], [5, [7, 9]], [3, [301, 257]]] as [number, number[]][]) {
    await expectParity((rand) => tf.addN(Array.from({ length: k }, () => rand(shape))), { rtol: 0, atol: 0, label: `AddN ${k} [${shape}]` });
  }
  await expectParity((rand) => tf.addN([rand([4, 4], { dist: 'int' }), rand([4, 4], { dist: 'int' })]), { rtol: 0, atol: 0, label: 'AddN int32' });
});

test('gradients: broadcast binary ops, softmax cross-entropy, mean squared error', async () => {
  const fns: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Scalar][] = [
    ['add/sub/mul', (a, b) => tf.sum(tf.mul(tf.sub(tf.add(a, b), b), b))],
    ['div', (a, b) => tf.sum(tf.div(a, tf.add(tf.abs(b), 0.5)))],
    // tfjs's Maximum/Minimum/SquaredDifference gradients do not reduce broadcast dims: broadcast
    // explicitly (Tile, whose gradient sums)
    ['maximum/minimum/squaredDifference', (a, b) => {
      const bb = tf.broadcastTo(b, tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape));
      const aa = tf.broadcastTo(a, bb.shape);
      return tf.sum(tf.add(tf.add(tf.maximum(aa, bb), tf.mul(tf.minimum(aa, bb), 2)), tf.squaredDifference(aa, bb)));
    }],
    ['pow', (a, b) => tf.sum(tf.pow(tf.add(tf.abs(a), 0.5), b))],
  ];
  for (const [name, f] of fns) {
    for (const [sa, sb] of [[[4, 5], [5]], [[3, 1, 6], [2, 6]], [[129, 257], [129, 1]]] as [number[], number[]][]) {
      await expectParity((rand) => tf.grads(f)([rand(sa), rand(sb)]), { rtol: 1e-5, label: `grad ${name} [${sa}] [${sb}]` });
    }
  }
  await expectParity(
    (rand) => {
      const labels = tf.oneHot(rand([64], { dist: 'int', lo: 0, hi: 10 }), 10);
      return tf.grad((logits: tf.Tensor) => tf.losses.softmaxCrossEntropy(labels, logits))(rand([64, 10], 3));
    },
    { rtol: 1e-5, label: 'softmax cross-entropy grad' },
  );
  await expectParity(
    (rand) => {
      const y = rand([64, 3]);
      return tf.grad((p: tf.Tensor) => tf.losses.meanSquaredError(y, p))(rand([64, 3]));
    },
    { rtol: 1e-5, label: 'mse grad' },
  );
});

test('no tensor or data leaks', async () => {
  await tf.setBackend('onednn');
  const a = tf.randomNormal([33, 65]);
  const b = tf.randomNormal([65]);
  const run = () => {
    for (const [, f] of OPS) tf.tidy(() => { f(a, b); });
    tf.tidy(() => { tf.addN([a, a, a]); tf.pow(tf.abs(a), b); });
    tf.tidy(() => { tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.div(x, tf.add(tf.abs(y), 1))))([a, b]); });
  };
  run();
  const before = tf.memory().numTensors;
  const ids = tf.engine().backend.numDataIds();
  for (let i = 0; i < 3; i++) run();
  assert.equal(tf.memory().numTensors, before);
  assert.equal(tf.engine().backend.numDataIds(), ids);
  tf.dispose([a, b]);
});
