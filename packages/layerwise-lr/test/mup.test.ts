import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { applyMupInit, mupInitScales, mupOutputMultiplier, mupShapes, mupTable, type MupOptions } from '../src/mup.js';
import { paramsFromVariables } from '../src/params.js';
import { EtaTable } from '../src/eta-table.js';
import { SGD } from '../src/optim/sgd.js';
import { AdamW } from '../src/optim/adamw.js';
import { assertAllClose, detFloats, useCpu, values } from './core-helpers.js';

await useCpu();

/** An MLP's variables in tfjs layout: in -> width (x depth-1) -> classes, deterministic values. */
function mlpVars(inDim: number, width: number, classes: number, depth = 2, seed = 1): Record<string, tf.Variable> {
  const dims = [inDim, ...Array.from({ length: depth - 1 }, () => width), classes];
  const vars: Record<string, tf.Variable> = {};
  for (let i = 1; i <= depth; i++) {
    const [a, b] = [dims[i - 1]!, dims[i]!];
    vars[`fc${i}.kernel`] = tf.variable(tf.tensor(detFloats(a * b, seed + i).map((v) => v / Math.sqrt(a)), [a, b]));
    vars[`fc${i}.bias`] = tf.variable(tf.tensor(detFloats(b, seed + 10 + i).map((v) => 0.1 * v), [b]));
  }
  return vars;
}

const shapesOf = (vars: Record<string, tf.Variable>) => Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, v.shape]));

test('mup: 2-layer MLP at width 2x base, hand-derived roles, etas and init scales', () => {
  const vars = mlpVars(6, 8, 3);
  const params = paramsFromVariables(vars);
  const base = { 'fc1.kernel': [6, 4], 'fc1.bias': [4], 'fc2.kernel': [4, 3], 'fc2.bias': [3] };
  const s = mupShapes(params, base);
  assert.deepEqual(s.map((x) => x.role), ['input', 'vector', 'output', 'fixed']);
  assert.deepEqual(s.map((x) => x.infDims), [[1], [0], [0], []]);
  // SGD (MuSGD): vector-like x m (input kernel, hidden bias, and the readout with the model multiplier);
  // absorbed readout: m * (1/m)^2 = 1/m. Adam (MuAdam): vector-like x 1; absorbed readout 1/m.
  const eta = (o: MupOptions) => mupTable(params, base, o).entries.map((e) => e.eta);
  assert.deepEqual(eta({ optimizer: 'sgd' }), [2, 2, 0.5, 1]);
  assert.deepEqual(eta({ optimizer: 'sgd', outputMultiplier: 'model' }), [2, 2, 2, 1]);
  assert.deepEqual(eta({ optimizer: 'adam' }), [1, 1, 0.5, 1]);
  assert.deepEqual(eta({ optimizer: 'adam', outputMultiplier: 'model' }), [1, 1, 1, 1]);
  assert.deepEqual(mupInitScales(params, base, { optimizer: 'sgd' }), { 'fc2.kernel': 0.5 });
  assert.deepEqual(mupInitScales(params, base, { optimizer: 'sgd', outputMultiplier: 'model' }), {});
  assert.equal(mupOutputMultiplier(s), 0.5);
  assert.equal(mupTable(params, base, { optimizer: 'sgd' }).meta.scheme, 'mup');
  // the table survives JSON (scheme 'mup' is a valid table scheme)
  assert.equal(EtaTable.fromJSON(JSON.stringify(mupTable(params, base, { optimizer: 'sgd' }).toJSON())).meta.scheme, 'mup');
  tf.dispose(Object.values(vars));
});

