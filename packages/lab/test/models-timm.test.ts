/**
 * Outputs against timm: each tiny model gets seeded random weights (every parameter, norm scales around 1)
 * and a seeded input; the expected logits were computed by timm 1.0.29 (PyTorch 1.13, CPU) with the same
 * weights, mapped by name: `.kernel` -> `.weight` (Linear transposed, conv [kh,kw,in,out] -> [out,in,kh,kw],
 * depthwise [kh,kw,C,1] -> [C,1,kh,kw]), `.gamma/.beta` -> `.weight/.bias`, `attn.{q,k,v}` concatenated
 * into `attn.qkv`; for Swin,
 * timm 1.0 moved patch merging to the start of the next stage (`layers.{s}.downsample` ->
 * `layers.{s+1}.downsample`) and the head to `head.fc`. The float32 outputs agreed to < 1e-6.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { collectParams } from 'layerwise-lr';
import { convnext } from '../src/models/convnext.js';
import { swin } from '../src/models/swin.js';
import { vit } from '../src/models/vit.js';

function logitsWithSeededWeights(m: tf.LayersModel): number[][] {
  let seed = 100;
  for (const p of collectParams(m)) {
    const v = tf.tidy(() => {
      const r = tf.randomNormal(p.shape.slice(), 0, 0.3, 'float32', seed++);
      return p.kind === 'scale' ? r.add(1) : r;
    });
    p.variable.assign(v);
    v.dispose();
  }
  const [h, w, c] = m.inputs[0]!.shape.slice(1) as number[];
  return tf.tidy(() => (m.predict(tf.randomNormal([2, h!, w!, c!], 0, 1, 'float32', 7)) as tf.Tensor).arraySync() as number[][]);
}

function assertClose(got: number[][], want: number[][], what: string): void {
  got.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - want[i]![j]!) < 1e-4, `${what}[${i}][${j}]: ${v} vs timm ${want[i]![j]}`)));
}

test('ViT equals timm VisionTransformer (img 8, patch 4, dim 16, depth 2, heads 2)', async () => {
  await tf.setBackend('cpu');
  const m = vit({ numClasses: 5, imageSize: 8, channels: 3, patchSize: 4, dim: 16, depth: 2, numHeads: 2, seed: 1 });
  assertClose(logitsWithSeededWeights(m), [
    [0.5060163140296936, 0.8498224020004272, 2.067796468734741, -0.9111549854278564, 0.48757046461105347],
    [-0.3186590373516083, 1.7923802137374878, 2.356177568435669, -1.4571380615234375, 0.6853335499763489],
  ], 'vit');
  m.dispose();
});

test('ConvNeXt equals timm ConvNeXt (img 64, depths 1,1,2,1, dims 8..32)', async () => {
  await tf.setBackend('cpu');
  const m = convnext({ numClasses: 4, imageSize: 64, channels: 3, depths: [1, 1, 2, 1], dims: [8, 16, 24, 32], patchSize: 4, seed: 1 });
  assertClose(logitsWithSeededWeights(m), [
    [-2.7287893295288086, -0.058553002774715424, 3.1557345390319824, -3.945481300354004],
    [-3.2659120559692383, 0.16700956225395203, 4.422597408294678, -2.4503135681152344],
  ], 'convnext');
  m.dispose();
});

test('Swin equals timm SwinTransformer with shifted windows (img 32, patch 2, window 4, depths 2,2,2)', async () => {
  await tf.setBackend('cpu');
  const m = swin({
    numClasses: 4, imageSize: 32, channels: 3, patchSize: 2, windowSize: 4, embedDim: 8, depths: [2, 2, 2], numHeads: [2, 2, 4], seed: 1, dropPathRate: 0,
  });
  assertClose(logitsWithSeededWeights(m), [
    [-0.015195697546005249, 0.6186062693595886, 1.5975407361984253, -0.6797410845756531],
    [-0.15298157930374146, 0.4637683629989624, 1.6526658535003662, -0.5045371055603027],
  ], 'swin');
  m.dispose();
});
