/**
 * Parity of the native convolutions with the cpu backend: Conv2D, FusedConv2D, Conv2DBackpropInput,
 * Conv2DBackpropFilter, DepthwiseConv2dNative (+ backprops), FusedDepthwiseConv2D.
 * Threshold: max |onednn - cpu| <= 1e-5 * max |cpu| (+1e-6) (sums of up to a few thousand float32 products,
 * in a different order than the cpu kernel's).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectParity, tf, isNativeKernel } from './parity.js';
import { kernelStats } from '../src/kernels/shared-native-fallback.js';

const RTOL = 1e-5;
type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

const nativeRuns = (k: string): number => kernelStats[k]?.native ?? 0;

test('conv kernels are registered natively', () => {
  for (const k of [
    'Conv2D',
    'FusedConv2D',
    'Conv2DBackpropInput',
    'Conv2DBackpropFilter',
    'DepthwiseConv2dNative',
    'DepthwiseConv2dNativeBackpropInput',
    'DepthwiseConv2dNativeBackpropFilter',
    'FusedDepthwiseConv2D',
  ]) {
    assert.ok(isNativeKernel(k), k);
  }
});

test('Conv2D: kernel 1/3/7, stride 1/2, dilation 1/2, same/valid, odd sizes', async () => {
  const before = nativeRuns('Conv2D');
  let n = 0;
  for (const k of [1, 3, 7]) {
    for (const s of [1, 2]) {
      for (const d of [1, 2]) {
        if (s > 1 && d > 1) continue; // tfjs: strides or dilations must be 1
        for (const pad of ['same', 'valid'] as const) {
          const [h, w] = k === 7 ? [15, 14] : [9, 8];
          await expectParity(
            (rand) => tf.conv2d(rand([2, h, w, 3]) as tf.Tensor4D, rand([k, k, 3, 5]) as tf.Tensor4D, s, pad, 'NHWC', d),
            { rtol: RTOL, label: `k${k} s${s} d${d} ${pad}` },
          );
          n++;
        }
      }
    }
  }
  assert.ok(nativeRuns('Conv2D') >= before + n);
});

test('Conv2D: batch 1, explicit and numeric padding, rectangular stride, dimRoundingMode, NCHW', async () => {
  const cases: [number[], number[], [number, number] | number, Pad, 'NHWC' | 'NCHW', 'ceil' | 'floor' | 'round' | undefined][] = [
    [[1, 7, 7, 4], [3, 3, 4, 6], 1, 'same', 'NHWC', undefined],
    [[2, 8, 9, 3], [3, 2, 3, 4], [2, 1], 'valid', 'NHWC', undefined],
    [[2, 8, 9, 3], [3, 3, 3, 4], 1, [[0, 0], [1, 2], [0, 1], [0, 0]], 'NHWC', undefined],
    [[2, 8, 9, 3], [3, 3, 3, 4], 2, [[0, 0], [2, 0], [1, 1], [0, 0]], 'NHWC', undefined],
    [[2, 8, 9, 3], [3, 3, 3, 4], 2, 1, 'NHWC', 'ceil'],
    [[2, 8, 9, 3], [3, 3, 3, 4], 2, 1, 'NHWC', 'floor'],
    [[2, 3, 8, 9], [3, 3, 3, 4], 1, 'same', 'NCHW', undefined],
    [[2, 3, 8, 9], [3, 3, 3, 4], 2, 'valid', 'NCHW', undefined],
  ];
  for (const [xs, ws, s, pad, fmt, rounding] of cases) {
    await expectParity(
      (rand) =>
        tf.conv2d(rand(xs) as tf.Tensor4D, rand(ws) as tf.Tensor4D, s, pad as 'same', fmt, 1, rounding),
      { rtol: RTOL, label: `[${xs}]x[${ws}] s${s} pad ${JSON.stringify(pad)} ${fmt} ${rounding}` },
    );
  }
});

test('Conv2D gradients (Conv2DBackpropInput/Filter via tf.grads): kernel 1/3, stride 1/2, same/valid/explicit', async () => {
  const bi = nativeRuns('Conv2DBackpropInput');
  const bf = nativeRuns('Conv2DBackpropFilter');
  const pads: Pad[] = ['same', 'valid', [[0, 0], [1, 0], [2, 1], [0, 0]]];
  for (const k of [1, 3]) {
    for (const s of [1, 2]) {
      for (const pad of pads) {
        await expectParity(
          (rand) => {
            const x = rand([2, 9, 8, 3]);
            const w = rand([k, k, 3, 4]);
            return tf.grads((a: tf.Tensor, b: tf.Tensor) =>
              tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad as 'same').sin().sum(),
            )([x, w]);
          },
          { rtol: RTOL, label: `grad k${k} s${s} ${JSON.stringify(pad)}` },
        );
      }
    }
  }
  assert.ok(nativeRuns('Conv2DBackpropInput') >= bi + 12);
  assert.ok(nativeRuns('Conv2DBackpropFilter') >= bf + 12);
});

test('Conv2DBackpropInput where stride leaves input rows untouched (conv2dTranspose), NCHW backprops', async () => {
  await expectParity(
    (rand) => tf.conv2dTranspose(rand([2, 3, 3, 4]) as tf.Tensor4D, rand([3, 3, 5, 4]) as tf.Tensor4D, [2, 8, 8, 5], 2, 'valid'),
    { rtol: RTOL },
  );
  await expectParity(
    (rand) => tf.conv2dTranspose(rand([1, 4, 4, 4]) as tf.Tensor4D, rand([7, 7, 2, 4]) as tf.Tensor4D, [1, 8, 8, 2], 2, 'same'),
    { rtol: RTOL },
  );
  await expectParity(
    (rand) =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same', 'NCHW').square().sum())([
        rand([2, 3, 7, 8]),
        rand([3, 3, 3, 4]),
      ]),
    { rtol: RTOL },
  );
});

test('Conv2D moderate size [8,16,16,16] x [3,3,16,32] forward and gradients', async () => {
  await expectParity(
    (rand) => {
      const x = rand([8, 16, 16, 16]);
      const w = rand([3, 3, 16, 32], 0.2);
      const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same').square().sum(),
      )([x, w]);
      return [y, dx, dw];
    },
    { rtol: RTOL },
  );
});

test('FusedConv2D: bias + every activation, stride 2, and its gradients', async () => {
  const before = nativeRuns('FusedConv2D');
  const acts = ['linear', 'relu', 'relu6', 'leakyrelu', 'elu', 'sigmoid', 'prelu'] as const;
  for (const activation of acts) {
    await expectParity(
      (rand) =>
        tf.fused.conv2d({
          x: rand([2, 9, 8, 3], 2) as tf.Tensor4D,
          filter: rand([3, 3, 3, 5]) as tf.Tensor4D,
          strides: activation === 'relu' ? 2 : 1,
          pad: 'same',
          bias: rand([5]),
          activation,
          preluActivationWeights: activation === 'prelu' ? rand([5], { dist: 'uniform' }) : undefined,
          leakyreluAlpha: 0.25,
        }),
      { rtol: RTOL, label: activation },
    );
  }
  // no bias; scalar bias; a bias that is not per-channel (falls back to cpu, same result)
  await expectParity((rand) => tf.fused.conv2d({ x: rand([1, 6, 6, 2]) as tf.Tensor4D, filter: rand([3, 3, 2, 3]) as tf.Tensor4D, strides: 1, pad: 'valid', activation: 'relu' }), { rtol: RTOL });
  await expectParity((rand) => tf.fused.conv2d({ x: rand([1, 6, 6, 2]) as tf.Tensor4D, filter: rand([3, 3, 2, 3]) as tf.Tensor4D, strides: 1, pad: 'valid', bias: rand([1]) }), { rtol: RTOL });
  await expectParity((rand) => tf.fused.conv2d({ x: rand([1, 6, 6, 2]) as tf.Tensor4D, filter: rand([3, 3, 2, 3]) as tf.Tensor4D, strides: 1, pad: 'valid', bias: rand([4, 4, 3]) }), { rtol: RTOL });
  assert.ok(nativeRuns('FusedConv2D') >= before + acts.length + 2);
  await expectParity(
    (rand) => {
      const x = rand([2, 7, 7, 3]);
      const w = rand([3, 3, 3, 4]);
      const b = rand([4]);
      return tf.grads((a: tf.Tensor, f: tf.Tensor, c: tf.Tensor) =>
        tf.fused.conv2d({ x: a as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 1, pad: 'same', bias: c, activation: 'relu' }).square().sum(),
      )([x, w, b]);
    },
    { rtol: RTOL, label: 'fused conv grads' },
  );
});

test('DepthwiseConv2dNative: multiplier 1/2, kernel 1/3/7, stride 1/2, dilation 1/2, same/valid', async () => {
  const before = nativeRuns('DepthwiseConv2dNative');
  let n = 0;
  for (const mult of [1, 2]) {
    for (const k of [1, 3, 7]) {
      for (const [s, d] of [
        [1, 1],
        [2, 1],
        [1, 2],
      ]) {
        for (const pad of ['same', 'valid'] as const) {
          const [h, w] = k === 7 ? [15, 14] : [9, 8];
          await expectParity(
            (rand) => tf.depthwiseConv2d(rand([2, h, w, 3]) as tf.Tensor4D, rand([k, k, 3, mult]) as tf.Tensor4D, s, pad, 'NHWC', d),
            { rtol: RTOL, label: `mult${mult} k${k} s${s} d${d} ${pad}` },
          );
          n++;
        }
      }
    }
  }
  await expectParity(
    (rand) => tf.depthwiseConv2d(rand([1, 9, 9, 8]) as tf.Tensor4D, rand([3, 3, 8, 1]) as tf.Tensor4D, 1, [[0, 0], [1, 2], [2, 0], [0, 0]]),
    { rtol: RTOL, label: 'explicit pad' },
  );
  assert.ok(nativeRuns('DepthwiseConv2dNative') >= before + n);
});

test('Depthwise gradients (DepthwiseConv2dNativeBackpropInput/Filter): multiplier 1/2, stride 1/2, same/valid', async () => {
  const bi = nativeRuns('DepthwiseConv2dNativeBackpropInput');
  const bf = nativeRuns('DepthwiseConv2dNativeBackpropFilter');
  for (const mult of [1, 2]) {
    for (const s of [1, 2]) {
      for (const pad of ['same', 'valid'] as const) {
        await expectParity(
          (rand) =>
            tf.grads((a: tf.Tensor, b: tf.Tensor) =>
              tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad).sin().sum(),
            )([rand([2, 9, 8, 4]), rand([3, 3, 4, mult])]),
          { rtol: RTOL, label: `dw grad mult${mult} s${s} ${pad}` },
        );
      }
    }
  }
  // Dilation 2 through the kernels directly (tfjs computes no gradient of a dilated depthwise conv, and its
  // cpu backprop kernels ignore the dilation): the reference is the gradient of the equivalent undilated
  // conv with a zero-stuffed 5x5 filter, on cpu.
  const stuff = (w: tf.Tensor): tf.Tensor => {
    const [kh, kw, c, m] = w.shape;
    const src = w.arraySync() as number[][][][];
    const out = tf.buffer([2 * kh - 1, 2 * kw - 1, c, m]);
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++) for (let a = 0; a < c; a++) for (let b = 0; b < m; b++) out.set(src[i][j][a][b], 2 * i, 2 * j, a, b);
    return out.toTensor();
  };
  await expectParity(
    (rand) => {
      const x = rand([2, 9, 8, 3]);
      const w = rand([3, 3, 3, 2]);
      const dy = rand([2, 9, 8, 6]);
      if (tf.getBackend() === 'cpu') {
        const ws = stuff(w);
        const [dx, dws] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same').mul(dy).sum(),
        )([x, ws]);
        const dw = tf.stridedSlice(dws, [0, 0, 0, 0], [5, 5, 3, 2], [2, 2, 1, 1]);
        return [dx, dw];
      }
      return [
        tf.engine().runKernel(
          'DepthwiseConv2dNativeBackpropInput',
          { dy, filter: w },
          { strides: [1, 1], dilations: [2, 2], pad: 'same', inputShape: [2, 9, 8, 3] },
        ) as tf.Tensor,
        tf.engine().runKernel(
          'DepthwiseConv2dNativeBackpropFilter',
          { x, dy },
          { strides: [1, 1], dilations: [2, 2], pad: 'same', filterShape: [3, 3, 3, 2] },
        ) as tf.Tensor,
      ];
    },
    { rtol: RTOL, label: 'dw backprops dilation 2' },
  );
  assert.ok(nativeRuns('DepthwiseConv2dNativeBackpropInput') >= bi + 9);
  assert.ok(nativeRuns('DepthwiseConv2dNativeBackpropFilter') >= bf + 9);
});

test('FusedDepthwiseConv2D: bias + activations and its gradients', async () => {
  const before = nativeRuns('FusedDepthwiseConv2D');
  for (const activation of ['linear', 'relu', 'relu6', 'sigmoid', 'prelu'] as const) {
    await expectParity(
      (rand) =>
        tf.fused.depthwiseConv2d({
          x: rand([2, 8, 7, 4], 2) as tf.Tensor4D,
          filter: rand([3, 3, 4, 2]) as tf.Tensor4D,
          strides: 1,
          pad: 'same',
          bias: rand([8]),
          activation,
          preluActivationWeights: activation === 'prelu' ? rand([8], { dist: 'uniform' }) : undefined,
        }),
      { rtol: RTOL, label: activation },
    );
  }
  assert.ok(nativeRuns('FusedDepthwiseConv2D') >= before + 5);
  await expectParity(
    (rand) =>
      tf.grads((a: tf.Tensor, f: tf.Tensor, c: tf.Tensor) =>
        tf.fused
          .depthwiseConv2d({ x: a as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 2, pad: 'same', bias: c, activation: 'relu' })
          .square()
          .sum(),
      )([rand([2, 8, 7, 4]), rand([3, 3, 4, 1]), rand([4])]),
    { rtol: RTOL, label: 'fused depthwise grads' },
  );
});

test('no leak: 60 synchronous conv + pool + matmul training-like steps keep tensors and RSS flat', async () => {
  const prev = tf.getBackend();
  await tf.setBackend('onednn');
  const x = tf.randomNormal([16, 28, 28, 8]);
  const w = tf.variable(tf.randomNormal([3, 3, 8, 16], 0, 0.1));
  const d = tf.variable(tf.randomNormal([14 * 14 * 16, 10], 0, 0.05));
  const step = (): void => {
    const { value, grads } = tf.variableGrads(() =>
      tf.maxPool(tf.relu(tf.conv2d(x as tf.Tensor4D, w as unknown as tf.Tensor4D, 1, 'same')), 2, 2, 'valid')
        .reshape([16, -1])
        .matMul(d)
        .square()
        .mean() as tf.Scalar,
    );
    tf.tidy(() => {
      w.assign(w.sub(grads[w.name].mul(0.01)));
      d.assign(d.sub(grads[d.name].mul(0.01)));
    });
    tf.dispose([value, grads]);
  };
  for (let i = 0; i < 10; i++) step();
  const n0 = tf.memory().numTensors;
  const rss0 = process.memoryUsage().rss;
  for (let i = 0; i < 60; i++) step();
  assert.equal(tf.memory().numTensors, n0);
  const grewMB = (process.memoryUsage().rss - rss0) / 1e6;
  assert.ok(grewMB < 150, `RSS grew by ${grewMB.toFixed(0)} MB`);
  tf.dispose([x, w, d]);
  await tf.setBackend(prev);
});
