/**
 * The measurement init of Algorithm 1 (line 3) and weight snapshots to undo it.
 *
 * `fan-out` (the paper's default): kernels ~ N(0, std = sqrt(1 / fanOut)); `fan-in`: the same with
 * fanIn; norm scales = 1; biases, norm shifts and embedding-like tensors (class token, position
 * embeddings, relative position bias) = 0; BatchNorm moving mean = 0 and moving variance = 1.
 * `none` leaves everything as it is (measure at the current weights).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng, deriveSeed } from './rng.js';
import { INIT_MODES, type InitMode, type LayerLike, type LayerVariableLike, type LayersModelLike, type ParamInfo } from './types.js';

/** Options of {@link applyMeasurementInit}. */
export interface MeasurementInitOptions {
  init: InitMode;
  /** Seed of the kernel init (any safe integer). Default 0. Each parameter draws from its own stream keyed by its name. */
  seed?: number;
  /** When given, BatchNormalization moving statistics of this model are reset (mean 0, variance 1). */
  model?: LayersModelLike;
}


/**
 * Throws unless `init` is a known init mode; returns it typed.
 *
 * @example
 * ```ts
 * const init = checkInitMode(cliFlag); // 'fan-out' | 'fan-in' | 'none', or an error naming the choices
 * ```
 */
export function checkInitMode(init: unknown): InitMode {
  if (!INIT_MODES.includes(init as InitMode)) {
    throw new Error(`unknown init '${String(init)}' (expected one of ${INIT_MODES.join(', ')})`);
  }
  return init as InitMode;
}

/**
 * Standard deviation of the measurement init for a kernel parameter: sqrt(1/fanOut) or sqrt(1/fanIn).
 *
 * @example
 * ```ts
 * measurementInitStd({ name: 'fc.kernel', fanIn: 784, fanOut: 1024 }, 'fan-out'); // 1/32
 * ```
 */
export function measurementInitStd(p: Pick<ParamInfo, 'fanIn' | 'fanOut' | 'name'>, init: 'fan-out' | 'fan-in'): number {
  const fan = init === 'fan-out' ? p.fanOut : p.fanIn;
  if (!(fan > 0) || !Number.isFinite(fan)) throw new Error(`parameter '${p.name}' has no valid ${init === 'fan-out' ? 'fanOut' : 'fanIn'} (${fan})`);
  return Math.sqrt(1 / fan);
}

function assignValues(variable: tf.Variable, values: Float32Array, shape: readonly number[]): void {
  const t = tf.tensor(values, shape.slice(), 'float32');
  variable.assign(t);
  t.dispose();
}

function assignConstant(variable: tf.Variable, value: number): void {
  const t = tf.fill(variable.shape, value, 'float32');
  variable.assign(t);
  t.dispose();
}

function forEachLayer(layer: LayerLike, fn: (l: LayerLike) => void): void {
  if (layer.layers && layer.layers.length > 0) {
    for (const child of layer.layers) forEachLayer(child, fn);
  } else {
    fn(layer);
  }
}

function shortName(w: LayerVariableLike): string {
  const full = w.originalName ?? w.name.replace(/_\d+$/, '');
  return full.slice(full.lastIndexOf('/') + 1);
}

/**
 * Resets the moving statistics of every BatchNormalization layer of a model (mean 0, variance 1),
 * as a freshly built PyTorch BatchNorm has them. Returns the number of layers reset.
 *
 * @example
 * ```ts
 * resetBatchNormStatistics(model); // e.g. 3
 * ```
 */
export function resetBatchNormStatistics(model: LayersModelLike): number {
  let count = 0;
  forEachLayer(model, (layer) => {
    if (layer.getClassName() !== 'BatchNormalization') return;
    for (const w of layer.nonTrainableWeights) {
      const s = shortName(w);
      const v = w.read();
      if (!(v instanceof tf.Variable)) continue;
      if (s === 'moving_mean') assignConstant(v, 0);
      else if (s === 'moving_variance') assignConstant(v, 1);
    }
    count++;
  });
  return count;
}

