// Weights and eta tables to and from PyTorch: layout transforms by hand, names against torchvision's
// state_dict, round trips over the zoo, the CLI, and (when /usr/bin/python3 has torch) logits in PyTorch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { collectParams, EtaTable, type EtaTableJSON } from 'layerwise-lr';
import { buildModel } from '../src/models/registry.js';
import { vit } from '../src/models/vit.js';
import { convnext } from '../src/models/convnext.js';
import { modelWeights, readWeights, setWeights } from '../src/train/weights.js';
import { decodeSafetensors, encodeSafetensors, type NamedArray } from '../src/safetensors.js';
import {
  fromTorchLayout, inferTorchFamily, permute, toTorchLayout, torchExtraBuffers, torchFamilyOf, torchMapping,
  weightsFromTorch, weightsToTorch, type TorchFamily, type TorchTransform, type WeightSpec,
} from '../src/interop/torch.js';
import { convertSafetensors, decodeTorchSafetensors, etaTableToTorch } from '../src/interop/torch-files.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.resolve(here, '..', '..');
const fixtures = path.join(pkg, 'test', 'fixtures');
const bin = path.join(pkg, 'bin', 'lwlr.js');
const tmp = () => mkdtempSync(path.join(tmpdir(), 'lwlr-interop-'));
const iota = (n: number) => Float32Array.from({ length: n }, (_, i) => i);

function specsOf(model: tf.LayersModel): WeightSpec[] {
  return modelWeights(model).map((w) => ({ name: w.name, shape: [...w.variable.shape] }));
}

test('layouts: known answers (hand-derived from the index formulas) and their inverses', () => {
  assert.deepEqual([...permute(iota(6), [2, 3], [1, 0]).data], [0, 3, 1, 4, 2, 5]);
  const cases: Array<[TorchTransform, number[], number[], number[]]> = [
    // dense [in 2, out 3] -> [3, 2]: W[o, i] = k[i, o] = 3i + o
    [{ kind: 'dense' }, [2, 3], [3, 2], [0, 3, 1, 4, 2, 5]],
    // conv [kh 1, kw 2, in 2, out 3] -> [3, 2, 1, 2]: W[o, i, 0, x] = k[0, x, i, o] = (2x + i) * 3 + o
    [{ kind: 'conv' }, [1, 2, 2, 3], [3, 2, 1, 2], [0, 6, 3, 9, 1, 7, 4, 10, 2, 8, 5, 11]],
    // depthwise [kh 1, kw 2, C 2, m 2] -> [4, 1, 1, 2]: W[c*m + j, 0, 0, x] = k[0, x, c, j] = (2x + c) * 2 + j
    [{ kind: 'depthwise' }, [1, 2, 2, 2], [4, 1, 1, 2], [0, 4, 1, 5, 2, 6, 3, 7]],
    // Flatten of [h 1, w 2, c 2] then dense to 2: W[o, c*2 + w] = k[2w + c, o] = (2w + c) * 2 + o
    [{ kind: 'flatten-dense', input: [1, 2, 2] }, [4, 2], [2, 4], [0, 4, 2, 6, 1, 5, 3, 7]],
    [{ kind: 'copy' }, [1, 2, 3], [1, 2, 3], [0, 1, 2, 3, 4, 5]],
  ];
  for (const [t, shape, want, data] of cases) {
    const a = { shape, data: iota(shape.reduce((x, y) => x * y, 1)) };
    const got = toTorchLayout(a, t);
    assert.deepEqual(got.shape, want, t.kind);
    assert.deepEqual([...got.data], data, t.kind);
    const back = fromTorchLayout(got, t, shape);
    assert.deepEqual(back.shape, shape, t.kind);
    assert.deepEqual([...back.data], [...a.data], `${t.kind} inverse`);
  }
});

