/**
 * Multi-head scaled dot-product attention over separate query, key and value projections.
 *
 * timm's `Attention` computes q, k, v with one fused `qkv` Linear (C -> 3C); here they are three Dense
 * layers (`attn.q`, `attn.k`, `attn.v`, each C -> C, with bias), which holds the same numbers of parameters
 * and gives each of q, k, v its own name (and its own eta). This module holds the weightless part between
 * the projections and `attn.proj`: split heads, softmax(q k^T / sqrt(d) [+ bias] [+ mask]), attention
 * dropout, merge heads. {@link WindowAttention} (Swin) extends it with a relative position bias and a mask.
 * Without attention dropout it runs the backend's `attention` op (one fused kernel with its own gradient on
 * `onednn`, the same composition elsewhere).
 */
import * as tf from '@tensorflow/tfjs';
import { attention } from 'tfjs-backend-onednn';
import { checkInt, checkRate, type LayerArgs } from './common.js';
import { dropWithMask, mixSeed } from './drop.js';

export interface AttentionArgs extends LayerArgs {
  numHeads: number;
  /** Dropout on the attention probabilities (timm `attn_drop`), in [0, 1). Default 0. */
  attnDrop?: number;
  /** Seed of the attention-dropout mask stream. */
  seed?: number;
}

/** [B, N, C] -> [B, heads, N, C / heads]. */
export function splitHeads(x: tf.Tensor, heads: number): tf.Tensor {
  const [b, n, c] = x.shape as [number, number, number];
  return tf.transpose(tf.reshape(x, [b, n, heads, c / heads]), [0, 2, 1, 3]);
}

/** [B, heads, N, d] -> [B, N, heads * d]. */
export function mergeHeads(x: tf.Tensor): tf.Tensor {
  const [b, h, n, d] = x.shape as [number, number, number, number];
  return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [b, n, h * d]);
}

/**
 * Multi-head attention core on inputs `[q, k, v]` (each [B, N, C], already projected); output [B, N, C].
 * Weightless; subclasses add a bias or a mask to the logits through {@link logitTerms}.
 */
export class MultiHeadAttention extends tf.layers.Layer {
  static className = 'LwlrMultiHeadAttention';
  readonly numHeads: number;
  readonly attnDrop: number;
  readonly seed: number | undefined;
  /** Training calls with attention dropout so far (position in the mask stream). */
  dropCalls = 0;

  constructor(args: AttentionArgs) {
    super(args);
    checkInt(args.numHeads, 'numHeads');
    this.numHeads = args.numHeads;
    this.attnDrop = args.attnDrop ?? 0;
    checkRate(this.attnDrop, 'attnDrop');
    this.seed = args.seed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shapes = inputShape as tf.Shape[];
    if (!Array.isArray(shapes[0]) || shapes.length !== 3) throw new Error(`${this.getClassName()} '${this.name}': expects [q, k, v]`);
    const c = shapes[0][2];
    if (c == null || c % this.numHeads !== 0) {
      throw new Error(`${this.getClassName()} '${this.name}': channels ${c} must be a multiple of numHeads ${this.numHeads}`);
    }
    this.built = true;
  }

  /**
   * Hook: additive terms of the attention logits [B, heads, N, N]: `bias` [heads, N, N] (learned, shared by
   * the batch) and `mask` [nW, N, N] (constant; batch item b gets mask[b mod nW]), for `n` tokens.
   */
  protected logitTerms(_n: number): { bias?: tf.Tensor; mask?: tf.Tensor } {
    return {};
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    if (!Array.isArray(inputs) || inputs.length !== 3) throw new Error(`${this.getClassName()} '${this.name}': expects [q, k, v]`);
    const training = kwargs?.training === true && this.attnDrop > 0;
    let seed: number | undefined;
    if (training) {
      seed = this.seed === undefined ? undefined : mixSeed(this.seed, this.dropCalls);
      this.dropCalls += 1;
    }
    return tf.tidy(() => {
      const { bias, mask } = this.logitTerms(inputs[0]!.shape[1]!);
      if (!training) return attention(inputs[0]!, inputs[1]!, inputs[2]!, { numHeads: this.numHeads, bias, mask });
      // attention dropout: the composition (the fused op has no dropout)
      const [q, k, v] = inputs.map((t) => splitHeads(t, this.numHeads)) as [tf.Tensor, tf.Tensor, tf.Tensor];
      const [b, h, n, d] = q.shape as [number, number, number, number];
      let logits = tf.matMul(tf.mul(q, 1 / Math.sqrt(d)), k, false, true);
      if (bias) logits = tf.add(logits, bias);
      if (mask) {
        const nw = mask.shape[0]!;
        logits = tf.reshape(tf.add(tf.reshape(logits, [b / nw, nw, h, n, n]), tf.reshape(mask, [1, nw, 1, n, n])), [b, h, n, n]);
      }
      let p = tf.softmax(logits);
      p = dropWithMask(p, this.attnDrop, p.shape.slice(), seed);
      return mergeHeads(tf.matMul(p, v));
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (inputShape as tf.Shape[])[0]!;
  }

  override getConfig(): tf.serialization.ConfigDict {
    const c: tf.serialization.ConfigDict = { ...super.getConfig(), numHeads: this.numHeads, attnDrop: this.attnDrop };
    if (this.seed !== undefined) c['seed'] = this.seed;
    return c;
  }
}
tf.serialization.registerClass(MultiHeadAttention);
