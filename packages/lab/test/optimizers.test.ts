import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  AdamW, SGD, applyMeasurementInit, applyMupInit, collectParams, cosineWithWarmup, createOptimizer, mupTable,
  polynomialDecayWithWarmup, schemeTable, type ChainOptimizer, type ParamInfo,
} from 'layerwise-lr';
import { makeOptimizer, mupBaseShapes, optimizerNames, optimizerTable, type OptimizerChoice } from '../src/train/optimizers.js';
import { UsageError } from '../src/errors.js';
import { mlp } from '../src/models/mlp.js';

await tf.setBackend('cpu');

const STEPS_PER_EPOCH = 4;
const base: OptimizerChoice = { optimizer: 'sgd', lr: 0.05, momentum: 0.9, wd: 5e-4, epochs: 2, warmupEpochs: 0.5, init: 'fan-in' };
const DATA = { inputShape: [4, 4, 1] as [number, number, number], numClasses: 3 };

function tinyModel(width = 8): { model: tf.LayersModel; params: ParamInfo[] } {
  const model = mlp({ ...DATA, width, depth: 3 });
  const params = collectParams(model);
  applyMeasurementInit(params, { init: 'fan-in', seed: 3 });
  return { model, params };
}

/** 3 steps on a fixed batch; returns the weights and the tensor counts after each step. */
function steps3(model: tf.LayersModel, opt: ChainOptimizer): { weights: number[][]; counts: number[] } {
  const x = tf.tensor(Array.from({ length: 5 * 16 }, (_, i) => Math.sin(i * 0.7)), [5, 4, 4, 1]);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 1, 0], 'int32'), 3);
  const counts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true);
    loss?.dispose();
    counts.push(tf.memory().numTensors);
  }
  tf.dispose([x, y]);
  return { weights: collectParams(model).map((p) => Array.from(p.variable.dataSync())), counts };
}

const cosine = () => cosineWithWarmup({ peak: 0.05, warmupSteps: 2, totalSteps: 8 });
/** The library optimizer each `--optimizer` should equal, built directly. */
const DIRECT: Record<string, (p: ParamInfo[], eta: ReturnType<typeof schemeTable>) => ChainOptimizer> = {
  sgd: (p, eta) => new SGD(p, { lr: cosine(), eta, momentum: 0.9, weightDecay: 5e-4 }),
  adamw: (p, eta) => new AdamW(p, { lr: cosine(), eta, weightDecay: 5e-4 }),
  'sgd-ng': (p, eta) => createOptimizer('sgd-ng', p, { lr: cosine(), eta, momentum: 0.9, weightDecay: 5e-4 }),
  'sgd-ng-adap': (p, eta) => createOptimizer('sgd-ng-adap', p, { lr: cosine(), eta, momentum: 0.9, weightDecay: 5e-4 }),
  'adam-ng': (p, eta) => createOptimizer('adam-ng', p, { lr: cosine(), eta, weightDecay: 5e-4 }),
  lars: (p, eta) => createOptimizer('lars', p, { lr: cosine(), eta, momentum: 0.9, weightDecay: 5e-4, trustCoefficient: 1e-3, clip: true }),
  lamb: (p, eta) => createOptimizer('lamb', p, { lr: cosine(), eta, weightDecay: 5e-4 }),
};

