/**
 * Shared pieces of the model zoo: the options every image model takes, and the default initializers of
 * the PyTorch / timm references, written as tfjs-layers initializers.
 *
 * PyTorch references:
 * - `nn.Conv2d` / `nn.Linear` default (`kaiming_uniform_(a=sqrt(5))` and its bias rule): weight and bias
 *   ~ U(-1/sqrt(fanIn), 1/sqrt(fanIn)) ({@link torchDefaultInit}).
 * - torchvision ResNet convs: `kaiming_normal_(mode='fan_out', nonlinearity='relu')`, i.e. N(0, 2/fanOut)
 *   ({@link kaimingNormalFanOut}); an untruncated normal, as PyTorch draws it.
 * - timm `trunc_normal_(std=.02)`: timm truncates at the absolute bounds a=-2, b=2, which is +-100 std for
 *   std .02, so it is a plain N(0, .02^2) in practice ({@link truncNormal}). tfjs's own `truncatedNormal`
 *   cuts at +-2 std and would shrink the spread by 12 %, so it is not used.
 */
import * as tf from '@tensorflow/tfjs';
import './lean-forward.js';

/** A tfjs-layers initializer. */
export type Initializer = ReturnType<typeof tf.initializers.zeros>;

/** The constructor arguments every tfjs layer takes (name, trainable, inputShape, ...). */
export type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** What every image model of the zoo is built from. */
export interface ImageModelOptions {
  /** Number of classes of the head. */
  numClasses: number;
  /** Input height and width (a number for a square image). */
  imageSize: number | readonly [number, number];
  /** Input channels (3 for RGB). */
  channels: number;
  /**
   * Seed of the default init: the same seed builds the same weights. Without it tfjs draws from
   * `Math.random`. (Training normally replaces these weights with Algorithm 1's seeded measurement init.)
   */
  seed?: number;
}

/** Height and width of `imageSize`, checked. */
export function imageHW(o: Pick<ImageModelOptions, 'imageSize'>): [number, number] {
  const s = o.imageSize;
  const hw: [number, number] = typeof s === 'number' ? [s, s] : [s[0], s[1]];
  for (const d of hw) {
    if (!Number.isInteger(d) || d < 1) throw new Error(`imageSize must be positive integers, got ${JSON.stringify(s)}`);
  }
  return hw;
}

/** Checks the options every image model shares; returns `[height, width, channels]`. */
export function checkImageOptions(o: ImageModelOptions, model: string): [number, number, number] {
  if (!Number.isInteger(o.numClasses) || o.numClasses < 1) throw new Error(`${model}: numClasses must be an integer >= 1, got ${o.numClasses}`);
  if (!Number.isInteger(o.channels) || o.channels < 1) throw new Error(`${model}: channels must be an integer >= 1, got ${o.channels}`);
  const [h, w] = imageHW(o);
  return [h, w, o.channels];
}

/** Throws unless `x` is an integer >= `min`. */
export function checkInt(x: number, what: string, min = 1): void {
  if (!Number.isInteger(x) || x < min) throw new Error(`${what} must be an integer >= ${min}, got ${x}`);
}

/** Throws unless `x` is in [0, 1). */
export function checkRate(x: number, what: string): void {
  if (!(x >= 0 && x < 1)) throw new Error(`${what} must be in [0, 1), got ${x}`);
}

/**
 * Per-weight seeds derived from one model seed, in build order; `undefined` throughout when no seed is
 * given. Never 0 (tfjs treats a 0 seed as "unseeded").
 */
export class InitSeeds {
  private k = 0;
  constructor(private readonly seed?: number) {
    if (seed !== undefined && !Number.isSafeInteger(seed)) throw new Error(`seed must be a safe integer, got ${seed}`);
  }
  next(): number | undefined {
    if (this.seed === undefined) return undefined;
    this.k += 1;
    // A simple integer hash of (seed, k), kept in [1, 2^31).
    let h = (Math.imul(this.seed | 0, 0x9e3779b1) ^ Math.imul(this.k, 0x85ebca6b)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
    h = (h ^ (h >>> 15)) & 0x7fffffff;
    return h === 0 ? 1 : h;
  }
}

/** PyTorch's default `nn.Conv2d` / `nn.Linear` weight and bias init: U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
export function torchDefaultInit(fanIn: number, seed?: number): Initializer {
  const bound = 1 / Math.sqrt(fanIn);
  return tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed });
}

/** torchvision ResNet conv init: `kaiming_normal_(mode='fan_out', nonlinearity='relu')`, N(0, 2/fanOut). */
export function kaimingNormalFanOut(fanOut: number, seed?: number): Initializer {
  return tf.initializers.randomNormal({ mean: 0, stddev: Math.sqrt(2 / fanOut), seed });
}

/** timm `trunc_normal_(std)` with its default absolute bounds +-2 (a plain normal for small std) / `normal_(std)`. */
export function truncNormal(std: number, seed?: number): Initializer {
  return tf.initializers.randomNormal({ mean: 0, stddev: std, seed });
}

/** Stochastic-depth rates as timm: `linspace(0, rate, n)` (the first block never drops). */
export function dropPathRates(rate: number, n: number): number[] {
  if (n <= 1) return new Array<number>(n).fill(0);
  return Array.from({ length: n }, (_, i) => (rate * i) / (n - 1));
}

/** The block stack of a pre-norm transformer (ViT, GPT): its sizes and regularization. */
export interface TransformerStackOptions {
  /** Number of blocks. */
  depth: number;
  /** Width: the embedding dimension (timm `embed_dim`, GPT-2 `n_embd`). */
  dim: number;
  numHeads: number;
  /** MLP hidden width = mlpRatio * dim (default 4). */
  mlpRatio?: number;
  /** Bias in the q, k, v projections (default true, as timm and GPT-2's `c_attn`). */
  qkvBias?: boolean;
  dropRate?: number;
  attnDropRate?: number;
  dropPathRate?: number;
}
