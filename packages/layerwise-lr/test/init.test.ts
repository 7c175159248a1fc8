import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { collectParams, paramsFromVariables } from '../src/params.js';
import { applyMeasurementInit, restoreWeights, snapshotWeights, disposeWeightSnapshot, resetBatchNormStatistics } from '../src/init.js';
import { Rng, deriveSeed } from '../src/rng.js';
import { assertClose, assertRejects, useCpu, values } from './core-helpers.js';

await useCpu();

function meanStd(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
  return { mean, std: Math.sqrt(v) };
}

test('fan-out init: big dense and conv kernels have std sqrt(1/fanOut), mean 0 (statistical)', () => {
  const vars = {
    'fc.kernel': tf.variable(tf.zeros([256, 512])),
    'conv.kernel': tf.variable(tf.zeros([3, 3, 16, 64])),
  };
  const params = paramsFromVariables(vars);
  applyMeasurementInit(params, { init: 'fan-out', seed: 3 });
  const fc = meanStd(values(vars['fc.kernel']));
  // n = 131072 samples: the sample std is within ~0.2% (1 sigma) of the truth; 2% is > 9 sigma
  assertClose(fc.std, Math.sqrt(1 / 512), 0.02, 'dense std');
  assert.ok(Math.abs(fc.mean) < 5 * Math.sqrt(1 / 512) / Math.sqrt(131072), `dense mean ${fc.mean}`);
  const conv = meanStd(values(vars['conv.kernel']));
  assertClose(conv.std, Math.sqrt(1 / (3 * 3 * 64)), 0.03, 'conv std');
  // fan-in: std sqrt(1/256) for the dense kernel
  applyMeasurementInit(params, { init: 'fan-in', seed: 3 });
  assertClose(meanStd(values(vars['fc.kernel'])).std, Math.sqrt(1 / 256), 0.02, 'fan-in std');
  tf.dispose(Object.values(vars));
});

test('fan-out init: the tails look normal (about 4.55% beyond 2 sigma)', () => {
  const rng = new Rng(11);
  const n = 100000;
  let beyond = 0;
  for (let i = 0; i < n; i++) if (Math.abs(rng.normal()) > 2) beyond++;
  assertClose(beyond / n, 0.0455, 0.05, 'P(|z| > 2)');
});

test('init: scale = 1, bias / shift / embedding = 0; none changes nothing', () => {
  const vars = {
    'fc.kernel': tf.variable(tf.fill([3, 4], 7)),
    'fc.bias': tf.variable(tf.fill([4], 7)),
    'ln.gamma': tf.variable(tf.fill([4], 7)),
    'ln.beta': tf.variable(tf.fill([4], 7)),
    cls_token: tf.variable(tf.fill([1, 1, 4], 7)),
  };
  const params = paramsFromVariables(vars);
  applyMeasurementInit(params, { init: 'none', seed: 1 });
  for (const v of Object.values(vars)) assert.ok(values(v).every((x) => x === 7));
  applyMeasurementInit(params, { init: 'fan-out', seed: 1 });
  assert.ok(values(vars['fc.bias']).every((x) => x === 0));
  assert.ok(values(vars['ln.gamma']).every((x) => x === 1));
  assert.ok(values(vars['ln.beta']).every((x) => x === 0));
  assert.ok(values(vars.cls_token).every((x) => x === 0));
  assert.ok(values(vars['fc.kernel']).every((x) => x !== 7));
  tf.dispose(Object.values(vars));
});

