/**
 * Recycling of kernel output arrays on dispose (src/kernels/shared-output-alloc.ts): arrays are reused, and
 * never while anything can still read them — values read by the user (dataSync/data), views that cpu kernels
 * make of a buffer (Unpack/Split return subarrays), aliases through Reshape/Identity, variables.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, available } from './parity.js';
import { outputAllocMode } from '../src/kernels/shared-output-alloc.js';

const N = 300_000; // above the pool threshold (256 KB)

function filled(v: number, shape: number[] = [N]): tf.Tensor {
  return tf.fill(shape, v);
}

test('outputs are released on dispose: a repeated op reuses the memory of disposed results', { skip: !available }, async () => {
  await tf.setBackend('onednn');
  const a = filled(1);
  const b = filled(2);
  for (let i = 0; i < 3; i++) tf.add(a, b).dispose();
  const backend = tf.backend() as unknown as Parameters<typeof outputAllocMode>[0];
  const before = outputAllocMode(backend);
  for (let i = 0; i < 5; i++) tf.add(a, b).dispose();
  const after = outputAllocMode(backend);
  // released on dispose (not left to GC), and the pool serves the next outputs with that memory
  assert.ok(after.released - before.released >= 5, JSON.stringify(after));
  assert.ok(after.native.hits! - before.native.hits! >= 5, JSON.stringify(after));
  tf.dispose([a, b]);
});

test('an array read with dataSync() is never reused after dispose', { skip: !available }, async () => {
  await tf.setBackend('onednn');
  const a = filled(1);
  const b = filled(2);
  const c = tf.add(a, b);
  const seen = c.dataSync();
  c.dispose();
  const others = Array.from({ length: 4 }, (_, i) => tf.add(a, filled(10 + i)));
  assert.equal(seen[0], 3);
  assert.equal(seen[N - 1], 3);
  const asyncSeen = await (tf.mul(a, b) as tf.Tensor).data();
  tf.dispose(others);
  const more = Array.from({ length: 4 }, () => tf.sub(a, b));
  assert.equal(asyncSeen[N - 1], 2);
  tf.dispose([a, b, ...more]);
});

test('views made by cpu kernels (Unpack, Split) keep the buffer alive after the source is disposed', { skip: !available }, async () => {
  await tf.setBackend('onednn');
  const a = tf.add(filled(1, [2, N]), filled(1, [2, N])); // 2s, native output
  const [u0, u1] = tf.unstack(a);
  const [s0] = tf.split(tf.add(a, 1), 2, 0);
  a.dispose();
  const noise = Array.from({ length: 6 }, (_, i) => tf.add(filled(i, [2, N]), filled(100, [2, N])));
  assert.equal(u0!.dataSync()[0], 2);
  assert.equal(u1!.dataSync()[N - 1], 2);
  assert.equal(s0!.dataSync()[N - 1], 3);
  tf.dispose([u0!, u1!, s0!, ...noise]);
});

test('reshapes and variables alias safely', { skip: !available }, async () => {
  await tf.setBackend('onednn');
  const a = tf.add(filled(1), filled(4)); // 5s
  const r = tf.reshape(a, [N / 2, 2]);
  a.dispose();
  const v = tf.variable(tf.mul(filled(1), 7));
  tf.tidy(() => {
    for (let i = 0; i < 4; i++) tf.add(filled(i), filled(1));
  });
  v.assign(tf.add(v, 1));
  tf.tidy(() => {
    for (let i = 0; i < 4; i++) tf.add(filled(i), filled(1));
  });
  assert.equal(r.dataSync()[N - 1], 5);
  assert.equal(v.dataSync()[0], 8);
  tf.dispose([r, v]);
});

test('a training loop with recycling gives the values of the cpu backend', { skip: !available }, async () => {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const w = tf.variable(tf.fill([600, 600], 0.001));
    const x = tf.fill([600, 600], 0.5);
    const opt = tf.train.sgd(0.1);
    const losses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const l = opt.minimize(() => tf.mean(tf.square(tf.sub(tf.matMul(x, w), 1))), true) as tf.Scalar;
      losses.push(l.dataSync()[0]!);
      l.dispose();
    }
    tf.dispose([w, x]);
    opt.dispose();
    return losses;
  };
  const ref = await run('cpu');
  const got = await run('onednn');
  for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(ref[i]! - got[i]!) <= 1e-4 * Math.abs(ref[i]!), `${ref} vs ${got}`);
});

test('deferred conv input gradients: computed when read, never when unused, same values, no leaks', { skip: !available }, async () => {
  await tf.setBackend('onednn');
  const backend = tf.backend() as unknown as { lazyStats: { made: number; computed: number; dropped: number }; numDataIds(): number };
  const x = tf.randomNormal([4, 9, 9, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const w = tf.variable(tf.randomNormal([3, 3, 3, 5], 0, 1, 'float32', 2)) as tf.Variable<tf.Rank.R4>;
  const b = tf.variable(tf.randomNormal([5], 0, 1, 'float32', 3));
  const loss = () => tf.sum(tf.square(tf.fused.conv2d({ x, filter: w, bias: b, strides: 1, pad: 'same' }))) as tf.Scalar;
  const ids0 = backend.numDataIds();
  const s0 = { ...backend.lazyStats };
  // Only the variables need gradients: the input gradient is made and dropped unread.
  const { value, grads } = tf.variableGrads(loss, [w, b]);
  const s1 = { ...backend.lazyStats };
  assert.ok(s1.made > s0.made && s1.dropped - s0.dropped === s1.made - s0.made && s1.computed === s0.computed, JSON.stringify([s0, s1]));
  const gw = await grads[w.name]!.data();
  tf.dispose([value, grads[w.name]!, grads[b.name]!]);
  assert.equal(backend.numDataIds(), ids0);
  // The input gradient itself, read: same values as the cpu backend.
  const dxOn = tf.grad((xx: tf.Tensor) => tf.sum(tf.square(tf.fused.conv2d({ x: xx as tf.Tensor4D, filter: w, bias: b, strides: 1, pad: 'same' }))))(x);
  const dxOnV = await dxOn.data();
  assert.ok(backend.lazyStats.computed > s1.computed);
  dxOn.dispose();
  assert.equal(backend.numDataIds(), ids0);
  await tf.setBackend('cpu');
  const [xc, wc, bc] = [x, w, b].map((t) => tf.tensor(t.dataSync(), t.shape));
  const dxCpu = tf.grad((xx: tf.Tensor) => tf.sum(tf.square(tf.fused.conv2d({ x: xx as tf.Tensor4D, filter: wc as tf.Tensor4D, bias: bc, strides: 1, pad: 'same' }))))(xc!);
  const gwCpu = tf.grad((ww: tf.Tensor) => tf.sum(tf.square(tf.fused.conv2d({ x: xc as tf.Tensor4D, filter: ww as tf.Tensor4D, bias: bc, strides: 1, pad: 'same' }))))(wc!);
  const close = (a: ArrayLike<number>, r: ArrayLike<number>, what: string) => {
    let m = 0, d = 0;
    for (let i = 0; i < r.length; i++) { m = Math.max(m, Math.abs(r[i]!)); d = Math.max(d, Math.abs(a[i]! - r[i]!)); }
    assert.ok(d <= 1e-5 * m + 1e-6, `${what}: max diff ${d} (max ${m})`);
  };
  close(dxOnV, dxCpu.dataSync(), 'dx');
  close(gw, gwCpu.dataSync(), 'dw');
  tf.dispose([xc!, wc!, bc!, dxCpu, gwCpu]);
  await tf.setBackend('onednn');
  tf.dispose([x, w, b]);
});

test('a released array is detached (a stale reference reads nothing) and its memory serves another size', { skip: !available }, async () => {
  await tf.setBackend('onednn');
  const backend = tf.backend() as unknown as { data: { get(id: object): { values: Float32Array } } } & Parameters<typeof outputAllocMode>[0];
  const a = filled(1);
  const b = tf.add(a, a);
  const stale = backend.data.get(b.dataId).values; // not through readSync: the backend does not know of it
  assert.equal(stale.length, N);
  b.dispose();
  assert.equal(stale.length, 0, 'detached on dispose');
  const small = filled(1, [Math.floor(N * 0.7)]);
  const before = outputAllocMode(backend).native;
  const c = tf.add(small, small); // 70% of the released size: served from the pool
  assert.equal(outputAllocMode(backend).native.hits! - before.hits!, 1);
  assert.equal((await c.data())[0], 2);
  tf.dispose([a, small, c]);
});
