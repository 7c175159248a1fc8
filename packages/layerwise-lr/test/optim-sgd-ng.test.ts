/** SGD-NG and SGD-NG_adap known answers against an independent float64 JS reference. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { SGDNG, createOptimizer, kernelsOnly, normalizeGradient, scaleByParamNorm } from '../src/optim/index.js';
import type { ParamInfo } from '../src/types.js';
import { assertNear, makeParam } from './optim-helpers.js';
import { useCpu } from './core-helpers.js';

await useCpu();

// A kernel, a zero-initialized bias (||w|| = 0 for SGD-NG_adap), a kernel with a zero gradient on step 2.
const INIT: Record<string, number[]> = { k: [0.5, -0.3, 0.8, 0.1], b: [0, 0], f: [1, -1] };
const SHAPE: Record<string, number[]> = { k: [2, 2], b: [2], f: [2] };
const KIND = { k: 'kernel', b: 'bias', f: 'kernel' } as const;
const GRADS: Record<string, number[][]> = {
  k: [[0.1, -0.2, 0.3, 0.05], [-0.005, 0.1, 0.02, -0.1], [0.001, 0.0, -0.1, 0.2]],
  b: [[0.4, -0.1], [0.2, 0.3], [-0.3, 0.1]],
  f: [[0.1, 0.2], [0, 0], [0.3, -0.1]],
};
const ETA = { k: 2.0, b: 0.5, f: 1.5 };
const NAMES = ['k', 'b', 'f'] as const;
const LRS = [0.1, 0.05, 0.02];

interface RefOptions {
  momentum: number; dampening?: number; nesterov?: boolean; wd: number; decayBias: boolean;
  adaptive: boolean; minWeightNorm?: number; normEps?: number;
}

/** Plain float64 arithmetic, written from the formulas in sgd-ng.ts's header. */
function reference(o: RefOptions): number[][][] {
  const { momentum, dampening = 0, nesterov = false, wd, decayBias, adaptive, minWeightNorm = 1e-3, normEps = 1e-8 } = o;
  const w: Record<string, number[]> = Object.fromEntries(NAMES.map((n) => [n, [...INIT[n]]]));
  const buf: Record<string, number[] | undefined> = {};
  const norm = (x: number[]): number => Math.sqrt(x.reduce((a, v) => a + v * v, 0));
  const out: number[][][] = [];
  for (let t = 0; t < 3; t++) {
    for (const n of NAMES) {
      const lr = LRS[t] * ETA[n];
      const g = GRADS[n][t];
      const gn = norm(g);
      let d = g.map((x) => x / (gn + normEps));
      if (adaptive) {
        const s = Math.max(norm(w[n]), minWeightNorm);
        d = d.map((x) => x * s);
      }
      const wdHere = n === 'b' && !decayBias ? 0 : wd;
      d = d.map((x, i) => x + wdHere * w[n][i]);
      if (momentum !== 0) {
        const prev = buf[n];
        buf[n] = prev == null ? [...d] : prev.map((bi, i) => momentum * bi + (1 - dampening) * d[i]);
        d = nesterov ? d.map((x, i) => x + momentum * buf[n]![i]) : [...buf[n]!];
      }
      w[n] = w[n].map((wi, i) => wi - lr * d[i]);
    }
    out.push(NAMES.map((n) => [...w[n]]));
  }
  return out;
}

