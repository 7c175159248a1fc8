/**
 * Algorithm 1 of "Initializing the Layer-wise Learning Rate": measurement init, T minibatches of
 * gradients at fixed weights, G_i = sum_t sum(|g_i|) / m_i, then eta_i ~ G_i^(-p) normalized so
 * that sum_i m_i eta_i = sum_i m_i. `gradNorm: 'l2'` measures G_i = sum_t sqrt(sum(g_i^2) / m_i) instead
 * (the root mean square of each minibatch's gradient, summed over the T minibatches as the paper sums
 * the mean absolute value).
 *
 * Works on a tfjs `LayersModel` (loss: mean softmax cross-entropy by default) or on a list of
 * parameters plus a loss closure. Gradients are accumulated on the device and read back once.
 */
import * as tf from '@tensorflow/tfjs-core';
import { applyMeasurementInit, checkInitMode, disposeWeightSnapshot, restoreWeights, snapshotWeights, type WeightSnapshot } from './init.js';
import { LRTable, type LRTableEntry } from './lr-table.js';
import { collectParams, type KindOverride } from './params.js';
import { layerwiseEtaFromG, resolveLayerwiseOptions, type ZeroGradientOptions } from './schemes.js';
import { squaredNorm } from './optim/norm-transforms.js';
import type { Batch, GradNorm, InitMode, LayersModelLike, ParamInfo } from './types.js';

/**
 * sum(|x|) in one pass with the backend's `LwlrSumAbs` kernel when it has one (tfjs-backend-onednn does),
 * else composed from tfjs ops (same value up to summation order).
 */
export const SUM_ABS_KERNEL = 'LwlrSumAbs';
function sumAbs(x: tf.Tensor): tf.Tensor {
  if (tf.getKernel(SUM_ABS_KERNEL, tf.getBackend()) !== undefined) {
    return tf.engine().runKernel(SUM_ABS_KERNEL, { x }, {}) as tf.Tensor;
  }
  return tf.sum(tf.abs(x));
}

/** The norms G may be measured with, in a stable order (for CLIs). */
export const GRAD_NORMS: readonly GradNorm[] = ['l1', 'l2'];

/** Throws unless `g` is `'l1'` or `'l2'`. */
export function checkGradNorm(g: unknown): GradNorm {
  if (g !== 'l1' && g !== 'l2') throw new Error(`gradNorm must be 'l1' or 'l2', got '${String(g)}'`);
  return g;
}

/**
 * One minibatch's magnitude of gradient `g` of a tensor with `numel` elements, as a scalar tensor:
 * `l1` the mean absolute value sum(|g|) / m (Algorithm 1, line 8); `l2` the root mean square
 * sqrt(sum(g^2) / m) (= ||g||_2 / sqrt(m)).
 */
function stepMagnitude(g: tf.Tensor, numel: number, norm: GradNorm): tf.Tensor {
  return norm === 'l1' ? tf.div(sumAbs(g), numel) : tf.sqrt(tf.div(squaredNorm(g), numel));
}

/** A loss of model outputs against targets: `(yTrue, yPred) => mean loss` (a scalar). */
export type ModelLoss = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar;

/** A model described by its parameters and a loss closure over a batch (which calls the model in training mode). */
export interface ParamsTarget {
  params: readonly ParamInfo[];
  loss: (batch: Batch) => tf.Scalar;
  /** Optional: a LayersModel whose BatchNorm statistics to reset and whose weights to snapshot/restore. */
  model?: LayersModelLike;
}

/** What Algorithm 1 measures: a LayersModel, or parameters with a loss closure. */
export type MeasureTarget = LayersModelLike | ParamsTarget;

/** A source of minibatches: an array, a generator, or an async generator. */
export type BatchSource = Iterable<Batch> | AsyncIterable<Batch>;

