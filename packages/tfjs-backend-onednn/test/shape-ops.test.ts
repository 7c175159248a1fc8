/**
 * Data-movement kernels and Cast (native/shape_ops.cc) against the cpu backend: every permutation of 3 and 4
 * dims (with size-1 dims and large tensors, float32/int32/bool), slices with begin/size (-1, contiguous and
 * strided), pads with constants, tiles, concats along every axis (empty inputs), casts with JavaScript's
 * ToInt32 semantics, gradients through all of them, no leaks. All exact (rtol 0, atol 0).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectParity, isNativeKernel, tf, type RandFn } from './parity.js';
import { kernelStats } from '../src/kernels/shared-native-fallback.js';

const exact = { rtol: 0, atol: 0 };

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  const out: number[][] = [];
  for (const p of permutations(n - 1)) for (let i = 0; i <= p.length; i++) out.push([...p.slice(0, i), n - 1, ...p.slice(i)]);
  return out;
}

type DT = 'float32' | 'int32' | 'bool';
const DTYPES: DT[] = ['float32', 'int32', 'bool'];
function make(rand: RandFn, shape: number[], dtype: DT): tf.Tensor {
  if (dtype === 'float32') return rand(shape);
  const i = rand(shape, { dist: 'int', lo: -100, hi: 100 });
  return dtype === 'int32' ? i : tf.greater(i, 0);
}

test('every shape kernel is native for onednn', () => {
  for (const k of ['Transpose', 'Slice', 'PadV2', 'Tile', 'Concat', 'Cast']) assert.ok(isNativeKernel(k), k);
});

test('Transpose: every permutation of 3 and 4 dims, float32/int32/bool, size-1 dims, large', async () => {
  for (const shape of [[2, 3, 4], [5, 1, 7], [2, 3, 4, 5], [3, 1, 4, 1], [7, 6, 5, 4]]) {
    for (const perm of permutations(shape.length)) {
      for (const dtype of DTYPES) {
        await expectParity((rand) => tf.transpose(make(rand, shape, dtype), perm), { ...exact, label: `transpose [${shape}] ${perm} ${dtype}` });
      }
    }
  }
  const before = kernelStats.Transpose?.native ?? 0;
  for (const [shape, perm] of [[[301, 257], [1, 0]], [[64, 65, 66], [2, 0, 1]], [[16, 33, 34, 35], [0, 2, 1, 3]], [[16, 33, 34, 35], [3, 2, 1, 0]]] as [number[], number[]][]) {
    await expectParity((rand) => tf.transpose(rand(shape), perm), { ...exact, label: `transpose [${shape}] ${perm}` });
  }
  assert.ok((kernelStats.Transpose?.native ?? 0) >= before + 4);
  // a transposed (non-contiguous) result feeding other kernels
  await expectParity((rand) => tf.add(tf.transpose(rand([3, 4, 5]), [2, 0, 1]), rand([4])), exact);
});

test('Transpose that moves no data (identity perm, only size-1 dims move) shares the storage', async () => {
  await tf.setBackend('onednn');
  const x = tf.add(tf.range(0, 24).reshape([2, 1, 3, 4]), 0);
  for (const perm of [[0, 1, 2, 3], [1, 0, 2, 3], [0, 2, 1, 3]]) {
    const t = tf.transpose(x, perm);
    assert.equal(t.dataId, x.dataId, `perm ${perm}`);
    assert.deepEqual(t.shape, perm.map((p) => x.shape[p]));
    assert.deepEqual(Array.from(await t.data()), Array.from({ length: 24 }, (_, i) => i));
    t.dispose();
  }
  const moved = tf.transpose(x, [0, 1, 3, 2]);
  assert.notEqual(moved.dataId, x.dataId);
  const alias = tf.transpose(x, [1, 0, 2, 3]);
  x.dispose();
  assert.equal((await alias.data())[23], 23, 'the alias outlives its source');
  tf.dispose([moved, alias]);
});

test('Slice: begin/size (-1), contiguous and strided, every dtype', async () => {
  const cases: [number[], number[], number[]][] = [
    [[10], [3], [4]],
    [[5, 6], [1, 2], [3, 3]],
    [[5, 6], [1, 0], [3, -1]],
    [[5, 6], [2, 0], [-1, 6]], // contiguous: the cpu kernel's zero-copy view
    [[4, 5, 6], [1, 1, 1], [2, 3, 4]],
    [[4, 5, 6], [0, 2, 0], [4, 2, 6]],
    [[3, 4, 5, 6], [1, 0, 2, 3], [2, 4, -1, 2]],
    [[3, 4, 5, 6], [0, 0, 0, 5], [-1, -1, -1, 1]],
    [[3, 4, 5, 6], [1, 1, 1, 1], [0, 2, 2, 2]], // empty
    [[300, 301], [7, 3], [250, 290]], // large, parallel
  ];
  for (const [shape, begin, size] of cases) {
    for (const dtype of DTYPES) {
      await expectParity((rand) => tf.slice(make(rand, shape, dtype), begin, size), { ...exact, label: `slice [${shape}] ${begin} ${size} ${dtype}` });
    }
  }
});

test('PadV2: paddings and constants, every dtype, empty dims', async () => {
  const cases: [number[], [number, number][], number][] = [
    [[5], [[2, 3]], 0],
    [[3, 4], [[1, 0], [0, 2]], 1.5],
    [[2, 3, 4], [[0, 0], [1, 1], [2, 0]], -2],
    [[2, 3, 4, 5], [[1, 1], [0, 0], [0, 0], [3, 1]], 0],
    [[2, 3], [[0, 0], [0, 0]], 0],
    [[0, 3], [[1, 1], [1, 0]], 7],
    [[128, 129, 3], [[2, 2], [2, 2], [0, 0]], 0], // large
  ];
  for (const [shape, pads, value] of cases) {
    for (const dtype of DTYPES) {
      const c = dtype === 'float32' ? value : dtype === 'int32' ? Math.round(value) : value !== 0 ? 1 : 0;
      await expectParity((rand) => tf.pad(make(rand, shape, dtype), pads, c), { ...exact, label: `pad [${shape}] ${JSON.stringify(pads)} ${dtype}` });
    }
  }
});

test('Tile: reps per rank, size-1 dims (broadcastTo), every dtype', async () => {
  const cases: [number[], number[]][] = [
    [[3], [4]],
    [[2, 3], [1, 2]],
    [[2, 3], [3, 1]],
    [[2, 1, 3], [2, 5, 1]],
    [[1, 2, 1, 3], [2, 1, 3, 2]],
    [[4, 4], [0, 2]],
    [[64, 1], [1, 1000]], // large, fill path
  ];
  for (const [shape, reps] of cases) {
    for (const dtype of DTYPES) {
      await expectParity((rand) => tf.tile(make(rand, shape, dtype), reps), { ...exact, label: `tile [${shape}] ${reps} ${dtype}` });
    }
  }
  await expectParity((rand) => tf.broadcastTo(rand([3, 1, 5]), [2, 3, 4, 5]), exact);
});

test('Concat: every axis, several inputs, empty inputs, every dtype', async () => {
  for (const dtype of DTYPES) {
    for (let axis = -3; axis < 3; axis++) {
      const ax = axis < 0 ? axis + 3 : axis;
      const shapes = [2, 1, 3].map((k) => [2, 3, 4].map((d, i) => (i === ax ? k : d)));
      await expectParity((rand) => tf.concat(shapes.map((s) => make(rand, s, dtype)), axis), { ...exact, label: `concat axis ${axis} ${dtype}` });
    }
  }
  await expectParity((rand) => tf.concat([rand([2, 0]), rand([2, 3]), rand([2, 0]), rand([2, 1])], 1), { ...exact, label: 'concat with empties' });
  await expectParity((rand) => tf.concat([rand([2, 0]), rand([2, 3])], 1), { ...exact, label: 'concat one non-empty' });
  await expectParity((rand) => tf.concat([rand([3]), rand([5])]), { ...exact, label: 'concat 1-D' });
  await expectParity((rand) => tf.concat([rand([300, 200]), rand([300, 101]), rand([300, 7])], 1), { ...exact, label: 'concat large' });
  await expectParity((rand) => tf.stack([rand([3, 4]), rand([3, 4])], 1), { ...exact, label: 'stack' });
});

test('Cast: float32/int32/bool in every direction, ToInt32 semantics', async () => {
  const sp = [0, -0, 0.5, -0.5, 1.9999, -1.9999, 2.5, -2.5, 1e9, -1e9, 2147483647, 2147483648, -2147483648, -2147483904,
    3e9, -3e9, 1e10, 1e20, 3.4e38, -3.4e38, Infinity, -Infinity, NaN, 123456.7];
  await expectParity(() => tf.cast(tf.tensor1d(sp), 'int32'), { ...exact, label: 'f32 -> i32 special' });
  await expectParity(() => tf.cast(tf.tensor1d(sp), 'bool'), { ...exact, label: 'f32 -> bool special' });
  for (const [from, to] of [['float32', 'int32'], ['float32', 'bool'], ['int32', 'bool'], ['int32', 'float32'], ['bool', 'float32'], ['bool', 'int32'],
    ['float32', 'float32'], ['int32', 'int32']] as [DT, DT][]) {
    for (const shape of [[], [7], [301, 257]]) {
      await expectParity((rand) => {
        const x = from === 'float32' ? tf.mul(rand(shape), 1000) : make(rand, shape, from);
        return tf.cast(x, to);
      }, { ...exact, label: `cast ${from} -> ${to} [${shape}]` });
    }
  }
  // float32 backed by an Int32Array (lossless cast on the cpu kernel's side) cast back to int32
  await expectParity((rand) => tf.cast(tf.add(tf.cast(rand([9], { dist: 'int' }), 'float32'), 0.5), 'int32'), exact);
});

test('gradients through transpose, slice, pad, tile, concat', async () => {
  const fns: [string, (x: tf.Tensor) => tf.Scalar][] = [
    ['transpose', (x) => tf.sum(tf.mul(tf.transpose(x, [2, 0, 1]), tf.range(0, 4).reshape([4, 1, 1])))],
    ['slice', (x) => tf.sum(tf.square(tf.slice(x, [1, 0, 1], [2, 3, 2])))],
    ['pad', (x) => tf.sum(tf.mul(tf.pad(x, [[1, 0], [0, 2], [1, 1]]), 3))],
    ['tile', (x) => tf.sum(tf.square(tf.tile(x, [2, 1, 3])))],
    ['concat', (x) => tf.sum(tf.mul(tf.concat([x, tf.square(x)], 1), tf.range(0, 6).reshape([1, 6, 1])))],
  ];
  for (const [name, f] of fns) await expectParity((rand) => tf.grad(f)(rand([3, 3, 4])), { rtol: 1e-6, label: `grad ${name}` });
});

test('Tile gradient: one reduction (LayerNormalization patterns, rank 5)', async () => {
  const cases: [number[], number[]][] = [
    [[4, 7, 1], [1, 1, 12]], // mean/variance [B, T, 1] -> [B, T, C]
    [[1, 1, 12], [4, 7, 1]], // gamma/beta [C] -> [B, T, C]
    [[2, 3], [3, 2]],
    [[5], [4]],
    [[2, 1, 3, 1, 2], [1, 2, 1, 3, 2]], // rank 5: tfjs's own Tile gradient stops at rank 4
  ];
  for (const [shape, reps] of cases) {
    await expectParity((rand) => {
      const w = rand(shape.map((d, i) => d * reps[i]!));
      return tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.tile(x, reps), w)))(rand(shape));
    }, { rtol: 1e-6, label: `tile grad [${shape}] x ${reps}` });
  }
  // the gradient of a LayerNormalization layer dispatches no Slice per repetition any more
  await tf.setBackend('onednn');
  const before = kernelStats.Slice?.native ?? 0;
  const layer = tf.layers.layerNormalization({ axis: -1 });
  const x = tf.randomNormal([8, 9, 16]);
  tf.tidy(() => { tf.grad((v: tf.Tensor) => tf.sum(layer.apply(v) as tf.Tensor))(x); });
  assert.equal((kernelStats.Slice?.native ?? 0) - before, 0);
  x.dispose();
});

test('no tensor or data leaks', async () => {
  await tf.setBackend('onednn');
  const x = tf.randomNormal([6, 7, 8]);
  const run = () => tf.tidy(() => {
    tf.transpose(x, [2, 0, 1]);
    tf.slice(x, [1, 1, 1], [2, 3, 4]);
    tf.pad(x, [[1, 1], [0, 0], [2, 0]]);
    tf.tile(x, [1, 2, 1]);
    tf.concat([x, x], 2);
    tf.cast(tf.cast(x, 'int32'), 'float32');
    tf.grad((v: tf.Tensor) => tf.sum(tf.pad(tf.slice(v, [0, 1, 0], [6, 2, 8]), [[0, 0], [1, 1], [0, 0]])))(x);
  });
  run();
  const before = tf.memory().numTensors;
  const ids = tf.engine().backend.numDataIds();
  for (let i = 0; i < 3; i++) run();
  assert.equal(tf.memory().numTensors, before);
  assert.equal(tf.engine().backend.numDataIds(), ids);
  x.dispose();
});

test('SplitV: equal and explicit sizes on every axis, gradient through split', async () => {
  await expectParity((rand) => tf.split(rand([3, 6, 4]), 3, 1));
  await expectParity((rand) => tf.split(rand([3, 6, 4]), [1, 2, 1], 2));
  await expectParity((rand) => tf.split(rand([4, 5]), [3, -1], 0));
  await expectParity((rand) => tf.grad((x: tf.Tensor) => {
    const [a, b] = tf.split(x, 2, 2);
    return tf.sum(tf.mul(a, tf.square(b)));
  })(rand([2, 3, 8])));
});
