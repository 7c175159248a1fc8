/**
 * Unary elementwise kernels (native/eltwise.cc) against the cpu backend: odd sizes, scalars, special values,
 * sizes above the parallel threshold, int32 fallbacks, gradients of composite functions (GELU via erf,
 * softplus, sigmoid/tanh chains), and no leaks.
 *
 * Thresholds (max |onednn - cpu| <= atol + rtol * max |cpu|): exact ops (Relu, Abs, Neg, Square, Sign,
 * Step, Relu6, Sqrt, Reciprocal, ClipByValue) 0; transcendental ones (own vectorized exp/log/tanh, ~1-2 ulp)
 * rtol 2e-6 — except erf (tfjs's own 1.5e-7 approximation, reproduced) atol 1e-6.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectParity, isNativeKernel, tf, available, type RandFn } from './parity.js';
import { kernelStats } from '../src/kernels/shared-native-fallback.js';

const SHAPES: number[][] = [[], [1], [7], [3, 5], [2, 3, 17], [301, 257]]; // last one above the parallel threshold

type U = (x: tf.Tensor) => tf.Tensor;
interface Case {
  kernel: string;
  fn: U;
  /** input generator: default standard normal */
  input?: (rand: RandFn, shape: number[]) => tf.Tensor;
  rtol?: number;
  atol?: number;
}

const pos = (rand: RandFn, s: number[]) => rand(s, { dist: 'uniform', lo: 1e-3, hi: 20 });
const wide = (rand: RandFn, s: number[]) => rand(s, { scale: 30 });

const CASES: Case[] = [
  { kernel: 'Relu', fn: (x) => tf.relu(x), rtol: 0, atol: 0 },
  { kernel: 'Relu6', fn: (x) => tf.relu6(x), input: (r, s) => r(s, 5), rtol: 0, atol: 0 },
  { kernel: 'Step', fn: (x) => tf.step(x, 0.3), rtol: 0, atol: 0 },
  { kernel: 'Elu', fn: (x) => tf.elu(x), rtol: 2e-6 },
  { kernel: 'Sigmoid', fn: (x) => tf.sigmoid(x), input: wide, rtol: 2e-6 },
  { kernel: 'Tanh', fn: (x) => tf.tanh(x), input: (r, s) => r(s, 3), rtol: 2e-6 },
  { kernel: 'Exp', fn: (x) => tf.exp(x), input: (r, s) => r(s, 20), rtol: 2e-6 },
  { kernel: 'Log', fn: (x) => tf.log(x), input: pos, rtol: 2e-6 },
  { kernel: 'Sqrt', fn: (x) => tf.sqrt(x), input: pos, rtol: 0, atol: 0 },
  { kernel: 'Rsqrt', fn: (x) => tf.rsqrt(x), input: pos, rtol: 2e-7 },
  { kernel: 'Square', fn: (x) => tf.square(x), rtol: 0, atol: 0 },
  { kernel: 'Abs', fn: (x) => tf.abs(x), rtol: 0, atol: 0 },
  { kernel: 'Neg', fn: (x) => tf.neg(x), rtol: 0, atol: 0 },
  { kernel: 'Erf', fn: (x) => tf.erf(x), input: (r, s) => r(s, 2), rtol: 0, atol: 1e-6 },
  { kernel: 'Sign', fn: (x) => tf.sign(x), rtol: 0, atol: 0 },
  { kernel: 'Reciprocal', fn: (x) => tf.reciprocal(x), input: pos, rtol: 0, atol: 0 },
  { kernel: 'Softplus', fn: (x) => tf.softplus(x), input: wide, rtol: 2e-6 },
  { kernel: 'Expm1', fn: (x) => tf.expm1(x), input: (r, s) => r(s, 3), rtol: 2e-6 },
  { kernel: 'Log1p', fn: (x) => tf.log1p(x), input: pos, rtol: 2e-6 },
  { kernel: 'LeakyRelu', fn: (x) => tf.leakyRelu(x, 0.1), rtol: 2e-7 }, // cpu multiplies by alpha in double
  { kernel: 'ClipByValue', fn: (x) => tf.clipByValue(x, -0.5, 0.7), rtol: 0, atol: 0 },
];

test('backend available', () => assert.ok(available));

test('every unary kernel is native for onednn', () => {
  for (const c of CASES) assert.ok(isNativeKernel(c.kernel), c.kernel);
  assert.ok(isNativeKernel('EluGrad'));
});

test('unary kernels: parity on odd sizes, scalars and large tensors', async () => {
  for (const c of CASES) {
    for (const shape of SHAPES) {
      const before = kernelStats[c.kernel]?.native ?? 0;
      await expectParity((rand) => c.fn((c.input ?? ((r: RandFn, s: number[]) => r(s)))(rand, shape)), {
        rtol: c.rtol ?? 1e-6,
        atol: c.atol ?? 1e-7,
        label: `${c.kernel} [${shape}]`,
      });
      assert.ok((kernelStats[c.kernel]?.native ?? 0) > before, `${c.kernel} [${shape}] ran natively`);
    }
  }
});

