/**
 * Fused optimizer kernels (native/optim.cc, registered for onednn only) against the same formulas composed
 * of tfjs ops on the cpu backend: 3 steps of SGD (plain, momentum, dampening, nesterov, weight decay) and
 * AdamW (with and without amsgrad), on odd and large sizes; LwlrSumAbs / LwlrSquaredNorm against Abs+Sum /
 * Square+Sum. Threshold: max |fused - composed| <= 1e-6 * max |composed| (+1e-7).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectParity, tf, type RandFn } from './parity.js';

const tol = { rtol: 1e-6, atol: 1e-7 };
const onFused = () => tf.getBackend() === 'onednn';

interface SgdOpts { lr: number; momentum: number; dampening: number; nesterov: boolean; weightDecay: number }

/** PyTorch 1.13 SGD composed of tfjs ops (the reference, run on cpu). */
function sgdComposed(p: tf.Tensor, g: tf.Tensor, buf: tf.Tensor | null, o: SgdOpts): [tf.Tensor, tf.Tensor | null] {
  let d = o.weightDecay !== 0 ? tf.add(g, tf.mul(tf.scalar(o.weightDecay), p)) : g;
  let b: tf.Tensor | null = null;
  if (o.momentum !== 0) {
    b = buf === null ? d : tf.add(tf.mul(tf.scalar(o.momentum), buf), tf.mul(tf.scalar(1 - o.dampening), d));
    d = o.nesterov ? tf.add(d, tf.mul(tf.scalar(o.momentum), b)) : b;
  }
  return [tf.sub(p, tf.mul(tf.scalar(o.lr), d)), b];
}

function sgdFused(p: tf.Tensor, g: tf.Tensor, buf: tf.Tensor | null, o: SgdOpts): [tf.Tensor, tf.Tensor | null] {
  const inputs: Record<string, tf.Tensor> = { param: p, grad: g };
  if (buf) inputs.buf = buf;
  const out = tf.engine().runKernel('LwlrSgdStep', inputs, { ...o, firstStep: buf === null } as unknown as tf.NamedAttrMap) as tf.Tensor[];
  assert.equal(out.length, o.momentum !== 0 ? 2 : 1);
  return [out[0]!, out[1] ?? null];
}

interface AdamOpts { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; amsgrad: boolean }

function adamComposed(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, vmax: tf.Tensor | null, step: number, o: AdamOpts) {
  const np = tf.mul(p, tf.scalar(1 - o.lr * o.weightDecay));
  const nm = tf.add(tf.mul(tf.scalar(o.beta1), m), tf.mul(tf.scalar(1 - o.beta1), g));
  const nv = tf.add(tf.mul(tf.scalar(o.beta2), v), tf.mul(tf.scalar(1 - o.beta2), tf.square(g)));
  const nvmax = o.amsgrad ? tf.maximum(vmax!, nv) : null;
  const denom = tf.add(tf.div(tf.sqrt(nvmax ?? nv), tf.scalar(Math.sqrt(1 - o.beta2 ** step))), tf.scalar(o.eps));
  const stepSize = o.lr / (1 - o.beta1 ** step);
  return [tf.sub(np, tf.mul(tf.scalar(stepSize), tf.div(nm, denom))), nm, nv, nvmax] as const;
}

function adamFused(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, vmax: tf.Tensor | null, step: number, o: AdamOpts) {
  const inputs: Record<string, tf.Tensor> = { param: p, grad: g, m, v };
  if (vmax) inputs.vmax = vmax;
  const out = tf.engine().runKernel('LwlrAdamWStep', inputs, { ...o, step } as unknown as tf.NamedAttrMap) as tf.Tensor[];
  assert.equal(out.length, o.amsgrad ? 4 : 3);
  return [out[0]!, out[1]!, out[2]!, out[3] ?? null] as const;
}

test('fused kernels are registered for onednn only', () => {
  for (const k of ['LwlrSgdStep', 'LwlrAdamWStep', 'LwlrSumAbs', 'LwlrSquaredNorm']) {
    assert.ok(tf.getKernel(k, 'onednn'), k);
    assert.equal(tf.getKernel(k, 'cpu'), undefined, k);
  }
});

