/**
 * DavidNet: the fast CIFAR-10 ResNet of David Page ("How to train your ResNet", Myrtle.ai, 2018; the
 * DAWNBench entry), as his `torch_backend.py` / `dawn.py` `net()`:
 *
 *   prep    conv_bn(c, 64)
 *   layer1  conv_bn(64, 128), max-pool 2, residual(conv_bn(128, 128), conv_bn(128, 128))
 *   layer2  conv_bn(128, 256), max-pool 2
 *   layer3  conv_bn(256, 512), max-pool 2, residual(conv_bn(512, 512), conv_bn(512, 512))
 *   pool    max-pool over the remaining 4x4 (here a global max-pool, so any input size works)
 *   linear  Linear(512, classes, bias=False), then logits * 0.125
 *
 * conv_bn = 3x3 conv (stride 1, pad 1, no bias) -> BatchNorm (eps 1e-5, PyTorch momentum 0.1) -> ReLU; a
 * residual is x + res2(res1(x)) with no ReLU after the sum. Widths scale with `widthMultiplier`.
 *
 * Parameter names (via `collectParams`) follow Page's dict keys: `prep.conv.kernel`, `prep.bn.gamma/beta`,
 * `layer1.conv.kernel`, `layer1.bn.*`, `layer1.residual.res1.conv.kernel`, `layer1.residual.res1.bn.*`,
 * `layer1.residual.res2.*`, `layer2.*`, `layer3.*`, `linear.kernel`.
 *
 * Init: PyTorch defaults, as Page's code leaves them: conv and linear U(+-1/sqrt(fanIn)), BN gamma 1, beta 0.
 */
import * as tf from '@tensorflow/tfjs';
import { InitSeeds, checkImageOptions, torchDefaultInit, type ImageModelOptions } from './layers/common.js';
import { batchNorm } from './layers/batch-norm.js';
import { imageOptions, registerModelFamily } from './model-registry.js';

export interface DavidNetOptions extends ImageModelOptions {
  /** Multiplies every width (64, 128, 256, 512); the result is rounded, at least 1. Default 1. */
  widthMultiplier?: number;
  /** The constant the logits are multiplied by (Page's `Mul(weight)`). Default 0.125. */
  outputScale?: number;
}

type Sym = tf.SymbolicTensor;

function ap(layer: tf.layers.Layer, x: Sym | Sym[]): Sym {
  return layer.apply(x) as Sym;
}

/** Builds DavidNet; see the module doc. */
export function davidnet(opts: DavidNetOptions): tf.LayersModel {
  const [ih, iw, ic] = checkImageOptions(opts, 'davidnet');
  if (ih < 8 || iw < 8) throw new Error(`davidnet: images must be at least 8x8 (three 2x2 max-pools), got ${ih}x${iw}`);
  const mult = opts.widthMultiplier ?? 1;
  if (!(mult > 0)) throw new Error(`davidnet: widthMultiplier must be > 0, got ${mult}`);
  const scale = opts.outputScale ?? 0.125;
  if (!Number.isFinite(scale)) throw new Error(`davidnet: outputScale must be a finite number, got ${scale}`);
  const seeds = new InitSeeds(opts.seed);
  const w = (c: number) => Math.max(1, Math.round(c * mult));

  let cin = ic;
  const convBn = (x: Sym, p: string, cout: number): Sym => {
    const fanIn = 9 * cin;
    cin = cout;
    x = ap(tf.layers.conv2d({
      filters: cout, kernelSize: 3, padding: 'same', useBias: false, name: `${p}.conv`,
      kernelInitializer: torchDefaultInit(fanIn, seeds.next()),
    }), x);
    x = ap(batchNorm({ axis: -1, epsilon: 1e-5, momentum: 0.9, name: `${p}.bn` }), x);
    return ap(tf.layers.reLU({ name: `${p}.relu` }), x);
  };
  const layer = (x: Sym, p: string, cout: number, residual: boolean): Sym => {
    x = convBn(x, p, cout);
    x = ap(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `${p}.pool` }), x);
    if (!residual) return x;
    const r = convBn(convBn(x, `${p}.residual.res1`, cout), `${p}.residual.res2`, cout);
    return ap(tf.layers.add({ name: `${p}.residual.add` }), [x, r]);
  };

  const input = tf.input({ shape: [ih, iw, ic], name: 'input' });
  let x = convBn(input, 'prep', w(64));
  x = layer(x, 'layer1', w(128), true);
  x = layer(x, 'layer2', w(256), false);
  x = layer(x, 'layer3', w(512), true);
  x = ap(tf.layers.globalMaxPooling2d({ name: 'pool' }), x);
  x = ap(tf.layers.dense({
    units: opts.numClasses, useBias: false, name: 'linear', kernelInitializer: torchDefaultInit(cin, seeds.next()),
  }), x);
  const logits = ap(tf.layers.rescaling({ scale, offset: 0, name: 'logits' }), x);
  return tf.model({ inputs: input, outputs: logits, name: 'davidnet' });
}

registerModelFamily({
  family: 'davidnet',
  description: "the fast CIFAR-10 ResNet of David Page; --width-mult, --output-scale (0.125)",
  models: { davidnet: (o) => davidnet(imageOptions(o)) },
  options: ['widthMultiplier', 'outputScale'],
  torch: { matches: (names) => names.some((n) => /^prep\.conv\./.test(n)) },
  mup: {
    width: 'the width multiplier (--width-mult)',
    base: (_name, o, baseWidth) => davidnet({ ...imageOptions(o), widthMultiplier: baseWidth }),
  },
});
