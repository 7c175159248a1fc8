/**
 * Fused ops (src/ops.ts, src/kernels/fused.ts, native/fused.cc): on `onednn` one kernel with its own gradient,
 * elsewhere the tfjs composition. Parity of values and gradients against the composition on `cpu`, known
 * answers (PyTorch's definitions), fewer saved bytes, no leaks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectParity, tf, available } from './parity.js';
import { attention, batchNormTrain, gelu, layerNorm } from '../src/ops.js';

test('gelu: values and gradient match the composition on cpu', { skip: !available }, async () => {
  for (const shape of [[7], [4, 33, 96], [2, 9, 9, 40]]) {
    await expectParity((rand) => gelu(rand(shape, 3)), { rtol: 2e-6, label: `gelu [${shape}]` });
    await expectParity((rand) => {
      const x = rand(shape, 3);
      const dy = rand(shape);
      return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(gelu(a), dy)))(x);
    }, { rtol: 2e-6, label: `gelu grad [${shape}]` });
  }
});

test('gelu: known answers (torch.nn.functional.gelu, approximate="none")', { skip: !available }, async () => {
  await tf.setBackend('onednn');
  const x = tf.tensor1d([-3, -1, 0, 0.5, 1, 2]);
  // float64 values of x * Phi(x) and of Phi(x) + x * phi(x) (Python math.erf)
  const want = [-0.00404969409489, -0.15865525393146, 0, 0.34573123063701, 0.84134474606854, 1.95449973610364];
  const dwant = [-0.01194564720418, -0.08331547058769, 0.5, 0.86749512465616, 1.08331547058769, 1.08523180107820];
  const got = await gelu(x).data();
  const dgot = await tf.grad((a: tf.Tensor) => tf.sum(gelu(a)))(x).data();
  want.forEach((w, i) => assert.ok(Math.abs(got[i]! - w) <= 3e-7, `gelu(${x.arraySync()[i]}) = ${got[i]}, want ${w}`));
  dwant.forEach((w, i) => assert.ok(Math.abs(dgot[i]! - w) <= 5e-7, `gelu'(${x.arraySync()[i]}) = ${dgot[i]}, want ${w}`));
  x.dispose();
});

test('layerNorm: values and gradients (x, gamma, beta) match the composition on cpu', { skip: !available }, async () => {
  for (const [shape, eps] of [[[3, 5, 64], 1e-6], [[2, 7, 7, 96], 1e-5], [[10, 3], 1e-5]] as const) {
    const C = shape[shape.length - 1]!;
    await expectParity((rand) => layerNorm(tf.add(rand([...shape], 2), 0.5), tf.add(rand([C]), 1), rand([C]), eps), {
      rtol: 2e-6, label: `layerNorm [${shape}]`,
    });
    await expectParity((rand) => {
      const x = tf.add(rand([...shape], 2), 0.5);
      const g = tf.add(rand([C]), 1);
      const b = rand([C]);
      const dy = rand([...shape]);
      return tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(layerNorm(a, gg, bb, eps), dy)))([x, g, b]);
    }, { rtol: 1e-5, label: `layerNorm grads [${shape}]` });
  }
});

test('layerNorm: known answer (torch.nn.LayerNorm) and the gradient invariants', { skip: !available }, async () => {
  await tf.setBackend('onednn');
  const x = tf.tensor2d([[1, 2, 3, 4], [-2, 0, 0, 2]]);
  const gamma = tf.tensor1d([1, 2, 0.5, 1]);
  const beta = tf.tensor1d([0, 1, 0, -1]);
  const y = await layerNorm(x, gamma, beta, 1e-5).data();
  // row 1: mean 2.5, var 1.25; row 2: mean 0, var 2
  const r1 = 1 / Math.sqrt(1.25 + 1e-5);
  const r2 = 1 / Math.sqrt(2 + 1e-5);
  const want = [-1.5 * r1, 2 * -0.5 * r1 + 1, 0.5 * 0.5 * r1, 1.5 * r1 - 1, -2 * r2, 1, 0, 2 * r2 - 1];
  want.forEach((w, i) => assert.ok(Math.abs(y[i]! - w) <= 1e-6, `y[${i}] = ${y[i]}, want ${w}`));
  // With gamma = 1: sum_j dx_j = 0 and sum_j dx_j xhat_j = 0 per row, for any dy; dbeta = sum dy over rows.
  const dy = tf.tensor2d([[0.3, -1, 2, 0.1], [1, 1, -0.5, 4]]);
  const [dx, , db] = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(layerNorm(a, g, b, 1e-5), dy)))([x, tf.ones([4]), tf.zeros([4])]);
  const dxv = await dx!.data();
  for (let r = 0; r < 2; r++) {
    const s = Array.from(dxv.slice(4 * r, 4 * r + 4)).reduce((p, q) => p + q, 0);
    assert.ok(Math.abs(s) < 1e-5, `row ${r}: sum dx = ${s}`);
  }
  assert.deepEqual(Array.from(await db!.data()), [1.3, 0, 1.5, 4.1].map((v) => Math.fround(v)));
  tf.dispose([x, gamma, beta, dy, dx!, db!]);
});

test('fused ops save less for the backward pass and leak nothing', { skip: !available }, async () => {
  await tf.setBackend('onednn');
  const x = tf.randomNormal([4, 50, 64]);
  const g = tf.variable(tf.ones([64]));
  const b = tf.variable(tf.zeros([64]));
  const before = tf.memory().numTensors;
  const savedBytes = (f: () => tf.Scalar): number => {
    let bytes = 0;
    const { value, grads } = tf.variableGrads(() => {
      const l = f();
      const tape = (tf.engine() as unknown as { state: { activeTape: { saved?: tf.Tensor[] }[] } }).state.activeTape;
      const ids = new Map<object, number>();
      for (const n of tape) for (const s of n.saved ?? []) ids.set(s.dataId, s.size * 4);
      for (const v of ids.values()) bytes += v;
      return l;
    }, [g, b]);
    tf.dispose([value, grads]);
    return bytes;
  };
  const fused = savedBytes(() => tf.sum(gelu(layerNorm(x, g, b, 1e-6))));
  const composed = savedBytes(() => tf.sum(tf.tidy(() => {
    const m = tf.mean(x, -1, true);
    const xc = tf.sub(x, m);
    const y = tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), 1e-6))), g), b);
    return tf.mul(y, tf.mul(0.5, tf.add(1, tf.erf(tf.div(y, Math.SQRT2)))));
  })));
  const xBytes = 4 * 50 * 64 * 4;
  // fused: x for LayerNorm, its output for GELU, GELU's output for the Sum (+ gamma, mean, rstd)
  assert.ok(fused <= 3.2 * xBytes, `fused: ${fused} bytes saved (x is ${xBytes})`);
  assert.ok(composed >= 5 * xBytes, `composed: ${composed} bytes saved`);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, g, b]);
});

test('attention: values and gradients (q, k, v, bias) match the composition on cpu', { skip: !available }, async () => {
  const cases: { B: number; N: number; C: number; H: number; bias?: boolean; nW?: number }[] = [
    { B: 2, N: 17, C: 24, H: 3 },
    { B: 3, N: 65, C: 64, H: 2 },
    { B: 4, N: 9, C: 12, H: 2, bias: true },
    { B: 6, N: 16, C: 32, H: 4, bias: true, nW: 3 },
  ];
  for (const { B, N, C, H, bias, nW } of cases) {
    const label = `attention B${B} N${N} C${C} H${H}${bias ? ' bias' : ''}${nW ? ` mask/${nW}` : ''}`;
    const make = (rand: Parameters<Parameters<typeof expectParity>[0]>[0]) => {
      const [q, k, v, dy] = [0, 1, 2, 3].map(() => rand([B, N, C]));
      const bt = bias ? rand([H, N, N]) : undefined;
      const mask = nW ? tf.mul(tf.cast(tf.greater(rand([nW, N, N]), 0.5), 'float32'), -100) : undefined;
      return { q: q!, k: k!, v: v!, dy: dy!, bt, mask };
    };
    await expectParity((rand) => {
      const { q, k, v, bt, mask } = make(rand);
      return attention(q, k, v, { numHeads: H, bias: bt, mask });
    }, { rtol: 2e-6, label });
    await expectParity((rand) => {
      const { q, k, v, dy, bt, mask } = make(rand);
      const xs = bt ? [q, k, v, bt] : [q, k, v];
      return tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(attention(a[0]!, a[1]!, a[2]!, { numHeads: H, bias: a[3], mask }), dy)))(xs);
    }, { rtol: 1e-5, label: `${label} grads` });
  }
});

test('attention: known answers (uniform weights average v; a dominant logit selects its token)', { skip: !available }, async () => {
  await tf.setBackend('onednn');
  const v = tf.tensor3d([[[1, 10], [2, 20], [3, 30], [6, 60]]]); // B 1, N 4, C 2, 2 heads of d 1
  const zeros = tf.zeros([1, 4, 2]);
  const avg = await attention(zeros, zeros, v, { numHeads: 2 }).data();
  assert.deepEqual(Array.from(avg), [3, 30, 3, 30, 3, 30, 3, 30]);
  // bias: head 0 attends token j = i + 1 (mod 4) with logit 100, head 1 token 0
  const b = tf.buffer([2, 4, 4]);
  for (let i = 0; i < 4; i++) {
    b.set(100, 0, i, (i + 1) % 4);
    b.set(100, 1, i, 0);
  }
  const bt = b.toTensor();
  const sel = await attention(zeros, zeros, v, { numHeads: 2, bias: bt }).data();
  assert.deepEqual(Array.from(sel), [2, 10, 3, 10, 6, 10, 1, 10]);
  tf.dispose([v, zeros, bt]);
});

test('batchNormTrain: values, statistics and gradients (x, gamma, beta) match tf.moments + tf.batchNorm on cpu', { skip: !available }, async () => {
  for (const shape of [[64, 10], [4, 9, 9, 16], [2, 30, 30, 8]]) {
    const C = shape[shape.length - 1]!;
    const make = (rand: Parameters<Parameters<typeof expectParity>[0]>[0]) =>
      [tf.add(tf.mul(rand(shape), 3), 1), tf.add(rand([C]), 1), rand([C]), rand(shape)] as const;
    await expectParity((rand) => {
      const [x, g, b] = make(rand);
      const r = batchNormTrain(x, g, b, 1e-5);
      return [r.y, r.mean, r.variance];
    }, { rtol: 2e-6, label: `batchNormTrain [${shape}]` });
    await expectParity((rand) => {
      const [x, g, b, dy] = make(rand);
      return tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(batchNormTrain(a, gg, bb, 1e-5).y, dy)))([x, g, b]);
    }, { rtol: 1e-5, label: `batchNormTrain grads [${shape}]` });
    // a loss that also uses the batch statistics: their gradients flow into x too
    await expectParity((rand) => {
      const [x, g, b, dy] = make(rand);
      return tf.grad((a: tf.Tensor) => {
        const r = batchNormTrain(a, g, b, 1e-3);
        return tf.add(tf.sum(tf.mul(r.y, dy)), tf.add(tf.sum(tf.mul(r.mean, 0.7)), tf.sum(tf.square(r.variance))));
      })(x);
    }, { rtol: 1e-5, label: `batchNormTrain stats grads [${shape}]` });
  }
});

test('batchNormTrain with residual and/or relu: values, statistics and gradients (x, gamma, beta, residual) match the composition on cpu', { skip: !available }, async () => {
  for (const shape of [[64, 10], [4, 9, 9, 16]]) {
    const C = shape[shape.length - 1]!;
    for (const [withResidual, relu] of [[true, true], [true, false], [false, true]] as const) {
      const label = `[${shape}] residual ${withResidual} relu ${relu}`;
      const make = (rand: Parameters<Parameters<typeof expectParity>[0]>[0]) =>
        [tf.add(tf.mul(rand(shape), 3), 1), tf.add(rand([C]), 1), rand([C]), rand(shape), rand(shape)] as const;
      const opts = (res: tf.Tensor) => ({ relu, ...(withResidual ? { residual: res } : {}) });
      await expectParity((rand) => {
        const [x, g, b, res] = make(rand);
        const r = batchNormTrain(x, g, b, 1e-5, opts(res));
        return [r.y, r.mean, r.variance];
      }, { rtol: 2e-6, label });
      await expectParity((rand) => {
        const [x, g, b, res, dy] = make(rand);
        const f = (a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor, rr: tf.Tensor) => tf.sum(tf.mul(batchNormTrain(a, gg, bb, 1e-5, opts(rr)).y, dy));
        return withResidual
          ? tf.grads(f)([x, g, b, res])
          : tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => f(a, gg, bb, res))([x, g, b]);
      }, { rtol: 1e-5, label: `grads ${label}` });
    }
  }
});

test('batchNormTrain with residual and relu: known answer, the residual gradient, a shape error, no leaks', { skip: !available }, async () => {
  await tf.setBackend('onednn');
  // channel 0: x = 1, 3, 5, 7 -> normalized (x - 4) / sqrt(5 + eps); + residual (0, 0, 0, -2) -> relu
  const x = tf.tensor2d([[1], [3], [5], [7]]);
  const res = tf.tensor2d([[0], [0], [0], [-2]]);
  const r = batchNormTrain(x, tf.ones([1]), tf.zeros([1]), 1e-5, { residual: res, relu: true });
  const s = Math.sqrt(5 + 1e-5);
  const want = [0, 0, 1 / s, Math.max(3 / s - 2, 0)];
  const y = await r.y.data();
  want.forEach((w, i) => assert.ok(Math.abs(y[i]! - w) < 1e-6, `y[${i}] = ${y[i]}, want ${w}`));
  // d sum(y) / d residual = 1 where y > 0, else 0
  const dres = await tf.grad((rr: tf.Tensor) => tf.sum(batchNormTrain(x, tf.ones([1]), tf.zeros([1]), 1e-5, { residual: rr, relu: true }).y))(res).data();
  assert.deepEqual(Array.from(dres), [0, 0, 1, 0]);
  assert.throws(() => batchNormTrain(x, tf.ones([1]), tf.zeros([1]), 1e-5, { residual: tf.zeros([2, 2]) }), /residual must have x's shape/);
  tf.dispose([x, res, r.y, r.mean, r.variance]);
  // no leaks over a few gradient steps
  const xv = tf.variable(tf.randomNormal([8, 5, 5, 4]));
  const rv = tf.variable(tf.randomNormal([8, 5, 5, 4]));
  const step = () => {
    const { value, grads } = tf.variableGrads(() => tf.sum(batchNormTrain(xv, tf.ones([4]), tf.zeros([4]), 1e-5, { residual: rv, relu: true }).y) as tf.Scalar);
    tf.dispose([value, ...Object.values(grads)]);
  };
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([xv, rv]);
});

test('batchNormTrain: statistics of data far from zero with a small spread (one pass, shifted sums) match float64', { skip: !available }, async () => {
  await tf.setBackend('onednn');
  // 4096 rows x 3 channels: mean 1000, 1, -50; spread 1e-2, 1, 1e-3; the first row (the shift) off by +-5 spreads
  const rows = 4096;
  const C = 3;
  const centre = [1000, 1, -50];
  const spread = [1e-2, 1, 1e-3];
  const data = new Float32Array(rows * C);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < C; c++) data[r * C + c] = centre[c]! + spread[c]! * (r === 0 ? 5 : Math.sin(r * 1.3 + c));
  }
  const r = batchNormTrain(tf.tensor2d(data, [rows, C]), tf.ones([C]), tf.zeros([C]), 1e-12);
  const [mean, variance, y] = await Promise.all([r.mean.data(), r.variance.data(), r.y.data()]);
  for (let c = 0; c < C; c++) {
    let m = 0;
    for (let i = 0; i < rows; i++) m += data[i * C + c]!;
    m /= rows;
    let v = 0;
    for (let i = 0; i < rows; i++) v += (data[i * C + c]! - m) ** 2;
    v /= rows;
    assert.ok(Math.abs(mean[c]! - m) <= 1e-6 * Math.abs(m), `mean[${c}] ${mean[c]} vs ${m}`);
    assert.ok(Math.abs(variance[c]! - v) <= 1e-4 * v, `variance[${c}] ${variance[c]} vs ${v}`);
  }
  // normalized: each channel has mean ~0 and variance ~1
  for (let c = 0; c < C; c++) {
    let s = 0;
    let q = 0;
    for (let i = 0; i < rows; i++) {
      s += y[i * C + c]!;
      q += y[i * C + c]! ** 2;
    }
    assert.ok(Math.abs(s / rows) < 1e-2 && Math.abs(q / rows - 1) < 1e-2, `channel ${c}: mean ${s / rows}, var ${q / rows}`);
  }
  tf.dispose([r.y, r.mean, r.variance]);
});

test('batchNormTrain: known answer (torch.nn.BatchNorm2d in training, biased variance for the normalization)', { skip: !available }, async () => {
  await tf.setBackend('onednn');
  const x = tf.tensor2d([[1, 10], [3, 10], [5, 13], [7, 11]]); // 4 rows, 2 channels
  const r = batchNormTrain(x, tf.tensor1d([2, 1]), tf.tensor1d([0, -1]), 1e-5);
  assert.deepEqual(Array.from(await r.mean.data()), [4, 11]);
  assert.deepEqual(Array.from(await r.variance.data()), [5, 1.5]);
  const y = await r.y.data();
  const want = [-3 * 2 / Math.sqrt(5 + 1e-5), -1 / Math.sqrt(1.5 + 1e-5) - 1];
  assert.ok(Math.abs(y[0]! - want[0]!) < 1e-6 && Math.abs(y[1]! - want[1]!) < 1e-6, `${y[0]}, ${y[1]}`);
  // d/dx of sum(y) is 0 (the mean removes any shift)
  const dx = await tf.grad((a: tf.Tensor) => tf.sum(batchNormTrain(a, tf.ones([2]), tf.zeros([2]), 1e-5).y))(x).data();
  dx.forEach((v) => assert.ok(Math.abs(v) < 1e-6, `dx ${v}`));
  tf.dispose([x, r.y, r.mean, r.variance]);
});
