/**
 * Vision Transformer (Dosovitskiy et al. 2021) as timm's `VisionTransformer` (`vit_small_patch16_224`):
 * patch embedding (conv p x p, stride p), class token, learned position embedding, pre-norm blocks
 * (LayerNorm eps 1e-6, multi-head self-attention, MLP with exact GELU), final LayerNorm, head on the class token.
 *
 * Parameter names (via `collectParams`), timm's except where noted:
 * `patch_embed.proj.kernel/bias`, `cls_token`, `pos_embed` (as timm), `blocks.{i}.norm1.gamma/beta`,
 * `blocks.{i}.attn.{q,k,v}.kernel/bias` (timm: one fused `attn.qkv`; same parameter count),
 * `blocks.{i}.attn.proj.kernel/bias`, `blocks.{i}.norm2.*`, `blocks.{i}.mlp.fc1.*`, `blocks.{i}.mlp.fc2.*`,
 * `norm.gamma/beta` (`fc_norm.*` with average pooling), `head.kernel/bias`.
 *
 * Init as timm's default (`weight_init=''`): Linear kernels N(0, .02^2) (timm `trunc_normal_(std=.02)`,
 * whose +-2 absolute bounds never bite), biases 0; `pos_embed` N(0, .02^2); `cls_token` N(0, 1e-6^2);
 * LayerNorm 1 / 0; the patch-embedding conv keeps PyTorch's `Conv2d` default U(+-1/sqrt(fanIn)).
 *
 * Regularization (timm < 0.9 semantics of `drop_rate`): `dropRate` after the position embedding, after
 * `attn.proj` and after each MLP layer; `attnDropRate` on the attention probabilities; `dropPathRate`
 * the stochastic-depth rate of the last block, linearly increasing from 0 over the blocks.
 */
import * as tf from '@tensorflow/tfjs';
import { MultiHeadAttention } from './layers/attention.js';
import {
  InitSeeds, checkImageOptions, checkInt, checkRate, dropPathRates, torchDefaultInit, truncNormal,
  type ImageModelOptions,
  type TransformerStackOptions,
} from './layers/common.js';
import { DropPath, Dropout } from './layers/drop.js';
import { gelu } from './layers/gelu.js';
import { LayerNorm } from './layers/layer-norm.js';
import { ClassToken, PositionEmbedding, TokenPool } from './layers/tokens.js';
import { imageOptions, registerModelFamily, type ModelOptions } from './model-registry.js';

export interface VitOptions extends ImageModelOptions, TransformerStackOptions {
  patchSize: number;
  /**
   * Head input: `token` (default), the class token after the final `norm`; `avg`, the mean of the patch
   * tokens, then `fc_norm` (as timm's `global_pool='avg'`), and no class token (timm `class_token=False`).
   */
  pool?: 'token' | 'avg';
  /** LayerNorm eps (default 1e-6, as timm's ViT). */
  layerNormEps?: number;
  /** Opt-in multiplier of the head's input (muP's `MuReadout`; the bias is not scaled); absent (default): none, as timm. */
  outputMultiplier?: number;
}

/**
 * The ViT presets: `vit-s16` (ViT-S/16), `vit-tiny`, a CPU-sized model for 32x32 inputs, and `vit-cpu`, a smaller
 * one for 28x28 inputs (patch 7: 16 patch tokens + the class token; 305,034 parameters at 28x28x1 and 10 classes),
 * cheap enough for a learning-rate grid over several seeds on two cores (~0.17 s of one core per step of 128).
 */
export const VIT_PRESETS = {
  'vit-s16': { patchSize: 16, dim: 384, depth: 12, numHeads: 6, mlpRatio: 4 },
  'vit-tiny': { patchSize: 4, dim: 192, depth: 6, numHeads: 3, mlpRatio: 4 },
  'vit-cpu': { patchSize: 7, dim: 64, depth: 6, numHeads: 4, mlpRatio: 4 },
} as const satisfies Record<string, Partial<VitOptions>>;