test('names: BatchNorm, fused qkv, Swin downsample and head, ConvNeXt layer scale, MLP first layer', () => {
  const map = (family: TorchFamily, specs: WeightSpec[], inputShape?: number[]) =>
    torchMapping(specs, { family, inputShape }).entries.map((e) => [e.torch, e.shape, e.parts.map((p) => [p.name, p.rows, p.transform.kind])]);
  assert.deepEqual(map('resnet', [{ name: 'bn1.gamma', shape: [4] }, { name: 'bn1.beta', shape: [4] }, { name: 'bn1.moving_mean', shape: [4] }, { name: 'bn1.moving_variance', shape: [4] }]).map((e) => e[0]),
    ['bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var']);
  assert.deepEqual(map('vit', [
    { name: 'cls_token', shape: [1, 1, 4] },
    { name: 'blocks.0.attn.q.kernel', shape: [4, 4] }, { name: 'blocks.0.attn.q.bias', shape: [4] },
    { name: 'blocks.0.attn.k.kernel', shape: [4, 4] }, { name: 'blocks.0.attn.k.bias', shape: [4] },
    { name: 'blocks.0.attn.v.kernel', shape: [4, 4] }, { name: 'blocks.0.attn.v.bias', shape: [4] },
  ]), [
    ['cls_token', [1, 1, 4], [['cls_token', [0, 1], 'copy']]],
    ['blocks.0.attn.qkv.weight', [12, 4], [['blocks.0.attn.q.kernel', [0, 4], 'dense'], ['blocks.0.attn.k.kernel', [4, 8], 'dense'], ['blocks.0.attn.v.kernel', [8, 12], 'dense']]],
    ['blocks.0.attn.qkv.bias', [12], [['blocks.0.attn.q.bias', [0, 4], 'copy'], ['blocks.0.attn.k.bias', [4, 8], 'copy'], ['blocks.0.attn.v.bias', [8, 12], 'copy']]],
  ]);
  assert.deepEqual(map('swin', [
    { name: 'layers.0.downsample.norm.gamma', shape: [8] }, { name: 'layers.0.downsample.reduction.kernel', shape: [8, 4] },
    { name: 'layers.0.blocks.0.attn.relative_position_bias_table', shape: [9, 2] }, { name: 'head.kernel', shape: [4, 3] },
  ]).map((e) => [e[0], e[1]]), [
    ['layers.1.downsample.norm.weight', [8]], ['layers.1.downsample.reduction.weight', [4, 8]],
    ['layers.0.blocks.0.attn.relative_position_bias_table', [9, 2]], ['head.fc.weight', [3, 4]],
  ]);
  assert.deepEqual(map('convnext', [
    { name: 'stages.0.blocks.0.gamma', shape: [8] }, { name: 'stages.0.blocks.0.norm.gamma', shape: [8] },
    { name: 'stages.0.blocks.0.conv_dw.depthwise_kernel', shape: [7, 7, 8, 1] },
  ]).map((e) => [e[0], e[1]]), [['stages.0.blocks.0.gamma', [8]], ['stages.0.blocks.0.norm.weight', [8]], ['stages.0.blocks.0.conv_dw.weight', [8, 1, 7, 7]]]);
  const mlp = map('mlp', [{ name: 'fc1.kernel', shape: [12, 5] }, { name: 'fc2.kernel', shape: [5, 2] }], [2, 2, 3]);
  assert.deepEqual(mlp.map((e) => [e[0], e[1], (e[2] as unknown[][])[0]![2]]), [['fc1.weight', [5, 12], 'flatten-dense'], ['fc2.weight', [2, 5], 'dense']]);
  // unknown names: one line, the first few
  assert.throws(() => torchMapping([{ name: 'a.foo', shape: [1] }, { name: 'b.bar', shape: [1] }, { name: 'fc.bias', shape: [1] }], { family: 'resnet' }),
    /^Error: torch mapping \(resnet\): no torch name for 2 weight\(s\): a\.foo, b\.bar$/);
  assert.throws(() => torchMapping([{ name: 'blocks.0.attn.q.kernel', shape: [4, 4] }], { family: 'vit' }), /attn\.qkv\.weight is fused from q, k, v but the model has no k, v part/);
  assert.throws(() => torchMapping([{ name: 'bn.gamma', shape: [2] }, { name: 'bn.kernel', shape: [2, 2] }], { family: 'resnet' }),
    /^Error: torch mapping \(resnet\): bn\.kernel and bn\.gamma both map to bn\.weight$/);
  assert.equal(torchFamilyOf('resnet18-cifar'), 'resnet');
  assert.equal(torchFamilyOf('vit-tiny'), 'vit');
  assert.equal(torchFamilyOf('swin-cpu'), 'swin');
  assert.throws(() => torchFamilyOf('lenet'), /no torch naming for model 'lenet'/);
});

