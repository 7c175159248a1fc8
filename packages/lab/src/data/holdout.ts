/**
 * The validation hold-out: a fixed, seeded subset of the training split. The permutation depends only on the
 * split's size and the hold-out seed (0 unless given), not on the run's `--seed`, the epoch or the LR scheme,
 * so every run and every scheme of a comparison holds out the same examples. Both parts keep file order.
 */
import { Rng, deriveSeed } from 'layerwise-lr';
import { uint8Split, type Normalization, type Split } from './dataset.js';

/** `--val-split F`: a fraction in (0, 1) of the training split, or a whole count >= 1. */
export function holdoutCount(spec: number, trainCount: number): number {
  let n: number;
  if (spec > 0 && spec < 1) n = Math.round(spec * trainCount);
  else if (Number.isInteger(spec) && spec >= 1) n = spec;
  else throw new Error(`--val-split must be a fraction in (0, 1) or a whole count >= 1 (got ${spec})`);
  if (n < 1 || n >= trainCount) throw new Error(`--val-split ${spec} holds out ${n} of ${trainCount} training examples (need 1..${trainCount - 1})`);
  return n;
}

/** The held-out indices (sorted) of a split of `count`: the first `n` of a seeded permutation. */
export function holdoutIndices(count: number, n: number, seed = 0): Int32Array {
  const rng = new Rng(deriveSeed(seed, 'val-split'));
  const p = new Int32Array(count);
  for (let i = 0; i < count; i++) p[i] = i;
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rng.uniform() * (count - i));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p.slice(0, n).sort();
}

/** The examples `indices` of a split (pixels kept when it has them). */
export function subsetSplit(split: Split, indices: Int32Array, perImage: number, norm?: Normalization, channels = 1): Split {
  const labels = new Int32Array(indices.length);
  indices.forEach((i, k) => { labels[k] = split.labels[i]; });
  if (split.pixels && norm) {
    const px = new Uint8Array(indices.length * perImage);
    indices.forEach((i, k) => px.set(split.pixels!.subarray(i * perImage, (i + 1) * perImage), k * perImage));
    return uint8Split(px, labels, norm, channels);
  }
  const images = new Float32Array(indices.length * perImage);
  const src = split.images;
  indices.forEach((i, k) => images.set(src.subarray(i * perImage, (i + 1) * perImage), k * perImage));
  return { images, labels, count: indices.length };
}

/**
 * Splits a training split into (train, val): `val` = the examples of {@link holdoutIndices}, `train` the rest.
 *
 * @example
 * ```ts
 * const { train, val } = holdout(ds.train, 0.1, 28 * 28, ds.normalize, 1); // 10% of the training split
 * ```
 */
export function holdout(split: Split, spec: number, perImage: number, norm?: Normalization, channels = 1, seed = 0): { train: Split; val: Split } {
  const n = holdoutCount(spec, split.count);
  const valIdx = holdoutIndices(split.count, n, seed);
  const isVal = new Uint8Array(split.count);
  for (const i of valIdx) isVal[i] = 1;
  const trainIdx = new Int32Array(split.count - n);
  for (let i = 0, k = 0; i < split.count; i++) if (!isVal[i]) trainIdx[k++] = i;
  return { train: subsetSplit(split, trainIdx, perImage, norm, channels), val: subsetSplit(split, valIdx, perImage, norm, channels) };
}
