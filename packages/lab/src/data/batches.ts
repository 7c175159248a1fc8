/**
 * Minibatches from an in-memory split: the split lives on the device once; each batch is a `tf.gather` by an
 * index tensor, so nothing is copied per element in JavaScript on the training step.
 *
 * With an {@link Augmenter} (`opts.augment`) the split stays on the host as 8-bit pixels instead and each batch
 * is augmented there (typed-array loops) and uploaded; the augmentation's draws depend only on (seed, epoch,
 * batch index), so `epoch(e, from)` yields exactly batches `from..` of `epoch(e)`.
 *
 * An epoch is a permutation (seeded: epoch e of seed s is always the same order), or file order with
 * `shuffle: false`. The last partial batch is kept unless `dropLast`.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng, deriveSeed } from 'layerwise-lr';
import type { Split } from './dataset.js';
import type { Augmenter } from './augment/pipeline.js';
import { randomPermutation } from './augment/mixup.js';
import type { Batches } from './batch-stream.js';

export interface BatchOptions {
  batchSize: number;
  shuffle?: boolean;
  seed?: number;
  dropLast?: boolean;
  /** Augment each batch on the host (training splits of 8-bit images). */
  augment?: Augmenter;
}

export interface LabeledBatch {
  x: tf.Tensor4D;
  /** int32 labels [B] */
  y: tf.Tensor1D;
  /**
   * Mixup: the images are `lambda * x_i + (1 - lambda) * x_j` with `j` a permutation of the batch; `y2` holds
   * the labels of the `x_j`. The loss is `lambda * CE(y) + (1 - lambda) * CE(y2)`. Absent without Mixup.
   * The caller disposes `y2` with the batch.
   */
  mixup?: { y2: tf.Tensor1D; lambda: number };
}

/** The permutation of epoch `epoch` (Fisher-Yates, seeded per epoch). */
export function epochOrder(count: number, epoch: number, seed: number, shuffle: boolean): Int32Array {
  if (!shuffle) return Int32Array.from({ length: count }, (_, i) => i);
  return randomPermutation(new Rng(deriveSeed(seed, `epoch:${epoch}`)), count);
}

/** A split held as tensors, batched by epoch. Dispose when done. */
export class BatchSource implements Batches<LabeledBatch> {
  /** The split on the device (absent when augmenting: the augmenter holds the pixels). */
  readonly images?: tf.Tensor4D;
  readonly labels?: tf.Tensor1D;
  readonly count: number;
  private readonly hostLabels: Int32Array;

  constructor(split: Split, shape: readonly [number, number, number], readonly opts: BatchOptions) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new Error(`batch size must be a positive integer, got ${opts.batchSize}`);
    if (split.count < 1) throw new Error('empty dataset split');
    this.count = split.count;
    this.hostLabels = split.labels;
    if (!opts.augment) {
      this.images = tf.tensor4d(split.images, [split.count, ...shape]);
      this.labels = tf.tensor1d(split.labels, 'int32');
    }
  }

  /** Batches per epoch. */
  get batchesPerEpoch(): number {
    const { batchSize, dropLast } = this.opts;
    return dropLast ? Math.floor(this.count / batchSize) : Math.ceil(this.count / batchSize);
  }

  /** The batches of one epoch, starting at batch `from` (for resume). The caller disposes each batch. */
  *epoch(epoch: number, from = 0): Generator<LabeledBatch> {
    const order = epochOrder(this.count, epoch, this.opts.seed ?? 0, this.opts.shuffle ?? true);
    const { batchSize } = this.opts;
    for (let b = from; b < this.batchesPerEpoch; b++) {
      const idx = order.subarray(b * batchSize, Math.min((b + 1) * batchSize, this.count));
      yield this.opts.augment ? this.augmented(idx, epoch, b) : this.take(idx);
    }
  }

  /** An endless stream of batches across epochs (for Algorithm 1's T steps). */
  *stream(): Generator<LabeledBatch> {
    for (let e = 0; ; e++) yield* this.epoch(e);
  }

  /** The examples `indices`, not augmented (a device-side gather). */
  take(indices: Int32Array): LabeledBatch {
    if (!this.images || !this.labels) throw new Error('take() is for non-augmented sources');
    const { images, labels } = this;
    return tf.tidy(() => {
      const idx = tf.tensor1d(indices, 'int32');
      return { x: tf.gather(images, idx) as tf.Tensor4D, y: tf.gather(labels, idx) as tf.Tensor1D };
    });
  }

  private augmented(indices: Int32Array, epoch: number, b: number): LabeledBatch {
    const aug = this.opts.augment!;
    const r = aug.batch(indices, this.hostLabels, epoch, b);
    const x = tf.tensor4d(r.x, [indices.length, ...aug.outShape]);
    const y = tf.tensor1d(r.y, 'int32');
    return r.mixup ? { x, y, mixup: { y2: tf.tensor1d(r.mixup.y2, 'int32'), lambda: r.mixup.lambda } } : { x, y };
  }

  dispose(): void {
    if (this.images) this.images.dispose();
    if (this.labels) this.labels.dispose();
  }
}
