// The GPT decoder: GPT-2 small's parameter count and names, causal masking, the tied embedding's gradient,
// kinds and fans for Algorithm 1, Hugging Face GPT-2 names (fused c_attn columns), and logits equal to a
// PyTorch GPT-2 module (skipped when /usr/bin/python3 has no torch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { applyMeasurementInit, collectParams, LRTable, meanSoftmaxCrossEntropy, type LRTableJSON } from 'layerwise-lr';
import 'tfjs-backend-onednn';
import { GPT_PRESETS, gpt, gptContextLength, type GptOptions } from '../src/models/gpt.js';
import { causalMask } from '../src/models/layers/causal-attention.js';
import { modelWeights, readWeights, setWeights } from '../src/train/weights.js';
import { encodeSafetensors, type NamedArray } from '../src/safetensors.js';
import { inferTorchFamily, torchFamilyOf, torchMapping, weightsFromTorch, weightsToTorch } from '../src/interop/torch.js';
import { convertSafetensors, lrTableToTorch } from '../src/interop/torch-files.js';
import { checkRoundTrip, paramCount } from './models-helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.resolve(here, '..', '..');
const fixtures = path.join(pkg, 'test', 'fixtures');

const TINY: GptOptions = { vocabSize: 50, contextLength: 16, depth: 2, dim: 32, numHeads: 4, seed: 3 };

function ids(b: number, t: number, vocab: number, seed = 1): tf.Tensor2D {
  return tf.tensor2d(Array.from({ length: b * t }, (_, i) => (i * 7919 + seed * 104729) % vocab), [b, t], 'int32');
}

/** Every weight random (LayerNorm and biases too), so that no term of the forward pass is trivially 0 or 1. */
function randomizeWeights(model: tf.LayersModel, seed: number): void {
  const values: Record<string, NamedArray> = {};
  for (const w of modelWeights(model)) {
    const shape = [...w.variable.shape];
    const r = tf.tidy(() => {
      const n = tf.randomNormal(shape, 0, w.name.endsWith('gamma') ? 0.1 : 0.3, 'float32', seed++);
      return w.name.endsWith('gamma') ? n.add(1) : n;
    });
    values[w.name] = { shape, data: r.dataSync() as Float32Array };
    r.dispose();
  }
  setWeights(model, values, 'random');
}

test('gpt2-small: 124,439,808 parameters tied (GPT-2 small), one more [width, vocab] kernel untied; names, shapes, kinds, fans', async () => {
  await tf.setBackend('cpu');
  const m = gpt({ ...GPT_PRESETS['gpt2-small'] });
  assert.equal(paramCount(m), 124_439_808);
  const ps = collectParams(m);
  assert.equal(ps.length, 2 + 12 * 16 + 2);
  const by = new Map(ps.map((p) => [p.name, p]));
  const expect: Array<[string, number[], string]> = [
    ['tok_embed.kernel', [768, 50257], 'kernel'], ['pos_embed', [1024, 768], 'embedding'],
    ['blocks.0.norm1.gamma', [768], 'scale'], ['blocks.0.norm1.beta', [768], 'shift'],
    ['blocks.0.attn.q.kernel', [768, 768], 'kernel'], ['blocks.0.attn.k.bias', [768], 'bias'], ['blocks.11.attn.v.kernel', [768, 768], 'kernel'],
    ['blocks.5.attn.proj.kernel', [768, 768], 'kernel'], ['blocks.5.mlp.fc1.kernel', [768, 3072], 'kernel'], ['blocks.5.mlp.fc2.bias', [768], 'bias'],
    ['norm.gamma', [768], 'scale'], ['norm.beta', [768], 'shift'],
  ];
  for (const [name, shape, kind] of expect) {
    const p = by.get(name);
    assert.ok(p, `missing ${name}`);
    assert.deepEqual(p.shape, shape, name);
    assert.equal(p.kind, kind, name);
  }
  // the token embedding has PyTorch's fans of wte.weight / the tied lm_head (fanIn = width, fanOut = vocab)
  assert.deepEqual([by.get('tok_embed.kernel')!.fanIn, by.get('tok_embed.kernel')!.fanOut], [768, 50257]);
  assert.ok(!by.has('head.kernel'), 'tied: no separate head');
  assert.equal(gptContextLength(m), 1024);
  m.dispose();
  // untied: one more [width, vocab] kernel, `head.kernel` (a small config: GPT-2 small's 163M normals take long in JS)
  const [t, u] = [gpt(TINY), gpt({ ...TINY, tieHead: false })];
  assert.equal(paramCount(u), paramCount(t) + 32 * 50);
  assert.deepEqual(collectParams(u).at(-1)!.shape, [32, 50]);
  assert.equal(collectParams(u).at(-1)!.name, 'head.kernel');
  t.dispose();
  u.dispose();
});

