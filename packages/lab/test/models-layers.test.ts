import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { MultiHeadAttention } from '../src/models/layers/attention.js';
import { DropPath, Dropout, dropCounters, setDropCounters } from '../src/models/layers/drop.js';
import { gelu } from '../src/models/layers/gelu.js';
import { LayerNorm } from '../src/models/layers/layer-norm.js';
import { LayerScale } from '../src/models/layers/layer-scale.js';
import { PatchMerge } from '../src/models/layers/patch.js';
import { ClassToken, PositionEmbedding, TokenPool } from '../src/models/layers/tokens.js';
import { WindowPartition, WindowReverse, relativePositionIndex, roll } from '../src/models/layers/window.js';
import { dropPathRates } from '../src/models/layers/common.js';

const near = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

/** Applies a layer to a concrete tensor through a one-layer functional model. */
function run(layer: tf.layers.Layer, x: tf.Tensor, training = false): tf.Tensor {
  const input = tf.input({ shape: x.shape.slice(1) });
  const m = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
  return m.apply(x, { training }) as tf.Tensor;
}

test('GELU is exact (erf), not the tanh approximation', async () => {
  await tf.setBackend('cpu');
  const xs = [-3, -1, -0.5, 0, 0.5, 1, 2, 3];
  // x * Phi(x), Phi from high-precision tables
  const exact = [-0.0040496940948903, -0.15865525393145707, -0.15426876936299344, 0, 0.34573123063700656,
    0.8413447460685429, 1.9544997361036416, 2.9959503059051097];
  const y = run(gelu('act'), tf.tensor2d([xs]));
  const got = y.dataSync();
  near(got, exact, 2e-6, 'gelu');
  const tanhApprox = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  assert.ok(Math.abs(got[5]! - tanhApprox(1)) > 1e-4, 'differs from the tanh approximation at x = 1');
  assert.ok(Math.abs(got[0]! - tanhApprox(-3)) > 1e-4, 'differs from the tanh approximation at x = -3');
  y.dispose();
});

test('LayerNorm: biased variance, eps inside the sqrt, gamma/beta names and kinds', async () => {
  await tf.setBackend('cpu');
  const ln = new LayerNorm({ name: 'ln', epsilon: 1e-6 });
  const y = run(ln, tf.tensor3d([[[1, 2, 3, 4], [5, 5, 5, 5]]]));
  const s = Math.sqrt(1.25 + 1e-6);
  near(y.dataSync(), [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s, 0, 0, 0, 0], 1e-6, 'layer norm');
  assert.deepEqual(ln.trainableWeights.map((w) => w.originalName), ['ln/gamma', 'ln/beta']);
  assert.equal((ln.getConfig() as { epsilon: number }).epsilon, 1e-6);
  y.dispose();
});

test('DropPath / Dropout: identity at inference; per-sample masks, scaled, reproducible by seed', async () => {
  await tf.setBackend('cpu');
  const x = tf.ones([16, 3, 2]);
  const dp = new DropPath({ rate: 0.5, seed: 7, name: 'dp' });
  near(run(dp, x, false).dataSync(), x.dataSync(), 0, 'inference');
  const a = run(dp, x, true);
  const rows = a.arraySync() as number[][][];
  let dropped = 0;
  for (const r of rows) {
    const flat = r.flat();
    assert.ok(flat.every((v) => v === flat[0]), 'one mask value per sample');
    assert.ok(flat[0] === 0 || flat[0] === 2, `kept samples scaled by 1/(1-p): ${flat[0]}`);
    if (flat[0] === 0) dropped++;
  }
  assert.ok(dropped > 0 && dropped < 16, `some but not all samples dropped (${dropped})`);
  const b = run(dp, x, true);
  assert.notDeepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()), 'the next call draws a new mask');
  // a fresh layer with the same seed replays the same stream
  const dp2 = new DropPath({ rate: 0.5, seed: 7, name: 'dp2' });
  near(run(dp2, x, true).dataSync(), a.dataSync(), 0, 'same seed, same first mask');
  const d = run(new Dropout({ rate: 0.25, seed: 3, name: 'do' }), tf.ones([4, 50]), true).dataSync();
  assert.ok(d.every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6), 'elementwise dropout values');
  assert.throws(() => new DropPath({ rate: 1, name: 'bad' }), /rate must be in \[0, 1\)/);
  // counters for checkpoints
  const input = tf.input({ shape: [2] });
  const m = tf.model({ inputs: input, outputs: new DropPath({ rate: 0.1, seed: 1, name: 'p' }).apply(input) as tf.SymbolicTensor });
  (m.apply(tf.ones([2, 2]), { training: true }) as tf.Tensor).dispose();
  assert.deepEqual(dropCounters(m), { p: 1 });
  setDropCounters(m, { p: 5 });
  assert.deepEqual(dropCounters(m), { p: 5 });
  assert.deepEqual(dropPathRates(0.1, 3), [0, 0.05, 0.1]);
});