test('resnet18 at 1000 classes: torch names and shapes are torchvision state_dict keys (fixture)', async () => {
  await tf.setBackend('cpu');
  const fixture = JSON.parse(readFileSync(path.join(fixtures, 'interop-torchvision-resnet18.json'), 'utf8')) as { keys: Array<[string, number[]]> };
  const model = buildModel('resnet18', { inputShape: [32, 32, 3], numClasses: 1000 });
  const m = torchMapping(specsOf(model), { family: torchFamilyOf('resnet18') });
  model.dispose();
  const ours = new Map(m.entries.map((e) => [e.torch, e.shape]));
  const extra = new Set(torchExtraBuffers(m));
  const theirs = new Map(fixture.keys);
  assert.equal(theirs.size, 122);
  assert.deepEqual([...theirs.keys()].filter((k) => !ours.has(k)).sort(), [...extra].sort(), 'only num_batches_tracked is torch-only');
  assert.ok(extra.size === 20 && [...extra].every((k) => k.endsWith('.num_batches_tracked')));
  assert.deepEqual([...ours.keys()].filter((k) => !theirs.has(k)), [], 'no name of ours outside torchvision');
  for (const [k, shape] of ours) assert.deepEqual(shape, theirs.get(k), k);
});

const ZOO: Array<[string, [number, number, number]]> = [
  ['mlp', [4, 4, 3]], ['resnet18-cifar', [8, 8, 3]], ['davidnet', [8, 8, 3]], ['vit-tiny', [8, 8, 3]],
  ['convnext-cpu', [16, 16, 3]], ['swin-cpu', [16, 16, 3]],
];

test('round trip tfjs -> torch -> tfjs is the identity for every zoo model (arrays and safetensors files)', async () => {
  await tf.setBackend('cpu');
  for (const [name, inputShape] of ZOO) {
    const model = buildModel(name, { inputShape, numClasses: 5, width: 8, depth: 3 });
    const ours = readWeights(model);
    const m = torchMapping(specsOf(model), { family: torchFamilyOf(name), inputShape });
    model.dispose();
    const torch = weightsToTorch(ours, m);
    assert.deepEqual(torch.missing, []);
    const back = weightsFromTorch(torch.tensors, m);
    assert.deepEqual(back.missing, []);
    assert.deepEqual(Object.keys(back.tensors).sort(), Object.keys(ours).sort(), name);
    for (const [k, a] of Object.entries(ours)) {
      assert.deepEqual(back.tensors[k]!.shape, a.shape, `${name} ${k}`);
      assert.ok(back.tensors[k]!.data.every((v, i) => v === a.data[i]), `${name} ${k} values`);
    }
    // a transposing transform really moved something (the round trip is not trivially the identity)
    const moved = m.entries.find((e) => e.parts[0]!.transform.kind !== 'copy' && e.parts[0]!.shape.join() !== e.shape.join());
    assert.ok(moved, `${name}: some tensor changes layout`);
    // through files, as lwlr convert does
    const file = encodeSafetensors(ours, { layout: 'tfjs' });
    const t = convertSafetensors(file, m, 'torch', 'in');
    assert.equal(decodeSafetensors(t.bytes).metadata?.layout, 'torch');
    const f = convertSafetensors(t.bytes, m, 'tfjs', 'torch file');
    const again = decodeSafetensors(f.bytes).tensors;
    for (const [k, a] of Object.entries(ours)) assert.ok(again[k]!.data.every((v, i) => v === a.data[i]), `${name} ${k} via files`);
    assert.throws(() => convertSafetensors(t.bytes, m, 'torch', 'x.safetensors'), /^Error: x\.safetensors: is already in torch layout/);
  }
  assert.equal(tf.memory().numTensors, 0);
});

