/**
 * Index kernels (native/gather.cc) against the cpu backend and hand-derived values: GatherV2 on every axis
 * with batchDims, float32/int32/bool, repeated and out-of-range indices; UnsortedSegmentSum (the embedding
 * gradient) with repeated, missing and dropped ids; OneHot; the gradient of an embedding lookup through
 * tf.grad; no leaks. Gathers and one-hots are exact; segment sums add in row order (float32, the cpu kernel's
 * order too), so they are exact on integer-valued data and within 1e-6 relative otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectParity, isNativeKernel, tf } from './parity.js';
import { kernelStats } from '../src/kernels/shared-native-fallback.js';

const exact = { rtol: 0, atol: 0 };

test('GatherV2, UnsortedSegmentSum and OneHot are native for onednn', () => {
  for (const k of ['GatherV2', 'UnsortedSegmentSum', 'OneHot']) assert.ok(isNativeKernel(k), k);
});

test('GatherV2: known answer, every axis, batchDims, dtypes, repeated indices', async () => {
  await tf.setBackend('onednn');
  const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(tf.gather(x, tf.tensor1d([1, 1, 0], 'int32')).arraySync(), [[4, 5, 6], [4, 5, 6], [1, 2, 3]]);
  assert.deepEqual(tf.gather(x, tf.tensor2d([[2, 0]], [1, 2], 'int32'), 1).arraySync(), [[[3, 1]], [[6, 4]]]);
  tf.dispose(x);
  for (const dtype of ['float32', 'int32', 'bool'] as const) {
    for (const [shape, axis, idxShape, batchDims] of [
      [[7, 5], 0, [4], 0], [[7, 5], 1, [3, 2], 0], [[3, 4, 5], 1, [6], 0], [[3, 4, 5], 2, [2, 2], 0],
      [[3, 4, 5], 0, [3, 9], 0], [[3, 4, 5], 1, [3, 2], 1], [[300, 64], 0, [32, 128], 0], [[64, 300], 1, [16, 32], 0],
    ] as [number[], number, number[], number][]) {
      await expectParity((rand) => {
        let t = rand(shape);
        if (dtype === 'int32') t = rand(shape, { dist: 'int', lo: -50, hi: 50 });
        if (dtype === 'bool') t = tf.greater(rand(shape), 0);
        const idx = rand(idxShape, { dist: 'int', lo: 0, hi: shape[axis]! });
        return tf.gather(t, idx, axis, batchDims);
      }, { ...exact, label: `gather [${shape}] axis ${axis} idx [${idxShape}] batchDims ${batchDims} ${dtype}` });
    }
  }
});

test('GatherV2: an index out of range is the cpu kernel\'s error', async () => {
  await tf.setBackend('onednn');
  const x = tf.ones([4, 2]);
  for (const bad of [4, -1]) {
    const i = tf.tensor1d([0, bad], 'int32');
    assert.throws(() => tf.gather(x, i), new RegExp(`index value ${bad} is not in \\[0, 3\\]`));
    i.dispose();
  }
  x.dispose();
});

test('UnsortedSegmentSum: known answer (repeated, missing and dropped ids), parity, wide and narrow rows', async () => {
  await tf.setBackend('onednn');
  const x = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]);
  const before = kernelStats.UnsortedSegmentSum?.native ?? 0;
  const s = tf.unsortedSegmentSum(x, tf.tensor1d([2, 0, 2, 7], 'int32'), 4);
  // row 3's id 7 is outside [0, 4): dropped, as TensorFlow does
  assert.deepEqual(s.arraySync(), [[3, 4], [0, 0], [6, 8], [0, 0]]);
  assert.equal(kernelStats.UnsortedSegmentSum!.native, before + 1);
  tf.dispose([x, s]);
  // (the cpu reference costs segments x rows x inner: sizes stay small; onednn alone is checked at scale below)
  for (const [rows, inner, segs] of [[10, 1, 3], [512, 64, 40], [100, 7, 120], [33, 300, 5]]) {
    // integer-valued data: float32 sums are exact in any order
    await expectParity((rand) => tf.unsortedSegmentSum(rand([rows, inner], { dist: 'int', lo: -20, hi: 20, dtype: 'float32' }),
      rand([rows], { dist: 'int', lo: 0, hi: segs }) as tf.Tensor1D, segs), { ...exact, label: `segment sum ${rows}x${inner} -> ${segs}` });
    await expectParity((rand) => tf.unsortedSegmentSum(rand([rows, inner]), rand([rows], { dist: 'int', lo: 0, hi: segs }) as tf.Tensor1D, segs),
      { rtol: 1e-6, atol: 0, label: `segment sum ${rows}x${inner} -> ${segs}` });
  }
});

test('UnsortedSegmentSum at embedding scale (4096 tokens x 128 -> 256 rows) equals a row-order sum in JS', async () => {
  await tf.setBackend('onednn');
  const [rows, inner, segs] = [4096, 128, 256];
  const xs = Float32Array.from({ length: rows * inner }, (_, i) => Math.sin(i) * 3);
  const ids = Int32Array.from({ length: rows }, (_, i) => (i * 7919) % segs);
  const want = new Float32Array(segs * inner);
  for (let r = 0; r < rows; r++) for (let c = 0; c < inner; c++) want[ids[r]! * inner + c] += xs[r * inner + c]!;
  const got = tf.unsortedSegmentSum(tf.tensor2d(xs, [rows, inner]), tf.tensor1d(ids, 'int32'), segs);
  assert.deepEqual(got.dataSync(), want); // same order, same float32 rounding: bit for bit
  got.dispose();
});

test('OneHot: known answer, out-of-range rows all off, parity', async () => {
  await tf.setBackend('onednn');
  const before = kernelStats.OneHot?.native ?? 0;
  for (const dtype of ['int32', 'float32'] as const) {
    const o = tf.oneHot(tf.tensor1d([2, 0, 5, -1], 'int32'), 3, 7, -1, dtype);
    assert.equal(o.dtype, dtype);
    assert.deepEqual(o.arraySync(), [[-1, -1, 7], [7, -1, -1], [-1, -1, -1], [-1, -1, -1]]);
    o.dispose();
    await expectParity((rand) => tf.oneHot(rand([32, 128], { dist: 'int', lo: 0, hi: 256 }), 256, 1, 0, dtype), exact);
  }
  assert.ok(kernelStats.OneHot!.native >= before + 4, 'int32 and float32 one-hots ran natively');
});

test('the gradient of an embedding lookup (gather on either axis) equals cpu and the hand sum', async () => {
  for (const axis of [0, 1]) {
    await expectParity((rand) => {
      const table = rand(axis === 0 ? [50, 16] : [16, 50]);
      const ids = rand([8, 12], { dist: 'int', lo: 0, hi: 50 });
      const w = rand(axis === 0 ? [8, 12, 16] : [16, 8, 12]);
      return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids, axis), w)))(table);
    }, { rtol: 1e-6, atol: 0, label: `embedding gradient, axis ${axis}` });
  }
  await tf.setBackend('onednn');
  // hand: d/dt sum(gather(t, [1, 1, 3])) = counts per row
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.gather(t, tf.tensor1d([1, 1, 3], 'int32'))))(tf.zeros([4, 2]));
  assert.deepEqual(g.arraySync(), [[0, 0], [2, 2], [0, 0], [1, 1]]);
  g.dispose();
});

test('no tensor leaks across repeated lookups and gradients', async () => {
  await tf.setBackend('onednn');
  const table = tf.variable(tf.randomNormal([64, 8]));
  const ids = tf.tensor2d([[1, 2, 3], [63, 0, 2]], [2, 3], 'int32');
  const step = () => {
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(tf.gather(table, ids))) as tf.Scalar, [table]);
    tf.dispose([value, grads]);
  };
  step();
  const n = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) step();
  assert.equal(tf.memory().numTensors, n);
  tf.dispose([table, ids]);
});
