/**
 * Load-time transforms of a whole dataset of 8-bit images: resize to the model's input size (`--image-size`,
 * bilinear as torchvision's `Resize` on PIL images) and replication of 1-channel data to 3 channels
 * (`--channels 3`, as `Grayscale(num_output_channels=3)` / PIL's `convert('RGB')`). Done once, before
 * batching, so the non-augmented path stays a device-side gather.
 *
 * Memory: a resized split holds count x N x N x C bytes of pixels (and 4x that as floats when not augmented):
 * CIFAR-10's 50,000 training images take 154 MB at 32x32, 7.5 GB at 224x224 (30 GB as floats), which is out of
 * reach on this machine; train CIFAR-style data at its own size or a small multiple of it.
 */
import { uint8Split, type Dataset, type Normalization, type Split } from './dataset.js';
import { resizeAll } from './augment/resample.js';
import { centerCropOffset } from './augment/geometry.js';

function mapSplit(s: Split, norm: Normalization, channels: number, f: (px: Uint8Array) => Uint8Array): Split {
  return uint8Split(f(s.pixels!), s.labels, norm, channels);
}

/** Resizes every image of `ds` to `size` x `size` (a no-op when it already is). Needs 8-bit pixels. */
export function resizeDataset(ds: Dataset, size: number): Dataset {
  const [h, w, c] = ds.shape;
  if (h === size && w === size) return ds;
  if (!ds.train.pixels || !ds.test.pixels || !ds.normalize) throw new Error(`--image-size: dataset ${ds.name} has no 8-bit pixels to resize`);
  const f = (n: number) => (px: Uint8Array) => resizeAll(px, n, h, w, c, size, size);
  return {
    ...ds, shape: [size, size, c],
    train: mapSplit(ds.train, ds.normalize, c, f(ds.train.count)),
    test: mapSplit(ds.test, ds.normalize, c, f(ds.test.count)),
  };
}

/** Replicates 1-channel images to `channels` (only 1 -> 3; same channel count is a no-op). */
export function replicateChannels(ds: Dataset, channels: number): Dataset {
  const c = ds.shape[2];
  if (c === channels) return ds;
  if (c !== 1 || channels !== 3) throw new Error(`--channels ${channels}: dataset ${ds.name} has ${c}-channel images (only 1 -> 3 replication is supported)`);
  if (!ds.train.pixels || !ds.test.pixels || !ds.normalize) throw new Error(`--channels: dataset ${ds.name} has no 8-bit pixels to replicate`);
  const norm: Normalization = { mean: Array(3).fill(ds.normalize.mean[0]), std: Array(3).fill(ds.normalize.std[0]) };
  const rep = (px: Uint8Array) => {
    const out = new Uint8Array(px.length * 3);
    for (let i = 0; i < px.length; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = px[i];
    return out;
  };
  return { ...ds, shape: [ds.shape[0], ds.shape[1], 3], normalize: norm, train: mapSplit(ds.train, norm, 3, rep), test: mapSplit(ds.test, norm, 3, rep) };
}

/** The centre `size` x `size` crop (torchvision's `CenterCrop` offsets) of every image of an NHWC uint8 batch. */
export function centerCropAll(px: Uint8Array, count: number, h: number, w: number, c: number, size: number): Uint8Array {
  if (h === size && w === size) return px;
  const top = centerCropOffset(h, size);
  const left = centerCropOffset(w, size);
  const out = new Uint8Array(count * size * size * c);
  for (let k = 0; k < count; k++) {
    for (let y = 0; y < size; y++) {
      const s = ((k * h + top + y) * w + left) * c;
      out.set(px.subarray(s, s + size * c), ((k * size + y) * size) * c);
    }
  }
  return out;
}
