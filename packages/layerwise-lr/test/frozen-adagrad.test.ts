import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { FrozenAdagradTable, frozenAdagradFromSquares, measureFrozenAdagrad } from '../src/frozen-adagrad.js';
import { LRTable } from '../src/lr-table.js';
import { paramsFromVariables } from '../src/params.js';
import { SGD } from '../src/optim/sgd.js';
import { AdamW } from '../src/optim/adamw.js';
import type { Batch } from '../src/types.js';
import { assertAllClose, assertClose, assertRejects, disposeBatches, useCpu, values } from './core-helpers.js';
import { TORCH_ADAGRAD_MULTIPLIERS, torchScriptNet } from './torch-fixtures.js';
import { assertNear } from './optim-helpers.js';

await useCpu();

// ---------------------------------------------------------------------------------------------
// The two-layer linear model of measure.test.ts (h = x W1 + b1, yhat = h W2 + b2, L = mean 1/2 (yhat - y)^2),
// whose gradients on its two batches are derived by hand there:
//   batch 1: g_W1 = [[9, 4.5], [13.5, 6.75]], g_b1 = [4.5, 2.25], g_W2 = [9, 7.875],     g_b2 = 2.25
//   batch 2: g_W1 = [[-0.5, -0.25], [4, 2]],  g_b1 = [3.5, 1.75], g_W2 = [1.625, 3.375], g_b2 = 1.75
// S = g1^2 + g2^2 per element:
//   W1 [81.25, 20.3125, 198.25, 49.5625], b1 [32.5, 8.125], W2 [83.640625, 73.40625], b2 [8.125]
// raw = 1 / (sqrt(S) + 1e-10); mean of the 9 raw values = 0.18322270101757154; a = raw / mean:
//   W1 [0.60549287, 1.21098574, 0.38762709, 0.77525418], b1 [0.95736829, 1.91473658],
//   W2 [0.59677701, 0.63702166], b2 [1.91473658]
// (b1: S differs by 4x, so its multipliers by 2x; b2 and b1[1] have the same S.)
// Per-tensor means (the summary's eta): W1 0.74483997, b1 1.43605243, W2 0.61689934, b2 1.91473658;
// 4*0.74483997 + 2*1.43605243 + 2*0.61689934 + 1.91473658 = 9 (the parameter-weighted mean is 1).
// ---------------------------------------------------------------------------------------------
const S_HAND = [[81.25, 20.3125, 198.25, 49.5625], [32.5, 8.125], [83.640625, 73.40625], [8.125]];
const A_HAND = [[0.6054928708488782, 1.2109857416843215, 0.3876270900270588, 0.7752541800486116],
  [0.9573682894321403, 1.9147365788306938], [0.5967770099953311, 0.6370216603022708], [1.9147365788306938]];
const ETA_HAND = [0.7448399706522175, 1.4360524341314171, 0.616899335148801, 1.9147365788306938];
const G1 = [[9, 4.5, 13.5, 6.75], [4.5, 2.25], [9, 7.875], [2.25]];
const G2 = [[-0.5, -0.25, 4, 2], [3.5, 1.75], [1.625, 3.375], [1.75]];
const P0 = [[1, -1, 0.5, 2], [0.5, -0.5], [2, 1], [0.25]];
const NAMES = ['fc1.kernel', 'fc1.bias', 'fc2.kernel', 'fc2.bias'];
const SHAPES = [[2, 2], [2], [2, 1], [1]];

function linearModel(): { vars: Record<string, tf.Variable>; loss: (b: Batch) => tf.Scalar } {
  const vars: Record<string, tf.Variable> = Object.fromEntries(NAMES.map((n, i) => [n, tf.variable(tf.tensor(P0[i]!, SHAPES[i]!))]));
  const loss = (b: Batch): tf.Scalar => {
    const h = tf.add(tf.matMul(b.x as tf.Tensor2D, vars['fc1.kernel'] as tf.Tensor2D), vars['fc1.bias']!) as tf.Tensor2D;
    const yhat = tf.add(tf.matMul(h, vars['fc2.kernel'] as tf.Tensor2D), vars['fc2.bias']!);
    return tf.mul(0.5, tf.mean(tf.sum(tf.square(tf.sub(yhat, b.y)), -1))) as tf.Scalar;
  };
  return { vars, loss };
}

