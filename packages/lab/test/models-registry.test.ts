// The model registry: families register themselves with what they are (builders, PyTorch naming, muP width
// family, weight-decay exclusions), and the interop, muP and --wd-exclude code read it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { collectParams } from 'layerwise-lr';
import { buildModel, isLanguageModel, modelFamilies, modelInfo, modelNames, registerModel, registerModelFamily } from '../src/models/registry.js';
import { inferTorchFamily, torchFamilies, torchFamilyOf, torchMapping } from '../src/interop/torch.js';
import { mupBaseShapes, mupModels, wdExcludeMask } from '../src/train/optimizers.js';

await tf.setBackend('cpu');

test('every model belongs to one family; the families declare their torch naming, muP width family and wd exclusions', () => {
  const names = modelNames();
  assert.deepEqual(names.slice(0, 7), ['mlp', 'resnet18', 'resnet50', 'resnet18-cifar', 'resnet50-cifar', 'resnet20', 'davidnet']);
  assert.deepEqual(modelFamilies().map((f) => f.family), ['mlp', 'resnet', 'davidnet', 'vit', 'convnext', 'swin', 'gpt']);
  assert.equal(modelFamilies().flatMap((f) => Object.keys(f.models)).length, names.length);
  assert.deepEqual(torchFamilies(), ['mlp', 'resnet', 'davidnet', 'vit', 'convnext', 'swin', 'gpt']);
  assert.deepEqual(mupModels(), ['mlp', 'davidnet', 'vit-s16', 'vit-tiny', 'vit-cpu']);
  assert.ok(isLanguageModel('gpt-tiny') && !isLanguageModel('mlp') && !isLanguageModel('lenet'));
  assert.equal(modelInfo('swin-cpu').family.family, 'swin');
  assert.throws(() => modelInfo('lenet'), /^Error: unknown model 'lenet' \(expected one of: mlp, resnet18/);
});

test("each family's torch naming recognizes its own models' parameter names, and no other family does", () => {
  const small: Record<string, [number, number, number]> = {
    mlp: [4, 4, 1], 'resnet18-cifar': [8, 8, 3], resnet20: [8, 8, 3], davidnet: [8, 8, 3], 'vit-tiny': [8, 8, 3], 'vit-cpu': [14, 14, 1],
    'convnext-cpu': [16, 16, 3], 'swin-cpu': [16, 16, 3], 'gpt-tiny': [1, 1, 1],
  };
  for (const [name, inputShape] of Object.entries(small)) {
    const model = buildModel(name, { inputShape, numClasses: 3, width: 4, widthMultiplier: 0.125 });
    const params = collectParams(model).map((p) => p.name);
    assert.equal(inferTorchFamily(params), torchFamilyOf(name), name);
    model.dispose();
  }
});

test('registering: a new family is one call (builder, torch naming); names are unique', () => {
  const tiny = (o: { inputShape: [number, number, number]; numClasses: number }) => tf.sequential({ name: 'tiny', layers: [
    tf.layers.flatten({ inputShape: o.inputShape, name: 'flat' }), tf.layers.dense({ units: o.numClasses, name: 'head' })] });
  registerModelFamily({ family: 'tiny-test', description: 'a test family', models: { 'tiny-test': tiny }, torch: { matches: (n) => n.includes('head.kernel') && n.length === 2 } });
  assert.ok(modelNames().includes('tiny-test'));
  const m = buildModel('tiny-test', { inputShape: [2, 2, 1], numClasses: 3 });
  const specs = collectParams(m).map((p) => ({ name: p.name, shape: p.shape }));
  assert.deepEqual(torchMapping(specs, { family: torchFamilyOf('tiny-test') }).entries.map((e) => [e.torch, e.shape]), [['head.weight', [3, 4]], ['head.bias', [3]]]);
  m.dispose();
  assert.throws(() => registerModel('mlp', tiny), /model 'mlp' is already registered/);
  assert.throws(() => registerModelFamily({ family: 'other', description: '', models: { 'vit-tiny': tiny } }), /model 'vit-tiny' is already registered \(by vit\)/);
  registerModel('tiny-test-2', tiny, 'tiny-test');
  assert.equal(modelInfo('tiny-test-2').family.family, 'tiny-test');
});

test('--wd-exclude: biases, norms, embeddings and the names the model declares (timm no_weight_decay) are not decayed', () => {
  const vit = buildModel('vit-tiny', { inputShape: [8, 8, 3], numClasses: 3 });
  const params = collectParams(vit);
  const mask = wdExcludeMask('vit-tiny', params);
  const decayed = params.filter((p) => mask(p)).map((p) => p.name);
  assert.ok(decayed.every((n) => n.endsWith('.kernel')), decayed.join(', '));
  assert.ok(!decayed.includes('cls_token') && !decayed.includes('pos_embed'));
  assert.deepEqual((mask as unknown as { config: { excludeFromWeightDecay: { names: string[] } } }).config.excludeFromWeightDecay.names, ['cls_token', 'pos_embed']);
  vit.dispose();
});

test("muP base shapes come from the model's registered width family; others are refused naming those that have one", () => {
  const o = { inputShape: [4, 4, 1] as [number, number, number], numClasses: 3, depth: 3 };
  assert.deepEqual(mupBaseShapes('mlp', o, 4)['fc2.kernel'], [4, 4]);
  assert.throws(() => mupBaseShapes('mlp', o, 2.5), /--mup-base-width for mlp is a hidden width, an integer >= 1 \(got 2\.5\)/);
  assert.throws(() => mupBaseShapes('resnet18', o, 4), /model 'resnet18' has no width family here \(expected mlp, davidnet, vit-s16, vit-tiny, vit-cpu\)/);
});
