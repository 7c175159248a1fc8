/** What `lwlr lr` and `lwlr train` share: data, model, measurement init, and Algorithm 1 on the train split. */
import * as tf from '@tensorflow/tfjs';
import {
  applyMeasurementInit, collectParams, measureLayerwiseLR, type InitMode, type LRTable, type ParamInfo,
} from 'layerwise-lr';
import { loadDataset } from '../data/registry.js';
import type { Dataset } from '../data/dataset.js';
import { BatchSource, type LabeledBatch } from '../data/batches.js';
import { buildModel } from '../models/registry.js';

export interface SetupOptions {
  model: string;
  data: string;
  dataDir?: string;
  limit?: number;
  width?: number;
  depth?: number;
  /** DavidNet width multiplier. */
  widthMultiplier?: number;
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
  /** The validation hold-out (from the training split), when asked for. */
  val?: BatchSource;
  dispose(): void;
}

/** Loads the data and builds the model (async: image folders decode through libvips). */
export async function setupRun(o: SetupOptions): Promise<RunSetup> {
  const dataset = await loadDataset(o.data, { dataDir: o.dataDir, limit: o.limit });
  const model = buildModel(o.model, { inputShape: dataset.shape, numClasses: dataset.numClasses, width: o.width, depth: o.depth, widthMultiplier: o.widthMultiplier });
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

/** Thrown when a run is asked to stop (Ctrl-C) during a phase that cannot stop half-way (the measurement). */
export class InterruptedError extends Error {}

/**
 * The training split's batches across epochs, letting the event loop run between two batches (so a Ctrl-C
 * handler can run) and ending with {@link InterruptedError} once `shouldStop` says so.
 */
async function* interruptible(batches: Iterable<LabeledBatch>, shouldStop?: () => boolean): AsyncGenerator<LabeledBatch> {
  for (const b of batches) {
    await new Promise((resolve) => setImmediate(resolve));
    if (shouldStop?.()) {
      tf.dispose([b.x, b.y]);
      throw new InterruptedError('interrupted during the measurement of the learning rates');
    }
    yield b;
  }
}

/** Algorithm 1 on T training minibatches (epoch 0, 1, ... of the seeded order); the model keeps the measurement init. */
export async function measureOnTrainSplit(
  run: RunSetup,
  o: {
    steps: number; init: InitMode; seed: number; exponent?: number; batchSize: number;
    onStep?: (t: number, T: number) => void; shouldStop?: () => boolean;
  },
): Promise<LRTable> {
  return measureLayerwiseLR(run.model, interruptible(run.train.stream(), o.shouldStop), {
    steps: o.steps, init: o.init, seed: o.seed, exponent: o.exponent, batchSize: o.batchSize,
    keepInit: true, disposeBatches: true, onStep: o.onStep,
  });
}
