// TensorBoard event files, read back by an independent reader written here: TFRecord framing with both CRCs
// checked by a table-free bitwise CRC32C, and a generic protobuf decoder (field number -> list of raw values).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import * as path from 'node:path';
import type { LRTableJSON } from 'layerwise-lr';
import { tensorBoardSink } from '../src/tensorboard/sink.js';
import { crc32c, maskedCrc32c } from '../src/tensorboard/crc32c.js';
import { histogramOf } from '../src/tensorboard/events.js';

// ---- independent reader ----
function crcBitwise(bytes: Uint8Array): number {
  let c = ~0 >>> 0;
  for (const b of bytes) {
    c = (c ^ b) >>> 0;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0x82f63b78 & -(c & 1));
    c >>>= 0;
  }
  return ~c >>> 0;
}
const mask = (c: number) => (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;

function readRecords(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let o = 0;
  while (o < buf.length) {
    const lenBytes = buf.subarray(o, o + 8);
    const len = Number(buf.readBigUInt64LE(o));
    assert.equal(buf.readUInt32LE(o + 8), mask(crcBitwise(lenBytes)), `length CRC at ${o}`);
    const data = buf.subarray(o + 12, o + 12 + len);
    assert.equal(buf.readUInt32LE(o + 12 + len), mask(crcBitwise(data)), `data CRC at ${o}`);
    out.push(data);
    o += 16 + len;
  }
  assert.equal(o, buf.length);
  return out;
}

type Raw = bigint | Buffer; // varints as bigint; fixed64/fixed32/length-delimited as raw bytes
function decode(buf: Buffer): Map<number, Raw[]> {
  const fields = new Map<number, Raw[]>();
  let o = 0;
  const varint = (): bigint => {
    let r = 0n, s = 0n;
    for (;;) {
      const b = buf[o++];
      r |= BigInt(b & 0x7f) << s;
      s += 7n;
      if (!(b & 0x80)) return r;
    }
  };
  while (o < buf.length) {
    const key = Number(varint());
    const field = key >> 3, wire = key & 7;
    let v: Raw;
    if (wire === 0) v = varint();
    else if (wire === 1) { v = buf.subarray(o, o + 8); o += 8; }
    else if (wire === 5) { v = buf.subarray(o, o + 4); o += 4; }
    else if (wire === 2) { const n = Number(varint()); v = buf.subarray(o, o + n); o += n; }
    else throw new Error(`wire type ${wire}`);
    fields.set(field, [...(fields.get(field) ?? []), v]);
  }
  return fields;
}
const f64 = (b: Raw) => (b as Buffer).readDoubleLE(0);
const f32 = (b: Raw) => (b as Buffer).readFloatLE(0);
const str = (b: Raw) => (b as Buffer).toString('utf8');
const doubles = (b: Raw) => Array.from({ length: (b as Buffer).length / 8 }, (_, i) => (b as Buffer).readDoubleLE(8 * i));

test('CRC32C known answer: "123456789" -> 0xE3069283 (both implementations), masked form', () => {
  const s = new TextEncoder().encode('123456789');
  assert.equal(crc32c(s), 0xe3069283);
  assert.equal(crcBitwise(s), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  // masked = rotr15(crc) + 0xa282ead8: rotr15(0xE3069283) = 0x2507C60D, + 0xA282EAD8 = 0xC78AB0E5
  assert.equal(maskedCrc32c(s), 0xc78ab0e5);
  const rnd = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919 + 13) & 0xff);
  assert.equal(crc32c(rnd), crcBitwise(rnd));
});

test('histogramOf: buckets (lo, hi], counts and moments', () => {
  const h = histogramOf([0, 1, 1, 2], 2);
  assert.deepEqual(h.bucketLimit, [1, 2]);
  assert.deepEqual(h.bucket, [3, 1]);
  assert.deepEqual([h.min, h.max, h.num, h.sum, h.sumSquares], [0, 2, 4, 4, 6]);
  assert.deepEqual(histogramOf([3, 3]).bucket, [2]);
});