test('mup: hidden kernels of a 3-layer MLP at 4x base (SGD fan_out/fan_in = 1, Adam 1/fan_in, constant init 1/sqrt(m))', () => {
  const vars = mlpVars(5, 8, 3, 3);
  const params = paramsFromVariables(vars);
  const base = shapesOf(mlpVars(5, 2, 3, 3));
  const t = (o: MupOptions) => mupTable(params, base, o).etaMap();
  assert.equal(t({ optimizer: 'sgd' })['fc2.kernel'], 1);
  assert.equal(t({ optimizer: 'adam' })['fc2.kernel'], 0.25);
  assert.equal(t({ optimizer: 'sgd' })['fc3.kernel'], 0.25);
  assert.deepEqual(mupInitScales(params, base, { optimizer: 'adam', baseInit: 'constant' }), { 'fc2.kernel': 0.5, 'fc3.kernel': 0.25 });
  tf.dispose(Object.values(vars));
});

test('mup: conv kernels (tfjs [kh, kw, in, out]) and errors', () => {
  const params = [
    { name: 'stem.kernel', shape: [3, 3, 3, 16], kind: 'kernel' as const },
    { name: 'conv.kernel', shape: [3, 3, 16, 32], kind: 'kernel' as const },
    { name: 'bn.gamma', shape: [32], kind: 'scale' as const },
  ];
  const base = { 'stem.kernel': [3, 3, 3, 8], 'conv.kernel': [3, 3, 8, 8], 'bn.gamma': [8] };
  const s = mupShapes(params, base);
  assert.deepEqual(s.map((x) => x.role), ['input', 'hidden', 'vector']);
  assert.deepEqual([s[1]!.fanInMult, s[1]!.fanOutMult], [2, 4]);
  assert.throws(() => mupShapes(params, { ...base, 'bn.gamma': undefined as unknown as number[] }), /'bn.gamma' is not in the base model/);
  assert.throws(() => mupShapes(params, { ...base, 'conv.kernel': [5, 3, 16, 8] }), /spatial dimension/);
  assert.throws(() => mupShapes(params, { ...base, 'bn.gamma': [8, 1] }), /rank differs/);
});

/** 3 steps of `makeOpt` on a 2-layer MLP; returns the final loss and the logits on the data. */
function train3(vars: Record<string, tf.Variable>, outMult: number, makeOpt: (p: ReturnType<typeof paramsFromVariables>) => SGD | AdamW) {
  const x = tf.tensor(detFloats(4 * 6, 99), [4, 6]);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3);
  const params = paramsFromVariables(vars);
  const opt = makeOpt(params);
  const logits = () => tf.add(tf.mul(tf.matMul(tf.relu(tf.add(tf.matMul(x, vars['fc1.kernel']!), vars['fc1.bias']!)), vars['fc2.kernel']!), outMult), vars['fc2.bias']!);
  for (let i = 0; i < 3; i++) opt.minimize(() => tf.losses.softmaxCrossEntropy(y, logits()) as tf.Scalar);
  const out = tf.tidy(logits);
  const v = values(out);
  tf.dispose([x, y, out]);
  opt.dispose();
  return v;
}

test('mup: at width == base, muP is the standard parametrization with the same lr (SGD and AdamW, 3 steps)', () => {
  for (const optimizer of ['sgd', 'adam'] as const) {
    const a = mlpVars(6, 4, 3);
    const b = mlpVars(6, 4, 3);
    const base = shapesOf(a);
    const pb = paramsFromVariables(b);
    assert.deepEqual(applyMupInit(pb, base, { optimizer }), {});
    const table = mupTable(pb, base, { optimizer });
    assert.ok(table.entries.every((e) => e.eta === 1));
    const mk = (eta?: EtaTable) => (p: ReturnType<typeof paramsFromVariables>) =>
      optimizer === 'sgd' ? new SGD(p, { lr: 0.3, momentum: 0.9, eta }) : new AdamW(p, { lr: 0.01, weightDecay: 0, eta });
    const sp = train3(a, 1, mk());
    const mu = train3(b, 1, mk(table));
    assert.deepEqual(mu, sp);
    tf.dispose([...Object.values(a), ...Object.values(b)]);
  }
});

