import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, available } from '../src/index.js';

test('selectBackend: names, auto preference, errors', async () => {
  assert.equal(await selectBackend('cpu'), 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  if (available) {
    assert.equal(await selectBackend('onednn'), 'onednn');
    // tfjs-node is not installed here: auto must pick onednn, with no warning.
    const warnings: string[] = [];
    assert.equal(await selectBackend('auto', (m) => warnings.push(m)), 'onednn');
    assert.deepEqual(warnings, []);
  }
  await assert.rejects(selectBackend('tensorflow'), /backend 'tensorflow' unavailable: .*npm install @tensorflow\/tfjs-node/);
  await assert.rejects(selectBackend('gpu' as never), /unknown backend 'gpu'/);
  await selectBackend('cpu');
});
