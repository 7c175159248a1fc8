import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { measureGradientMagnitudes, measureLayerwiseLR, meanSoftmaxCrossEntropy } from '../src/measure.js';
import { collectParams, paramsFromVariables } from '../src/params.js';
import { LRTable } from '../src/lr-table.js';
import type { Batch, ParamInfo } from '../src/types.js';
import {
  assertAllClose, assertClose, assertRejects, disposeBatches, makeBatch, useCpu, values, weightValues,
} from './core-helpers.js';
import { TORCH_G_L1, TORCH_G_L2, torchScriptNet } from './torch-fixtures.js';

await useCpu();

// ---------------------------------------------------------------------------------------------
// Two-layer linear model, known answer derived by hand.
//   h = x W1 + b1, yhat = h W2 + b2, L = mean_b 1/2 (yhat_b - y_b)^2
//   W1 = [[1, -1], [0.5, 2]], b1 = [0.5, -0.5], W2 = [[2], [1]], b2 = [0.25]
// Batch 1: x = [[1, 2], [-1, 0]], y = [1, 2]
//   h = [[2.5, 2.5], [-0.5, 0.5]], yhat = [7.75, -0.25], r = yhat - y = [6.75, -2.25]
//   g_b2 = mean r = 2.25;  g_W2 = mean r h = [9, 7.875]
//   dh = r W2^T = [[13.5, 6.75], [-4.5, -2.25]];  g_b1 = mean dh = [4.5, 2.25]
//   g_W1 = mean x^T dh = [[9, 4.5], [13.5, 6.75]]
//   sum|g|/m: W1 33.75/4 = 8.4375, b1 6.75/2 = 3.375, W2 16.875/2 = 8.4375, b2 2.25
// Batch 2: x = [[0, 1], [2, -1]], y = [0, 0]
//   h = [[1, 1.5], [2, -4.5]], yhat = [3.75, -0.25], r = [3.75, -0.25]
//   g_b2 = 1.75;  g_W2 = [(3.75 - 0.5)/2, (5.625 + 1.125)/2] = [1.625, 3.375]
//   dh = [[7.5, 3.75], [-0.5, -0.25]];  g_b1 = [3.5, 1.75]
//   g_W1 = mean([[0, 0], [7.5, 3.75]] + [[-1, -0.5], [0.5, 0.25]]) = [[-0.5, -0.25], [4, 2]]
//   sum|g|/m: W1 6.75/4 = 1.6875, b1 5.25/2 = 2.625, W2 5/2 = 2.5, b2 1.75
// G = [10.125, 6, 10.9375, 4]; numel m = [4, 2, 2, 1]
// eta_i = G_i^-1/2 / (sum_j m_j G_j^-1/2 / 9) = [0.889913..., 1.156030..., 0.856221..., 1.415843...]
// ---------------------------------------------------------------------------------------------
function linearModel(): { vars: Record<string, tf.Variable>; params: ParamInfo[]; loss: (b: Batch) => tf.Scalar } {
  const vars = {
    'fc1.kernel': tf.variable(tf.tensor2d([[1, -1], [0.5, 2]])),
    'fc1.bias': tf.variable(tf.tensor1d([0.5, -0.5])),
    'fc2.kernel': tf.variable(tf.tensor2d([[2], [1]])),
    'fc2.bias': tf.variable(tf.tensor1d([0.25])),
  };
  const loss = (b: Batch): tf.Scalar => {
    const h = tf.add(tf.matMul(b.x as tf.Tensor2D, vars['fc1.kernel']), vars['fc1.bias']) as tf.Tensor2D;
    const yhat = tf.add(tf.matMul(h, vars['fc2.kernel']), vars['fc2.bias']);
    return tf.mul(0.5, tf.mean(tf.sum(tf.square(tf.sub(yhat, b.y)), -1))) as tf.Scalar;
  };
  return { vars, params: paramsFromVariables(vars), loss };
}

function linearBatches(): Batch[] {
  return [
    { x: tf.tensor2d([[1, 2], [-1, 0]]), y: tf.tensor2d([[1], [2]]) },
    { x: tf.tensor2d([[0, 1], [2, -1]]), y: tf.tensor2d([[0], [0]]) },
  ];
}

const HAND_G = [10.125, 6, 10.9375, 4];
const HAND_ETA = [0.88991307, 1.15603098, 0.85622138, 1.41584302];