/** Options of {@link measureGradientMagnitudes}. */
export interface MeasureOptions {
  /** T: number of minibatches (integer >= 1). */
  steps: number;
  /** Measurement init: `fan-out` (default, the paper's), `fan-in`, or `none` (current weights). */
  init?: InitMode;
  /** Seed of the measurement init (default 0). */
  seed?: number;
  /**
   * false (default): afterwards every weight of the model (BatchNorm moving statistics included) is
   * as before the call. true: the trainable weights keep the measurement init and the non-trainable
   * ones (moving statistics) their state right after the init (so T training-mode passes leave no trace).
   * On an error the weights are always restored.
   */
  keepInit?: boolean;
  /** Loss for a LayersModel target (default {@link meanSoftmaxCrossEntropy}). */
  loss?: ModelLoss;
  /** Kind overrides for a LayersModel target (see `collectParams`). */
  kindOverrides?: readonly KindOverride[];
  /** Dispose each batch's tensors after use (for generators that make fresh tensors). Default false: the caller owns them. */
  disposeBatches?: boolean;
  /** Called after each step t = 1..T. */
  onStep?: (t: number, T: number) => void;
  /** Batch size recorded in the metadata (default: leading dimension of the first batch's `y`). */
  batchSize?: number;
  /**
   * How one minibatch's gradient of a tensor becomes a number: `l1` (default, the paper's) the mean
   * absolute value sum(|g|) / m; `l2` the root mean square sqrt(sum(g^2) / m). Either way G sums it
   * over the T minibatches.
   */
  gradNorm?: GradNorm;
}

/** Options of {@link measureLayerwiseLR}. */
export interface MeasureLayerwiseLROptions extends MeasureOptions {
  /** eta~ = G^(-exponent); default 0.5. */
  exponent?: number;
  /** Zero-gradient guard: threshold relative to the median G (default 1e-4), policy (default 'exclude'). */
  zeroGradient?: ZeroGradientOptions;
}

/** Result of {@link measureGradientMagnitudes}. */
export interface GradientMagnitudes {
  /** The parameters measured, in order. */
  readonly params: readonly ParamInfo[];
  /** G_i = sum over the T steps of sum(|g_i|) / m_i (`l1`) or of sqrt(sum(g_i^2) / m_i) (`l2`). */
  readonly G: number[];
  readonly steps: number;
  readonly batchSize: number | null;
  readonly init: InitMode;
  readonly seed: number;
  readonly gradNorm: GradNorm;
}

/**
 * Mean softmax cross-entropy of logits `[..., C]` against integer labels `[...]` or one-hot /
 * probability targets `[..., C]`, computed with log-softmax (stable).
 *
 * @example
 * ```ts
 * const loss = meanSoftmaxCrossEntropy(tf.tensor1d([0, 2], 'int32'), logits); // logits [2, 3]
 * ```
 */
export function meanSoftmaxCrossEntropy(yTrue: tf.Tensor, logits: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const C = logits.shape[logits.rank - 1]!;
    let target: tf.Tensor;
    if (yTrue.rank === logits.rank - 1) {
      target = tf.oneHot(tf.cast(yTrue, 'int32') as tf.Tensor, C);
    } else if (yTrue.rank === logits.rank && yTrue.shape[yTrue.rank - 1] === C) {
      target = tf.cast(yTrue, 'float32');
    } else {
      throw new Error(`cross-entropy: targets of shape [${yTrue.shape}] do not fit logits of shape [${logits.shape}] (expected integer labels [${logits.shape.slice(0, -1)}] or one-hot [${logits.shape}])`);
    }
    const logp = tf.logSoftmax(logits);
    return tf.neg(tf.mean(tf.sum(tf.mul(target, logp), -1))) as tf.Scalar;
  });
}

function isLayersModel(t: unknown): t is LayersModelLike {
  return typeof t === 'object' && t !== null && typeof (t as LayersModelLike).apply === 'function' &&
    Array.isArray((t as LayersModelLike).layers);
}

function checkSteps(steps: unknown): number {
  if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 1) {
    throw new Error(`steps (T) must be an integer >= 1, got ${String(steps)}`);
  }
  return steps;
}

