/**
 * Reductions (native/reduce.cc), Softmax, and FusedBatchNorm (native/norm.cc) against the cpu backend:
 * every axis combination of rank 1-4 with and without keepDims, negative axes, the parallel paths (few long
 * rows, long columns, many rows, transposed patterns), NaN semantics, ArgMax/ArgMin ties, int32/bool
 * fallbacks, softmax / log-softmax on large logits, batch/layer normalization forward and gradients.
 *
 * Thresholds: Max/Min/ArgMax/ArgMin exact; Sum/Mean/Prod rtol 1e-6 (double accumulation like the cpu
 * kernel, different order); Softmax rtol 2e-6; norms rtol 1e-5.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectParity, isNativeKernel, tf } from './parity.js';
import { kernelStats } from '../src/kernels/shared-native-fallback.js';

type R = (x: tf.Tensor, axis: number | number[] | undefined, keepDims: boolean) => tf.Tensor;
const REDUCE: [string, R, number][] = [
  ['Sum', (x, a, k) => tf.sum(x, a, k), 1e-6],
  ['Mean', (x, a, k) => tf.mean(x, a, k), 1e-6],
  ['Max', (x, a, k) => tf.max(x, a, k), 0],
  ['Min', (x, a, k) => tf.min(x, a, k), 0],
  ['Prod', (x, a, k) => tf.prod(x, a, k), 1e-6],
];

function subsets(rank: number): number[][] {
  const out: number[][] = [];
  for (let m = 1; m < 1 << rank; m++) out.push([...Array(rank).keys()].filter((d) => m & (1 << d)));
  return out;
}

test('every reduction kernel is native for onednn', () => {
  for (const k of ['Sum', 'Mean', 'Max', 'Min', 'Prod', 'ArgMax', 'ArgMin', 'Softmax', 'FusedBatchNorm']) {
    assert.ok(isNativeKernel(k), k);
  }
});

test('reductions over every axis combination, keepDims, negative axes', async () => {
  for (const shape of [[7], [3, 5], [2, 3, 4], [2, 3, 1, 5], [3, 4, 5, 6]]) {
    const axesList: (number | number[] | undefined)[] = [undefined, ...subsets(shape.length), -1, ...(shape.length > 1 ? [[0, -1]] : [])];
    for (const [name, f, rtol] of REDUCE) {
      for (const axes of axesList) {
        for (const keep of [false, true]) {
          await expectParity(
            (rand) => f(name === 'Prod' ? rand(shape, { dist: 'uniform', lo: 0.6, hi: 1.5 }) : rand(shape), axes, keep),
            { rtol, atol: 0, label: `${name} [${shape}] axes ${JSON.stringify(axes)} keepDims ${keep}` },
          );
        }
      }
    }
  }
});

test('reductions on large tensors (parallel paths, transposed patterns)', async () => {
  const cases: [number[], number | number[] | undefined][] = [
    [[600001], undefined], // one long row split over threads
    [[3, 200001], 1], // few long rows
    [[200001, 3], 0], // long columns, few outputs: rows split over threads
    [[1024, 257], 0], // bias gradient: Sum over axis 0 of [B, N]
    [[257, 1024], 1],
    [[64, 65, 66], [0, 2]], // not one block: transposed natively first
    [[33, 34, 35, 36], [1, 3]],
    [[8, 3000, 17], 1], // middle axis
  ];
  for (const [shape, axes] of cases) {
    for (const [name, f, rtol] of REDUCE) {
      const before = kernelStats[name]?.native ?? 0;
      await expectParity(
        (rand) => f(name === 'Prod' ? rand(shape, { dist: 'uniform', lo: 0.999, hi: 1.001 }) : rand(shape), axes, false),
        { rtol, atol: 0, label: `${name} [${shape}] axes ${JSON.stringify(axes)}` },
      );
      assert.ok((kernelStats[name]?.native ?? 0) > before, `${name} [${shape}] ran natively`);
    }
  }
});

test('ArgMax / ArgMin: each axis, ties (first index), large rows', async () => {
  for (const shape of [[7], [3, 5], [2, 3, 4], [3, 4, 5, 6], [5, 70001], [70001, 5]]) {
    for (let axis = -1; axis < shape.length; axis++) {
      for (const f of [tf.argMax, tf.argMin]) {
        await expectParity((rand) => f(rand(shape, { dist: 'int', lo: -3, hi: 3, dtype: 'float32' }), axis), {
          rtol: 0, atol: 0, label: `arg [${shape}] axis ${axis}`,
        });
      }
    }
  }
});

test('NaN and Inf semantics of max/min/argmax/sum, int32 and bool fallbacks', async () => {
  const vals = [[1, NaN, 3], [NaN, -1, 5], [2, 7, -Infinity], [Infinity, 0, -0]];
  for (const f of [
    (x: tf.Tensor) => tf.max(x, 1), (x: tf.Tensor) => tf.min(x, 1), (x: tf.Tensor) => tf.max(x, 0), (x: tf.Tensor) => tf.min(x, 0),
    (x: tf.Tensor) => tf.argMax(x, 1), (x: tf.Tensor) => tf.argMin(x, 1), (x: tf.Tensor) => tf.argMax(x, 0),
    (x: tf.Tensor) => tf.sum(x, 1), (x: tf.Tensor) => tf.prod(x, 0), (x: tf.Tensor) => tf.mean(x),
  ]) {
    await expectParity(() => f(tf.tensor2d(vals)), { rtol: 0, atol: 0 });
  }
  // NaN far inside a long row on the split path
  await expectParity(() => {
    const v = new Float32Array(300000).fill(1);
    v[250000] = NaN;
    return [tf.max(tf.tensor1d(v)), tf.min(tf.tensor1d(v)), tf.sum(tf.tensor1d(v))];
  }, { rtol: 0, atol: 0 });
  for (const [name, f] of REDUCE) {
    await expectParity((rand) => f(rand([4, 6], { dist: 'int', lo: -20, hi: 20 }), 1, false), { rtol: 0, atol: 0, label: `int32 ${name}` });
  }
  await expectParity((rand) => tf.sum(tf.greater(rand([4, 6]), 0), 0), { rtol: 0, atol: 0, label: 'bool sum' });
  await expectParity(() => tf.sum(tf.zeros([0, 3]), 0), { rtol: 0, atol: 0, label: 'empty sum' });
});

test('Softmax and log-softmax (composite), gradients', async () => {
  for (const shape of [[7], [3, 10], [2, 3, 11], [128, 1000]]) {
    for (const scale of [1, 50]) {
      await expectParity((rand) => tf.softmax(rand(shape, scale)), { rtol: 2e-6, atol: 1e-7, label: `softmax [${shape}] x${scale}` });
      await expectParity((rand) => tf.logSoftmax(rand(shape, scale)), { rtol: 2e-6, atol: 1e-6, label: `logSoftmax [${shape}] x${scale}` });
    }
  }
  await expectParity((rand) => {
    const w = rand([64, 10]);
    return tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.softmax(x), w)))(rand([64, 10], 3));
  }, { rtol: 1e-5, label: 'softmax grad' });
  await expectParity((rand) => {
    const w = rand([64, 10]);
    return tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.logSoftmax(x), w)))(rand([64, 10], 3));
  }, { rtol: 1e-5, label: 'logSoftmax grad' });
});

test('FusedBatchNorm: per-channel, full-size and missing parameters; norm layers forward and backward', async () => {
  await expectParity((rand) => tf.batchNorm(rand([4, 5, 5, 7]), rand([7]), rand([7], { dist: 'uniform', lo: 0.1, hi: 2 }), rand([7]), rand([7]), 1e-3),
    { rtol: 1e-5, label: 'bn per-channel' });
  await expectParity((rand) => tf.batchNorm(rand([64, 33, 33, 16]), rand([16]), rand([16], { dist: 'uniform', lo: 0.1, hi: 2 }), undefined, undefined, 1e-5),
    { rtol: 1e-5, label: 'bn large, no offset/scale' });
  await expectParity((rand) => tf.batchNorm(rand([6, 9]), rand([6, 9]), rand([6, 9], { dist: 'uniform', lo: 0.1, hi: 2 }), rand([1, 9]), tf.tensor2d([[1.5]]), 1e-3),
    { rtol: 1e-5, label: 'bn full-size mean/var, per-channel offset, scalar scale' });
  await expectParity((rand) => tf.batchNorm(rand([6, 10]), rand([4]).reshape([4]).slice(0, 2), rand([5], { dist: 'uniform', lo: 0.1, hi: 2 })),
    { rtol: 1e-5, label: 'bn incommensurate lengths (modular path)' });
  // Gradients with respect to all five inputs: fused (LwlrBatchNormGrad) on onednn, tfjs's composite on cpu.
  const bnGrads = (x: tf.Tensor, m: tf.Tensor, v: tf.Tensor, o: tf.Tensor, s: tf.Tensor, w: tf.Tensor) =>
    tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor, e: tf.Tensor) =>
      tf.sum(tf.mul(tf.batchNorm(a, b, c, d, e, 1e-3), w)))([x, m, v, o, s]);
  for (const shape of [[4, 5, 5, 7], [16, 17, 17, 32]]) {
    const c = shape[3]!;
    await expectParity((rand) => bnGrads(rand(shape), rand([c]), rand([c], { dist: 'uniform', lo: 0.1, hi: 2 }), rand([c]), rand([c]), rand(shape)),
      { rtol: 1e-5, label: `bn grads per-channel [${shape}]` });
  }
  await expectParity((rand) => bnGrads(rand([6, 9]), rand([6, 9]), rand([6, 9], { dist: 'uniform', lo: 0.1, hi: 2 }), rand([6, 9]), rand([6, 9]), rand([6, 9])),
    { rtol: 1e-5, label: 'bn grads full-size' });
  // 2-D per-channel (tfjs's composite gradient only handles 4-D x): equal to the 4-D case reshaped
  await tf.setBackend('onednn');
  tf.tidy(() => {
    const [x, m, v, o, s, w] = [[64, 12], [12], [12], [12], [12], [64, 12]].map((sh, i) =>
      i === 2 ? tf.randomUniform(sh, 0.1, 2) : tf.randomNormal(sh));
    const g2 = bnGrads(x!, m!, v!, o!, s!, w!);
    const g4 = bnGrads(x!.reshape([64, 1, 1, 12]), m!, v!, o!, s!, w!.reshape([64, 1, 1, 12]));
    g2.forEach((g, i) => {
      const d = tf.max(tf.abs(tf.sub(g.reshape([-1]), g4[i]!.reshape([-1])))).dataSync()[0]!;
      assert.ok(d < 1e-5, `bn 2-D grad ${i} differs from 4-D by ${d}`);
    });
  });
  // Layers (training mode batch norm, layer norm): forward + gradients of inputs and weights.
  for (const [label, make, shape] of [
    ['BatchNormalization', () => tf.layers.batchNormalization({ axis: -1 }), [8, 5, 5, 6]],
    ['LayerNormalization', () => tf.layers.layerNormalization({ axis: -1 }), [8, 7, 12]],
  ] as [string, () => tf.layers.Layer, number[]][]) {
    await expectParity((rand) => {
      const layer = make();
      const x = rand(shape);
      layer.build(x.shape);
      const w = rand(shape);
      const f = (xx: tf.Tensor) => tf.sum(tf.mul(layer.apply(xx, { training: true }) as tf.Tensor, w)) as tf.Scalar;
      const { value, grads } = tf.variableGrads(() => f(x), layer.trainableWeights.map((v) => v.read() as tf.Variable));
      const gx = tf.grad(f)(x);
      return [value, gx, ...Object.values(grads)];
    }, { rtol: 1e-5, label });
  }
});

test('no tensor or data leaks', async () => {
  await tf.setBackend('onednn');
  const x = tf.randomNormal([33, 34, 35]);
  const run = () => {
    for (const [, f] of REDUCE) tf.tidy(() => { f(x, [0, 2], true); f(x, 1, false); f(x, undefined, false); });
    tf.tidy(() => { tf.argMax(x, 1); tf.softmax(x); tf.batchNorm(x, tf.mean(x, [0, 1]), tf.ones([35])); });
  };
  run();
  const before = tf.memory().numTensors;
  const ids = tf.engine().backend.numDataIds();
  for (let i = 0; i < 3; i++) run();
  assert.equal(tf.memory().numTensors, before);
  assert.equal(tf.engine().backend.numDataIds(), ids);
  x.dispose();
});
