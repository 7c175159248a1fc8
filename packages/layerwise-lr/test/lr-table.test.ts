import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { LRTable, LR_TABLE_SCHEMA, type LRTableEntry, type LRTableMetaInput } from '../src/lr-table.js';
import { LIBRARY_VERSION } from '../src/version.js';
import { assertRejects } from './core-helpers.js';

const entries: LRTableEntry[] = [
  { name: 'fc1.kernel', shape: [4, 8], numel: 32, kind: 'kernel', G: 0.04, eta: 0.9 },
  { name: 'fc1.bias', shape: [8], numel: 8, kind: 'bias', G: 3e-11, eta: 1, excluded: true },
  { name: 'fc2.kernel', shape: [8, 2], numel: 16, kind: 'kernel', G: 0.01, eta: 1.2 },
];
const meta: LRTableMetaInput = {
  scheme: 'layerwise', steps: 10, batchSize: 32, init: 'fan-out', exponent: 0.5, seed: 7,
  zeroGradient: { threshold: 1e-4, policy: 'exclude', medianG: 0.01, cutoff: 1e-6, names: ['fc1.bias'] },
  warnings: ['zero-gradient parameters excluded from the normalization, eta = 1: fc1.bias'],
};

test('LRTable: lookups by name, etaMap in order, metadata filled in', async () => {
  const t = new LRTable(entries, meta);
  assert.equal(t.eta('fc2.kernel'), 1.2);
  assert.deepEqual(t.etaMap(), { 'fc1.kernel': 0.9, 'fc1.bias': 1, 'fc2.kernel': 1.2 });
  assert.deepEqual(Object.keys(t.etaMap()), ['fc1.kernel', 'fc1.bias', 'fc2.kernel']);
  assert.deepEqual(t.names, ['fc1.kernel', 'fc1.bias', 'fc2.kernel']);
  assert.equal(t.entry('fc1.bias')?.excluded, true);
  assert.equal(t.meta.libraryVersion, LIBRARY_VERSION);
  assert.match(t.meta.createdAt, /^\d{4}-\d\d-\d\dT/);
  assert.equal(t.meta.signature, LRTable.signatureOf(entries));
  await assertRejects(() => t.eta('fc3.kernel'), /no parameter named 'fc3\.kernel'/);
});

test('LRTable: JSON round-trip keeps every entry and the metadata', () => {
  const t = new LRTable(entries, meta);
  const text = JSON.stringify(t);
  const obj = JSON.parse(text);
  assert.equal(obj.schema, LR_TABLE_SCHEMA);
  assert.equal(obj.schema, 'layerwise-lr/lr-table@1');
  const back = LRTable.fromJSON(text);
  assert.deepEqual(back.toJSON(), t.toJSON());
  assert.deepEqual(LRTable.fromJSON(obj).toJSON(), t.toJSON());
  assert.equal(back.entry('fc1.bias')?.excluded, true);
  assert.equal(back.entry('fc1.kernel')?.excluded, undefined);
  assert.deepEqual(back.meta.zeroGradient?.names, ['fc1.bias']);
  assert.equal(back.meta.createdAt, t.meta.createdAt);
});

test('LRTable.fromJSON: schema and fields are validated with clear errors', async () => {
  const good = new LRTable(entries, meta).toJSON();
  const variant = (f: (o: any) => void): any => { const o = JSON.parse(JSON.stringify(good)); f(o); return o; };
  await assertRejects(() => LRTable.fromJSON('{not json'), /not valid JSON/);
  await assertRejects(() => LRTable.fromJSON(variant((o) => { delete o.schema; })), /missing or unknown schema/);
  await assertRejects(() => LRTable.fromJSON(variant((o) => { o.schema = 'layerwise-lr/lr-table@2'; })), /unsupported schema version 'layerwise-lr\/lr-table@2'/);
  await assertRejects(() => LRTable.fromJSON(variant((o) => { o.entries[2].eta = -1; })), /entries\[2\] \('fc2\.kernel'\)\.eta must be a positive finite number/);
  await assertRejects(() => LRTable.fromJSON(variant((o) => { o.entries[0].numel = 31; })), /numel is 31 but its shape \[4,8\] has 32/);
  await assertRejects(() => LRTable.fromJSON(variant((o) => { o.entries[0].kind = 'weight'; })), /kind must be one of/);
  await assertRejects(() => LRTable.fromJSON(variant((o) => { o.entries[1].name = 'fc1.kernel'; })), /duplicate parameter name 'fc1\.kernel'|signature/);
  await assertRejects(() => LRTable.fromJSON(variant((o) => { o.entries[0].shape = [8, 4]; })), /signature .* does not match/);
  await assertRejects(() => LRTable.fromJSON(variant((o) => { o.meta.scheme = 'magic'; })), /meta\.scheme must be one of/);
  await assertRejects(() => LRTable.fromJSON(variant((o) => { o.meta.steps = 0; })), /meta\.steps/);
  await assertRejects(() => LRTable.fromJSON(variant((o) => { o.entries = []; })), /at least one entry/);
  await assertRejects(() => LRTable.fromJSON([1, 2]), /expected a JSON object/);
});

