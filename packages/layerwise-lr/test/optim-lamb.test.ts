/** LAMB known answers against an independent float64 JS reference; kernel-only decay and trust ratio. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { AdamW, LAMB, decayAll, scaleByTrustRatio } from '../src/optim/index.js';
import { polynomialDecayWithWarmup } from '../src/schedule.js';
import type { ParamInfo } from '../src/types.js';
import { assertNear, makeParam } from './optim-helpers.js';
import { useCpu } from './core-helpers.js';

await useCpu();

// A kernel, a bias (plain Adam), a norm scale (plain Adam), a zero-initialized kernel (||w|| = 0 on step 1)
// and a kernel whose gradient is zero on step 1 (zero Adam update, ||u|| = 0 without decay).
const INIT: Record<string, number[]> = { k: [0.5, -0.3, 0.8, 0.1], b: [0.2, -0.4], s: [1, 1.5], z: [0, 0], f: [1, -1] };
const SHAPE: Record<string, number[]> = { k: [2, 2], b: [2], s: [2], z: [2], f: [2] };
const KIND = { k: 'kernel', b: 'bias', s: 'scale', z: 'kernel', f: 'kernel' } as const;
const GRADS: Record<string, number[][]> = {
  k: [[0.1, -0.2, 0.3, 0.05], [-0.005, 0.1, 0.02, -0.1], [0.001, 0.0, -0.1, 0.2]],
  b: [[0.4, -0.1], [0.2, 0.3], [-0.3, 0.1]],
  s: [[0.05, 0.01], [-0.02, 0.3], [0.1, 0.1]],
  z: [[0.3, -0.4], [0.1, 0.1], [-0.2, 0.05]],
  f: [[0, 0], [0.1, 0.2], [0.3, -0.1]],
};
const ETA = { k: 2.0, b: 0.5, s: 1.2, z: 1.0, f: 1.5 };
const NAMES = ['k', 'b', 's', 'z', 'f'] as const;
const LRS = [0.01, 0.005, 0.002];

/** float64 reference from lamb.ts's header formulas (kernels: decay + trust ratio; others: plain Adam). */
function reference(
  beta1: number, beta2: number, eps: number, wd: number, lrs = LRS, masked = (n: string): boolean => KIND[n as keyof typeof KIND] === 'kernel',
): { values: number[][][]; ratios: number[][] } {
  const w: Record<string, number[]> = Object.fromEntries(NAMES.map((n) => [n, [...INIT[n]]]));
  const m: Record<string, number[]> = Object.fromEntries(NAMES.map((n) => [n, INIT[n].map(() => 0)]));
  const v: Record<string, number[]> = Object.fromEntries(NAMES.map((n) => [n, INIT[n].map(() => 0)]));
  const norm = (x: number[]): number => Math.sqrt(x.reduce((a, y) => a + y * y, 0));
  const values: number[][][] = [];
  const ratios: number[][] = [];
  for (let t = 0; t < 3; t++) {
    const step = t + 1;
    const r: number[] = [];
    for (const n of NAMES) {
      const lr = lrs[t] * ETA[n];
      const g = GRADS[n][t];
      m[n] = m[n].map((mi, i) => beta1 * mi + (1 - beta1) * g[i]);
      v[n] = v[n].map((vi, i) => beta2 * vi + (1 - beta2) * g[i] * g[i]);
      const bc1 = 1 - beta1 ** step;
      const bc2 = 1 - beta2 ** step;
      let u = m[n].map((mi, i) => mi / bc1 / (Math.sqrt(v[n][i]) / Math.sqrt(bc2) + eps));
      let ratio = 1;
      if (masked(n)) {
        u = u.map((ui, i) => ui + wd * w[n][i]);
        const wn = norm(w[n]);
        const un = norm(u);
        ratio = wn > 0 && un > 0 ? wn / un : 1;
      }
      r.push(ratio);
      w[n] = w[n].map((wi, i) => wi - lr * ratio * u[i]);
    }
    values.push(NAMES.map((n) => [...w[n]]));
    ratios.push(r);
  }
  return { values, ratios };
}

function run(make: (p: ParamInfo[]) => LAMB | AdamW): number[][][] {
  const ps = NAMES.map((n) => makeParam(n, KIND[n], INIT[n], SHAPE[n]));
  const opt = make(ps);
  const out: number[][][] = [];
  for (let t = 0; t < 3; t++) {
    const g = Object.fromEntries(NAMES.map((n) => [n, tf.tensor(GRADS[n][t], SHAPE[n])]));
    opt.step(g);
    tf.dispose(Object.values(g));
    out.push(ps.map((p) => Array.from(p.variable.dataSync())));
  }
  opt.dispose();
  tf.dispose(ps.map((p) => p.variable));
  return out;
}

