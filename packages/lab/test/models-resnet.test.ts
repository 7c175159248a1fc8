import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { collectParams } from 'layerwise-lr';
import { conv, resnet18, resnet20, resnet50 } from '../src/models/resnet.js';
import { BatchNormAct } from '../src/models/layers/batch-norm.js';
import { PaddedConv2D, PaddedMaxPool2D } from '../src/models/layers/padded.js';
import { checkGradients, checkRoundTrip } from './models-helpers.js';
import { torchFamilyOf, torchMapping } from '../src/interop/torch.js';

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

test('strided conv pads symmetrically as PyTorch (PaddedConv2D), not TF-same, on cpu and onednn', async () => {
  // 4x4 input 0..15, 3x3 kernel that picks the window centre, stride 2. PyTorch (pad 1 each side) centres the
  // windows on (0,0), (0,2), (2,0), (2,2) -> 0, 2, 8, 10; TF 'same' (pad bottom/right only) would give 5, 7, 13, 15.
  for (const backend of ['cpu', 'onednn']) {
    await tf.setBackend(backend);
    const input = tf.input({ shape: [4, 4, 1] });
    const m = tf.model({ inputs: input, outputs: conv(input, 1, 3, 2, 'c') });
    const k = new Float32Array(9);
    k[4] = 1;
    m.getLayer('c').setWeights([tf.tensor4d(k, [3, 3, 1, 1])]);
    const y = m.predict(tf.range(0, 16).reshape([1, 4, 4, 1])) as tf.Tensor;
    assert.deepEqual(Array.from(y.dataSync()), [0, 2, 8, 10], backend);
    m.dispose();
  }
  await tf.setBackend('cpu');
});

test('PaddedConv2D and PaddedMaxPool2D: values and gradients equal explicit padding + valid op; max pool ignores the padding; config round trip', async () => {
  const rand = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);
  for (const backend of ['cpu', 'onednn']) {
    await tf.setBackend(backend);
    // a 7x7 stride-2 pad-3 conv (the ResNet stem) and a 3x3 stride-2 pad-1 one, odd and even input sizes
    for (const [k, s, p, h] of [[7, 2, 3, 11], [3, 2, 1, 8], [3, 2, 1, 9]] as const) {
      const layer = new PaddedConv2D({ filters: 5, kernelSize: k, strides: s, pad: p, useBias: true, biasInitializer: 'randomNormal', name: 'pc' });
      const x = rand([2, h, h, 3], 1);
      const y = layer.apply(x) as tf.Tensor;
      const [kernel, bias] = layer.getWeights();
      const ref = tf.add(tf.conv2d(tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]]) as tf.Tensor4D, kernel as tf.Tensor4D, s, 'valid'), bias!);
      assert.deepEqual(y.shape, ref.shape);
      assert.deepEqual(layer.computeOutputShape([null, h, h, 3]), [null, ...ref.shape.slice(1)]);
      assert.ok(tf.max(tf.abs(tf.sub(y, ref))).dataSync()[0]! < 1e-5, `${backend} conv k${k} h${h}`);
      const dy = rand(ref.shape, 2);
      const gx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(layer.apply(a) as tf.Tensor, dy)))(x);
      const gref = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(tf.pad(a, [[0, 0], [p, p], [p, p], [0, 0]]) as tf.Tensor4D, kernel as tf.Tensor4D, s, 'valid'), dy)))(x);
      assert.ok(tf.max(tf.abs(tf.sub(gx, gref))).dataSync()[0]! < 1e-4, `${backend} conv grad k${k} h${h}`);
      const again = tf.serialization.SerializationMap.getMap().classNameMap[PaddedConv2D.className]![0];
      const config = layer.getConfig();
      assert.equal(config.pad, p);
      assert.equal((new (again as unknown as new (c: unknown) => PaddedConv2D)(config)).pad, p);
    }
    // max pool 3x3 stride 2 pad 1 over negative values: PyTorch (-inf padding) never picks a padded zero
    const pool = new PaddedMaxPool2D({ poolSize: 3, strides: 2, pad: 1, name: 'mp' });
    const xneg = tf.sub(tf.abs(rand([2, 8, 8, 3], 3)), 5);
    const yp = pool.apply(xneg) as tf.Tensor;
    assert.deepEqual(yp.shape, [2, 4, 4, 3]);
    const ref = tf.maxPool(tf.pad(xneg, [[0, 0], [1, 1], [1, 1], [0, 0]], -1e9) as tf.Tensor4D, 3, 2, 'valid');
    assert.ok(tf.max(tf.abs(tf.sub(yp, ref))).dataSync()[0]! === 0, `${backend} max pool`);
    assert.ok(tf.max(yp).dataSync()[0]! < 0, 'a padded zero won');
    const dyp = rand([2, 4, 4, 3], 4);
    const gp = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(pool.apply(a) as tf.Tensor, dyp)))(xneg);
    const gpref = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(tf.pad(a, [[0, 0], [1, 1], [1, 1], [0, 0]], -1e9) as tf.Tensor4D, 3, 2, 'valid'), dyp)))(xneg);
    assert.ok(tf.max(tf.abs(tf.sub(gp, gpref))).dataSync()[0]! < 1e-6, `${backend} max pool grad`);
  }
  assert.throws(() => new PaddedConv2D({ filters: 1, kernelSize: 3, pad: -1 }), /pad must be an integer >= 0/);
  await tf.setBackend('cpu');
});

