/**
 * The geometric augmentations of torchvision on 8-bit HWC images: random crop with zero padding
 * (`RandomCrop(size, padding=4)`), random-resized-crop (`RandomResizedCrop(size, scale=(0.08, 1),
 * ratio=(3/4, 4/3))`, bilinear) and the horizontal flip. The parameters are drawn from a seeded {@link Rng}
 * (one draw sequence per image, in a fixed order), the pixels are moved by plain loops.
 */
import type { Rng } from 'layerwise-lr';
import { resizeBilinear, type Box } from './resample.js';

/** Uniform integer in [lo, hi) from `rng` (torch.randint's range). */
export function randInt(rng: Rng, lo: number, hi: number): number {
  return lo + Math.min(Math.floor(rng.uniform() * (hi - lo)), hi - lo - 1);
}

/** Python's `round` (half to even), which torchvision's crop sizes use. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Copies the `size` x `size` window at (`top`, `left`) of the image padded by `pad` zero pixels on every side
 * (`top`, `left` in padded coordinates, 0..2 * pad) into `out`.
 *
 * @example
 * ```ts
 * cropPadded(img, 32, 32, 3, 4, 0, 8, 32, out); // the window 4 px up and 4 px right of centre
 * ```
 */
export function cropPadded(src: Uint8Array, h: number, w: number, C: number, pad: number, top: number, left: number, size: number, out: Uint8Array): Uint8Array {
  out.fill(0);
  const dy = top - pad;
  const dx = left - pad;
  const x0 = Math.max(0, -dx);
  const x1 = Math.min(size, w - dx);
  if (x1 <= x0) return out;
  for (let y = 0; y < size; y++) {
    const sy = y + dy;
    if (sy < 0 || sy >= h) continue;
    out.set(src.subarray((sy * w + x0 + dx) * C, (sy * w + x1 + dx) * C), (y * size + x0) * C);
  }
  return out;
}

/** torchvision's `RandomCrop(size, padding=pad)`: the window's top and left in padded coordinates. */
export function randomCropParams(rng: Rng, h: number, w: number, pad: number, size: number): { top: number; left: number } {
  const top = randInt(rng, 0, h + 2 * pad - size + 1);
  const left = randInt(rng, 0, w + 2 * pad - size + 1);
  return { top, left };
}

/**
 * torchvision's `RandomResizedCrop.get_params`: up to 10 tries of an area fraction in `scale` and a
 * log-uniform aspect ratio in `ratio`; then the central crop clamped to the ratio range.
 */
export function randomResizedCropParams(rng: Rng, h: number, w: number, scale: [number, number] = [0.08, 1], ratio: [number, number] = [3 / 4, 4 / 3]): Box {
  const area = h * w;
  const logR = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let t = 0; t < 10; t++) {
    const target = area * (scale[0] + (scale[1] - scale[0]) * rng.uniform());
    const aspect = Math.exp(logR[0] + (logR[1] - logR[0]) * rng.uniform());
    const cw = roundHalfEven(Math.sqrt(target * aspect));
    const chh = roundHalfEven(Math.sqrt(target / aspect));
    if (cw > 0 && cw <= w && chh > 0 && chh <= h) {
      const y = randInt(rng, 0, h - chh + 1);
      const x = randInt(rng, 0, w - cw + 1);
      return { x, y, w: cw, h: chh };
    }
  }
  const inRatio = w / h;
  let cw = w;
  let chh = h;
  if (inRatio < Math.min(...ratio)) chh = roundHalfEven(w / Math.min(...ratio));
  else if (inRatio > Math.max(...ratio)) cw = roundHalfEven(h * Math.max(...ratio));
  return { x: Math.floor((w - cw) / 2), y: Math.floor((h - chh) / 2), w: cw, h: chh };
}

/** Crops `box` and resizes it to `outW` x `outH` (bilinear, antialiased as Pillow). */
export function resizedCrop(src: Uint8Array, h: number, w: number, C: number, box: Box, outH: number, outW: number, out: Uint8Array): Uint8Array {
  return resizeBilinear(src, w, h, C, outW, outH, box, out);
}

/** Mirrors an HWC image left-right in place. */
export function flipHorizontal(img: Uint8Array, h: number, w: number, C: number): Uint8Array {
  for (let y = 0; y < h; y++) {
    const row = y * w * C;
    for (let a = 0, b = w - 1; a < b; a++, b--) {
      for (let c = 0; c < C; c++) {
        const i = row + a * C + c;
        const j = row + b * C + c;
        const t = img[i];
        img[i] = img[j];
        img[j] = t;
      }
    }
  }
  return img;
}

/** torchvision's center crop offsets: `int(round((size - crop) / 2))`. */
export function centerCropOffset(size: number, crop: number): number {
  return roundHalfEven((size - crop) / 2);
}