test('unary kernels: special values (0, -0, +-Inf, NaN, extremes) match the cpu kernels', async () => {
  const special = [0, -0, 1, -1, Infinity, -Infinity, NaN, 88.7, 88.73, 89, -87.3, -87.4, -88, -100, -104, 1e-30,
    -1e-30, 1e-8, -1e-8, 1e-4, -1e-4, 0.3, -0.3, 0.6, 0.65, -0.65, 6, 7, -13.9, -14, 13.9, 14, 30, -30, 1e38, -1e38,
    3.4e38, 1.2e-38, 1e-45];
  const exactish = new Set(['Relu', 'Relu6', 'Step', 'Abs', 'Neg', 'Sign', 'Square', 'Sqrt', 'Reciprocal', 'ClipByValue']);
  for (const c of CASES) {
    await expectParity(() => c.fn(tf.tensor1d(special)), {
      // denormal results are flushed to zero: atol covers them
      rtol: exactish.has(c.kernel) ? 0 : c.kernel === 'Erf' ? 0 : 2e-6,
      atol: c.kernel === 'Erf' ? 1e-6 : 1e-37,
      label: `${c.kernel} special`,
    });
  }
  // Elementwise relative accuracy of the transcendental functions where values are not tiny.
  await tf.setBackend('onednn');
  const xs = tf.linspace(-80, 80, 100001);
  // [name, argument (computed in float32), op, exact reference of op on that float32 argument]
  for (const [name, pre, f, ref] of [
    ['exp', (x: tf.Tensor) => x.clone(), (a: tf.Tensor) => tf.exp(a), Math.exp],
    ['tanh', (x: tf.Tensor) => tf.div(x, 20), (a: tf.Tensor) => tf.tanh(a), Math.tanh],
    ['sigmoid', (x: tf.Tensor) => tf.div(x, 4), (a: tf.Tensor) => tf.sigmoid(a), (v: number) => 1 / (1 + Math.exp(-v))],
    ['log', (x: tf.Tensor) => tf.add(tf.abs(x), 1e-3), (a: tf.Tensor) => tf.log(a), Math.log],
    ['expm1', (x: tf.Tensor) => tf.div(x, 40), (a: tf.Tensor) => tf.expm1(a), Math.expm1],
    ['log1p', (x: tf.Tensor) => tf.div(tf.abs(x), 80), (a: tf.Tensor) => tf.log1p(a), Math.log1p],
    ['softplus', (x: tf.Tensor) => tf.div(x, 4), (a: tf.Tensor) => tf.softplus(a),
      (v: number) => (v > 13.94 ? v : v < -13.94 ? Math.exp(v) : Math.log1p(Math.exp(v)))],
  ] as [string, U, U, (v: number) => number][]) {
    const a = tf.tidy(() => pre(xs));
    const got = tf.tidy(() => f(a)).dataSync();
    const av = a.dataSync();
    let worst = 0;
    for (let i = 0; i < av.length; i++) {
      const r = ref(av[i]!);
      if (Math.abs(r) < 1e-30) continue;
      worst = Math.max(worst, Math.abs(got[i]! - r) / Math.abs(r));
    }
    a.dispose();
    // ~1-3 ulp; softplus composes exp and log1p
    assert.ok(worst < (name === 'softplus' ? 8e-7 : 4e-7), `${name}: worst elementwise relative error ${worst}`);
  }
  xs.dispose();
});

test('unary kernels on int32 and Int32Array/Uint8Array-backed float32 tensors', async () => {
  // int32 inputs fall back to the cpu kernels (exact integer results, int32 dtype kept).
  for (const f of [(x: tf.Tensor) => tf.abs(x), (x: tf.Tensor) => tf.neg(x), (x: tf.Tensor) => tf.square(x),
    (x: tf.Tensor) => tf.relu(x), (x: tf.Tensor) => tf.sign(x)]) {
    await expectParity((rand) => f(rand([5, 9], { dist: 'int', lo: -50, hi: 50 })), { rtol: 0, atol: 0 });
  }
  // float32 tensors whose storage is an Int32Array (a lossless cast from int32) or Uint8Array (from bool).
  await expectParity((rand) => tf.exp(tf.cast(rand([4, 33], { dist: 'int', lo: -5, hi: 5 }), 'float32')), { rtol: 2e-6 });
  await expectParity((rand) => tf.sqrt(tf.cast(tf.greater(rand([4, 33]), 0), 'float32')), { rtol: 0, atol: 0 });
});

