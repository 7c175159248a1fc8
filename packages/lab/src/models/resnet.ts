/**
 * ResNets as torchvision builds them (resnet18: BasicBlock [2,2,2,2]; resnet50: Bottleneck v1.5 [3,4,6,3],
 * the stride on the 3x3 conv), NHWC, with torchvision's parameter names (`conv1.kernel`, `bn1.gamma`,
 * `layer2.0.conv1.kernel`, `layer2.0.downsample.0.kernel`, `layer2.0.downsample.1.gamma`, `fc.kernel`).
 * CIFAR variants (`cifar: true`): 3x3 stride-1 stem, no max-pool.
 *
 * `resnet20`: the CIFAR ResNet of He et al. 2016 (section 4.2): a 3x3 conv to 16 channels, three stages of
 * three basic blocks at 16, 32 and 64 channels (the first block of stages 2 and 3 with stride 2), global
 * average pooling, a linear head; 0.27 M parameters (269,722 for 32x32x3 and 10 classes). Shortcuts are the
 * paper's option A, as its CIFAR experiments used: identity, and where the shape changes the input subsampled
 * by 2 (`x[:, ::2, ::2]`) with the new channels zero-padded, half before and half after (as the common PyTorch
 * implementation, `F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4))`): no parameters.
 * Names as the torchvision ResNets (`conv1`, `bn1`, `layer{1,2,3}.{0,1,2}.conv1/bn1/conv2/bn2`, `fc`), so its
 * torch mapping is the `resnet` family's.
 *
 * PyTorch semantics kept: symmetric padding (PaddedConv2D / PaddedMaxPool2D for the strided ops, where TF's
 * 'same' would pad bottom/right only), BatchNorm eps 1e-5 and momentum 0.1 (tfjs momentum 0.9), convs without
 * bias, torchvision's default init (conv kaiming-normal fan_out for ReLU, BN 1/0, Linear U(±1/sqrt(fan_in))).
 */
import * as tf from '@tensorflow/tfjs';
import './layers/lean-forward.js';
import { BatchNormAct, batchNorm } from './layers/batch-norm.js';
import { PaddedConv2D, PaddedMaxPool2D } from './layers/padded.js';
import { registerModelFamily } from './model-registry.js';
import { InitSeeds, kaimingNormalFanOut, torchDefaultInit } from './layers/common.js';

export interface ResNetOptions {
  inputShape: [number, number, number];
  numClasses: number;
  /** 3x3 stride-1 stem without max-pool (CIFAR). */
  cifar?: boolean;
  /** Base width (64 in torchvision). */
  width?: number;
  /** Seed of the default init (each initializer gets its own seed from it); absent: unseeded. */
  seed?: number;
}

type SymbolicTensor = tf.SymbolicTensor;

/** A bias-free conv with PyTorch's symmetric padding k/2, torchvision's init N(0, 2 / fan_out) (seeded when `seed` is given). */
export function conv(x: SymbolicTensor, filters: number, k: number, stride: number, name: string, seed?: number): SymbolicTensor {
  const kernelInitializer = kaimingNormalFanOut(k * k * filters, seed);
  const pad = Math.floor(k / 2);
  // stride 1: TF's 'same' is the symmetric padding already (odd k); strided: the padding inside the op
  return (stride === 1
    ? tf.layers.conv2d({ filters, kernelSize: k, strides: 1, padding: 'same', useBias: false, kernelInitializer, name })
    : new PaddedConv2D({ filters, kernelSize: k, strides: stride, pad, useBias: false, kernelInitializer, name })
  ).apply(x) as SymbolicTensor;
}

/** torch.nn.BatchNorm2d's defaults in tfjs terms: eps 1e-5, momentum 0.1 (tfjs keeps 1 - momentum of the old value). */
const BN_ARGS = { axis: -1, momentum: 0.9, epsilon: 1e-5 } as const;

function bn(x: SymbolicTensor, name: string): SymbolicTensor {
  return batchNorm({ ...BN_ARGS, name }).apply(x) as SymbolicTensor;
}

/** `relu(bn(x))`, or `relu(bn(x) + residual)`: one fused layer (BatchNormAct), PyTorch's bn -> (add ->) relu. */
function bnRelu(x: SymbolicTensor, name: string, residual?: SymbolicTensor): SymbolicTensor {
  const layer = new BatchNormAct({ ...BN_ARGS, relu: true, name });
  return layer.apply(residual ? [x, residual] : x) as SymbolicTensor;
}

export interface ShortcutAArgs {
  name?: string;
  /** Subsampling stride of the spatial axes (1 or 2). */
  stride: number;
  /** Zero channels added before and after the input's. */
  padBefore: number;
  padAfter: number;
}

/**
 * He et al. 2016's option-A shortcut, parameter-free: `x[:, ::s, ::s, :]` (as a 1x1 average pool with stride s,
 * which the native backend runs) with `padBefore` zero channels in front and `padAfter` behind.
 */
export class ShortcutA extends tf.layers.Layer {
  static className = 'LwlrShortcutA';
  readonly stride: number;
  readonly padBefore: number;
  readonly padAfter: number;

  constructor(args: ShortcutAArgs) {
    super({ name: args.name });
    this.stride = args.stride;
    this.padBefore = args.padBefore;
    this.padAfter = args.padAfter;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      let x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
      if (this.stride > 1) x = tf.avgPool(x, 1, this.stride, 'valid');
      return this.padBefore + this.padAfter > 0 ? tf.pad(x, [[0, 0], [0, 0], [0, 0], [this.padBefore, this.padAfter]]) : x;
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, h, w, c] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const sub = (d: number | null) => (d == null ? null : Math.ceil(d / this.stride));
    return [n!, sub(h!), sub(w!), c == null ? null : c + this.padBefore + this.padAfter];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), stride: this.stride, padBefore: this.padBefore, padAfter: this.padAfter };
  }
}
tf.serialization.registerClass(ShortcutA);

