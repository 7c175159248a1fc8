/**
 * Shared tests for the paper's baseline optimizers (SGD-NG, SGD-NG_adap, Adam-NG, LARS/LARC, LAMB), driven by
 * one table as optim-common.test.ts does for SGD/AdamW: no leaks, state round trip by name (JSON, other order),
 * tfjs-style weights, config rebuild, registry, no NaN on zero tensors / zero gradients, composition with
 * schedules. The known answers live in optim-<name>.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  AdamNG, LAMB, LARS, SGDNG, createOptimizer, excludeFromWeightDecay, getOptimizerInfo, listOptimizers,
  type ChainOptimizer, type OptimizerState,
} from '../src/optim/index.js';
import { cosineWithWarmup, polynomialDecayWithWarmup } from '../src/schedule.js';
import type { ParamInfo, ParamKind } from '../src/types.js';

await tf.setBackend('cpu');

interface Spec {
  name: string;
  make(params: readonly ParamInfo[]): ChainOptimizer;
  fromConfig(config: tf.serialization.ConfigDict, params: readonly ParamInfo[]): ChainOptimizer;
}

const SHAPES: Array<[string, ParamKind, number[]]> = [
  ['blocks.0.conv.kernel', 'kernel', [3, 3, 2, 4]],
  ['blocks.0.conv.bias', 'bias', [4]],
  ['blocks.0.norm.scale', 'scale', [4]],
  ['head.kernel', 'kernel', [4, 3]],
  ['pos_embed', 'embedding', [1, 2, 4]],
];
const ETA: Record<string, number> = {
  'blocks.0.conv.kernel': 1.7, 'blocks.0.conv.bias': 0.4, 'blocks.0.norm.scale': 0.9, 'head.kernel': 2.5, pos_embed: 1.1,
};
const cosine = cosineWithWarmup({ peak: 0.05, warmupSteps: 2, totalSteps: 12, floor: 0.001 });
const poly = polynomialDecayWithWarmup({ peak: 5e-3, warmupSteps: 2, totalSteps: 12, power: 1 });

const SPECS: Spec[] = [
  {
    name: 'SGD-NG nesterov, masked wd, cosine',
    make: (p) => new SGDNG(p, { lr: cosine, eta: ETA, momentum: 0.9, nesterov: true, weightDecay: 1e-3, weightDecayMask: excludeFromWeightDecay() }),
    fromConfig: (c, p) => SGDNG.fromConfigAndParams(c, p),
  },
  {
    name: 'SGD-NG_adap',
    make: (p) => new SGDNG(p, { lr: 0.1, eta: ETA, adaptive: true, dampening: 0.1 }),
    fromConfig: (c, p) => SGDNG.fromConfigAndParams(c, p),
  },
  {
    name: 'Adam-NG amsgrad, masked decoupled wd',
    make: (p) => new AdamNG(p, { lr: cosine, eta: ETA, amsgrad: true, weightDecay: 0.05, weightDecayMask: excludeFromWeightDecay() }),
    fromConfig: (c, p) => AdamNG.fromConfigAndParams(c, p),
  },
  {
    name: 'LARS (LARC clip) wd',
    make: (p) => new LARS(p, { lr: cosine, eta: ETA, weightDecay: 5e-4, trustCoefficient: 0.02 }),
    fromConfig: (c, p) => LARS.fromConfigAndParams(c, p),
  },
  {
    name: 'LARS scaling (no clip), masked wd',
    make: (p) => new LARS(p, { lr: 0.1, eta: ETA, clip: false, weightDecay: 5e-4, weightDecayMask: excludeFromWeightDecay() }),
    fromConfig: (c, p) => LARS.fromConfigAndParams(c, p),
  },
  {
    name: 'LAMB polynomial decay with warmup',
    make: (p) => new LAMB(p, { lr: poly, eta: ETA, weightDecay: 0.1 }),
    fromConfig: (c, p) => LAMB.fromConfigAndParams(c, p),
  },
];

function values(n: number, seed: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 0.5);
}

function makeParams(order: 'forward' | 'reversed' = 'forward', init?: Record<string, Float32Array>): ParamInfo[] {
  const list = SHAPES.map(([name, kind, shape], j): ParamInfo => {
    const numel = shape.reduce((a, b) => a * b, 1);
    const vals = init?.[name] ?? Float32Array.from(values(numel, j + 1));
    const variable = tf.tidy(() => tf.variable(tf.tensor(vals, shape, 'float32'), true));
    return { name, shape, numel, kind, fanIn: shape[0], fanOut: shape[shape.length - 1], variable };
  });
  return order === 'forward' ? list : list.reverse();
}

function gradsFor(params: readonly ParamInfo[], step: number): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const p of params) {
    const j = SHAPES.findIndex(([n]) => n === p.name);
    out[p.name] = tf.tensor(values(p.numel, 100 + 10 * step + j), [...p.shape], 'float32');
  }
  return out;
}

function snapshot(params: readonly ParamInfo[]): Record<string, Float32Array> {
  return Object.fromEntries(params.map((p) => [p.name, Float32Array.from(p.variable.dataSync() as Float32Array)]));
}

function stepWith(opt: ChainOptimizer, params: readonly ParamInfo[], step: number): void {
  const g = gradsFor(params, step);
  opt.step(g);
  tf.dispose(Object.values(g));
}

function viaJson(state: OptimizerState): OptimizerState {
  const text = JSON.stringify(state, (_k, v) => (v instanceof Float32Array ? Array.from(v) : v));
  return JSON.parse(text) as OptimizerState;
}

function disposeAll(opts: ChainOptimizer[], ...paramLists: ParamInfo[][]): void {
  for (const o of opts) o.dispose();
  tf.dispose(paramLists.flat().map((p) => p.variable));
}

for (const spec of SPECS) {
  test(`[${spec.name}] no tensor leaks: numTensors constant across steps and minimize, baseline after dispose`, () => {
    const base = tf.memory().numTensors;
    const params = makeParams();
    const opt = spec.make(params);
    stepWith(opt, params, 0);
    const after1 = tf.memory().numTensors;
    for (let s = 1; s < 6; s++) {
      stepWith(opt, params, s);
      assert.equal(tf.memory().numTensors, after1, `step ${s + 1}`);
    }
    const loss = (): tf.Scalar => tf.addN(params.map((p) => tf.sum(tf.square(p.variable)))) as tf.Scalar;
    opt.minimize(loss);
    assert.equal(tf.memory().numTensors, after1, 'minimize');
    disposeAll([opt], params);
    assert.equal(tf.memory().numTensors, base);
  });

  test(`[${spec.name}] getState/setState (through JSON, other param order) resumes bit-identically`, () => {
    const params = makeParams();
    const opt = spec.make(params);
    for (let s = 0; s < 3; s++) stepWith(opt, params, s);
    const saved = viaJson(opt.getState());
    const weights = snapshot(params);
    for (let s = 3; s < 6; s++) stepWith(opt, params, s);
    const continued = snapshot(params);

    const params2 = makeParams('reversed', weights);
    const opt2 = spec.make(params2);
    opt2.setState(saved);
    assert.equal(opt2.iterations, 3);
    for (let s = 3; s < 6; s++) stepWith(opt2, params2, s);
    assert.deepEqual(snapshot(params2), continued);

    const params3 = makeParams('forward', weights);
    const opt3 = spec.make(params3);
    for (let s = 3; s < 6; s++) stepWith(opt3, params3, s);
    assert.notDeepEqual(snapshot(params3), continued, 'without the state the continuation differs');
    disposeAll([opt, opt2, opt3], params, params2, params3);
  });

  test(`[${spec.name}] getWeights/setWeights resume identically`, async () => {
    const params = makeParams();
    const opt = spec.make(params);
    for (let s = 0; s < 2; s++) stepWith(opt, params, s);
    const weights = await opt.getWeights();
    const params2 = makeParams('reversed', snapshot(params));
    const opt2 = spec.make(params2);
    await opt2.setWeights([weights[0], ...weights.slice(1).reverse()]);
    stepWith(opt, params, 2);
    stepWith(opt2, params2, 2);
    assert.deepEqual(snapshot(params2), snapshot(params));
    disposeAll([opt, opt2], params, params2);
  });

  test(`[${spec.name}] getConfig is JSON-safe and rebuilds an identical optimizer`, () => {
    const params = makeParams();
    const opt = spec.make(params);
    const cfg = JSON.parse(JSON.stringify(opt.getConfig()));
    assert.deepEqual(cfg.eta, ETA);
    const params2 = makeParams();
    const opt2 = spec.fromConfig(cfg, params2);
    assert.equal((opt2.constructor as unknown as { className: string }).className, (opt.constructor as unknown as { className: string }).className);
    assert.deepEqual(JSON.parse(JSON.stringify(opt2.getConfig())), cfg);
    for (let s = 0; s < 3; s++) { stepWith(opt, params, s); stepWith(opt2, params2, s); }
    assert.deepEqual(snapshot(params2), snapshot(params));
    disposeAll([opt, opt2], params, params2);
  });

  test(`[${spec.name}] zero tensors and zero gradients: finite values, nothing NaN`, () => {
    const zeros = Object.fromEntries(SHAPES.map(([n, , s]) => [n, new Float32Array(s.reduce((a, b) => a * b, 1))]));
    const params = makeParams('forward', zeros);
    const opt = spec.make(params);
    for (let s = 0; s < 3; s++) {
      const g = s === 1
        ? Object.fromEntries(params.map((p) => [p.name, tf.zeros(p.shape as number[])]))
        : gradsFor(params, s);
      opt.step(g);
      tf.dispose(Object.values(g));
      for (const [name, v] of Object.entries(snapshot(params))) {
        assert.ok(v.every(Number.isFinite), `${name} after step ${s + 1}: ${v}`);
      }
    }
    const state = opt.getState();
    for (const ps of Object.values(state.params)) {
      for (const [slot, d] of Object.entries(ps.slots)) assert.ok(Array.from(d.values).every(Number.isFinite), slot);
    }
    disposeAll([opt], params);
  });
}

test('registry: the five baselines by name with their defaults, options over defaults', () => {
  for (const n of ['sgd-ng', 'sgd-ng-adap', 'adam-ng', 'lars', 'lamb']) assert.ok(listOptimizers().includes(n), n);
  const params = makeParams();
  const ng = createOptimizer('sgd-ng', params, { lr: 0.1, eta: ETA }) as SGDNG;
  assert.ok(ng instanceof SGDNG && !ng.adaptive && ng.momentum === 0.9);
  const adap = createOptimizer('sgd-ng-adap', params, { lr: 0.1, eta: ETA }) as SGDNG;
  assert.ok(adap instanceof SGDNG && adap.adaptive && adap.minWeightNorm === 1e-3);
  const ang = createOptimizer('adam-ng', params, { lr: 1e-3, eta: ETA }) as AdamNG;
  assert.ok(ang instanceof AdamNG && ang.weightDecay === 0 && ang.eps === 1e-8);
  const lars = createOptimizer('lars', params, { lr: 0.2, eta: ETA, weightDecay: 1e-4 }) as LARS;
  assert.ok(lars instanceof LARS);
  assert.deepEqual([lars.trustCoefficient, lars.clip, lars.momentum, lars.weightDecay, lars.eps], [1e-3, true, 0.9, 1e-4, 1e-8]);
  assert.ok(lars.trustMask(params[0]) && !lars.trustMask(params[1]) && !lars.trustMask(params[2]) && !lars.trustMask(params[4]));
  const lamb = createOptimizer('lamb', params, { lr: 1e-3, eta: ETA }) as LAMB;
  assert.ok(lamb instanceof LAMB);
  assert.deepEqual([lamb.eps, lamb.weightDecay, lamb.beta1, lamb.beta2], [1e-6, 0.01, 0.9, 0.999]);
  assert.ok(lamb.weightDecayMask(params[3]) && !lamb.weightDecayMask(params[1]) && !lamb.trustMask(params[2]));
  assert.match(getOptimizerInfo('lars').description, /LARC/);
  assert.deepEqual(
    [SGDNG.className, AdamNG.className, LARS.className, LAMB.className],
    ['LwlrSGDNG', 'LwlrAdamNG', 'LwlrLARS', 'LwlrLAMB'],
  );
  disposeAll([ng, adap, ang, lars, lamb], params);
});

test('a state written by one baseline is refused by another', () => {
  const params = makeParams();
  const a = new SGDNG(params, { lr: 0.1, eta: ETA });
  const b = new LARS(params, { lr: 0.1, eta: ETA });
  stepWith(a, params, 0);
  assert.throws(() => b.setState(a.getState()), /written by LwlrSGDNG, this is LwlrLARS/);
  disposeAll([a, b], params);
});