test('BatchNormAct (bn -> add -> relu in one layer): training values, moving statistics and gradients equal tfjs-layers BatchNormalization + add + relu; inference too; config round trip', async () => {
  for (const backend of ['cpu', 'onednn']) {
    await tf.setBackend(backend);
    for (const withResidual of [true, false]) {
      const x = tf.add(tf.mul(tf.randomNormal([4, 5, 5, 6], 0, 1, 'float32', 7), 2), 1);
      const res = tf.randomNormal([4, 5, 5, 6], 0, 1, 'float32', 8);
      const dy = tf.randomNormal([4, 5, 5, 6], 0, 1, 'float32', 9);
      const args = { axis: -1, momentum: 0.9, epsilon: 1e-5, gammaInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: 3 }), betaInitializer: tf.initializers.randomNormal({ seed: 4 }) };
      const fused = new BatchNormAct({ ...args, relu: true, name: 'f' });
      const plain = tf.layers.batchNormalization({ ...args, name: 'p' });
      const run = (training: boolean) => {
        const f = (a: tf.Tensor, r: tf.Tensor) => tf.sum(tf.mul(fused.apply(withResidual ? [a, r] : a, { training }) as tf.Tensor, dy));
        const p = (a: tf.Tensor, r: tf.Tensor) => {
          const b = plain.apply(a, { training }) as tf.Tensor;
          return tf.sum(tf.mul(tf.relu(withResidual ? tf.add(b, r) : b), dy));
        };
        if (withResidual) return [tf.grads(f)([x, res]), tf.grads(p)([x, res])];
        return [tf.grads((a: tf.Tensor) => f(a, res))([x]), tf.grads((a: tf.Tensor) => p(a, res))([x])];
      };
      for (const training of [true, false]) {
        const [gf, gp] = run(training);
        for (let i = 0; i < gf.length; i++) {
          const d = tf.max(tf.abs(tf.sub(gf[i]!, gp[i]!))).dataSync()[0]!;
          assert.ok(d < 2e-5, `${backend} residual ${withResidual} training ${training} grad ${i}: ${d}`);
        }
        const vf = fused.apply(withResidual ? [x, res] : x, { training }) as tf.Tensor;
        const b = plain.apply(x, { training }) as tf.Tensor;
        const vp = tf.relu(withResidual ? tf.add(b, res) : b);
        assert.ok(tf.max(tf.abs(tf.sub(vf, vp))).dataSync()[0]! < 2e-5, `${backend} values`);
      }
      // the moving statistics moved the same (each layer ran the same training-mode calls)
      const [, , fm, fv] = fused.getWeights();
      const [, , pm, pv] = plain.getWeights();
      assert.ok(tf.max(tf.abs(tf.sub(fm!, pm!))).dataSync()[0]! < 1e-5 && tf.max(tf.abs(tf.sub(fv!, pv!))).dataSync()[0]! < 1e-4, `${backend} moving statistics`);
      assert.deepEqual(fused.getWeights().map((w) => w.shape), plain.getWeights().map((w) => w.shape));
    }
  }
  const layer = new BatchNormAct({ axis: -1, relu: true, name: 'r' });
  const input = tf.input({ shape: [3, 3, 2] });
  assert.throws(() => layer.apply([input, tf.input({ shape: [3, 3, 4] })]), /residual's shape/);
  // a model with the new layers survives toJSON -> modelFromJSON (same outputs after copying the weights)
  await tf.setBackend('cpu');
  const inp = tf.input({ shape: [8, 8, 2] });
  const c = new PaddedConv2D({ filters: 2, kernelSize: 3, strides: 2, pad: 1, name: 'c' }).apply(inp) as tf.SymbolicTensor;
  const pooled = new PaddedMaxPool2D({ poolSize: 3, strides: 2, pad: 1, name: 'mp' }).apply(inp) as tf.SymbolicTensor;
  const out = new BatchNormAct({ axis: -1, relu: true, name: 'bn', betaInitializer: 'randomNormal' }).apply([c, pooled]) as tf.SymbolicTensor;
  const m = tf.model({ inputs: inp, outputs: out });
  const copy = await tf.models.modelFromJSON({ modelTopology: m.toJSON(null, false) as tf.io.ModelJSON['modelTopology'] });
  copy.setWeights(m.getWeights());
  assert.deepEqual(copy.layers.map((l) => l.getClassName()), m.layers.map((l) => l.getClassName()));
  const xin = tf.randomNormal([2, 8, 8, 2], 0, 1, 'float32', 5);
  assert.deepEqual(Array.from((copy.predict(xin) as tf.Tensor).dataSync()), Array.from((m.predict(xin) as tf.Tensor).dataSync()));
});

