import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { AdamW, kernelsOnly } from '../src/optim/index.js';
import type { ParamInfo } from '../src/types.js';
import { makeParam, assertNear } from './optim-helpers.js';
import { useCpu } from './core-helpers.js';

await useCpu();



const K0 = [0.5, -0.3, 0.8, 0.1]; // fc1.kernel [2, 2]
const B0 = [0.2, -0.4]; // fc1.bias [2]
// Kernel entry 0 shrinks by > 10x from step to step, so with beta2 = 0.99 its v decreases and amsgrad's max matters.
const GK = [[0.1, -0.2, 0.3, 0.05], [-0.005, 0.1, 0.02, -0.1], [0.001, 0.0, -0.1, 0.2]];
const GB = [[0.4, -0.1], [0.2, 0.3], [-0.3, 0.1]];
const ETA = { 'fc1.kernel': 2.0, 'fc1.bias': 0.5 };

/*
 * Expected values produced ONCE with PyTorch 1.13 (`/usr/bin/python3`, float32), one param group per
 * tensor with lr = schedule[t] * eta (eta = 2 kernel, 0.5 bias) set before each step, p.grad = GK[t] / GB[t]:
 *
 *   opt = torch.optim.AdamW([{'params':[k],'lr':lr0*2.0}, {'params':[b],'lr':lr0*0.5}], lr=1, weight_decay=0.1, ...)
 *   for t in range(3):
 *     opt.param_groups[0]['lr'] = lrs[t]*2.0; opt.param_groups[1]['lr'] = lrs[t]*0.5
 *     k.grad = torch.tensor(GK[t]).view(2,2); b.grad = None if skip(t) else torch.tensor(GB[t]); opt.step()
 */
const TORCH_ADAMW = {
  // weight_decay=0.1, betas=(0.9, 0.999), eps=1e-8, lr 0.01; the bias has NO gradient at step 2 (grad None:
  // torch skips it, its step count stays 1, so at step 3 its bias correction uses t = 2).
  skipBiasAtStep2: [
    [[0.479000002, -0.279400021, 0.778400064, 0.0798000097], [0.194900006, -0.394800007]],
    [[0.465401173, -0.273514479, 0.762481391, 0.0869624838], [0.194900006, -0.394800007]],
    [[0.454571754, -0.26884988, 0.754458845, 0.0783954486], [0.194355935, -0.394865751]],
  ],
  // amsgrad=True, weight_decay=0.1, betas=(0.8, 0.99), eps=1e-6, lrs = [0.01, 0.02, 0.005]
  amsgrad: [
    [[0.479000211, -0.27940014, 0.778400123, 0.0798004046], [0.194900006, -0.394800067]],
    [[0.453573316, -0.269837081, 0.748118103, 0.0963210985], [0.185555875, -0.399860233]],
    [[0.448811322, -0.268044978, 0.744940758, 0.0915325731], [0.185126752, -0.4012371]],
  ],
};

function runThreeSteps(make: (params: ParamInfo[]) => AdamW, skipBiasAt = -1): number[][][] {
  const k = makeParam('fc1.kernel', 'kernel', K0, [2, 2]);
  const b = makeParam('fc1.bias', 'bias', B0, [2]);
  const opt = make([k, b]);
  const out: number[][][] = [];
  for (let t = 0; t < 3; t++) {
    const grads: Record<string, tf.Tensor> = { [k.variable.name]: tf.tensor(GK[t], [2, 2]) };
    if (t !== skipBiasAt) grads[b.variable.name] = tf.tensor(GB[t], [2]);
    opt.applyGradients(grads);
    tf.dispose(Object.values(grads));
    out.push([Array.from(k.variable.dataSync()), Array.from(b.variable.dataSync())]);
  }
  opt.dispose();
  tf.dispose([k.variable, b.variable]);
  return out;
}

function checkAgainst(expected: number[][][], got: number[][][], label: string): void {
  for (let t = 0; t < 3; t++) {
    assertNear(got[t][0], expected[t][0], 1e-6, `${label} step ${t + 1} kernel`);
    assertNear(got[t][1], expected[t][1], 1e-6, `${label} step ${t + 1} bias`);
  }
}

test('AdamW: decoupled wd, bias correction, non-uniform eta and a skipped gradient match torch for 3 steps', () => {
  const got = runThreeSteps(
    (p) => new AdamW(p, { lr: 0.01, eta: ETA, weightDecay: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, fused: 'never' }),
    1,
  );
  checkAgainst(TORCH_ADAMW.skipBiasAtStep2, got, 'adamw');
});

