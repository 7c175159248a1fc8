import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeIdx, parseIdx, readIdx } from '../src/data/idx.js';
import { loadMnistFormat, FASHION_MNIST_MEAN, FASHION_MNIST_STD } from '../src/data/fashion-mnist.js';
import { loadDataset } from '../src/data/registry.js';
import * as tf from '@tensorflow/tfjs';
import { BatchSource, epochOrder } from '../src/data/batches.js';

/** Writes a tiny MNIST-format dataset: n train / m test images of h x w, pixel (i, j) of image k = (k + i + j) % 256. */
function writeTinyMnist(dir: string, n: number, m: number, h: number, w: number, gz: boolean): void {
  const put = (name: string, bytes: Uint8Array) => writeFileSync(path.join(dir, gz ? `${name}.gz` : name), gz ? gzipSync(bytes) : bytes);
  for (const [prefix, count] of [['train', n], ['t10k', m]] as const) {
    const px = new Uint8Array(count * h * w);
    for (let k = 0; k < count; k++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) px[(k * h + i) * w + j] = (k * 50 + i + j) % 256;
    put(`${prefix}-images-idx3-ubyte`, encodeIdx([count, h, w], px));
    put(`${prefix}-labels-idx1-ubyte`, encodeIdx([count], Uint8Array.from({ length: count }, (_, k) => k % 10)));
  }
}

test('IDX: round trip, gzip detected by magic, header fields', () => {
  const data = Uint8Array.from([1, 2, 3, 4, 5, 6]);
  const raw = encodeIdx([2, 3], data);
  assert.deepEqual(Array.from(raw.subarray(0, 4)), [0, 0, 8, 2]);
  assert.deepEqual(Array.from(raw.subarray(4, 12)), [0, 0, 0, 2, 0, 0, 0, 3]); // big-endian dims
  for (const bytes of [raw, gzipSync(raw)]) {
    const a = parseIdx(bytes, 'x');
    assert.deepEqual(a.dims, [2, 3]);
    assert.deepEqual(Array.from(a.data), [1, 2, 3, 4, 5, 6]);
  }
});

test('IDX: clear errors for bad magic, bad type, wrong ndims, truncation, missing file', () => {
  assert.throws(() => parseIdx(Uint8Array.from([1, 2, 3, 4]), 'f.idx'), /f\.idx: not an IDX file \(expected magic 0x0000TTNN, got 01 02 03 04\)/);
  assert.throws(() => parseIdx(Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 0]), 'f'), /data type 0xd unsupported/);
  assert.throws(() => parseIdx(encodeIdx([2], Uint8Array.from([1, 2])), 'f', 3), /expected 3 dimensions, found 1/);
  assert.throws(() => parseIdx(encodeIdx([2, 3], new Uint8Array(6)).subarray(0, 15), 'f'), /expected 18 bytes for dims \[2, 3\], found 15/);
  assert.throws(() => readIdx('/nonexistent/x-idx1-ubyte'), /missing data file \/nonexistent\/x-idx1-ubyte/);
});

test('MNIST-format loader: plain and gzipped files, normalization, limit', () => {
  for (const gz of [false, true]) {
    const dir = mkdtempSync(path.join(tmpdir(), 'lwlr-mnist-'));
    writeTinyMnist(dir, 12, 5, 4, 3, gz);
    const ds = loadMnistFormat({ dir });
    assert.deepEqual(ds.shape, [4, 3, 1]);
    assert.equal(ds.train.count, 12);
    assert.equal(ds.test.count, 5);
    // image 2, pixel (1, 2): (2*50 + 1 + 2) = 103
    const v = ds.train.images[2 * 12 + 1 * 3 + 2];
    assert.ok(Math.abs(v - (103 / 255 - FASHION_MNIST_MEAN) / FASHION_MNIST_STD) < 1e-6);
    assert.deepEqual(Array.from(ds.test.labels), [0, 1, 2, 3, 4]);
    assert.equal(loadMnistFormat({ dir, limit: 3 }).train.count, 3);
  }
});