test('reading torch files: num_batches_tracked (I64) is dropped; foreign names and wrong shapes are one-line errors', () => {
  const m = torchMapping([{ name: 'bn.gamma', shape: [2] }, { name: 'bn.moving_mean', shape: [2] }, { name: 'fc.kernel', shape: [2, 3] }], { family: 'resnet' });
  // a header with an I64 scalar as torch writes it, then our float tensors
  const f32 = encodeSafetensors({ 'bn.weight': { shape: [2], data: Float32Array.of(1, 2) }, 'bn.running_mean': { shape: [2], data: Float32Array.of(3, 4) } });
  const n = Number(new DataView(f32.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(f32.subarray(8, 8 + n)));
  header['bn.num_batches_tracked'] = { dtype: 'I64', shape: [], data_offsets: [16, 24] };
  const head = new TextEncoder().encode(JSON.stringify(header));
  const bytes = new Uint8Array(8 + head.length + 24);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(head.length), true);
  bytes.set(head, 8);
  bytes.set(f32.subarray(8 + n), 8 + head.length);
  assert.throws(() => decodeSafetensors(bytes, 'f'), /I64/);
  const d = decodeTorchSafetensors(bytes, 'f');
  assert.deepEqual(Object.keys(d.tensors), ['bn.weight', 'bn.running_mean']);
  const r = weightsFromTorch(d.tensors, m);
  assert.deepEqual(r.missing, ['fc.weight']);
  assert.deepEqual([...r.tensors['bn.moving_mean']!.data], [3, 4]);
  assert.throws(() => weightsFromTorch({ 'conv9.weight': { shape: [1], data: new Float32Array(1) } }, m, 'w.safetensors'),
    /^Error: w\.safetensors: 1 name\(s\) not in a resnet state_dict of this model: conv9\.weight$/);
  assert.throws(() => weightsFromTorch({ 'fc.weight': { shape: [2, 3], data: new Float32Array(6) } }, m, 'w'), /fc\.weight is \[2,3\], expected \[3,2\]/);
  assert.throws(() => weightsToTorch({ 'fc.kernel': { shape: [3, 2], data: new Float32Array(6) } }, m, 'w'), /fc\.kernel has shape \[3,2\], the model \[2,3\]/);
});

/** An eta table JSON for `model` with eta = 1 + i/10 (distinct per entry). */
function tableFor(model: tf.LayersModel): EtaTableJSON {
  const entries = collectParams(model).map((p, i) => ({ name: p.name, shape: [...p.shape], numel: p.numel, kind: p.kind, G: 1, eta: 1 + i / 10 }));
  return new EtaTable(entries, { scheme: 'layerwise', steps: 1, batchSize: 1, init: 'fan-out', exponent: 0.5, seed: 0, zeroGradient: null }).toJSON();
}

test('eta table to torch names: q, k, v stay separate entries (rows of attn.qkv) with their own eta', async () => {
  await tf.setBackend('cpu');
  const model = vit({ numClasses: 5, imageSize: 8, channels: 3, patchSize: 4, dim: 16, depth: 1, numHeads: 2, seed: 1 });
  const json = tableFor(model);
  model.dispose();
  assert.equal(inferTorchFamily(json.entries.map((e) => e.name)), 'vit');
  const t = etaTableToTorch(json, 'vit');
  assert.equal(t.schema, 'layerwise-lr/eta-table-torch@1');
  assert.equal(t.entries.length, json.entries.length);
  const qkv = t.entries.filter((e) => e.name === 'blocks.0.attn.qkv.weight');
  const eta = (n: string) => json.entries.find((e) => e.name === n)!.eta;
  assert.deepEqual(qkv.map((e) => [e.source, e.rows, e.shape, e.numel, e.eta]), [
    ['blocks.0.attn.q.kernel', [0, 16], [48, 16], 256, eta('blocks.0.attn.q.kernel')],
    ['blocks.0.attn.k.kernel', [16, 32], [48, 16], 256, eta('blocks.0.attn.k.kernel')],
    ['blocks.0.attn.v.kernel', [32, 48], [48, 16], 256, eta('blocks.0.attn.v.kernel')],
  ]);
  assert.deepEqual(t.meta.fused['blocks.0.attn.qkv.bias'], ['blocks.0.attn.q.bias', 'blocks.0.attn.k.bias', 'blocks.0.attn.v.bias']);
  const head = t.entries.find((e) => e.name === 'head.weight')!;
  assert.deepEqual([head.shape, head.rows, head.eta], [[5, 16], undefined, eta('head.kernel')]);
  assert.equal(t.meta.signature, json.meta.signature);
});

