/** Adam-NG known answers: PyTorch 1.13 (AdamW on normalized gradients) and a float64 JS reference. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { AdamNG, AdamW, kernelsOnly } from '../src/optim/index.js';
import type { ParamInfo } from '../src/types.js';
import { assertNear, makeParam } from './optim-helpers.js';
import { useCpu } from './core-helpers.js';

await useCpu();

const K0 = [0.5, -0.3, 0.8, 0.1];
const B0 = [0.2, -0.4];
const GK = [[0.1, -0.2, 0.3, 0.05], [0, 0, 0, 0], [0.001, 0.0, -0.1, 0.2]]; // a zero gradient on step 2
const GB = [[0.4, -0.1], [0.2, 0.3], [-0.3, 0.1]];
const ETA = { k: 2.0, b: 0.5 };
const LRS = [0.01, 0.005, 0.002];

/*
 * Produced ONCE with PyTorch 1.13 (`/usr/bin/python3`, float32):
 *
 *   k = torch.tensor(K0).view(2,2).requires_grad_(); b = torch.tensor(B0).requires_grad_()
 *   opt = torch.optim.AdamW([{'params':[k],'weight_decay':0.05},{'params':[b],'weight_decay':0.0}],
 *                           lr=1.0, betas=(0.9,0.99), eps=1e-8)
 *   for t in range(3):
 *     opt.param_groups[0]['lr'] = lrs[t]*2.0; opt.param_groups[1]['lr'] = lrs[t]*0.5
 *     gk = torch.tensor(GK[t]).view(2,2); gb = torch.tensor(GB[t])
 *     k.grad = gk/(gk.norm()+1e-8); b.grad = gb/(gb.norm()+1e-8); opt.step()
 *     print([k.flatten().tolist(), b.tolist()])
 */
const TORCH = [
  [[0.4794999957084656, -0.27970001101493835, 0.77920001745224, 0.07989999651908875], [0.19500000774860382, -0.39500001072883606]],
  [[0.47254443168640137, -0.2728443443775177, 0.7720946073532104, 0.07314424216747284], [0.1926194727420807, -0.3963150084018707]],
  [[0.4703255891799927, -0.27070853114128113, 0.7713878750801086, 0.07031086087226868], [0.19247280061244965, -0.39691662788391113]],
];

/** float64 reference from adam-ng.ts's header formulas. */
function reference(beta1: number, beta2: number, eps: number, wdKernel: number): number[][][] {
  const w = { k: [...K0], b: [...B0] };
  const g = { k: GK, b: GB };
  const m = { k: [0, 0, 0, 0], b: [0, 0] };
  const v = { k: [0, 0, 0, 0], b: [0, 0] };
  const out: number[][][] = [];
  for (let t = 0; t < 3; t++) {
    const step = t + 1;
    for (const n of ['k', 'b'] as const) {
      const lr = LRS[t] * ETA[n];
      const wd = n === 'k' ? wdKernel : 0;
      const gn = Math.sqrt(g[n][t].reduce((a, x) => a + x * x, 0));
      const d = g[n][t].map((x) => x / (gn + 1e-8));
      m[n] = m[n].map((mi, i) => beta1 * mi + (1 - beta1) * d[i]);
      v[n] = v[n].map((vi, i) => beta2 * vi + (1 - beta2) * d[i] * d[i]);
      const bc1 = 1 - beta1 ** step;
      const bc2 = 1 - beta2 ** step;
      w[n] = w[n].map((wi, i) => {
        const a = m[n][i] / bc1 / (Math.sqrt(v[n][i]) / Math.sqrt(bc2) + eps);
        return wi - lr * (a + wd * wi);
      });
    }
    out.push([[...w.k], [...w.b]]);
  }
  return out;
}

function run(make: (p: ParamInfo[]) => AdamNG | AdamW, grads = { k: GK, b: GB }): number[][][] {
  const k = makeParam('k', 'kernel', K0, [2, 2]);
  const b = makeParam('b', 'bias', B0, [2]);
  const opt = make([k, b]);
  const out: number[][][] = [];
  for (let t = 0; t < 3; t++) {
    const gk = tf.tensor(grads.k[t], [2, 2]);
    const gb = tf.tensor(grads.b[t], [2]);
    opt.step({ k: gk, b: gb });
    tf.dispose([gk, gb]);
    out.push([Array.from(k.variable.dataSync()), Array.from(b.variable.dataSync())]);
  }
  opt.dispose();
  tf.dispose([k.variable, b.variable]);
  return out;
}

test('Adam-NG: kernel-only decoupled decay, schedule, non-uniform eta, a zero gradient: 3 steps = PyTorch and float64', () => {
  const got = run((p) => new AdamNG(p, { lr: (s) => LRS[s], eta: ETA, beta2: 0.99, weightDecay: 0.05, weightDecayMask: kernelsOnly }));
  const ref = reference(0.9, 0.99, 1e-8, 0.05);
  for (let t = 0; t < 3; t++) {
    for (const j of [0, 1]) {
      assertNear(got[t][j], TORCH[t][j], 1e-6, `torch step ${t + 1} ${j ? 'b' : 'k'}`);
      assertNear(got[t][j], ref[t][j], 1e-6, `reference step ${t + 1} ${j ? 'b' : 'k'}`);
    }
  }
  assert.ok(got.flat(2).every(Number.isFinite));
});

test('Adam-NG is AdamW on g / (||g|| + eps): same result as AdamW fed pre-normalized gradients', () => {
  const normalized = {
    k: GK.map((g) => { const n = Math.hypot(...g); return g.map((x) => x / (n + 1e-8)); }),
    b: GB.map((g) => { const n = Math.hypot(...g); return g.map((x) => x / (n + 1e-8)); }),
  };
  const ng = run((p) => new AdamNG(p, { lr: 1e-2, eta: ETA, weightDecay: 0.1, amsgrad: true }));
  const aw = run((p) => new AdamW(p, { lr: 1e-2, eta: ETA, weightDecay: 0.1, amsgrad: true, fused: 'never' }), normalized);
  for (let t = 0; t < 3; t++) for (const j of [0, 1]) assertNear(ng[t][j], aw[t][j], 1e-6, `step ${t + 1} ${j}`);
});

test('Adam-NG: gradient scale does not matter (x1000 gives the same steps)', () => {
  const scaled = { k: GK.map((g) => g.map((x) => x * 1000)), b: GB.map((g) => g.map((x) => x * 1000)) };
  const a = run((p) => new AdamNG(p, { lr: 1e-2, eta: ETA }));
  const b = run((p) => new AdamNG(p, { lr: 1e-2, eta: ETA }), scaled);
  for (let t = 0; t < 3; t++) for (const j of [0, 1]) assertNear(a[t][j], b[t][j], 1e-6, `step ${t + 1} ${j}`);
});