type Sym = tf.SymbolicTensor;

function ap(layer: tf.layers.Layer, x: Sym | Sym[]): Sym {
  return layer.apply(x) as Sym;
}

/** A pre-norm transformer block: x + attn(norm1(x)), then x + mlp(norm2(x)). Shared with nothing else. */
function vitBlock(x: Sym, p: string, o: Required<Pick<VitOptions, 'dim' | 'numHeads' | 'mlpRatio' | 'qkvBias' | 'dropRate' | 'attnDropRate' | 'layerNormEps'>>, dpr: number, seeds: InitSeeds): Sym {
  const dense = (name: string, units: number, useBias = true) => tf.layers.dense({
    units, name, useBias, kernelInitializer: truncNormal(0.02, seeds.next()), biasInitializer: 'zeros',
  });
  const drop = (y: Sym, name: string, rate: number): Sym => (rate > 0 ? ap(new Dropout({ rate, seed: seeds.next(), name }), y) : y);
  const dropPath = (y: Sym, name: string): Sym => (dpr > 0 ? ap(new DropPath({ rate: dpr, seed: seeds.next(), name }), y) : y);

  let h = ap(new LayerNorm({ name: `${p}.norm1`, epsilon: o.layerNormEps }), x);
  const q = ap(dense(`${p}.attn.q`, o.dim, o.qkvBias), h);
  const k = ap(dense(`${p}.attn.k`, o.dim, o.qkvBias), h);
  const v = ap(dense(`${p}.attn.v`, o.dim, o.qkvBias), h);
  h = ap(new MultiHeadAttention({ name: `${p}.attn`, numHeads: o.numHeads, attnDrop: o.attnDropRate, seed: seeds.next() }), [q, k, v]);
  h = ap(dense(`${p}.attn.proj`, o.dim), h);
  h = drop(h, `${p}.attn.proj_drop`, o.dropRate);
  x = ap(tf.layers.add({ name: `${p}.add1` }), [x, dropPath(h, `${p}.drop_path1`)]);

  h = ap(new LayerNorm({ name: `${p}.norm2`, epsilon: o.layerNormEps }), x);
  h = ap(dense(`${p}.mlp.fc1`, Math.round(o.dim * o.mlpRatio)), h);
  h = ap(gelu(`${p}.mlp.act`), h);
  h = drop(h, `${p}.mlp.drop1`, o.dropRate);
  h = ap(dense(`${p}.mlp.fc2`, o.dim), h);
  h = drop(h, `${p}.mlp.drop2`, o.dropRate);
  return ap(tf.layers.add({ name: `${p}.add2` }), [x, dropPath(h, `${p}.drop_path2`)]);
}

