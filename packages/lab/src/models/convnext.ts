/**
 * ConvNeXt (Liu et al. 2022) as timm's `ConvNeXt` (`convnext_tiny`): patchify stem (4x4 conv, stride 4,
 * LayerNorm), four stages of blocks, LayerNorm + 2x2/2 conv downsampling between stages, global average
 * pool, LayerNorm, linear head. Block: depthwise 7x7 conv -> LayerNorm (eps 1e-6) -> Linear(4C) -> GELU
 * (exact) -> Linear(C) -> layer scale gamma (init 1e-6) -> stochastic depth -> + input. Channels-last
 * throughout, so timm's `LayerNorm2d` is a LayerNorm over the last axis.
 *
 * Parameter names (via `collectParams`), timm's with tfjs's weight names: `stem.0.kernel/bias`,
 * `stem.1.gamma/beta`, `stages.{s}.downsample.0.gamma/beta` (LayerNorm), `stages.{s}.downsample.1.kernel/bias`,
 * `stages.{s}.blocks.{b}.conv_dw.depthwise_kernel/bias` (tfjs's name for a depthwise kernel; collectParams
 * gives it depthwise fans), `stages.{s}.blocks.{b}.norm.gamma/beta`, `stages.{s}.blocks.{b}.mlp.fc1.*`,
 * `stages.{s}.blocks.{b}.mlp.fc2.*`, `stages.{s}.blocks.{b}.gamma` (layer scale, kind `scale`),
 * `head.norm.gamma/beta`, `head.fc.kernel/bias`.
 *
 * Init as timm: every conv and Linear kernel N(0, .02^2) (timm `trunc_normal_(std=.02)`), biases 0,
 * LayerNorm 1 / 0, gamma = layerScaleInit; the head kernel times `headInitScale` (1).
 */
import * as tf from '@tensorflow/tfjs';
import { InitSeeds, checkImageOptions, checkInt, checkRate, dropPathRates, truncNormal, type ImageModelOptions } from './layers/common.js';
import { DropPath } from './layers/drop.js';
import { gelu } from './layers/gelu.js';
import { LayerNorm } from './layers/layer-norm.js';
import { LayerScale } from './layers/layer-scale.js';
import { imageOptions, registerModelFamily, type ModelOptions } from './model-registry.js';

export interface ConvNextOptions extends ImageModelOptions {
  /** Blocks per stage (ConvNeXt-T: [3, 3, 9, 3]). */
  depths: readonly number[];
  /** Channels per stage (ConvNeXt-T: [96, 192, 384, 768]). */
  dims: readonly number[];
  /** Stem patch size (4). */
  patchSize?: number;
  /** Depthwise kernel size (7). */
  kernelSize?: number;
  /** MLP hidden width = mlpRatio * C (4). */
  mlpRatio?: number;
  /** Initial layer-scale value (1e-6); 0 or null: no layer scale. */
  layerScaleInit?: number | null;
  /** Stochastic depth of the last block, linear from 0 over all blocks (timm `drop_path_rate`, 0). */
  dropPathRate?: number;
  /** Multiplies the head's init (timm `head_init_scale`, 1). */
  headInitScale?: number;
  /** LayerNorm eps (1e-6, as timm's ConvNeXt). */
  layerNormEps?: number;
}

export const CONVNEXT_PRESETS = {
  'convnext-t': { depths: [3, 3, 9, 3], dims: [96, 192, 384, 768], patchSize: 4 },
  /**
   * CPU-sized, for 32x32 inputs: 2x2 stem, 16 -> 8 -> 4 -> 2. (timm's `patch_size=2` would instead add a
   * stride-2 downsample to stage 0 to keep the stride-4 stem; this preset does not.)
   */
  'convnext-cpu': { depths: [1, 1, 2, 1], dims: [32, 64, 128, 256], patchSize: 2 },
} as const satisfies Record<string, Partial<ConvNextOptions>>;

type Sym = tf.SymbolicTensor;

function ap(layer: tf.layers.Layer, x: Sym | Sym[]): Sym {
  return layer.apply(x) as Sym;
}

