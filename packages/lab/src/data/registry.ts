/** Datasets by name, as the CLI's `--data` flag takes them. */
import { loadMnistFormat } from './fashion-mnist.js';
import { loadSynthetic } from './synthetic.js';
import type { Dataset } from './dataset.js';

export interface DataOptions {
  /** Directory of the files (default: the dataset's standard place). */
  dataDir?: string;
  /** Use only the first N examples of each split. */
  limit?: number;
  /** Seed of a generated dataset (synthetic; default 0). */
  dataSeed?: number;
}

const loaders: Record<string, (o: DataOptions) => Dataset | Promise<Dataset>> = {
  'fashion-mnist': (o) => loadMnistFormat({ dir: o.dataDir, limit: o.limit }),
  // Any MNIST-format IDX pair; normalization with MNIST's own statistics.
  mnist: (o) => {
    if (!o.dataDir) throw new Error('--data mnist needs --data-dir (a directory of MNIST-format IDX files)');
    return loadMnistFormat({ dir: o.dataDir, limit: o.limit, name: 'mnist', mean: 0.1307, std: 0.3081 });
  },
  // A fixed dataset, as a real one is: its seed is part of its identity, not the run's --seed (which seeds the
  // init, the shuffling and the measurement), so runs with different seeds see the same examples.
  synthetic: (o) => loadSynthetic({ seed: o.dataSeed ?? 0, trainCount: o.limit ?? 2048, testCount: Math.min(o.limit ?? 512, 512) }),
};

export const DATASETS = Object.keys(loaders);

/** Loads a dataset by name; unknown names are a clear error. */
export async function loadDataset(name: string, opts: DataOptions = {}): Promise<Dataset> {
  const load = loaders[name];
  if (!load) throw new Error(`unknown dataset '${name}' (expected one of: ${DATASETS.join(', ')})`);
  return load(opts);
}