// ResNet-20 (He et al. 2016, CIFAR, option-A shortcuts) against PyTorch (test/fixtures/gen-resnet20-torch.py,
// /usr/bin/python3, torch 1.13, float64): parameter k in parameter order, element i in the tfjs layout, gets
// 0.3 sin(k + 0.37 i), conv kernels times sqrt(3 / fan_in), BN scales + 1; the NHWC input is 0.3 sin(99 + 0.37 i);
// BatchNorm in inference mode (running statistics 0 and 1). The torch model, in short:
//   class Block(nn.Module):
//       def __init__(s, cin, planes, stride):
//           s.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False); s.bn1 = nn.BatchNorm2d(planes)
//           s.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False); s.bn2 = nn.BatchNorm2d(planes)
//       def forward(s, x):
//           y = s.bn2(s.conv2(F.relu(s.bn1(s.conv1(x)))))
//           if s.stride != 1 or s.pad:   # option A: subsample, zero channels half before, half after
//               x = F.pad(x[:, :, ::s.stride, ::s.stride], (0, 0, 0, 0, s.pad // 2, s.pad - s.pad // 2))
//           return F.relu(y + x)
//   ResNet20: relu(bn1(conv1(x))) -> layer1..3 (3 Blocks each at 16/32/64, stride 2 first in 2 and 3) -> mean -> fc
// (float32 torch agrees with these float64 numbers to 1e-7: the comparison is well conditioned.)
const R20_TORCH: Record<string, number[][]> = {
  '28x28x1-10': [
    [0.3660811, 0.3940486, 0.3686835, 0.2934188, 0.1784413, 0.0393125, -0.105137, -0.2353567, -0.333722, -0.3869196],
    [0.366638, 0.3927407, 0.3656878, 0.2891407, 0.1734598, 0.034302, -0.1094985, -0.2384789, -0.3351822, -0.3865203],
  ],
  '32x32x3-4': [[0.2520419, 0.2617547, 0.2360401, 0.1783787], [0.2502444, 0.2595705, 0.233765, 0.1763205]],
};

