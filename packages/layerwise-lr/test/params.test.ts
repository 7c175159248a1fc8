import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { collectParams, paramsFromVariables, kernelFans } from '../src/params.js';
import { assertRejects, useCpu } from './core-helpers.js';

await useCpu();

test('collectParams: dense + batchnorm model gives dotted names, kinds, fans in model order', () => {
  const model = tf.sequential({ layers: [
    tf.layers.dense({ units: 5, inputShape: [3], name: 'fc1' }),
    tf.layers.batchNormalization({ name: 'bn1' }),
    tf.layers.dense({ units: 2, name: 'fc2' }),
  ] });
  const params = collectParams(model);
  assert.deepEqual(params.map((p) => p.name), ['fc1.kernel', 'fc1.bias', 'bn1.gamma', 'bn1.beta', 'fc2.kernel', 'fc2.bias']);
  assert.deepEqual(params.map((p) => p.kind), ['kernel', 'bias', 'scale', 'shift', 'kernel', 'bias']);
  assert.deepEqual(params.map((p) => p.numel), [15, 5, 5, 5, 10, 2]);
  assert.deepEqual(params[0]!.shape, [3, 5]);
  assert.equal(params[0]!.fanIn, 3);
  assert.equal(params[0]!.fanOut, 5);
  assert.equal(params[1]!.fanIn, 1);
  assert.ok(params[0]!.variable instanceof tf.Variable);
  // the BN moving statistics are not trainable and not listed
  assert.ok(!params.some((p) => p.name.includes('moving')));
  model.dispose();
});

test('collectParams: names stay clean when tfjs uniquifies variable names (second model with the same layer names)', () => {
  const a = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [2], name: 'dup' })] });
  const b = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [2], name: 'dup' })] });
  assert.notEqual(b.weights[0]!.name, 'dup/kernel'); // tfjs added a suffix
  assert.deepEqual(collectParams(b).map((p) => p.name), ['dup.kernel', 'dup.bias']);
  a.dispose();
  b.dispose();
});

test('collectParams: nested models give unique prefixed names', () => {
  const inner = tf.sequential({ name: 'encoder', layers: [
    tf.layers.dense({ units: 4, inputShape: [3], name: 'fc1' }),
    tf.layers.layerNormalization({ name: 'ln' }),
  ] });
  const input = tf.input({ shape: [3] });
  const h = inner.apply(input) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 2, name: 'fc1' }).apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  const params = collectParams(model);
  assert.deepEqual(params.map((p) => p.name), [
    'encoder.fc1.kernel', 'encoder.fc1.bias', 'encoder.ln.gamma', 'encoder.ln.beta', 'fc1.kernel', 'fc1.bias',
  ]);
  assert.deepEqual(params.map((p) => p.kind), ['kernel', 'bias', 'scale', 'shift', 'kernel', 'bias']);
  model.dispose();
});

