/**
 * RandAugment's image operations on 8-bit HWC images (1 or 3 channels), with the semantics of the PIL
 * functions torchvision's `RandAugment` calls on PIL images (Pillow 9.4): nearest-neighbour affine maps with
 * Pillow's 16.16 fixed-point stepping and black fill, `ImageEnhance` blends in float32 with truncation,
 * `ImageOps` look-up tables. Each function takes the image and returns a new one (or the same when it is
 * unchanged). Tests compare them with Pillow on small images.
 */

/** An 8-bit HWC image. */
export interface Img {
  data: Uint8Array;
  h: number;
  w: number;
  c: number;
}

const f32 = Math.fround;

/**
 * Pillow's `Image.transform(size, AFFINE, a, NEAREST)`: output pixel (x, y) reads input
 * (a0 x + a1 y + a2, a3 x + a4 y + a5) at pixel centres; outside is 0.
 */
export function affineNearest(img: Img, a: readonly number[]): Img {
  const { h, w, c: C, data } = img;
  const out = new Uint8Array(data.length);
  if (a[1] === 0 && a[3] === 0) {
    // Pillow's ImagingScaleAffine (no rotation / shear): per-axis tables in float
    const coord = (v: number) => (v < 0 ? -1 : Math.trunc(v));
    const xin = new Int32Array(w);
    let xo = a[2] + a[0] * 0.5;
    for (let x = 0; x < w; x++, xo += a[0]) xin[x] = coord(xo);
    let yo = a[5] + a[4] * 0.5;
    for (let y = 0; y < h; y++, yo += a[4]) {
      const yi = coord(yo);
      if (yi < 0 || yi >= h) continue;
      for (let x = 0; x < w; x++) {
        const xi = xin[x];
        if (xi < 0 || xi >= w) continue;
        for (let k = 0; k < C; k++) out[(y * w + x) * C + k] = data[(yi * w + xi) * C + k];
      }
    }
    return { data: out, h, w, c: C };
  }
  // Pillow's affine_fixed: 16.16 fixed point, stepped per pixel and per row
  const fix = (v: number) => Math.floor(v * 65536 + 0.5);
  const a0 = fix(a[0]);
  const a1 = fix(a[1]);
  const a3 = fix(a[3]);
  const a4 = fix(a[4]);
  let a2 = fix(a[2] + a[0] * 0.5 + a[1] * 0.5);
  let a5 = fix(a[5] + a[3] * 0.5 + a[4] * 0.5);
  for (let y = 0; y < h; y++, a2 += a1, a5 += a4) {
    let xx = a2;
    let yy = a5;
    for (let x = 0; x < w; x++, xx += a0, yy += a3) {
      const xi = Math.floor(xx / 65536);
      if (xi < 0 || xi >= w) continue;
      const yi = Math.floor(yy / 65536);
      if (yi < 0 || yi >= h) continue;
      for (let k = 0; k < C; k++) out[(y * w + x) * C + k] = data[(yi * w + xi) * C + k];
    }
  }
  return { data: out, h, w, c: C };
}

const RAD = Math.PI / 180;
const DEG = 180 / Math.PI;

/** torchvision's inverse affine matrix (`_get_inverse_affine_matrix`) for rotation / translation / shear in degrees. */
function inverseAffine(center: [number, number], angle: number, translate: [number, number], shear: [number, number]): number[] {
  const rot = RAD * angle;
  const sx = RAD * shear[0];
  const sy = RAD * shear[1];
  const [cx, cy] = center;
  const [tx, ty] = translate;
  const a = Math.cos(rot - sy) / Math.cos(sy);
  const b = (-Math.cos(rot - sy) * Math.tan(sx)) / Math.cos(sy) - Math.sin(rot);
  const c = Math.sin(rot - sy) / Math.cos(sy);
  const d = (-Math.sin(rot - sy) * Math.tan(sx)) / Math.cos(sy) + Math.cos(rot);
  const m = [d, -b, 0, -c, a, 0];
  m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty);
  m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty);
  m[2] += cx;
  m[5] += cy;
  return m;
}

