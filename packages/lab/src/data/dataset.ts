/**
 * An in-memory image classification dataset: NHWC float32 images (already normalized) and int labels.
 *
 * Datasets of 8-bit images (MNIST-format, CIFAR, image folders) also keep the raw pixels (`pixels`, NHWC
 * uint8) and their normalization (`Dataset.normalize`): augmentation works on the raw pixels (RandAugment's
 * posterize / solarize / equalize are defined on uint8) and normalizes each augmented batch. Their `images`
 * are computed from the pixels on first read (see {@link uint8Split}), so a run that only augments never
 * holds the float copy of its training split.
 */
export interface Split {
  images: Float32Array;
  labels: Int32Array;
  count: number;
  /** Raw NHWC uint8 pixels (datasets of 8-bit images). */
  pixels?: Uint8Array;
}

/** Per-channel normalization: `x = (pixel / 255 - mean[c]) / std[c]`. */
export interface Normalization {
  mean: number[];
  std: number[];
}

export interface Dataset {
  name: string;
  /** [height, width, channels] */
  shape: [number, number, number];
  numClasses: number;
  train: Split;
  test: Split;
  /** How `pixels` become `images` (present when the splits have pixels). */
  normalize?: Normalization;
  /**
   * The crop of basic augmentation: `pad` (random crop with padding 4, CIFAR-style small images) or `resized`
   * (random-resized-crop, ImageNet-style). Default `pad`.
   */
  crop?: 'pad' | 'resized';
  /**
   * The stored side of the training images when it differs from `shape` (image folders stored for
   * random-resized-crop keep a larger square; each augmented batch is cropped and resized to `shape`).
   */
  trainStoredSize?: number;
}

/** Normalizes NHWC uint8 pixels into `out` (float32, same length). */
export function normalizePixels(pixels: Uint8Array, channels: number, norm: Normalization, out: Float32Array = new Float32Array(pixels.length)): Float32Array {
  if (norm.mean.length !== channels || norm.std.length !== channels) {
    throw new Error(`normalization has ${norm.mean.length} means and ${norm.std.length} stds for ${channels} channels`);
  }
  // (p / 255 - m) / s = p * a + b per channel; a lookup table per channel is exact to float32 rounding.
  const luts = norm.mean.map((m, c) => {
    const t = new Float32Array(256);
    for (let p = 0; p < 256; p++) t[p] = (p / 255 - m) / norm.std[c];
    return t;
  });
  if (channels === 1) {
    const t = luts[0];
    for (let i = 0; i < pixels.length; i++) out[i] = t[pixels[i]];
  } else {
    for (let i = 0; i < pixels.length; i += channels) for (let c = 0; c < channels; c++) out[i + c] = luts[c][pixels[i + c]];
  }
  return out;
}

/**
 * A split of 8-bit images whose float `images` are computed on first read and cached.
 *
 * @example
 * ```ts
 * const split = uint8Split(pixels, labels, { mean: [0.5], std: [0.5] }, 1);
 * split.images; // Float32Array, normalized, computed now
 * ```
 */
export function uint8Split(pixels: Uint8Array, labels: Int32Array, norm: Normalization, channels: number): Split {
  const count = labels.length;
  let images: Float32Array | undefined;
  return {
    labels, count, pixels,
    get images(): Float32Array {
      images ??= normalizePixels(pixels, channels, norm);
      return images;
    },
    set images(v: Float32Array) {
      images = v;
    },
  };
}