function openSource(source: BatchSource): { next(): Promise<IteratorResult<Batch>>; close(): Promise<void> } {
  if (source == null) throw new Error('no data source given (expected an iterable or async iterable of batches)');
  const asyncIt = (source as AsyncIterable<Batch>)[Symbol.asyncIterator];
  const syncIt = (source as Iterable<Batch>)[Symbol.iterator];
  let it: Iterator<Batch> | AsyncIterator<Batch>;
  if (typeof asyncIt === 'function') it = asyncIt.call(source);
  else if (typeof syncIt === 'function') it = syncIt.call(source);
  else throw new Error('the data source is not iterable (expected an array, a generator or an async generator of batches)');
  return {
    next: async () => it.next(),
    close: async () => { if (typeof it.return === 'function') await it.return(); },
  };
}

function checkBatch(b: unknown, t: number): Batch {
  const ok = typeof b === 'object' && b !== null && 'x' in b && 'y' in b;
  if (!ok) throw new Error(`batch ${t} is not a { x, y } object`);
  return b as Batch;
}

function disposeBatch(b: Batch): void {
  const xs = Array.isArray(b.x) ? b.x : [b.x];
  for (const t of [...xs, b.y]) if (t && !t.isDisposed) t.dispose();
}

function leadingDim(b: Batch): number | null {
  const t = b.y ?? (Array.isArray(b.x) ? b.x[0] : b.x);
  return t && t.rank >= 1 ? t.shape[0]! : null;
}

/**
 * Algorithm 1, lines 1-8: applies the measurement init, then for t = 1..T takes a minibatch,
 * computes the gradients of the mean loss in training mode (weights are not updated) and
 * accumulates G_i += sum(|g_i|) / m_i (`gradNorm: 'l2'`: G_i += sqrt(sum(g_i^2) / m_i)).
 * Accumulation stays on the device; values are read back once.
 * Throws on T < 1, a data source with fewer than T batches, and a NaN/Inf gradient (naming the
 * parameter and the step). Leaves no tensors behind.
 *
 * @example
 * ```ts
 * import { measureGradientMagnitudes } from 'layerwise-lr';
 * const { params, G } = await measureGradientMagnitudes(model, batches, { steps: 10, seed: 0 });
 * params.forEach((p, i) => console.log(p.name, G[i]));
 * ```
 */
export async function measureGradientMagnitudes(
  target: MeasureTarget,
  batches: BatchSource,
  opts: MeasureOptions,
): Promise<GradientMagnitudes> {
  const { squares: _none, ...m } = await accumulateGradients(target, batches, opts, false);
  return m;
}

/** What {@link accumulateGradients} returns: the magnitudes, and with `elementwise` each tensor's sum_t g^2. */
export interface GradientAccumulation extends GradientMagnitudes {
  /** Per parameter (in order), sum over the T minibatches of g^2 per element; null unless asked for. */
  readonly squares: Float32Array[] | null;
}

/**
 * The measurement loop behind {@link measureGradientMagnitudes} and `measureFrozenAdagrad`: the per-tensor
 * magnitudes G, and with `elementwise` also every element's sum over the T minibatches of g^2 (what
 * torch.optim.Adagrad accumulates in `state_sum`), accumulated on the device and read back once.
 *
 * @example
 * ```ts
 * const { params, squares } = await accumulateGradients(model, batches, { steps: 10 }, true);
 * ```
 */
