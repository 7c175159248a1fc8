/**
 * What only the paper's baselines (SGD-NG, SGD-NG_adap, Adam-NG, LARS/LARC, LAMB) have to show beyond the
 * shared checks of optim-common.test.ts (where their rows are): their registrations and defaults, and that
 * their states do not mix. The update rules' known answers live in optim-<name>.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { AdamNG, LAMB, LARS, SGDNG, createOptimizer, getOptimizerInfo, listOptimizers } from '../src/optim/index.js';
import { makeParam } from './optim-helpers.js';
import { useCpu } from './core-helpers.js';

await useCpu();

const params = () => [
  makeParam('conv.kernel', 'kernel', [0.1, -0.2, 0.3, 0.4], [1, 1, 2, 2]),
  makeParam('conv.bias', 'bias', [0.1, 0.2], [2]),
  makeParam('norm.scale', 'scale', [1, 1], [2]),
  makeParam('head.kernel', 'kernel', [0.5, -0.5], [2, 1]),
  makeParam('pos_embed', 'embedding', [0.01, 0.02], [1, 1, 2]),
];

test('registry: the five baselines by name with their defaults, options over defaults', () => {
  for (const n of ['sgd-ng', 'sgd-ng-adap', 'adam-ng', 'lars', 'lamb']) assert.ok(listOptimizers().includes(n), n);
  const p = params();
  const ng = createOptimizer('sgd-ng', p, { lr: 0.1 }) as SGDNG;
  assert.ok(ng instanceof SGDNG && !ng.adaptive && ng.momentum === 0.9);
  const adap = createOptimizer('sgd-ng-adap', p, { lr: 0.1 }) as SGDNG;
  assert.ok(adap instanceof SGDNG && adap.adaptive && adap.minWeightNorm === 1e-3);
  const ang = createOptimizer('adam-ng', p, { lr: 1e-3 }) as AdamNG;
  assert.ok(ang instanceof AdamNG && ang.weightDecay === 0 && ang.eps === 1e-8);
  const lars = createOptimizer('lars', p, { lr: 0.2, weightDecay: 1e-4 }) as LARS;
  assert.ok(lars instanceof LARS);
  assert.deepEqual([lars.trustCoefficient, lars.clip, lars.momentum, lars.weightDecay, lars.eps], [1e-3, true, 0.9, 1e-4, 1e-8]);
  // the paper: the local lr on conv/linear kernels only
  assert.ok(lars.trustMask(p[0]!) && !lars.trustMask(p[1]!) && !lars.trustMask(p[2]!) && !lars.trustMask(p[4]!));
  const lamb = createOptimizer('lamb', p, { lr: 1e-3 }) as LAMB;
  assert.ok(lamb instanceof LAMB);
  assert.deepEqual([lamb.eps, lamb.weightDecay, lamb.beta1, lamb.beta2], [1e-6, 0.01, 0.9, 0.999]);
  // the paper: decay and trust ratio on conv/linear kernels only
  assert.ok(lamb.weightDecayMask(p[3]!) && !lamb.weightDecayMask(p[1]!) && !lamb.trustMask(p[2]!));
  assert.match(getOptimizerInfo('lars').description, /LARC/);
  assert.deepEqual(
    [SGDNG.className, AdamNG.className, LARS.className, LAMB.className],
    ['LwlrSGDNG', 'LwlrAdamNG', 'LwlrLARS', 'LwlrLAMB'],
  );
  for (const o of [ng, adap, ang, lars, lamb]) o.dispose();
  tf.dispose(p.map((q) => q.variable));
});

test('a state written by one baseline is refused by another', () => {
  const p = params();
  const a = new SGDNG(p, { lr: 0.1 });
  const b = new LARS(p, { lr: 0.1 });
  const g = Object.fromEntries(p.map((q) => [q.name, tf.onesLike(q.variable)]));
  a.step(g);
  tf.dispose(Object.values(g));
  assert.throws(() => b.setState(a.getState()), /written by LwlrSGDNG, this is LwlrLARS/);
  a.dispose();
  b.dispose();
  tf.dispose(p.map((q) => q.variable));
});
