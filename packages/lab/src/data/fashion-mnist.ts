/**
 * Fashion-MNIST (or any MNIST-format IDX pair) from a directory: `train-images-idx3-ubyte[.gz]`,
 * `train-labels-idx1-ubyte[.gz]`, `t10k-images-idx3-ubyte[.gz]`, `t10k-labels-idx1-ubyte[.gz]`.
 * Pixels are scaled to [0, 1], then normalized with the dataset's mean and std; the raw pixels are kept for
 * augmentation (`Split.pixels`).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { readIdx } from './idx.js';
import { uint8Split, type Dataset, type Split } from './dataset.js';

/** Where Debian's `dataset-fashion-mnist` package puts the files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
/** Mean and std of Fashion-MNIST training pixels in [0, 1]. */
export const FASHION_MNIST_MEAN = 0.286;
export const FASHION_MNIST_STD = 0.353;

function findFile(dir: string, base: string): string {
  for (const name of [base, `${base}.gz`]) {
    const p = path.join(dir, name);
    if (existsSync(p)) return p;
  }
  throw new Error(`missing data file ${path.join(dir, base)}[.gz] (MNIST-format IDX; for Fashion-MNIST: apt-get install dataset-fashion-mnist)`);
}

function loadSplit(dir: string, prefix: string, mean: number, std: number, limit?: number): { split: Split; h: number; w: number } {
  const imagesPath = findFile(dir, `${prefix}-images-idx3-ubyte`);
  const labelsPath = findFile(dir, `${prefix}-labels-idx1-ubyte`);
  const images = readIdx(imagesPath, 3);
  const labels = readIdx(labelsPath, 1);
  const [n, h, w] = images.dims;
  if (labels.dims[0] !== n) {
    throw new Error(`${labelsPath}: ${labels.dims[0]} labels for ${n} images in ${imagesPath}`);
  }
  const count = limit === undefined ? n : Math.min(n, limit);
  const px = h * w;
  const lab = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const v = labels.data[i];
    if (v > 9) throw new Error(`${labelsPath}: label ${v} at index ${i} is out of range 0..9`);
    lab[i] = v;
  }
  return { split: uint8Split(images.data.subarray(0, count * px), lab, { mean: [mean], std: [std] }, 1), h, w };
}

/** Options of {@link loadMnistFormat}. */
export interface MnistFormatOptions {
  dir?: string;
  name?: string;
  mean?: number;
  std?: number;
  /** Use only the first N examples of each split (quick runs, tests). */
  limit?: number;
}

/**
 * Loads an MNIST-format dataset (default: Fashion-MNIST from the Debian path).
 *
 * @example
 * ```ts
 * const ds = loadMnistFormat();            // Fashion-MNIST, 60000 train / 10000 test, 28x28x1
 * ```
 */
export function loadMnistFormat(opts: MnistFormatOptions = {}): Dataset {
  const dir = opts.dir ?? FASHION_MNIST_DIR;
  if (!existsSync(dir)) {
    throw new Error(`data directory ${dir} does not exist${dir === FASHION_MNIST_DIR ? ' (apt-get install dataset-fashion-mnist)' : ''}`);
  }
  const mean = opts.mean ?? FASHION_MNIST_MEAN;
  const std = opts.std ?? FASHION_MNIST_STD;
  const train = loadSplit(dir, 'train', mean, std, opts.limit);
  const test = loadSplit(dir, 't10k', mean, std, opts.limit);
  if (train.h !== test.h || train.w !== test.w) {
    throw new Error(`${dir}: train images are ${train.h}x${train.w} but test images ${test.h}x${test.w}`);
  }
  return {
    name: opts.name ?? 'fashion-mnist', shape: [train.h, train.w, 1], numClasses: 10, train: train.split, test: test.split,
    normalize: { mean: [mean], std: [std] }, crop: 'pad',
  };
}