export async function accumulateGradients(
  target: MeasureTarget,
  batches: BatchSource,
  opts: MeasureOptions,
  elementwise: boolean,
): Promise<GradientAccumulation> {
  if (opts == null) throw new Error('options with steps (T) are required');
  const T = checkSteps(opts.steps);
  const init = checkInitMode(opts.init ?? 'fan-out');
  const gradNorm = checkGradNorm(opts.gradNorm ?? 'l1');
  const seed = opts.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new Error(`seed must be a safe integer, got ${seed}`);
  if (opts.batchSize !== undefined && !(Number.isInteger(opts.batchSize) && opts.batchSize >= 1)) {
    throw new Error(`batchSize must be an integer >= 1, got ${opts.batchSize}`);
  }

  let params: readonly ParamInfo[];
  let model: LayersModelLike | undefined;
  let lossOf: (batch: Batch) => tf.Scalar;
  if (isLayersModel(target)) {
    model = target;
    params = collectParams(target, { kindOverrides: opts.kindOverrides });
    const loss = opts.loss ?? meanSoftmaxCrossEntropy;
    lossOf = (batch) => {
      const out = target.apply(batch.x, { training: true });
      if (Array.isArray(out)) {
        if (out.length !== 1) throw new Error(`the model has ${out.length} outputs: measure it with { params, loss } and a loss closure`);
        return loss(batch.y, out[0] as tf.Tensor);
      }
      if (!(out instanceof tf.Tensor)) throw new Error('model.apply did not return a tensor');
      return loss(batch.y, out);
    };
  } else if (typeof target === 'object' && target !== null && Array.isArray(target.params) && typeof target.loss === 'function') {
    params = target.params;
    model = target.model;
    lossOf = target.loss;
  } else {
    throw new Error('target must be a tf.LayersModel or { params, loss }');
  }
  if (params.length === 0) throw new Error('the model has no trainable float parameters');
  const seenVars = new Map<number, string>();
  for (const p of params) {
    const prev = seenVars.get(p.variable.id);
    if (prev !== undefined) throw new Error(`parameters '${prev}' and '${p.name}' share one tf.Variable`);
    seenVars.set(p.variable.id, p.name);
    if (!p.variable.trainable) throw new Error(`parameter '${p.name}' is not trainable (tf.Variable.trainable = false)`);
  }

  const source = openSource(batches);
  const userWeights: WeightSnapshot = snapshotWeights(model ?? params);
  let initState: WeightSnapshot | null = null;
  // device-side accumulators: G so far, the first step with a non-finite magnitude (0 = none), and with
  // `elementwise` each parameter's sum of g^2
  const state: { acc: tf.Tensor | null; firstBad: tf.Tensor | null; sq: tf.Tensor[] } = { acc: null, firstBad: null, sq: [] };
  let ok = false;
  try {
    applyMeasurementInit(params, { init, seed, model });
    if (opts.keepInit && model) {
      // moving statistics right after the init, to undo what T training-mode passes did to them
      initState = snapshotWeights(model.weights.filter((w) => !w.trainable).map((w) => w.read() as tf.Variable));
    }
    const vars = params.map((p) => p.variable);
    const M = params.length;
    state.acc = tf.zeros([M], 'float32');
    state.firstBad = tf.zeros([M], 'float32');
    if (elementwise) state.sq = params.map((p) => tf.zeros([...p.shape], 'float32'));
    let batchSize: number | null = opts.batchSize ?? null;
    for (let t = 1; t <= T; t++) {
      const r = await source.next();
      if (r.done) {
        throw new Error(t === 1
          ? `the data source is empty: Algorithm 1 needs ${T} batch${T > 1 ? 'es' : ''}`
          : `the data source ended after ${t - 1} of ${T} batches`);
      }
      const batch = checkBatch(r.value, t);
      if (batchSize === null) batchSize = leadingDim(batch);
      const prevAcc: tf.Tensor = state.acc!;
      const prevBad: tf.Tensor = state.firstBad!;
      const prevSq = state.sq;
      let next: tf.Tensor[];
      try {
        next = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => lossOf(batch), vars);
          value.dispose();
          const mags = params.map((p) => {
            const g = grads[p.variable.name];
            return g ? stepMagnitude(g, p.numel, gradNorm) : tf.scalar(0);
          });
          const step = tf.stack(mags);
          const bad = tf.logicalAnd(tf.equal(prevBad, 0), tf.logicalNot(tf.isFinite(step)));
          const sq = elementwise
            ? params.map((p, i) => {
              const g = grads[p.variable.name];
              return g ? tf.add(prevSq[i]!, tf.square(g)) : tf.clone(prevSq[i]!);
            })
            : [];
          return [tf.add(prevAcc, step), tf.where(bad, tf.fill([M], t), prevBad), ...sq];
        });
      } finally {
        if (opts.disposeBatches) disposeBatch(batch);
      }
      state.acc = next[0]!;
      state.firstBad = next[1]!;
      state.sq = next.slice(2);
      prevAcc.dispose();
      prevBad.dispose();
      tf.dispose(prevSq);
      opts.onStep?.(t, T);
    }
    const both = tf.concat([state.acc!, state.firstBad!]);
    const values = await both.data();
    both.dispose();
    const G = Array.from(values.subarray(0, M));
    const bad = Array.from(values.subarray(M));
    let i = -1;
    bad.forEach((s, j) => { if (s > 0 && (i < 0 || s < bad[i]!)) i = j; }); // earliest step, then parameter order
    if (i >= 0) {
      const others = bad.filter((s) => s > 0).length - 1;
      throw new Error(`non-finite (NaN/Inf) gradient for parameter '${params[i]!.name}' at step ${bad[i]} of ${T}` +
        (others > 0 ? ` (and ${others} other parameter${others > 1 ? 's' : ''})` : ''));
    }
    const squares = elementwise ? await Promise.all(state.sq.map(async (x) => Float32Array.from(await x.data() as Float32Array))) : null;
    ok = true;
    return { params, G, steps: T, batchSize, init, seed, gradNorm, squares };
  } finally {
    state.acc?.dispose();
    state.firstBad?.dispose();
    tf.dispose(state.sq);
    if (!ok || !opts.keepInit) {
      restoreWeights(userWeights);
      if (initState) disposeWeightSnapshot(initState);
    } else {
      disposeWeightSnapshot(userWeights);
      if (initState) restoreWeights(initState);
    }
    await source.close();
  }
}

