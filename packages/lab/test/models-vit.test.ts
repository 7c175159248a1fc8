import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { collectParams } from 'layerwise-lr';
import { vit } from '../src/models/vit.js';
import { zooModels } from '../src/models/zoo.js';
import { torchFamilyOf, torchMapping } from '../src/interop/torch.js';
import { checkGradients, checkParams, checkRoundTrip, paramCount, rms } from './models-helpers.js';

test('vit-s16: 22,050,664 parameters at 1000 classes, 224x224x3; timm names; kinds', () => {
  const m = zooModels['vit-s16']!({ numClasses: 1000, imageSize: 224, channels: 3 });
  assert.equal(paramCount(m), 22_050_664);
  const expect: Array<[string, number[], string]> = [
    ['patch_embed.proj.kernel', [16, 16, 3, 384], 'kernel'],
    ['patch_embed.proj.bias', [384], 'bias'],
    ['cls_token', [1, 1, 384], 'embedding'],
    ['pos_embed', [1, 197, 384], 'embedding'],
    ['blocks.3.norm1.gamma', [384], 'scale'],
    ['blocks.3.norm1.beta', [384], 'shift'],
    ['blocks.3.attn.q.kernel', [384, 384], 'kernel'],
    ['blocks.3.attn.q.bias', [384], 'bias'],
    ['blocks.3.attn.k.kernel', [384, 384], 'kernel'],
    ['blocks.3.attn.v.bias', [384], 'bias'],
    ['blocks.3.attn.proj.kernel', [384, 384], 'kernel'],
    ['blocks.11.mlp.fc1.kernel', [384, 1536], 'kernel'],
    ['blocks.11.mlp.fc2.bias', [384], 'bias'],
    ['norm.gamma', [384], 'scale'],
    ['head.kernel', [384, 1000], 'kernel'],
    ['head.bias', [1000], 'bias'],
  ];
  checkParams(m, expect);
  const params = collectParams(m);
  const byName = new Map(params.map((p) => [p.name, p]));
  assert.equal(params.length, 2 + 2 + 12 * 16 + 2 + 2); // patch embed, tokens, blocks, norm, head
  // LayerNorm eps as timm's ViT
  assert.equal((m.getLayer('blocks.0.norm1').getConfig() as { epsilon: number }).epsilon, 1e-6);
  // timm inits: Linear N(0, .02), biases 0
  const std = rms(byName.get('blocks.0.attn.q.kernel')!.variable);
  assert.ok(Math.abs(std - 0.02) < 0.001, `q kernel std ${std}`);
  assert.ok(byName.get('blocks.0.attn.q.bias')!.variable.dataSync().every((v) => v === 0));
  m.dispose();
});

test('vit-tiny: 32x32 forward shape; 65 tokens', async () => {
  await tf.setBackend('cpu');
  const m = zooModels['vit-tiny']!({ numClasses: 10, imageSize: 32, channels: 3, seed: 1 });
  assert.deepEqual(collectParams(m).find((p) => p.name === 'pos_embed')!.shape, [1, 65, 192]);
  assert.equal(m.layers.filter((l) => l.name.endsWith('.attn')).length, 6);
  const x = tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 1);
  const y = m.predict(x) as tf.Tensor;
  assert.deepEqual(y.shape, [1, 10]);
  assert.ok(y.dataSync().every(Number.isFinite));
  tf.dispose([x, y]);
  m.dispose();
});

