// Language models through the CLI as users call it: lwlr lr / train / compare / generate / convert / info on a
// text file written here (gpt-tiny, short windows, onednn), resume bit for bit, and the one-line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeSafetensors } from '../src/safetensors.js';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'lwlr.js');
const tmp = () => mkdtempSync(path.join(tmpdir(), 'lwlr-cli-lm-'));

function lwlr(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A small corpus: 12 documents (files) of a few sentences, 10 % of them (one) for validation. */
function corpus(): string {
  const d = tmp();
  const words = ['the', 'jury', 'said', 'that', 'a', 'city', 'report', 'was', 'made', 'in', 'an', 'old', 'court', 'by', 'its', 'clerk'];
  for (let f = 0; f < 12; f++) {
    const lines = Array.from({ length: 20 }, (_, i) => Array.from({ length: 8 }, (_, j) => words[(f * 7 + i * 5 + j * 3) % words.length]).join(' ') + '.');
    writeFileSync(path.join(d, `doc${String(f).padStart(2, '0')}.txt`), `${lines.join('\n')}\n`);
  }
  return d;
}

function metrics(dir: string): Array<Record<string, unknown>> {
  return readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => {
    const { time: _t, imagesPerSec: _i, ...rest } = JSON.parse(l);
    return rest;
  });
}

const common = (data: string) => ['--model', 'gpt-tiny', '--data', 'text', '--data-file', data, '--context', '32', '--batch-size', '8', '--backend', 'onednn', '--seed', '1'];

test('lwlr train on a text folder: loss, perplexity and bits per byte; resume bit for bit; generate is deterministic', () => {
  const data = corpus();
  const d = tmp();
  const train = ['train', ...common(data), '--optimizer', 'adamw', '--lr', '3e-3', '--wd', '0.1', '--init', 'fan-in', '--log-every', '5', '--quiet'];
  const full = lwlr(...train, '--epochs', '2', '--out', path.join(d, 'full'));
  assert.equal(full.code, 0, full.err);
  assert.match(full.out, /^gpt-tiny on text:.* \(\d+ train \/ \d+ validation tokens \(bytes\), context 32\), adamw/m);
  assert.match(full.out, /^epoch 2\/2: train loss [\d.]+ {2}val loss [\d.]+ {2}perplexity [\d.]+ {2}bits\/byte [\d.]+ {2}next-token acc/m);
  const evals = metrics(path.join(d, 'full')).filter((r) => r.type === 'eval');
  assert.equal(evals.length, 2);
  const last = evals[1]!;
  assert.ok((last.testLoss as number) < (evals[0]!.testLoss as number) + 0.5);
  assert.ok(Math.abs((last.testPerplexity as number) - Math.exp(last.testLoss as number)) < 1e-9);
  assert.ok(Math.abs((last.testBitsPerByte as number) - (last.testLoss as number) / Math.LN2) < 1e-9, 'bytes: bits per byte = loss / ln 2');
  const table = JSON.parse(readFileSync(path.join(d, 'full', 'lr-table.json'), 'utf8'));
  assert.equal(table.meta.init, 'fan-in');
  assert.deepEqual(table.meta.zeroGradient.names, [0, 1, 2, 3].map((i) => `blocks.${i}.attn.k.bias`));
  assert.equal(table.entries[0].name, 'tok_embed.kernel');
  const cfg = JSON.parse(readFileSync(path.join(d, 'full', 'config.json'), 'utf8'));
  assert.deepEqual([cfg.text.tokenizer, cfg.text.vocabSize, cfg.text.context, cfg.text.modelContext], ['bytes', 256, 32, 128]);
  // stop after epoch 1, resume: the same records
  const a = path.join(d, 'a');
  assert.equal(lwlr(...train, '--epochs', '2', '--stop-after', '1', '--out', a).code, 0);
  const rest = lwlr('train', '--resume', a);
  assert.equal(rest.code, 0, rest.err);
  assert.deepEqual(metrics(a), metrics(path.join(d, 'full')));
  // generation from the run: same seed, same text; another seed, other text
  const gen = (seed: string) => lwlr('generate', a, '--prompt', 'the jury', '--tokens', '40', '--temperature', '0.9', '--seed', seed, '--backend', 'onednn');
  const g1 = gen('3');
  assert.equal(g1.code, 0, g1.err);
  assert.ok(g1.out.startsWith('the jury'));
  assert.ok(g1.out.length > 'the jury'.length);
  assert.equal(gen('3').out, g1.out);
  assert.notEqual(gen('4').out, g1.out);
  const greedy = lwlr('generate', a, '--prompt', 'the', '--tokens', '10', '--temperature', '0', '--backend', 'onednn');
  assert.equal(greedy.code, 0, greedy.err);
});