function lwlr(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('lwlr convert: weights both ways (model from the metadata), an eta table, one-line usage errors', async () => {
  await tf.setBackend('cpu');
  const dir = tmp();
  const model = buildModel('mlp', { inputShape: [4, 4, 3], numClasses: 5, width: 8, depth: 2 });
  const ours = readWeights(model);
  writeFileSync(path.join(dir, 'w.safetensors'), encodeSafetensors(ours, { layout: 'tfjs', model: 'mlp' }));
  writeFileSync(path.join(dir, 'lr.json'), JSON.stringify(tableFor(model)));
  model.dispose();
  const flags = ['--num-classes', '5', '--image-size', '4', '--channels', '3', '--width', '8'];
  let r = lwlr('convert', ...flags, '--from', path.join(dir, 'w.safetensors'), '--to', path.join(dir, 't.safetensors'), '--format', 'torch');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /wrote 4 tensors \(torch layout, mlp\)/);
  const t = decodeSafetensors(readFileSync(path.join(dir, 't.safetensors')));
  assert.deepEqual(Object.keys(t.tensors), ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
  assert.deepEqual(t.tensors['fc1.weight']!.shape, [8, 48]);
  assert.equal(t.metadata?.format, 'pt');
  r = lwlr('convert', '--model', 'mlp', ...flags, '--from', path.join(dir, 't.safetensors'), '--to', path.join(dir, 'back.safetensors'), '--format', 'tfjs');
  assert.equal(r.code, 0, r.err);
  const back = decodeSafetensors(readFileSync(path.join(dir, 'back.safetensors'))).tensors;
  for (const [k, a] of Object.entries(ours)) assert.deepEqual([...back[k]!.data], [...a.data], k);
  // torch -> a TF.js model directory (model.json + weights.bin) -> torch again: the same tensors
  r = lwlr('convert', ...flags, '--model', 'mlp', '--from', path.join(dir, 't.safetensors'), '--to', path.join(dir, 'tfjs-model'), '--format', 'tfjs');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /wrote 4 weights \(TF\.js model directory, mlp\)/);
  r = lwlr('convert', ...flags, '--from', path.join(dir, 'tfjs-model'), '--to', path.join(dir, 't2.safetensors'), '--format', 'torch');
  assert.equal(r.code, 0, r.err);
  const t2 = decodeSafetensors(readFileSync(path.join(dir, 't2.safetensors'))).tensors;
  for (const [k, a] of Object.entries(t.tensors)) assert.deepEqual([...t2[k]!.data], [...a.data], `${k} via TF.js`);
  // the loaded weights fit the model (setWeights checks names and shapes)
  const again = buildModel('mlp', { inputShape: [4, 4, 3], numClasses: 5, width: 8, depth: 2 });
  setWeights(again, back, 'back');
  again.dispose();

  r = lwlr('convert', '--eta-table', path.join(dir, 'lr.json'), '--format', 'torch', '--out', path.join(dir, 'lr-torch.json'));
  assert.equal(r.code, 0, r.err);
  const lt = JSON.parse(readFileSync(path.join(dir, 'lr-torch.json'), 'utf8'));
  assert.deepEqual(lt.entries.map((e: { name: string }) => e.name), ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);

  const bad: Array<[string[], RegExp]> = [
    [['--from', path.join(dir, 'w.safetensors'), '--to', path.join(dir, 'x.safetensors')], /--format is required/],
    [['--model', 'mlp', '--from', path.join(dir, 'w.safetensors'), '--to', path.join(dir, 'x.safetensors'), '--format', 'torch'], /fc1\.kernel has shape \[48,8\], the model \[784,1024\].*--num-classes, --image-size/],
    [['--model', 'mlp', ...flags, '--from', path.join(dir, 't.safetensors'), '--to', path.join(dir, 'x.safetensors'), '--format', 'torch'], /already in torch layout/],
    [['--eta-table', path.join(dir, 'lr.json'), '--format', 'tfjs', '--out', 'x.json'], /--format torch/],
    [['--model', 'nope', '--format', 'torch'], /--model must be one of/],
    [['--model', 'mlp', '--from', path.join(dir, 'w.safetensors'), '--to', path.join(dir, 'dir'), '--format', 'torch'], /expected a file name ending in \.safetensors/],
  ];
  for (const [args, re] of bad) {
    r = lwlr('convert', ...args);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.err, re);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
  }
});

/**
 * Seeds every weight (BatchNorm statistics and norm scales as a trained model would have them). Kernels:
 * N(0, kernelStd^2), large enough that attention is far from uniform (q and k swapped must show), or the
 * model's own init when kernelStd is 0 (the ResNet: 20 layers of 0.3 would blow up).
 */
function seedWeights(model: tf.LayersModel, seed: number, kernelStd: number): void {
  const values: Record<string, NamedArray> = {};
  for (const w of modelWeights(model)) {
    const shape = [...w.variable.shape];
    const r = tf.tidy(() => {
      const n = (std: number) => tf.randomNormal(shape, 0, std, 'float32', seed++);
      if (w.name.endsWith('moving_variance')) return tf.randomUniform(shape, 0.5, 1.5, 'float32', seed++);
      if (w.name.endsWith('gamma')) return n(0.1).add(1);
      if (/(kernel|depthwise_kernel)$/.test(w.name)) return kernelStd ? n(kernelStd) : w.variable.clone();
      return n(0.1);
    });
    values[w.name] = { shape, data: r.dataSync() as Float32Array };
    r.dispose();
  }
  setWeights(model, values, 'seeded');
}