test('Algorithm 1 known answer: two-layer linear model, G and eta by hand (1e-6)', async () => {
  const { vars, params, loss } = linearModel();
  const batches = linearBatches();
  const before = Object.values(vars).map(values);
  const n0 = tf.memory().numTensors;
  const table = await measureLayerwiseLR({ params, loss }, batches, { steps: 2, init: 'none' });
  assert.equal(tf.memory().numTensors, n0, 'no tensor leaks');
  assert.deepEqual(table.names, ['fc1.kernel', 'fc1.bias', 'fc2.kernel', 'fc2.bias']);
  assertAllClose(table.entries.map((e) => e.G!), HAND_G, 1e-6, 'G');
  // eta from the hand G by the formula, and the hand-computed numbers
  const raw = HAND_G.map((g) => 1 / Math.sqrt(g));
  const m = [4, 2, 2, 1];
  const mean = raw.reduce((a, r, i) => a + m[i]! * r, 0) / 9;
  assertAllClose(table.entries.map((e) => e.eta), raw.map((r) => r / mean), 1e-6, 'eta');
  assertAllClose(table.entries.map((e) => e.eta), HAND_ETA, 1e-6, 'eta literal');
  const s = table.entries.reduce((a, e) => a + e.numel * e.eta, 0);
  assertClose(s, 9, 1e-6, 'sum m eta');
  assert.equal(table.meta.scheme, 'layerwise');
  assert.equal(table.meta.steps, 2);
  assert.equal(table.meta.batchSize, 2);
  assert.equal(table.meta.init, 'none');
  assert.equal(table.meta.exponent, 0.5);
  assert.deepEqual(table.meta.zeroGradient?.names, []);
  assert.equal(table.meta.signature, LRTable.signatureOf(params));
  // weights were not updated
  assert.deepEqual(Object.values(vars).map(values), before);
  // one step only: G of batch 1
  const one = await measureGradientMagnitudes({ params, loss }, batches, { steps: 1, init: 'none' });
  assertAllClose(one.G, [8.4375, 3.375, 8.4375, 2.25], 1e-6, 'G after one step');
  disposeBatches(batches);
  tf.dispose(Object.values(vars));
});

// L2 (--grad-norm l2) on the same model and batches, from the hand gradients above:
//   G_l2 = sum_t sqrt(sum(g^2) / m)
//   W1: sqrt((81 + 20.25 + 182.25 + 45.5625) / 4) + sqrt((0.25 + 0.0625 + 16 + 4) / 4) = sqrt(82.265625) + sqrt(5.078125)
//   b1: sqrt((20.25 + 5.0625) / 2) + sqrt((12.25 + 3.0625) / 2) = sqrt(12.65625) + sqrt(7.65625) = sqrt(40)
//   W2: sqrt((81 + 62.015625) / 2) + sqrt((2.640625 + 11.390625) / 2) = sqrt(71.5078125) + sqrt(7.015625)
//   b2: one element, rms = |g|: 2.25 + 1.75 = 4
const HAND_G_L2 = [Math.sqrt(82.265625) + Math.sqrt(5.078125), Math.sqrt(40), Math.sqrt(71.5078125) + Math.sqrt(7.015625), 4];

test('Algorithm 1 with gradNorm l2 known answer: G = sum_t rms(g), by hand (1e-6); recorded in the table', async () => {
  assertAllClose(HAND_G_L2, [11.323509514000861, 6.324555320336758, 11.104931725386896, 4], 1e-12, 'hand arithmetic');
  const { vars, params, loss } = linearModel();
  const batches = linearBatches();
  const n0 = tf.memory().numTensors;
  const table = await measureLayerwiseLR({ params, loss }, batches, { steps: 2, init: 'none', gradNorm: 'l2' });
  assert.equal(tf.memory().numTensors, n0, 'no tensor leaks');
  assertAllClose(table.entries.map((e) => e.G!), HAND_G_L2, 1e-6, 'G l2');
  const raw = HAND_G_L2.map((g) => 1 / Math.sqrt(g));
  const mean = raw.reduce((a, r, i) => a + [4, 2, 2, 1][i]! * r, 0) / 9;
  assertAllClose(table.entries.map((e) => e.eta), raw.map((r) => r / mean), 1e-6, 'eta l2');
  assert.equal(table.meta.gradNorm, 'l2');
  assert.match(table.format(), /G l2 \(rms g\)/);
  assert.equal(LRTable.fromJSON(JSON.stringify(table)).meta.gradNorm, 'l2');
  // the default stays the paper's L1
  const l1 = await measureGradientMagnitudes({ params, loss }, batches, { steps: 2, init: 'none' });
  assert.equal(l1.gradNorm, 'l1');
  assertAllClose(l1.G, HAND_G, 1e-6);
  await assertRejects(() => measureGradientMagnitudes({ params, loss }, batches, { steps: 2, init: 'none', gradNorm: 'l3' as never }), /gradNorm must be 'l1' or 'l2'/);
  disposeBatches(batches);
  tf.dispose(Object.values(vars));
});

