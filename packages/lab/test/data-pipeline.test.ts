// Augmented batches, resume determinism, the validation hold-out, load-time resize / channel replication, and
// setupRun's data and model flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Rng } from 'layerwise-lr';
import { BatchSource, type LabeledBatch } from '../src/data/batches.js';
import { normalizePixels, uint8Split, type Normalization } from '../src/data/dataset.js';
import { Augmenter } from '../src/data/augment/pipeline.js';
import { resolveAugment } from '../src/data/augment/policy.js';
import { holdout, holdoutCount, holdoutIndices } from '../src/data/holdout.js';
import { encodeIdx } from '../src/data/idx.js';
import { loadDataset } from '../src/data/registry.js';
import { resizeBilinear } from '../src/data/augment/resample.js';
import { setupImageRun, setupRun } from '../src/train/setup.js';
import { setupOptionsFromFlags, COMMON_FLAGS } from '../src/cli/common.js';
import { parseFlags } from '../src/cli/args.js';

const NORM3: Normalization = { mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3] };

/** n random 8x8x3 images, label = index. */
function tinySplit(n: number, side = 8) {
  const rng = new Rng(17);
  const px = Uint8Array.from({ length: n * side * side * 3 }, () => Math.floor(rng.uniform() * 256));
  return uint8Split(px, Int32Array.from({ length: n }, (_, i) => i), NORM3, 3);
}

function read(b: LabeledBatch) {
  return { x: Array.from(b.x.dataSync()), y: Array.from(b.y.dataSync()), y2: b.mixup ? Array.from(b.mixup.y2.dataSync()) : undefined, lambda: b.mixup?.lambda };
}
function dispose(b: LabeledBatch) {
  tf.dispose([b.x, b.y, ...(b.mixup ? [b.mixup.y2] : [])]);
}

test('resume: epoch(e, from = k) yields exactly batches k.. of epoch(e), augmented (crop, flip, RandAugment, Mixup) or not', async () => {
  await tf.setBackend('cpu');
  const split = tinySplit(22);
  const before = tf.memory().numTensors;
  const strong = resolveAugment('strong', { crop: 'pad' })!;
  for (const augment of [new Augmenter(split.pixels!, [8, 8, 3], 8, NORM3, strong, 5), undefined]) {
    const src = new BatchSource(split, [8, 8, 3], { batchSize: 6, seed: 5, augment });
    for (const e of [0, 3]) {
      const all = [...src.epoch(e)].map((b) => { const r = read(b); dispose(b); return r; });
      assert.equal(all.length, 4);
      for (const k of [1, 3]) {
        const resumed = [...src.epoch(e, k)].map((b) => { const r = read(b); dispose(b); return r; });
        assert.deepEqual(resumed, all.slice(k), `epoch ${e} from ${k}, ${augment ? 'augmented' : 'plain'}`);
      }
      if (augment) assert.ok(all.every((b) => b.lambda !== undefined && b.y2!.length === b.y.length));
    }
    const b0 = src.epoch(0).next().value!;
    const b1 = src.epoch(1).next().value!;
    assert.notDeepEqual(read(b0).x, read(b1).x, 'epochs differ');
    dispose(b0);
    dispose(b1);
    src.dispose();
  }
  assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
});

test('augmented batches: no-op pipeline equals the plain gather; flip mirrors or not; pad crop is a shifted window', async () => {
  await tf.setBackend('cpu');
  const split = tinySplit(10);
  const idx = Int32Array.from([3, 1, 4, 0, 9]);
  const plain = new Augmenter(split.pixels!, [8, 8, 3], 8, NORM3, { crop: 'none', flip: false }, 1).batch(idx, split.labels, 0, 0);
  const gathered = Array.from(idx).flatMap((i) => Array.from(split.images.subarray(i * 192, (i + 1) * 192)));
  assert.deepEqual(Array.from(plain.x), gathered);
  assert.deepEqual(Array.from(plain.y), [3, 1, 4, 0, 9]);
  // flip only: each image is itself or its mirror, both occur over 40 images
  const idx40 = Int32Array.from({ length: 40 }, (_, i) => i % 10);
  const flipped = new Augmenter(split.pixels!, [8, 8, 3], 8, NORM3, { crop: 'none', flip: true }, 2).batch(idx40, split.labels, 0, 0);
  let mirrors = 0;
  for (let k = 0; k < 40; k++) {
    const i = idx40[k];
    const got = flipped.x.subarray(k * 192, (k + 1) * 192);
    const src = split.images.subarray(i * 192, (i + 1) * 192);
    const same = got.every((v, p) => v === src[p]);
    const mir = got.every((v, p) => { const y = Math.floor(p / 24), x = Math.floor(p / 3) % 8, c = p % 3; return v === src[(y * 8 + 7 - x) * 3 + c]; });
    assert.ok(same || mir);
    if (mir) mirrors++;
  }
  assert.ok(mirrors > 8 && mirrors < 32, `${mirrors} of 40 mirrored`);
  // pad crop: every output equals the zero-padded source at some offset (dy, dx) in -4..4
  const cropped = new Augmenter(split.pixels!, [8, 8, 3], 8, NORM3, { crop: 'pad', flip: false }, 3).batch(idx40, split.labels, 0, 0);
  const zero = normalizePixels(new Uint8Array(3), 3, NORM3);
  for (let k = 0; k < 40; k++) {
    const got = cropped.x.subarray(k * 192, (k + 1) * 192);
    const src = split.images.subarray(idx40[k] * 192, (idx40[k] + 1) * 192);
    let found = false;
    for (let dy = -4; dy <= 4 && !found; dy++) {
      for (let dx = -4; dx <= 4 && !found; dx++) {
        found = got.every((v, p) => {
          const y = Math.floor(p / 24) + dy, x = (Math.floor(p / 3) % 8) + dx, c = p % 3;
          return v === (y < 0 || y > 7 || x < 0 || x > 7 ? zero[c] : src[(y * 8 + x) * 3 + c]);
        });
      }
    }
    assert.ok(found, `image ${k} is a padded window`);
  }
});

