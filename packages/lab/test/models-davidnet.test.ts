import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { collectParams } from 'layerwise-lr';
import { davidnet } from '../src/models/davidnet.js';
import { zooModels } from '../src/models/zoo.js';
import { checkGradients, checkParams, checkRoundTrip, paramCount } from './models-helpers.js';

test('davidnet: 6,573,120 parameters at 10 classes (Page\'s net), names after his dict keys, kinds', () => {
  const m = zooModels['davidnet']!({ numClasses: 10, imageSize: 32, channels: 3 });
  assert.equal(paramCount(m), 6_573_120);
  checkParams(m, [
    ['prep.conv.kernel', [3, 3, 3, 64], 'kernel'],
    ['prep.bn.gamma', [64], 'scale'],
    ['prep.bn.beta', [64], 'shift'],
    ['layer1.conv.kernel', [3, 3, 64, 128], 'kernel'],
    ['layer1.residual.res1.conv.kernel', [3, 3, 128, 128], 'kernel'],
    ['layer1.residual.res2.bn.gamma', [128], 'scale'],
    ['layer2.conv.kernel', [3, 3, 128, 256], 'kernel'],
    ['layer3.residual.res2.conv.kernel', [3, 3, 512, 512], 'kernel'],
    ['linear.kernel', [512, 10], 'kernel'],
  ]);
  assert.ok(!collectParams(m).some((p) => p.name === 'linear.bias'), 'linear has no bias');
  assert.equal(collectParams(m).length, 25);
  m.dispose();
});

test('davidnet: width multiplier, output multiplier 0.125, forward shape, gradients, round trip', async () => {
  await tf.setBackend('cpu');
  const m = davidnet({ numClasses: 10, imageSize: 16, channels: 3, widthMultiplier: 1 / 16, seed: 1 });
  assert.deepEqual(collectParams(m).find((p) => p.name === 'layer3.conv.kernel')!.shape, [3, 3, 16, 32]);
  const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 5);
  const y = m.predict(x) as tf.Tensor;
  assert.deepEqual(y.shape, [2, 10]);
  // logits = 0.125 * linear(pool(...))
  const pre = tf.model({ inputs: m.inputs, outputs: m.getLayer('linear').output as tf.SymbolicTensor });
  const z = pre.predict(x) as tf.Tensor;
  const want = z.mul(0.125).dataSync();
  const got = y.dataSync();
  for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) < 1e-6);
  checkGradients(m, x, 10);
  await checkRoundTrip(m, x);
  tf.dispose([x, y, z]);
  m.dispose();
  const m2 = davidnet({ numClasses: 10, imageSize: 16, channels: 3, widthMultiplier: 1 / 16, outputScale: 1 });
  assert.equal((m2.getLayer('logits').getConfig() as { scale: number }).scale, 1);
  m2.dispose();
});