test('PyTorch semantics: G with gradNorm l1 and l2 equal torch\'s mean |g| and sqrt(mean g^2) summed over 2 batches', async () => {
  const { vars, params, loss, batches } = torchScriptNet();
  const l1 = await measureGradientMagnitudes({ params, loss }, batches, { steps: 2, init: 'none', gradNorm: 'l1' });
  const l2 = await measureGradientMagnitudes({ params, loss }, batches, { steps: 2, init: 'none', gradNorm: 'l2' });
  assertAllClose(l1.G, TORCH_G_L1, 1e-5, 'G l1 vs torch');
  assertAllClose(l2.G, TORCH_G_L2, 1e-5, 'G l2 vs torch');
  disposeBatches(batches);
  tf.dispose(Object.values(vars));
});

test('Algorithm 1: async and generator sources give the same G; onStep sees every step', async () => {
  const { vars, params, loss } = linearModel();
  const batches = linearBatches();
  async function* gen(): AsyncGenerator<Batch> { for (const b of batches) yield b; }
  const steps: Array<[number, number]> = [];
  const a = await measureGradientMagnitudes({ params, loss }, gen(), { steps: 2, init: 'none', onStep: (t, T) => steps.push([t, T]) });
  assertAllClose(a.G, HAND_G, 1e-6);
  assert.deepEqual(steps, [[1, 2], [2, 2]]);
  function* sync(): Generator<Batch> { yield* batches; }
  assertAllClose((await measureGradientMagnitudes({ params, loss }, sync(), { steps: 2, init: 'none' })).G, HAND_G, 1e-6);
  // a generator making fresh tensors, disposed by the measurement on request: no leaks
  const n0 = tf.memory().numTensors;
  function* fresh(): Generator<Batch> { for (;;) yield* linearBatches(); }
  const f = await measureGradientMagnitudes({ params, loss }, fresh(), { steps: 4, init: 'none', disposeBatches: true });
  assertAllClose(f.G, HAND_G.map((g) => 2 * g), 1e-6);
  assert.equal(tf.memory().numTensors, n0);
  disposeBatches(batches);
  tf.dispose(Object.values(vars));
});

test('invariant: scaling the loss by c leaves eta unchanged (p = 0.5, after normalization)', async () => {
  const model = tf.sequential({ layers: [
    tf.layers.dense({ units: 6, inputShape: [5], activation: 'tanh', name: 'fc1' }),
    tf.layers.dense({ units: 3, name: 'fc2' }),
  ] });
  const batches = [makeBatch(8, [5], 3, 1), makeBatch(8, [5], 3, 2)];
  const base = await measureLayerwiseLR(model, batches, { steps: 2, seed: 5 });
  const c = 7;
  const scaled = await measureLayerwiseLR(model, batches, {
    steps: 2, seed: 5, loss: (y, p) => tf.mul(meanSoftmaxCrossEntropy(y, p), c) as tf.Scalar,
  });
  assertAllClose(scaled.entries.map((e) => e.G!), base.entries.map((e) => c * e.G!), 1e-5, 'G scales by c');
  assertAllClose(scaled.entries.map((e) => e.eta), base.entries.map((e) => e.eta), 1e-6, 'eta');
  // and eta really varies across parameters (the invariant is not trivially true)
  const etas = base.entries.map((e) => e.eta);
  assert.ok(Math.max(...etas) / Math.min(...etas) > 1.05);
  disposeBatches(batches);
  model.dispose();
});