const linearBatches = (): Batch[] => [
  { x: tf.tensor2d([[1, 2], [-1, 0]]), y: tf.tensor2d([[1], [2]]) },
  { x: tf.tensor2d([[0, 1], [2, -1]]), y: tf.tensor2d([[0], [0]]) },
];

test('frozen-adagrad known answer: linear model, per-element multipliers by hand (1e-6), summary, metadata, no leaks', async () => {
  // the hand numbers from the hand squares, by the formula
  const raw = S_HAND.map((s) => s.map((v) => 1 / (Math.sqrt(v) + 1e-10)));
  const mean = raw.flat().reduce((a, b) => a + b, 0) / 9;
  assertAllClose(raw.flat().map((r) => r / mean), A_HAND.flat(), 1e-12, 'hand arithmetic');
  const { vars, loss } = linearModel();
  const params = paramsFromVariables(vars);
  const batches = linearBatches();
  const n0 = tf.memory().numTensors;
  const fa = await measureFrozenAdagrad({ params, loss }, batches, { steps: 2, init: 'none' });
  assert.equal(tf.memory().numTensors, n0, 'no tensor leaks');
  NAMES.forEach((n, i) => assertAllClose(fa.multipliers[n]!, A_HAND[i]!, 1e-6, n));
  assertAllClose(fa.summary.entries.map((e) => e.eta), ETA_HAND, 1e-6, 'per-tensor mean');
  assertClose(fa.summary.entries.reduce((a, e) => a + e.numel * e.eta, 0), 9, 1e-6, 'sum m eta');
  const m = fa.summary.meta;
  assert.equal(m.scheme, 'frozen-adagrad');
  assert.equal(m.steps, 2);
  assert.equal(m.batchSize, 2);
  assert.equal(m.init, 'none');
  assert.equal(m.gradNorm, null);
  assert.deepEqual({ ...m.elementwise, min: undefined, max: undefined }, { eps: 1e-10, zeroThreshold: 1e-4, zeroElements: 0, min: undefined, max: undefined });
  assertClose(m.elementwise!.min, 0.3876270900270588, 1e-6, 'min');
  assertClose(m.elementwise!.max, 1.9147365788306938, 1e-6, 'max');
  assert.match(fa.summary.format(), /per element 1\/\(sqrt\(sum g\^2\) \+ 1e-10\)/);
  assert.match(fa.summary.format(), /mean eta/);
  // the weights were not updated
  NAMES.forEach((n, i) => assert.deepEqual(values(vars[n]!), P0[i]));
  // the summary survives JSON, and with the arrays rebuilds the table
  const again = FrozenAdagradTable.fromMultipliers(LRTable.fromJSON(JSON.stringify(fa.summary)), { ...fa.multipliers });
  assert.deepEqual(again.etaMap(), fa.etaMap());
  assert.equal(again.summary.meta.elementwise!.eps, 1e-10);
  // factors: multipliers / tensor mean, as tensors shaped like the parameters
  const f = fa.elementEtaMap();
  NAMES.forEach((n, i) => {
    assert.deepEqual(f[n]!.shape, SHAPES[i]);
    assertAllClose(values(f[n]!), A_HAND[i]!.map((a) => a / ETA_HAND[i]!), 1e-6, `factor ${n}`);
  });
  assert.equal(fa.elementEtaMap()[NAMES[0]!], f[NAMES[0]!], 'made once');
  fa.dispose();
  again.dispose();
  assert.equal(tf.memory().numTensors, n0, 'dispose frees the factors');
  disposeBatches(batches);
  tf.dispose(Object.values(vars));
});

test('frozen-adagrad equals torch.optim.Adagrad run with lr 0 for 2 minibatches, normalized (PyTorch semantics, 1e-5)', async () => {
  const { vars, params, loss, batches } = torchScriptNet();
  const fa = await measureFrozenAdagrad({ params, loss }, batches, { steps: 2, init: 'none' });
  params.forEach((p, i) => assertAllClose(fa.multipliers[p.name]!, TORCH_ADAGRAD_MULTIPLIERS[i]!, 1e-5, p.name));
  fa.dispose();
  disposeBatches(batches);
  tf.dispose(Object.values(vars));
});

