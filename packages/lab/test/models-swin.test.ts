import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { collectParams } from 'layerwise-lr';
import { WindowAttention, WindowPartition, WindowReverse, shiftedWindowMask } from '../src/models/layers/window.js';
import { swin } from '../src/models/swin.js';
import { zooModels } from '../src/models/zoo.js';
import { checkGradients, checkParams, checkRoundTrip, paramCount, rms } from './models-helpers.js';

test('swin-t: 28,288,354 parameters at 1000 classes, 224x224x3; timm names; kinds', () => {
  const m = zooModels['swin-t']!({ numClasses: 1000, imageSize: 224, channels: 3 });
  assert.equal(paramCount(m), 28_288_354);
  checkParams(m, [
    ['patch_embed.proj.kernel', [4, 4, 3, 96], 'kernel'],
    ['patch_embed.norm.gamma', [96], 'scale'],
    ['layers.0.blocks.0.norm1.gamma', [96], 'scale'],
    ['layers.0.blocks.0.norm1.beta', [96], 'shift'],
    ['layers.0.blocks.1.attn.q.kernel', [96, 96], 'kernel'],
    ['layers.0.blocks.1.attn.k.bias', [96], 'bias'],
    ['layers.0.blocks.1.attn.relative_position_bias_table', [169, 3], 'embedding'],
    ['layers.2.blocks.5.attn.relative_position_bias_table', [169, 12], 'embedding'],
    ['layers.0.blocks.1.attn.proj.kernel', [96, 96], 'kernel'],
    ['layers.0.blocks.1.mlp.fc1.kernel', [96, 384], 'kernel'],
    ['layers.0.downsample.norm.gamma', [384], 'scale'],
    ['layers.0.downsample.reduction.kernel', [384, 192], 'kernel'],
    ['layers.3.blocks.1.mlp.fc2.bias', [768], 'bias'],
    ['norm.gamma', [768], 'scale'],
    ['head.kernel', [768, 1000], 'kernel'],
    ['head.bias', [1000], 'bias'],
  ]);
  const names = collectParams(m).map((p) => p.name);
  assert.ok(!names.includes('layers.0.downsample.reduction.bias'), 'reduction has no bias');
  assert.ok(!names.some((n) => n.startsWith('layers.3.downsample')), 'no merging after the last stage');
  assert.ok(!names.some((n) => n.includes('relative_position_index')), 'the index is a buffer');
  // shifted windows alternate; the 7x7 last stage is one window, unshifted (as timm)
  const cfg = (n: string) => m.getLayer(n).getConfig() as { shiftSize: number; windowSize: number };
  assert.deepEqual([cfg('layers.0.blocks.0.attn').shiftSize, cfg('layers.0.blocks.1.attn').shiftSize], [0, 3]);
  assert.deepEqual([cfg('layers.3.blocks.1.attn').shiftSize, cfg('layers.3.blocks.1.attn').windowSize], [0, 7]);
  assert.equal((m.getLayer('norm').getConfig() as { epsilon: number }).epsilon, 1e-5);
  const table = collectParams(m).find((p) => p.name === 'layers.0.blocks.0.attn.relative_position_bias_table')!;
  assert.ok(Math.abs(rms(table.variable) - 0.02) < 0.005, 'bias table ~ N(0, .02)');
  m.dispose();
});

/** Independent rule: in the rolled image, tokens i, j of one window may attend iff their original positions do not wrap around. */
function mayAttend(h: number, w: number, ws: number, s: number, a: [number, number], b: [number, number]): boolean {
  const orig = (p: [number, number]): [number, number] => [(p[0] + s) % h, (p[1] + s) % w];
  const [ar, ac] = orig(a);
  const [br, bc] = orig(b);
  return Math.abs(ar - br) < ws && Math.abs(ac - bc) < ws;
}

test('shifted-window mask: a token attends only within its region of the unshifted image', () => {
  for (const [h, w, ws, s] of [[8, 8, 4, 2], [8, 12, 4, 2], [14, 14, 7, 3]] as const) {
    const mask = shiftedWindowMask(h, w, ws, s);
    const n = ws * ws;
    const nww = w / ws;
    let blocked = 0;
    for (let win = 0; win < (h / ws) * nww; win++) {
      const pos = (t: number): [number, number] => [Math.floor(win / nww) * ws + Math.floor(t / ws), (win % nww) * ws + (t % ws)];
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const v = mask[(win * n + i) * n + j]!;
          assert.equal(v === 0, mayAttend(h, w, ws, s, pos(i), pos(j)), `${h}x${w} ws ${ws} shift ${s} window ${win} tokens ${i},${j}`);
          if (v !== 0) blocked++;
        }
      }
    }
    assert.ok(blocked > 0);
  }
});