test('Mixup in a batch: x = lambda x_i + (1 - lambda) x_j of the un-mixed batch, y2 = y_j; fresh lambda per batch', () => {
  const split = tinySplit(12);
  const idx = Int32Array.from({ length: 12 }, (_, i) => i);
  const base = { crop: 'pad' as const, flip: true };
  const a = new Augmenter(split.pixels!, [8, 8, 3], 8, NORM3, base, 9).batch(idx, split.labels, 2, 7);
  const m = new Augmenter(split.pixels!, [8, 8, 3], 8, NORM3, { ...base, mixup: 0.5 }, 9).batch(idx, split.labels, 2, 7);
  const { lambda, y2 } = m.mixup!;
  assert.ok(lambda > 0 && lambda < 1);
  assert.deepEqual(Array.from(m.y), Array.from(a.y));
  assert.deepEqual([...y2].sort((p, q) => p - q), Array.from(a.y), 'y2 is a permutation of the labels');
  for (let i = 0; i < 12; i++) {
    const j = y2[i]; // labels = positions here
    for (let p = 0; p < 192; p++) assert.ok(Math.abs(m.x[i * 192 + p] - (lambda * a.x[i * 192 + p] + (1 - lambda) * a.x[j * 192 + p])) < 1e-5);
  }
  const other = new Augmenter(split.pixels!, [8, 8, 3], 8, NORM3, { ...base, mixup: 0.5 }, 9).batch(idx, split.labels, 2, 8);
  assert.notEqual(other.mixup!.lambda, lambda);
});

test('augmentation levels: none / basic / strong and the overrides', () => {
  assert.equal(resolveAugment('none', {}), undefined);
  assert.deepEqual(resolveAugment('basic', { crop: 'pad' }), { crop: 'pad', flip: true });
  assert.deepEqual(resolveAugment('basic', { crop: 'resized' }), { crop: 'resized', flip: true });
  assert.deepEqual(resolveAugment('strong', {}), { crop: 'pad', flip: true, randAugment: { n: 2, m: 10 }, mixup: 0.5 });
  assert.deepEqual(resolveAugment('strong', {}, { mixup: 0, randAugment: '1,5' }), { crop: 'pad', flip: true, randAugment: { n: 1, m: 5 } });
  assert.deepEqual(resolveAugment('none', {}, { mixup: 0.2 }), { crop: 'none', flip: false, mixup: 0.2 });
});

test('validation hold-out: fraction or count, disjoint, covers the split, fixed across run seeds and epochs', () => {
  assert.equal(holdoutCount(0.1, 1000), 100);
  assert.equal(holdoutCount(37, 1000), 37);
  assert.throws(() => holdoutCount(1000, 1000), /--val-split 1000 holds out 1000 of 1000 training examples/);
  assert.throws(() => holdoutCount(2.5, 1000), /--val-split must be a fraction in \(0, 1\) or a whole count >= 1 \(got 2\.5\)/);
  const v = holdoutIndices(100, 30);
  assert.deepEqual(holdoutIndices(100, 30), v);
  assert.equal(new Set(v).size, 30);
  const split = tinySplit(50);
  const { train, val } = holdout(split, 0.2, 192, NORM3, 3);
  assert.equal(val.count, 10);
  assert.equal(train.count, 40);
  const all = [...train.labels, ...val.labels].sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: 50 }, (_, i) => i), 'disjoint and complete (labels = indices)');
  assert.deepEqual(Array.from(val.labels), [...val.labels].sort((a, b) => a - b), 'file order');
  const k = val.labels[3];
  assert.deepEqual(Array.from(val.pixels!.subarray(3 * 192, 4 * 192)), Array.from(split.pixels!.subarray(k * 192, (k + 1) * 192)));
});

