/**
 * Small gradient transformations, the building blocks of every optimizer here (after optax's
 * `transform.py`): each maps an update tensor to a new one for ONE parameter, may keep per-parameter
 * state in named slots, and reads the parameter's metadata and its learning rate from a {@link StepContext}.
 * An optimizer is a list of them ({@link ChainOptimizer}); the parameter then moves by `p <- p - u`.
 *
 * SGD   = [masked(addWeightDecay(wd), mask), traceMomentum(m, dampening, nesterov), scaleByLearningRate()]
 * AdamW = [scaleByAdam(b1, b2, eps, amsgrad), masked(addWeightDecay(wd), mask), scaleByLearningRate()]
 *
 * LARS / LAMB / SGD-NG are meant to be the same kind of list with one more transform (a trust ratio or a
 * gradient normalization) that reads `ctx.param`, `ctx.info.kind` and `ctx.lr`.
 *
 * Everything a transform does runs as tfjs ops inside the optimizer's `tidy`: no per-element JS and no
 * read-back; scalars (lr, bias corrections) are plain JS numbers known without touching the device.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ParamInfo } from '../types.js';

/** What a transform may know and keep while updating one parameter in one optimizer step. */
export interface StepContext {
  /** The parameter being updated. */
  readonly info: ParamInfo;
  /** Its value before this step. */
  readonly param: tf.Tensor;
  /** Its learning rate this step: `schedule(iteration) * eta`. */
  readonly lr: number;
  /** The schedule's value this step (the global lr). */
  readonly baseLR: number;
  /** This parameter's multiplier. */
  readonly eta: number;
  /**
   * Per-element factors of this parameter (a tensor shaped like it; frozen-adagrad), or undefined. Element j's
   * learning rate is `lr * elementEta[j]`; {@link scaleByLearningRate} applies it.
   */
  readonly elementEta?: tf.Tensor;
  /** How many updates this parameter has had, this one included (1 on its first; torch's `state['step']`). */
  readonly step: number;
  /** The optimizer's 0-based step (the schedule's argument). */
  readonly iteration: number;
  /** Whether this parameter already has state slot `name`. */
  hasSlot(name: string): boolean;
  /** The state slot `name` of this parameter, created as zeros shaped like the parameter when absent. */
  slot(name: string): tf.Tensor;
  /** Stores `value` as slot `name` (creates the slot when absent). */
  setSlot(name: string, value: tf.Tensor): void;
}

/** One step of an optimizer chain. */
export interface Transform {
  /** Short name, for configs and error messages. */
  readonly name: string;
  /** Names of the per-parameter state slots it keeps (used to validate restored state). */
  readonly slots: readonly string[];
  /** Plain-data hyper-parameters (for `getConfig()`). */
  readonly config: Readonly<Record<string, unknown>>;
  /** Maps the incoming update `u` of `ctx.info` to the outgoing one. Runs inside a tidy. */
  update(u: tf.Tensor, ctx: StepContext): tf.Tensor;
}

/** A predicate over parameters (weight-decay masks, transforms applied to kernels only, ...). */
export type ParamMask = (p: ParamInfo) => boolean;

function nonNeg(what: string, v: number): void {
  if (!Number.isFinite(v) || v < 0) throw new Error(`${what} must be a finite number >= 0, got ${v}`);
}

/**
 * Adds `weightDecay * param` to the update (L2 / weight decay). Before a momentum trace this is torch
 * SGD's coupled decay; after `scaleByAdam` and before {@link scaleByLearningRate} it is AdamW's
 * decoupled decay `p <- p * (1 - lr * wd)`. Either way the decay is multiplied by the parameter's own
 * lr, so an eta multiplier scales it exactly like a torch param group's lr does.
 *
 * @example
 * ```ts
 * const wd = masked(addWeightDecay(5e-4), (p) => p.kind === 'kernel');
 * ```
 */
export function addWeightDecay(weightDecay: number): Transform {
  nonNeg('addWeightDecay: weightDecay', weightDecay);
  return {
    name: 'addWeightDecay',
    slots: [],
    config: { weightDecay },
    update: (u, ctx) => (weightDecay === 0 ? u : tf.add(u, tf.mul(ctx.param, weightDecay))),
  };
}

/** Options of {@link traceMomentum}. */
export interface MomentumOptions {
  momentum: number;
  /** Dampening of new gradients into the buffer (torch `dampening`, default 0). */
  dampening?: number;
  /** Nesterov momentum (torch `nesterov`, default false). */
  nesterov?: boolean;
}

/**
 * Torch SGD's momentum buffer (slot `momentum_buffer`): on the first step `buf = u`, then
 * `buf = momentum * buf + (1 - dampening) * u`; returns `nesterov ? u + momentum * buf : buf`.
 * Identity when `momentum` is 0.
 *
 * @example
 * ```ts
 * const t = traceMomentum({ momentum: 0.9, nesterov: true });
 * ```
 */