/**
 * Algorithm 1 end to end: measures G ({@link measureGradientMagnitudes}), then
 * eta_i = G_i^(-p) normalized so that sum_i m_i eta_i = sum_i m_i, with zero-gradient parameters
 * (G <= threshold x median G) left out with eta = 1 by default. Returns the LR table with the
 * metadata to reproduce it. The model's weights are restored afterwards unless `keepInit`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { measureLayerwiseLR } from 'layerwise-lr';
 * const table = await measureLayerwiseLR(model, trainBatches(), { steps: 100, seed: 0, keepInit: true });
 * console.log(table.format());
 * const eta = table.etaMap(); // per-parameter multipliers for the optimizer
 * ```
 */
export async function measureLayerwiseLR(
  target: MeasureTarget,
  batches: BatchSource,
  opts: MeasureLayerwiseLROptions,
): Promise<LRTable> {
  // validate the cheap options before spending T steps
  const { exponent } = resolveLayerwiseOptions({ exponent: opts?.exponent, zeroGradient: opts?.zeroGradient });
  const m = await measureGradientMagnitudes(target, batches, opts);
  const names = m.params.map((p) => p.name);
  const lw = layerwiseEtaFromG(m.G, m.params.map((p) => p.numel), { exponent, zeroGradient: opts.zeroGradient, names });
  const entries: LRTableEntry[] = m.params.map((p, i) => {
    const e: LRTableEntry = { name: p.name, shape: [...p.shape], numel: p.numel, kind: p.kind, G: m.G[i]!, eta: lw.eta[i]! };
    return lw.excluded[i] ? { ...e, excluded: true } : e;
  });
  return new LRTable(entries, {
    scheme: 'layerwise',
    steps: m.steps,
    batchSize: m.batchSize,
    init: m.init,
    gradNorm: m.gradNorm,
    exponent,
    seed: m.seed,
    zeroGradient: lw.zeroGradient,
    signature: LRTable.signatureOf(m.params),
    warnings: lw.warnings,
  });
}
