// CIFAR-10 / CIFAR-100 binary loaders on tiny files written in the official formats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadCifar, parseCifarRecords, CIFAR10_NORM, CIFAR100_NORM } from '../src/data/cifar.js';
import { loadDataset } from '../src/data/registry.js';

/** CHW byte (c, i, j) of record k. */
const pix = (k: number, c: number, i: number, j: number) => (k * 7 + c * 50 + i * 3 + j) % 256;

function records(first: number, n: number, labels: (k: number) => number[]): Uint8Array {
  const lb = labels(0).length;
  const rec = lb + 3072;
  const out = new Uint8Array(n * rec);
  for (let r = 0; r < n; r++) {
    const k = first + r;
    out.set(labels(k), r * rec);
    for (let c = 0; c < 3; c++) for (let i = 0; i < 32; i++) for (let j = 0; j < 32; j++) out[r * rec + lb + c * 1024 + i * 32 + j] = pix(k, c, i, j);
  }
  return out;
}

function writeCifar10(dir: string): void {
  for (let b = 1; b <= 5; b++) writeFileSync(path.join(dir, `data_batch_${b}.bin`), records((b - 1) * 2, 2, (k) => [k % 10]));
  writeFileSync(path.join(dir, 'test_batch.bin'), records(100, 3, (k) => [(k * 3) % 10]));
}

test('CIFAR-10: five training batches in order, CHW -> HWC, labels, per-channel normalization', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lwlr-c10-'));
  writeCifar10(dir);
  const ds = loadCifar('cifar10', { dir });
  assert.deepEqual(ds.shape, [32, 32, 3]);
  assert.equal(ds.numClasses, 10);
  assert.equal(ds.train.count, 10);
  assert.equal(ds.test.count, 3);
  assert.deepEqual(Array.from(ds.train.labels), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(Array.from(ds.test.labels), [0, 3, 6]); // 300 % 10, 303 % 10, 306 % 10
  // record 7 (batch 4, second record), row 5, column 9: HWC index ((7 * 32 + 5) * 32 + 9) * 3 + c
  for (let c = 0; c < 3; c++) {
    const at = ((7 * 32 + 5) * 32 + 9) * 3 + c;
    assert.equal(ds.train.pixels![at], pix(7, c, 5, 9));
    const want = (pix(7, c, 5, 9) / 255 - CIFAR10_NORM.mean[c]) / CIFAR10_NORM.std[c];
    assert.ok(Math.abs(ds.train.images[at] - want) < 1e-6, `channel ${c}`);
  }
  assert.equal(loadCifar('cifar10', { dir, limit: 3 }).train.count, 3);
  assert.equal(loadCifar('cifar10', { dir, limit: 3 }).train.labels[2], 2);
  // the archive's own folder name under --data-dir is found
  const parent = mkdtempSync(path.join(tmpdir(), 'lwlr-c10p-'));
  mkdirSync(path.join(parent, 'cifar-10-batches-bin'));
  writeCifar10(path.join(parent, 'cifar-10-batches-bin'));
  assert.equal((await loadDataset('cifar10', { dataDir: parent })).train.count, 10);
});

test('CIFAR-100: coarse + fine label bytes, the fine label is the class, 100 classes', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lwlr-c100-'));
  writeFileSync(path.join(dir, 'train.bin'), records(0, 4, (k) => [k % 20, 90 + k]));
  writeFileSync(path.join(dir, 'test.bin'), records(50, 2, (k) => [3, k]));
  const ds = loadCifar('cifar100', { dir });
  assert.equal(ds.numClasses, 100);
  assert.deepEqual(Array.from(ds.train.labels), [90, 91, 92, 93]);
  assert.deepEqual(Array.from(ds.test.labels), [50, 51]);
  assert.equal(ds.test.pixels![(1 * 1024 + 31 * 32 + 31) * 3 + 2], pix(51, 2, 31, 31));
  assert.deepEqual(ds.normalize, CIFAR100_NORM);
});

test('CIFAR: one-line errors naming the file (missing, size, label range, missing --data-dir)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lwlr-cbad-'));
  assert.throws(() => loadCifar('cifar10', { dir }), new RegExp(`missing data file ${dir}/data_batch_1\\.bin \\(cifar10 binary version\\)`));
  assert.throws(() => loadCifar('cifar10', { dir: '/nonexistent-cifar' }), /data directory \/nonexistent-cifar does not exist/);
  writeCifar10(dir);
  writeFileSync(path.join(dir, 'data_batch_3.bin'), new Uint8Array(3073 * 2 + 5));
  assert.throws(() => loadCifar('cifar10', { dir }), /data_batch_3\.bin: 6151 bytes is not a whole number of 3073-byte records \(1 label byte \+ 3072 pixels\)/);
  writeFileSync(path.join(dir, 'data_batch_3.bin'), records(4, 2, (k) => [k === 5 ? 10 : 0]));
  assert.throws(() => loadCifar('cifar10', { dir }), /data_batch_3\.bin: label 10 of record 1 is out of range 0\.\.9/);
  assert.throws(() => parseCifarRecords(records(0, 1, () => [0, 100]), 2, 100, 'train.bin'), /train\.bin: label 100 of record 0 is out of range 0\.\.99/);
  assert.throws(() => parseCifarRecords(new Uint8Array(3074 * 2 - 1), 2, 100, 'x.bin'), /3074-byte records \(2 label bytes/);
  await assert.rejects(loadDataset('cifar100'), /--data cifar100 needs --data-dir/);
});