/** A tiny MNIST-format directory: 40 train / 10 test images of 6x6, pixel = (7k + 3i + j) mod 256, label k mod 10. */
function tinyMnist(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lwlr-pipe-'));
  for (const [prefix, n] of [['train', 40], ['t10k', 10]] as const) {
    const px = Uint8Array.from({ length: n * 36 }, (_, p) => (Math.floor(p / 36) * 7 + Math.floor((p % 36) / 6) * 3 + (p % 6)) % 256);
    writeFileSync(path.join(dir, `${prefix}-images-idx3-ubyte`), encodeIdx([n, 6, 6], px));
    writeFileSync(path.join(dir, `${prefix}-labels-idx1-ubyte`), encodeIdx([n], Uint8Array.from({ length: n }, (_, k) => k % 10)));
  }
  return dir;
}

test('load-time --image-size (bilinear as torchvision) and --channels 3 (replication, normalization per channel)', async () => {
  const dir = tinyMnist();
  const ds = await loadDataset('mnist', { dataDir: dir, imageSize: 9, channels: 3 });
  assert.deepEqual(ds.shape, [9, 9, 3]);
  const src = Uint8Array.from({ length: 36 }, (_, p) => (2 * 7 + Math.floor(p / 6) * 3 + (p % 6)) % 256);
  const want = resizeBilinear(src, 6, 6, 1, 9, 9);
  const got = ds.train.pixels!.subarray(2 * 243, 3 * 243);
  for (let p = 0; p < 81; p++) for (let c = 0; c < 3; c++) assert.equal(got[p * 3 + c], want[p]);
  assert.deepEqual(ds.normalize, { mean: [0.1307, 0.1307, 0.1307], std: [0.3081, 0.3081, 0.3081] });
  await assert.rejects(loadDataset('cifar10', { dataDir: dir, channels: 3 }), /missing data file/);
  await assert.rejects(loadDataset('mnist', { dataDir: dir, channels: 2 }), /--channels must be 1 or 3 \(got 2\)/);
});

test('setupRun: augmented training batches with Mixup, plain test and val batches, model flags, one-line model/size errors', async () => {
  await tf.setBackend('cpu');
  const dir = tinyMnist();
  const run = await setupImageRun({
    model: 'mlp', data: 'mnist', dataDir: dir, width: 8, batchSize: 16, seed: 3, augment: 'strong', valSplit: 8, imageSize: 8, channels: 3, numClasses: 12,
  });
  assert.equal(run.train.count, 32);
  assert.equal(run.val!.count, 8);
  assert.equal(run.dataset.train.count, 32);
  assert.deepEqual(run.model.outputs[0].shape, [null, 12]);
  const b = run.train.epoch(0).next().value!;
  assert.deepEqual(b.x.shape, [16, 8, 8, 3]);
  assert.ok(b.mixup && b.mixup.lambda > 0 && b.mixup.lambda < 1);
  dispose(b);
  for (const s of [run.test, run.val!]) {
    const t = s.epoch(0).next().value!;
    assert.equal(t.mixup, undefined);
    assert.deepEqual(t.x.shape, [s === run.test ? 10 : 8, 8, 8, 3]);
    dispose(t);
  }
  run.dispose();
  await assert.rejects(setupRun({ model: 'mlp', data: 'mnist', dataDir: dir, batchSize: 8, seed: 0, numClasses: 5 }), /--num-classes 5 is smaller than the 10 classes of --data mnist/);
  await assert.rejects(setupRun({ model: 'swin-cpu', data: 'mnist', dataDir: dir, batchSize: 8, seed: 0, imageSize: 28 }),
    /--model swin-cpu cannot take 28x28 images \(swin: .*\); choose a size it divides with --image-size N/);
  await assert.rejects(setupRun({ model: 'mlp', data: 'synthetic', limit: 64, batchSize: 8, seed: 0, augment: 'basic' }), /need 8-bit images; --data synthetic has none/);
  const { flags } = parseFlags(['--augment', 'strong', '--mixup', '0.2', '--randaugment', '1,9', '--val-split', '0.1', '--image-size', '32', '--channels', '3', '--drop-path', '0.1'], COMMON_FLAGS);
  const o = setupOptionsFromFlags(flags);
  assert.deepEqual([o.augment, o.mixup, o.randAugment, o.valSplit, o.imageSize, o.channels, o.dropPathRate], ['strong', 0.2, '1,9', 0.1, 32, 3, 0.1]);
  assert.throws(() => setupOptionsFromFlags(parseFlags(['--randaugment', '2'], COMMON_FLAGS).flags), /--randaugment must be N,M/);
  assert.throws(() => setupOptionsFromFlags(parseFlags(['--val-split', '-1'], COMMON_FLAGS).flags), /--val-split must be/);
});

test('Algorithm 1 on augmented Mixup batches: no tensor leak (both label tensors become one soft target)', async () => {
  await tf.setBackend('cpu');
  const { measureOnTrainSplit } = await import('../src/train/setup.js');
  const run = await setupRun({ model: 'mlp', data: 'mnist', dataDir: tinyMnist(), width: 8, batchSize: 8, seed: 1, augment: 'strong' });
  const before = tf.memory().numTensors;
  const table = await measureOnTrainSplit(run, { steps: 4, init: 'fan-out', seed: 1, batchSize: 8 });
  assert.ok(table);
  assert.equal(tf.memory().numTensors, before);
  run.dispose();
});
