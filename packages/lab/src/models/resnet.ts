/**
 * ResNets as torchvision builds them (resnet18: BasicBlock [2,2,2,2]; resnet50: Bottleneck v1.5 [3,4,6,3],
 * the stride on the 3x3 conv), NHWC, with torchvision's parameter names (`conv1.kernel`, `bn1.gamma`,
 * `layer2.0.conv1.kernel`, `layer2.0.downsample.0.kernel`, `layer2.0.downsample.1.gamma`, `fc.kernel`).
 * CIFAR variants (`cifar: true`): 3x3 stride-1 stem, no max-pool.
 *
 * PyTorch semantics kept: symmetric padding (explicit zero padding + 'valid' for strided convs, where TF's
 * 'same' would pad bottom/right only), BatchNorm eps 1e-5 and momentum 0.1 (tfjs momentum 0.9), convs without
 * bias, torchvision's default init (conv kaiming-normal fan_out for ReLU, BN 1/0, Linear U(±1/sqrt(fan_in))).
 */
import * as tf from '@tensorflow/tfjs';
import { registerModelFamily } from './model-registry.js';

export interface ResNetOptions {
  inputShape: [number, number, number];
  numClasses: number;
  /** 3x3 stride-1 stem without max-pool (CIFAR). */
  cifar?: boolean;
  /** Base width (64 in torchvision). */
  width?: number;
}

type SymbolicTensor = tf.SymbolicTensor;

/** A bias-free conv with PyTorch's symmetric padding k/2 (explicit zero padding + 'valid' when strided). */
export function conv(x: SymbolicTensor, filters: number, k: number, stride: number, name: string): SymbolicTensor {
  const pad = Math.floor(k / 2);
  const fanOut = k * k * filters;
  const init = tf.initializers.randomNormal({ mean: 0, stddev: Math.sqrt(2 / fanOut) });
  let input = x;
  let padding: 'same' | 'valid' = 'same';
  if (stride !== 1 && pad > 0) {
    input = tf.layers.zeroPadding2d({ padding: pad, name: `${name}.pad` }).apply(x) as SymbolicTensor;
    padding = 'valid';
  }
  return tf.layers.conv2d({ filters, kernelSize: k, strides: stride, padding, useBias: false, kernelInitializer: init, name }).apply(input) as SymbolicTensor;
}

function bn(x: SymbolicTensor, name: string): SymbolicTensor {
  return tf.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5, name }).apply(x) as SymbolicTensor;
}

function relu(x: SymbolicTensor, name: string): SymbolicTensor {
  return tf.layers.activation({ activation: 'relu', name }).apply(x) as SymbolicTensor;
}

function basicBlock(x: SymbolicTensor, inC: number, planes: number, stride: number, p: string): { y: SymbolicTensor; outC: number } {
  let y = relu(bn(conv(x, planes, 3, stride, `${p}.conv1`), `${p}.bn1`), `${p}.relu1`);
  y = bn(conv(y, planes, 3, 1, `${p}.conv2`), `${p}.bn2`);
  const skip = stride !== 1 || inC !== planes ? bn(conv(x, planes, 1, stride, `${p}.downsample.0`), `${p}.downsample.1`) : x;
  const sum = tf.layers.add({ name: `${p}.add` }).apply([y, skip]) as SymbolicTensor;
  return { y: relu(sum, `${p}.relu2`), outC: planes };
}

function bottleneck(x: SymbolicTensor, inC: number, planes: number, stride: number, p: string): { y: SymbolicTensor; outC: number } {
  const outC = planes * 4;
  let y = relu(bn(conv(x, planes, 1, 1, `${p}.conv1`), `${p}.bn1`), `${p}.relu1`);
  y = relu(bn(conv(y, planes, 3, stride, `${p}.conv2`), `${p}.bn2`), `${p}.relu2`);
  y = bn(conv(y, outC, 1, 1, `${p}.conv3`), `${p}.bn3`);
  const skip = stride !== 1 || inC !== outC ? bn(conv(x, outC, 1, stride, `${p}.downsample.0`), `${p}.downsample.1`) : x;
  const sum = tf.layers.add({ name: `${p}.add` }).apply([y, skip]) as SymbolicTensor;
  return { y: relu(sum, `${p}.relu3`), outC };
}

function resnet(block: typeof basicBlock, layers: number[], name: string, o: ResNetOptions): tf.LayersModel {
  const w = o.width ?? 64;
  const input = tf.input({ shape: o.inputShape, name: 'input' });
  let x: SymbolicTensor;
  if (o.cifar) {
    x = relu(bn(conv(input, w, 3, 1, 'conv1'), 'bn1'), 'relu');
  } else {
    x = relu(bn(conv(input, w, 7, 2, 'conv1'), 'bn1'), 'relu');
    // PyTorch pads max-pool with -inf; after ReLU (x >= 0) zero padding gives the same result.
    x = tf.layers.zeroPadding2d({ padding: 1, name: 'maxpool.pad' }).apply(x) as SymbolicTensor;
    x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid', name: 'maxpool' }).apply(x) as SymbolicTensor;
  }
  let c = w;
  layers.forEach((n, li) => {
    for (let b = 0; b < n; b++) {
      const stride = li > 0 && b === 0 ? 2 : 1;
      const r = block(x, c, w * 2 ** li, stride, `layer${li + 1}.${b}`);
      x = r.y;
      c = r.outC;
    }
  });
  x = tf.layers.globalAveragePooling2d({ name: 'avgpool' }).apply(x) as SymbolicTensor;
  const bound = 1 / Math.sqrt(c);
  const out = tf.layers.dense({
    units: o.numClasses, name: 'fc',
    kernelInitializer: tf.initializers.randomUniform({ minval: -bound, maxval: bound }),
    biasInitializer: tf.initializers.randomUniform({ minval: -bound, maxval: bound }),
  }).apply(x) as SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name });
}

/** torchvision resnet18 (11,689,512 parameters at 1000 classes). */
export function resnet18(o: ResNetOptions): tf.LayersModel {
  return resnet(basicBlock, [2, 2, 2, 2], o.cifar ? 'resnet18-cifar' : 'resnet18', o);
}

/** torchvision resnet50, bottleneck v1.5 (25,557,032 parameters at 1000 classes). */
export function resnet50(o: ResNetOptions): tf.LayersModel {
  return resnet(bottleneck, [3, 4, 6, 3], o.cifar ? 'resnet50-cifar' : 'resnet50', o);
}

registerModelFamily({
  family: 'resnet',
  description: 'torchvision ResNets (bottleneck v1.5), BatchNorm eps 1e-5 / momentum 0.1; -cifar: 3x3 stem, no max-pool',
  models: {
    resnet18: (o) => resnet18({ inputShape: o.inputShape, numClasses: o.numClasses }),
    resnet50: (o) => resnet50({ inputShape: o.inputShape, numClasses: o.numClasses }),
    'resnet18-cifar': (o) => resnet18({ inputShape: o.inputShape, numClasses: o.numClasses, cifar: true }),
    'resnet50-cifar': (o) => resnet50({ inputShape: o.inputShape, numClasses: o.numClasses, cifar: true }),
  },
  torch: { matches: (names) => names.some((n) => /^layer1\.0\.conv1\./.test(n)) },
});
