/**
 * Minibatches of a token stream for next-token prediction: `x` = tokens [o, o + T) and `y` = [o + 1, o + T + 1)
 * of B windows, both int32 [B, T].
 *
 * Training (`random: true`): each batch draws B window offsets uniformly from [0, n - T - 1], from a generator
 * seeded by (seed, epoch, batch index) alone, so `epoch(e, from)` yields exactly batches `from..` of
 * `epoch(e)` (a resumed run sees the batches of an uninterrupted one). An epoch is `floor((n - 1) / (B T))`
 * batches (at least 1): as many tokens as the split holds.
 * Evaluation (`random: false`): the non-overlapping windows at 0, T, 2T, ... that fit (a last partial window
 * of fewer than T + 1 tokens is left out), in order, B per batch (the last batch may be smaller).
 *
 * Each window is one contiguous copy (`Int32Array.set` of a subarray) into the batch: no per-token JavaScript.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng, deriveSeed } from 'layerwise-lr';
import type { Batches } from './batch-stream.js';

export interface TextBatchOptions {
  batchSize: number;
  /** Tokens per window (T). */
  context: number;
  /** Random windows (training) or the fixed tiling (evaluation). */
  random: boolean;
  seed?: number;
}

/** A next-token batch: ids [B, T] and the ids that follow them [B, T] (int32). */
export interface TokenBatch {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
}

export class TextBatchSource implements Batches<TokenBatch> {
  /** Windows (sequences) of an evaluation pass; for training, windows per epoch. */
  readonly count: number;
  readonly batchesPerEpoch: number;

  constructor(readonly tokens: Int32Array, readonly opts: TextBatchOptions) {
    const { batchSize: b, context: t } = opts;
    if (!Number.isInteger(b) || b < 1) throw new Error(`batch size must be a positive integer, got ${b}`);
    if (!Number.isInteger(t) || t < 1) throw new Error(`context must be a positive integer, got ${t}`);
    if (tokens.length < t + 1) {
      throw new Error(`a split of ${tokens.length} tokens is too short for windows of --context ${t} (needs ${t + 1}): use a smaller --context or more text`);
    }
    if (opts.random) {
      this.batchesPerEpoch = Math.max(1, Math.floor((tokens.length - 1) / (b * t)));
      this.count = this.batchesPerEpoch * b;
    } else {
      this.count = Math.floor((tokens.length - 1) / t);
      this.batchesPerEpoch = Math.ceil(this.count / b);
    }
  }

  /** Window offsets of batch `b` of epoch `epoch`. */
  offsets(epoch: number, b: number): Int32Array {
    const { batchSize, context, random, seed } = this.opts;
    if (random) {
      const rng = new Rng(deriveSeed(seed ?? 0, `text:${epoch}:${b}`));
      const range = this.tokens.length - context; // offsets 0 .. n - T - 1
      return Int32Array.from({ length: batchSize }, () => Math.min(range - 1, Math.floor(rng.uniform() * range)));
    }
    const first = b * batchSize;
    const m = Math.min(batchSize, this.count - first);
    return Int32Array.from({ length: m }, (_, i) => (first + i) * context);
  }

  /** The batch of windows starting at `offsets`. The caller disposes it. */
  take(offsets: Int32Array): TokenBatch {
    const t = this.opts.context;
    const m = offsets.length;
    const x = new Int32Array(m * t);
    const y = new Int32Array(m * t);
    offsets.forEach((o, i) => {
      x.set(this.tokens.subarray(o, o + t), i * t);
      y.set(this.tokens.subarray(o + 1, o + t + 1), i * t);
    });
    return { x: tf.tensor2d(x, [m, t], 'int32'), y: tf.tensor2d(y, [m, t], 'int32') };
  }

  /** The batches of one epoch, from batch `from` (for resume). */
  *epoch(epoch: number, from = 0): Generator<TokenBatch> {
    for (let b = from; b < this.batchesPerEpoch; b++) yield this.take(this.offsets(epoch, b));
  }

  /** An endless stream across epochs (Algorithm 1's T steps). */
  *stream(): Generator<TokenBatch> {
    for (let e = 0; ; e++) yield* this.epoch(e);
  }

  /** Nothing is held on the device. */
  dispose(): void {}
}