/** Builds a ConvNeXt; see the module doc. */
export function convnext(opts: ConvNextOptions): tf.LayersModel {
  const [ih, iw, ic] = checkImageOptions(opts, 'convnext');
  const { depths, dims } = opts;
  if (depths.length < 1 || depths.length !== dims.length) throw new Error(`convnext: depths and dims must have the same length >= 1`);
  depths.forEach((d, i) => checkInt(d, `convnext: depths[${i}]`));
  dims.forEach((d, i) => checkInt(d, `convnext: dims[${i}]`));
  const patch = opts.patchSize ?? 4;
  const ks = opts.kernelSize ?? 7;
  const mlpRatio = opts.mlpRatio ?? 4;
  const ls = opts.layerScaleInit === undefined ? 1e-6 : opts.layerScaleInit;
  const dropPathRate = opts.dropPathRate ?? 0;
  const eps = opts.layerNormEps ?? 1e-6;
  checkInt(patch, 'convnext: patchSize');
  checkInt(ks, 'convnext: kernelSize');
  checkRate(dropPathRate, 'convnext: dropPathRate');
  const headInitScale = opts.headInitScale ?? 1;
  if (!(headInitScale > 0)) throw new Error(`convnext: headInitScale must be > 0, got ${headInitScale}`);
  const down = patch * 2 ** (depths.length - 1);
  if (ih % down !== 0 || iw % down !== 0) throw new Error(`convnext: image size ${ih}x${iw} must be a multiple of ${down} (patchSize * 2^(stages-1))`);
  const seeds = new InitSeeds(opts.seed);
  const std = 0.02;

  const dense = (name: string, units: number, scale = 1) => tf.layers.dense({
    units, name, kernelInitializer: truncNormal(std * scale, seeds.next()), biasInitializer: 'zeros',
  });
  const conv = (name: string, filters: number, k: number) => tf.layers.conv2d({
    filters, kernelSize: k, strides: k, padding: 'valid', name, kernelInitializer: truncNormal(std, seeds.next()), biasInitializer: 'zeros',
  });

  const input = tf.input({ shape: [ih, iw, ic], name: 'input' });
  let x = ap(conv('stem.0', dims[0]!, patch), input);
  x = ap(new LayerNorm({ name: 'stem.1', epsilon: eps }), x);
  const dpr = dropPathRates(dropPathRate, depths.reduce((a, b) => a + b, 0));
  let k = 0;
  depths.forEach((depth, s) => {
    const c = dims[s]!;
    if (s > 0) {
      x = ap(new LayerNorm({ name: `stages.${s}.downsample.0`, epsilon: eps }), x);
      x = ap(conv(`stages.${s}.downsample.1`, c, 2), x);
    }
    for (let b = 0; b < depth; b++, k++) {
      const p = `stages.${s}.blocks.${b}`;
      let h = ap(tf.layers.depthwiseConv2d({
        kernelSize: ks, depthMultiplier: 1, padding: 'same', useBias: true, name: `${p}.conv_dw`,
        depthwiseInitializer: truncNormal(std, seeds.next()), biasInitializer: 'zeros',
      }), x);
      h = ap(new LayerNorm({ name: `${p}.norm`, epsilon: eps }), h);
      h = ap(dense(`${p}.mlp.fc1`, Math.round(mlpRatio * c)), h);
      h = ap(gelu(`${p}.mlp.act`), h);
      h = ap(dense(`${p}.mlp.fc2`, c), h);
      if (ls) h = ap(new LayerScale({ name: p, initValue: ls }), h);
      if (dpr[k]! > 0) h = ap(new DropPath({ rate: dpr[k]!, seed: seeds.next(), name: `${p}.drop_path` }), h);
      x = ap(tf.layers.add({ name: `${p}.add` }), [x, h]);
    }
  });
  x = ap(tf.layers.globalAveragePooling2d({ name: 'head.global_pool' }), x);
  x = ap(new LayerNorm({ name: 'head.norm', epsilon: eps }), x);
  const logits = ap(dense('head.fc', opts.numClasses, headInitScale), x);
  return tf.model({ inputs: input, outputs: logits, name: 'convnext' });
}

registerModelFamily({
  family: 'convnext',
  description: 'ConvNeXt as timm (depthwise 7x7, LayerNorm, layer scale 1e-6)',
  models: Object.fromEntries(Object.entries(CONVNEXT_PRESETS).map(([name, preset]) => [name, (o: ModelOptions) => convnext({ ...imageOptions(o), ...preset })])),
  options: ['dropPathRate'],
  torch: {
    // the layer scale of a block keeps timm's name `gamma` (every other gamma is a norm's weight)
    keepsGamma: (prefix) => /^stages\.\d+\.blocks\.\d+$/.test(prefix),
    matches: (names) => names.some((n) => /^stages\.\d+\.blocks\.\d+\.conv_dw\./.test(n)),
  },
});
