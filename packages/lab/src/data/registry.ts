/** Datasets by name, as the CLI's `--data` flag takes them. */
import { loadMnistFormat } from './fashion-mnist.js';
import { loadSynthetic } from './synthetic.js';
import { loadCifar } from './cifar.js';
import { loadImageFolder } from './image-folder.js';
import { replicateChannels, resizeDataset } from './prepare.js';
import type { Dataset } from './dataset.js';

export interface DataOptions {
  /** Directory of the files (default: the dataset's standard place). */
  dataDir?: string;
  /** Use only the first N examples of each split. */
  limit?: number;
  /** Seed of a generated dataset (synthetic; default 0). */
  dataSeed?: number;
  /** Resize the images to N x N (the model's input size); image folders: the stored size (default 224). */
  imageSize?: number;
  /** Replicate 1-channel images to this many channels (3). */
  channels?: number;
  /**
   * The training split will be augmented: image folders then keep larger training images for
   * random-resized-crop (`floor(imageSize / 0.875)` square, see `loadImageFolder`).
   */
  augment?: boolean;
}

function needDir(name: string, o: DataOptions, what: string): string {
  if (!o.dataDir) throw new Error(`--data ${name} needs --data-dir (${what})`);
  return o.dataDir;
}

const loaders: Record<string, (o: DataOptions) => Dataset | Promise<Dataset>> = {
  'fashion-mnist': (o) => loadMnistFormat({ dir: o.dataDir, limit: o.limit }),
  // Any MNIST-format IDX pair; normalization with MNIST's own statistics.
  mnist: (o) => loadMnistFormat({ dir: needDir('mnist', o, 'a directory of MNIST-format IDX files'), limit: o.limit, name: 'mnist', mean: 0.1307, std: 0.3081 }),
  cifar10: (o) => loadCifar('cifar10', { dir: needDir('cifar10', o, 'the CIFAR-10 binary version: data_batch_1.bin .. data_batch_5.bin, test_batch.bin'), limit: o.limit }),
  cifar100: (o) => loadCifar('cifar100', { dir: needDir('cifar100', o, 'the CIFAR-100 binary version: train.bin, test.bin'), limit: o.limit }),
  folder: (o) => {
    const S = o.imageSize ?? 224;
    return loadImageFolder({
      dir: needDir('folder', o, 'DIR/train/<class>/*.jpg and DIR/val/<class>/*.jpg'), imageSize: S, limit: o.limit,
      trainStoredSize: o.augment ? Math.max(S, Math.floor(S / 0.875)) : S,
    });
  },
  // A fixed dataset, as a real one is: its seed is part of its identity, not the run's --seed (which seeds the
  // init, the shuffling and the measurement), so runs with different seeds see the same examples. Generated
  // directly at --image-size / --channels.
  synthetic: (o) => loadSynthetic({
    seed: o.dataSeed ?? 0, trainCount: o.limit ?? 2048, testCount: Math.min(o.limit ?? 512, 512),
    shape: [o.imageSize ?? 28, o.imageSize ?? 28, o.channels ?? 1],
  }),
};

/** Every `--data` name: the image datasets, and `text` (language models; loaded by train/text-setup.ts). */
export const DATASETS = [...Object.keys(loaders), 'text'];

/**
 * Loads a dataset by name; unknown names are a clear error. `imageSize` / `channels` resize and replicate the
 * images at load (8-bit datasets).
 *
 * @example
 * ```ts
 * const ds = await loadDataset('cifar10', { dataDir: '/data/cifar-10-batches-bin' });
 * const mnist3 = await loadDataset('fashion-mnist', { imageSize: 32, channels: 3 }); // 32x32x3
 * ```
 */
export async function loadDataset(name: string, opts: DataOptions = {}): Promise<Dataset> {
  const load = loaders[name];
  if (name === 'text') throw new Error('--data text is a text corpus, not an image dataset (setupRun loads it for language models)');
  if (!load) throw new Error(`unknown dataset '${name}' (expected one of: ${DATASETS.join(', ')})`);
  if (opts.imageSize !== undefined && !(Number.isInteger(opts.imageSize) && opts.imageSize >= 1)) throw new Error(`--image-size must be a positive integer (got ${opts.imageSize})`);
  if (opts.channels !== undefined && ![1, 3].includes(opts.channels)) throw new Error(`--channels must be 1 or 3 (got ${opts.channels})`);
  let ds = await load(opts);
  if (opts.imageSize !== undefined) ds = resizeDataset(ds, opts.imageSize);
  if (opts.channels !== undefined) ds = replicateChannels(ds, opts.channels);
  return ds;
}