test('LwlrSgdStep: 3 steps vs composed ops on cpu', async () => {
  const variants: SgdOpts[] = [
    { lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 },
    { lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 5e-4 },
    { lr: 0.05, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0 },
    { lr: 0.05, momentum: 0.9, dampening: 0.1, nesterov: false, weightDecay: 1e-3 },
    { lr: 0.05, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 1e-3 },
    { lr: 0.01, momentum: 0.5, dampening: 0.5, nesterov: true, weightDecay: 0 },
  ];
  for (const o of variants) {
    for (const shape of [[], [7], [33, 17], [301, 257]]) {
      await expectParity((rand: RandFn) => {
        let p = rand(shape);
        let buf: tf.Tensor | null = null;
        for (let step = 0; step < 3; step++) {
          const g = rand(shape);
          [p, buf] = (onFused() ? sgdFused : sgdComposed)(p, g, buf, o);
        }
        return buf ? [p, buf] : [p];
      }, { ...tol, label: `sgd ${JSON.stringify(o)} [${shape}]` });
    }
  }
});

test('LwlrAdamWStep: 3 steps vs composed ops on cpu, with and without amsgrad', async () => {
  const variants: AdamOpts[] = [
    { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, amsgrad: false },
    { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05, amsgrad: false },
    { lr: 1e-2, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.01, amsgrad: true },
  ];
  for (const o of variants) {
    for (const shape of [[], [7], [33, 17], [301, 257]]) {
      await expectParity((rand: RandFn) => {
        let p = rand(shape);
        let m = tf.zeros(shape);
        let v = tf.zeros(shape);
        let vmax: tf.Tensor | null = o.amsgrad ? tf.zeros(shape) : null;
        for (let step = 1; step <= 3; step++) {
          // gradients of changing magnitude so that amsgrad's max matters
          const g = rand(shape, step === 2 ? 0.1 : 1);
          [p, m, v, vmax] = (onFused() ? adamFused : adamComposed)(p, g, m, v, vmax, step, o);
        }
        return vmax ? [p, m, v, vmax] : [p, m, v];
      }, { ...tol, label: `adamw ${JSON.stringify(o)} [${shape}]` });
    }
  }
});

test('LwlrSumAbs / LwlrSquaredNorm vs Abs+Sum / Square+Sum', async () => {
  for (const shape of [[], [1], [7], [33, 17], [1001, 1003]]) {
    await expectParity((rand) => {
      const x = rand(shape);
      if (!onFused()) return [tf.sum(tf.abs(x)), tf.sum(tf.square(x))];
      return [tf.engine().runKernel('LwlrSumAbs', { x }) as tf.Tensor, tf.engine().runKernel('LwlrSquaredNorm', { x }) as tf.Tensor];
    }, { ...tol, label: `norms [${shape}]` });
  }
});

test('fused kernels reject non-float32 inputs and mismatched shapes; no leaks', async () => {
  await tf.setBackend('onednn');
  const p = tf.randomNormal([5, 4]);
  const gi = tf.ones([5, 4], 'int32');
  assert.throws(() => tf.engine().runKernel('LwlrSgdStep', { param: p, grad: gi }, { lr: 0.1, momentum: 0 }), /float32/);
  assert.throws(() => tf.engine().runKernel('LwlrSgdStep', { param: p, grad: tf.ones([4]) }, { lr: 0.1, momentum: 0 }), /shape/);
  const run = () => tf.tidy(() => {
    const g = tf.randomNormal([5, 4]);
    tf.engine().runKernel('LwlrSgdStep', { param: p, grad: g, buf: g }, { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0, firstStep: false });
    tf.engine().runKernel('LwlrAdamWStep', { param: p, grad: g, m: g, v: tf.square(g), vmax: tf.square(g) },
      { lr: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.01, step: 2, amsgrad: true });
    tf.engine().runKernel('LwlrSumAbs', { x: g });
  });
  run();
  const before = tf.memory().numTensors;
  const ids = tf.engine().backend.numDataIds();
  for (let i = 0; i < 3; i++) run();
  assert.equal(tf.memory().numTensors, before);
  assert.equal(tf.engine().backend.numDataIds(), ids);
  tf.dispose([p, gi]);
});
