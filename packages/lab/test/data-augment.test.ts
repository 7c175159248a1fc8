// Augmentation ops against known answers: Pillow / torchvision references (fixtures/augment-pil.json, written
// by fixtures/gen-augment-pil.py) and hand-derived crops, flips and Mixup weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Rng } from 'layerwise-lr';
import { resizeBilinear } from '../src/data/augment/resample.js';
import { applyOp, linspace31, opMagnitude, parseRandAugment, randAugment, RANDAUGMENT_OPS, type RandAugmentOp } from '../src/data/augment/randaugment.js';
import { cropPadded, flipHorizontal, randomCropParams, randomResizedCropParams, roundHalfEven } from '../src/data/augment/geometry.js';
import { mixBatch, randomPermutation, sampleBeta, sampleGamma } from '../src/data/augment/mixup.js';

interface Fixture {
  ops: { h: number; w: number; c: number; op: RandAugmentOp; bin: number; magnitude: number; out: number[] }[];
  resize: { h: number; w: number; c: number; oh: number; ow: number; box: [number, number, number, number] | null; out: number[] }[];
  magnitudes: Record<string, number[]>;
}
const fx = JSON.parse(readFileSync(new URL('../../test/fixtures/augment-pil.json', import.meta.url), 'utf8')) as Fixture;

/** The fixtures' test image: pixel (i, j, k) = (37 i + 11 j + 71 k + 5 i j) mod 256. */
function image(h: number, w: number, c: number): Uint8Array {
  const a = new Uint8Array(h * w * c);
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let k = 0; k < c; k++) a[(i * w + j) * c + k] = (i * 37 + j * 11 + k * 71 + i * j * 5) % 256;
  return a;
}

test('RandAugment magnitudes: torchvision _augmentation_space (31 bins, 8x9 image), float32 linspace', () => {
  for (const op of RANDAUGMENT_OPS) {
    const ref = fx.magnitudes[op];
    if (ref.length === 1) {
      assert.equal(opMagnitude(op, 10, 8, 9), 0, op);
      continue;
    }
    // torch's vectorized linspace rounds some middle bins differently (by CPU vector width): 1 ulp of float32
    for (let m = 0; m < 31; m++) assert.ok(Math.abs(opMagnitude(op, m, 8, 9) - ref[m]) <= 2e-7 * Math.abs(ref[m]), `${op} bin ${m}`);
    for (const m of [0, 10, 30]) assert.equal(opMagnitude(op, m, 8, 9), ref[m], `${op} bin ${m} exactly`);
  }
  // the paper's M = 10, by hand: shear 0.1, rotate 10 degrees, enhance 0.3, posterize 7 bits, solarize 170
  assert.equal(opMagnitude('Rotate', 10, 32, 32), 10);
  assert.equal(opMagnitude('Posterize', 10, 32, 32), 7);
  assert.equal(opMagnitude('Solarize', 10, 32, 32), 170);
  assert.equal(linspace31(0, 0.3, 10), Math.fround(Math.fround(Math.fround(0.3) / 30) * 10)); // 0.10000000894, as torch
  assert.equal(Math.trunc(opMagnitude('TranslateX', 10, 32, 32)), 4); // 150/331 * 32 / 3 = 4.83 -> 4 px
});

test('RandAugment ops equal Pillow 9.4 / torchvision 0.14 pixel for pixel (RGB 8x9 and L 6x5, bins 10 and 30, both signs)', () => {
  assert.ok(fx.ops.length >= 80);
  const ops = new Set<string>();
  for (const r of fx.ops) {
    const src = image(r.h, r.w, r.c);
    const got = applyOp({ data: src, h: r.h, w: r.w, c: r.c }, r.op, r.magnitude);
    assert.deepEqual(Array.from(got.data), r.out, `${r.op} magnitude ${r.magnitude} on ${r.h}x${r.w}x${r.c}`);
    ops.add(r.op);
  }
  assert.equal(ops.size, 14, 'every op is covered');
});

