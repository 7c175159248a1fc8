/**
 * The augmentation pipeline of one training batch, on raw 8-bit pixels, in torchvision's order:
 * crop (random crop with padding, or random-resized-crop to the output size) -> horizontal flip ->
 * RandAugment -> normalize to float32 -> Mixup over the batch.
 *
 * Every draw comes from two seeded streams per batch, `augment:<epoch>:<batch>` (per image, in batch order:
 * crop, flip, RandAugment) and `mixup:<epoch>:<batch>` (lambda, then the permutation), so batch b of epoch e
 * is a pure function of (seed, epoch, b): a resumed run sees exactly the batches of an uninterrupted one.
 */
import { Rng, deriveSeed } from 'layerwise-lr';
import { normalizePixels, type Normalization } from '../dataset.js';
import { cropPadded, flipHorizontal, randomCropParams, randomResizedCropParams, resizedCrop } from './geometry.js';
import { mixBatch, randomPermutation, sampleBeta } from './mixup.js';
import { randAugment, type RandAugmentOptions } from './randaugment.js';

/** What to do to each training batch. */
export interface AugmentOptions {
  /** `pad`: random crop of the output size from the image padded by `padding`; `resized`: random-resized-crop. */
  crop: 'none' | 'pad' | 'resized';
  /** Zero padding of the `pad` crop (default 4, as CIFAR). */
  padding?: number;
  /** Horizontal flip with probability 1/2. */
  flip: boolean;
  randAugment?: RandAugmentOptions;
  /** Mixup alpha (absent or 0: no Mixup). */
  mixup?: number;
}

/** One augmented batch, host-side. */
export interface AugmentedBatch {
  x: Float32Array;
  y: Int32Array;
  mixup?: { y2: Int32Array; lambda: number };
}

/**
 * Augments batches of a split of 8-bit images.
 *
 * @example
 * ```ts
 * const aug = new Augmenter(split.pixels, [32, 32, 3], 32, CIFAR10_NORM, { crop: 'pad', flip: true }, seed);
 * const { x, y } = aug.batch(indices, split.labels, epoch, b); // x: [B, 32, 32, 3] normalized
 * ```
 */
export class Augmenter {
  private readonly srcSize: number;

  constructor(
    readonly pixels: Uint8Array,
    /** stored [h, w, c] of each image */
    readonly src: readonly [number, number, number],
    /** output side (square output `outSize` x `outSize` x c) */
    readonly outSize: number,
    readonly norm: Normalization,
    readonly opts: AugmentOptions,
    readonly seed: number,
  ) {
    this.srcSize = src[0] * src[1] * src[2];
    const [h, w] = src;
    if (opts.crop !== 'resized' && (h !== outSize || w !== outSize)) {
      throw new Error(`augmentation '${opts.crop}' crop needs ${outSize}x${outSize} images, got ${h}x${w}`);
    }
    if (opts.mixup !== undefined && !(opts.mixup >= 0)) throw new Error(`mixup alpha must be >= 0, got ${opts.mixup}`);
  }

  /** Output [h, w, c] of one image. */
  get outShape(): [number, number, number] {
    return [this.outSize, this.outSize, this.src[2]];
  }

  /** Batch `b` of epoch `epoch`: the images `indices` augmented, normalized, mixed. */
  batch(indices: Int32Array, labels: Int32Array, epoch: number, b: number): AugmentedBatch {
    const [h, w, C] = this.src;
    const S = this.outSize;
    const o = this.opts;
    const outLen = S * S * C;
    const n = indices.length;
    const u8 = new Uint8Array(n * outLen);
    const y = new Int32Array(n);
    const rng = new Rng(deriveSeed(this.seed, `augment:${epoch}:${b}`));
    const pad = o.padding ?? 4;
    for (let k = 0; k < n; k++) {
      const i = indices[k];
      y[k] = labels[i];
      const img = this.pixels.subarray(i * this.srcSize, (i + 1) * this.srcSize);
      const out = u8.subarray(k * outLen, (k + 1) * outLen);
      if (o.crop === 'pad') {
        const { top, left } = randomCropParams(rng, h, w, pad, S);
        cropPadded(img, h, w, C, pad, top, left, S, out);
      } else if (o.crop === 'resized') {
        resizedCrop(img, h, w, C, randomResizedCropParams(rng, h, w), S, S, out);
      } else {
        out.set(img);
      }
      if (o.flip && rng.uniform() < 0.5) flipHorizontal(out, S, S, C);
      if (o.randAugment && o.randAugment.n > 0) {
        const r = randAugment({ data: out, h: S, w: S, c: C }, o.randAugment, rng);
        if (r.data !== out) out.set(r.data);
      }
    }
    const x = normalizePixels(u8, C, this.norm);
    if (!o.mixup) return { x, y };
    const mrng = new Rng(deriveSeed(this.seed, `mixup:${epoch}:${b}`));
    const lambda = sampleBeta(mrng, o.mixup, o.mixup);
    const perm = randomPermutation(mrng, n);
    const y2 = mixBatch(x, y, n, outLen, lambda, perm);
    return { x, y, mixup: { y2, lambda } };
  }
}