/** Builds a ViT; see the module doc for names, init and regularization. */
export function vit(opts: VitOptions): tf.LayersModel {
  const [ih, iw, ic] = checkImageOptions(opts, 'vit');
  const o = {
    dim: opts.dim, numHeads: opts.numHeads, mlpRatio: opts.mlpRatio ?? 4, qkvBias: opts.qkvBias ?? true,
    dropRate: opts.dropRate ?? 0, attnDropRate: opts.attnDropRate ?? 0, layerNormEps: opts.layerNormEps ?? 1e-6,
  };
  const p = opts.patchSize;
  checkInt(p, 'vit: patchSize');
  checkInt(opts.depth, 'vit: depth');
  checkInt(o.dim, 'vit: dim');
  checkInt(o.numHeads, 'vit: numHeads');
  if (o.dim % o.numHeads !== 0) throw new Error(`vit: dim ${o.dim} must be a multiple of numHeads ${o.numHeads}`);
  if (!(o.mlpRatio > 0)) throw new Error(`vit: mlpRatio must be > 0, got ${o.mlpRatio}`);
  if (ih % p !== 0 || iw % p !== 0) throw new Error(`vit: image size ${ih}x${iw} must be a multiple of patchSize ${p}`);
  checkRate(o.dropRate, 'vit: dropRate');
  const dropPathRate = opts.dropPathRate ?? 0;
  checkRate(dropPathRate, 'vit: dropPathRate');
  const pool = opts.pool ?? 'token';
  const seeds = new InitSeeds(opts.seed);

  const input = tf.input({ shape: [ih, iw, ic], name: 'input' });
  const fanIn = p * p * ic;
  let x = ap(tf.layers.conv2d({
    filters: o.dim, kernelSize: p, strides: p, padding: 'valid', name: 'patch_embed.proj',
    kernelInitializer: torchDefaultInit(fanIn, seeds.next()), biasInitializer: torchDefaultInit(fanIn, seeds.next()),
  }), input);
  x = ap(tf.layers.reshape({ targetShape: [(ih / p) * (iw / p), o.dim], name: 'patch_embed.flatten' }), x);
  if (pool === 'token') x = ap(new ClassToken({ name: 'cls_token', initializer: tf.initializers.randomNormal({ mean: 0, stddev: 1e-6, seed: seeds.next() }) }), x);
  x = ap(new PositionEmbedding({ name: 'pos_embed', initializer: truncNormal(0.02, seeds.next()) }), x);
  if (o.dropRate > 0) x = ap(new Dropout({ rate: o.dropRate, seed: seeds.next(), name: 'pos_drop' }), x);
  const dpr = dropPathRates(dropPathRate, opts.depth);
  for (let i = 0; i < opts.depth; i++) x = vitBlock(x, `blocks.${i}`, o, dpr[i]!, seeds);
  if (pool === 'token') {
    x = ap(new LayerNorm({ name: 'norm', epsilon: o.layerNormEps }), x);
    x = ap(new TokenPool({ mode: 'token', name: 'pool' }), x);
  } else {
    // timm: with average pooling the final norm comes after the pool, as `fc_norm`
    x = ap(new TokenPool({ mode: 'avg', name: 'pool' }), x);
    x = ap(new LayerNorm({ name: 'fc_norm', epsilon: o.layerNormEps }), x);
  }
  if (opts.outputMultiplier !== undefined) x = ap(tf.layers.rescaling({ scale: opts.outputMultiplier, offset: 0, name: 'readout_mult' }), x);
  const logits = ap(tf.layers.dense({
    units: opts.numClasses, name: 'head', kernelInitializer: truncNormal(0.02, seeds.next()), biasInitializer: 'zeros',
  }), x);
  return tf.model({ inputs: input, outputs: logits, name: 'vit' });
}

registerModelFamily({
  family: 'vit',
  description: 'Vision Transformer as timm (separate q/k/v, class token, learned position embedding, pre-norm, exact GELU)',
  models: Object.fromEntries(Object.entries(VIT_PRESETS).map(([name, preset]) => [name, (o: ModelOptions) => vit({ ...imageOptions(o), ...preset })])),
  options: ['dropRate', 'attnDropRate', 'dropPathRate'],
  torch: {
    fusedQkv: true,
    matches: (names) => names.some((n) => n.startsWith('patch_embed.')) && names.some((n) => /^blocks\.\d+\.attn\.[qkv]\./.test(n)),
  },
  mup: {
    width: 'the embedding dim',
    base: (name, o, baseWidth) => {
      if (!Number.isInteger(baseWidth) || baseWidth < 1) throw new Error(`--mup-base-width for ${name} is an embedding dim, an integer >= 1 (got ${baseWidth})`);
      return vit({ ...imageOptions(o), ...VIT_PRESETS[name as keyof typeof VIT_PRESETS], dim: baseWidth });
    },
  },
  // timm's VisionTransformer.no_weight_decay()
  noWeightDecay: ['cls_token', 'pos_embed'],
});
