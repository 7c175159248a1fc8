import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildModel, modelNames } from '../src/models/registry.js';
import { zooModels, zooOptions } from '../src/models/zoo.js';
import { paramCount } from './models-helpers.js';

test('every zoo model is in the registry', () => {
  for (const name of Object.keys(zooModels)) assert.ok(modelNames().includes(name), `${name} not registered`);
  assert.deepEqual(Object.keys(zooModels).sort(), ['convnext-cpu', 'convnext-t', 'davidnet', 'swin-cpu', 'swin-t', 'vit-cpu', 'vit-s16', 'vit-tiny']);
});

test('registry options: inputShape -> imageSize/channels; the MLP width/depth flags do not reach the zoo', async () => {
  await tf.setBackend('cpu');
  const m = buildModel('davidnet', { inputShape: [32, 32, 1], numClasses: 10, width: 1024, depth: 2 });
  assert.deepEqual(m.inputs[0]!.shape, [null, 32, 32, 1]);
  assert.equal(paramCount(m), 6_573_120 - 2 * 9 * 64);
  m.dispose();
  assert.deepEqual(zooOptions({ inputShape: [28, 32, 3], numClasses: 5, dropPathRate: 0.1 }),
    { numClasses: 5, imageSize: [28, 32], channels: 3, dropPathRate: 0.1 });
  assert.throws(() => zooOptions({ inputShape: [784], numClasses: 10 }), /inputShape \[height, width, channels\]/);
});
