/**
 * What the training loop, the evaluation and Algorithm 1 read from a split, whatever the data: image batches
 * ({@link BatchSource}, labels [B]) and next-token windows (`TextBatchSource`, ids and targets [B, T]).
 */
import type * as tf from '@tensorflow/tfjs';

/** A minibatch: inputs, integer targets (any shape the logits' leading axes have), and Mixup's second targets. */
export interface Batch {
  x: tf.Tensor;
  y: tf.Tensor;
  mixup?: { y2: tf.Tensor; lambda: number };
}

/** A split in minibatches, by epoch; every batch a pure function of (seed, epoch, batch index). */
export interface Batches<B extends Batch = Batch> {
  /** Examples (images, or windows of tokens) per epoch. */
  readonly count: number;
  readonly batchesPerEpoch: number;
  /** The batches of epoch `epoch`, from batch `from` (for resume). The caller disposes each batch. */
  epoch(epoch: number, from?: number): Generator<B>;
  /** An endless stream across epochs (Algorithm 1's T steps). */
  stream(): Generator<B>;
  dispose(): void;
}