test('causal masking: a future token never changes an earlier logit (exactly), for every cut point', async () => {
  for (const backend of ['cpu', 'onednn']) {
    await tf.setBackend(backend);
    const m = gpt(TINY);
    randomizeWeights(m, 11);
    const a = ids(2, 16, 50, 1);
    const la = (m.predict(a) as tf.Tensor3D).arraySync();
    for (const cut of [1, 7, 15]) {
      // change every token from position `cut` on
      const b = tf.tidy(() => {
        const keep = tf.slice(a, [0, 0], [2, cut]);
        return tf.concat([keep, tf.fill([2, 16 - cut], 49, 'int32')], 1) as tf.Tensor2D;
      });
      const lb = (m.predict(b) as tf.Tensor3D).arraySync();
      for (let s = 0; s < 2; s++) {
        for (let t = 0; t < cut; t++) assert.deepEqual(lb[s]![t], la[s]![t], `${backend}: position ${t} changed with tokens from ${cut}`);
        assert.notDeepEqual(lb[s]![cut], la[s]![cut], `${backend}: position ${cut} must see its own (changed) token`);
      }
      b.dispose();
    }
    // a shorter sequence gives the same logits as the prefix of a longer one
    const short = tf.slice(a, [0, 0], [2, 5]);
    const ls = (m.predict(short) as tf.Tensor3D).arraySync();
    for (let s = 0; s < 2; s++) for (let t = 0; t < 5; t++) ls[s]![t]!.forEach((v, j) => assert.ok(Math.abs(v - la[s]![t]![j]!) < 1e-5));
    assert.throws(() => m.predict(ids(1, 17, 50)), /17 tokens is longer than the model's context of 16/);
    tf.dispose([a, short]);
    m.dispose();
  }
  assert.deepEqual(Array.from(causalMask(3).dataSync()), [0, -Infinity, -Infinity, 0, 0, -Infinity, 0, 0, 0]);
});

test('tied embedding: one tensor, whose gradient is the sum of its two uses (lookup + head)', async () => {
  await tf.setBackend('onednn');
  const tied = gpt(TINY);
  const untied = gpt({ ...TINY, tieHead: false });
  randomizeWeights(tied, 5);
  // the untied model with the same values, its head = the tied embedding
  const w = readWeights(tied);
  setWeights(untied, { ...w, 'head.kernel': w['tok_embed.kernel']! }, 'copy');
  const x = ids(3, 16, 50, 2);
  const y = ids(3, 16, 50, 3);
  const grad = (m: tf.LayersModel) => {
    const ps = collectParams(m);
    const { grads, value } = tf.variableGrads(() => meanSoftmaxCrossEntropy(y, m.apply(x, { training: true }) as tf.Tensor), ps.map((p) => p.variable));
    const out = Object.fromEntries(ps.map((p) => [p.name, grads[p.variable.name]!.arraySync() as number[][]]));
    tf.dispose([grads, value]);
    return out;
  };
  const gt = grad(tied);
  const gu = grad(untied);
  assert.ok(!('head.kernel' in gt) && 'head.kernel' in gu);
  const sum = gu['tok_embed.kernel']!.map((row, i) => row.map((v, j) => v + gu['head.kernel']![i]![j]!));
  let worst = 0;
  let scale = 0;
  sum.forEach((row, i) => row.forEach((v, j) => { worst = Math.max(worst, Math.abs(v - gt['tok_embed.kernel']![i]![j]!)); scale = Math.max(scale, Math.abs(v)); }));
  assert.ok(worst <= 1e-6 * scale, `tied gradient differs from the sum of both uses by ${worst} (scale ${scale})`);
  // both uses contribute: neither part alone is the gradient
  assert.ok(gu['tok_embed.kernel']!.flat().some((v) => v !== 0) && gu['head.kernel']!.flat().some((v) => v !== 0));
  tf.dispose([x, y]);
  tied.dispose();
  untied.dispose();
});

test('Algorithm 1 on a GPT: measurement inits, every gradient finite; the attention key biases are exactly zero-gradient', async () => {
  await tf.setBackend('onednn');
  const m = gpt(TINY);
  const ps = collectParams(m);
  for (const init of ['fan-in', 'fan-out'] as const) {
    applyMeasurementInit(ps, { init, seed: 1, model: m });
    const tok = ps.find((p) => p.name === 'tok_embed.kernel')!;
    const std = Math.sqrt(tf.tidy(() => tf.mean(tf.square(tok.variable)).dataSync()[0]!));
    const want = Math.sqrt(1 / (init === 'fan-in' ? 32 : 50));
    assert.ok(Math.abs(std - want) < 0.1 * want, `${init}: token embedding std ${std}, expected ${want}`);
    assert.equal(tf.tidy(() => tf.max(tf.abs(ps.find((p) => p.name === 'pos_embed')!.variable)).dataSync()[0]), 0, 'pos_embed is zero');
    const x = ids(4, 16, 50, 4);
    const { grads, value } = tf.variableGrads(() => meanSoftmaxCrossEntropy(x, m.apply(x, { training: true }) as tf.Tensor), ps.map((p) => p.variable));
    assert.ok(Number.isFinite(value.dataSync()[0]!));
    for (const p of ps) {
      const g = grads[p.variable.name]!;
      const mean = tf.tidy(() => tf.mean(tf.abs(g)).dataSync()[0]!);
      assert.ok(Number.isFinite(mean), p.name);
      if (/attn\.k\.bias$/.test(p.name)) assert.ok(mean < 1e-7, `${init}: ${p.name} mean |g| ${mean} (zero in exact arithmetic)`);
      else assert.ok(mean > 1e-7, `${init}: ${p.name} has no gradient`);
    }
    tf.dispose([grads, value, x]);
  }
  m.dispose();
});

test('serialization round trip, seeded init, no tensor leaks', async () => {
  await tf.setBackend('cpu');
  const a = gpt({ ...TINY, dropRate: 0.1, attnDropRate: 0.1, dropPathRate: 0.1 });
  const b = gpt({ ...TINY, dropRate: 0.1, attnDropRate: 0.1, dropPathRate: 0.1 });
  const x = ids(2, 8, 50);
  await checkRoundTrip(a, x);
  for (const [k, v] of Object.entries(readWeights(a))) assert.deepEqual(v.data, readWeights(b)[k]!.data, `seeded init: ${k}`);
  await tf.setBackend('onednn');
  const m = gpt({ ...TINY, dropRate: 0.1 });
  const y = ids(2, 8, 50);
  const step = () => tf.tidy(() => {
    const ps = collectParams(m);
    tf.variableGrads(() => meanSoftmaxCrossEntropy(y, m.apply(y, { training: true }) as tf.Tensor), ps.map((p) => p.variable));
  });
  step();
  const n = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, n);
  tf.dispose([x, y]);
  [a, b, m].forEach((z) => z.dispose());
});

