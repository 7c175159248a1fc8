/**
 * Deferred broadcasts (Tile with reps only on size-1 dims, as broadcastTo makes in the gradients of Sum, Mean
 * and broadcasting binary ops): binary kernels read the source instead, and the full-size broadcast is
 * written only when something else reads it. Values must equal the cpu backend's exactly (same arithmetic).
 * Deferred Square: Sum/Mean of it square on the fly (the variance of tf.moments); same values up to the
 * order of the double sums.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectParity, tf, available } from './parity.js';

type Stats = { made: number; computed: number; dropped: number };
const stats = () => ({ ...(tf.backend() as unknown as { lazyStats: Stats }).lazyStats });

test('broadcast operands of binary ops: exact parity, the broadcast never computed', { skip: !available }, async () => {
  const S = [6, 7, 9, 32];
  const cases: [string, (rand: (s: number[]) => tf.Tensor) => tf.Tensor][] = [
    ['add', (r) => tf.add(tf.broadcastTo(r([1, 1, 1, 32]), S), r(S))],
    ['mul (broadcast second)', (r) => tf.mul(r(S), tf.broadcastTo(r([1, 7, 1, 32]), S))],
    ['sub', (r) => tf.sub(tf.broadcastTo(r([6, 1, 9, 1]), S), r(S))],
    ['div', (r) => tf.div(r(S), tf.broadcastTo(tf.add(tf.abs(r([1, 1, 1, 1])), 1), S))],
    ['both broadcast (must compute)', (r) => tf.mul(tf.broadcastTo(r([1, 1, 1, 32]), S), tf.broadcastTo(r([6, 1, 1, 1]), S))],
    ['broadcast x broadcastable', (r) => tf.add(tf.broadcastTo(r([1, 1, 1, 32]), S), r([1, 7, 9, 32]))],
    ['same broadcast twice', (r) => { const b = tf.broadcastTo(r([1, 1, 9, 1]), S); return tf.mul(b, b); }],
    ['read directly', (r) => tf.broadcastTo(r([1, 7, 1, 1]), S)],
    ['reduced', (r) => tf.sum(tf.broadcastTo(r([1, 7, 1, 32]), S), [0, 2])],
    ['moments gradient', (r) => {
      const w = r(S);
      return tf.grad((x: tf.Tensor) => {
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        return tf.sum(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-3))), w));
      })(r(S));
    }],
  ];
  for (const [label, f] of cases) {
    await expectParity((rand) => f((s) => rand(s)), { rtol: label === 'moments gradient' ? 1e-5 : 0, atol: label === 'moments gradient' ? 1e-6 : 0, label });
  }
  // The broadcast of an add is made and dropped, never computed.
  await tf.setBackend('onednn');
  const s0 = stats();
  tf.tidy(() => tf.add(tf.broadcastTo(tf.ones([1, 1, 1, 32]), S), tf.ones(S)).dataSync());
  const s1 = stats();
  assert.equal(s1.made - s0.made, 1);
  assert.equal(s1.computed, s0.computed);
  assert.equal(s1.dropped - s0.dropped, 1);
});

test('deferred broadcasts do not leak and survive their source being disposed', { skip: !available }, async () => {
  await tf.setBackend('onednn');
  const before = tf.memory().numTensors;
  const buffers = tf.memory().numDataBuffers;
  const ids = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
  const src = tf.tensor4d([1, 2, 3], [1, 1, 1, 3]);
  const b = tf.broadcastTo(src, [4, 5, 100, 3]);
  src.dispose();
  const z = tf.zeros([4, 5, 100, 3]);
  const y = tf.add(b, z);
  assert.deepEqual(Array.from(y.dataSync().slice(0, 6)), [1, 2, 3, 1, 2, 3]);
  assert.deepEqual(Array.from(b.dataSync().slice(-3)), [1, 2, 3]);
  tf.dispose([b, y, z]);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(tf.memory().numDataBuffers, buffers);
  assert.equal((tf.backend() as unknown as { numDataIds(): number }).numDataIds(), ids);
});

test('deferred Square: Sum/Mean square on the fly, anything else computes it; parity with cpu', { skip: !available }, async () => {
  const S = [5, 6, 7, 24];
  const cases: [string, (r: (s: number[]) => tf.Tensor) => tf.Tensor | tf.Tensor[]][] = [
    ['mean over leading axes', (r) => tf.mean(tf.square(r(S)), [0, 1, 2])],
    ['sum keepDims', (r) => tf.sum(tf.square(r(S)), [0, 1, 2], true)],
    ['sum over last axis', (r) => tf.sum(tf.square(r(S)), -1)],
    ['mean over all', (r) => tf.mean(tf.square(r(S)))],
    ['sum over non-contiguous axes (transposed)', (r) => tf.sum(tf.square(r(S)), [0, 2])],
    ['read directly and reduced', (r) => { const q = tf.square(r(S)); return [tf.sum(q, [1]), tf.mul(q, 2), q]; }],
    ['moments', (r) => { const { mean, variance } = tf.moments(r(S), [0, 1, 2]); return [mean, variance]; }],
    ['max of square (computes it)', (r) => tf.max(tf.square(r(S)), [0, 1])],
  ];
  for (const [label, f] of cases) await expectParity((rand) => f((s) => rand(s)), { rtol: 1e-6, atol: 0, label });
  await tf.setBackend('onednn');
  const x = tf.randomNormal(S);
  const s0 = stats();
  const m = tf.tidy(() => tf.mean(tf.square(x), [0, 1, 2]));
  const s1 = stats();
  assert.equal(s1.made - s0.made, 1);
  assert.equal(s1.computed, s0.computed);
  assert.equal(s1.dropped - s0.dropped, 1);
  tf.dispose([x, m]);
});

test('deferred BatchMatMul: the fused matMul gradient of a data input is never computed; values as cpu', { skip: !available }, async () => {
  await tf.setBackend('onednn');
  const x = tf.randomNormal([64, 50], 0, 1, 'float32', 4) as tf.Tensor2D;
  const w = tf.variable(tf.randomNormal([50, 30], 0, 1, 'float32', 5)) as tf.Variable<tf.Rank.R2>;
  const b = tf.variable(tf.zeros([30]));
  const s0 = stats();
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(tf.fused.matMul({ a: x, b: w, bias: b }))) as tf.Scalar, [w, b]);
  const s1 = stats();
  assert.ok(s1.dropped > s0.dropped, JSON.stringify([s0, s1]));
  tf.dispose([value, grads[w.name]!, grads[b.name]!, x, w, b]);
  // Errors are raised at once, not when read.
  assert.throws(() => tf.matMul(tf.ones([2, 3]), tf.ones([4, 5])));
  for (const [sa, sb, ta, tb] of [[[5, 7], [7, 3], false, false], [[2, 7, 5], [1, 3, 7], true, true], [[1, 4, 6], [3, 6, 2], false, false]] as [number[], number[], boolean, boolean][]) {
    await expectParity((rand) => tf.matMul(rand(sa), rand(sb), ta, tb), { rtol: 1e-5, label: `matMul [${sa}] [${sb}] ${ta} ${tb}` });
  }
});

test('deferred x - m (tf.moments): centered variance and Square gradient from x and m; parity with cpu', { skip: !available }, async () => {
  const S = [5, 6, 7, 24];
  const momentsGrad = (axes: number[]) => (r: (s: number[]) => tf.Tensor) => {
    const w = r(S);
    const x = r(S);
    return tf.grads((xx: tf.Tensor, ww: tf.Tensor) => {
      const { mean, variance } = tf.moments(xx, axes, true);
      return tf.sum(tf.mul(tf.div(tf.sub(xx, mean), tf.sqrt(tf.add(variance, 1e-3))), ww));
    })([x, w]);
  };
  const cases: [string, (r: (s: number[]) => tf.Tensor) => tf.Tensor | tf.Tensor[]][] = [
    ['moments [0,1,2]', (r) => { const { mean, variance } = tf.moments(r(S), [0, 1, 2]); return [mean, variance]; }],
    ['moments last axis (layer norm)', (r) => { const { mean, variance } = tf.moments(r(S), [-1], true); return [mean, variance]; }],
    ['moments [1,2]', (r) => { const { mean, variance } = tf.moments(r(S), [1, 2], true); return [mean, variance]; }],
    ['moments all', (r) => { const { mean, variance } = tf.moments(r(S)); return [mean, variance]; }],
    ['grad moments [0,1,2]', momentsGrad([0, 1, 2])],
    ['grad moments [-1]', momentsGrad([3])],
    ['grad moments [1,2]', momentsGrad([1, 2])],
    ['square of x - m, full dy', (r) => { const m = r([1, 1, 1, 24]); const w = r(S); return tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.square(tf.sub(x, m)), w)))(r(S)); }],
    ['x - m read directly', (r) => { const d = tf.sub(r(S), r([6, 1, 24])); return [d, tf.sum(tf.square(d), [0, 2])]; }],
    ['sum over other dims than m broadcasts', (r) => tf.sum(tf.square(tf.sub(r(S), r([1, 1, 1, 24]))), [3])],
    ['m not a block broadcast', (r) => tf.mean(tf.square(tf.sub(r(S), r([5, 1, 7, 1]))), [1, 3])],
  ];
  for (const [label, f] of cases) await expectParity((rand) => f((s) => rand(s)), { rtol: 1e-5, atol: 1e-6, label });
  // In tf.moments forward and backward, x - m and its square are made and never computed.
  await tf.setBackend('onednn');
  const x = tf.randomNormal(S);
  const s0 = stats();
  const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.moments(xx, [0, 1, 2]).variance))(x);
  const s1 = stats();
  assert.equal(s1.computed, s0.computed, JSON.stringify([s0, s1]));
  assert.ok(s1.made - s0.made >= 3);
  tf.dispose([x, g]);
});
