/**
 * Parity of the native pooling kernels with the cpu backend: MaxPool, AvgPool, MaxPoolGrad, AvgPoolGrad.
 * Thresholds: max pooling and its gradient select values, so they must agree exactly (ties included: the
 * gradient goes to the first maximum of the window, as on cpu); average pooling and its gradient sum at most
 * KH*KW values: max |onednn - cpu| <= 1e-6 * max |cpu| (+1e-7).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectParity, tf, isNativeKernel } from './parity.js';
import { kernelStats } from '../src/kernels/shared-native-fallback.js';

const EXACT = { rtol: 0, atol: 0 };
const AVG = { rtol: 1e-6, atol: 1e-7 };
const nativeRuns = (k: string): number => kernelStats[k]?.native ?? 0;

test('pool kernels are registered natively', () => {
  for (const k of ['MaxPool', 'AvgPool', 'MaxPoolGrad', 'AvgPoolGrad']) assert.ok(isNativeKernel(k), k);
});

const shapes: [number, number, number, number][] = [
  [2, 7, 9, 5],
  [1, 8, 8, 70], // batch 1, more channels than one block of the native MaxPoolGrad
];
const configs: [number | [number, number], number | [number, number], 'same' | 'valid'][] = [
  [2, 2, 'valid'],
  [2, 2, 'same'],
  [3, 2, 'same'],
  [3, 2, 'valid'],
  [3, 1, 'same'],
  [[3, 2], [1, 2], 'same'],
];

test('MaxPool / AvgPool forward: window 2/3, stride 1/2, same/valid, odd sizes, batch 1', async () => {
  const m0 = nativeRuns('MaxPool');
  const a0 = nativeRuns('AvgPool');
  for (const xs of shapes) {
    for (const [f, s, pad] of configs) {
      const label = `[${xs}] f${f} s${s} ${pad}`;
      await expectParity((rand) => tf.maxPool(rand(xs) as tf.Tensor4D, f, s, pad), { ...EXACT, label: `max ${label}` });
      await expectParity((rand) => tf.avgPool(rand(xs) as tf.Tensor4D, f, s, pad), { ...AVG, label: `avg ${label}` });
    }
  }
  assert.ok(nativeRuns('MaxPool') >= m0 + 12);
  assert.ok(nativeRuns('AvgPool') >= a0 + 12);
});

test('MaxPool / AvgPool with numeric padding and dimRoundingMode', async () => {
  for (const rounding of ['floor', 'ceil', 'round'] as const) {
    await expectParity((rand) => tf.maxPool(rand([2, 8, 9, 3]) as tf.Tensor4D, 3, 2, 1, rounding), { ...EXACT, label: rounding });
    await expectParity((rand) => tf.avgPool(rand([2, 8, 9, 3]) as tf.Tensor4D, 3, 2, 1, rounding), { ...AVG, label: rounding });
  }
});

test('MaxPoolGrad / AvgPoolGrad through tf.grad: every config above', async () => {
  const m0 = nativeRuns('MaxPoolGrad');
  const a0 = nativeRuns('AvgPoolGrad');
  for (const xs of shapes) {
    for (const [f, s, pad] of configs) {
      const label = `[${xs}] f${f} s${s} ${pad}`;
      await expectParity(
        (rand) => {
          const x = rand(xs);
          const w = rand(tf.maxPool(x as tf.Tensor4D, f, s, pad).shape);
          return tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, f, s, pad).mul(w).sum())(x);
        },
        { ...AVG, label: `maxgrad ${label}` },
      );
      await expectParity(
        (rand) => {
          const x = rand(xs);
          const w = rand(tf.avgPool(x as tf.Tensor4D, f, s, pad).shape);
          return tf.grad((a: tf.Tensor) => tf.avgPool(a as tf.Tensor4D, f, s, pad).mul(w).sum())(x);
        },
        { ...AVG, label: `avggrad ${label}` },
      );
    }
  }
  assert.ok(nativeRuns('MaxPoolGrad') >= m0 + 12);
  assert.ok(nativeRuns('AvgPoolGrad') >= a0 + 12);
});

test('MaxPoolGrad with ties (ReLU zeros, small integers): gradient to the first maximum, as cpu', async () => {
  for (const [f, s, pad] of configs) {
    await expectParity(
      (rand) => {
        const x = tf.relu(rand([2, 7, 9, 5], { dist: 'int', lo: -3, hi: 3, dtype: 'float32' }));
        const w = rand(tf.maxPool(x as tf.Tensor4D, f, s, pad).shape);
        return tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, f, s, pad).mul(w).sum())(x);
      },
      { ...AVG, label: `ties f${f} s${s} ${pad}` },
    );
  }
});

test('pooling moderate size [8,28,28,16]: maxPool 2x2/2 + grad, avgPool 3x3/1 same + grad', async () => {
  await expectParity(
    (rand) => {
      const x = rand([8, 28, 28, 16]);
      const y = tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid');
      const g = tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid').square().sum())(x);
      const z = tf.avgPool(x as tf.Tensor4D, 3, 1, 'same');
      const h = tf.grad((a: tf.Tensor) => tf.avgPool(a as tf.Tensor4D, 3, 1, 'same').square().sum())(x);
      return [y, g, z, h];
    },
    AVG,
  );
});

test('1x1 pooling (identity) and non-float input fall back to cpu', async () => {
  await expectParity((rand) => tf.maxPool(rand([1, 4, 4, 2]) as tf.Tensor4D, 1, 1, 'valid'), EXACT);
  await expectParity((rand) => tf.maxPool(rand([1, 4, 4, 2], { dist: 'int' }) as tf.Tensor4D, 2, 2, 'valid'), EXACT);
});