test('frozen-adagrad zero gradients: elements at or below 1e-4 x median get 1, outside the normalization (by hand)', () => {
  // a: S = [1, 4, 0, 16], b: S = [0, 0] (an unused tensor). sqrt(S) over all 6 = [1, 2, 0, 4, 0, 0]:
  // median (0 + 1) / 2 = 0.5, cutoff 5e-5: three zero elements. raw of the rest ~ [1, 1/2, 1/4], mean 7/12,
  // so a = [12/7, 6/7, 1, 3/7] and b = [1, 1] (excluded); the mean over all 6 is (12 + 6 + 7 + 3 + 14) / 42 = 1.
  const fa = frozenAdagradFromSquares(
    [{ name: 'a', shape: [4], numel: 4, kind: 'kernel' }, { name: 'b', shape: [2], numel: 2, kind: 'bias' }],
    [Float32Array.of(1, 4, 0, 16), Float32Array.of(0, 0)], { steps: 3, batchSize: 8, init: 'fan-out', seed: 1 });
  assertAllClose(fa.multipliers.a!, [12 / 7, 6 / 7, 1, 3 / 7], 1e-6, 'a');
  assert.deepEqual(Array.from(fa.multipliers.b!), [1, 1]);
  assert.equal(fa.summary.entry('b')!.excluded, true);
  assert.equal(fa.summary.entry('a')!.excluded, undefined);
  assertClose(fa.summary.eta('a'), (12 / 7 + 6 / 7 + 1 + 3 / 7) / 4, 1e-6);
  assert.equal(fa.summary.meta.elementwise!.zeroElements, 3);
  assert.deepEqual(fa.summary.meta.zeroGradient!.names, ['b']);
  assert.match(fa.summary.meta.warnings[0]!, /3 of 6 elements have a zero gradient.*whole tensors: b/);
  // a tiny but non-zero element below the cutoff is zero-gradient too; eps keeps a just-positive one finite
  const tiny = frozenAdagradFromSquares([{ name: 'w', shape: [3], numel: 3, kind: 'kernel' }], [Float32Array.of(1, 1, 1e-12)],
    { steps: 1, batchSize: null, init: 'none', seed: null });
  assert.deepEqual(Array.from(tiny.multipliers.w!), [1, 1, 1]);
});

test('frozen-adagrad errors: all-zero gradients, bad options, multipliers that do not fit the summary', async () => {
  const p = [{ name: 'w', shape: [2], numel: 2, kind: 'kernel' as const }];
  const how = { steps: 1, batchSize: null, init: 'none' as const, seed: null };
  assert.throws(() => frozenAdagradFromSquares(p, [Float32Array.of(0, 0)], how), /every element has a zero gradient/);
  assert.throws(() => frozenAdagradFromSquares(p, [Float32Array.of(1, 2, 3)], how), /'w' has 2 elements but 3 squares/);
  assert.throws(() => frozenAdagradFromSquares(p, [Float32Array.of(1, NaN)], how), /sum of squares is NaN/);
  assert.throws(() => frozenAdagradFromSquares(p, [Float32Array.of(1, 2)], { ...how, eps: -1 }), /eps must be a finite number >= 0/);
  const { vars, loss } = linearModel();
  await assertRejects(() => measureFrozenAdagrad({ params: paramsFromVariables(vars), loss }, linearBatches(), { steps: 2, zeroThreshold: NaN }),
    /zeroThreshold must be a finite number >= 0/);
  tf.dispose(Object.values(vars));
  const fa = frozenAdagradFromSquares(p, [Float32Array.of(1, 4)], how);
  assert.throws(() => FrozenAdagradTable.fromMultipliers(fa.summary, { w: Float32Array.of(1, 2) }), /mean multiplier of 'w' is 1\.5, its table says 1/);
  assert.throws(() => FrozenAdagradTable.fromMultipliers(fa.summary, { v: Float32Array.of(1, 1) }), /missing: w; not in the table: v/);
  assert.throws(() => FrozenAdagradTable.fromMultipliers(fa.summary, { w: Float32Array.of(1) }), /'w' has 1 multipliers for shape \[2\]/);
  assert.throws(() => FrozenAdagradTable.fromMultipliers(fa.summary, { w: Float32Array.of(-1, 3) }), /multiplier 0 of 'w' is -1/);
  assert.throws(() => fa.checkCompatible([{ name: 'w', shape: [3] }]), /shape mismatch: w: table \[2\] vs model \[3\]/);
});

