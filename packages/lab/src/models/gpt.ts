/**
 * A GPT-style decoder (GPT-2, Radford et al. 2019; the Hugging Face `GPT2LMHeadModel` semantics): token and
 * learned position embeddings, pre-norm blocks of causal multi-head self-attention and a GELU MLP, a final
 * LayerNorm, and an LM head tied to the token embedding (untied with `tieHead: false`).
 *
 * Input: token ids [B, T] (int32, any T up to `contextLength`); output: logits [B, T, vocab] (position t
 * predicts token t + 1).
 *
 * Parameter names (via `collectParams`), in the zoo's style (the ViT's block names):
 * `tok_embed.kernel` [dim, vocab] (the token embedding, stored as the tied head's dense kernel: see
 * layers/token-embedding.ts), `pos_embed` [context, dim], `blocks.{i}.norm1.gamma/beta`,
 * `blocks.{i}.attn.{q,k,v}.kernel/bias` (GPT-2: one fused `attn.c_attn`), `blocks.{i}.attn.proj.*` (`c_proj`),
 * `blocks.{i}.norm2.*`, `blocks.{i}.mlp.fc1.*` (`mlp.c_fc`), `blocks.{i}.mlp.fc2.*` (`mlp.c_proj`),
 * `norm.gamma/beta` (`ln_f`), and `head.kernel` [dim, vocab] only when untied (no bias, as `lm_head`).
 * Kinds: `pos_embed` is an embedding (zero in Algorithm 1's measurement init, as the paper treats position
 * embeddings); every kernel, the token embedding included, is a kernel.
 *
 * Semantics as GPT-2: LayerNorm eps 1e-5, exact-erf GELU (GPT-2's checkpoints used the tanh approximation;
 * PyTorch's `nn.GELU()` and the rest of this zoo use erf), MLP width 4 x dim, attention scale 1/sqrt(head dim).
 * Default init as Hugging Face's `GPT2PreTrainedModel._init_weights`: every kernel and both embeddings
 * N(0, 0.02^2), the residual projections `attn.proj` and `mlp.fc2` N(0, (0.02 / sqrt(2 depth))^2), biases 0,
 * LayerNorm 1 / 0.
 *
 * Regularization (GPT-2's `embd_pdrop`, `resid_pdrop`, `attn_pdrop`): `dropRate` after the embeddings, after
 * `attn.proj` and after `mlp.fc2`; `attnDropRate` on the attention probabilities; `dropPathRate` the
 * stochastic depth of the last block, linearly increasing from 0 (as the ViT).
 */
import * as tf from '@tensorflow/tfjs';
import { CausalSelfAttention } from './layers/causal-attention.js';
import { InitSeeds, checkInt, checkRate, dropPathRates, truncNormal, type TransformerStackOptions } from './layers/common.js';
import { DropPath, Dropout } from './layers/drop.js';
import { gelu } from './layers/gelu.js';
import { LayerNorm } from './layers/layer-norm.js';
import { PositionTable, TokenEmbedding } from './layers/token-embedding.js';
import { registerModelFamily, type ModelOptions } from './model-registry.js';
import { gpt2ExtraNames, gpt2TorchName, withTransformerPrefix } from '../interop/gpt2.js';

/** `depth` is GPT-2's `n_layer`, `dim` its `n_embd`; q/k/v biases on by default, as GPT-2's `c_attn`. */
export interface GptOptions extends TransformerStackOptions {
  /** Tokens of the vocabulary (the head's width). */
  vocabSize: number;
  /** The longest input sequence (the position table's rows). */
  contextLength: number;
  /** LM head tied to the token embedding (default true, as GPT-2). */
  tieHead?: boolean;
  /** LayerNorm eps (default 1e-5, as GPT-2). */
  layerNormEps?: number;
  /** Seed of the default init and of the dropout masks. */
  seed?: number;
}

/** Presets (architecture only: the vocabulary comes from the tokenizer unless the preset fixes it). */
export const GPT_PRESETS = {
  /** GPT-2 small: 124,439,808 parameters with the tied head. */
  'gpt2-small': { vocabSize: 50257, contextLength: 1024, depth: 12, dim: 768, numHeads: 12 },
  /** CPU-sized: 6 blocks of width 256, context 256 (4,870,144 parameters with the byte vocabulary). */
  'gpt-mini': { contextLength: 256, depth: 6, dim: 256, numHeads: 8 },
  /** CPU-sized: 4 blocks of width 128, context 128 (842,496 parameters with the byte vocabulary). */
  'gpt-tiny': { contextLength: 128, depth: 4, dim: 128, numHeads: 4 },
} as const satisfies Record<string, Partial<GptOptions>>;

