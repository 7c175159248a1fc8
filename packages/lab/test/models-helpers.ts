/** Shared checks of the model-zoo tests. */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { collectParams } from 'layerwise-lr';

/** Total number of trainable parameters, as collectParams finds them. */
export const paramCount = (m: tf.LayersModel): number => collectParams(m).reduce((a, p) => a + p.numel, 0);

/** One training-mode backward pass of a cross-entropy loss: every parameter gets a finite, not all-zero gradient. */
export function checkGradients(m: tf.LayersModel, x: tf.Tensor, numClasses: number): void {
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from({ length: x.shape[0]! }, (_, i) => i % numClasses), 'int32'), numClasses));
  const params = collectParams(m);
  const { grads, value } = tf.variableGrads(
    () => tf.losses.softmaxCrossEntropy(y, m.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, params.map((p) => p.variable));
  assert.ok(Number.isFinite(value.dataSync()[0]!), 'finite loss');
  for (const p of params) {
    const g = grads[p.variable.name];
    assert.ok(g, `no gradient for ${p.name}`);
    const d = g.dataSync();
    assert.ok(d.every(Number.isFinite), `non-finite gradient for ${p.name}`);
    assert.ok(d.some((v) => v !== 0), `all-zero gradient for ${p.name}`);
  }
  tf.dispose([y, value, grads]);
}

/** Asserts name -> [shape, kind] for the listed parameters. */
export function checkParams(m: tf.LayersModel, expected: ReadonlyArray<[string, number[], string]>): void {
  const byName = new Map(collectParams(m).map((p) => [p.name, p]));
  for (const [name, shape, kind] of expected) {
    const p = byName.get(name);
    assert.ok(p, `missing ${name}`);
    assert.deepEqual(p.shape, shape, name);
    assert.equal(p.kind, kind, name);
  }
}

/** toJSON -> modelFromJSON -> same weights: same parameter names and the same outputs. */
export async function checkRoundTrip(m: tf.LayersModel, x: tf.Tensor): Promise<void> {
  const copy = await tf.models.modelFromJSON({ modelTopology: m.toJSON(null, false) as tf.io.ModelJSON['modelTopology'] });
  assert.deepEqual(collectParams(copy).map((p) => p.name), collectParams(m).map((p) => p.name));
  copy.setWeights(m.getWeights());
  const a = m.predict(x) as tf.Tensor;
  const b = copy.predict(x) as tf.Tensor;
  assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));
  tf.dispose([a, b]);
  copy.dispose();
}

/** Standard deviation of a tensor's values around 0. */
export function rms(t: tf.Tensor): number {
  const d = t.dataSync();
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i]! * d[i]!;
  return Math.sqrt(s / d.length);
}