test('LRTable.checkCompatible: passes on a match, lists missing, extra and shape-mismatched names', async () => {
  const t = new LRTable(entries, meta);
  t.checkCompatible([
    { name: 'fc2.kernel', shape: [8, 2] }, { name: 'fc1.kernel', shape: [4, 8] }, { name: 'fc1.bias', shape: [8] },
  ]);
  const err = await assertRejects(() => t.checkCompatible([
    { name: 'fc1.kernel', shape: [4, 16] },
    { name: 'fc1.bias', shape: [8] },
    { name: 'fc3.kernel', shape: [2, 2] },
    { name: 'fc3.bias', shape: [2] },
  ]), /does not match/);
  assert.match(err.message, /2 missing from the table: fc3\.kernel \[2,2\], fc3\.bias \[2\]/);
  assert.match(err.message, /1 in the table but not in the model: fc2\.kernel \[8,2\]/);
  assert.match(err.message, /1 shape mismatch: fc1\.kernel: table \[4,8\] vs model \[4,16\]/);
});

test('LRTable.format: a printable table with name, shape, numel, G and eta', () => {
  const text = new LRTable(entries, meta).format();
  const lines = text.split('\n');
  // a layer-wise table without gradNorm (written before the option existed) was measured with the paper's L1
  assert.match(lines[0]!, /scheme layerwise, T=10, batch 32, init fan-out, G l1 \(mean \|g\|\), p=0\.5, seed 7/);
  assert.match(new LRTable(entries, { ...meta, gradNorm: 'l2' }).format().split('\n')[0]!, /init fan-out, G l2 \(rms g\), p=0\.5/);
  assert.match(lines[1]!, /^name\s+kind\s+shape\s+numel\s+G\s+eta$/);
  assert.match(text, /fc1\.kernel\s+kernel\s+\[4,8\]\s+32\s+4\.0000e-2\s+0\.90000/);
  assert.match(text, /fc1\.bias \*/);
  assert.match(text, /zero gradient/);
});

test('LRTable meta.gradNorm: l1/l2 round trip; absent reads as l1 for a measured layer-wise table, null otherwise; bad values refused', async () => {
  const l2 = new LRTable(entries, { ...meta, gradNorm: 'l2' });
  assert.equal(LRTable.fromJSON(JSON.stringify(l2)).meta.gradNorm, 'l2');
  const old = JSON.parse(JSON.stringify(new LRTable(entries, meta)));
  delete old.meta.gradNorm;
  assert.equal(LRTable.fromJSON(old).meta.gradNorm, 'l1');
  const fixed = new LRTable(entries.map((e) => ({ ...e, G: null, excluded: undefined })), {
    scheme: 'uniform', steps: null, batchSize: null, init: null, exponent: null, seed: null, zeroGradient: null,
  });
  assert.equal(fixed.meta.gradNorm, null);
  assert.doesNotMatch(fixed.format(), / G l[12]/);
  const bad = JSON.parse(JSON.stringify(l2));
  bad.meta.gradNorm = 'l3';
  await assertRejects(() => LRTable.fromJSON(bad), /meta\.gradNorm must be one of l1, l2 or null/);
});

test('LIBRARY_VERSION equals package.json version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  assert.equal(LIBRARY_VERSION, pkg.version);
});
