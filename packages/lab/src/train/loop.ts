/**
 * The training loop: any ChainOptimizer (per-parameter eta, schedule by optimizer step), optional gradient
 * accumulation, label smoothing and Mixup batches, evaluation each epoch (test split, and the validation
 * hold-out when the run has one), metrics through the {@link RunDir}, checkpoints through a hook, and resume
 * from a {@link LoopState}. One tidy per step; the loss is read back once per step (divergence check).
 */
import * as tf from '@tensorflow/tfjs';
import { GradientAccumulator, meanSoftmaxCrossEntropy, type ChainOptimizer } from 'layerwise-lr';
import type { RunSetup } from './setup.js';
import type { Batch, Batches } from '../data/batch-stream.js';
import type { MetricRecord, RunDir } from './metrics.js';
import type { LoopState } from './checkpoint.js';
import { trainingLoss } from './loss.js';

export interface LoopOptions {
  /** The run's length (the schedule's too). */
  epochs: number;
  /** Log the train loss every N optimizer steps (and at each epoch's last step). */
  logEvery: number;
  /**
   * Gradient accumulation: each batch of the source (the effective batch, `--batch-size`) is split into this
   * many micro-batches, one forward/backward each, and the optimizer steps once on the gradient of the whole
   * batch's mean loss. The schedule counts optimizer steps, so K changes memory, not the run. Default 1.
   */
  accumSteps?: number;
  /** Label smoothing epsilon (torch semantics), default 0. */
  labelSmoothing?: number;
  /** End the run (checkpointed, resumable) after this epoch although `epochs` is larger: a long run in jobs. */
  stopAfter?: number;
}

export interface EpochResult {
  epoch: number;
  trainLoss: number;
  testLoss: number;
  testAcc: number;
  testTop5?: number;
  valLoss?: number;
  valAcc?: number;
  /** Language models: exp(test loss), and bits per UTF-8 byte of the test text. */
  testPerplexity?: number;
  testBitsPerByte?: number;
}

/** Thrown when the loss becomes NaN or infinite. */
export class DivergenceError extends Error {}

/**
 * Lets the event loop run (signal handlers such as Ctrl-C's, timers, I/O) between two steps. A training step
 * is synchronous work; without this a SIGINT listener would only run once the whole run had finished.
 * Costs a few microseconds per step.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export interface LoopHooks {
  /** Called after every step (progress display). */
  onStep?(s: { epoch: number; step: number; stepsPerEpoch: number; loss: number; imagesPerSec: number; lr: number; etaSeconds: number }): void;
  onEpoch?(r: EpochResult): void;
  /** Polled after each step (the event loop runs first, so signal handlers can set it): true stops the run
   * after that step; the step's loss is logged, {@link onCheckpoint} called and the results so far returned. */
  shouldStop?(): boolean;
  /**
   * Called at the end of each epoch (after its eval record) and when stopping mid-epoch, with the state a
   * resumed loop continues from; the metrics file holds exactly the records up to that state.
   */
  onCheckpoint?(state: LoopState): void;
}

/**
 * Mean loss, top-1 and (for >= 10 classes) top-5 accuracy over a split, per target: per image, or per token
 * for a language model (logits [B, T, V], targets [B, T]: next-token accuracy); reads back once.
 */
export function evaluate(model: tf.LayersModel, source: Batches, numClasses: number): { loss: number; acc: number; top5?: number } {
  let totals = tf.zeros([4]);
  for (const b of source.epoch(0)) {
    const next = tf.tidy(() => {
      const logits = model.apply(b.x, { training: false }) as tf.Tensor;
      const n = b.y.size;
      const lossSum = meanSoftmaxCrossEntropy(b.y, logits).mul(n);
      const labels = b.y.toInt();
      const top1 = logits.argMax(-1).equal(labels).sum().toFloat();
      const top5 = numClasses >= 10
        ? tf.topk(logits, 5).indices.equal(labels.expandDims(-1)).any(-1).sum().toFloat()
        : tf.scalar(0);
      return totals.add(tf.stack([lossSum, top1, top5, tf.scalar(n)]));
    });
    tf.dispose([totals, b.x, b.y, b.mixup?.y2]);
    totals = next;
  }
  const [loss, acc, top5, n] = Array.from(totals.dataSync());
  totals.dispose();
  return { loss: loss / n, acc: acc / n, top5: numClasses >= 10 ? top5 / n : undefined };
}

/** A language model's test loss as perplexity and bits per byte (`bytesPerToken`: UTF-8 bytes per token of the text). */
export function languageModelMetrics(loss: number, bytesPerToken: number): { testPerplexity: number; testBitsPerByte: number } {
  return { testPerplexity: Math.exp(loss), testBitsPerByte: loss / Math.LN2 / bytesPerToken };
}

/** Near-equal sizes of `k` micro-batches of a batch of `n` (never an empty one). */
export function microBatchSizes(n: number, k: number): number[] {
  const parts = Math.min(k, n);
  return Array.from({ length: parts }, (_, i) => Math.floor((n * (i + 1)) / parts) - Math.floor((n * i) / parts));
}

/**
 * One optimizer step on `b` split into micro-batches: each micro-batch's mean loss weighted by its share of
 * the batch, gradients summed in a {@link GradientAccumulator}, one `applyGradients`. Returns the batch's
 * mean loss (the sum of the weighted micro losses).
 */