test('tensorBoardSink: event file with version, scalars, eta histogram and text, read back independently', () => {
  const run = mkdtempSync(path.join(tmpdir(), 'lwlr-tb-'));
  const sink = tensorBoardSink(run);
  const table: LRTableJSON = {
    schema: 'layerwise-lr/lr-table@1',
    meta: { scheme: 'layerwise', steps: 2, batchSize: 4, init: 'fan-out', gradNorm: 'l1', elementwise: null, exponent: 0.5, seed: 0, zeroGradient: null, signature: 's', libraryVersion: '0', createdAt: '', warnings: [] },
    entries: [
      { name: 'fc1.kernel', shape: [4, 3], numel: 12, kind: 'kernel', G: 1, eta: 0.1 },
      { name: 'fc1.bias', shape: [3], numel: 3, kind: 'bias', G: 2, eta: 10 },
      { name: 'fc2.kernel', shape: [3, 2], numel: 6, kind: 'kernel', G: 3, eta: 1 },
    ],
  };
  sink.lrTable!(table);
  sink.write({ type: 'train', epoch: 1, step: 20, loss: 0.5, lr: 0.1, imagesPerSec: 1000, time: 1 });
  sink.write({ type: 'eval', epoch: 1, step: 300, trainLoss: 0.4, testLoss: 0.75, testAcc: 0.875, time: 2 });
  sink.write({ type: 'train', epoch: 2, step: 2 ** 40 + 3, loss: 0.25, lr: 0.05, imagesPerSec: 900, time: 3 });
  sink.close();

  const files = readdirSync(path.join(run, 'tb'));
  assert.equal(files.length, 1);
  assert.match(files[0], new RegExp(`^events\\.out\\.tfevents\\.\\d{10}\\.${hostname().replace(/\./g, '\\.')}$`));
  const events = readRecords(readFileSync(path.join(run, 'tb', files[0]))).map(decode);
  assert.equal(events.length, 5);
  assert.equal(str(events[0].get(3)![0]), 'brain.Event:2');
  const now = Date.now() / 1000;
  for (const e of events) assert.ok(Math.abs(f64(e.get(1)![0]) - now) < 60, 'wall_time is now, in seconds');

  const values = (e: Map<number, Raw[]>) => decode(e.get(5)![0] as Buffer).get(1)!.map((v) => decode(v as Buffer));
  const scalars = (e: Map<number, Raw[]>) => Object.fromEntries(values(e).map((v) => [str(v.get(1)![0]), f32(v.get(2)![0])]));
  const step = (e: Map<number, Raw[]>) => (e.get(2)?.[0] as bigint | undefined) ?? 0n;

  // the LR table: histogram of log10 eta = [-1, 1, 0], and markdown text for the text plugin
  const [histo, text] = values(events[1]);
  assert.equal(step(events[1]), 0n);
  assert.equal(str(histo.get(1)![0]), 'lr_table/log10_eta');
  const h = decode(histo.get(5)![0] as Buffer);
  assert.deepEqual([f64(h.get(1)![0]), f64(h.get(2)![0]), f64(h.get(3)![0]), f64(h.get(4)![0]), f64(h.get(5)![0])], [-1, 1, 3, 0, 2]);
  assert.equal(doubles(h.get(7)![0]).reduce((a, b) => a + b, 0), 3);
  assert.equal(doubles(h.get(6)![0]).at(-1), 1);
  assert.equal(str(text.get(1)![0]), 'lr_table/etas');
  const tensor = decode(text.get(8)![0] as Buffer);
  assert.equal(tensor.get(1)![0], 7n); // DT_STRING
  assert.match(str(tensor.get(8)![0]), /\| 1 \| fc1\.bias \| \[3\] \| 3 \| bias \| 2\.000 \| 10\.00 \|/);
  const plugin = decode(decode(text.get(9)![0] as Buffer).get(1)![0] as Buffer);
  assert.equal(str(plugin.get(1)![0]), 'text');

  assert.equal(step(events[2]), 20n);
  assert.deepEqual(scalars(events[2]), { 'train/loss': 0.5, 'train/lr': Math.fround(0.1), 'train/images_per_sec': 1000 });
  assert.equal(step(events[3]), 300n);
  assert.deepEqual(scalars(events[3]), { 'eval/train_loss': Math.fround(0.4), 'eval/test_loss': 0.75, 'eval/test_acc': 0.875 });
  assert.equal(step(events[4]), 2n ** 40n + 3n); // multi-byte varint
});