test('PyTorch parity: converted weights give the same logits (torchvision resnet18-cifar, MLP, timm-style ViT and ConvNeXt)', async (t) => {
  if (spawnSync('/usr/bin/python3', ['-c', 'import torch, torchvision'], { encoding: 'utf8' }).status !== 0) {
    t.skip('no PyTorch/torchvision at /usr/bin/python3 (CI has none): parity not checked');
    return;
  }
  await tf.setBackend('cpu');
  const dir = tmp();
  const cfg = {
    resnet: { classes: 10 },
    mlp: { inputs: 48, width: 8, classes: 5 },
    vit: { img: 8, patch: 4, chans: 3, dim: 16, depth: 2, heads: 2, classes: 5 },
    convnext: { chans: 3, classes: 4, depths: [1, 2], dims: [8, 16], patch: 2 },
  };
  const models: Record<string, [tf.LayersModel, TorchFamily]> = {
    resnet: [buildModel('resnet18-cifar', { inputShape: [8, 8, 3], numClasses: 10 }), 'resnet'],
    mlp: [buildModel('mlp', { inputShape: [4, 4, 3], numClasses: 5, width: 8, depth: 2 }), 'mlp'],
    vit: [vit({ numClasses: 5, imageSize: 8, channels: 3, patchSize: 4, dim: 16, depth: 2, numHeads: 2, seed: 1 }), 'vit'],
    convnext: [convnext({ numClasses: 4, imageSize: 8, channels: 3, depths: [1, 2], dims: [8, 16], patchSize: 2, seed: 1 }), 'convnext'],
  };
  const want: Record<string, number[][]> = {};
  const inputs: Record<string, NamedArray> = {};
  let seed = 1;
  for (const [name, [model, family]] of Object.entries(models)) {
    seedWeights(model, (seed += 1000), name === 'resnet' ? 0 : 0.3);
    const shape = model.inputs[0]!.shape.slice(1) as [number, number, number];
    const x = tf.randomNormal([2, ...shape], 0, 1, 'float32', seed);
    want[name] = tf.tidy(() => (model.predict(x) as tf.Tensor).arraySync() as number[][]);
    inputs[name] = { shape: [2, shape[2], shape[0], shape[1]], data: permute(x.dataSync() as Float32Array, x.shape, [0, 3, 1, 2]).data };
    x.dispose();
    const m = torchMapping(specsOf(model), { family, inputShape: shape });
    writeFileSync(path.join(dir, `${name}.safetensors`), convertSafetensors(encodeSafetensors(readWeights(model)), m, 'torch', name).bytes);
    if (name === 'vit') writeFileSync(path.join(dir, 'vit-table.json'), JSON.stringify(etaTableToTorch(tableFor(model), 'vit')));
    model.dispose();
  }
  writeFileSync(path.join(dir, 'x.safetensors'), encodeSafetensors(inputs));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg));
  const r = spawnSync('/usr/bin/python3', [path.join(fixtures, 'interop-torch-parity.py'), dir, path.resolve(pkg, '..', '..', 'examples')], {
    encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' }, // no __pycache__ in examples/
  });
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  const report: string[] = [];
  for (const name of Object.keys(models)) {
    const g = got[name] as number[][];
    let worst = 0;
    want[name]!.forEach((row, i) => row.forEach((v, j) => { worst = Math.max(worst, Math.abs(v - g[i]![j]!)); }));
    report.push(`${name} max |logit diff| ${worst.toExponential(2)} (logits up to ${Math.max(...want[name]!.flat().map(Math.abs)).toFixed(2)})`);
    assert.ok(worst < 1e-4, `${name}: max |tfjs - torch| = ${worst}`);
  }
  report.push(`vit SGD step with per-row qkv eta: max error ${(got.sgd_step_max_error as number).toExponential(2)} over ${got.groups} groups`);
  assert.ok((got.sgd_step_max_error as number) < 1e-6, `per-row lr step error ${got.sgd_step_max_error}`);
  t.diagnostic(report.join('; '));
  assert.equal(tf.memory().numTensors, 0);
});
