/**
 * Gradients that dispatch fewer (and fused) kernels than tfjs's own, for kernels of this family.
 *
 * tfjs registers one gradient per kernel name for every backend. The ones below replace tfjs's for Tile, Sum,
 * Mean, Relu, Square and FusedBatchNorm the first time the corresponding onednn kernel runs (so the import order of
 * '@tensorflow/tfjs' and this package does not matter). They compute the same values:
 *  - Tile: one Sum over the repetition axes instead of a Slice + Add per repetition (rank <= 4 only in tfjs).
 *  - Sum / Mean: the broadcast of dy (Tile) instead of dy * ones(x.shape) (and / n): one full-size tensor
 *    instead of two or three; bit-identical values.
 *  - Relu: dy * step(y) in one kernel (LwlrReluGrad) on backends that have it, bit-identical; it saves the
 *    output y instead of the input x (y > 0 exactly where x > 0, NaN where x is NaN), so a conv -> BN -> ReLU ->
 *    conv chain keeps the ReLU output (which the next conv saves anyway) and not also the BatchNorm output.
 *  - Square: dy * (x * 2) in one kernel (LwlrSquareGrad) on backends that have it, bit-identical.
 *  - FusedBatchNorm: the five gradients in one pass (LwlrBatchNormGrad) when the parameters are per-channel
 *    (rank 1, length = x's last dim) or full-size; tfjs's composite (~20 kernels) otherwise and on other
 *    backends. Equal up to float32 rounding (sums in double).
 * Backends without the project kernels use tfjs's original gradient functions (kept here).
 */
import * as tf from '@tensorflow/tfjs-core';

type GradFunc = tf.GradConfig['gradFunc'];
const originals = new Map<string, GradFunc>();
const mine = new Map<string, tf.GradConfig>();

/** Registers our gradient for `kernelName` if the registry holds another one (keeping that as fallback). */
export function ensureGradient(kernelName: string): void {
  const cfg = mine.get(kernelName);
  const cur = tf.getGradient(kernelName);
  if (!cfg || cur === cfg) return;
  if (cur) originals.set(kernelName, cur.gradFunc);
  tf.registerGradient(cfg);
}

function original(kernelName: string): GradFunc {
  const g = originals.get(kernelName);
  if (!g) throw new Error(`tfjs-backend-onednn: no original gradient for ${kernelName}`);
  return g;
}

function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

function define(cfg: tf.GradConfig): void {
  mine.set(cfg.kernelName, cfg);
}

define({
  kernelName: 'Tile',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const reps = (attrs as unknown as { reps: number[] }).reps;
    return {
      x: () => {
        const shape: number[] = [];
        const axes: number[] = [];
        reps.forEach((r, i) => {
          axes.push(2 * i);
          shape.push(r, x!.shape[i]!);
        });
        return tf.reshape(tf.sum(tf.reshape(dy as tf.Tensor, shape), axes), x!.shape);
      },
    };
  },
});

function reduceGrad(kernelName: 'Sum' | 'Mean'): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const g = dy as tf.Tensor;
      if (g.dtype !== 'float32') return original(kernelName)(dy, saved, attrs);
      const axes = tf.util.parseAxisParam((attrs as unknown as { axis: number | number[] }).axis, x!.shape);
      const expanded = x!.shape.slice();
      for (const a of axes) expanded[a] = 1;
      return {
        x: () => {
          let d = tf.reshape(g, expanded);
          if (kernelName === 'Mean') {
            let n = 1;
            for (const a of axes) n *= x!.shape[a]!;
            d = tf.div(d, n);
          }
          return tf.broadcastTo(d, x!.shape);
        },
      };
    },
  };
}
define(reduceGrad('Sum'));
define(reduceGrad('Mean'));

define({
  kernelName: 'Relu',
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved; // the output y: step(y) == step(x)
    const g = dy as tf.Tensor;
    if (!hasKernel('LwlrReluGrad') || g.dtype !== 'float32' || x!.dtype !== 'float32' ||
        g.shape.join(',') !== x!.shape.join(',')) {
      return original('Relu')(dy, saved, attrs);
    }
    return { x: () => tf.engine().runKernel('LwlrReluGrad', { dy: g, x: x! }) as tf.Tensor };
  },
});

define({
  kernelName: 'Square',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const g = dy as tf.Tensor;
    if (!hasKernel('LwlrSquareGrad') || g.dtype !== 'float32' || x!.dtype !== 'float32' ||
        g.shape.join(',') !== x!.shape.join(',')) {
      return original('Square')(dy, saved, attrs);
    }
    return { x: () => tf.engine().runKernel('LwlrSquareGrad', { dy: g, x: x! }) as tf.Tensor };
  },
});

define({
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const [x, mean, variance, scale] = saved;
    const g = dy as tf.Tensor;
    const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
    const perChannel = mean!.rank === 1 && mean!.shape[0] === x!.shape[x!.rank - 1];
    const full = same(mean!.shape, x!.shape);
    const ok =
      hasKernel('LwlrBatchNormGrad') &&
      [g, x, mean, variance, scale].every((t) => t == null || t.dtype === 'float32') &&
      (perChannel || full) &&
      same(variance!.shape, mean!.shape) &&
      (scale == null || same(scale.shape, mean!.shape)) &&
      same(g.shape, x!.shape);
    if (!ok) return original('FusedBatchNorm')(dy, saved, attrs);
    // One kernel for all five; run here (inside the backward pass's scope, which disposes these at its end),
    // each closure hands the engine its own handle.
    const outs = tf.engine().runKernel(
      'LwlrBatchNormGrad',
      scale ? { dy: g, x: x!, mean: mean!, variance: variance!, scale } : { dy: g, x: x!, mean: mean!, variance: variance! },
      attrs as tf.NamedAttrMap,
    ) as tf.Tensor[];
    const take = (i: number) => () => outs[i]!.clone();
    return { x: take(0), mean: take(1), variance: take(2), scale: take(3), offset: take(4) };
  },
});