function accumulatedStep(model: tf.LayersModel, opt: ChainOptimizer, b: Batch, k: number, smoothing: number): tf.Scalar {
  const n = b.y.shape[0];
  const vars = opt.params.map((p) => p.variable);
  const acc = new GradientAccumulator();
  let total = tf.scalar(0);
  let off = 0;
  try {
    for (const m of microBatchSizes(n, k)) {
      const { value, grads } = tf.variableGrads(() => tf.tidy(() => {
        const x = tf.slice(b.x, off, m);
        const y = tf.slice(b.y, off, m);
        const mixup = b.mixup && { y2: tf.slice(b.mixup.y2, off, m), lambda: b.mixup.lambda };
        return tf.mul(trainingLoss({ y, mixup }, model.apply(x, { training: true }) as tf.Tensor, smoothing), m / n) as tf.Scalar;
      }), vars);
      acc.add(grads);
      const next = tf.add(total, value) as tf.Scalar;
      tf.dispose([total, value, ...Object.values(grads)]);
      total = next;
      off += m;
    }
    const sums = acc.sum();
    opt.applyGradients(sums);
    tf.dispose(Object.values(sums));
  } finally {
    acc.dispose();
  }
  return total;
}

/** The state of a loop that has not started. */
export function initialLoopState(): LoopState {
  return { epoch: 1, batch: 0, step: 0, lossSum: 0, lossCount: 0, elapsed: 0, results: [] };
}

/**
 * Trains until epoch `o.epochs` (or `o.stopAfter`), from `start` (a checkpoint's state; default: the
 * beginning); resolves to the per-epoch results, the restored ones included (fewer when stopped early).
 * A NaN or infinite loss throws {@link DivergenceError} before any checkpoint of that epoch is written.
 */
export async function trainLoop(
  run: RunSetup, opt: ChainOptimizer, o: LoopOptions, dir: RunDir, hooks: LoopHooks = {}, start: LoopState = initialLoopState(),
): Promise<EpochResult[]> {
  const stepsPerEpoch = run.train.batchesPerEpoch;
  const total = o.epochs * stepsPerEpoch;
  const k = o.accumSteps ?? 1;
  if (!Number.isInteger(k) || k < 1) throw new Error(`accumulation steps must be an integer >= 1, got ${k}`);
  const smoothing = o.labelSmoothing ?? 0;
  const results = start.results.map((r) => ({ ...r }));
  const t0 = performance.now();
  const elapsed = () => start.elapsed + (performance.now() - t0) / 1000;
  let done = start.step;
  let doneHere = 0;
  let windowStart = performance.now();
  let windowImages = 0;
  const log = (r: MetricRecord) => dir.log(r);
  for (let epoch = start.epoch; epoch <= o.epochs; epoch++) {
    const resumed = epoch === start.epoch;
    let lossSum = resumed ? start.lossSum : 0;
    let lossCount = resumed ? start.lossCount : 0;
    let step = resumed ? start.batch : 0;
    for (const b of run.train.epoch(epoch - 1, step)) {
      const lr = opt.currentLR();
      let cost: tf.Scalar;
      if (k === 1) {
        cost = opt.minimize(() => trainingLoss(b, run.model.apply(b.x, { training: true }) as tf.Tensor, smoothing), true)!;
      } else {
        cost = accumulatedStep(run.model, opt, b, k, smoothing);
      }
      const loss = cost.dataSync()[0];
      const n = b.y.shape[0];
      tf.dispose([cost, b.x, b.y, b.mixup?.y2]);
      step++;
      done++;
      doneHere++;
      if (!Number.isFinite(loss)) {
        throw new DivergenceError(`training diverged at epoch ${epoch} step ${step}: loss is ${loss} (lower --lr?)`);
      }
      lossSum += loss * n;
      lossCount += n;
      windowImages += n;
      const now = performance.now();
      const imagesPerSec = windowImages / Math.max((now - windowStart) / 1000, 1e-9);
      const etaSeconds = ((now - t0) / 1000 / doneHere) * (total - done);
      hooks.onStep?.({ epoch, step, stepsPerEpoch, loss, imagesPerSec, lr, etaSeconds });
      await yieldToEventLoop();
      const stopping = hooks.shouldStop?.() ?? false;
      const record: MetricRecord = { type: 'train', epoch, step: done, loss, lr, imagesPerSec, time: elapsed() };
      const due = done % o.logEvery === 0 || step === stepsPerEpoch;
      if (due) log(record);
      if (due || stopping) {
        windowStart = now;
        windowImages = 0;
      }
      if (stopping) {
        // the checkpoint holds the records an uninterrupted run would have; the stop's own line comes after
        hooks.onCheckpoint?.({ epoch, batch: step, step: done, lossSum, lossCount, elapsed: elapsed(), results });
        if (!due) log(record);
        return results;
      }
    }
    const ev = evaluate(run.model, run.test, run.dataset.numClasses);
    const r: EpochResult = { epoch, trainLoss: lossSum / lossCount, testLoss: ev.loss, testAcc: ev.acc, testTop5: ev.top5 };
    if (run.text) Object.assign(r, languageModelMetrics(ev.loss, run.text.bytesPerToken));
    if (run.val) {
      const v = evaluate(run.model, run.val, run.dataset.numClasses);
      r.valLoss = v.loss;
      r.valAcc = v.acc;
    }
    log({
      type: 'eval', epoch, step: done, trainLoss: r.trainLoss, testLoss: r.testLoss, testAcc: r.testAcc, testTop5: r.testTop5, valLoss: r.valLoss, valAcc: r.valAcc,
      testPerplexity: r.testPerplexity, testBitsPerByte: r.testBitsPerByte, time: elapsed(),
    });
    results.push(r);
    hooks.onEpoch?.(r);
    hooks.onCheckpoint?.({ epoch: epoch + 1, batch: 0, step: done, lossSum: 0, lossCount: 0, elapsed: elapsed(), results });
    if (o.stopAfter !== undefined && epoch >= o.stopAfter) break;
  }
  return results;
}