export type GptPreset = keyof typeof GPT_PRESETS;

/** The byte-level vocabulary: the default of presets that do not fix their own. */
export const BYTE_VOCAB = 256;

type Sym = tf.SymbolicTensor;

function ap(layer: tf.layers.Layer, x: Sym | Sym[]): Sym {
  return layer.apply(x) as Sym;
}

type BlockOptions = Required<Pick<GptOptions, 'dim' | 'numHeads' | 'mlpRatio' | 'qkvBias' | 'dropRate' | 'attnDropRate' | 'layerNormEps' | 'depth'>>;

/** A pre-norm GPT block: x + proj(causal_attn(norm1(x))), then x + fc2(gelu(fc1(norm2(x)))). */
function gptBlock(x: Sym, p: string, o: BlockOptions, dpr: number, seeds: InitSeeds): Sym {
  const residStd = 0.02 / Math.sqrt(2 * o.depth);
  const dense = (name: string, units: number, std = 0.02, useBias = true) => tf.layers.dense({
    units, name, useBias, kernelInitializer: truncNormal(std, seeds.next()), biasInitializer: 'zeros',
  });
  const drop = (y: Sym, name: string, rate: number): Sym => (rate > 0 ? ap(new Dropout({ rate, seed: seeds.next(), name }), y) : y);
  const dropPath = (y: Sym, name: string): Sym => (dpr > 0 ? ap(new DropPath({ rate: dpr, seed: seeds.next(), name }), y) : y);

  let h = ap(new LayerNorm({ name: `${p}.norm1`, epsilon: o.layerNormEps }), x);
  const q = ap(dense(`${p}.attn.q`, o.dim, 0.02, o.qkvBias), h);
  const k = ap(dense(`${p}.attn.k`, o.dim, 0.02, o.qkvBias), h);
  const v = ap(dense(`${p}.attn.v`, o.dim, 0.02, o.qkvBias), h);
  h = ap(new CausalSelfAttention({ name: `${p}.attn`, numHeads: o.numHeads, attnDrop: o.attnDropRate, seed: seeds.next() }), [q, k, v]);
  h = ap(dense(`${p}.attn.proj`, o.dim, residStd), h);
  h = drop(h, `${p}.attn.proj_drop`, o.dropRate);
  x = ap(tf.layers.add({ name: `${p}.add1` }), [x, dropPath(h, `${p}.drop_path1`)]);

  h = ap(new LayerNorm({ name: `${p}.norm2`, epsilon: o.layerNormEps }), x);
  h = ap(dense(`${p}.mlp.fc1`, Math.round(o.dim * o.mlpRatio)), h);
  h = ap(gelu(`${p}.mlp.act`), h);
  h = ap(dense(`${p}.mlp.fc2`, o.dim, residStd), h);
  h = drop(h, `${p}.mlp.drop`, o.dropRate);
  return ap(tf.layers.add({ name: `${p}.add2` }), [x, dropPath(h, `${p}.drop_path2`)]);
}

/**
 * Builds a GPT; see the module doc for names, init and regularization.
 *
 * @example
 * ```ts
 * const model = gpt({ ...GPT_PRESETS['gpt-tiny'], vocabSize: 256, seed: 0 });
 * const logits = model.predict(tf.tensor2d([[72, 105]], [1, 2], 'int32')) as tf.Tensor; // [1, 2, 256]
 * ```
 */