/** ShearX by `m` (x_in = x + m y), as RandAugment: `F.affine(shear=[degrees(atan(m)), 0], center=[0, 0])`. */
export function shearX(img: Img, m: number): Img {
  return affineNearest(img, inverseAffine([0, 0], 0, [0, 0], [DEG * Math.atan(m), 0]));
}

/** ShearY by `m` (y_in = y + m x). */
export function shearY(img: Img, m: number): Img {
  return affineNearest(img, inverseAffine([0, 0], 0, [0, 0], [0, DEG * Math.atan(m)]));
}

/** Translation by whole pixels (RandAugment truncates the magnitude: `int(m)`). */
export function translate(img: Img, dx: number, dy: number): Img {
  return affineNearest(img, inverseAffine([0, 0], 0, [Math.trunc(dx), Math.trunc(dy)], [0, 0]));
}

const round15 = (v: number) => Number(v.toFixed(15));

/** Pillow's `Image.rotate(angle)` (degrees, counter-clockwise, about the image centre, same size, black fill). */
export function rotate(img: Img, angle: number): Img {
  const { w, h } = img;
  const deg = ((angle % 360) + 360) % 360;
  if (deg === 0) return { ...img, data: img.data.slice() };
  const t = -RAD * angle;
  const m = [round15(Math.cos(t)), round15(Math.sin(t)), 0, round15(-Math.sin(t)), round15(Math.cos(t)), 0];
  const cx = w / 2;
  const cy = h / 2;
  m[2] = m[0] * -cx + m[1] * -cy + m[2] + cx;
  m[5] = m[3] * -cx + m[4] * -cy + m[5] + cy;
  return affineNearest(img, m);
}

/** Pillow's `Image.blend(degenerate, img, factor)`: float32 interpolation, truncated (clipped when extrapolating). */
function blend(degenerate: Uint8Array, img: Img, factor: number): Img {
  const alpha = f32(factor);
  const src = img.data;
  const out = new Uint8Array(src.length);
  if (alpha >= 0 && alpha <= 1) {
    for (let i = 0; i < src.length; i++) out[i] = Math.trunc(f32(degenerate[i] + f32(alpha * (src[i] - degenerate[i]))));
  } else {
    for (let i = 0; i < src.length; i++) {
      const t = f32(degenerate[i] + f32(alpha * (src[i] - degenerate[i])));
      out[i] = t <= 0 ? 0 : t >= 255 ? 255 : Math.trunc(t);
    }
  }
  return { ...img, data: out };
}

/** Pillow's RGB -> L: (299 R + 587 G + 114 B) / 1000 in 16-bit fixed point, rounded. */
function luma(img: Img): Uint8Array {
  if (img.c === 1) return img.data;
  const n = img.h * img.w;
  const out = new Uint8Array(n);
  const d = img.data;
  for (let i = 0; i < n; i++) out[i] = (d[3 * i] * 19595 + d[3 * i + 1] * 38470 + d[3 * i + 2] * 7471 + 0x8000) >>> 16;
  return out;
}

function spread(gray: Uint8Array, C: number): Uint8Array {
  if (C === 1) return gray;
  const out = new Uint8Array(gray.length * C);
  for (let i = 0; i < gray.length; i++) for (let k = 0; k < C; k++) out[i * C + k] = gray[i];
  return out;
}

/** `ImageEnhance.Brightness(img).enhance(f)`. */
export function brightness(img: Img, f: number): Img {
  return blend(new Uint8Array(img.data.length), img, f);
}

/** `ImageEnhance.Color(img).enhance(f)` (saturation: blend with the grey image). */
export function color(img: Img, f: number): Img {
  return blend(spread(luma(img), img.c), img, f);
}

/** `ImageEnhance.Contrast(img).enhance(f)`: blend with the mean grey level, `int(mean + 0.5)`. */
export function contrast(img: Img, f: number): Img {
  const g = luma(img);
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i];
  const mean = Math.trunc(s / g.length + 0.5);
  return blend(new Uint8Array(img.data.length).fill(mean), img, f);
}