test('shifted-window attention end to end: perturbing one pixel changes exactly the outputs allowed to see it', async () => {
  await tf.setBackend('cpu');
  const [h, w, ws, s, c] = [8, 8, 4, 2, 2];
  const input = tf.input({ shape: [h, w, c] });
  const win = new WindowPartition({ name: 'part', windowSize: ws, shiftSize: s }).apply(input) as tf.SymbolicTensor;
  const attn = new WindowAttention({ name: 'attn', numHeads: 1, windowSize: ws, shiftSize: s, resolution: [h, w] });
  const out = new WindowReverse({ name: 'rev', windowSize: ws, shiftSize: s, resolution: [h, w] }).apply(attn.apply([win, win, win]) as tf.SymbolicTensor) as tf.SymbolicTensor;
  const m = tf.model({ inputs: input, outputs: out });
  const base = tf.randomNormal([1, h, w, c], 0, 1, 'float32', 1);
  // batch: the base image, then one copy per pixel with that pixel perturbed
  const copies: tf.Tensor[] = [base];
  for (let p = 0; p < h * w; p++) {
    const delta = tf.buffer([1, h, w, c]);
    delta.set(1, 0, Math.floor(p / w), p % w, 0);
    copies.push(base.add(delta.toTensor()));
  }
  const y = (m.predict(tf.concat(copies, 0)) as tf.Tensor).arraySync() as number[][][][];
  // rolled-image coordinates of an original pixel, and its window
  const rolled = (r: number, col: number): [number, number] => [((r - s) % h + h) % h, ((col - s) % w + w) % w];
  const windowOf = (q: [number, number]) => Math.floor(q[0] / ws) * (w / ws) + Math.floor(q[1] / ws);
  for (let p = 0; p < h * w; p++) {
    const pr = rolled(Math.floor(p / w), p % w);
    for (let q = 0; q < h * w; q++) {
      const qr = rolled(Math.floor(q / w), q % w);
      const changed = y[p + 1]![Math.floor(q / w)]![q % w]!.some((v, k) => Math.abs(v - y[0]![Math.floor(q / w)]![q % w]![k]!) > 1e-5);
      const expected = windowOf(pr) === windowOf(qr) && mayAttend(h, w, ws, s, pr, qr);
      assert.equal(changed, expected, `pixel ${p} -> output ${q}`);
    }
  }
  tf.dispose([base, ...copies]);
  m.dispose();
});

test('swin-cpu: 32x32 forward shape', async () => {
  await tf.setBackend('cpu');
  const m = zooModels['swin-cpu']!({ numClasses: 10, imageSize: 32, channels: 3, seed: 1 });
  const x = tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 1);
  const y = m.predict(x) as tf.Tensor;
  assert.deepEqual(y.shape, [1, 10]);
  assert.ok(y.dataSync().every(Number.isFinite));
  tf.dispose([x, y]);
  m.dispose();
});

test('tiny Swin with shifted windows and all drops: finite gradients for every parameter, no leaks; round trip', async () => {
  await tf.setBackend('cpu');
  const m = swin({
    numClasses: 4, imageSize: 16, channels: 3, patchSize: 2, windowSize: 4, embedDim: 8, depths: [2, 2], numHeads: [2, 4],
    dropRate: 0.1, attnDropRate: 0.1, dropPathRate: 0.1, seed: 3,
  });
  assert.equal((m.getLayer('layers.0.blocks.1.attn').getConfig() as { shiftSize: number }).shiftSize, 2);
  const x = tf.randomNormal([3, 16, 16, 3], 0, 1, 'float32', 4);
  checkGradients(m, x, 4); // the first pass may cache constants
  const before = tf.memory().numTensors;
  checkGradients(m, x, 4);
  assert.equal(tf.memory().numTensors, before, 'no tensors leaked by a forward/backward pass');
  await checkRoundTrip(m, x);
  x.dispose();
  m.dispose();
});

test('swin options are checked', () => {
  assert.throws(() => swin({ numClasses: 4, imageSize: 28, channels: 3, patchSize: 2, windowSize: 4, embedDim: 8, depths: [2, 2], numHeads: [2, 4] }),
    /multiple of the window 4/);
  assert.throws(() => swin({ numClasses: 4, imageSize: 16, channels: 3, patchSize: 2, windowSize: 4, embedDim: 8, depths: [2, 2], numHeads: [3, 4] }),
    /multiple of numHeads/);
});
