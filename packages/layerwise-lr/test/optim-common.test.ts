/**
 * Shared tests driven by one table of "optimizers under test" (optax style): every optimizer, present and
 * future, must pass them — SGD, AdamW, the paper's baselines (SGD-NG, SGD-NG_adap, Adam-NG, LARS/LARC, LAMB)
 * and a generic chain. Add a row when adding an optimizer; its known answers go in optim-<name>.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  AdamNG, AdamW, ChainOptimizer, LAMB, LARS, SGD, SGDNG, addWeightDecay, createOptimizer, excludeFromWeightDecay,
  listOptimizers, masked, scaleByLearningRate, traceMomentum, type OptimizerState, type Transform,
} from '../src/optim/index.js';
import { cosineWithWarmup, polynomialDecayWithWarmup } from '../src/schedule.js';
import type { ParamInfo, ParamKind } from '../src/types.js';
import { useCpu } from './core-helpers.js';

await useCpu();

interface Spec {
  name: string;
  make(params: readonly ParamInfo[]): ChainOptimizer;
  /** Rebuild from config (absent for the generic chain). */
  fromConfig?(config: tf.serialization.ConfigDict, params: readonly ParamInfo[]): ChainOptimizer;
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
const schedule = cosineWithWarmup({ peak: 0.05, warmupSteps: 2, totalSteps: 12, floor: 0.001 });
const poly = polynomialDecayWithWarmup({ peak: 5e-3, warmupSteps: 2, totalSteps: 12, power: 1 });

/** A custom transform, as LARS/LAMB/SGD-NG will add: the gradient divided by its L2 norm (SGD-NG). */
const normalizeByNorm: Transform = {
  name: 'normalizeByNorm',
  slots: [],
  config: {},
  update: (u) => tf.div(u, tf.add(tf.norm(u), 1e-12)),
};