/** `ImageEnhance.Sharpness(img).enhance(f)`: blend with `ImageFilter.SMOOTH` (3x3 [1 1 1; 1 5 1; 1 1 1] / 13, border kept). */
export function sharpness(img: Img, f: number): Img {
  const { h, w, c: C, data } = img;
  const smooth = data.slice();
  const k1 = f32(1 / 13);
  const k5 = f32(5 / 13);
  const row = w * C;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      for (let k = 0; k < C; k++) {
        const i = y * row + x * C + k;
        // Pillow: ss = 0.5; ss += row(y+1); ss += row(y); ss += row(y-1), each row a float32 sum of 3 products
        const lo = i + row;
        const hi = i - row;
        const rLo = f32(f32(f32(data[lo - C] * k1) + f32(data[lo] * k1)) + f32(data[lo + C] * k1));
        const rMid = f32(f32(f32(data[i - C] * k1) + f32(data[i] * k5)) + f32(data[i + C] * k1));
        const rHi = f32(f32(f32(data[hi - C] * k1) + f32(data[hi] * k1)) + f32(data[hi + C] * k1));
        const ss = f32(f32(f32(0.5 + rLo) + rMid) + rHi);
        smooth[i] = ss <= 0 ? 0 : ss >= 255 ? 255 : Math.trunc(ss);
      }
    }
  }
  return blend(smooth, img, f);
}

function applyLut(img: Img, luts: Uint8Array[]): Img {
  const { data, c: C } = img;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i += C) for (let k = 0; k < C; k++) out[i + k] = luts[k][data[i + k]];
  return { ...img, data: out };
}

function sameLut(C: number, f: (v: number) => number): Uint8Array[] {
  const lut = Uint8Array.from({ length: 256 }, (_, v) => f(v));
  return Array.from({ length: C }, () => lut);
}

/** `ImageOps.posterize(img, bits)`: keep the top `bits` bits. */
export function posterize(img: Img, bits: number): Img {
  const mask = ~((1 << (8 - bits)) - 1) & 0xff;
  return applyLut(img, sameLut(img.c, (v) => v & mask));
}

/** `ImageOps.solarize(img, threshold)`: invert the values >= threshold. */
export function solarize(img: Img, threshold: number): Img {
  return applyLut(img, sameLut(img.c, (v) => (v < threshold ? v : 255 - v)));
}

function histograms(img: Img): Int32Array[] {
  const hs = Array.from({ length: img.c }, () => new Int32Array(256));
  const { data, c: C } = img;
  for (let i = 0; i < data.length; i += C) for (let k = 0; k < C; k++) hs[k][data[i + k]]++;
  return hs;
}

/** `ImageOps.autocontrast(img)`: per channel, stretch [min, max] to [0, 255]. */
export function autocontrast(img: Img): Img {
  const luts = histograms(img).map((hist) => {
    let lo = 0;
    while (lo < 255 && hist[lo] === 0) lo++;
    let hi = 255;
    while (hi > 0 && hist[hi] === 0) hi--;
    const lut = new Uint8Array(256);
    if (hi <= lo) {
      for (let v = 0; v < 256; v++) lut[v] = v;
    } else {
      const scale = 255 / (hi - lo);
      const offset = -lo * scale;
      for (let v = 0; v < 256; v++) lut[v] = Math.min(255, Math.max(0, Math.trunc(v * scale + offset)));
    }
    return lut;
  });
  return applyLut(img, luts);
}

/** `ImageOps.equalize(img)`: per channel histogram equalization as Pillow's. */
export function equalize(img: Img): Img {
  const luts = histograms(img).map((hist) => {
    const lut = Uint8Array.from({ length: 256 }, (_, v) => v);
    let nonzero = 0;
    let total = 0;
    let last = 0;
    for (let v = 0; v < 256; v++) {
      if (hist[v]) {
        nonzero++;
        total += hist[v];
        last = hist[v];
      }
    }
    if (nonzero <= 1) return lut;
    const step = Math.floor((total - last) / 256);
    if (!step) return lut;
    let n = Math.floor(step / 2);
    for (let v = 0; v < 256; v++) {
      lut[v] = Math.min(255, Math.floor(n / step));
      n += hist[v];
    }
    return lut;
  });
  return applyLut(img, luts);
}