test('init is reproducible: same seed -> identical weights; other seed or other name -> different', () => {
  const vars = { 'a.kernel': tf.variable(tf.zeros([8, 8])), 'b.kernel': tf.variable(tf.zeros([8, 8])) };
  const params = paramsFromVariables(vars);
  applyMeasurementInit(params, { init: 'fan-out', seed: 42 });
  const a1 = values(vars['a.kernel']);
  const b1 = values(vars['b.kernel']);
  applyMeasurementInit(params, { init: 'fan-out', seed: 42 });
  assert.deepEqual(values(vars['a.kernel']), a1);
  assert.deepEqual(values(vars['b.kernel']), b1);
  assert.notDeepEqual(a1, b1); // streams keyed by name
  applyMeasurementInit(params, { init: 'fan-out', seed: 43 });
  assert.notDeepEqual(values(vars['a.kernel']), a1);
  // a parameter's init does not depend on the others: init 'a.kernel' alone
  applyMeasurementInit([params[0]!], { init: 'fan-out', seed: 42 });
  assert.deepEqual(values(vars['a.kernel']), a1);
  // default seed is 0 and deterministic
  applyMeasurementInit(params, { init: 'fan-out' });
  const d1 = values(vars['a.kernel']);
  applyMeasurementInit(params, { init: 'fan-out', seed: 0 });
  assert.deepEqual(values(vars['a.kernel']), d1);
  tf.dispose(Object.values(vars));
});

test('rng: deriveSeed and Rng are deterministic and validate seeds', async () => {
  assert.equal(deriveSeed(5, 'x'), deriveSeed(5, 'x'));
  assert.notEqual(deriveSeed(5, 'x'), deriveSeed(5, 'y'));
  assert.notEqual(deriveSeed(5, 'x'), deriveSeed(2 ** 32 + 5, 'x'));
  const r1 = new Rng(9);
  const r2 = new Rng(9);
  for (let i = 0; i < 10; i++) assert.equal(r1.uniform(), r2.uniform());
  await assertRejects(() => new Rng(1.5), /seed/);
  await assertRejects(() => applyMeasurementInit([], { init: 'fan-out', seed: NaN }), /seed/);
  await assertRejects(() => applyMeasurementInit([], { init: 'xavier' as never }), /unknown init 'xavier'/);
});

test('init with a model resets BatchNorm moving statistics; snapshot/restore brings everything back', () => {
  const model = tf.sequential({ layers: [
    tf.layers.dense({ units: 3, inputShape: [2], name: 'fc1' }),
    tf.layers.batchNormalization({ name: 'bn1', movingMeanInitializer: 'ones', movingVarianceInitializer: 'zeros' }),
  ] });
  const before = new Map(model.weights.map((w) => [w.name, values(w.read())]));
  const n0 = tf.memory().numTensors;
  const snap = snapshotWeights(model);
  applyMeasurementInit(collectParams(model), { init: 'fan-out', seed: 1, model });
  const byShort = new Map(model.weights.map((w) => [w.originalName, values(w.read())]));
  assert.deepEqual(byShort.get('bn1/moving_mean'), [0, 0, 0]);
  assert.deepEqual(byShort.get('bn1/moving_variance'), [1, 1, 1]);
  assert.deepEqual(byShort.get('bn1/gamma'), [1, 1, 1]);
  restoreWeights(snap);
  for (const w of model.weights) assert.deepEqual(values(w.read()), before.get(w.name), w.name);
  assert.equal(tf.memory().numTensors, n0);
  assert.equal(resetBatchNormStatistics(model), 1);
  model.dispose();
});

test('snapshot of a parameter list; keep allows a second restore; dispose frees it', async () => {
  const v = tf.variable(tf.tensor1d([1, 2, 3]));
  const params = paramsFromVariables({ 'x.bias': v });
  const n0 = tf.memory().numTensors;
  const snap = snapshotWeights(params);
  tf.tidy(() => v.assign(tf.tensor1d([0, 0, 0])));
  restoreWeights(snap, { keep: true });
  assert.deepEqual(values(v), [1, 2, 3]);
  tf.tidy(() => v.assign(tf.tensor1d([5, 5, 5])));
  restoreWeights(snap);
  assert.deepEqual(values(v), [1, 2, 3]);
  await assertRejects(() => restoreWeights(snap), /already disposed/);
  const snap2 = snapshotWeights([v]);
  disposeWeightSnapshot(snap2);
  assert.equal(tf.memory().numTensors, n0);
  v.dispose();
});
