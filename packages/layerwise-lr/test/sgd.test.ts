import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { SGD, excludeFromWeightDecay, kernelsOnly } from '../src/optim/index.js';
import type { ParamInfo } from '../src/types.js';
import { makeParam, assertNear } from './optim-helpers.js';
import { useCpu } from './core-helpers.js';

await useCpu();



// The problem used by the known-answer tests (and by the torch script below).
const K0 = [0.5, -0.3, 0.8, 0.1]; // fc1.kernel [2, 2]
const B0 = [0.2, -0.4]; // fc1.bias [2]
const GK = [[0.1, -0.2, 0.3, 0.05], [-0.005, 0.1, 0.02, -0.1], [0.001, 0.0, -0.1, 0.2]];
const GB = [[0.4, -0.1], [0.2, 0.3], [-0.3, 0.1]];
const ETA = { 'fc1.kernel': 2.0, 'fc1.bias': 0.5 };

/*
 * Expected values produced ONCE with PyTorch 1.13 (`/usr/bin/python3`, float32 tensors), with one torch
 * param group per tensor whose lr is base_lr * eta (eta = 2 for the kernel, 0.5 for the bias), the group lr
 * set before every step to schedule[t] * eta, and `p.grad` set to GK[t] / GB[t]:
 *
 *   k = torch.tensor(K0).view(2,2).requires_grad_(); b = torch.tensor(B0).requires_grad_()
 *   opt = torch.optim.SGD([{'params':[k],'lr':lr0*2.0}, {'params':[b],'lr':lr0*0.5, ...}], lr=1, ...)
 *   for t in range(3):
 *     opt.param_groups[0]['lr'] = lrs[t]*2.0; opt.param_groups[1]['lr'] = lrs[t]*0.5
 *     k.grad = torch.tensor(GK[t]).view(2,2); b.grad = torch.tensor(GB[t]); opt.step()
 *     print(k.flatten().tolist(), b.tolist())
 */
const TORCH_SGD = {
  // momentum=0.9, dampening=0.1, weight_decay=0.05, lrs = [0.1, 0.05, 0.02]
  momentumDampening: [
    [[0.474999994, -0.256999999, 0.731999993, 0.0890000015], [0.179499999, -0.393999994]],
    [[0.462062508, -0.245493501, 0.69630599, 0.0926495045], [0.165573061, -0.39760673]],
    [[0.456537306, -0.240909278, 0.685802817, 0.086596556], [0.163184851, -0.399626225]],
  ],
  // momentum=0.9, nesterov=True, weight_decay=0.05 on the kernel group, 0 on the bias group, lr 0.1
  nesterovKernelDecayOnly: [
    [[0.452499986, -0.218300015, 0.67080003, 0.0791000053], [0.162, -0.390500009]],
    [[0.425552487, -0.21732232, 0.595374823, 0.106687106], [0.126800001, -0.414950013]],
    [[0.396006733, -0.196277961, 0.563817203, 0.0362003408], [0.132620007, -0.432955027]],
  ],
  // momentum=0, weight_decay=0.01, lr 0.1
  plainDecay: [
    [[0.479000002, -0.25940001, 0.738399982, 0.0898000002], [0.179900005, -0.394800007]],
    [[0.479041994, -0.278881222, 0.73292321, 0.1096204], [0.169810057, -0.409602612]],
    [[0.477883905, -0.278323472, 0.751457393, 0.0694011599], [0.18472515, -0.414397806]],
  ],
};

