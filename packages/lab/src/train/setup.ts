/** What `lwlr lr` and `lwlr train` share: data, model, measurement init, and Algorithm 1 on the train split. */
import * as tf from '@tensorflow/tfjs';
import {
  applyMeasurementInit, collectParams, measureFrozenAdagrad, measureLayerwiseLR,
  type FrozenAdagradTable, type GradNorm, type InitMode, type LRTable, type ParamInfo,
} from 'layerwise-lr';
import { loadDataset } from '../data/registry.js';
import { uint8Split, type Dataset, type Split } from '../data/dataset.js';
import { holdout } from '../data/holdout.js';
import { centerCropAll } from '../data/prepare.js';
import { Augmenter } from '../data/augment/pipeline.js';
import { resolveAugment, type AugmentLevel } from '../data/augment/policy.js';
import type { RandAugmentOptions } from '../data/augment/randaugment.js';
import { BatchSource } from '../data/batches.js';
import type { Batch, Batches } from '../data/batch-stream.js';
import type { TextInfo } from './text-setup.js';
import { trainingTarget } from './loss.js';
import { buildModel, isLanguageModel } from '../models/registry.js';

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
  /** Resize the data to N x N (the model's input size). */
  imageSize?: number;
  /** Replicate 1-channel data to 3 channels. */
  channels?: number;
  /** The model's head size (default: the dataset's classes; never fewer). */
  numClasses?: number;
  dropRate?: number;
  attnDropRate?: number;
  dropPathRate?: number;
  widthMultiplier?: number;
  outputScale?: number;
  /** Augmentation of the training split (default none). */
  augment?: AugmentLevel;
  /** Mixup alpha (overrides the level's; 0 = off). */
  mixup?: number;
  /** RandAugment `N,M` (overrides the level's; N = 0 = off). */
  randAugment?: string | RandAugmentOptions;
  /** Validation hold-out from the training split: a fraction in (0, 1) or a count. */
  valSplit?: number;
  /** `--data text`: a UTF-8 file or folder (default: the Brown corpus). */
  dataFile?: string;
  /** `--data text`: `bytes` (default) or `gpt2`. */
  tokenizer?: string;
  /** `--data text`: tokens per training window (default: the model's context). */
  context?: number;
  /** Language models: an LM head of their own instead of the tied token embedding. */
  untieHead?: boolean;
}

/** What a run needs to know of its data: a name, the shape of one example, and the classes (an LM's vocabulary). */
export interface DataInfo {
  name: string;
  /** [height, width, channels] of an image; [context] of a window of tokens. */
  shape: readonly number[];
  numClasses: number;
}

/** A run of an image model: {@link setupImageRun}'s, with the dataset and its batch sources as they are. */
export interface ImageRunSetup extends RunSetup {
  dataset: Dataset;
  train: BatchSource;
  test: BatchSource;
  val?: BatchSource;
}

export interface RunSetup {
  dataset: DataInfo;
  model: tf.LayersModel;
  params: ParamInfo[];
  train: Batches;
  /** The test split (a text corpus' validation documents). */
  test: Batches;
  /** The validation hold-out (from the training split), when asked for. */
  val?: Batches;
  /** Language models: the tokenizer and windows (perplexity and bits per byte come from it). */
  text?: TextInfo;
  dispose(): void;
}

/** Builds the model for the data, naming the flag to change when the model cannot take the input. */
function buildForData(o: SetupOptions, shape: [number, number, number], classes: number): tf.LayersModel {
  const numClasses = o.numClasses ?? classes;
  if (!Number.isInteger(numClasses) || numClasses < classes) {
    throw new Error(`--num-classes ${numClasses} is smaller than the ${classes} classes of --data ${o.data}`);
  }
  try {
    return buildModel(o.model, {
      inputShape: shape, numClasses, width: o.width, depth: o.depth, dropRate: o.dropRate, attnDropRate: o.attnDropRate,
      dropPathRate: o.dropPathRate, widthMultiplier: o.widthMultiplier, outputScale: o.outputScale, seed: o.seed,
    });
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    if (/image size|resolution|multiple of/i.test(msg)) {
      throw new Error(`--model ${o.model} cannot take ${shape[0]}x${shape[1]} images (${msg}); choose a size it divides with --image-size N`);
    }
    throw e;
  }
}

/**
 * Loads the data (resized / replicated to the model's input, optionally with a validation hold-out), builds
 * the model and the batch sources: `train` shuffled per epoch and augmented as asked, `test` and `val` in file
 * order without augmentation. Async: image folders decode through libvips.
 *
 * @example
 * ```ts
 * const run = await setupRun({ model: 'resnet18-cifar', data: 'cifar10', dataDir: '/data/cifar', batchSize: 128,
 *   seed: 0, augment: 'basic', valSplit: 5000 });
 * for (const b of run.train.epoch(0)) { ...; tf.dispose([b.x, b.y]); }
 * run.dispose();
 * ```
 */
export async function setupRun(o: SetupOptions): Promise<RunSetup> {
  if (o.data === 'text') return (await import('./text-setup.js')).setupTextRun(o);
  return setupImageRun(o);
}

