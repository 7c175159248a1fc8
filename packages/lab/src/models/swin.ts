/**
 * Swin Transformer (Liu et al. 2021) as timm's `SwinTransformer` before 0.9 (= the official repository;
 * `swin_tiny_patch4_window7_224`): patch embedding (4x4 conv, stride 4, LayerNorm), stages of blocks with
 * window attention (regular and shifted windows alternating), relative position bias, patch merging at the
 * end of every stage but the last, LayerNorm, average pool, linear head. LayerNorm eps 1e-5 (nn.LayerNorm).
 * As timm, a stage whose resolution is not larger than the window uses one window of that size and no shift.
 *
 * Parameter names (via `collectParams`), timm's except where noted: `patch_embed.proj.kernel/bias`,
 * `patch_embed.norm.gamma/beta`, `layers.{s}.blocks.{b}.norm1.*`, `layers.{s}.blocks.{b}.attn.{q,k,v}.kernel/bias`
 * (timm: one fused `attn.qkv`; same count), `layers.{s}.blocks.{b}.attn.relative_position_bias_table`,
 * `layers.{s}.blocks.{b}.attn.proj.*`, `layers.{s}.blocks.{b}.norm2.*`, `layers.{s}.blocks.{b}.mlp.fc1.*`,
 * `layers.{s}.blocks.{b}.mlp.fc2.*`, `layers.{s}.downsample.norm.*`, `layers.{s}.downsample.reduction.kernel`
 * (no bias), `norm.*`, `head.kernel/bias`. The relative position index and the shift mask are constants
 * computed in JS, not parameters.
 *
 * Init as timm: Linear kernels N(0, .02^2) (`trunc_normal_(std=.02)`), biases 0, LayerNorm 1 / 0, bias
 * tables N(0, .02^2); the patch-embedding conv keeps PyTorch's `Conv2d` default U(+-1/sqrt(fanIn)).
 * Regularization: `dropRate` after the patch embedding, `attn.proj` and each MLP layer; `attnDropRate`;
 * `dropPathRate` linear from 0 over all blocks (timm default 0.1).
 */
import * as tf from '@tensorflow/tfjs';
import {
  InitSeeds, checkImageOptions, checkInt, checkRate, dropPathRates, torchDefaultInit, truncNormal,
  type ImageModelOptions,
} from './layers/common.js';
import { DropPath, Dropout } from './layers/drop.js';
import { gelu } from './layers/gelu.js';
import { LayerNorm } from './layers/layer-norm.js';
import { PatchMerge } from './layers/patch.js';
import { WindowAttention, WindowPartition, WindowReverse } from './layers/window.js';
import { imageOptions, registerModelFamily, type ModelOptions } from './model-registry.js';

export interface SwinOptions extends ImageModelOptions {
  patchSize?: number;
  windowSize?: number;
  /** Channels of the first stage (96); doubled at every patch merging. */
  embedDim?: number;
  depths?: readonly number[];
  numHeads?: readonly number[];
  mlpRatio?: number;
  qkvBias?: boolean;
  dropRate?: number;
  attnDropRate?: number;
  /** Stochastic depth of the last block (timm default 0.1). */
  dropPathRate?: number;
  layerNormEps?: number;
}

export const SWIN_PRESETS = {
  'swin-t': { patchSize: 4, windowSize: 7, embedDim: 96, depths: [2, 2, 6, 2], numHeads: [3, 6, 12, 24] },
  /** CPU-sized, for 32x32 inputs: 2x2 patches, windows of 4: 16x16 (4 windows) -> 8x8 (4) -> 4x4 (1, no shift). */
  'swin-cpu': { patchSize: 2, windowSize: 4, embedDim: 48, depths: [2, 2, 2], numHeads: [3, 6, 12] },
} as const satisfies Record<string, Partial<SwinOptions>>;

type Sym = tf.SymbolicTensor;

function ap(layer: tf.layers.Layer, x: Sym | Sym[]): Sym {
  return layer.apply(x) as Sym;
}

