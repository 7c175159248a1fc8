/**
 * RandAugment (Cubuk et al. 2020) as torchvision's `transforms.RandAugment(num_ops=N, magnitude=M,
 * num_magnitude_bins=31, interpolation=NEAREST, fill=None)`: N times, an op drawn uniformly from the 14 below,
 * at magnitude bin M of its range; signed ops flip the sign with probability 1/2.
 *
 * | op | magnitude at bin M (of 0..30) |
 * |----|----|
 * | Identity | - |
 * | ShearX, ShearY | 0.3 M/30 (signed) |
 * | TranslateX, TranslateY | (150/331) W M/30 px (signed, truncated to an integer) |
 * | Rotate | 30 M/30 degrees (signed) |
 * | Brightness, Color, Contrast, Sharpness | factor 1 + 0.9 M/30 (signed offset) |
 * | Posterize | 8 - round(M / 7.5) bits |
 * | Solarize | threshold 255 (1 - M/30) |
 * | AutoContrast, Equalize | - |
 *
 * At the paper's M = 10: shear 0.1, translate 15% of the side, rotate 10 degrees, enhance 0.7 or 1.3,
 * posterize to 7 bits, solarize at 170. Magnitudes are computed in float32 as `torch.linspace` does.
 *
 * Deviations: the random draws come from the run's seeded {@link Rng}, not torch's generator (same
 * distribution, different numbers). The paper's timm pipeline may have used timm's `rand-m10-n2` policy,
 * which differs from torchvision's (each op applied with probability 0.5, magnitude noise, a different op
 * list); we follow torchvision's, as the project's brief asks.
 */
import type { Rng } from 'layerwise-lr';
import { randInt } from './geometry.js';
import {
  autocontrast, brightness, color, contrast, equalize, posterize, rotate, sharpness, shearX, shearY, solarize, translate, type Img,
} from './ops.js';

export const RANDAUGMENT_OPS = [
  'Identity', 'ShearX', 'ShearY', 'TranslateX', 'TranslateY', 'Rotate', 'Brightness', 'Color', 'Contrast', 'Sharpness',
  'Posterize', 'Solarize', 'AutoContrast', 'Equalize',
] as const;
export type RandAugmentOp = (typeof RANDAUGMENT_OPS)[number];

const BINS = 31;
const f32 = Math.fround;

/** `torch.linspace(start, end, 31)[i]` in float32 (torch's two-sided formula). */
export function linspace31(start: number, end: number, i: number): number {
  const s = f32(start);
  const e = f32(end);
  const step = f32(f32(e - s) / (BINS - 1));
  return i < Math.floor(BINS / 2) ? f32(s + f32(step * i)) : f32(e - f32(step * (BINS - 1 - i)));
}

/** The unsigned magnitude of `op` at bin `m` for an image of width `w`, height `h` (as torchvision's `_augmentation_space`). */
export function opMagnitude(op: RandAugmentOp, m: number, h: number, w: number): number {
  switch (op) {
    case 'ShearX': case 'ShearY': return linspace31(0, 0.3, m);
    case 'TranslateX': return linspace31(0, (150 / 331) * w, m);
    case 'TranslateY': return linspace31(0, (150 / 331) * h, m);
    case 'Rotate': return linspace31(0, 30, m);
    case 'Brightness': case 'Color': case 'Contrast': case 'Sharpness': return linspace31(0, 0.9, m);
    case 'Posterize': {
      // 8 - round(arange / 7.5) in float32, torch.round = half to even
      const v = f32(m / f32(7.5));
      const r = Math.round(v);
      return 8 - (Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r);
    }
    case 'Solarize': return linspace31(255, 0, m);
    default: return 0;
  }
}

const SIGNED: ReadonlySet<RandAugmentOp> = new Set(['ShearX', 'ShearY', 'TranslateX', 'TranslateY', 'Rotate', 'Brightness', 'Color', 'Contrast', 'Sharpness']);

/** Applies one op with a signed magnitude (torchvision's `_apply_op`). */
export function applyOp(img: Img, op: RandAugmentOp, magnitude: number): Img {
  switch (op) {
    case 'Identity': return img;
    case 'ShearX': return shearX(img, magnitude);
    case 'ShearY': return shearY(img, magnitude);
    case 'TranslateX': return translate(img, magnitude, 0);
    case 'TranslateY': return translate(img, 0, magnitude);
    case 'Rotate': return rotate(img, magnitude);
    case 'Brightness': return brightness(img, 1 + magnitude);
    case 'Color': return color(img, 1 + magnitude);
    case 'Contrast': return contrast(img, 1 + magnitude);
    case 'Sharpness': return sharpness(img, 1 + magnitude);
    case 'Posterize': return posterize(img, Math.trunc(magnitude));
    case 'Solarize': return solarize(img, magnitude);
    case 'AutoContrast': return autocontrast(img);
    case 'Equalize': return equalize(img);
  }
}

/** N and M of RandAugment (the paper: N = 2, M = 10). */
export interface RandAugmentOptions {
  n: number;
  m: number;
}

/**
 * RandAugment on one image with draws from `rng` (per op: the op index, then the sign for signed ops).
 *
 * @example
 * ```ts
 * const out = randAugment({ data, h: 32, w: 32, c: 3 }, { n: 2, m: 10 }, new Rng(1));
 * ```
 */
export function randAugment(img: Img, o: RandAugmentOptions, rng: Rng): Img {
  let out = img;
  for (let i = 0; i < o.n; i++) {
    const op = RANDAUGMENT_OPS[randInt(rng, 0, RANDAUGMENT_OPS.length)];
    let mag = opMagnitude(op, o.m, out.h, out.w);
    if (SIGNED.has(op) && rng.uniform() < 0.5) mag = -mag;
    out = applyOp(out, op, mag);
  }
  return out;
}

/** Parses `N,M` (the `--randaugment` flag); M in 0..30. */
export function parseRandAugment(s: string): RandAugmentOptions {
  const m = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(s);
  if (!m || Number(m[2]) > BINS - 1) throw new Error(`--randaugment must be N,M with integers N >= 0 and M in 0..30 (got '${s}')`);
  return { n: Number(m[1]), m: Number(m[2]) };
}