test('AdamW: amsgrad with a schedule matches torch for 3 steps', () => {
  const lrs = [0.01, 0.02, 0.005];
  const got = runThreeSteps(
    (p) => new AdamW(p, { lr: (s) => lrs[s], eta: ETA, weightDecay: 0.1, beta1: 0.8, beta2: 0.99, eps: 1e-6, amsgrad: true, fused: 'never' }),
  );
  checkAgainst(TORCH_ADAMW.amsgrad, got, 'amsgrad');
});

test('AdamW: hand-derived two steps (plain JS arithmetic, float64)', () => {
  // p0 = 1, g = 0.5 then -0.1, lr 0.01, eta 3 (lr_i = 0.03), wd 0.2, b1 0.9, b2 0.999, eps 1e-8
  const lr = 0.03, wd = 0.2, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  let p = 1, m = 0, v = 0;
  const expected: number[] = [];
  [0.5, -0.1].forEach((g, i) => {
    const t = i + 1;
    p *= 1 - lr * wd;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    const denom = Math.sqrt(v) / Math.sqrt(1 - b2 ** t) + eps;
    p -= (lr / (1 - b1 ** t)) * (m / denom);
    expected.push(p);
  });
  const w = makeParam('w', 'kernel', [1], [1]);
  const opt = new AdamW([w], { lr: 0.01, eta: { w: 3 }, weightDecay: 0.2 });
  opt.step({ w: tf.tensor([0.5]) });
  assertNear(w.variable.dataSync(), [expected[0]], 1e-6, 'p1');
  opt.step({ w: tf.tensor([-0.1]) });
  assertNear(w.variable.dataSync(), [expected[1]], 1e-6, 'p2');
});

test('AdamW: eta scales the decoupled decay lr*wd (zero gradient), and the mask removes it', () => {
  const k = makeParam('k', 'kernel', [1, -2], [2]);
  const b = makeParam('b', 'bias', [4], [1]);
  const opt = new AdamW([k, b], { lr: 0.5, eta: { k: 2, b: 0.25 }, weightDecay: 0.1 });
  opt.step({ k: tf.zeros([2]), b: tf.zeros([1]) });
  assertNear(k.variable.dataSync(), [1 * (1 - 0.5 * 2 * 0.1), -2 * (1 - 0.5 * 2 * 0.1)], 1e-7, 'k');
  assertNear(b.variable.dataSync(), [4 * (1 - 0.5 * 0.25 * 0.1)], 1e-7, 'b');
  const b2 = makeParam('b2', 'bias', [4], [1]);
  const opt2 = new AdamW([b2], { lr: 0.5, weightDecay: 0.1, weightDecayMask: kernelsOnly });
  opt2.step({ b2: tf.zeros([1]) });
  assert.equal(b2.variable.dataSync()[0], 4);
});

test('AdamW: torch defaults and validation', () => {
  const w = makeParam('w', 'kernel', [1], [1]);
  const opt = new AdamW([w]);
  assert.deepEqual(
    [opt.currentLR(), opt.beta1, opt.beta2, opt.eps, opt.weightDecay, opt.amsgrad],
    [1e-3, 0.9, 0.999, 1e-8, 1e-2, false],
  );
  assert.throws(() => new AdamW([w], { beta1: 1 }), /beta1/);
  assert.throws(() => new AdamW([w], { beta2: -0.1 }), /beta2/);
  assert.throws(() => new AdamW([w], { eps: -1 }), /eps/);
  assert.throws(() => new AdamW([w], { weightDecay: -1 }), /weightDecay/);
});

test('AdamW: state slots use torch names', () => {
  const w = makeParam('w', 'kernel', [1, 2], [2]);
  const opt = new AdamW([w], { amsgrad: true });
  opt.step({ w: tf.tensor([0.1, 0.2]) });
  const s = opt.getState();
  assert.deepEqual(Object.keys(s.params.w.slots).sort(), ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq']);
  assert.equal(s.params.w.step, 1);
  // after one step: m = 0.1 g, v = 0.001 g^2, vmax = v
  assertNear(s.params.w.slots.exp_avg.values, [0.01, 0.02], 1e-8, 'm');
  assertNear(s.params.w.slots.exp_avg_sq.values, [1e-5, 4e-5], 1e-10, 'v');
  opt.dispose();
});
