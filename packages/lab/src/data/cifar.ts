/**
 * CIFAR-10 and CIFAR-100 in their official binary formats (https://www.cs.toronto.edu/~kriz/cifar.html).
 *
 * - CIFAR-10: `data_batch_1.bin` .. `data_batch_5.bin` (train) and `test_batch.bin`; records of 1 label byte
 *   (0..9) + 3072 pixel bytes.
 * - CIFAR-100: `train.bin` and `test.bin`; records of 1 coarse label byte (0..19) + 1 fine label byte (0..99)
 *   + 3072 pixel bytes. The fine label is the class (100 classes).
 *
 * The 3072 pixel bytes are channel-major (CHW): 1024 red, then 1024 green, then 1024 blue, each 32x32 row by
 * row. They are stored here as HWC (the layout of every other tensor of the lab). The directory may be the one
 * the archive unpacks to (`cifar-10-batches-bin`, `cifar-100-binary`) or its parent.
 *
 * Memory: 50,000 x 3,072 bytes = 154 MB of pixels for a training split, and 614 MB for its float copy
 * (made only when the non-augmented path reads `images`).
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { uint8Split, type Dataset, type Normalization, type Split } from './dataset.js';

/** Per-channel mean / std of the CIFAR-10 training pixels in [0, 1]. */
export const CIFAR10_NORM: Normalization = { mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616] };
/** Per-channel mean / std of the CIFAR-100 training pixels in [0, 1]. */
export const CIFAR100_NORM: Normalization = { mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762] };

const PIXELS = 3072;

interface Variant {
  name: 'cifar10' | 'cifar100';
  subdir: string;
  train: string[];
  test: string[];
  labelBytes: 1 | 2;
  numClasses: number;
  norm: Normalization;
}

const VARIANTS: Record<'cifar10' | 'cifar100', Variant> = {
  cifar10: {
    name: 'cifar10', subdir: 'cifar-10-batches-bin', train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`), test: ['test_batch.bin'],
    labelBytes: 1, numClasses: 10, norm: CIFAR10_NORM,
  },
  cifar100: {
    name: 'cifar100', subdir: 'cifar-100-binary', train: ['train.bin'], test: ['test.bin'], labelBytes: 2, numClasses: 100, norm: CIFAR100_NORM,
  },
};

/**
 * Parses records of the CIFAR binary format (`labelBytes` label bytes, the last one the class, then 3072 CHW
 * pixel bytes) into HWC pixels and labels; `what` names the file in errors.
 */
export function parseCifarRecords(bytes: Uint8Array, labelBytes: 1 | 2, numClasses: number, what: string, limit = Infinity): { pixels: Uint8Array; labels: Int32Array } {
  const rec = labelBytes + PIXELS;
  if (bytes.length === 0 || bytes.length % rec !== 0) {
    throw new Error(`${what}: ${bytes.length} bytes is not a whole number of ${rec}-byte records (${labelBytes} label byte${labelBytes > 1 ? 's' : ''} + 3072 pixels)`);
  }
  const n = Math.min(bytes.length / rec, limit);
  const pixels = new Uint8Array(n * PIXELS);
  const labels = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const o = k * rec;
    const label = bytes[o + labelBytes - 1];
    if (label >= numClasses) throw new Error(`${what}: label ${label} of record ${k} is out of range 0..${numClasses - 1}`);
    labels[k] = label;
    const src = o + labelBytes;
    const dst = k * PIXELS;
    for (let i = 0; i < 1024; i++) {
      pixels[dst + 3 * i] = bytes[src + i];
      pixels[dst + 3 * i + 1] = bytes[src + 1024 + i];
      pixels[dst + 3 * i + 2] = bytes[src + 2048 + i];
    }
  }
  return { pixels, labels };
}

function loadFiles(dir: string, files: string[], v: Variant, limit: number): Split {
  const parts: { pixels: Uint8Array; labels: Int32Array }[] = [];
  let left = limit;
  for (const f of files) {
    if (left <= 0) break;
    const p = path.join(dir, f);
    if (!existsSync(p)) throw new Error(`missing data file ${p} (${v.name} binary version)`);
    const part = parseCifarRecords(readFileSync(p), v.labelBytes, v.numClasses, p, left);
    parts.push(part);
    left -= part.labels.length;
  }
  const count = parts.reduce((s, p) => s + p.labels.length, 0);
  const pixels = parts.length === 1 ? parts[0].pixels : new Uint8Array(count * PIXELS);
  const labels = parts.length === 1 ? parts[0].labels : new Int32Array(count);
  if (parts.length > 1) {
    let at = 0;
    for (const p of parts) {
      pixels.set(p.pixels, at * PIXELS);
      labels.set(p.labels, at);
      at += p.labels.length;
    }
  }
  return uint8Split(pixels, labels, v.norm, 3);
}

/** Options of {@link loadCifar}. */
export interface CifarOptions {
  /** The directory of the `.bin` files, or its parent. */
  dir: string;
  /** Use only the first N examples of each split. */
  limit?: number;
}

/**
 * Loads CIFAR-10 or CIFAR-100 (binary version); images 32x32x3, normalized per channel.
 *
 * @example
 * ```ts
 * const ds = loadCifar('cifar100', { dir: '/data/cifar-100-binary' }); // 50000 train / 10000 test, 100 classes
 * ```
 */
export function loadCifar(which: 'cifar10' | 'cifar100', opts: CifarOptions): Dataset {
  const v = VARIANTS[which];
  if (!existsSync(opts.dir)) throw new Error(`data directory ${opts.dir} does not exist (expected the ${v.name} binary version)`);
  const dir = existsSync(path.join(opts.dir, v.subdir)) ? path.join(opts.dir, v.subdir) : opts.dir;
  const limit = opts.limit ?? Infinity;
  return {
    name: v.name, shape: [32, 32, 3], numClasses: v.numClasses, normalize: v.norm, crop: 'pad',
    train: loadFiles(dir, v.train, v, limit), test: loadFiles(dir, v.test, v, limit),
  };
}