test('resnet20: 0.27 M parameters exactly (He et al. option A), torchvision names, no shortcut parameters, 28x28x1 and 32x32x3', async () => {
  await tf.setBackend('cpu');
  const cifar = resnet20({ inputShape: [32, 32, 3], numClasses: 10 });
  assert.equal(count(cifar), 269_722);
  const names = collectParams(cifar).map((p) => p.name);
  assert.equal(names.length, 59);
  assert.deepEqual(names.slice(0, 7), ['conv1.kernel', 'bn1.gamma', 'bn1.beta', 'layer1.0.conv1.kernel', 'layer1.0.bn1.gamma', 'layer1.0.bn1.beta', 'layer1.0.conv2.kernel']);
  assert.deepEqual(names.slice(-2), ['fc.kernel', 'fc.bias']);
  assert.ok(!names.some((n) => /downsample|shortcut/.test(n)), 'option A has no shortcut parameters');
  assert.deepEqual(collectParams(cifar).find((p) => p.name === 'layer3.2.conv2.kernel')!.shape, [3, 3, 64, 64]);
  assert.deepEqual((cifar.getLayer('layer2.0.conv1') as unknown as { strides: number[] }).strides, [2, 2]);
  // PyTorch names: the torchvision ResNets' (the resnet family of lwlr convert)
  const torch = torchMapping(collectParams(cifar), { family: torchFamilyOf('resnet20') });
  assert.deepEqual(torch.entries.slice(0, 3).map((e) => e.torch), ['conv1.weight', 'bn1.weight', 'bn1.bias']);
  assert.ok(torch.entries.some((e) => e.torch === 'layer3.2.conv2.weight' && e.shape.join() === '64,64,3,3'));
  cifar.dispose();
  const fm = resnet20({ inputShape: [28, 28, 1], numClasses: 10 });
  assert.equal(count(fm), 269_434);
  assert.deepEqual(fm.getLayer('layer2.0.shortcut').outputShape, [null, 14, 14, 32]);
  assert.deepEqual(fm.getLayer('layer3.0.shortcut').outputShape, [null, 7, 7, 64]);
  fm.dispose();
});

test('resnet20 equals the PyTorch option-A ResNet-20 (inference-mode BatchNorm), 28x28x1 and 32x32x3; round trip; gradients', async () => {
  await tf.setBackend('cpu');
  for (const [key, want] of Object.entries(R20_TORCH)) {
    const [hw, classes] = key.split('-');
    const [h, , c] = hw!.split('x').map(Number) as [number, number, number];
    const m = resnet20({ inputShape: [h, h, c], numClasses: Number(classes) });
    collectParams(m).forEach((p, k) => {
      const gain = p.kind === 'kernel' && p.shape.length === 4 ? Math.sqrt(3 / (p.shape[0]! * p.shape[1]! * p.shape[2]!)) : 1;
      const v = Array.from({ length: p.numel }, (_, i) => 0.3 * Math.sin(k + 0.37 * i) * gain + (p.kind === 'scale' ? 1 : 0));
      p.variable.assign(tf.tensor(v, [...p.shape]));
    });
    const x = tf.tensor(Array.from({ length: 2 * h * h * c }, (_, i) => 0.3 * Math.sin(99 + 0.37 * i)), [2, h, h, c]);
    const got = tf.tidy(() => (m.predict(x) as tf.Tensor).arraySync() as number[][]);
    got.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - want[i]![j]!) < 2e-5, `${key}[${i}][${j}]: ${v} vs torch ${want[i]![j]}`)));
    await checkRoundTrip(m, x);
    checkGradients(m, x, Number(classes));
    x.dispose();
    m.dispose();
  }
});

test('ResNet and MLP default inits are seeded: the same seed builds the same weights, another seed others (--train-init default)', async () => {
  await tf.setBackend('cpu');
  const { buildModel } = await import('../src/models/registry.js');
  for (const name of ['resnet20', 'resnet18-cifar', 'mlp']) {
    const build = (seed: number) => buildModel(name, { inputShape: [8, 8, 1], numClasses: 3, width: 16, seed });
    const [a, b, c] = [build(1), build(1), build(2)];
    const values = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
    assert.deepEqual(values(a), values(b), `${name}: same seed`);
    assert.notDeepEqual(values(a), values(c), `${name}: another seed`);
    // torchvision's conv init N(0, 2 / fan_out) is kept
    if (name !== 'mlp') {
      const k = collectParams(a).find((p) => p.name === 'layer1.0.conv1.kernel')!;
      const d = Array.from(k.variable.dataSync() as Float32Array);
      const std = Math.sqrt(d.reduce((s, v) => s + v * v, 0) / d.length);
      assert.ok(Math.abs(std / Math.sqrt(2 / (9 * k.shape[3]!)) - 1) < 0.25, `${name}: conv std ${std}`);
    }
    [a, b, c].forEach((m) => m.dispose());
  }
});