test('gradients of composite functions', async () => {
  const gelu = (x: tf.Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2))));
  const fns: [string, (x: tf.Tensor) => tf.Scalar][] = [
    ['gelu(erf)', (x) => tf.sum(tf.mul(gelu(x), x))],
    ['relu', (x) => tf.sum(tf.mul(tf.relu(x), x))],
    ['relu6', (x) => tf.sum(tf.relu6(tf.mul(x, 4)))],
    ['elu', (x) => tf.sum(tf.mul(tf.elu(x), x))],
    ['leakyRelu', (x) => tf.sum(tf.square(tf.leakyRelu(x, 0.2)))],
    ['sigmoid*tanh', (x) => tf.sum(tf.mul(tf.sigmoid(x), tf.tanh(x)))],
    ['softplus', (x) => tf.sum(tf.softplus(tf.mul(x, 3)))],
    ['exp/log', (x) => tf.sum(tf.log(tf.add(tf.exp(x), 1)))],
    ['sqrt/rsqrt/abs', (x) => tf.sum(tf.add(tf.sqrt(tf.add(tf.abs(x), 0.1)), tf.rsqrt(tf.add(tf.square(x), 1))))],
    ['reciprocal/neg', (x) => tf.sum(tf.neg(tf.reciprocal(tf.add(tf.abs(x), 0.5))))],
    ['clip', (x) => tf.sum(tf.mul(tf.clipByValue(x, -0.5, 0.5), x))],
  ];
  for (const [name, f] of fns) {
    for (const shape of [[3, 7], [257, 301]]) {
      await expectParity((rand) => tf.grad(f)(rand(shape)), { rtol: 1e-5, label: `grad ${name} [${shape}]` });
    }
  }
});

test('Relu gradient (fused LwlrReluGrad on onednn) is bit-identical to dy * step(x), NaN/Inf included', async () => {
  const sp = [0, -0, 1, -1, Infinity, -Infinity, NaN, 1e-30, -3];
  await expectParity(() => tf.grad((x: tf.Tensor) => tf.relu(x))(tf.tensor2d(sp, [sp.length, 1]).tile([1, sp.length]),
    tf.tensor2d(sp, [1, sp.length]).tile([sp.length, 1])), { rtol: 0, atol: 0 });
  await expectParity((rand) => tf.grad((x: tf.Tensor) => tf.relu(x))(rand([301, 257]), rand([301, 257])), { rtol: 0, atol: 0 });
});

test('the Relu gradient saves the output, not the input (conv -> BN -> ReLU keeps one tensor less)', async () => {
  await tf.setBackend('onednn');
  const x = tf.variable(tf.tensor1d([-1, 0.5, 2, -3]));
  let savedIds: object[] = [];
  let outId: object | null = null;
  const { value, grads } = tf.variableGrads(() => {
    const h = tf.mul(x, 2);
    const y = tf.relu(h);
    outId = y.dataId;
    const tape = (tf.engine() as unknown as { state: { activeTape: { kernelName: string; saved?: tf.Tensor[] }[] } }).state.activeTape;
    savedIds = tape.filter((n) => n.kernelName === 'Relu').flatMap((n) => (n.saved ?? []).map((t) => t.dataId));
    return tf.sum(tf.mul(y, tf.tensor1d([1, 2, 3, 4])));
  }, [x]);
  assert.deepEqual(savedIds, [outId]);
  assert.deepEqual(Array.from(await grads[x.name]!.data()), [0, 4, 6, 0]);
  tf.dispose([value, grads, x]);
});

test('Square gradient (fused LwlrSquareGrad on onednn) is bit-identical to dy * (x * 2), broadcast dy too', async () => {
  const sp = [0, -0, 1, -1, Infinity, -Infinity, NaN, 1e-30, -3, 3e38];
  await expectParity(() => tf.grad((x: tf.Tensor) => tf.square(x))(tf.tensor2d(sp, [sp.length, 1]).tile([1, sp.length]),
    tf.tensor2d(sp, [1, sp.length]).tile([sp.length, 1])), { rtol: 0, atol: 0 });
  await expectParity((rand) => tf.grad((x: tf.Tensor) => tf.square(x))(rand([301, 257]), rand([301, 257])), { rtol: 0, atol: 0 });
  // dy a (deferred) broadcast, as in the variance of tf.moments
  await expectParity((rand) => {
    const w = rand([1, 1, 1, 24]);
    return tf.grad((x: tf.Tensor) => tf.mul(tf.mean(tf.square(x), [0, 1, 2]), w))(rand([9, 11, 13, 24]));
  }, { rtol: 0, atol: 0 });
});

test('no tensor or data leaks', async () => {
  await tf.setBackend('onednn');
  const x = tf.randomNormal([33, 65]);
  const run = () => {
    for (const c of CASES) tf.tidy(() => { c.fn(c.kernel === 'Log' || c.kernel === 'Sqrt' ? tf.abs(x) : x); });
    tf.tidy(() => { tf.grad((v: tf.Tensor) => tf.sum(tf.elu(v)))(x); });
  };
  run();
  const before = tf.memory().numTensors;
  const ids = tf.engine().backend.numDataIds();
  for (let i = 0; i < 3; i++) run();
  assert.equal(tf.memory().numTensors, before);
  assert.equal(tf.engine().backend.numDataIds(), ids);
  x.dispose();
});
