/**
 * The training loop: SGD / AdamW with per-parameter eta, warmup + cosine by step, evaluation each epoch,
 * metrics as JSON lines. One tidy per step; the loss is read back once per step (divergence check).
 */
import * as tf from '@tensorflow/tfjs';
import { meanSoftmaxCrossEntropy, type ChainOptimizer } from 'layerwise-lr';
import type { RunSetup } from './setup.js';
import type { BatchSource } from '../data/batches.js';
import type { RunDir } from './metrics.js';

export interface LoopOptions {
  epochs: number;
  logEvery: number;
}

export interface EpochResult {
  epoch: number;
  trainLoss: number;
  testLoss: number;
  testAcc: number;
  testTop5?: number;
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
   * after that step; the step's loss is logged and the results so far are returned. */
  shouldStop?(): boolean;
}

/** Mean loss, top-1 and (for >= 10 classes) top-5 accuracy over a split; reads back once. */
export function evaluate(model: tf.LayersModel, source: BatchSource, numClasses: number): { loss: number; acc: number; top5?: number } {
  let totals = tf.zeros([3]);
  for (const b of source.epoch(0)) {
    const next = tf.tidy(() => {
      const logits = model.apply(b.x, { training: false }) as tf.Tensor2D;
      const n = b.y.shape[0];
      const lossSum = meanSoftmaxCrossEntropy(b.y, logits).mul(n);
      const labels = b.y.toInt();
      const top1 = logits.argMax(1).equal(labels).sum().toFloat();
      const top5 = numClasses >= 10
        ? tf.topk(logits, 5).indices.equal(labels.expandDims(1)).any(1).sum().toFloat()
        : tf.scalar(0);
      return totals.add(tf.stack([lossSum, top1, top5]));
    });
    tf.dispose([totals, b.x, b.y]);
    totals = next;
  }
  const [loss, acc, top5] = Array.from(totals.dataSync());
  totals.dispose();
  const n = source.count;
  return { loss: loss / n, acc: acc / n, top5: numClasses >= 10 ? top5 / n : undefined };
}

/** Trains for `o.epochs`; resolves to the per-epoch results (fewer when stopped early). */
export async function trainLoop(run: RunSetup, opt: ChainOptimizer, o: LoopOptions, dir: RunDir, hooks: LoopHooks = {}): Promise<EpochResult[]> {
  const stepsPerEpoch = run.train.batchesPerEpoch;
  const total = o.epochs * stepsPerEpoch;
  const results: EpochResult[] = [];
  const t0 = performance.now();
  let done = 0;
  let windowStart = performance.now();
  let windowImages = 0;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    let lossSum = 0;
    let lossCount = 0;
    let step = 0;
    for (const b of run.train.epoch(epoch - 1)) {
      const lr = opt.currentLR();
      const cost = opt.minimize(() => meanSoftmaxCrossEntropy(b.y, run.model.apply(b.x, { training: true }) as tf.Tensor), true)!;
      const loss = cost.dataSync()[0];
      const n = b.y.shape[0];
      tf.dispose([cost, b.x, b.y]);
      step++;
      done++;
      if (!Number.isFinite(loss)) {
        throw new DivergenceError(`training diverged at epoch ${epoch} step ${step}: loss is ${loss} (lower --lr?)`);
      }
      lossSum += loss * n;
      lossCount += n;
      windowImages += n;
      const now = performance.now();
      const imagesPerSec = windowImages / Math.max((now - windowStart) / 1000, 1e-9);
      const etaSeconds = ((now - t0) / 1000 / done) * (total - done);
      hooks.onStep?.({ epoch, step, stepsPerEpoch, loss, imagesPerSec, lr, etaSeconds });
      await yieldToEventLoop();
      const stopping = hooks.shouldStop?.() ?? false;
      if (done % o.logEvery === 0 || step === stepsPerEpoch || stopping) {
        dir.log({ type: 'train', epoch, step: done, loss, lr, imagesPerSec, time: (now - t0) / 1000 });
        windowStart = now;
        windowImages = 0;
      }
      if (stopping) return results;
    }
    const ev = evaluate(run.model, run.test, run.dataset.numClasses);
    const r: EpochResult = { epoch, trainLoss: lossSum / lossCount, testLoss: ev.loss, testAcc: ev.acc, testTop5: ev.top5 };
    dir.log({ type: 'eval', epoch, step: done, trainLoss: r.trainLoss, testLoss: r.testLoss, testAcc: r.testAcc, testTop5: r.testTop5, time: (performance.now() - t0) / 1000 });
    results.push(r);
    hooks.onEpoch?.(r);
  }
  return results;
}