test('collectParams: conv, depthwise, separable and transposed-conv fans follow PyTorch', () => {
  const model = tf.sequential({ layers: [
    tf.layers.conv2d({ filters: 4, kernelSize: 3, inputShape: [8, 8, 2], name: 'conv', padding: 'same' }),
    tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, name: 'dw', padding: 'same' }),
    tf.layers.separableConv2d({ filters: 5, kernelSize: 3, depthMultiplier: 1, name: 'sep', padding: 'same' }),
    tf.layers.conv2dTranspose({ filters: 3, kernelSize: 2, name: 'up' }),
    tf.layers.flatten({ name: 'flat' }),
    tf.layers.dense({ units: 2, name: 'head', useBias: false }),
  ] });
  const byName = new Map(collectParams(model).map((p) => [p.name, p]));
  const conv = byName.get('conv.kernel')!; // [3,3,2,4]
  assert.deepEqual([conv.fanIn, conv.fanOut], [3 * 3 * 2, 3 * 3 * 4]);
  const dw = byName.get('dw.depthwise_kernel')!; // [3,3,4,2]: torch weight [8,1,3,3], groups 4
  assert.deepEqual(dw.shape, [3, 3, 4, 2]);
  assert.equal(dw.kind, 'kernel');
  assert.deepEqual([dw.fanIn, dw.fanOut], [9, 9 * 4 * 2]);
  assert.equal(byName.get('dw.bias')!.kind, 'bias');
  const sdw = byName.get('sep.depthwise_kernel')!; // [3,3,8,1]
  assert.deepEqual([sdw.fanIn, sdw.fanOut], [9, 9 * 8]);
  const spw = byName.get('sep.pointwise_kernel')!; // [1,1,8,5]
  assert.deepEqual([spw.fanIn, spw.fanOut], [8, 5]);
  const up = byName.get('up.kernel')!; // tfjs [2,2,out=3,in=5]; torch [5,3,2,2]: fan_in = 3*4, fan_out = 5*4
  assert.deepEqual(up.shape, [2, 2, 3, 5]);
  assert.deepEqual([up.fanIn, up.fanOut], [12, 20]);
  assert.ok(!byName.has('head.bias'));
  model.dispose();
});

test('collectParams: embedding layer, frozen layers skipped, overrides win', () => {
  const model = tf.sequential({ layers: [
    tf.layers.embedding({ inputDim: 10, outputDim: 4, inputLength: 3, name: 'tok' }),
    tf.layers.flatten({}),
    tf.layers.dense({ units: 3, name: 'frozen', trainable: false }),
    tf.layers.dense({ units: 2, name: 'head' }),
  ] });
  let params = collectParams(model);
  assert.deepEqual(params.map((p) => `${p.name}:${p.kind}`), ['tok.embeddings:embedding', 'head.kernel:kernel', 'head.bias:bias']);
  params = collectParams(model, { kindOverrides: [
    { pattern: /^head\./, kind: 'embedding' },
    { pattern: 'head.ker*', kind: 'kernel' }, // later rule wins, glob form
  ] });
  assert.deepEqual(params.map((p) => p.kind), ['embedding', 'kernel', 'embedding']);
  model.dispose();
});

test('collectParams: name patterns mark class tokens / position embeddings as embedding', () => {
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [2], name: 'pos_embed' })] });
  assert.deepEqual(collectParams(model).map((p) => p.kind), ['embedding', 'embedding']);
  model.dispose();
});

test('collectParams: an unknown 1-D weight is an error asking for an override', async () => {
  const model = tf.sequential({ layers: [
    tf.layers.dense({ units: 3, inputShape: [2], name: 'fc' }),
    tf.layers.prelu({ name: 'act' }),
  ] });
  await assertRejects(() => collectParams(model), /act\.alpha/, /kindOverrides/);
  const params = collectParams(model, { kindOverrides: [{ pattern: 'act.alpha', kind: 'scale' }] });
  assert.equal(params[2]!.kind, 'scale');
  model.dispose();
});

test('paramsFromVariables: kinds by name pattern, fans from shape, order kept', () => {
  const vars: Record<string, tf.Variable> = {
    cls_token: tf.variable(tf.zeros([1, 1, 4])),
    pos_embed: tf.variable(tf.zeros([1, 5, 4])),
    'blocks.0.attn.relative_position_bias_table': tf.variable(tf.zeros([9, 2])),
    'blocks.0.norm1.gamma': tf.variable(tf.ones([4])),
    'blocks.0.norm1.beta': tf.variable(tf.zeros([4])),
    'blocks.0.attn.q.kernel': tf.variable(tf.zeros([4, 8])),
    'blocks.0.attn.q.bias': tf.variable(tf.zeros([8])),
    'patch.weight': tf.variable(tf.zeros([2, 2, 3, 4])),
    'norm.scale': tf.variable(tf.ones([4])),
    w2: tf.variable(tf.zeros([3, 6])),
  };
  const params = paramsFromVariables(vars);
  assert.deepEqual(params.map((p) => p.name), Object.keys(vars));
  assert.deepEqual(params.map((p) => p.kind), [
    'embedding', 'embedding', 'embedding', 'scale', 'shift', 'kernel', 'bias', 'kernel', 'scale', 'kernel',
  ]);
  const patch = params[7]!;
  assert.deepEqual([patch.fanIn, patch.fanOut], [12, 16]);
  assert.deepEqual([params[5]!.fanIn, params[5]!.fanOut], [4, 8]);
  assert.deepEqual([params[0]!.fanIn, params[0]!.fanOut], [1, 1]);
  tf.dispose(Object.values(vars));
});

