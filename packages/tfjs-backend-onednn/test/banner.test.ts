import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { available } from '../src/index.js';

/** Runs `fn` and returns what it printed through console.warn (where tfjs's backend_util.warn goes). */
function warnings(fn: () => void): string[] {
  const seen: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => void seen.push(args.map(String).join(' '));
  try {
    fn();
  } finally {
    console.warn = original;
  }
  return seen;
}

test('with the native backend registered, the cpu backend prints no tfjs-node banner (now or made later)', { skip: !available }, async () => {
  assert.ok(await tf.setBackend('cpu'));
  const first = warnings(() => tf.dispose(tf.tensor1d([1, 2, 3])));
  assert.deepEqual(first.filter((w) => /looks like you are running TensorFlow\.js/.test(w)), []);
  // a cpu backend the engine makes afterwards (the factory is wrapped, not just the instance)
  const made = (await tf.engine().registryFactory.cpu!.factory()) as unknown as { firstUse: boolean; dispose(): void };
  assert.equal(made.firstUse, false);
  made.dispose();
  await tf.setBackend('onednn');
});