test('resize: bilinear equal to Pillow (torchvision Resize / resized_crop), down, up, crop box', () => {
  for (const r of fx.resize) {
    const src = image(r.h, r.w, r.c);
    const box = r.box ? { x: r.box[0], y: r.box[1], w: r.box[2], h: r.box[3] } : undefined;
    const got = resizeBilinear(src, r.w, r.h, r.c, r.ow, r.oh, box);
    assert.deepEqual(Array.from(got), r.out, `${r.h}x${r.w}x${r.c} -> ${r.oh}x${r.ow} box ${r.box}`);
  }
  // by hand: 1x2 gray [0, 100] -> 1x1 averages (triangle of support 2 over both pixels, equal weights)
  assert.deepEqual(Array.from(resizeBilinear(Uint8Array.from([0, 100]), 2, 1, 1, 1, 1)), [50]);
  assert.throws(() => resizeBilinear(new Uint8Array(4), 2, 2, 1, 1, 1, { x: 1, y: 0, w: 2, h: 2 }), /resize box 1,0 2x2 is outside the 2x2 image/);
});

test('random crop with padding 4: offsets, zero padding, layout (hand-derived)', () => {
  // 3x3 one-channel image 1..9, pad 1, window 3 at padded (0, 2): rows -1..1, cols 1..3 of the image
  const img = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const out = new Uint8Array(9);
  cropPadded(img, 3, 3, 1, 1, 0, 2, 3, out);
  assert.deepEqual(Array.from(out), [0, 0, 0, 2, 3, 0, 5, 6, 0]);
  cropPadded(img, 3, 3, 1, 1, 1, 1, 3, out);
  assert.deepEqual(Array.from(out), [1, 2, 3, 4, 5, 6, 7, 8, 9], 'the centre window is the image');
  // RGB keeps channels together
  const rgb = Uint8Array.from({ length: 2 * 2 * 3 }, (_, i) => i + 1);
  const o2 = new Uint8Array(12);
  cropPadded(rgb, 2, 2, 3, 1, 2, 2, 2, o2);
  assert.deepEqual(Array.from(o2), [10, 11, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  // offsets cover 0..2*pad uniformly (CIFAR: 9 x 9 positions)
  const rng = new Rng(3);
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const { top, left } = randomCropParams(rng, 32, 32, 4, 32);
    assert.ok(top >= 0 && top <= 8 && left >= 0 && left <= 8);
    seen.add(`${top},${left}`);
  }
  assert.equal(seen.size, 81);
});

test('horizontal flip: mirrors columns, keeps channel order', () => {
  const img = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]); // 2x2 RGB
  assert.deepEqual(Array.from(flipHorizontal(img.slice(), 2, 2, 3)), [4, 5, 6, 1, 2, 3, 10, 11, 12, 7, 8, 9]);
  const odd = Uint8Array.from([1, 2, 3]); // 1x3 gray
  assert.deepEqual(Array.from(flipHorizontal(odd, 1, 3, 1)), [3, 2, 1]);
});

test('random-resized-crop params: area in [0.08, 1], ratio in [3/4, 4/3], inside the image; central fallback', () => {
  const rng = new Rng(11);
  let small = 0;
  for (let i = 0; i < 3000; i++) {
    const b = randomResizedCropParams(rng, 64, 80);
    assert.ok(b.x >= 0 && b.y >= 0 && b.x + b.w <= 80 && b.y + b.h <= 64, JSON.stringify(b));
    const area = (b.w * b.h) / (64 * 80);
    assert.ok(area > 0.06 && area <= 1.0, `area ${area}`);
    const r = b.w / b.h;
    assert.ok(r > 0.7 && r < 1.43, `ratio ${r}`);
    if (area < 0.3) small++;
  }
  assert.ok(small > 500, 'small crops are common (the area is uniform in [0.08, 1])');
  // an area fraction above 1 never fits: the fallback is the central crop clamped to ratio 4/3 (10x40 -> 10x13)
  assert.deepEqual(randomResizedCropParams(new Rng(1), 10, 40, [2, 3]), { x: 13, y: 0, w: 13, h: 10 });
  assert.deepEqual(randomResizedCropParams(new Rng(1), 40, 10, [2, 3]), { x: 0, y: 13, w: 10, h: 13 });
  assert.deepEqual(randomResizedCropParams(new Rng(1), 10, 12, [2, 3]), { x: 0, y: 0, w: 12, h: 10 });
  assert.equal(roundHalfEven(2.5), 2);
  assert.equal(roundHalfEven(3.5), 4);
});