test('default loss: integer labels and one-hot targets give the same G', async () => {
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], name: 'fc' })] });
  const b = makeBatch(6, [4], 3, 9);
  const oneHot = { x: b.x, y: tf.oneHot(b.y as tf.Tensor1D, 3) };
  const a = await measureGradientMagnitudes(model, [b], { steps: 1 });
  const o = await measureGradientMagnitudes(model, [oneHot], { steps: 1 });
  assertAllClose(o.G, a.G, 1e-6);
  await assertRejects(() => measureGradientMagnitudes(model, [{ x: b.x, y: tf.zeros([6, 5]) }], { steps: 1 }), /do not fit logits/);
  disposeBatches([b]);
  oneHot.y.dispose();
  model.dispose();
});

// A tiny single-head attention block with separate q/k/v projections (with biases), mean pooling and a
// linear head. softmax(q (k + bk)^T) = softmax(q k^T + q bk^T): the second term is constant along the
// softmax axis, so dL/dbk = 0 in exact arithmetic; in float32 it is only rounding noise.
function attentionBlock(): { vars: Record<string, tf.Variable>; params: ParamInfo[]; loss: (b: Batch) => tf.Scalar } {
  const D = 8;
  const C = 3;
  const vars = {
    'attn.q.kernel': tf.variable(tf.zeros([D, D])), 'attn.q.bias': tf.variable(tf.zeros([D])),
    'attn.k.kernel': tf.variable(tf.zeros([D, D])), 'attn.k.bias': tf.variable(tf.zeros([D])),
    'attn.v.kernel': tf.variable(tf.zeros([D, D])), 'attn.v.bias': tf.variable(tf.zeros([D])),
    'head.kernel': tf.variable(tf.zeros([D, C])), 'head.bias': tf.variable(tf.zeros([C])),
  };
  const proj = (x: tf.Tensor3D, name: 'q' | 'k' | 'v'): tf.Tensor3D => {
    const [B, N] = x.shape;
    const flat = tf.reshape(x, [B * N, D]) as tf.Tensor2D;
    const y = tf.add(tf.matMul(flat, vars[`attn.${name}.kernel`]), vars[`attn.${name}.bias`]);
    return tf.reshape(y, [B, N, D]) as tf.Tensor3D;
  };
  const loss = (b: Batch): tf.Scalar => {
    const x = b.x as tf.Tensor3D;
    const q = proj(x, 'q');
    const k = proj(x, 'k');
    const v = proj(x, 'v');
    const scores = tf.div(tf.matMul(q, k, false, true), Math.sqrt(D));
    const out = tf.matMul(tf.softmax(scores), v);
    const pooled = tf.mean(out, 1) as tf.Tensor2D;
    const logits = tf.add(tf.matMul(pooled, vars['head.kernel']), vars['head.bias']);
    return meanSoftmaxCrossEntropy(b.y, logits);
  };
  return { vars, params: paramsFromVariables(vars), loss };
}

test('zero gradient: the key bias of an attention block is detected, eta = 1, excluded; error and keep policies', async () => {
  const { vars, params, loss } = attentionBlock();
  const batches = [makeBatch(4, [5, 8], 3, 21), makeBatch(4, [5, 8], 3, 22)];
  const n0 = tf.memory().numTensors;
  const table = await measureLayerwiseLR({ params, loss }, batches, { steps: 2, seed: 1 });
  const kb = table.entry('attn.k.bias')!;
  const gs = table.entries.filter((e) => e.name !== 'attn.k.bias').map((e) => e.G!);
  assert.ok(kb.G! < 1e-5 * Math.min(...gs), `key-bias G ${kb.G} should be float noise against ${Math.min(...gs)}`);
  assert.equal(kb.excluded, true);
  assert.equal(kb.eta, 1);
  assert.deepEqual(table.meta.zeroGradient?.names, ['attn.k.bias']);
  assert.equal(table.meta.zeroGradient?.policy, 'exclude');
  assert.match(table.meta.warnings.join('\n'), /attn\.k\.bias/);
  assert.equal(table.entries.filter((e) => e.excluded).length, 1);
  // the normalization runs over the other parameters only
  const incl = table.entries.filter((e) => !e.excluded);
  assertClose(incl.reduce((a, e) => a + e.numel * e.eta, 0), incl.reduce((a, e) => a + e.numel, 0), 1e-6);
  assert.match(table.format(), /attn\.k\.bias \*/);

  await assertRejects(() => measureLayerwiseLR({ params, loss }, batches, { steps: 2, seed: 1, zeroGradient: { policy: 'error' } }),
    /zero-gradient parameters/, /attn\.k\.bias/);
  if (kb.G! > 0) {
    const kept = await measureLayerwiseLR({ params, loss }, batches, { steps: 2, seed: 1, zeroGradient: { policy: 'keep' } });
    const k2 = kept.entry('attn.k.bias')!;
    assert.equal(k2.excluded, undefined);
    assert.ok(k2.eta > 100 * kept.eta('attn.q.bias'), `kept key-bias eta ${k2.eta} explodes`);
    assert.deepEqual(kept.meta.zeroGradient?.names, ['attn.k.bias']);
  } else {
    await assertRejects(() => measureLayerwiseLR({ params, loss }, batches, { steps: 2, seed: 1, zeroGradient: { policy: 'keep' } }), /G = 0 exactly/);
  }
  assert.equal(tf.memory().numTensors, n0, 'no tensor leaks');
  disposeBatches(batches);
  tf.dispose(Object.values(vars));
});

