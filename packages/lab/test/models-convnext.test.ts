import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { collectParams } from 'layerwise-lr';
import { convnext } from '../src/models/convnext.js';
import { zooModels } from '../src/models/zoo.js';
import { checkGradients, checkParams, checkRoundTrip, paramCount, rms } from './models-helpers.js';

test('convnext-t: 28,589,128 parameters at 1000 classes, 224x224x3; timm names; kinds and fans', () => {
  const m = zooModels['convnext-t']!({ numClasses: 1000, imageSize: 224, channels: 3 });
  assert.equal(paramCount(m), 28_589_128);
  checkParams(m, [
    ['stem.0.kernel', [4, 4, 3, 96], 'kernel'],
    ['stem.0.bias', [96], 'bias'],
    ['stem.1.gamma', [96], 'scale'],
    ['stages.0.blocks.0.conv_dw.depthwise_kernel', [7, 7, 96, 1], 'kernel'],
    ['stages.0.blocks.0.conv_dw.bias', [96], 'bias'],
    ['stages.0.blocks.0.norm.gamma', [96], 'scale'],
    ['stages.0.blocks.0.norm.beta', [96], 'shift'],
    ['stages.0.blocks.0.mlp.fc1.kernel', [96, 384], 'kernel'],
    ['stages.0.blocks.0.mlp.fc2.bias', [96], 'bias'],
    ['stages.0.blocks.0.gamma', [96], 'scale'],
    ['stages.2.blocks.8.gamma', [384], 'scale'],
    ['stages.1.downsample.0.gamma', [96], 'scale'],
    ['stages.1.downsample.1.kernel', [2, 2, 96, 192], 'kernel'],
    ['stages.3.blocks.2.mlp.fc2.kernel', [3072, 768], 'kernel'],
    ['head.norm.gamma', [768], 'scale'],
    ['head.fc.kernel', [768, 1000], 'kernel'],
    ['head.fc.bias', [1000], 'bias'],
  ]);
  const byName = new Map(collectParams(m).map((p) => [p.name, p]));
  // depthwise fans as PyTorch's [C, 1, 7, 7] weight: fanIn 49, fanOut 49 * C
  const dw = byName.get('stages.0.blocks.0.conv_dw.depthwise_kernel')!;
  assert.deepEqual([dw.fanIn, dw.fanOut], [49, 49 * 96]);
  // layer scale init 1e-6, conv/linear N(0, .02), biases 0, LayerNorm eps 1e-6
  assert.ok(byName.get('stages.0.blocks.0.gamma')!.variable.dataSync().every((v) => Math.abs(v - 1e-6) < 1e-12));
  assert.ok(Math.abs(rms(byName.get('stages.0.blocks.0.mlp.fc1.kernel')!.variable) - 0.02) < 0.001);
  assert.ok(Math.abs(rms(byName.get('stages.0.blocks.0.conv_dw.depthwise_kernel')!.variable) - 0.02) < 0.002);
  assert.ok(byName.get('stem.0.bias')!.variable.dataSync().every((v) => v === 0));
  assert.equal((m.getLayer('stages.0.blocks.0.norm').getConfig() as { epsilon: number }).epsilon, 1e-6);
  m.dispose();
});

test('convnext-cpu: 32x32 forward shape', async () => {
  await tf.setBackend('cpu');
  const m = zooModels['convnext-cpu']!({ numClasses: 10, imageSize: 32, channels: 3, seed: 1 });
  const x = tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 1);
  const y = m.predict(x) as tf.Tensor;
  assert.deepEqual(y.shape, [1, 10]);
  assert.ok(y.dataSync().every(Number.isFinite));
  tf.dispose([x, y]);
  m.dispose();
});

test('tiny ConvNeXt with drop path: finite gradients for every parameter, no leaks; round trip', async () => {
  await tf.setBackend('cpu');
  const m = convnext({ numClasses: 4, imageSize: 8, channels: 3, depths: [1, 2], dims: [8, 16], patchSize: 2, dropPathRate: 0.2, seed: 2 });
  const x = tf.randomNormal([3, 8, 8, 3], 0, 1, 'float32', 4);
  checkGradients(m, x, 4); // the first pass may cache constants
  const before = tf.memory().numTensors;
  checkGradients(m, x, 4);
  assert.equal(tf.memory().numTensors, before, 'no tensors leaked by a forward/backward pass');
  await checkRoundTrip(m, x);
  x.dispose();
  m.dispose();
});

test('convnext options are checked; layer scale can be switched off', () => {
  assert.throws(() => convnext({ numClasses: 4, imageSize: 12, channels: 3, depths: [1, 1], dims: [8, 16], patchSize: 4 }), /multiple of 8/);
  assert.throws(() => convnext({ numClasses: 4, imageSize: 8, channels: 3, depths: [1, 1], dims: [8] }), /same length/);
  const m = convnext({ numClasses: 4, imageSize: 8, channels: 3, depths: [1], dims: [8], patchSize: 2, layerScaleInit: null });
  assert.ok(!collectParams(m).some((p) => /blocks\.\d+\.gamma$/.test(p.name)));
  m.dispose();
});