test('paramsFromVariables: 1-D unknown is an error; kinds, overrides and fans options', async () => {
  const vars = {
    'dw.kernel': tf.variable(tf.zeros([3, 3, 4, 1])),
    temperature: tf.variable(tf.ones([1])),
    'head.weight': tf.variable(tf.ones([3])),
  };
  await assertRejects(() => paramsFromVariables(vars), /temperature/, /kinds/);
  const params = paramsFromVariables(vars, {
    kinds: { temperature: 'scale', 'head.weight': 'scale' },
    kindOverrides: [{ pattern: 'temp*', kind: 'bias' }], // explicit kinds win over overrides
    fans: { 'dw.kernel': { fanIn: 9, fanOut: 36 } },
  });
  assert.deepEqual(params.map((p) => p.kind), ['kernel', 'scale', 'scale']);
  assert.deepEqual([params[0]!.fanIn, params[0]!.fanOut], [9, 36]);
  await assertRejects(() => paramsFromVariables(vars, { kinds: { nope: 'bias', temperature: 'scale', 'head.weight': 'scale' } }), /nope/);
  await assertRejects(() => paramsFromVariables(vars, { kinds: { temperature: 'weird' as never, 'head.weight': 'scale' } }), /unknown parameter kind 'weird'/);
  tf.dispose(Object.values(vars));
});

test('paramsFromVariables: only trainable float variables; one variable under two names is an error', async () => {
  const w = tf.variable(tf.zeros([2, 2]));
  const vars = {
    'a.kernel': w,
    'frozen.kernel': tf.variable(tf.zeros([2, 2]), false),
    'count.bias': tf.variable(tf.zeros([2], 'int32')),
  };
  assert.deepEqual(paramsFromVariables(vars).map((p) => p.name), ['a.kernel']);
  await assertRejects(() => paramsFromVariables({ 'a.kernel': w, 'b.kernel': w }), /'a\.kernel' and 'b\.kernel'/);
  tf.dispose(Object.values(vars));
});

test('kernelFans: dense, conv and depthwise conventions', () => {
  assert.deepEqual(kernelFans([7, 3]), { fanIn: 7, fanOut: 3 });
  assert.deepEqual(kernelFans([3, 3, 16, 32]), { fanIn: 144, fanOut: 288 });
  assert.deepEqual(kernelFans([3, 3, 16, 2], true), { fanIn: 9, fanOut: 9 * 32 });
  assert.deepEqual(kernelFans([5]), { fanIn: 1, fanOut: 1 });
});

test('collectParams: a weight named after its own layer is named by the layer alone (cls_token, not cls_token.cls_token)', () => {
  class Token extends tf.layers.Layer {
    static className = 'TestToken';
    override build(): void {
      this.addWeight(this.name, [1, 1, 4], 'float32', tf.initializers.zeros());
    }
    override call(x: tf.Tensor | tf.Tensor[]): tf.Tensor {
      const t = Array.isArray(x) ? x[0] : x;
      return tf.add(t, this.trainableWeights[0].read());
    }
  }
  const input = tf.input({ shape: [3, 4] });
  const out = new Token({ name: 'cls_token' }).apply(input) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  const params = collectParams(model);
  assert.deepEqual(params.map((p) => [p.name, p.kind]), [['cls_token', 'embedding']]);
  model.dispose();
});
