import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { collectParams } from 'layerwise-lr';
import { conv, resnet18, resnet50 } from '../src/models/resnet.js';

const count = (m: tf.LayersModel) => collectParams(m).reduce((a, p) => a + p.numel, 0);

test('resnet18 / resnet50 parameter counts match torchvision exactly (1000 classes, 224x224x3)', () => {
  const r18 = resnet18({ inputShape: [224, 224, 3], numClasses: 1000 });
  assert.equal(count(r18), 11_689_512);
  r18.dispose();
  const r50 = resnet50({ inputShape: [224, 224, 3], numClasses: 1000 });
  assert.equal(count(r50), 25_557_032);
  const names = collectParams(r50).map((p) => p.name);
  for (const n of ['conv1.kernel', 'bn1.gamma', 'bn1.beta', 'layer1.0.conv1.kernel', 'layer1.0.downsample.0.kernel',
    'layer1.0.downsample.1.gamma', 'layer4.2.conv3.kernel', 'layer4.2.bn3.beta', 'fc.kernel', 'fc.bias']) {
    assert.ok(names.includes(n), `missing ${n}`);
  }
  const kinds = Object.fromEntries(collectParams(r50).map((p) => [p.name, p.kind]));
  assert.equal(kinds['bn1.gamma'], 'scale');
  assert.equal(kinds['bn1.beta'], 'shift');
  assert.equal(kinds['layer2.0.conv2.kernel'], 'kernel');
  assert.equal(kinds['fc.bias'], 'bias');
  // v1.5: the stride sits on the 3x3 conv of the first block of layer2..4
  const layer = r50.getLayer('layer2.0.conv2') as unknown as { strides: number[] };
  assert.deepEqual(layer.strides, [2, 2]);
  assert.deepEqual((r50.getLayer('layer2.0.conv1') as unknown as { strides: number[] }).strides, [1, 1]);
  r50.dispose();
});

test('resnet18-cifar: forward shape, symmetric padding, finite gradients for every parameter', async () => {
  await tf.setBackend('cpu');
  const m = resnet18({ inputShape: [8, 8, 3], numClasses: 10, cifar: true, width: 4 });
  const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 3);
  const y = tf.oneHot(tf.tensor1d([1, 7], 'int32'), 10);
  const out = m.predict(x) as tf.Tensor;
  assert.deepEqual(out.shape, [2, 10]);
  const params = collectParams(m);
  const { grads, value } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, m.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, params.map((p) => p.variable));
  for (const p of params) {
    const g = grads[p.variable.name];
    assert.ok(g, `no gradient for ${p.name}`);
    assert.ok(g.dataSync().every(Number.isFinite), `non-finite gradient for ${p.name}`);
  }
  tf.dispose([x, y, out, value, grads]);
  m.dispose();
});

test('strided conv pads symmetrically as PyTorch (explicit pad + valid), not TF-same', async () => {
  await tf.setBackend('cpu');
  // 4x4 input 0..15, 3x3 kernel that picks the window centre, stride 2. PyTorch (pad 1 each side) centres the
  // windows on (0,0), (0,2), (2,0), (2,2) -> 0, 2, 8, 10; TF 'same' (pad bottom/right only) would give 5, 7, 13, 15.
  const input = tf.input({ shape: [4, 4, 1] });
  const m = tf.model({ inputs: input, outputs: conv(input, 1, 3, 2, 'c') });
  const k = new Float32Array(9);
  k[4] = 1;
  m.getLayer('c').setWeights([tf.tensor4d(k, [3, 3, 1, 1])]);
  const y = m.predict(tf.range(0, 16).reshape([1, 4, 4, 1])) as tf.Tensor;
  assert.deepEqual(Array.from(y.dataSync()), [0, 2, 8, 10]);
  m.dispose();
});