test('Hugging Face GPT-2 names: fused c_attn columns, transposed wte, tied lm_head left out; round trip', async () => {
  await tf.setBackend('cpu');
  assert.equal(torchFamilyOf('gpt2-small'), 'gpt');
  assert.equal(torchFamilyOf('gpt-tiny'), 'gpt');
  for (const tieHead of [true, false]) {
    const m = gpt({ ...TINY, tieHead });
    randomizeWeights(m, 7);
    const specs = modelWeights(m).map((w) => ({ name: w.name, shape: [...w.variable.shape] }));
    assert.equal(inferTorchFamily(specs.map((s) => s.name)), 'gpt');
    const map = torchMapping(specs, { family: 'gpt' });
    const names = map.entries.map((e) => [e.torch, e.shape]);
    assert.deepEqual(names.slice(0, 5), [
      ['transformer.wte.weight', [50, 32]], ['transformer.wpe.weight', [16, 32]],
      ['transformer.h.0.ln_1.weight', [32]], ['transformer.h.0.ln_1.bias', [32]], ['transformer.h.0.attn.c_attn.weight', [32, 96]],
    ]);
    assert.deepEqual(names.slice(5, 13).map((n) => n[0]), [
      'transformer.h.0.attn.c_attn.bias', 'transformer.h.0.attn.c_proj.weight', 'transformer.h.0.attn.c_proj.bias',
      'transformer.h.0.ln_2.weight', 'transformer.h.0.ln_2.bias', 'transformer.h.0.mlp.c_fc.weight', 'transformer.h.0.mlp.c_fc.bias', 'transformer.h.0.mlp.c_proj.weight',
    ]);
    assert.deepEqual(names.at(tieHead ? -1 : -2)![0], 'transformer.ln_f.bias');
    assert.equal(names.some((n) => n[0] === 'lm_head.weight'), !tieHead);
    const ours = readWeights(m);
    const { tensors } = weightsToTorch(ours, map);
    // c_attn.weight [in, 3 out]: column j of q is ours q.kernel[:, j], of k at 32 + j
    const cattn = tensors['transformer.h.0.attn.c_attn.weight']!;
    const q = ours['blocks.0.attn.q.kernel']!;
    const k = ours['blocks.0.attn.k.kernel']!;
    assert.equal(cattn.data[3 * 96 + 5], q.data[3 * 32 + 5]);
    assert.equal(cattn.data[3 * 96 + 32 + 5], k.data[3 * 32 + 5]);
    // wte [vocab, dim] = tok_embed.kernel [dim, vocab] transposed
    assert.equal(tensors['transformer.wte.weight']!.data[7 * 32 + 2], ours['tok_embed.kernel']!.data[2 * 50 + 7]);
    // back, also from GPT2Model names (no transformer.) and with the buffers older versions saved
    const hf: Record<string, NamedArray> = { ...tensors, 'transformer.h.1.attn.bias': { shape: [1, 1, 16, 16], data: new Float32Array(256) } };
    if (tieHead) hf['lm_head.weight'] = tensors['transformer.wte.weight']!;
    const back = weightsFromTorch(hf, map).tensors;
    for (const [name, a] of Object.entries(ours)) assert.deepEqual(back[name]!.data, a.data, name);
    const bare = Object.fromEntries(Object.entries(tensors).map(([n, v]) => [n.replace(/^transformer\./, ''), v]));
    assert.deepEqual(weightsFromTorch(bare, map).tensors['blocks.1.mlp.fc2.kernel']!.data, ours['blocks.1.mlp.fc2.kernel']!.data);
    m.dispose();
  }
});