function runThreeSteps(make: (params: ParamInfo[]) => SGD, via: 'step' | 'applyGradients'): number[][][] {
  const k = makeParam('fc1.kernel', 'kernel', K0, [2, 2]);
  const b = makeParam('fc1.bias', 'bias', B0, [2]);
  const opt = make([k, b]);
  const out: number[][][] = [];
  for (let t = 0; t < 3; t++) {
    const gk = tf.tensor(GK[t], [2, 2]);
    const gb = tf.tensor(GB[t], [2]);
    if (via === 'step') opt.step({ 'fc1.kernel': gk, 'fc1.bias': gb });
    else opt.applyGradients({ [k.variable.name]: gk, [b.variable.name]: gb });
    tf.dispose([gk, gb]);
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

test('SGD: momentum 0.9 + dampening 0.1 + wd, a schedule and non-uniform eta match torch for 3 steps', () => {
  const lrs = [0.1, 0.05, 0.02];
  for (const via of ['step', 'applyGradients'] as const) {
    const got = runThreeSteps(
      (p) => new SGD(p, { lr: (s) => lrs[s], eta: ETA, momentum: 0.9, dampening: 0.1, weightDecay: 0.05, fused: 'never' }),
      via,
    );
    checkAgainst(TORCH_SGD.momentumDampening, got, `momentum+dampening (${via})`);
  }
});

test('SGD: nesterov + wd on kernels only (mask) match torch for 3 steps', () => {
  const got = runThreeSteps(
    (p) => new SGD(p, { lr: 0.1, eta: ETA, momentum: 0.9, nesterov: true, weightDecay: 0.05, weightDecayMask: kernelsOnly, fused: 'never' }),
    'step',
  );
  checkAgainst(TORCH_SGD.nesterovKernelDecayOnly, got, 'nesterov');
  const got2 = runThreeSteps(
    (p) => new SGD(p, { lr: 0.1, eta: ETA, momentum: 0.9, nesterov: true, weightDecay: 0.05, weightDecayMask: excludeFromWeightDecay(), fused: 'never' }),
    'step',
  );
  checkAgainst(TORCH_SGD.nesterovKernelDecayOnly, got2, 'nesterov (excludeFromWeightDecay)');
});

test('SGD: plain SGD with coupled decay matches torch for 3 steps', () => {
  const got = runThreeSteps((p) => new SGD(p, { lr: 0.1, eta: ETA, weightDecay: 0.01, fused: 'never' }), 'step');
  checkAgainst(TORCH_SGD.plainDecay, got, 'plain');
});

test('SGD: hand-derived first two momentum steps (plain JS arithmetic)', () => {
  // p0 = 1, g = 0.5 then 0.25, lr 0.1, eta 3, momentum 0.9, dampening 0.5, wd 0.2
  // step 1: d = 0.5 + 0.2*1 = 0.7; buf = 0.7; p1 = 1 - 0.3*0.7 = 0.79
  // step 2: d = 0.25 + 0.2*0.79 = 0.408; buf = 0.9*0.7 + 0.5*0.408 = 0.834; p2 = 0.79 - 0.3*0.834 = 0.5398
  const w = makeParam('w', 'kernel', [1], [1]);
  const opt = new SGD([w], { lr: 0.1, eta: { w: 3 }, momentum: 0.9, dampening: 0.5, weightDecay: 0.2 });
  opt.step({ w: tf.tensor([0.5]) });
  assertNear(w.variable.dataSync(), [0.79], 1e-7, 'p1');
  opt.step({ w: tf.tensor([0.25]) });
  assertNear(w.variable.dataSync(), [0.5398], 1e-6, 'p2');
});

test('SGD: eta scales the weight-decay term exactly like a torch group lr', () => {
  // zero gradient, no momentum: p <- p - lr*eta*wd*p = p * (1 - lr*eta*wd)
  const k = makeParam('k', 'kernel', [1, -2], [2]);
  const b = makeParam('b', 'bias', [4], [1]);
  const opt = new SGD([k, b], { lr: 0.5, eta: { k: 2, b: 0.25 }, weightDecay: 0.1 });
  opt.step({ k: tf.zeros([2]), b: tf.zeros([1]) });
  assertNear(k.variable.dataSync(), [1 * (1 - 0.5 * 2 * 0.1), -2 * (1 - 0.5 * 2 * 0.1)], 1e-7, 'k');
  assertNear(b.variable.dataSync(), [4 * (1 - 0.5 * 0.25 * 0.1)], 1e-7, 'b');
  // masked out: the bias keeps its value under pure decay
  const opt2 = new SGD([k, b], { lr: 0.5, eta: { k: 2, b: 0.25 }, weightDecay: 0.1, weightDecayMask: kernelsOnly });
  const before = b.variable.dataSync()[0];
  opt2.step({ k: tf.zeros([2]), b: tf.zeros([1]) });
  assert.equal(b.variable.dataSync()[0], before);
});

test('SGD: eta from an EtaTable-like object, etaDefault, and eta errors', () => {
  const k = makeParam('a.kernel', 'kernel', [1], [1]);
  const b = makeParam('a.bias', 'bias', [1], [1]);
  const table = { etaMap: () => ({ 'a.kernel': 2, 'a.bias': 0.5, 'frozen.kernel': 9 }) };
  const opt = new SGD([k, b], { lr: 0.1, eta: table });
  assert.equal(opt.etaOf('a.kernel'), 2);
  assert.equal(opt.etaOf('a.bias'), 0.5);
  opt.step({ 'a.kernel': tf.ones([1]), 'a.bias': tf.ones([1]) });
  assertNear(k.variable.dataSync(), [1 - 0.2], 1e-7, 'k');
  assertNear(b.variable.dataSync(), [1 - 0.05], 1e-7, 'b');
  assert.throws(() => new SGD([k, b], { lr: 0.1, eta: { 'a.kernel': 1 } }), /no entry for 1 parameter\(s\): a\.bias/);
  assert.equal(new SGD([k, b], { lr: 0.1, eta: { 'a.kernel': 1 }, etaDefault: 1 }).etaOf('a.bias'), 1);
  assert.throws(() => new SGD([k, b], { lr: 0.1, eta: { 'a.kernel': 1, 'a.bias': Number.NaN } }), /finite/);
  assert.throws(() => new SGD([k, b], { lr: 0.1, eta: { 'a.kernel': 1, 'a.bias': -1 } }), />= 0/);
});

test('SGD: torch-style hyper-parameter validation', () => {
  const w = makeParam('w', 'kernel', [1], [1]);
  assert.throws(() => new SGD([w], { lr: 0.1, nesterov: true }), /nesterov/);
  assert.throws(() => new SGD([w], { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), /nesterov/);
  assert.throws(() => new SGD([w], { lr: -0.1 }), /lr/);
  assert.throws(() => new SGD([w], { lr: 0.1, weightDecay: -1 }), /weightDecay/);
  assert.throws(() => new SGD([w], { lr: 0.1, momentum: -0.5 }), /momentum/);
  assert.throws(() => new SGD([], { lr: 0.1 }), /non-empty/);
  assert.throws(() => new SGD([w, w], { lr: 0.1 }), /twice/);
  const bad = new SGD([w], { lr: (s) => (s === 0 ? 0.1 : Number.NaN) });
  bad.step({ w: tf.ones([1]) });
  assert.throws(() => bad.step({ w: tf.ones([1]) }), /schedule gave lr=NaN at step 1/);
});

test('SGD: lr = schedule(iterations); currentLR() is the next step\'s', () => {
  const w = makeParam('w', 'kernel', [0], [1]);
  const opt = new SGD([w], { lr: (s) => 0.1 * (s + 1), eta: { w: 2 } });
  assert.equal(opt.currentLR(), 0.1);
  opt.step({ w: tf.ones([1]) }); // p = 0 - 0.2
  assert.equal(opt.iterations, 1);
  assert.ok(Math.abs(opt.currentLR() - 0.2) < 1e-15);
  opt.step({ w: tf.ones([1]) }); // p = -0.2 - 0.4
  assertNear(w.variable.dataSync(), [-0.6], 1e-7, 'w');
});