function bnModel(): tf.Sequential {
  return tf.sequential({ layers: [
    tf.layers.dense({ units: 6, inputShape: [4], name: 'fc1' }),
    tf.layers.batchNormalization({ name: 'bn1', momentum: 0.9, epsilon: 1e-5, movingMeanInitializer: 'ones', movingVarianceInitializer: 'ones' }),
    tf.layers.activation({ activation: 'relu', name: 'act' }),
    tf.layers.dense({ units: 3, name: 'fc2' }),
  ] });
}

test('LayersModel path: a Dense bias feeding BatchNorm is zero-gradient; all weights incl. BN moving stats restored', async () => {
  const model = bnModel();
  // give every weight a distinctive value
  model.weights.forEach((w, i) => tf.tidy(() => { w.write(tf.fill(w.shape as number[], 0.1 * (i + 2))); }));
  const before = weightValues(model);
  const batches = [makeBatch(8, [4], 3, 31), makeBatch(8, [4], 3, 32), makeBatch(8, [4], 3, 33)];
  const n0 = tf.memory().numTensors;
  const movingDuring: number[][] = [];
  const table = await measureLayerwiseLR(model, batches, {
    steps: 3, seed: 2,
    onStep: () => movingDuring.push(values(model.weights.find((w) => w.originalName === 'bn1/moving_mean')!.read())),
  });
  assert.equal(tf.memory().numTensors, n0, 'no tensor leaks');
  // training mode really ran: BN's moving mean moved away from its reset value 0
  assert.ok(movingDuring[0]!.some((v) => v !== 0), 'training-mode BatchNorm updated its moving mean');
  assert.deepEqual(table.names, ['fc1.kernel', 'fc1.bias', 'bn1.gamma', 'bn1.beta', 'fc2.kernel', 'fc2.bias']);
  assert.deepEqual(table.meta.zeroGradient?.names, ['fc1.bias']);
  assert.equal(table.entry('fc1.bias')!.eta, 1);
  assert.equal(table.meta.batchSize, 8);
  assert.equal(table.meta.init, 'fan-out');
  assert.equal(table.meta.seed, 2);
  table.checkCompatible(collectParams(model));
  // everything restored exactly, moving statistics included
  const after = weightValues(model);
  for (const [name, v] of before) assert.deepEqual(after.get(name), v, name);
  disposeBatches(batches);
  model.dispose();
});

test('LayersModel path: keepInit leaves the measurement init (same as a seeded init), BN stats as right after the init', async () => {
  const model = bnModel();
  const batches = [makeBatch(8, [4], 3, 41), makeBatch(8, [4], 3, 42)];
  const t1 = await measureLayerwiseLR(model, batches, { steps: 2, seed: 9, keepInit: true });
  const w1 = weightValues(model);
  const byOrig = new Map(model.weights.map((w) => [w.originalName, values(w.read())]));
  assert.ok(byOrig.get('fc1/bias')!.every((v) => v === 0));
  assert.ok(byOrig.get('bn1/gamma')!.every((v) => v === 1));
  assert.ok(byOrig.get('bn1/moving_mean')!.every((v) => v === 0));
  assert.ok(byOrig.get('bn1/moving_variance')!.every((v) => v === 1));
  const k = byOrig.get('fc1/kernel')!;
  assert.ok(k.some((v) => v !== 0));
  // measuring again from a perturbed model with the same seed gives the same init and the same table
  model.weights.forEach((w) => tf.tidy(() => { w.write(tf.fill(w.shape as number[], 0.3)); }));
  const t2 = await measureLayerwiseLR(model, batches, { steps: 2, seed: 9, keepInit: true });
  const w2 = weightValues(model);
  for (const [name, v] of w1) assert.deepEqual(w2.get(name), v, name);
  assert.deepEqual(t2.entries.map((e) => e.G), t1.entries.map((e) => e.G));
  disposeBatches(batches);
  model.dispose();
});

