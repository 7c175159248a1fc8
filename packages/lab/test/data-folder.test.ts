// Image-folder loader: PNG/JPEG files written with sharp, classes from sorted folder names, exact PNG pixels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { loadImageFolder, IMAGENET_NORM } from '../src/data/image-folder.js';
import { loadDataset } from '../src/data/registry.js';
import { resizeBilinear } from '../src/data/augment/resample.js';

/** RGB pixel (i, j, c) of image `seed`. */
const px = (seed: number, i: number, j: number, c: number) => (seed * 40 + i * 17 + j * 5 + c * 60) % 256;

function rgb(seed: number, h: number, w: number): Uint8Array {
  const a = new Uint8Array(h * w * 3);
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let c = 0; c < 3; c++) a[(i * w + j) * 3 + c] = px(seed, i, j, c);
  return a;
}

async function png(file: string, data: Uint8Array, h: number, w: number, channels: 1 | 3 | 4 = 3): Promise<void> {
  await sharp(Buffer.from(data), { raw: { width: w, height: h, channels } }).png().toFile(file);
}

/** A smooth 16x16 image (JPEG keeps it within a few levels). */
const smooth = Uint8Array.from({ length: 16 * 16 * 3 }, (_, k) => 60 + Math.floor(k / 48) * 6 + (Math.floor(k / 3) % 16) * 4 + (k % 3) * 30);

/** train: Dog (2 PNG), bird (1 PNG + 1 JPEG), cat (1 PNG, 1 grey PNG, 1 RGBA PNG, a .txt); val: bird, cat. */
async function makeFolder(): Promise<string> {
  const root = mkdtempSync(path.join(tmpdir(), 'lwlr-folder-'));
  const mk = (...p: string[]) => { const d = path.join(root, ...p); mkdirSync(d, { recursive: true }); return d; };
  const dog = mk('train', 'Dog');
  const bird = mk('train', 'bird');
  const cat = mk('train', 'cat');
  await png(path.join(dog, 'b.png'), rgb(2, 5, 5), 5, 5);
  await png(path.join(dog, 'a.png'), rgb(1, 5, 5), 5, 5);
  await png(path.join(bird, 'x.png'), rgb(3, 5, 5), 5, 5);
  await sharp(Buffer.from(smooth), { raw: { width: 16, height: 16, channels: 3 } }).jpeg({ quality: 95 }).toFile(path.join(bird, 'y.JPG'));
  await png(path.join(cat, 'c1.png'), rgb(5, 5, 5), 5, 5);
  await png(path.join(cat, 'c2.png'), Uint8Array.from({ length: 25 }, (_, i) => i * 10), 5, 5, 1);
  await png(path.join(cat, 'c3.png'), Uint8Array.from({ length: 100 }, (_, i) => (i % 4 === 3 ? 7 : i)), 5, 5, 4);
  writeFileSync(path.join(cat, 'notes.txt'), 'not an image');
  await png(path.join(mk('val', 'cat'), 'v1.png'), rgb(6, 6, 8), 6, 8); // 8 wide, 6 high: resized and centre-cropped
  await png(path.join(mk('val', 'bird'), 'v2.png'), rgb(7, 5, 5), 5, 5);
  return root;
}

test('image folder: sorted classes, labels, file order, exact PNG pixels, grey and RGBA to RGB, JPEG decoded', async () => {
  const root = await makeFolder();
  const ds = await loadImageFolder({ dir: root, imageSize: 5 });
  assert.deepEqual(ds.classes, ['Dog', 'bird', 'cat']); // code-unit order, as Python's sorted()
  assert.equal(ds.numClasses, 3);
  assert.deepEqual(ds.shape, [5, 5, 3]);
  assert.deepEqual(Array.from(ds.train.labels), [0, 0, 1, 1, 2, 2, 2]);
  assert.deepEqual(Array.from(ds.test.labels), [1, 2]);
  const P = 75;
  const img = (s: typeof ds.train, k: number) => Array.from(s.pixels!.subarray(k * P, (k + 1) * P));
  assert.deepEqual(img(ds.train, 0), Array.from(rgb(1, 5, 5)), 'a.png before b.png');
  assert.deepEqual(img(ds.train, 1), Array.from(rgb(2, 5, 5)));
  assert.deepEqual(img(ds.train, 4), Array.from(rgb(5, 5, 5)));
  assert.deepEqual(img(ds.train, 5).filter((_, i) => i % 3 === 0), Array.from({ length: 25 }, (_, i) => i * 10), 'grey replicated');
  assert.ok(img(ds.train, 5).every((v, i) => v === img(ds.train, 5)[i - (i % 3)]));
  assert.deepEqual(img(ds.train, 6).slice(0, 6), [0, 1, 2, 4, 5, 6], 'alpha dropped');
  // the 16x16 JPEG: shorter side to floor(5 / 0.875) = 5, centre 5x5; lossy, so only close to the resized source
  const want = resizeBilinear(smooth, 16, 16, 3, 5, 5);
  const got = img(ds.train, 3);
  const diffs = got.map((v, i) => Math.abs(v - want[i]));
  const mean = diffs.reduce((a, b) => a + b, 0) / diffs.length;
  assert.ok(mean < 4 && Math.max(...diffs) <= 24, `JPEG mean |diff| ${mean}, max ${Math.max(...diffs)}`);
  // val 6x8 -> Resize(5): 5 high, int(5 * 8 / 6) = 6 wide; CenterCrop(5): left = round(0.5) = 0
  const r = resizeBilinear(rgb(6, 6, 8), 8, 6, 3, 6, 5);
  const crop: number[] = [];
  for (let y = 0; y < 5; y++) crop.push(...r.subarray(y * 18, y * 18 + 15));
  assert.deepEqual(img(ds.test, 1), crop);
  // ImageNet normalization of the float copy
  const v = ds.train.images[7];
  assert.ok(Math.abs(v - (rgb(1, 5, 5)[7] / 255 - IMAGENET_NORM.mean[1]) / IMAGENET_NORM.std[1]) < 1e-6);
});