const SPECS: Spec[] = [
  {
    name: 'SGD momentum+dampening+wd',
    make: (p) => new SGD(p, { lr: schedule, eta: ETA, momentum: 0.9, dampening: 0.1, weightDecay: 1e-2 }),
    fromConfig: (c, p) => SGD.fromConfigAndParams(c, p),
  },
  {
    name: 'SGD nesterov, masked wd',
    make: (p) => new SGD(p, { lr: 0.05, eta: ETA, momentum: 0.9, nesterov: true, weightDecay: 5e-4, weightDecayMask: excludeFromWeightDecay() }),
    fromConfig: (c, p) => SGD.fromConfigAndParams(c, p),
  },
  {
    name: 'AdamW',
    make: (p) => new AdamW(p, { lr: schedule, eta: ETA, weightDecay: 0.05, weightDecayMask: excludeFromWeightDecay({ embeddings: false }) }),
    fromConfig: (c, p) => AdamW.fromConfigAndParams(c, p),
  },
  {
    name: 'AdamW amsgrad',
    make: (p) => new AdamW(p, { lr: 1e-2, eta: ETA, amsgrad: true, beta2: 0.9 }),
    fromConfig: (c, p) => AdamW.fromConfigAndParams(c, p),
  },
  {
    name: 'SGD-NG nesterov, masked wd, cosine',
    make: (p) => new SGDNG(p, { lr: schedule, eta: ETA, momentum: 0.9, nesterov: true, weightDecay: 1e-3, weightDecayMask: excludeFromWeightDecay() }),
    fromConfig: (c, p) => SGDNG.fromConfigAndParams(c, p),
  },
  {
    name: 'SGD-NG_adap',
    make: (p) => new SGDNG(p, { lr: 0.1, eta: ETA, adaptive: true, dampening: 0.1 }),
    fromConfig: (c, p) => SGDNG.fromConfigAndParams(c, p),
  },
  {
    name: 'Adam-NG amsgrad, masked decoupled wd',
    make: (p) => new AdamNG(p, { lr: schedule, eta: ETA, amsgrad: true, weightDecay: 0.05, weightDecayMask: excludeFromWeightDecay() }),
    fromConfig: (c, p) => AdamNG.fromConfigAndParams(c, p),
  },
  {
    name: 'LARS (LARC clip) wd',
    make: (p) => new LARS(p, { lr: schedule, eta: ETA, weightDecay: 5e-4, trustCoefficient: 0.02 }),
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
  {
    name: 'Chain: SGD-NG (normalize, masked wd, momentum, lr)',
    make: (p) => new ChainOptimizer(p, {
      lr: schedule, eta: ETA,
      transforms: [normalizeByNorm, masked(addWeightDecay(1e-3), (q) => q.kind === 'kernel'), traceMomentum({ momentum: 0.9 }), scaleByLearningRate()],
    }),
  },
];

/** Deterministic small values (no RNG needed). */
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

/** State through JSON, as a checkpoint file would carry it. */
function viaJson(state: OptimizerState): OptimizerState {
  const text = JSON.stringify(state, (_k, v) => (v instanceof Float32Array ? Array.from(v) : v));
  return JSON.parse(text) as OptimizerState;
}

for (const spec of SPECS) {
  test(`[${spec.name}] no tensor leaks: numTensors constant across steps, back to baseline after dispose`, () => {
    const base = tf.memory().numTensors;
    const params = makeParams();
    const opt = spec.make(params);
    stepWith(opt, params, 0); // creates the state slots
    const after1 = tf.memory().numTensors;
    for (let s = 1; s < 6; s++) {
      stepWith(opt, params, s);
      assert.equal(tf.memory().numTensors, after1, `step ${s + 1}`);
    }
    // minimize too
    const loss = (): tf.Scalar => tf.addN(params.map((p) => tf.sum(tf.square(p.variable)))) as tf.Scalar;
    opt.minimize(loss);
    assert.equal(tf.memory().numTensors, after1, 'minimize');
    opt.dispose();
    tf.dispose(params.map((p) => p.variable));
    assert.equal(tf.memory().numTensors, base);
  });

  test(`[${spec.name}] getState/setState resume gives bit-identical steps (other param order, other variables)`, () => {
    const params = makeParams();
    const opt = spec.make(params);
    for (let s = 0; s < 3; s++) stepWith(opt, params, s);
    const saved = viaJson(opt.getState());
    const weights = snapshot(params);
    assert.equal(saved.iterations, 3);
    for (let s = 3; s < 6; s++) stepWith(opt, params, s);
    const continued = snapshot(params);

    const params2 = makeParams('reversed', weights);
    const opt2 = spec.make(params2);
    opt2.setState(saved);
    assert.equal(opt2.iterations, 3);
    assert.equal(opt2.currentLR(), opt.schedule(3));
    for (let s = 3; s < 6; s++) stepWith(opt2, params2, s);
    assert.deepEqual(snapshot(params2), continued);

    // without the state the continuation differs (the test can fail)
    const params3 = makeParams('forward', weights);
    const opt3 = spec.make(params3);
    for (let s = 3; s < 6; s++) stepWith(opt3, params3, s);
    assert.notDeepEqual(snapshot(params3), continued);
    for (const o of [opt, opt2, opt3]) o.dispose();
    tf.dispose([...params, ...params2, ...params3].map((p) => p.variable));
  });

  test(`[${spec.name}] getWeights/setWeights (tfjs-style, by name) resume identically`, async () => {
    const params = makeParams();
    const opt = spec.make(params);
    for (let s = 0; s < 2; s++) stepWith(opt, params, s);
    const weights = await opt.getWeights();
    assert.equal(weights[0].name, 'iter');
    const values0 = snapshot(params);
    const params2 = makeParams('reversed', values0);
    const opt2 = spec.make(params2);
    await opt2.setWeights([weights[0], ...weights.slice(1).reverse()]);
    assert.equal(opt2.iterations, 2);
    stepWith(opt, params, 2);
    stepWith(opt2, params2, 2);
    assert.deepEqual(snapshot(params2), snapshot(params));
    for (const o of [opt, opt2]) o.dispose();
    tf.dispose([...params, ...params2].map((p) => p.variable));
  });

  test(`[${spec.name}] applyGradients by tfjs variable name equals step by param name; unknown names are errors`, () => {
    const a = makeParams();
    const b = makeParams();
    const oa = spec.make(a);
    const ob = spec.make(b);
    for (let s = 0; s < 2; s++) {
      stepWith(oa, a, s);
      const g = gradsFor(b, s);
      ob.applyGradients(b.map((p) => ({ name: p.variable.name, tensor: g[p.name] })));
      tf.dispose(Object.values(g));
    }
    assert.deepEqual(snapshot(b), snapshot(a));
    const stray = tf.variable(tf.zeros([4]));
    assert.throws(() => oa.applyGradients({ [stray.name]: tf.zeros([4]) }), new RegExp(`"${stray.name}" not among`));
    assert.throws(() => oa.step({ 'no.such.param': tf.zeros([4]) }), /unknown parameter\(s\) no\.such\.param/);
    assert.throws(() => oa.step({ 'head.kernel': tf.zeros([3, 4]) }), /shape \[3,4\], parameter has \[4,3\]/);
    assert.equal(oa.iterations, 2, 'failed steps do not count');
    for (const o of [oa, ob]) o.dispose();
    tf.dispose([...a, ...b].map((p) => p.variable));
    stray.dispose();
  });

  test(`[${spec.name}] minimize() updates only its own parameters and lowers a loss`, () => {
    const params = makeParams();
    const other = tf.variable(tf.ones([2]), true); // trainable but not ours
    const opt = spec.make(params);
    const loss = (): tf.Scalar => tf.add(
      tf.addN(params.map((p) => tf.sum(tf.square(p.variable)))), tf.sum(tf.square(other)),
    ) as tf.Scalar;
    const l0 = (tf.tidy(loss).dataSync())[0];
    for (let s = 0; s < 5; s++) opt.minimize(loss);
    const l1 = (tf.tidy(loss).dataSync())[0];
    assert.ok(l1 < l0, `${l1} < ${l0}`);
    assert.deepEqual(Array.from(other.dataSync()), [1, 1]);
    const cost = opt.minimize(loss, true);
    assert.ok(cost != null && cost.shape.length === 0);
    cost?.dispose();
    opt.dispose();
    tf.dispose([...params.map((p) => p.variable), other]);
  });

  test(`[${spec.name}] setState refuses foreign or mismatched state, changing nothing`, () => {
    const params = makeParams();
    const opt = spec.make(params);
    stepWith(opt, params, 0);
    const good = viaJson(opt.getState());
    assert.throws(() => opt.setState({ ...good, className: 'Other' }), /written by Other/);
    const unknown = viaJson(good);
    unknown.params['ghost.kernel'] = { step: 1, slots: {} };
    assert.throws(() => opt.setState(unknown), /unknown parameter "ghost.kernel"/);
    const names = Object.keys(good.params['head.kernel'].slots);
    if (names.length > 0) {
      const badShape = viaJson(good);
      badShape.params['head.kernel'].slots[names[0]].shape = [3, 4];
      assert.throws(() => opt.setState(badShape), /shape \[3,4\] != parameter shape \[4,3\]/);
      const badSlot = viaJson(good);
      badSlot.params['head.kernel'].slots.bogus = { shape: [4, 3], values: new Array(12).fill(0) };
      assert.throws(() => opt.setState(badSlot), /unknown slot "bogus"/);
    }
    assert.deepEqual(viaJson(opt.getState()), good);
    opt.dispose();
    tf.dispose(params.map((p) => p.variable));
  });

  test(`[${spec.name}] getConfig is plain JSON-safe data${spec.fromConfig ? ' and rebuilds an identical optimizer' : ''}`, () => {
    const params = makeParams();
    const opt = spec.make(params);
    const cfg = JSON.parse(JSON.stringify(opt.getConfig()));
    assert.deepEqual(cfg.eta, ETA);
    if (spec.fromConfig) {
      const params2 = makeParams();
      const opt2 = spec.fromConfig(cfg, params2);
      assert.equal((opt2.constructor as unknown as { className: string }).className, (opt.constructor as unknown as { className: string }).className);
      assert.deepEqual(JSON.parse(JSON.stringify(opt2.getConfig())), cfg);
      for (let s = 0; s < 3; s++) { stepWith(opt, params, s); stepWith(opt2, params2, s); }
      assert.deepEqual(snapshot(params2), snapshot(params));
      opt2.dispose();
      tf.dispose(params2.map((p) => p.variable));
    }
    opt.dispose();
    tf.dispose(params.map((p) => p.variable));
  });
}

for (const spec of SPECS) {
  test(`[${spec.name}] zero tensors and zero gradients: finite values and state, nothing NaN`, () => {
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
    for (const ps of Object.values(opt.getState().params)) {
      for (const [slot, d] of Object.entries(ps.slots)) assert.ok(Array.from(d.values).every(Number.isFinite), slot);
    }
    opt.dispose();
    tf.dispose(params.map((p) => p.variable));
  });
}

test('ChainOptimizer composition: SGD-NG known answer (p - lr*eta * g/||g||)', () => {
  const variable = tf.variable(tf.tensor1d([1, 1]));
  const p: ParamInfo = { name: 'w', shape: [2], numel: 2, kind: 'kernel', fanIn: 2, fanOut: 1, variable };
  const opt = new ChainOptimizer([p], { lr: 0.1, eta: { w: 2 }, transforms: [normalizeByNorm, scaleByLearningRate()] });
  opt.step({ w: tf.tensor1d([3, 4]) }); // ||g|| = 5
  const got = variable.dataSync();
  assert.ok(Math.abs(got[0] - (1 - 0.2 * 0.6)) < 1e-6 && Math.abs(got[1] - (1 - 0.2 * 0.8)) < 1e-6, `${got}`);
  assert.deepEqual(opt.getConfig().transforms, [{ name: 'normalizeByNorm' }, { name: 'scaleByLearningRate' }]);
  opt.dispose();
  variable.dispose();
});

test('StepContext: stepSize = global lr x eta (the deprecated lr alias equals it), baseLR the global lr', () => {
  const variable = tf.variable(tf.tensor1d([1, 1]));
  const p: ParamInfo = { name: 'w', shape: [2], numel: 2, kind: 'kernel', fanIn: 2, fanOut: 1, variable };
  const seen: Array<[number, number, number, number]> = [];
  const spy: Transform = { name: 'spy', slots: [], config: {}, update: (u, ctx) => { seen.push([ctx.stepSize, ctx.lr, ctx.baseLR, ctx.eta]); return u; } };
  const opt = new ChainOptimizer([p], { lr: (step) => 0.1 * (step + 1), eta: { w: 3 }, transforms: [spy, scaleByLearningRate()] });
  for (let i = 0; i < 2; i++) {
    const g = { w: tf.tensor1d([1, 1]) };
    opt.step(g);
    tf.dispose(Object.values(g));
  }
  const close = (a: number, b: number) => Math.abs(a - b) < 1e-12;
  assert.equal(seen.length, 2);
  seen.forEach(([stepSize, lr, baseLR, eta], i) => {
    assert.ok(close(baseLR, 0.1 * (i + 1)) && eta === 3 && close(stepSize, 0.3 * (i + 1)) && lr === stepSize, `${seen[i]}`);
  });
  opt.dispose();
  variable.dispose();
});

test('registry: sgd and adamw by name, options over defaults, unknown name lists the known ones', () => {
  assert.ok(listOptimizers().includes('sgd') && listOptimizers().includes('adamw'));
  const params = makeParams();
  const sgd = createOptimizer('sgd', params, { lr: 0.1, momentum: 0.9, eta: ETA });
  assert.ok(sgd instanceof SGD);
  assert.equal((sgd as SGD).momentum, 0.9);
  const adamw = createOptimizer('adamw', params, { lr: 1e-3, eta: ETA });
  assert.ok(adamw instanceof AdamW);
  assert.equal((adamw as AdamW).weightDecay, 1e-2);
  assert.throws(() => createOptimizer('nope', params, { lr: 1 }), /unknown optimizer "nope" \(known: .*adamw.*sgd/);
  tf.dispose(params.map((p) => p.variable));
});

test('fromConfig without params explains what to use', () => {
  assert.throws(() => SGD.fromConfig(SGD as never, {}), /fromConfigAndParams/);
  assert.equal(SGD.className, 'LwlrSGD');
  assert.equal(AdamW.className, 'LwlrAdamW');
});
