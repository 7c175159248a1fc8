/**
 * Norm-based transforms: the extra steps that turn the SGD / Adam chains into the paper's layer-wise
 * baselines (SGD-NG, Adam-NG, SGD-NG_adap, LARS/LARC, LAMB). Each works on ONE parameter tensor ("layer" in
 * these papers means one tensor), takes its norms with {@link l2Norm} and keeps them as scalar tensors: no
 * read-back, no per-element JS. Where a ratio could be 0/0 a `tf.where` on SCALARS picks a finite fallback,
 * so a zero tensor or a zero gradient never produces NaN.
 *
 * - {@link normalizeGradient}: `u / (||u|| + eps)` (Yu et al. 2017, block-normalized gradient).
 * - {@link scaleByParamNorm}: `u * max(||w||, minNorm)` (optax `scale_by_param_block_norm`).
 * - {@link scaleByLarc}: NVIDIA apex `LARC.step` for one tensor (local lr, clipping, weight decay folded in).
 * - {@link scaleByTrustRatio}: `u * ||w|| / ||u||`, 1 when either norm is 0 (optax `scale_by_trust_ratio`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ParamMask, StepContext, Transform } from './transforms.js';

/** Kernel name of the backend's fused `x -> scalar sum(x^2)` (tfjs-backend-onednn registers it). */
export const SQUARED_NORM_KERNEL = 'LwlrSquaredNorm';

function nonNeg(what: string, v: number): void {
  if (!Number.isFinite(v) || v < 0) throw new Error(`${what} must be a finite number >= 0, got ${v}`);
}

/**
 * `sum(x^2)` as a scalar tensor: one pass with the active backend's `LwlrSquaredNorm` kernel when it has one,
 * else composed from tfjs ops (same value up to summation order).
 *
 * @example
 * ```ts
 * squaredNorm(tf.tensor([3, 4])); // scalar 25
 * ```
 */
export function squaredNorm(x: tf.Tensor): tf.Scalar {
  if (tf.getKernel(SQUARED_NORM_KERNEL, tf.getBackend()) !== undefined) {
    return tf.engine().runKernel(SQUARED_NORM_KERNEL, { x }, {}) as tf.Scalar;
  }
  return tf.sum(tf.square(x));
}

/**
 * The L2 (Frobenius) norm of a whole tensor as a scalar tensor (`sqrt` of {@link squaredNorm}).
 *
 * @example
 * ```ts
 * l2Norm(tf.tensor([3, 4])); // scalar 5
 * ```
 */
export function l2Norm(x: tf.Tensor): tf.Scalar {
  return tf.sqrt(squaredNorm(x));
}

/** Options of {@link normalizeGradient}. */
export interface NormalizeGradientOptions {
  /** Added to the norm (default 1e-8): a zero gradient gives a zero update, never NaN. */
  eps?: number;
}

/**
 * Layer-wise gradient normalization (SGD-NG / Adam-NG; Yu et al. 2017, "Block-normalized gradient method"):
 * `u / (||u|| + eps)`, so each tensor's update direction has unit norm whatever its gradient scale.
 *
 * @example
 * ```ts
 * const sgdNg = [normalizeGradient(), traceMomentum({ momentum: 0.9 }), scaleByLearningRate()];
 * ```
 */
export function normalizeGradient(opts: NormalizeGradientOptions = {}): Transform {
  const { eps = 1e-8 } = opts;
  nonNeg('normalizeGradient: eps', eps);
  if (eps === 0) throw new Error('normalizeGradient: eps must be > 0 (a zero gradient would give 0/0)');
  return {
    name: 'normalizeGradient',
    slots: [],
    config: { eps },
    update: (u) => tf.div(u, tf.add(l2Norm(u), eps)),
  };
}

/** Options of {@link scaleByParamNorm}. */
export interface ScaleByParamNormOptions {
  /**
   * The smallest weight norm used (default 1e-3, as optax's `min_scale`): a tensor with `||w|| = 0` (a zero-
   * initialized bias) moves by `minNorm` times its update instead of never moving; 0 makes it stay put.
   */
  minNorm?: number;
}

/**
 * Scales the update by the parameter's own norm: `u * max(||w||, minNorm)` (the weight-norm scaling of the
 * paper's SGD-NG_adap; optax `scale_by_param_block_norm`). `w` is the value before this step.
 *
 * @example
 * ```ts
 * const adap = [normalizeGradient(), scaleByParamNorm({ minNorm: 1e-3 }), traceMomentum({ momentum: 0.9 }), scaleByLearningRate()];
 * ```
 */
export function scaleByParamNorm(opts: ScaleByParamNormOptions = {}): Transform {
  const { minNorm = 1e-3 } = opts;
  nonNeg('scaleByParamNorm: minNorm', minNorm);
  return {
    name: 'scaleByParamNorm',
    slots: [],
    config: { minNorm },
    update: (u, ctx) => tf.mul(u, tf.maximum(l2Norm(ctx.param), minNorm)),
  };
}

