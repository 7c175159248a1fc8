/**
 * Parity of the native matmul family (BatchMatMul, _FusedMatMul) with the cpu backend.
 * Threshold: max |onednn - cpu| <= 1e-5 * max |cpu| (+1e-6): float32 sums of up to ~800 products, computed
 * in a different order (blocked FMA) than the cpu kernel's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectParity, tf, available, isNativeKernel } from './parity.js';
import { kernelStats } from '../src/kernels/shared-native-fallback.js';

const RTOL = 1e-5;

function nativeRuns(kernel: string): number {
  return kernelStats[kernel]?.native ?? 0;
}

test('backend loads and matmul kernels are native', () => {
  assert.ok(available, 'onednn addon must load');
  assert.ok(isNativeKernel('BatchMatMul'));
  assert.ok(isNativeKernel('_FusedMatMul'));
});

test('BatchMatMul 2-D, every transpose combination, odd sizes', async () => {
  const before = nativeRuns('BatchMatMul');
  for (const [M, K, N] of [
    [7, 13, 5],
    [1, 9, 1],
    [33, 17, 65],
  ]) {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        await expectParity(
          (rand) => tf.matMul(rand(tA ? [K, M] : [M, K]), rand(tB ? [N, K] : [K, N]), tA, tB),
          { rtol: RTOL, label: `2-D ${M}x${K}x${N} tA=${tA} tB=${tB}` },
        );
      }
    }
  }
  assert.ok(nativeRuns('BatchMatMul') >= before + 12, 'the native kernel ran');
});

test('BatchMatMul 3-D batched, batch 1, every transpose combination', async () => {
  for (const B of [1, 3]) {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        const [M, K, N] = [5, 11, 6];
        await expectParity(
          (rand) => tf.matMul(rand(tA ? [B, K, M] : [B, M, K]), rand(tB ? [B, N, K] : [B, K, N]), tA, tB),
          { rtol: RTOL, label: `3-D B=${B} tA=${tA} tB=${tB}` },
        );
      }
    }
  }
});

test('BatchMatMul broadcast batch dims (cases the cpu kernel supports)', async () => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[2, 3, 4, 5], [5, 6], false, false], // rank-2 b shared by every batch
    [[2, 3, 5, 4], [5, 6], true, false],
    [[2, 3, 4, 5], [6, 5], false, true],
    [[3, 4, 5], [2, 3, 5, 6], false, false], // a broadcast over the leading dim
    [[1, 4, 5], [4, 5, 6], false, false], // batch 1 vs 4
    [[4, 4, 5], [1, 6, 5], false, true],
    [[4, 5], [3, 5, 2], false, false], // rank-2 a, batched b
    [[5, 4], [3, 5, 2], true, false],
  ];
  for (const [as, bs, tA, tB] of cases) {
    await expectParity((rand) => tf.matMul(rand(as), rand(bs), tA, tB), {
      rtol: RTOL,
      label: `[${as}]x[${bs}] tA=${tA} tB=${tB}`,
    });
  }
});

test('BatchMatMul general broadcast [2,1,M,K] x [1,3,K,N] (compared with explicitly broadcast inputs on cpu)', async () => {
  // The cpu kernel indexes batches modulo each side's batch size, which is only right when one batch shape
  // is a suffix of the other; the native kernel broadcasts like numpy, so compare with tiled inputs.
  await expectParity(
    (rand) => {
      const a = rand([2, 1, 4, 5]);
      const b = rand([1, 3, 5, 3]);
      if (tf.getBackend() === 'cpu') return tf.matMul(tf.broadcastTo(a, [2, 3, 4, 5]), tf.broadcastTo(b, [2, 3, 5, 3]));
      return tf.matMul(a, b);
    },
    { rtol: RTOL },
  );
});

test('BatchMatMul moderate size (Dense 784 -> 128, batch 64) and its gradients', async () => {
  await expectParity((rand) => tf.matMul(rand([64, 784]), rand([784, 128], 0.05)), { rtol: RTOL });
  await expectParity(
    (rand) => {
      const x = rand([64, 784]);
      const w = rand([784, 128], 0.05);
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b).square().sum());
      return g([x, w]);
    },
    { rtol: RTOL },
  );
});

test('BatchMatMul gradients through every transpose combination (batched)', async () => {
  for (const tA of [false, true]) {
    for (const tB of [false, true]) {
      await expectParity(
        (rand) => {
          const a = rand(tA ? [2, 6, 5] : [2, 5, 6]);
          // tfjs 4.22's BatchMatMul gradient does not reduce over broadcast batch dims: equal batches here.
          const b = rand(tB ? [2, 7, 6] : [2, 6, 7]);
          return tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, tA, tB).sin().sum())([a, b]);
        },
        { rtol: RTOL, label: `grad tA=${tA} tB=${tB}` },
      );
    }
  }
});

test('_FusedMatMul: bias + every activation, transposes, batched', async () => {
  const before = nativeRuns('_FusedMatMul');
  const acts = ['linear', 'relu', 'relu6', 'leakyrelu', 'elu', 'sigmoid', 'prelu'] as const;
  for (const activation of acts) {
    for (const [tA, tB] of [
      [false, false],
      [true, true],
    ]) {
      await expectParity(
        (rand) => {
          const a = rand(tA ? [9, 7] : [7, 9], 2);
          const b = rand(tB ? [5, 9] : [9, 5]);
          const bias = rand([5]);
          const preluActivationWeights = activation === 'prelu' ? rand([5], { dist: 'uniform' }) : undefined;
          return tf.fused.matMul({
            a,
            b,
            transposeA: tA,
            transposeB: tB,
            bias,
            activation,
            preluActivationWeights,
            leakyreluAlpha: 0.3,
          });
        },
        { rtol: RTOL, label: `${activation} tA=${tA} tB=${tB}` },
      );
    }
  }
  // batched, bias over rows and columns, no bias
  await expectParity(
    (rand) => tf.fused.matMul({ a: rand([3, 4, 6]), b: rand([3, 6, 5]), bias: rand([4, 5]), activation: 'relu' }),
    { rtol: RTOL },
  );
  await expectParity((rand) => tf.fused.matMul({ a: rand([2, 4, 6]), b: rand([6, 5]), bias: rand([5]), activation: 'elu' }), {
    rtol: RTOL,
  });
  await expectParity((rand) => tf.fused.matMul({ a: rand([4, 6]), b: rand([6, 5]), activation: 'relu' }), { rtol: RTOL });
  await expectParity((rand) => tf.fused.matMul({ a: rand([4, 6]), b: rand([6, 5]), bias: rand([1]) }), { rtol: RTOL });
  assert.ok(nativeRuns('_FusedMatMul') >= before + 18, 'the native kernel ran');
});

test('_FusedMatMul gradients (bias + relu, used by Dense layers)', async () => {
  await expectParity(
    (rand) => {
      const a = rand([8, 12]);
      const b = rand([12, 6]);
      const bias = rand([6]);
      return tf.grads((x: tf.Tensor, w: tf.Tensor, c: tf.Tensor) =>
        tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: c, activation: 'relu' }).square().sum(),
      )([a, b, bias]);
    },
    { rtol: RTOL },
  );
});

test('matmul falls back to cpu for int32 and errors like cpu on bad shapes', async () => {
  await expectParity(
    (rand) => tf.matMul(rand([3, 4], { dist: 'int', lo: -5, hi: 5 }), rand([4, 2], { dist: 'int', lo: -5, hi: 5 })),
    { rtol: 0, atol: 0 },
  );
  const prev = tf.getBackend();
  await tf.setBackend('onednn');
  assert.throws(() => tf.matMul(tf.ones([2, 3]), tf.ones([4, 2])), /inner shapes|must match/);
  // empty output
  const e = tf.matMul(tf.ones([0, 3]), tf.ones([3, 2]));
  assert.deepEqual(e.shape, [0, 2]);
  await tf.setBackend(prev);
});

test('a tensor produced by matmul survives dispose of others and GC (pooled outputs)', async () => {
  const prev = tf.getBackend();
  await tf.setBackend('onednn');
  const a = tf.ones([256, 300]);
  const b = tf.ones([300, 256]);
  const keep = tf.matMul(a, b);
  const keepData = keep.dataSync();
  for (let i = 0; i < 30; i++) tf.tidy(() => tf.matMul(a, b).add(1));
  (globalThis as { gc?: () => void }).gc?.();
  for (let i = 0; i < 30; i++) tf.tidy(() => tf.matMul(a, b).mul(2));
  assert.equal(keepData[0], 300);
  assert.equal(keepData[keepData.length - 1], 300);
  assert.equal(keep.dataSync()[12345], 300);
  tf.dispose([a, b, keep]);
  await tf.setBackend(prev);
});