test('errors: T < 1, empty or short data source, bad target or source', async () => {
  const { vars, params, loss } = linearModel();
  const batches = linearBatches();
  const target = { params, loss };
  const n0 = tf.memory().numTensors;
  await assertRejects(() => measureLayerwiseLR(target, batches, { steps: 0 }), /steps \(T\) must be an integer >= 1, got 0/);
  await assertRejects(() => measureLayerwiseLR(target, batches, { steps: 1.5 }), /steps \(T\)/);
  await assertRejects(() => measureLayerwiseLR(target, [], { steps: 1 }), /data source is empty/);
  await assertRejects(() => measureLayerwiseLR(target, batches, { steps: 5, init: 'none' }), /ended after 2 of 5 batches/);
  await assertRejects(() => measureLayerwiseLR(target, 42 as never, { steps: 1 }), /not iterable/);
  await assertRejects(() => measureLayerwiseLR({ loss } as never, batches, { steps: 1 }), /target must be/);
  await assertRejects(() => measureLayerwiseLR(target, batches, { steps: 1, init: 'orthogonal' as never }), /unknown init/);
  await assertRejects(() => measureLayerwiseLR(target, batches, { steps: 1, exponent: -2 }), /exponent/);
  await assertRejects(() => measureLayerwiseLR(target, batches, { steps: 1, zeroGradient: { policy: 'ignore' as never } }), /policy/);
  await assertRejects(() => measureLayerwiseLR({ params: [...params, params[0]!], loss }, batches, { steps: 1 }), /share one tf\.Variable/);
  // the weights are back after a failed fan-out measurement
  const before = Object.values(vars).map(values);
  await assertRejects(() => measureLayerwiseLR(target, batches, { steps: 3 }), /ended after 2 of 3/);
  assert.deepEqual(Object.values(vars).map(values), before);
  assert.equal(tf.memory().numTensors, n0, 'no tensor leaks after errors');
  disposeBatches(batches);
  tf.dispose(Object.values(vars));
});

test('errors: a NaN/Inf gradient names the parameter and the step; weights restored; no leaks', async () => {
  const { vars, params, loss } = linearModel();
  const batches = [...linearBatches(), { x: tf.tensor2d([[1, 1], [1, 1]]), y: tf.tensor2d([[NaN], [0]]) }];
  const inf = [{ x: tf.tensor2d([[1, 0], [0, 1]]), y: tf.tensor2d([[0], [0]]) }, { x: tf.tensor2d([[Infinity, 0], [0, 1]]), y: tf.tensor2d([[0], [0]]) }];
  const before = Object.values(vars).map(values);
  const n0 = tf.memory().numTensors;
  await assertRejects(() => measureLayerwiseLR({ params, loss }, batches, { steps: 3, init: 'none' }),
    /non-finite \(NaN\/Inf\) gradient for parameter 'fc1\.kernel' at step 3 of 3/, /and 3 other parameters/);
  // an Inf input at step 2: every gradient is non-finite from step 2 on; the first parameter in order is named
  await assertRejects(() => measureLayerwiseLR({ params, loss }, inf, { steps: 2, init: 'none' }), /'fc1\.kernel' at step 2 of 2/);
  assert.deepEqual(Object.values(vars).map(values), before);
  assert.equal(tf.memory().numTensors, n0);
  disposeBatches([...batches, ...inf]);
  tf.dispose(Object.values(vars));
});

test('no tensor leaks: numTensors unchanged after measurements of a LayersModel', async () => {
  const model = bnModel();
  const batches = [makeBatch(4, [4], 3, 51), makeBatch(4, [4], 3, 52)];
  const n0 = tf.memory().numTensors;
  await measureLayerwiseLR(model, batches, { steps: 2 });
  await measureLayerwiseLR(model, batches, { steps: 2, keepInit: true, init: 'fan-in' });
  await measureGradientMagnitudes(model, batches, { steps: 1, init: 'none' });
  assert.equal(tf.memory().numTensors, n0);
  disposeBatches(batches);
  model.dispose();
});