test('mup: absorbed readout multiplier trains the same function as the model multiplier (MuReadout), SGD and Adam', () => {
  for (const optimizer of ['sgd', 'adam'] as const) {
    const base = shapesOf(mlpVars(6, 4, 3));
    const model = mlpVars(6, 8, 3); // the model multiplies logits by 1/m = 0.5
    const absorbed = mlpVars(6, 8, 3);
    const pm = paramsFromVariables(model);
    const pa = paramsFromVariables(absorbed);
    applyMupInit(pm, base, { optimizer, outputMultiplier: 'model' });
    applyMupInit(pa, base, { optimizer });
    const mk = (o: MupOptions) => (p: ReturnType<typeof paramsFromVariables>) => optimizer === 'sgd'
      ? new SGD(p, { lr: 0.2, momentum: 0.9, eta: mupTable(p, base, o) })
      : new AdamW(p, { lr: 0.01, weightDecay: 0, eps: 1e-12, eta: mupTable(p, base, o) });
    const viaModel = train3(model, mupOutputMultiplier(mupShapes(pm, base)), mk({ optimizer, outputMultiplier: 'model' }));
    const viaAbsorb = train3(absorbed, 1, mk({ optimizer }));
    assertAllClose(viaAbsorb, viaModel, 1e-4, optimizer);
    tf.dispose([...Object.values(model), ...Object.values(absorbed)]);
  }
});

test('registry: mup-sgd / mup-adam are SGD / AdamW with muP\'s table from the mupBase option; they take uniform (or their own mup table)', async () => {
  const { createOptimizer, acceptsScheme, optimizerEtaTable, getOptimizerInfo } = await import('../src/optim/registry.js');
  const { schemeTable } = await import('../src/schemes.js');
  const base = { 'fc1.kernel': [6, 4], 'fc1.bias': [4], 'fc2.kernel': [4, 3], 'fc2.bias': [3] };
  for (const [name, family] of [['mup-sgd', 'sgd'], ['mup-adam', 'adam']] as const) {
    const a = paramsFromVariables(mlpVars(6, 8, 3));
    const b = paramsFromVariables(mlpVars(6, 8, 3));
    const uniform = schemeTable(a, 'uniform');
    const table = optimizerEtaTable(name, a, uniform, { mupBase: base });
    assert.equal(table.meta.scheme, 'mup');
    assert.deepEqual(table.entries.map((e) => e.eta), mupTable(a, base, { optimizer: family }).entries.map((e) => e.eta));
    const viaRegistry = createOptimizer(name, a, { lr: 0.1, eta: uniform, momentum: 0.9, mupBase: base });
    const eta = mupTable(b, base, { optimizer: family });
    const direct = family === 'sgd' ? new SGD(b, { lr: 0.1, eta, momentum: 0.9 }) : new AdamW(b, { lr: 0.1, eta, weightDecay: 1e-2 });
    const grads = (ps: typeof a) => Object.fromEntries(ps.map((p, i) => [p.name, tf.fill(p.shape as number[], 0.1 * (i + 1))]));
    for (let s = 0; s < 2; s++) {
      const ga = grads(a);
      const gb = grads(b);
      viaRegistry.step(ga);
      direct.step(gb);
      tf.dispose([...Object.values(ga), ...Object.values(gb)]);
    }
    a.forEach((p, i) => assertAllClose(values(p.variable), values(b[i]!.variable), 0, `${name} ${p.name}`));
    assert.ok(acceptsScheme(name, 'uniform') && acceptsScheme(name, 'mup') && !acceptsScheme(name, 'layerwise'));
    assert.equal(getOptimizerInfo(name).schemes![0], 'uniform', 'uniform is its default scheme');
    assert.throws(() => createOptimizer(name, a, { lr: 0.1 }), new RegExp(`${name}: needs the mupBase option`));
    viaRegistry.dispose();
    direct.dispose();
  }
  // sgd and adamw take every scheme; the paper's baselines only uniform
  assert.ok(acceptsScheme('sgd', 'layerwise') && acceptsScheme('adamw', 'depth-decreasing'));
  for (const n of ['sgd-ng', 'sgd-ng-adap', 'adam-ng', 'lars', 'lamb']) assert.ok(!acceptsScheme(n, 'layerwise') && acceptsScheme(n, 'uniform'), n);
});