/** Builds a Swin Transformer; see the module doc. Defaults are Swin-T's. */
export function swin(opts: SwinOptions): tf.LayersModel {
  const [ih, iw, ic] = checkImageOptions(opts, 'swin');
  const patch = opts.patchSize ?? 4;
  const window = opts.windowSize ?? 7;
  const embedDim = opts.embedDim ?? 96;
  const depths = opts.depths ?? [2, 2, 6, 2];
  const heads = opts.numHeads ?? [3, 6, 12, 24];
  const mlpRatio = opts.mlpRatio ?? 4;
  const qkvBias = opts.qkvBias ?? true;
  const dropRate = opts.dropRate ?? 0;
  const attnDropRate = opts.attnDropRate ?? 0;
  const dropPathRate = opts.dropPathRate ?? 0.1;
  const eps = opts.layerNormEps ?? 1e-5;
  checkInt(patch, 'swin: patchSize');
  checkInt(window, 'swin: windowSize');
  checkInt(embedDim, 'swin: embedDim');
  if (depths.length < 1 || depths.length !== heads.length) throw new Error('swin: depths and numHeads must have the same length >= 1');
  depths.forEach((d, i) => checkInt(d, `swin: depths[${i}]`));
  heads.forEach((h, i) => {
    checkInt(h, `swin: numHeads[${i}]`);
    if ((embedDim * 2 ** i) % h !== 0) throw new Error(`swin: stage ${i} width ${embedDim * 2 ** i} must be a multiple of numHeads[${i}] = ${h}`);
  });
  checkRate(dropRate, 'swin: dropRate');
  checkRate(attnDropRate, 'swin: attnDropRate');
  checkRate(dropPathRate, 'swin: dropPathRate');
  if (ih % patch !== 0 || iw % patch !== 0) throw new Error(`swin: image size ${ih}x${iw} must be a multiple of patchSize ${patch}`);
  const seeds = new InitSeeds(opts.seed);

  // Resolutions and windows per stage, checked before anything is built.
  const stages = depths.map((_, s) => {
    const h = ih / patch / 2 ** s;
    const w = iw / patch / 2 ** s;
    if (!Number.isInteger(h) || !Number.isInteger(w)) throw new Error(`swin: stage ${s} resolution ${h}x${w} is not whole (image ${ih}x${iw}, patch ${patch})`);
    // timm: a stage not larger than the window is one window, unshifted
    const small = Math.min(h, w) <= window;
    const ws = small ? Math.min(h, w) : window;
    if (h % ws !== 0 || w % ws !== 0) {
      throw new Error(`swin: stage ${s} resolution ${h}x${w} must be a multiple of the window ${ws} (image ${ih}x${iw}, patch ${patch}, window ${window})`);
    }
    return { h, w, ws, shift: small ? 0 : Math.floor(window / 2), dim: embedDim * 2 ** s };
  });

  const dense = (name: string, units: number, useBias = true) => tf.layers.dense({
    units, name, useBias, kernelInitializer: truncNormal(0.02, seeds.next()), biasInitializer: 'zeros',
  });
  const drop = (y: Sym, name: string, rate: number): Sym => (rate > 0 ? ap(new Dropout({ rate, seed: seeds.next(), name }), y) : y);

  const input = tf.input({ shape: [ih, iw, ic], name: 'input' });
  const fanIn = patch * patch * ic;
  let x = ap(tf.layers.conv2d({
    filters: embedDim, kernelSize: patch, strides: patch, padding: 'valid', name: 'patch_embed.proj',
    kernelInitializer: torchDefaultInit(fanIn, seeds.next()), biasInitializer: torchDefaultInit(fanIn, seeds.next()),
  }), input);
  x = ap(new LayerNorm({ name: 'patch_embed.norm', epsilon: eps }), x);
  x = drop(x, 'pos_drop', dropRate);

  const dpr = dropPathRates(dropPathRate, depths.reduce((a, b) => a + b, 0));
  let k = 0;
  stages.forEach((st, s) => {
    for (let b = 0; b < depths[s]!; b++, k++) {
      const p = `layers.${s}.blocks.${b}`;
      const shift = b % 2 === 0 ? 0 : st.shift;
      const dropPath = (y: Sym, name: string): Sym => (dpr[k]! > 0 ? ap(new DropPath({ rate: dpr[k]!, seed: seeds.next(), name }), y) : y);
      let h = ap(new LayerNorm({ name: `${p}.norm1`, epsilon: eps }), x);
      h = ap(new WindowPartition({ name: `${p}.attn.partition`, windowSize: st.ws, shiftSize: shift }), h);
      const q = ap(dense(`${p}.attn.q`, st.dim, qkvBias), h);
      const kk = ap(dense(`${p}.attn.k`, st.dim, qkvBias), h);
      const v = ap(dense(`${p}.attn.v`, st.dim, qkvBias), h);
      h = ap(new WindowAttention({
        name: `${p}.attn`, numHeads: heads[s]!, windowSize: st.ws, shiftSize: shift, resolution: [st.h, st.w],
        attnDrop: attnDropRate, seed: seeds.next(), tableInitializer: truncNormal(0.02, seeds.next()),
      }), [q, kk, v]);
      h = ap(dense(`${p}.attn.proj`, st.dim), h);
      h = drop(h, `${p}.attn.proj_drop`, dropRate);
      h = ap(new WindowReverse({ name: `${p}.attn.reverse`, windowSize: st.ws, shiftSize: shift, resolution: [st.h, st.w] }), h);
      x = ap(tf.layers.add({ name: `${p}.add1` }), [x, dropPath(h, `${p}.drop_path1`)]);

      h = ap(new LayerNorm({ name: `${p}.norm2`, epsilon: eps }), x);
      h = ap(dense(`${p}.mlp.fc1`, Math.round(st.dim * mlpRatio)), h);
      h = ap(gelu(`${p}.mlp.act`), h);
      h = drop(h, `${p}.mlp.drop1`, dropRate);
      h = ap(dense(`${p}.mlp.fc2`, st.dim), h);
      h = drop(h, `${p}.mlp.drop2`, dropRate);
      x = ap(tf.layers.add({ name: `${p}.add2` }), [x, dropPath(h, `${p}.drop_path2`)]);
    }
    if (s < stages.length - 1) {
      x = ap(new PatchMerge({ name: `layers.${s}.downsample.merge` }), x);
      x = ap(new LayerNorm({ name: `layers.${s}.downsample.norm`, epsilon: eps }), x);
      x = ap(dense(`layers.${s}.downsample.reduction`, 2 * st.dim, false), x);
    }
  });
  x = ap(new LayerNorm({ name: 'norm', epsilon: eps }), x);
  x = ap(tf.layers.globalAveragePooling2d({ name: 'avgpool' }), x);
  const logits = ap(dense('head', opts.numClasses), x);
  return tf.model({ inputs: input, outputs: logits, name: 'swin' });
}

registerModelFamily({
  family: 'swin',
  description: 'Swin Transformer as timm (shifted windows, relative position bias)',
  models: Object.fromEntries(Object.entries(SWIN_PRESETS).map(([name, preset]) => [name, (o: ModelOptions) => swin({ ...imageOptions(o), ...preset })])),
  options: ['dropRate', 'attnDropRate', 'dropPathRate'],
  torch: {
    fusedQkv: true,
    // timm >= 0.9: a stage's patch merging belongs to the next stage; the head is a ClassifierHead
    renamePrefix: (prefix) => prefix
      .replace(/^layers\.(\d+)\.downsample(?=\.|$)/, (_, s: string) => `layers.${Number(s) + 1}.downsample`)
      .replace(/^head(?=\.|$)/, 'head.fc'),
    matches: (names) => names.some((n) => /^layers\.\d+\.blocks\.\d+\.attn\./.test(n)),
  },
  // timm's SwinTransformer.no_weight_decay_keywords()
  noWeightDecay: ['relative_position_bias_table'],
});