function check(got: number[][][], expected: number[][][], what: string): void {
  for (let t = 0; t < 3; t++) NAMES.forEach((n, j) => assertNear(got[t][j], expected[t][j], 1e-6, `${what} step ${t + 1} ${n}`));
  assert.ok(got.flat(2).every(Number.isFinite), `${what}: finite`);
}

test('LAMB: Adam moments + bias correction, kernel-only decay and trust ratio, zero norms: 3 steps = float64 reference', () => {
  const got = run((p) => new LAMB(p, { lr: (s) => LRS[s], eta: ETA, weightDecay: 0.1, beta2: 0.99 }));
  const ref = reference(0.9, 0.99, 1e-6, 0.1);
  check(got, ref.values, 'lamb');
  // z has ||w|| = 0 on step 1: ratio 1 (its step is the plain Adam step); f's zero gradient still has
  // ||u|| = wd * ||w|| != 0 here, so it decays by a real ratio (the wd = 0 case is the next test)
  assert.equal(ref.ratios[0][NAMES.indexOf('z')], 1);
  assert.ok(ref.ratios[0][NAMES.indexOf('k')] !== 1 && ref.ratios[1][NAMES.indexOf('z')] !== 1);
});

test('LAMB without decay: a zero gradient gives ||u|| = 0 and ratio 1 (no NaN); first kernel step has norm lr*eta*||w||', () => {
  const got = run((p) => new LAMB(p, { lr: (s) => LRS[s], eta: ETA, weightDecay: 0 }));
  const ref = reference(0.9, 0.999, 1e-6, 0);
  check(got, ref.values, 'lamb wd=0');
  assert.equal(ref.ratios[0][NAMES.indexOf('f')], 1);
  assert.deepEqual(got[0][NAMES.indexOf('f')], INIT.f, 'f does not move on its zero-gradient step');
  const k = NAMES.indexOf('k');
  const stepNorm = Math.hypot(...got[0][k].map((x, i) => x - INIT.k[i]));
  assertNear([stepNorm], [LRS[0] * ETA.k * Math.hypot(...INIT.k)], 1e-7, '||w1 - w0||');
});

test('LAMB: biases and norm scales move exactly as Adam (bit-identical to AdamW with wd 0)', () => {
  const lamb = run((p) => new LAMB(p, { lr: (s) => LRS[s], eta: ETA, weightDecay: 0.1 }));
  const adam = run((p) => new AdamW(p, { lr: (s) => LRS[s], eta: ETA, weightDecay: 0, eps: 1e-6, fused: 'never' }));
  for (const n of ['b', 's'] as const) {
    const j = NAMES.indexOf(n);
    assert.deepEqual(lamb.map((s) => s[j]), adam.map((s) => s[j]), n);
  }
  assert.notDeepEqual(lamb.map((s) => s[0]), adam.map((s) => s[0]), 'the kernel takes the LAMB step');
});

test('LAMB with decay and trust ratio on every tensor (masks), and the polynomial warmup schedule', () => {
  const sched = polynomialDecayWithWarmup({ peak: 0.01, warmupSteps: 1, totalSteps: 4, warmupStart: 0.002 });
  const lrs = [0, 1, 2].map((s) => sched(s));
  assert.deepEqual(lrs.map((x) => Math.round(x * 1e6) / 1e6), [0.002, 0.01, 0.006667]);
  const got = run((p) => new LAMB(p, { lr: sched, eta: ETA, weightDecay: 0.1, weightDecayMask: decayAll, trustMask: decayAll }));
  check(got, reference(0.9, 0.999, 1e-6, 0.1, lrs, () => true).values, 'all masks');
});

test('scaleByTrustRatio: ||w||/||u||, 1 when either is zero, no leaks', () => {
  const n0 = tf.memory().numTensors;
  const w = tf.tensor([3, 4]);
  const t = scaleByTrustRatio();
  const ctx = (param: tf.Tensor) => ({ param } as unknown as Parameters<typeof t.update>[1]);
  const out = tf.tidy(() => [
    t.update(tf.tensor([0.6, 0.8]), ctx(w)).arraySync() as number[], // ratio 5
    t.update(tf.tensor([0.6, 0.8]), ctx(tf.zeros([2]))).arraySync() as number[], // ||w|| = 0: ratio 1
    t.update(tf.zeros([2]), ctx(w)).arraySync() as number[], // ||u|| = 0: 0
  ]);
  assertNear(out[0], [3, 4], 1e-6, 'ratio');
  assertNear(out[1], [0.6, 0.8], 1e-7, 'zero w');
  assert.deepEqual(out[2], [0, 0]);
  w.dispose();
  assert.equal(tf.memory().numTensors, n0);
});