test('lwlr lr at fan-in and fan-out, lwlr compare, lwlr convert to Hugging Face names, lwlr info', () => {
  const data = corpus();
  const d = tmp();
  for (const init of ['fan-in', 'fan-out']) {
    const r = lwlr('lr', ...common(data), '--steps', '3', '--init', init, '--out', path.join(d, `${init}.json`), '--save-init', path.join(d, `${init}.safetensors`));
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /zero-gradient parameters \(eta = 1, left out of the normalization\): blocks\.0\.attn\.k\.bias/);
    const w = decodeSafetensors(readFileSync(path.join(d, `${init}.safetensors`))).tensors['tok_embed.kernel']!;
    const std = Math.sqrt(w.data.reduce((s, v) => s + v * v, 0) / w.data.length);
    const want = Math.sqrt(1 / (init === 'fan-in' ? 128 : 256));
    assert.ok(Math.abs(std - want) < 0.05 * want, `${init}: token embedding std ${std} vs ${want}`);
  }
  const cmp = lwlr('compare', '--schemes', 'uniform,layerwise', ...common(data), '--epochs', '1', '--optimizer', 'sgd', '--lr', '0.1', '--quiet', '--out', path.join(d, 'cmp'));
  assert.equal(cmp.code, 0, cmp.err);
  assert.match(readFileSync(path.join(d, 'cmp', 'summary.md'), 'utf8'), /layerwise/);
  const conv = lwlr('convert', '--model', 'gpt-tiny', '--from', path.join(d, 'fan-in.safetensors'), '--to', path.join(d, 'hf.safetensors'), '--format', 'torch');
  assert.equal(conv.code, 0, conv.err);
  const hf = decodeSafetensors(readFileSync(path.join(d, 'hf.safetensors'))).tensors;
  assert.deepEqual(hf['transformer.wte.weight']!.shape, [256, 128]);
  assert.deepEqual(hf['transformer.h.3.attn.c_attn.weight']!.shape, [128, 384]);
  assert.equal(hf['lm_head.weight'], undefined);
  const back = lwlr('convert', '--model', 'gpt-tiny', '--from', path.join(d, 'hf.safetensors'), '--to', path.join(d, 'ours.safetensors'), '--format', 'tfjs');
  assert.equal(back.code, 0, back.err);
  assert.deepEqual(decodeSafetensors(readFileSync(path.join(d, 'ours.safetensors'))).tensors, decodeSafetensors(readFileSync(path.join(d, 'fan-in.safetensors'))).tensors);
  const table = lwlr('convert', '--lr-table', path.join(d, 'fan-in.json'), '--format', 'torch', '--out', path.join(d, 't.json'));
  assert.equal(table.code, 0, table.err);
  const t = JSON.parse(readFileSync(path.join(d, 't.json'), 'utf8'));
  assert.equal(t.meta.family, 'gpt');
  assert.deepEqual(t.entries.filter((e: { name: string }) => e.name === 'transformer.h.0.attn.c_attn.weight').map((e: { rows: number[]; axis: number }) => [e.rows, e.axis]),
    [[[0, 128], 1], [[128, 256], 1], [[256, 384], 1]]);
  const info = lwlr('info', '--model', 'gpt-tiny', '--untie-head');
  assert.equal(info.code, 0, info.err);
  assert.match(info.out, /^head\.kernel +kernel +\[128,256\] +32768$/m);
  assert.match(info.out, /total: 875,264 parameters in 69 tensors/);
});

test('one-line errors: empty, binary and missing data files, model and data that do not fit, image flags on text', () => {
  const d = tmp();
  writeFileSync(path.join(d, 'empty.txt'), '');
  writeFileSync(path.join(d, 'bin.dat'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01]));
  const cases: Array<[string[], number, RegExp]> = [
    [['--data-file', path.join(d, 'empty.txt')], 1, /empty\.txt: empty file/],
    [['--data-file', path.join(d, 'bin.dat')], 1, /bin\.dat: not a text file/],
    [['--data-file', path.join(d, 'missing.txt')], 1, /missing\.txt: no such file or folder/],
  ];
  for (const [extra, code, re] of cases) {
    const r = lwlr('lr', '--model', 'gpt-tiny', '--data', 'text', '--steps', '1', '--backend', 'cpu', ...extra);
    assert.equal(r.code, code, r.err);
    assert.match(r.err, re);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
  }
  const usage: Array<[string[], RegExp]> = [
    [['--model', 'gpt-tiny'], /--model gpt-tiny is a language model: use --data text/],
    [['--model', 'mlp', '--data', 'text'], /--data text trains language models \(gpt2-small, gpt-mini, gpt-tiny\), not --model mlp/],
    [['--model', 'gpt-tiny', '--data', 'text', '--augment', 'basic'], /--augment is for image data/],
    [['--model', 'mlp', '--data', 'synthetic', '--tokenizer', 'gpt2'], /--tokenizer is for --data text/],
    [['--model', 'gpt-tiny', '--data', 'text', '--tokenizer', 'chars'], /--tokenizer must be one of bytes, gpt2/],
  ];
  for (const [args, re] of usage) {
    const r = lwlr('lr', ...args, '--steps', '1', '--backend', 'cpu');
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, re);
  }
  writeFileSync(path.join(d, 'a.txt'), 'some text '.repeat(100));
  const long = lwlr('lr', '--model', 'gpt-tiny', '--data', 'text', '--data-file', path.join(d, 'a.txt'), '--context', '129', '--steps', '1', '--backend', 'cpu');
  assert.equal(long.code, 1);
  assert.match(long.err, /--context 129 is longer than --model gpt-tiny's context of 128/);
  const gen = lwlr('generate', d);
  assert.equal(gen.code, 1);
  assert.match(gen.err, /no config\.json \(not a run directory\?\)/);
});