test('makeOptimizer: every --optimizer builds, takes 3 steps without NaN or leaks, and equals the library optimizer used directly', () => {
  const mupBase = mupBaseShapes('mlp', { ...DATA, depth: 3 }, 4);
  for (const name of optimizerNames()) {
    const a = tinyModel();
    const b = tinyModel();
    const uniform = schemeTable(a.params, 'uniform');
    const viaCli = makeOptimizer(a.params, uniform, { ...base, optimizer: name, mupBase }, STEPS_PER_EPOCH);
    const used = optimizerTable(a.params, uniform, { ...base, optimizer: name, mupBase });
    assert.equal(used.meta.scheme, name.startsWith('mup-') ? 'mup' : 'uniform');
    // what a run directory records is accepted back on --resume
    if (name.startsWith('mup-')) makeOptimizer(a.params, used, { ...base, optimizer: name, mupBase, mupInit: false }, STEPS_PER_EPOCH).dispose();
    let direct: ChainOptimizer;
    if (name.startsWith('mup-')) {
      const family = name === 'mup-sgd' ? 'sgd' : 'adam';
      applyMupInit(b.params, mupBase, { optimizer: family });
      const eta = mupTable(b.params, mupBase, { optimizer: family });
      direct = family === 'sgd' ? new SGD(b.params, { lr: cosine(), eta, momentum: 0.9, weightDecay: 5e-4 }) : new AdamW(b.params, { lr: cosine(), eta, weightDecay: 5e-4 });
    } else {
      direct = DIRECT[name]!(b.params, schemeTable(b.params, 'uniform'));
    }
    const ra = steps3(a.model, viaCli);
    const rb = steps3(b.model, direct);
    assert.ok(ra.weights.flat().every(Number.isFinite), `${name}: finite weights`);
    assert.deepEqual(ra.weights, rb.weights, `${name}: same weights as the library optimizer`);
    assert.equal(ra.counts[2], ra.counts[1], `${name}: no tensor leak (${ra.counts})`);
    const before = tinyModel();
    assert.notDeepEqual(ra.weights, collectParams(before.model).map((p) => Array.from(p.variable.dataSync())), `${name}: weights moved`);
    for (const m of [a, b, before]) m.model.dispose();
    viaCli.dispose();
    direct.dispose();
  }
});

test('makeOptimizer: --lr-schedule poly is warmup + polynomial decay; Adam knobs and --no-lars-clip reach the optimizer', () => {
  const a = tinyModel();
  const table = schemeTable(a.params, 'uniform');
  const opt = makeOptimizer(a.params, table, { ...base, optimizer: 'lamb', lrSchedule: 'poly', polyPower: 2, beta2: 0.98, eps: 1e-7 }, STEPS_PER_EPOCH);
  const expected = polynomialDecayWithWarmup({ peak: 0.05, warmupSteps: 2, totalSteps: 8, power: 2 });
  const cfg = opt.getConfig() as Record<string, unknown>;
  assert.deepEqual(cfg.lr, expected.config);
  assert.equal(cfg.beta2, 0.98);
  assert.equal(cfg.eps, 1e-7);
  opt.dispose();
  const lars = makeOptimizer(a.params, table, { ...base, optimizer: 'lars', larsClip: false, trustCoef: 0.02 }, STEPS_PER_EPOCH);
  const lc = lars.getConfig() as Record<string, unknown>;
  assert.equal(lc.clip, false);
  assert.equal(lc.trustCoefficient, 0.02);
  lars.dispose();
  a.model.dispose();
});

test('makeOptimizer: combinations the paper does not make are one-line usage errors', () => {
  const a = tinyModel();
  const layerwise = schemeTable(a.params, 'depth-increasing');
  for (const name of ['sgd-ng', 'lars', 'lamb', 'mup-sgd']) {
    assert.throws(() => makeOptimizer(a.params, layerwise, { ...base, optimizer: name, mupBase: {} }, 4),
      (e: Error) => e instanceof UsageError && /use --lr-scheme uniform/.test(e.message) && !e.message.includes('\n'));
  }
  // sgd and adamw take any scheme
  makeOptimizer(a.params, layerwise, { ...base, optimizer: 'adamw' }, 4).dispose();
  const uniform = schemeTable(a.params, 'uniform');
  assert.throws(() => makeOptimizer(a.params, uniform, { ...base, optimizer: 'mup-sgd' }, 4), /needs --mup-base-width/);
  assert.throws(() => makeOptimizer(a.params, uniform, { ...base, optimizer: 'mup-sgd', init: 'fan-out', mupBase: mupBaseShapes('mlp', { ...DATA, depth: 3 }, 4) }, 4), /needs --init fan-in/);
  assert.throws(() => makeOptimizer(a.params, uniform, { ...base, optimizer: 'lars', beta1: 0.8 }, 4), /Adam knobs/);
  a.model.dispose();
});
