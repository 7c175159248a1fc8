/**
 * Causal multi-head self-attention (GPT): {@link MultiHeadAttention} with query i attending to keys 0..i only.
 *
 * The mask is an additive bias on the attention logits [B, heads, T, T]: 0 on and below the diagonal, -Infinity
 * above it (PyTorch's `masked_fill(mask == 0, -inf)`), so a masked key's probability is exactly 0 and a
 * future token can never change an earlier position's output. One mask [T, T] per sequence length is made
 * once and kept (it is a constant: broadcast over batch and heads by the native Add), and disposed with the layer.
 */
import * as tf from '@tensorflow/tfjs';
import { MultiHeadAttention } from './attention.js';

/** The additive causal mask [t, t]: 0 where key <= query, -Infinity where key > query. */
export function causalMask(t: number): tf.Tensor2D {
  const m = new Float32Array(t * t);
  for (let i = 0; i < t; i++) m.fill(-Infinity, i * t + i + 1, (i + 1) * t);
  return tf.tensor2d(m, [t, t]);
}

export class CausalSelfAttention extends MultiHeadAttention {
  static override className = 'LwlrCausalSelfAttention';
  private readonly masks = new Map<number, tf.Tensor2D>();

  protected override addToLogits(logits: tf.Tensor): tf.Tensor {
    const t = logits.shape[2]!;
    let mask = this.masks.get(t);
    if (mask === undefined) {
      mask = tf.keep(causalMask(t));
      this.masks.set(t, mask);
    }
    return tf.add(logits, mask);
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    for (const m of this.masks.values()) m.dispose();
    this.masks.clear();
    return super.dispose();
  }
}
tf.serialization.registerClass(CausalSelfAttention);
