/**
 * The backward pass that releases memory as it goes (src/backprop.ts): the same gradients as tfjs's own (on
 * `cpu`), intermediate gradients and saved tensors disposed as soon as they are done, nothing disposed that the
 * caller still owns, no leaks, higher-order gradients unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, available } from './parity.js';

const N = 100_000;

/** A chain of `depth` elementwise ops on x; the innermost one records the live bytes when its gradient runs. */
function chain(x: tf.Tensor, depth: number, seen: number[]): tf.Tensor {
  const probe = tf.customGrad(((a: tf.Tensor, save: tf.GradSaveFunc) => {
    save([a]);
    return {
      value: tf.mul(a, 1.5),
      gradFunc: (dy: tf.Tensor) => {
        seen.push(tf.memory().numBytes);
        return [tf.mul(dy, 1.5)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  let h = probe(x) as tf.Tensor;
  for (let i = 0; i < depth; i++) h = tf.sin(tf.add(h, 0.01 * i));
  return tf.sum(h);
}

async function gradsOn(backend: string, depth: number): Promise<{ g: Float32Array; liveAtBottom: number; tensors: number[] }> {
  await tf.setBackend(backend);
  const x = tf.tensor1d(Float32Array.from({ length: N }, (_, i) => Math.sin(i) * 0.5));
  const seen: number[] = [];
  const t0 = tf.memory().numTensors;
  const g = tf.grad((a: tf.Tensor) => chain(a, depth, seen))(x);
  const out = { g: (await g.data()) as Float32Array, liveAtBottom: seen[0]!, tensors: [t0, 0] };
  g.dispose();
  out.tensors[1] = tf.memory().numTensors;
  x.dispose();
  return out;
}

test('same gradients as tfjs, with the intermediate gradients and saved tensors released on the way', { skip: !available }, async () => {
  const depth = 30;
  const ref = await gradsOn('cpu', depth);
  const got = await gradsOn('onednn', depth);
  assert.equal(got.tensors[0], got.tensors[1], 'no tensor leaked');
  let worst = 0;
  for (let i = 0; i < N; i++) worst = Math.max(worst, Math.abs(got.g[i]! - ref.g[i]!));
  assert.ok(worst <= 1e-5, `max diff ${worst}`);
  // tfjs keeps every saved input and every intermediate gradient until the end: ~3 tensors per op level;
  // released eagerly, a few tensors of the chain are alive when the innermost gradient runs.
  const bytes = N * 4;
  assert.ok(ref.liveAtBottom > depth * 2 * bytes, `cpu backend: ${ref.liveAtBottom} bytes live (reference behaviour changed?)`);
  assert.ok(got.liveAtBottom < 8 * bytes, `onednn: ${got.liveAtBottom} bytes live at the innermost gradient`);
});

test('a caller dy, pass-through gradients and variables survive; values match cpu', { skip: !available }, async () => {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    const w = tf.variable(tf.tensor2d([[0.5, -1], [2, 0.25], [1, 1]]));
    const dy = tf.tensor2d([[1, -1], [0.5, 2]]);
    // identity-like custom gradient returning dy itself (the same tensor object)
    const passThrough = tf.customGrad(((a: tf.Tensor) => ({ value: tf.clone(a), gradFunc: (g: tf.Tensor) => [g] })) as unknown as Parameters<typeof tf.customGrad>[0]);
    const before = tf.memory().numTensors;
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => passThrough(tf.relu(tf.matMul(a, b))) as tf.Tensor)([x, w], dy);
    const vals = await Promise.all(g.map((t) => t.data()));
    assert.ok(!dy.isDisposed, 'the caller dy is not disposed');
    assert.deepEqual(Array.from(await dy.data()), [1, -1, 0.5, 2]);
    tf.dispose(g);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, w, dy]);
    return vals.map((v) => Array.from(v));
  };
  assert.deepEqual(await run('onednn'), await run('cpu'));
});

test('second-order gradients (tfjs behaviour kept)', { skip: !available }, async () => {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const x = tf.tensor1d([0.3, -1.2, 2]);
    const d2 = tf.grad((a: tf.Tensor) => tf.grad((b: tf.Tensor) => tf.sum(tf.mul(tf.sin(b), tf.mul(b, b))))(a).sum())(x);
    const v = Array.from(await d2.data());
    tf.dispose([x, d2]);
    return v;
  };
  const ref = await run('cpu');
  const got = await run('onednn');
  got.forEach((v, i) => assert.ok(Math.abs(v - ref[i]!) <= 1e-5 * Math.max(1, Math.abs(ref[i]!)), `${got} vs ${ref}`));
});

test('Add, Sub and Reshape save nothing for the backward (their gradients read shapes only); same gradients', { skip: !available }, async () => {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const x = tf.variable(tf.tensor2d([[1, -2, 3], [0.5, 4, -1]]));
    const bias = tf.variable(tf.tensor1d([0.1, 0.2, 0.3]));
    const saved: Record<string, number> = {};
    const { value, grads } = tf.variableGrads(() => {
      const h = tf.sub(tf.add(tf.mul(x, x), bias), tf.reshape(tf.mul(bias, 2), [1, 3]));
      const y = tf.sum(tf.mul(tf.reshape(h, [3, 2]), tf.tensor2d([[1, 2], [3, 4], [5, 6]])));
      const tape = (tf.engine() as unknown as { state: { activeTape: { kernelName: string; saved?: tf.Tensor[] }[] } }).state.activeTape;
      for (const n of tape) saved[n.kernelName] = (saved[n.kernelName] ?? 0) + (n.saved?.length ?? 0);
      return y as tf.Scalar;
    }, [x, bias]);
    const out = [Array.from(await grads[x.name]!.data()), Array.from(await grads[bias.name]!.data())];
    tf.dispose([value, grads, x, bias]);
    return { out, saved };
  };
  const ref = await run('cpu');
  const got = await run('onednn');
  assert.deepEqual(got.out, ref.out);
  assert.ok(ref.saved.Add! > 0 && ref.saved.Reshape! > 0, JSON.stringify(ref.saved));
  assert.equal(got.saved.Add, 0);
  assert.equal(got.saved.Sub, 0);
  assert.equal(got.saved.Reshape, 0);
});
