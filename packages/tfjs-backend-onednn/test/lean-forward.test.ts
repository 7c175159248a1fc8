/**
 * The lean training forward for tfjs-layers models (src/lean-forward.ts): the same outputs and gradients as
 * tfjs-layers' own call (bit for bit, on `cpu` and on `onednn`), the same on both backends, fewer tensors alive
 * at the end of the forward, nothing leaked across training steps, inference untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectParams, SGD } from 'layerwise-lr';
import { tf, available } from './parity.js';
import { installLeanForward } from '../src/lean-forward.js';

/** Records the bytes alive when it runs (the end of the forward, before the model call returns); identity. */
class Probe extends tf.layers.Layer {
  static className = 'LeanForwardTestProbe';
  static bytes = 0;
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    Probe.bytes = tf.memory().numBytes;
    return Array.isArray(inputs) ? inputs[0]! : inputs; // the input itself: the lean forward must not dispose it
  }
}

/**
 * A residual model: conv -> BN -> relu -> conv, + skip, a layer reading one tensor twice (add([x, x])), a layer
 * used twice (shared dense), a layer that returns its input (Probe), a dense head.
 */
function buildModel(): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 3] });
  const c1 = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
  const bn = tf.layers.batchNormalization().apply(c1) as tf.SymbolicTensor;
  const r = tf.layers.activation({ activation: 'relu' }).apply(bn) as tf.SymbolicTensor;
  const c2 = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }) }).apply(r) as tf.SymbolicTensor;
  const sum = tf.layers.add().apply([c2, c1]) as tf.SymbolicTensor;
  const doubled = tf.layers.add().apply([sum, sum]) as tf.SymbolicTensor;
  const shared = tf.layers.dense({ units: 4, kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }) });
  const twice = shared.apply(tf.layers.activation({ activation: 'relu' }).apply(shared.apply(doubled)) as tf.SymbolicTensor) as tf.SymbolicTensor;
  const dense = tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotNormal({ seed: 4 }) }).apply(tf.layers.flatten().apply(twice)) as tf.SymbolicTensor;
  const out = new Probe({}).apply(dense) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/** One gradient computation and one prediction; the lean forward installed only for this run when `lean`. */
async function run(backend: string, lean: boolean) {
  await tf.setBackend(backend);
  const uninstall = lean ? installLeanForward(tf.LayersModel) : () => {};
  try {
    const model = buildModel();
    const x = tf.tensor4d(Array.from({ length: 2 * 6 * 6 * 3 }, (_, i) => Math.sin(i * 0.7)), [2, 6, 6, 3]);
    const before = tf.memory().numTensors;
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable); // the model's order
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, vars);
    const names = vars.map((v) => v.name);
    const out = { loss: (await value.data())[0]!, grads: await Promise.all(names.map((n) => grads[n]!.data())), liveAtEnd: Probe.bytes };
    tf.dispose([value, grads]);
    const pred = model.predict(x) as tf.Tensor;
    const inference = await pred.data();
    assert.equal(tf.memory().numTensors, before + 1, 'only the prediction is left');
    tf.dispose([x, pred]);
    model.dispose();
    return { ...out, inference };
  } finally {
    uninstall();
  }
}

const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>) => assert.deepEqual(Array.from(a), Array.from(b));
function close(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, what: string): void {
  const ref = Array.from(b);
  const scale = Math.max(1e-12, ...ref.map(Math.abs));
  Array.from(a).forEach((v, i) => assert.ok(Math.abs(v - ref[i]!) <= rtol * scale, `${what}[${i}]: ${v} vs ${ref[i]}`));
}

for (const backend of ['cpu', 'onednn']) {
  test(`lean forward on ${backend}: same loss, gradients and inference as tfjs-layers, fewer live bytes, no leaks`, { skip: !available }, async () => {
    const ref = await run(backend, false);
    const got = await run(backend, true);
    assert.equal(got.loss, ref.loss);
    got.grads.forEach((g, i) => sameBits(g, ref.grads[i]!));
    sameBits(got.inference, ref.inference);
    assert.ok(got.liveAtEnd < ref.liveAtEnd, `bytes alive at the end of the forward: ${got.liveAtEnd} (tfjs-layers: ${ref.liveAtEnd})`);
  });
}

test('lean forward: cpu and onednn agree (1e-5 of the largest value)', { skip: !available }, async () => {
  const ref = await run('cpu', true);
  const got = await run('onednn', true);
  close([got.loss], [ref.loss], 1e-5, 'loss');
  got.grads.forEach((g, i) => close(g, ref.grads[i]!, 1e-5, `grad ${i}`));
});

test('lean forward: 12 SGD-momentum steps, same losses as without it, tensor count stable', { skip: !available }, async () => {
  const train = async (lean: boolean) => {
    await tf.setBackend('onednn');
    const uninstall = lean ? installLeanForward(tf.LayersModel) : () => {};
    try {
      const model = buildModel();
      const sgd = new SGD(collectParams(model), { lr: 0.01, momentum: 0.9 });
      const x = tf.tensor4d(Array.from({ length: 4 * 6 * 6 * 3 }, (_, i) => Math.cos(i * 0.3)), [4, 6, 6, 3]);
      const losses: number[] = [];
      const counts: number[] = [];
      for (let s = 0; s < 12; s++) {
        const cost = sgd.minimize(() => tf.mean(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, true);
        losses.push((await cost!.data())[0]!);
        cost!.dispose();
        counts.push(tf.memory().numTensors);
      }
      sgd.dispose();
      x.dispose();
      model.dispose();
      return { losses, counts };
    } finally {
      uninstall();
    }
  };
  const ref = await train(false);
  const got = await train(true);
  assert.ok(ref.losses[11]! < ref.losses[0]!, `the run must learn: ${ref.losses}`);
  assert.deepEqual(got.losses, ref.losses);
  assert.deepEqual(new Set(got.counts.slice(1)).size, 1, `live tensors per step: ${got.counts}`);
});