function run(make: (p: ParamInfo[]) => SGDNG): number[][][] {
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

test('SGD-NG: momentum, kernel-only decay, schedule, non-uniform eta, a zero gradient: 3 steps = float64 reference', () => {
  const got = run((p) => new SGDNG(p, { lr: (s) => LRS[s], eta: ETA, momentum: 0.9, weightDecay: 0.01, weightDecayMask: kernelsOnly }));
  check(got, reference({ momentum: 0.9, wd: 0.01, decayBias: false, adaptive: false }), 'sgd-ng');
});

test('SGD-NG: first step moves each tensor by exactly lr * eta (unit-norm direction), a zero gradient by nothing', () => {
  const k = makeParam('k', 'kernel', [1, 1], [2]);
  const z = makeParam('z', 'kernel', [2, 3], [2]);
  const opt = new SGDNG([k, z], { lr: 0.1, eta: { k: 3, z: 1 }, momentum: 0 });
  opt.step({ k: tf.tensor([3, 4]), z: tf.zeros([2]) });
  assertNear(k.variable.dataSync(), [1 - 0.3 * 0.6, 1 - 0.3 * 0.8], 1e-7, 'k'); // ||g|| = 5
  assert.deepEqual(Array.from(z.variable.dataSync()), [2, 3]);
  opt.dispose();
  tf.dispose([k.variable, z.variable]);
});

test('SGD-NG nesterov + dampening on every tensor decayed: 3 steps = float64 reference', () => {
  const got = run((p) => new SGDNG(p, { lr: (s) => LRS[s], eta: ETA, momentum: 0.8, nesterov: true, weightDecay: 0.02 }));
  check(got, reference({ momentum: 0.8, nesterov: true, wd: 0.02, decayBias: true, adaptive: false }), 'nesterov');
  const got2 = run((p) => new SGDNG(p, { lr: (s) => LRS[s], eta: ETA, momentum: 0.9, dampening: 0.3 }));
  check(got2, reference({ momentum: 0.9, dampening: 0.3, wd: 0, decayBias: true, adaptive: false }), 'dampening');
});

test('SGD-NG_adap: steps scaled by max(||w||, minWeightNorm); the zero bias moves by minWeightNorm, never NaN', () => {
  const got = run((p) => new SGDNG(p, { lr: (s) => LRS[s], eta: ETA, adaptive: true, weightDecay: 0.01, weightDecayMask: kernelsOnly }));
  check(got, reference({ momentum: 0.9, wd: 0.01, decayBias: false, adaptive: true }), 'adap');
  // first bias step: w = 0 - lr*eta * 1e-3 * g/||g||
  const gb = GRADS.b[0];
  const nb = Math.hypot(...gb);
  assertNear(got[0][1], gb.map((g) => -0.1 * 0.5 * 1e-3 * g / nb), 1e-9, 'bias step 1');
  const got2 = run((p) => new SGDNG(p, { lr: (s) => LRS[s], eta: ETA, adaptive: true, minWeightNorm: 0.5, momentum: 0 }));
  check(got2, reference({ momentum: 0, wd: 0, decayBias: true, adaptive: true, minWeightNorm: 0.5 }), 'adap minWeightNorm 0.5');
  const frozen = run((p) => new SGDNG(p, { lr: (s) => LRS[s], eta: ETA, adaptive: true, minWeightNorm: 0 }));
  assert.deepEqual(frozen.map((s) => s[1]), [[0, 0], [0, 0], [0, 0]], 'minWeightNorm 0: a zero tensor stays put');
});

test('sgd-ng-adap from the registry equals SGDNG({ adaptive: true })', () => {
  const a = run((p) => createOptimizer('sgd-ng-adap', p, { lr: (s: number) => LRS[s], eta: ETA }) as SGDNG);
  const b = run((p) => new SGDNG(p, { lr: (s) => LRS[s], eta: ETA, adaptive: true }));
  assert.deepEqual(a, b);
  const c = run((p) => createOptimizer('sgd-ng', p, { lr: (s: number) => LRS[s], eta: ETA }) as SGDNG);
  check(c, reference({ momentum: 0.9, wd: 0, decayBias: true, adaptive: false }), 'registry sgd-ng');
});

test('normalizeGradient / scaleByParamNorm validate their options', () => {
  assert.throws(() => normalizeGradient({ eps: 0 }), /eps must be > 0/);
  assert.throws(() => normalizeGradient({ eps: -1 }), />= 0/);
  assert.throws(() => scaleByParamNorm({ minNorm: Number.NaN }), /finite/);
  assert.deepEqual(scaleByParamNorm().config, { minNorm: 1e-3 });
});