test('RandAugment: N ops from the seeded stream, deterministic per seed, identity at N = 0', () => {
  const img = { data: image(8, 9, 3), h: 8, w: 9, c: 3 };
  const a = randAugment(img, { n: 2, m: 10 }, new Rng(5));
  const b = randAugment(img, { n: 2, m: 10 }, new Rng(5));
  assert.deepEqual(a.data, b.data);
  assert.equal(randAugment(img, { n: 0, m: 10 }, new Rng(5)), img);
  // the op draws are uniform over the 14 ops
  const rng = new Rng(9);
  let changed = 0;
  for (let i = 0; i < 200; i++) if (!Buffer.from(randAugment(img, { n: 1, m: 10 }, rng).data).equals(Buffer.from(img.data))) changed++;
  assert.ok(changed > 150 && changed < 200, `${changed} of 200 single ops changed the image (Identity is 1 in 14)`);
  assert.deepEqual(parseRandAugment('2,10'), { n: 2, m: 10 });
  assert.throws(() => parseRandAugment('2,31'), /--randaugment must be N,M .*got '2,31'/);
});

test('Mixup: Gamma and Beta moments, lambda weights and permuted labels', () => {
  const rng = new Rng(42);
  for (const shape of [0.5, 1, 3.5]) {
    let s = 0;
    let s2 = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const g = sampleGamma(rng, shape);
      s += g;
      s2 += g * g;
    }
    const mean = s / n;
    const v = s2 / n - mean * mean;
    assert.ok(Math.abs(mean - shape) < 0.04 * Math.max(1, shape), `Gamma(${shape}) mean ${mean}`);
    assert.ok(Math.abs(v - shape) < 0.1 * Math.max(1, shape), `Gamma(${shape}) variance ${v}`);
  }
  // Beta(0.5, 0.5): mean 1/2, variance 1/8, U-shaped (a quarter of the mass below 0.146 = sin^2(pi/8))
  let s = 0;
  let s2 = 0;
  let low = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const l = sampleBeta(rng, 0.5, 0.5);
    assert.ok(l >= 0 && l <= 1);
    s += l;
    s2 += l * l;
    if (l < Math.sin(Math.PI / 8) ** 2) low++;
  }
  assert.ok(Math.abs(s / n - 0.5) < 0.01);
  assert.ok(Math.abs(s2 / n - (s / n) ** 2 - 0.125) < 0.005);
  assert.ok(Math.abs(low / n - 0.25) < 0.015, `${low / n}`);
  // mixing: rows [1,1] [2,2] [3,3], perm [2,0,1], lambda 0.25 -> 0.25 x_i + 0.75 x_perm(i)
  const x = Float32Array.from([1, 1, 2, 2, 3, 3]);
  const y2 = mixBatch(x, Int32Array.from([10, 20, 30]), 3, 2, 0.25, Int32Array.from([2, 0, 1]));
  assert.deepEqual(Array.from(x), [2.5, 2.5, 1.25, 1.25, 2.25, 2.25]);
  assert.deepEqual(Array.from(y2), [30, 10, 20]);
  const p = randomPermutation(new Rng(1), 50);
  assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  assert.throws(() => sampleGamma(rng, 0), /gamma shape must be > 0, got 0/);
});