test('image folder: larger stored training images for random-resized-crop, limit, via the registry', async () => {
  const root = await makeFolder();
  const ds = await loadDataset('folder', { dataDir: root, imageSize: 7, augment: true });
  assert.deepEqual(ds.shape, [7, 7, 3]);
  assert.equal(ds.trainStoredSize, 8); // floor(7 / 0.875)
  assert.equal(ds.train.pixels!.length, 7 * 8 * 8 * 3);
  assert.equal(ds.test.pixels!.length, 2 * 7 * 7 * 3);
  assert.equal(ds.crop, 'resized');
  const lim = await loadDataset('folder', { dataDir: root, imageSize: 5, limit: 3 });
  assert.equal(lim.train.count, 3);
});

test('image folder: one-line errors (missing dir, missing val, no class folders, undecodable file, unknown val class)', async () => {
  await assert.rejects(loadImageFolder({ dir: '/nonexistent-folder', imageSize: 8 }), /data directory \/nonexistent-folder does not exist/);
  const root = mkdtempSync(path.join(tmpdir(), 'lwlr-fbad-'));
  mkdirSync(path.join(root, 'train'));
  await assert.rejects(loadImageFolder({ dir: root, imageSize: 8 }), new RegExp(`missing directory ${root}/val`));
  mkdirSync(path.join(root, 'val'));
  await assert.rejects(loadImageFolder({ dir: root, imageSize: 8 }), new RegExp(`${root}/train: no class folders`));
  mkdirSync(path.join(root, 'train', 'a'));
  writeFileSync(path.join(root, 'train', 'a', 'broken.jpg'), 'definitely not a jpeg');
  await assert.rejects(loadImageFolder({ dir: root, imageSize: 8 }), new RegExp(`${root}/val: no \\.jpg, \\.jpeg or \\.png files`));
  mkdirSync(path.join(root, 'val', 'a'));
  await png(path.join(root, 'val', 'a', 'ok.png'), rgb(1, 9, 9), 9, 9);
  await assert.rejects(loadImageFolder({ dir: root, imageSize: 8 }), new RegExp(`${root}/train/a/broken\\.jpg: cannot decode image`));
  mkdirSync(path.join(root, 'val', 'zebra'));
  await assert.rejects(loadImageFolder({ dir: root, imageSize: 8 }), /val\/zebra: class folder not among the training classes/);
  await assert.rejects(loadDataset('folder', {}), /--data folder needs --data-dir/);
});

test('image folder through setupRun: random-resized-crop batches at the image size, hold-out centre-cropped as the test split', async () => {
  const tf = await import('@tensorflow/tfjs');
  const { setupImageRun } = await import('../src/train/setup.js');
  await tf.setBackend('cpu');
  const root = await makeFolder();
  const run = await setupImageRun({ model: 'mlp', data: 'folder', dataDir: root, imageSize: 7, width: 4, batchSize: 4, seed: 2, augment: 'basic', valSplit: 2 });
  assert.equal(run.dataset.trainStoredSize, 8);
  assert.equal(run.train.count, 5);
  for (const [src, n] of [[run.train, 4], [run.val!, 2], [run.test, 2]] as const) {
    const b = src.epoch(0).next().value!;
    assert.deepEqual(b.x.shape, [n, 7, 7, 3]);
    tf.dispose([b.x, b.y]);
  }
  run.dispose();
});