test('class token, position embedding, token pool: shapes, weights, inits', async () => {
  await tf.setBackend('cpu');
  const input = tf.input({ shape: [4, 6] });
  const ct = new ClassToken({ name: 'cls_token' });
  const pe = new PositionEmbedding({ name: 'pos_embed' });
  const t = ct.apply(input) as tf.SymbolicTensor;
  const e = pe.apply(t) as tf.SymbolicTensor;
  const m = tf.model({ inputs: input, outputs: new TokenPool({ mode: 'token', name: 'pool' }).apply(e) as tf.SymbolicTensor });
  assert.deepEqual(ct.getWeights()[0]!.shape, [1, 1, 6]);
  assert.deepEqual(pe.getWeights()[0]!.shape, [1, 5, 6]);
  assert.ok(Math.max(...Array.from(ct.getWeights()[0]!.dataSync()).map(Math.abs)) < 1e-4, 'cls_token ~ N(0, 1e-6)');
  ct.setWeights([tf.fill([1, 1, 6], 3)]);
  pe.setWeights([tf.zeros([1, 5, 6])]);
  const y = m.predict(tf.zeros([2, 4, 6])) as tf.Tensor;
  assert.deepEqual(y.shape, [2, 6]);
  near(y.dataSync(), new Array(12).fill(3), 0, 'pool picks the class token');
  const avg = run(new TokenPool({ mode: 'avg', name: 'avg' }), tf.tensor3d([[[1, 2], [3, 4]]]));
  near(avg.dataSync(), [2, 3], 0, 'avg pool');
});

test('layer scale multiplies by gamma, initialized to the constant', async () => {
  await tf.setBackend('cpu');
  const ls = new LayerScale({ name: 'blk', initValue: 1e-6 });
  const y = run(ls, tf.ones([1, 3]));
  near(y.dataSync(), [1e-6, 1e-6, 1e-6], 1e-12, 'layer scale');
  assert.deepEqual(ls.trainableWeights.map((w) => w.originalName), ['blk/gamma']);
});

test('multi-head attention equals a per-head reference computation', async () => {
  await tf.setBackend('cpu');
  const [n, c, h] = [3, 4, 2];
  const q = tf.randomNormal([1, n, c], 0, 1, 'float32', 1);
  const k = tf.randomNormal([1, n, c], 0, 1, 'float32', 2);
  const v = tf.randomNormal([1, n, c], 0, 1, 'float32', 3);
  const ins = [0, 1, 2].map(() => tf.input({ shape: [n, c] }));
  const m = tf.model({ inputs: ins, outputs: new MultiHeadAttention({ name: 'attn', numHeads: h }).apply(ins) as tf.SymbolicTensor });
  const got = (m.predict([q, k, v]) as tf.Tensor).arraySync() as number[][][];
  const [Q, K, V] = [q, k, v].map((t) => (t.arraySync() as number[][][])[0]!);
  const d = c / h;
  for (let head = 0; head < h; head++) {
    for (let i = 0; i < n; i++) {
      const logits = [...Array(n).keys()].map((j) => {
        let s = 0;
        for (let x = 0; x < d; x++) s += Q![i]![head * d + x]! * K![j]![head * d + x]!;
        return s / Math.sqrt(d);
      });
      const mx = Math.max(...logits);
      const ex = logits.map((l) => Math.exp(l - mx));
      const z = ex.reduce((a, b) => a + b, 0);
      for (let x = 0; x < d; x++) {
        const want = ex.reduce((a, e, j) => a + (e / z) * V![j]![head * d + x]!, 0);
        assert.ok(Math.abs(got[0]![i]![head * d + x]! - want) < 1e-5, `head ${head} token ${i} dim ${x}`);
      }
    }
  }
});

test('window partition / reverse (with shift) invert each other; roll is torch.roll', async () => {
  await tf.setBackend('cpu');
  const r = roll(tf.tensor1d([0, 1, 2, 3, 4]), 2, 0);
  near(r.dataSync(), [3, 4, 0, 1, 2], 0, 'roll +2');
  near(roll(tf.tensor1d([0, 1, 2, 3, 4]), -1, 0).dataSync(), [1, 2, 3, 4, 0], 0, 'roll -1');
  const x = tf.range(0, 2 * 8 * 8 * 3).reshape([2, 8, 8, 3]);
  const input = tf.input({ shape: [8, 8, 3] });
  const part = new WindowPartition({ name: 'part', windowSize: 4, shiftSize: 2 });
  const windows = part.apply(input) as tf.SymbolicTensor;
  const back = new WindowReverse({ name: 'rev', windowSize: 4, shiftSize: 2, resolution: [8, 8] }).apply(windows) as tf.SymbolicTensor;
  const m = tf.model({ inputs: input, outputs: [windows, back] });
  const [w, y] = m.predict(x) as tf.Tensor[];
  assert.deepEqual(w!.shape, [2 * 4, 16, 3]);
  near(y!.dataSync(), x.dataSync(), 0, 'reverse(partition(x))');
  // first token of the first window of the shifted image is the pixel (2, 2) of the original
  near(w!.slice([0, 0, 0], [1, 1, 3]).dataSync(), x.slice([0, 2, 2, 0], [1, 1, 1, 3]).dataSync(), 0, 'shifted origin');
});

test('relative position index as timm (window 2)', () => {
  assert.deepEqual(Array.from(relativePositionIndex(2)), [4, 3, 1, 0, 5, 4, 2, 1, 7, 6, 4, 3, 8, 7, 5, 4]);
  const idx = relativePositionIndex(7);
  assert.equal(Math.max(...idx), 13 * 13 - 1);
  assert.equal(idx[0], 6 * 13 + 6);
});

test('patch merging takes the 2x2 blocks in timm order (x0, x1, x2, x3) = (0,0), (1,0), (0,1), (1,1)', async () => {
  await tf.setBackend('cpu');
  const y = run(new PatchMerge({ name: 'merge' }), tf.range(0, 16).reshape([1, 4, 4, 1]));
  assert.deepEqual(y.shape, [1, 2, 2, 4]);
  near(y.dataSync(), [0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15], 0, 'merge');
});