test('vit-cpu: 305,034 parameters at 28x28x1 and 10 classes; 17 tokens (patch 7); torch names; gradients', async () => {
  await tf.setBackend('cpu');
  const m = zooModels['vit-cpu']!({ numClasses: 10, imageSize: 28, channels: 1, seed: 1 });
  const params = collectParams(m);
  // patch 49*64 + 64, cls 64, pos 17*64, 6 blocks x (2*2*64 norms + 4*(64*64 + 64) attn + 64*256 + 256 + 256*64 + 64), norm 128, head 650
  assert.equal(params.reduce((a, p) => a + p.numel, 0), 3200 + 64 + 1088 + 6 * (256 + 16640 + 33088) + 128 + 650);
  assert.equal(params.reduce((a, p) => a + p.numel, 0), 305_034);
  assert.deepEqual(params.find((p) => p.name === 'pos_embed')!.shape, [1, 17, 64]);
  assert.deepEqual(params.find((p) => p.name === 'patch_embed.proj.kernel')!.shape, [7, 7, 1, 64]);
  const torch = torchMapping(params, { family: torchFamilyOf('vit-cpu') });
  assert.ok(torch.entries.some((e) => e.torch === 'blocks.5.attn.qkv.weight' && e.shape.join() === '192,64'));
  const x = tf.randomNormal([2, 28, 28, 1], 0, 1, 'float32', 1);
  checkGradients(m, x, 10);
  x.dispose();
  m.dispose();
});

test('tiny ViT with dropout, attention dropout and drop path: finite gradients for every parameter, no leaks', async () => {
  await tf.setBackend('cpu');
  const m = vit({
    numClasses: 5, imageSize: 8, channels: 3, patchSize: 4, dim: 16, depth: 2, numHeads: 2,
    dropRate: 0.1, attnDropRate: 0.1, dropPathRate: 0.1, seed: 3,
  });
  const x = tf.randomNormal([4, 8, 8, 3], 0, 1, 'float32', 2);
  checkGradients(m, x, 5); // the first pass may cache constants
  const before = tf.memory().numTensors;
  checkGradients(m, x, 5);
  assert.equal(tf.memory().numTensors, before, 'no tensors leaked by a forward/backward pass');
  // inference is deterministic (dropouts off)
  const a = m.predict(x) as tf.Tensor;
  const b = m.predict(x) as tf.Tensor;
  assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
  tf.dispose([a, b, x]);
  m.dispose();
});

test('seeded init: the same seed builds the same weights', () => {
  const o = { numClasses: 3, imageSize: 8, channels: 1, patchSize: 4, dim: 8, depth: 1, numHeads: 2, seed: 11 };
  const a = vit(o);
  const b = vit(o);
  const wa = a.getWeights().map((w) => Array.from(w.dataSync()));
  const wb = b.getWeights().map((w) => Array.from(w.dataSync()));
  assert.deepEqual(wa, wb);
  const c = vit({ ...o, seed: 12 });
  assert.notDeepEqual(c.getWeights().map((w) => Array.from(w.dataSync())), wa);
  [a, b, c].forEach((m) => m.dispose());
});

test('average pooling variant has no class token; options are checked', () => {
  const m = vit({ numClasses: 3, imageSize: 8, channels: 3, patchSize: 4, dim: 8, depth: 1, numHeads: 2, pool: 'avg' });
  const names = collectParams(m).map((p) => p.name);
  assert.ok(!names.includes('cls_token'));
  assert.ok(names.includes('fc_norm.gamma') && !names.includes('norm.gamma'), 'timm: fc_norm after the pool');
  assert.deepEqual(collectParams(m).find((p) => p.name === 'pos_embed')!.shape, [1, 4, 8]);
  m.dispose();
  assert.throws(() => vit({ numClasses: 3, imageSize: 10, channels: 3, patchSize: 4, dim: 8, depth: 1, numHeads: 2 }), /multiple of patchSize 4/);
  assert.throws(() => vit({ numClasses: 3, imageSize: 8, channels: 3, patchSize: 4, dim: 9, depth: 1, numHeads: 2 }), /multiple of numHeads/);
});

test('serialization: a tiny ViT survives toJSON / modelFromJSON with the same names and outputs', async () => {
  await tf.setBackend('cpu');
  const m = vit({ numClasses: 3, imageSize: 8, channels: 3, patchSize: 4, dim: 8, depth: 1, numHeads: 2, dropPathRate: 0.1, seed: 5 });
  const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 9);
  await checkRoundTrip(m, x);
  x.dispose();
  m.dispose();
});
