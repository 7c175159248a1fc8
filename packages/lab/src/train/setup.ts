/** What `lwlr lr` and `lwlr train` share: data, model, measurement init, and Algorithm 1 on the train split. */
import * as tf from '@tensorflow/tfjs';
import {
  applyMeasurementInit, collectParams, measureLayerwiseLR, type InitMode, type LRTable, type ParamInfo,
} from 'layerwise-lr';
import { loadDataset } from '../data/registry.js';
import type { Dataset } from '../data/dataset.js';
import { BatchSource } from '../data/batches.js';
import { buildModel } from '../models/registry.js';

export interface SetupOptions {
  model: string;
  data: string;
  dataDir?: string;
  limit?: number;
  width?: number;
  depth?: number;
  batchSize: number;
  seed: number;
  shuffle?: boolean;
  dropLast?: boolean;
}

export interface RunSetup {
  dataset: Dataset;
  model: tf.LayersModel;
  params: ParamInfo[];
  train: BatchSource;
  test: BatchSource;
  dispose(): void;
}

export function setupRun(o: SetupOptions): RunSetup {
  const dataset = loadDataset(o.data, { dataDir: o.dataDir, limit: o.limit, seed: o.seed });
  const model = buildModel(o.model, { inputShape: dataset.shape, numClasses: dataset.numClasses, width: o.width, depth: o.depth });
  const params = collectParams(model);
  const train = new BatchSource(dataset.train, dataset.shape, { batchSize: o.batchSize, seed: o.seed, shuffle: o.shuffle ?? true, dropLast: o.dropLast });
  const test = new BatchSource(dataset.test, dataset.shape, { batchSize: o.batchSize, shuffle: false });
  return {
    dataset, model, params, train, test,
    dispose() {
      train.dispose();
      test.dispose();
      model.dispose();
    },
  };
}

/** Applies the measurement init (seeded) and keeps it: every scheme of a comparison trains from these weights. */
export function initForTraining(run: RunSetup, init: InitMode, seed: number): void {
  applyMeasurementInit(run.params, { init, seed, model: run.model });
}

/** Algorithm 1 on T training minibatches; the model keeps the measurement init. */
export async function measureOnTrainSplit(
  run: RunSetup,
  o: { steps: number; init: InitMode; seed: number; exponent?: number; batchSize: number; onStep?: (t: number, T: number) => void },
): Promise<LRTable> {
  return measureLayerwiseLR(run.model, run.train.stream(), {
    steps: o.steps, init: o.init, seed: o.seed, exponent: o.exponent, batchSize: o.batchSize,
    keepInit: true, disposeBatches: true, onStep: o.onStep,
  });
}