type Block = (x: SymbolicTensor, inC: number, planes: number, stride: number, p: string, seeds: InitSeeds) => { y: SymbolicTensor; outC: number };

/** A basic block whose shortcut, where the shape changes, is option A (zero-padded identity; resnet20). */
function basicBlockA(x: SymbolicTensor, inC: number, planes: number, stride: number, p: string, seeds: InitSeeds): { y: SymbolicTensor; outC: number } {
  return basicBlock(x, inC, planes, stride, p, seeds, 'A');
}

function basicBlock(x: SymbolicTensor, inC: number, planes: number, stride: number, p: string, seeds: InitSeeds, shortcut: 'A' | 'B' = 'B'): { y: SymbolicTensor; outC: number } {
  let y = bnRelu(conv(x, planes, 3, stride, `${p}.conv1`, seeds.next()), `${p}.bn1`);
  y = conv(y, planes, 3, 1, `${p}.conv2`, seeds.next());
  let skip = x;
  if (stride !== 1 || inC !== planes) {
    const extra = planes - inC;
    if (shortcut === 'A' && extra < 0) throw new Error(`${p}: an option-A shortcut cannot reduce ${inC} channels to ${planes}`);
    skip = shortcut === 'A'
      ? new ShortcutA({ name: `${p}.shortcut`, stride, padBefore: Math.floor(extra / 2), padAfter: extra - Math.floor(extra / 2) }).apply(x) as SymbolicTensor
      : bn(conv(x, planes, 1, stride, `${p}.downsample.0`, seeds.next()), `${p}.downsample.1`);
  }
  return { y: bnRelu(y, `${p}.bn2`, skip), outC: planes };
}

function bottleneck(x: SymbolicTensor, inC: number, planes: number, stride: number, p: string, seeds: InitSeeds): { y: SymbolicTensor; outC: number } {
  const outC = planes * 4;
  let y = bnRelu(conv(x, planes, 1, 1, `${p}.conv1`, seeds.next()), `${p}.bn1`);
  y = bnRelu(conv(y, planes, 3, stride, `${p}.conv2`, seeds.next()), `${p}.bn2`);
  y = conv(y, outC, 1, 1, `${p}.conv3`, seeds.next());
  const skip = stride !== 1 || inC !== outC ? bn(conv(x, outC, 1, stride, `${p}.downsample.0`, seeds.next()), `${p}.downsample.1`) : x;
  return { y: bnRelu(y, `${p}.bn3`, skip), outC };
}

function resnet(block: Block, layers: number[], name: string, o: ResNetOptions): tf.LayersModel {
  const w = o.width ?? 64;
  const seeds = new InitSeeds(o.seed);
  const input = tf.input({ shape: o.inputShape, name: 'input' });
  let x: SymbolicTensor;
  if (o.cifar) {
    x = bnRelu(conv(input, w, 3, 1, 'conv1', seeds.next()), 'bn1');
  } else {
    x = bnRelu(conv(input, w, 7, 2, 'conv1', seeds.next()), 'bn1');
    x = new PaddedMaxPool2D({ poolSize: 3, strides: 2, pad: 1, name: 'maxpool' }).apply(x) as SymbolicTensor;
  }
  let c = w;
  layers.forEach((n, li) => {
    for (let b = 0; b < n; b++) {
      const stride = li > 0 && b === 0 ? 2 : 1;
      const r = block(x, c, w * 2 ** li, stride, `layer${li + 1}.${b}`, seeds);
      x = r.y;
      c = r.outC;
    }
  });
  x = tf.layers.globalAveragePooling2d({ name: 'avgpool' }).apply(x) as SymbolicTensor;
  const out = tf.layers.dense({
    units: o.numClasses, name: 'fc', kernelInitializer: torchDefaultInit(c, seeds.next()), biasInitializer: torchDefaultInit(c, seeds.next()),
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

/**
 * The CIFAR ResNet-20 of He et al. 2016, option-A shortcuts (see the module doc): 269,722 parameters at 32x32x3
 * and 10 classes (269,434 at 28x28x1).
 */
export function resnet20(o: Omit<ResNetOptions, 'cifar' | 'width'>): tf.LayersModel {
  return resnet(basicBlockA, [3, 3, 3], 'resnet20', { ...o, cifar: true, width: 16 });
}

registerModelFamily({
  family: 'resnet',
  description: 'torchvision ResNets (bottleneck v1.5), BatchNorm eps 1e-5 / momentum 0.1; -cifar: 3x3 stem, no max-pool; resnet20: He et al. 2016 CIFAR ResNet-20, option-A shortcuts',
  models: {
    resnet18: (o) => resnet18({ inputShape: o.inputShape, numClasses: o.numClasses, seed: o.seed }),
    resnet50: (o) => resnet50({ inputShape: o.inputShape, numClasses: o.numClasses, seed: o.seed }),
    'resnet18-cifar': (o) => resnet18({ inputShape: o.inputShape, numClasses: o.numClasses, cifar: true, seed: o.seed }),
    'resnet50-cifar': (o) => resnet50({ inputShape: o.inputShape, numClasses: o.numClasses, cifar: true, seed: o.seed }),
    resnet20: (o) => resnet20({ inputShape: o.inputShape, numClasses: o.numClasses, seed: o.seed }),
  },
  torch: { matches: (names) => names.some((n) => /^layer1\.0\.conv1\./.test(n)) },
});