test('MNIST-format loader: missing directory, missing file, label/image count mismatch', async () => {
  assert.throws(() => loadMnistFormat({ dir: '/nonexistent-dir' }), /data directory \/nonexistent-dir does not exist/);
  const dir = mkdtempSync(path.join(tmpdir(), 'lwlr-mnist-'));
  assert.throws(() => loadMnistFormat({ dir }), /missing data file .*train-images-idx3-ubyte\[\.gz\]/);
  writeTinyMnist(dir, 4, 2, 2, 2, false);
  writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), encodeIdx([3], new Uint8Array(3)));
  assert.throws(() => loadMnistFormat({ dir }), /3 labels for 4 images/);
  await assert.rejects(loadDataset('cifar-1000'), /unknown dataset 'cifar-1000' \(expected one of: fashion-mnist, mnist, cifar10, cifar100, folder, synthetic, text\)/);
});

test('Fashion-MNIST from the Debian package: sizes and normalization statistics', { skip: !existsSync('/usr/share/datasets/fashion-mnist') }, () => {
  const ds = loadMnistFormat({});
  assert.equal(ds.train.count, 60000);
  assert.equal(ds.test.count, 10000);
  let s = 0;
  let s2 = 0;
  for (const v of ds.train.images) { s += v; s2 += v * v; }
  const n = ds.train.images.length;
  const mean = s / n;
  const std = Math.sqrt(s2 / n - mean * mean);
  assert.ok(Math.abs(mean) < 2e-3, `normalized mean ${mean}`);
  assert.ok(Math.abs(std - 1) < 2e-3, `normalized std ${std}`);
});

test('epoch order: a seeded permutation, different per epoch, file order without shuffle', () => {
  const a = epochOrder(100, 0, 7, true);
  assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
  assert.deepEqual(epochOrder(100, 0, 7, true), a);
  assert.notDeepEqual(epochOrder(100, 1, 7, true), a);
  assert.notDeepEqual(epochOrder(100, 0, 8, true), a);
  assert.deepEqual(Array.from(epochOrder(5, 3, 7, false)), [0, 1, 2, 3, 4]);
});


test('batches: every example once per epoch, the last partial batch kept (or dropped with dropLast), no leaks', async () => {
  await tf.setBackend('cpu');
  // 10 examples of 1x1x1 whose pixel value is the example's index, labels = 100 + index
  const split = { images: Float32Array.from({ length: 10 }, (_, i) => i), labels: Int32Array.from({ length: 10 }, (_, i) => 100 + i), count: 10 };
  const before = tf.memory().numTensors;
  for (const [dropLast, sizes] of [[false, [4, 4, 2]], [true, [4, 4]]] as const) {
    const src = new BatchSource(split, [1, 1, 1], { batchSize: 4, seed: 3, dropLast });
    assert.equal(src.batchesPerEpoch, sizes.length);
    const seen: number[] = [];
    const got: number[] = [];
    for (const b of src.epoch(1)) {
      got.push(b.x.shape[0]);
      const x = Array.from(b.x.dataSync());
      assert.deepEqual(Array.from(b.y.dataSync()), x.map((v) => 100 + v), 'labels travel with their images');
      seen.push(...x);
      tf.dispose([b.x, b.y]);
    }
    assert.deepEqual(got, sizes);
    assert.deepEqual(seen, Array.from(epochOrder(10, 1, 3, true).subarray(0, seen.length)), 'batches follow the epoch permutation');
    if (!dropLast) assert.deepEqual([...seen].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    src.dispose();
  }
  const inOrder = new BatchSource(split, [1, 1, 1], { batchSize: 3, shuffle: false });
  const first = inOrder.epoch(5).next().value!;
  assert.deepEqual(Array.from(first.x.dataSync()), [0, 1, 2]);
  tf.dispose([first.x, first.y]);
  inOrder.dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => new BatchSource(split, [1, 1, 1], { batchSize: 0 }), /batch size must be a positive integer, got 0/);
});