/** Options of {@link scaleByLarc}. */
export interface LarcOptions {
  /** apex `trust_coefficient` (here default 0.001, the paper's value; apex's own default is 0.02). */
  trustCoefficient?: number;
  /** apex `clip`: `min(local_lr / lr, 1)` (LARC clipping, default true) instead of `local_lr` (scaling). */
  clip?: boolean;
  /** apex `eps` in the local-lr denominator (default 1e-8). */
  eps?: number;
  /** The weight decay folded in (apex absorbs the group's `weight_decay`; default 0). */
  weightDecay?: number;
  /** Which parameters get that decay (default: all); the others use `wd = 0` in both places below. */
  weightDecayMask?: ParamMask;
}

/**
 * NVIDIA apex `LARC.step` (apex/parallel/LARC.py) for one tensor, with `lr = ctx.lr` (the param group's lr,
 * i.e. `schedule(step) * eta`) and `wd` the (masked) weight decay:
 * ```
 * if ||w|| != 0 and ||g|| != 0:
 *   local = trust * ||w|| / (||g|| + wd * ||w|| + eps)
 *   s = clip ? min(local / lr, 1) : local
 *   u = (g + wd * w) * s                 (decay added first, then both scaled)
 * else:
 *   u = g                                 (apex skips the decay too: it zeroed the group's weight_decay)
 * ```
 * The wrapped optimizer then runs with weight decay 0, so put {@link traceMomentum} and
 * {@link scaleByLearningRate} after it and no `addWeightDecay` for the same parameters. With `clip` and
 * `lr = 0` the factor is 1 (apex: `min(inf, 1)`).
 * Per-element multipliers (`ctx.elementEta`, frozen-adagrad): the clip compares with the tensor's scalar
 * `ctx.lr` (schedule x the tensor's mean multiplier); the per-element factors apply after it, in
 * {@link scaleByLearningRate}. (apex takes the norms per tensor, so "each element its own param group" has no
 * apex equivalent; the lab runs frozen-adagrad with SGD and AdamW only.)
 *
 * @example
 * ```ts
 * const lars = [masked(scaleByLarc({ trustCoefficient: 1e-3, weightDecay: 1e-4 }), kernelsOnly),
 *               traceMomentum({ momentum: 0.9 }), scaleByLearningRate()];
 * ```
 */
export function scaleByLarc(opts: LarcOptions = {}): Transform {
  const { trustCoefficient = 1e-3, clip = true, eps = 1e-8, weightDecay = 0, weightDecayMask } = opts;
  nonNeg('scaleByLarc: trustCoefficient', trustCoefficient);
  nonNeg('scaleByLarc: eps', eps);
  nonNeg('scaleByLarc: weightDecay', weightDecay);
  const maskCfg = weightDecayMask == null ? undefined : ((weightDecayMask as { config?: unknown }).config ?? 'custom');
  return {
    name: 'scaleByLarc',
    slots: [],
    config: { trustCoefficient, clip, eps, weightDecay, ...(maskCfg === undefined ? {} : { weightDecayMask: maskCfg }) },
    update(u: tf.Tensor, ctx: StepContext): tf.Tensor {
      const wd = weightDecayMask == null || weightDecayMask(ctx.info) ? weightDecay : 0;
      const wNorm = l2Norm(ctx.param);
      const gNorm = l2Norm(u);
      const adapt = tf.logicalAnd(tf.greater(wNorm, 0), tf.greater(gNorm, 0));
      // Denominator made safe where `adapt` is false (eps may be 0): the value there is not used.
      const denom = tf.where(adapt, tf.add(tf.add(gNorm, tf.mul(wNorm, wd)), eps), tf.onesLike(gNorm));
      let local: tf.Tensor = tf.div(tf.mul(wNorm, trustCoefficient), denom);
      if (clip) local = ctx.lr > 0 ? tf.minimum(tf.div(local, ctx.lr), 1) : tf.onesLike(local);
      const scale = tf.where(adapt, local, tf.onesLike(local));
      if (wd === 0) return tf.mul(u, scale);
      const decay = tf.where(adapt, tf.mul(scale, wd), tf.zerosLike(scale)); // wd * s, or no decay at all
      return tf.add(tf.mul(u, scale), tf.mul(ctx.param, decay));
    },
  };
}

/**
 * The LAMB trust ratio (You et al. 2020; optax `scale_by_trust_ratio`): `u * ||w|| / ||u||`, with ratio 1 when
 * either norm is 0 (a zero tensor or a zero update takes the plain step, never NaN).
 *
 * @example
 * ```ts
 * const lamb = [scaleByAdam({ eps: 1e-6 }), masked(addWeightDecay(0.01), kernelsOnly),
 *               masked(scaleByTrustRatio(), kernelsOnly), scaleByLearningRate()];
 * ```
 */
export function scaleByTrustRatio(): Transform {
  return {
    name: 'scaleByTrustRatio',
    slots: [],
    config: {},
    update(u, ctx) {
      const wNorm = l2Norm(ctx.param);
      const uNorm = l2Norm(u);
      const ok = tf.logicalAnd(tf.greater(wNorm, 0), tf.greater(uNorm, 0));
      const ratio = tf.where(ok, tf.div(wNorm, tf.where(ok, uNorm, tf.onesLike(uNorm))), tf.onesLike(uNorm));
      return tf.mul(u, ratio);
    },
  };
}