/** {@link setupRun} for image data. */
export async function setupImageRun(o: SetupOptions): Promise<ImageRunSetup> {
  if (isLanguageModel(o.model)) throw new Error(`--model ${o.model} is a language model: train it on --data text`);
  const level = o.augment ?? 'none';
  const over = { mixup: o.mixup, randAugment: o.randAugment };
  // before loading: does the training split need the larger stored images of random-resized-crop?
  const planned = resolveAugment(level, { crop: o.data === 'folder' ? 'resized' : 'pad' }, over);
  let dataset = await loadDataset(o.data, {
    dataDir: o.dataDir, limit: o.limit, imageSize: o.imageSize, channels: o.channels, augment: planned?.crop === 'resized',
  });
  const aug = resolveAugment(level, dataset, over);
  const [h, w, c] = dataset.shape;
  const stored = dataset.trainStoredSize ?? h;
  let valSplit: Split | undefined;
  if (o.valSplit !== undefined) {
    const parts = holdout(dataset.train, o.valSplit, stored * stored * c, dataset.normalize, c);
    valSplit = parts.val;
    if (stored !== h) {
      // the hold-out is evaluated as the test split: centre crop of the stored square
      const px = centerCropAll(parts.val.pixels!, parts.val.count, stored, stored, c, h);
      valSplit = uint8Split(px, parts.val.labels, dataset.normalize!, c);
    }
    dataset = { ...dataset, train: parts.train };
  }
  if (aug && (!dataset.train.pixels || !dataset.normalize)) throw new Error(`--augment / --mixup / --randaugment need 8-bit images; --data ${o.data} has none`);
  if (aug && h !== w) throw new Error(`augmentation needs square images, --data ${o.data} has ${h}x${w} (use --image-size)`);
  if (!aug && stored !== h) {
    // (not reached: folders store larger training images only when augmenting)
    throw new Error(`internal: training images stored at ${stored} without augmentation`);
  }
  const model = buildForData(o, dataset.shape, dataset.numClasses);
  const params = collectParams(model);
  const augmenter = aug ? new Augmenter(dataset.train.pixels!, [stored, stored, c], h, dataset.normalize!, aug, o.seed) : undefined;
  const train = new BatchSource(dataset.train, dataset.shape, { batchSize: o.batchSize, seed: o.seed, shuffle: o.shuffle ?? true, dropLast: o.dropLast, augment: augmenter });
  const test = new BatchSource(dataset.test, dataset.shape, { batchSize: o.batchSize, shuffle: false });
  const val = valSplit ? new BatchSource(valSplit, dataset.shape, { batchSize: o.batchSize, shuffle: false }) : undefined;
  return {
    dataset, model, params, train, test, val,
    dispose() {
      train.dispose();
      test.dispose();
      val?.dispose();
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
 *
 * Algorithm 1 measures the gradients of the loss training will minimize: with Mixup or label smoothing the
 * labels become the soft target of {@link trainingTarget} (cross-entropy is linear in the target, so this is
 * `lambda CE(y) + (1 - lambda) CE(y2)`, smoothed), on the same mixed images.
 */
async function* interruptible(
  batches: Iterable<Batch>, numClasses: number, labelSmoothing: number, shouldStop?: () => boolean,
): AsyncGenerator<{ x: tf.Tensor; y: tf.Tensor }> {
  for (const b of batches) {
    await new Promise((resolve) => setImmediate(resolve));
    if (shouldStop?.()) {
      tf.dispose([b.x, b.y, b.mixup?.y2]);
      throw new InterruptedError('interrupted during the measurement of the learning rates');
    }
    if (!b.mixup && labelSmoothing === 0) {
      yield { x: b.x, y: b.y };
      continue;
    }
    const y = trainingTarget(b, numClasses, labelSmoothing);
    tf.dispose([b.y, b.mixup?.y2]);
    yield { x: b.x, y };
  }
}

/** What Algorithm 1 (and frozen-adagrad's measurement) on the train split is told. */
export interface TrainSplitMeasurement {
  steps: number; init: InitMode; seed: number; exponent?: number; batchSize: number;
  /** How G is measured (`l1`, the paper's, by default; `l2`: root mean square). Layer-wise only. */
  gradNorm?: GradNorm;
  /** The training loss's label smoothing (default 0). */
  labelSmoothing?: number;
  /** Leave the model at the measurement init (default true: what `lwlr train` trains from); false restores its weights. */
  keepInit?: boolean;
  onStep?: (t: number, T: number) => void; shouldStop?: () => boolean;
}

function trainSplitBatches(run: RunSetup, o: TrainSplitMeasurement): AsyncGenerator<{ x: tf.Tensor; y: tf.Tensor }> {
  const outShape = run.model.outputs[0].shape as number[];
  const numClasses = outShape[outShape.length - 1]!;
  return interruptible(run.train.stream(), numClasses, o.labelSmoothing ?? 0, o.shouldStop);
}

/** Algorithm 1 on T training minibatches (epoch 0, 1, ... of the seeded order); the model keeps the measurement init unless `keepInit: false`. */
export async function measureOnTrainSplit(run: RunSetup, o: TrainSplitMeasurement): Promise<LRTable> {
  return measureLayerwiseLR(run.model, trainSplitBatches(run, o), {
    steps: o.steps, init: o.init, seed: o.seed, exponent: o.exponent, batchSize: o.batchSize, gradNorm: o.gradNorm,
    keepInit: o.keepInit ?? true, disposeBatches: true, onStep: o.onStep,
  });
}

/** Frozen-adagrad's per-element multipliers from the same T training minibatches and init as {@link measureOnTrainSplit}. */
export async function measureFrozenAdagradOnTrainSplit(run: RunSetup, o: TrainSplitMeasurement): Promise<FrozenAdagradTable> {
  return measureFrozenAdagrad(run.model, trainSplitBatches(run, o), {
    steps: o.steps, init: o.init, seed: o.seed, batchSize: o.batchSize,
    keepInit: o.keepInit ?? true, disposeBatches: true, onStep: o.onStep,
  });
}