export function traceMomentum(opts: MomentumOptions): Transform {
  const { momentum, dampening = 0, nesterov = false } = opts;
  nonNeg('traceMomentum: momentum', momentum);
  if (!Number.isFinite(dampening)) throw new Error(`traceMomentum: dampening must be finite, got ${dampening}`);
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw new Error('traceMomentum: nesterov momentum requires a momentum > 0 and zero dampening (as torch.optim.SGD)');
  }
  return {
    name: 'traceMomentum',
    slots: momentum === 0 ? [] : ['momentum_buffer'],
    config: { momentum, dampening, nesterov },
    update(u, ctx) {
      if (momentum === 0) return u;
      let buf: tf.Tensor;
      if (!ctx.hasSlot('momentum_buffer')) {
        buf = tf.clone(u);
      } else {
        buf = tf.add(tf.mul(ctx.slot('momentum_buffer'), momentum), tf.mul(u, 1 - dampening));
      }
      ctx.setSlot('momentum_buffer', buf);
      return nesterov ? tf.add(u, tf.mul(buf, momentum)) : buf;
    },
  };
}

/** Options of {@link scaleByAdam}. */
export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  amsgrad?: boolean;
}

/**
 * Torch Adam's direction (slots `exp_avg`, `exp_avg_sq`, and `max_exp_avg_sq` with amsgrad):
 * `m = b1 m + (1-b1) u`, `v = b2 v + (1-b2) u^2`, `vmax = max(vmax, v)`,
 * returns `(m / (sqrt(v or vmax) / sqrt(1 - b2^t) + eps)) / (1 - b1^t)` with `t = ctx.step`.
 * Follow it with {@link scaleByLearningRate} (and decoupled decay in between for AdamW).
 *
 * @example
 * ```ts
 * const adam = scaleByAdam({ beta1: 0.9, beta2: 0.999, eps: 1e-8 });
 * ```
 */
export function scaleByAdam(opts: AdamOptions = {}): Transform {
  const { beta1 = 0.9, beta2 = 0.999, eps = 1e-8, amsgrad = false } = opts;
  for (const [k, b] of [['beta1', beta1], ['beta2', beta2]] as const) {
    if (!(b >= 0 && b < 1)) throw new Error(`scaleByAdam: ${k} must be in [0, 1), got ${b}`);
  }
  nonNeg('scaleByAdam: eps', eps);
  return {
    name: 'scaleByAdam',
    slots: amsgrad ? ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'] : ['exp_avg', 'exp_avg_sq'],
    config: { beta1, beta2, eps, amsgrad },
    update(u, ctx) {
      const m = tf.add(tf.mul(ctx.slot('exp_avg'), beta1), tf.mul(u, 1 - beta1));
      const v = tf.add(tf.mul(ctx.slot('exp_avg_sq'), beta2), tf.mul(tf.square(u), 1 - beta2));
      ctx.setSlot('exp_avg', m);
      ctx.setSlot('exp_avg_sq', v);
      let second = v;
      if (amsgrad) {
        second = tf.maximum(ctx.slot('max_exp_avg_sq'), v);
        ctx.setSlot('max_exp_avg_sq', second);
      }
      const bc1 = 1 - Math.pow(beta1, ctx.step);
      const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, ctx.step));
      const denom = tf.add(tf.div(tf.sqrt(second), bc2Sqrt), eps);
      return tf.mul(tf.div(m, denom), 1 / bc1);
    },
  };
}

/**
 * Multiplies the update by the parameter's learning rate `ctx.lr = schedule(step) * eta[name]`
 * (the scale-by-eta step), and by its per-element factors when it has some (`ctx.elementEta`, one more
 * tensor multiply). Usually last in a chain.
 *
 * @example
 * ```ts
 * const chain = [traceMomentum({ momentum: 0.9 }), scaleByLearningRate()];
 * ```
 */
export function scaleByLearningRate(): Transform {
  return {
    name: 'scaleByLearningRate',
    slots: [],
    config: {},
    update: (u, ctx) => (ctx.elementEta ? tf.mul(tf.mul(u, ctx.lr), ctx.elementEta) : tf.mul(u, ctx.lr)),
  };
}

/**
 * Applies `inner` only to the parameters for which `mask` is true; the others pass through unchanged
 * (optax `masked`). State slots are created only for the masked-in parameters.
 *
 * @example
 * ```ts
 * const wd = masked(addWeightDecay(0.05), excludeFromWeightDecay());
 * ```
 */
export function masked(inner: Transform, mask: ParamMask): Transform {
  const cfg = (mask as { config?: unknown }).config;
  return {
    name: `masked(${inner.name})`,
    slots: inner.slots,
    config: { ...inner.config, mask: cfg ?? 'custom' },
    update: (u, ctx) => (mask(ctx.info) ? inner.update(u, ctx) : u),
  };
}
