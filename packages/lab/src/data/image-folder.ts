/**
 * A folder of images by class, ImageNet style: `DIR/train/<class>/*.{jpg,jpeg,png}` and `DIR/val/<class>/...`.
 * Classes are the sorted subfolder names of `train` (label = index, as torchvision's `ImageFolder`); `val` may
 * hold a subset of them. Files are decoded through `sharp` (libvips) to 8-bit sRGB (alpha dropped, grey
 * replicated to RGB), then resized and cropped in memory as torchvision's transforms on PIL images do
 * (bilinear with Pillow's antialiasing, see {@link resizeBilinear}):
 *
 * - test split (and the training split when it is not augmented): `Resize(floor(S / 0.875))` +
 *   `CenterCrop(S)`, S = the image size (224 -> 256 -> 224, as timm's and torchvision's evaluation);
 * - training split for random-resized-crop (`trainStoredSize` R): `Resize(R)` + `CenterCrop(R)`; each
 *   augmented batch then takes its random-resized-crop from these R x R images. Deviation from torchvision:
 *   RRC samples from the central square of the image at R pixels, not from the full-resolution image.
 *
 * Memory: every image is held as R x R x 3 bytes. 10,000 images at R = 256 take 1.97 GB; at the CPU-sized 64
 * (S = 56) 123 MB. Full ImageNet-1k (1.28 M images) needs 252 GB at R = 256 and 15.7 GB even at 64, plus the
 * float copy of a non-augmented split (4x that): out of reach of this (23 GB) machine; use a class or image
 * subset (`limit`) or small sizes.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { uint8Split, type Dataset, type Normalization, type Split } from './dataset.js';
import { resizeBilinear } from './augment/resample.js';
import { centerCropOffset } from './augment/geometry.js';

/** ImageNet's per-channel mean / std (pixels in [0, 1]), as torchvision and timm. */
export const IMAGENET_NORM: Normalization = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

const EXTENSIONS = new Set(['.jpg', '.jpeg', '.png']);

/** Options of {@link loadImageFolder}. */
export interface ImageFolderOptions {
  dir: string;
  /** Side of the model's input (the test split's stored size). */
  imageSize: number;
  /** Side of the stored training images (default `imageSize`; larger for random-resized-crop). */
  trainStoredSize?: number;
  /** Use only the first N files of each split (in class, then file-name order). */
  limit?: number;
  /** Files decoded at once (default 4). */
  concurrency?: number;
}

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function listClassFiles(splitDir: string, classes: readonly string[]): { files: string[]; labels: number[] } {
  const files: string[] = [];
  const labels: number[] = [];
  const folders = readdirSync(splitDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort(byCodeUnits);
  for (const name of folders) {
    const label = classes.indexOf(name);
    if (label < 0) throw new Error(`${path.join(splitDir, name)}: class folder not among the training classes (${splitDir.replace(/[^/]+$/, 'train')})`);
    const dir = path.join(splitDir, name);
    for (const f of readdirSync(dir).sort(byCodeUnits)) {
      if (!EXTENSIONS.has(path.extname(f).toLowerCase())) continue;
      files.push(path.join(dir, f));
      labels.push(label);
    }
  }
  return { files, labels };
}

/** Decodes one file to `side` x `side` x 3: shorter side resized to `resizeTo`, then the centre `side` square. */
async function decode(file: string, resizeTo: number, side: number): Promise<Uint8Array> {
  let data: Buffer;
  let width: number;
  let height: number;
  try {
    const r = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    ({ data } = r);
    ({ width, height } = r.info);
    if (r.info.channels !== 3) throw new Error(`${r.info.channels} channels after conversion to sRGB`);
  } catch (e) {
    throw new Error(`${file}: cannot decode image (${(e as Error).message.split('\n')[0]})`);
  }
  const src = new Uint8Array(data.buffer, data.byteOffset, data.length);
  // torchvision Resize(int): the shorter side becomes resizeTo, the longer int(resizeTo * long / short)
  const [rw, rh] = width <= height ? [resizeTo, Math.trunc((resizeTo * height) / width)] : [Math.trunc((resizeTo * width) / height), resizeTo];
  if (rw < side || rh < side) throw new Error(`${file}: ${width}x${height} resized to ${rw}x${rh} is smaller than the ${side}x${side} crop`);
  const resized = rw === width && rh === height ? src : resizeBilinear(src, width, height, 3, rw, rh);
  const top = centerCropOffset(rh, side);
  const left = centerCropOffset(rw, side);
  if (rw === side && rh === side) return resized.slice();
  const out = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++) out.set(resized.subarray(((top + y) * rw + left) * 3, ((top + y) * rw + left + side) * 3), y * side * 3);
  return out;
}

async function loadSplit(files: string[], labels: number[], resizeTo: number, side: number, concurrency: number): Promise<Split> {
  const per = side * side * 3;
  const pixels = new Uint8Array(files.length * per);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < files.length; i = next++) pixels.set(await decode(files[i], resizeTo, side), i * per);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  return uint8Split(pixels, Int32Array.from(labels), IMAGENET_NORM, 3);
}

/**
 * Loads an image folder (see the module comment for layout, transforms and memory).
 *
 * @example
 * ```ts
 * const ds = await loadImageFolder({ dir: '/data/imagenette', imageSize: 64, trainStoredSize: 73 });
 * ds.shape;    // [64, 64, 3]
 * ds.classes;  // sorted folder names
 * ```
 */
export async function loadImageFolder(o: ImageFolderOptions): Promise<Dataset & { classes: string[] }> {
  if (!existsSync(o.dir) || !statSync(o.dir).isDirectory()) throw new Error(`data directory ${o.dir} does not exist (expected DIR/train/<class>/*.jpg and DIR/val/<class>/*.jpg)`);
  const trainDir = path.join(o.dir, 'train');
  const valDir = path.join(o.dir, 'val');
  for (const d of [trainDir, valDir]) if (!existsSync(d)) throw new Error(`missing directory ${d} (expected one folder per class inside)`);
  const classes = readdirSync(trainDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort(byCodeUnits);
  if (classes.length === 0) throw new Error(`${trainDir}: no class folders (expected ${trainDir}/<class>/*.jpg)`);
  const S = o.imageSize;
  const R = o.trainStoredSize ?? S;
  if (!Number.isInteger(S) || S < 1 || !Number.isInteger(R) || R < S) throw new Error(`image folder sizes must be integers with stored size ${R} >= image size ${S}`);
  const limit = o.limit ?? Infinity;
  const conc = o.concurrency ?? 4;
  // list both splits first (a bad folder fails before any decoding), then decode
  const lists = [trainDir, valDir].map((d) => {
    const l = listClassFiles(d, classes);
    if (l.files.length === 0) throw new Error(`${d}: no .jpg, .jpeg or .png files in its class folders`);
    return l;
  });
  const splits: Split[] = [];
  for (const [k, { files, labels }] of lists.entries()) {
    const n = Math.min(files.length, limit);
    const isTrain = k === 0;
    // the stored training images (RRC) keep the whole resized centre square; evaluation crops 0.875 of it
    const resizeTo = isTrain && R > S ? R : Math.floor(S / 0.875);
    splits.push(await loadSplit(files.slice(0, n), labels.slice(0, n), resizeTo, isTrain ? R : S, conc));
  }
  return {
    name: 'folder', shape: [S, S, 3], numClasses: classes.length, classes, train: splits[0], test: splits[1], normalize: IMAGENET_NORM,
    crop: 'resized', trainStoredSize: R === S ? undefined : R,
  };
}