// One optimizer step with frozen-adagrad multipliers a = A_HAND (lr 0.1), gradients G1 then G2, in float64 by hand
// (compared to 1e-6 absolute: the weights are float32 and some steps cancel most of a weight):
//   SGD (momentum 0.9, wd 0.01, torch.optim.SGD per element with lr * a):
//     buf1 = g1 + wd p0;            p1 = p0 - lr a buf1
//     buf2 = 0.9 buf1 + g2 + wd p1;  p2 = p1 - lr a buf2
//   AdamW (b1 0.9, b2 0.999, eps 1e-8, wd 0.01, torch.optim.AdamW per element with lr * a), first step:
//     m = 0.1 g, v = 0.001 g^2, bias-corrected m^ = g, v^ = g^2:  p1 = p0 (1 - lr a wd) - lr a g / (|g| + 1e-8)
test('frozen-adagrad in SGD and AdamW: each element steps as a torch param group with lr * a (weight decay too), by hand', async () => {
  const { vars, loss } = linearModel();
  const params = paramsFromVariables(vars);
  const batches = linearBatches();
  const fa = await measureFrozenAdagrad({ params, loss }, batches, { steps: 2, init: 'none' });
  const lr = 0.1;
  const wd = 0.01;
  const grads = (g: number[][]) => Object.fromEntries(NAMES.map((n, i) => [n, tf.tensor(g[i]!, SHAPES[i]!)]));

  const sgd = new SGD(params, { lr, momentum: 0.9, weightDecay: wd, eta: fa });
  assert.equal(sgd.hasElementEta(), true);
  const gs1 = grads(G1);
  const gs2 = grads(G2);
  const n0 = tf.memory().numTensors;
  sgd.step(gs1);
  const buf1 = P0.map((p, i) => p.map((w, j) => G1[i]![j]! + wd * w));
  const p1 = P0.map((p, i) => p.map((w, j) => w - lr * A_HAND[i]![j]! * buf1[i]![j]!));
  NAMES.forEach((n, i) => assertNear(values(vars[n]!), p1[i]!, 1e-6, `SGD step 1 ${n}`));
  sgd.step(gs2);
  const buf2 = p1.map((p, i) => p.map((w, j) => 0.9 * buf1[i]![j]! + G2[i]![j]! + wd * w));
  const p2 = p1.map((p, i) => p.map((w, j) => w - lr * A_HAND[i]![j]! * buf2[i]![j]!));
  NAMES.forEach((n, i) => assertNear(values(vars[n]!), p2[i]!, 1e-6, `SGD step 2 ${n}`));
  assert.equal(tf.memory().numTensors, n0 + NAMES.length, 'only the momentum buffers are new');
  // a config cannot carry the factor tensors: rebuilding from it alone is refused
  assert.deepEqual(sgd.getConfig().elementEta, NAMES);
  assert.throws(() => SGD.fromConfigAndParams(sgd.getConfig(), params), /per-element multipliers .* cannot carry/);
  sgd.dispose();

  NAMES.forEach((n, i) => vars[n]!.assign(tf.tensor(P0[i]!, SHAPES[i]!)));
  const adamw = new AdamW(params, { lr, weightDecay: wd, eta: fa });
  adamw.step(gs1);
  const q1 = P0.map((p, i) => p.map((w, j) => {
    const a = A_HAND[i]![j]!;
    const g = G1[i]![j]!;
    return w * (1 - lr * a * wd) - (lr * a * g) / (Math.abs(g) + 1e-8);
  }));
  NAMES.forEach((n, i) => assertNear(values(vars[n]!), q1[i]!, 1e-6, `AdamW step 1 ${n}`));
  adamw.dispose();
  // factors that do not fit the parameters are refused
  const wrong = { etaMap: () => fa.etaMap(), elementEtaMap: () => ({ 'fc1.kernel': tf.ones([3]) }) };
  assert.throws(() => new SGD(params, { lr, eta: wrong }), /per-element multipliers do not fit their parameters: fc1\.kernel: float32 \[3\] vs parameter \[2,2\]/);
  tf.dispose([...Object.values(gs1), ...Object.values(gs2)]);
  fa.dispose();
  disposeBatches(batches);
  tf.dispose(Object.values(vars));
});