export function gpt(opts: GptOptions): tf.LayersModel {
  const o: BlockOptions = {
    dim: opts.dim, numHeads: opts.numHeads, mlpRatio: opts.mlpRatio ?? 4, qkvBias: opts.qkvBias ?? true,
    dropRate: opts.dropRate ?? 0, attnDropRate: opts.attnDropRate ?? 0, layerNormEps: opts.layerNormEps ?? 1e-5, depth: opts.depth,
  };
  checkInt(opts.vocabSize, 'gpt: vocabSize');
  checkInt(opts.contextLength, 'gpt: contextLength');
  checkInt(o.depth, 'gpt: depth');
  checkInt(o.dim, 'gpt: dim');
  checkInt(o.numHeads, 'gpt: numHeads');
  if (o.dim % o.numHeads !== 0) throw new Error(`gpt: dim ${o.dim} must be a multiple of numHeads ${o.numHeads}`);
  if (!(o.mlpRatio > 0)) throw new Error(`gpt: mlpRatio must be > 0, got ${o.mlpRatio}`);
  checkRate(o.dropRate, 'gpt: dropRate');
  checkRate(o.attnDropRate, 'gpt: attnDropRate');
  const dropPathRate = opts.dropPathRate ?? 0;
  checkRate(dropPathRate, 'gpt: dropPathRate');
  const seeds = new InitSeeds(opts.seed);

  const ids = tf.input({ shape: [null], dtype: 'int32', name: 'input_ids' });
  const tok = new TokenEmbedding({ name: 'tok_embed', vocabSize: opts.vocabSize, dim: o.dim, initializer: truncNormal(0.02, seeds.next()) });
  let x = ap(tok, ids);
  x = ap(new PositionTable({ name: 'pos_embed', contextLength: opts.contextLength, initializer: truncNormal(0.02, seeds.next()) }), x);
  if (o.dropRate > 0) x = ap(new Dropout({ rate: o.dropRate, seed: seeds.next(), name: 'drop' }), x);
  const dpr = dropPathRates(dropPathRate, o.depth);
  for (let i = 0; i < o.depth; i++) x = gptBlock(x, `blocks.${i}`, o, dpr[i]!, seeds);
  x = ap(new LayerNorm({ name: 'norm', epsilon: o.layerNormEps }), x);
  const logits = opts.tieHead ?? true
    ? ap(tok, x)
    : ap(tf.layers.dense({ units: opts.vocabSize, name: 'head', useBias: false, kernelInitializer: truncNormal(0.02, seeds.next()) }), x);
  return tf.model({ inputs: ids, outputs: logits, name: 'gpt' });
}

/** What the registry passes to a GPT preset: the data's vocabulary and the run's regularization and seed. */
export interface GptPresetOptions {
  /** The tokenizer's vocabulary (default 256, bytes); a preset that fixes its own (gpt2-small) takes that, and refuses a larger one. */
  vocabSize?: number;
  tieHead?: boolean;
  dropRate?: number;
  attnDropRate?: number;
  dropPathRate?: number;
  seed?: number;
}

/**
 * A GPT preset for a vocabulary.
 *
 * @example
 * ```ts
 * gptPreset('gpt2-small', { vocabSize: 50257 }); // GPT-2 small, 124,439,808 parameters
 * gptPreset('gpt-tiny', {}); // byte vocabulary
 * ```
 */
export function gptPreset(name: GptPreset, o: GptPresetOptions): tf.LayersModel {
  const preset: Partial<GptOptions> = GPT_PRESETS[name];
  const data = o.vocabSize ?? BYTE_VOCAB;
  const vocabSize = preset.vocabSize ?? data;
  if (data > vocabSize) throw new Error(`--model ${name} has a vocabulary of ${vocabSize}, the tokenizer ${data}`);
  return gpt({
    ...(preset as Omit<GptOptions, 'vocabSize'>), vocabSize, tieHead: o.tieHead, dropRate: o.dropRate, attnDropRate: o.attnDropRate,
    dropPathRate: o.dropPathRate, seed: o.seed,
  });
}

/** The model's context length (rows of `pos_embed`), read from a built GPT. */
export function gptContextLength(model: tf.LayersModel): number {
  const layer = model.layers.find((l) => l instanceof PositionTable) as PositionTable | undefined;
  if (!layer) throw new Error(`model '${model.name}' has no position table (not a GPT)`);
  return layer.contextLength;
}

registerModelFamily({
  family: 'gpt',
  description: 'GPT decoder (tied token embedding, learned positions, causal pre-norm blocks); --data text',
  task: 'language',
  models: Object.fromEntries(Object.keys(GPT_PRESETS).map((name) => [name, (o: ModelOptions) => gptPreset(name as GptPreset, {
    vocabSize: o.vocabSize, tieHead: !o.untieHead, dropRate: o.dropRate, attnDropRate: o.attnDropRate, dropPathRate: o.dropPathRate, seed: o.seed,
  })])),
  options: ['vocabSize', 'untieHead', 'dropRate', 'attnDropRate', 'dropPathRate'],
  // Hugging Face GPT2LMHeadModel names (interop/gpt2.ts): c_attn fused on its columns, a tied lm_head left out
  torch: {
    name: (ours) => gpt2TorchName(ours),
    extraNames: (torchNames) => gpt2ExtraNames(torchNames, !torchNames.includes('lm_head.weight')),
    fromTorchNames: (dict) => withTransformerPrefix(dict),
    matches: (names) => names.includes('tok_embed.kernel'),
  },
});