function tableFor(model: tf.LayersModel): LRTableJSON {
  const entries = collectParams(model).map((p, i) => ({ name: p.name, shape: [...p.shape], numel: p.numel, kind: p.kind, G: 1, eta: 1 + i / 10 }));
  return new LRTable(entries, { scheme: 'layerwise', steps: 1, batchSize: 1, init: 'fan-in', exponent: 0.5, seed: 0, zeroGradient: null }).toJSON();
}

test('PyTorch parity: a Hugging Face-style GPT-2 module with the converted weights gives the same logits (< 1e-5); per-column etas of c_attn', async (t) => {
  if (spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0) {
    t.skip('no PyTorch at /usr/bin/python3 (CI has none): parity not checked');
    return;
  }
  await tf.setBackend('onednn');
  const dir = mkdtempSync(path.join(tmpdir(), 'lwlr-gpt-'));
  const cfg: Record<string, unknown> = {};
  const inputs: Record<string, number[][]> = {};
  const want: Record<string, number[][][]> = {};
  for (const tieHead of [true, false]) {
    const name = tieHead ? 'tied' : 'untied';
    const m = gpt({ ...TINY, tieHead });
    randomizeWeights(m, tieHead ? 21 : 22);
    const x = ids(2, 12, 50, tieHead ? 5 : 6);
    inputs[name] = x.arraySync();
    want[name] = (m.predict(x) as tf.Tensor3D).arraySync();
    x.dispose();
    const map = torchMapping(modelWeights(m).map((w) => ({ name: w.name, shape: [...w.variable.shape] })), { family: 'gpt' });
    writeFileSync(path.join(dir, `${name}.safetensors`), convertSafetensors(encodeSafetensors(readWeights(m)), map, 'torch', name).bytes);
    writeFileSync(path.join(dir, `${name}-table.json`), JSON.stringify(lrTableToTorch(tableFor(m), 'gpt')));
    cfg[name] = { vocab: TINY.vocabSize, ctx: TINY.contextLength, depth: TINY.depth, dim: TINY.dim, heads: TINY.numHeads, tied: tieHead };
    m.dispose();
  }
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ models: cfg }));
  writeFileSync(path.join(dir, 'ids.json'), JSON.stringify(inputs));
  const r = spawnSync('/usr/bin/python3', [path.join(fixtures, 'gpt-torch-parity.py'), dir, path.resolve(pkg, '..', '..', 'examples')], {
    encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  const report: string[] = [];
  for (const name of ['tied', 'untied']) {
    const g = got[name] as number[][][];
    let worst = 0;
    want[name]!.forEach((s, i) => s.forEach((row, j) => row.forEach((v, k) => { worst = Math.max(worst, Math.abs(v - g[i]![j]![k]!)); })));
    report.push(`${name}: max |logit diff| ${worst.toExponential(2)} (logits up to ${Math.max(...want[name]!.flat(2).map(Math.abs)).toFixed(2)}); SGD step with per-column c_attn etas: max error ${(got[`${name}_sgd_step_max_error`] as number).toExponential(2)}`);
    assert.ok(worst < 1e-5, `${name}: max |tfjs - torch| = ${worst}`);
    assert.ok((got[`${name}_sgd_step_max_error`] as number) < 1e-6);
  }
  t.diagnostic(report.join('; '));
});