/**
 * Algorithm 1, line 3: re-initializes the given parameters in place for the measurement.
 * Kernels ~ N(0, std = sqrt(1/fanOut)) (`fan-out`) or sqrt(1/fanIn) (`fan-in`), scales = 1,
 * biases / shifts / embedding-like = 0; with `opts.model`, BatchNorm moving mean/variance are reset
 * to 0/1. `init: 'none'` changes nothing. Same seed and names -> identical weights.
 *
 * @example
 * ```ts
 * import { collectParams, applyMeasurementInit } from 'layerwise-lr';
 * const params = collectParams(model);
 * applyMeasurementInit(params, { init: 'fan-out', seed: 1, model });
 * ```
 */
export function applyMeasurementInit(params: readonly ParamInfo[], opts: MeasurementInitOptions): void {
  const init = checkInitMode(opts.init);
  const seed = opts.seed ?? 0;
  deriveSeed(seed, ''); // validates the seed before anything is written
  if (init === 'none') return;
  for (const p of params) {
    switch (p.kind) {
      case 'kernel': {
        const std = measurementInitStd(p, init);
        const values = new Rng(deriveSeed(seed, p.name)).fillNormal(new Float32Array(p.numel), 0, std);
        assignValues(p.variable, values, p.shape);
        break;
      }
      case 'scale':
        assignConstant(p.variable, 1);
        break;
      case 'bias':
      case 'shift':
      case 'embedding':
        assignConstant(p.variable, 0);
        break;
      default:
        throw new Error(`parameter '${p.name}' has unknown kind '${String((p as ParamInfo).kind)}'`);
    }
  }
  if (opts.model) resetBatchNormStatistics(opts.model);
}

/** A copy of some variables' values, to put back with {@link restoreWeights}. Holds tensors until restored or disposed. */
export interface WeightSnapshot {
  readonly entries: ReadonlyArray<{ readonly variable: tf.Variable; readonly value: tf.Tensor }>;
}

function isModel(x: unknown): x is LayersModelLike {
  return typeof x === 'object' && x !== null && Array.isArray((x as LayersModelLike).weights) && typeof (x as LayersModelLike).apply === 'function';
}

/**
 * Copies the current values of all of a model's weights (trainable and not: BatchNorm moving
 * statistics included), or of a parameter list, or of plain variables. Cheap: tfjs shares the data
 * until a variable is assigned a new value.
 *
 * @example
 * ```ts
 * const snap = snapshotWeights(model);
 * applyMeasurementInit(collectParams(model), { init: 'fan-out', model });
 * restoreWeights(snap); // the model is as it was; the snapshot is disposed
 * ```
 */
export function snapshotWeights(source: LayersModelLike | readonly ParamInfo[] | readonly tf.Variable[]): WeightSnapshot {
  let variables: tf.Variable[];
  if (isModel(source)) {
    variables = source.weights.map((w) => {
      const v = w.read();
      if (!(v instanceof tf.Variable)) throw new Error(`weight '${w.name}' is not backed by a tf.Variable`);
      return v;
    });
  } else {
    variables = (source as ReadonlyArray<ParamInfo | tf.Variable>).map((x) => (x instanceof tf.Variable ? x : x.variable));
  }
  const unique = [...new Map(variables.map((v) => [v.id, v])).values()];
  return { entries: unique.map((variable) => ({ variable, value: tf.clone(variable) })) };
}

/**
 * Writes a snapshot's values back into its variables. Disposes the snapshot's tensors unless
 * `opts.keep` is true (then it can be restored again and must be disposed with {@link disposeWeightSnapshot}).
 *
 * @example
 * ```ts
 * const snap = snapshotWeights(params);
 * // ... change the weights ...
 * restoreWeights(snap);
 * ```
 */
export function restoreWeights(snapshot: WeightSnapshot, opts: { keep?: boolean } = {}): void {
  for (const { variable, value } of snapshot.entries) {
    if (value.isDisposed) throw new Error(`weight snapshot of '${variable.name}' was already disposed`);
    if (variable.isDisposed) continue;
    variable.assign(value);
  }
  if (!opts.keep) disposeWeightSnapshot(snapshot);
}

/**
 * Frees a snapshot's tensors without restoring them.
 *
 * @example
 * ```ts
 * const snap = snapshotWeights(model);
 * disposeWeightSnapshot(snap);
 * ```
 */
export function disposeWeightSnapshot(snapshot: WeightSnapshot): void {
  for (const { value } of snapshot.entries) if (!value.isDisposed) value.dispose();
}
