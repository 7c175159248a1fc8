/**
 * AdamW: torch.optim.AdamW (1.13) update rule (decoupled weight decay, bias correction, optional amsgrad),
 * with per-parameter learning rates `schedule(step) * eta[name]` (each eta behaves exactly like a torch
 * param group with `lr = base_lr * eta`, so it scales the decoupled decay `lr * wd` too).
 *
 * Per parameter, with `lr = schedule(step) * eta` and `t` its own 1-based step count:
 * ```
 * p = p * (1 - lr * wd)                     (wd = 0 where the mask says no decay)
 * m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2;   vmax = max(vmax, v)   (amsgrad)
 * denom = sqrt(amsgrad ? vmax : v) / sqrt(1 - b2^t) + eps
 * p = p - lr / (1 - b1^t) * m / denom
 * ```
 * Chain: `[scaleByAdam(...), masked(addWeightDecay(wd), mask), scaleByLearningRate()]`, i.e.
 * `p - lr * (adam + wd * p)`, the same as above up to float rounding; a backend kernel `LwlrAdamWStep`
 * is used instead when the active backend has one (see `fused.ts`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ParamInfo } from '../types.js';
import { ChainOptimizer, lrFromConfig, type OptimizerOptions } from './base.js';
import { ADAMW_STEP_KERNEL, fusedAdamWStep, shouldUseFused, type FusedMode } from './fused.js';
import { decayAll, maskFromConfig } from './mask.js';
import {
  addWeightDecay, masked, scaleByAdam, scaleByLearningRate, type ParamMask, type StepContext,
} from './transforms.js';

/** Options of {@link AdamW} (defaults as torch.optim.AdamW). */
export interface AdamWOptions extends Partial<OptimizerOptions> {
  /** Global learning rate or schedule (default 1e-3). */
  lr?: OptimizerOptions['lr'];
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay (default 1e-2, as torch). */
  weightDecay?: number;
  /** Which parameters are decayed (default: all). See `excludeFromWeightDecay`, `kernelsOnly`. */
  weightDecayMask?: ParamMask;
  /** The AMSGrad variant (default false). */
  amsgrad?: boolean;
  /** Use the backend's fused `LwlrAdamWStep` kernel: `'auto'` (default) when present, `'always'`, `'never'`. */
  fused?: FusedMode;
}

/**
 * torch.optim.AdamW with per-parameter eta multipliers, a weight-decay mask and a schedule.
 *
 * @example
 * ```ts
 * const opt = new AdamW(collectParams(model), {
 *   lr: cosineWithWarmup({ peak: 1e-3, warmupSteps: 1000, totalSteps: 50_000 }),
 *   eta: lrTable, weightDecay: 0.05, weightDecayMask: excludeFromWeightDecay(),
 * });
 * opt.minimize(() => lossFn(model, batch));
 * ```
 */
export class AdamW extends ChainOptimizer {
  /** @nocollapse */
  static override get className(): string {
    return 'LwlrAdamW';
  }

  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly weightDecayMask: ParamMask;
  readonly amsgrad: boolean;
  readonly fused: FusedMode;
  private useFused = false;

  constructor(params: readonly ParamInfo[], options: AdamWOptions = {}) {
    const {
      lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 1e-2, weightDecayMask = decayAll, amsgrad = false,
    } = options;
    super(params, {
      lr,
      eta: options.eta,
      etaDefault: options.etaDefault,
      transforms: [
        scaleByAdam({ beta1, beta2, eps, amsgrad }),
        masked(addWeightDecay(weightDecay), weightDecayMask),
        scaleByLearningRate(),
      ],
    });
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
    this.weightDecayMask = weightDecayMask;
    this.amsgrad = amsgrad;
    this.fused = options.fused ?? 'auto';
  }

  protected override beforeStep(): void {
    this.useFused = shouldUseFused(this.fused, ADAMW_STEP_KERNEL);
  }

  protected override updateParam(ctx: StepContext, grad: tf.Tensor): tf.Tensor {
    if (!this.useFused) return super.updateParam(ctx, grad);
    const out = fusedAdamWStep(
      ctx.param, grad, ctx.slot('exp_avg'), ctx.slot('exp_avg_sq'), this.amsgrad ? ctx.slot('max_exp_avg_sq') : undefined,
      {
        lr: ctx.lr,
        beta1: this.beta1,
        beta2: this.beta2,
        eps: this.eps,
        weightDecay: this.weightDecayMask(ctx.info) ? this.weightDecay : 0,
        step: ctx.step,
        amsgrad: this.amsgrad,
      },
    );
    ctx.setSlot('exp_avg', out.m);
    ctx.setSlot('exp_avg_sq', out.v);
    if (out.vmax != null) ctx.setSlot('max_exp_avg_sq', out.vmax);
    return out.param;
  }

  /**
   * Plain-data configuration (hyper-parameters, lr or schedule config, eta, mask config).
   *
   * @example
   * ```ts
   * const again = AdamW.fromConfigAndParams(JSON.parse(JSON.stringify(opt.getConfig())), params);
   * ```
   */
  override getConfig(): tf.serialization.ConfigDict {
    const maskCfg = (this.weightDecayMask as { config?: unknown }).config ?? 'custom';
    return {
      ...this.baseConfig(),
      beta1: this.beta1,
      beta2: this.beta2,
      eps: this.eps,
      weightDecay: this.weightDecay,
      weightDecayMask: maskCfg as tf.serialization.ConfigDictValue,
      amsgrad: this.amsgrad,
      fused: this.fused,
    };
  }

  /**
   * Rebuilds an AdamW from {@link getConfig}'s output and the parameters.
   *
   * @example
   * ```ts
   * const opt2 = AdamW.fromConfigAndParams(opt.getConfig(), params);
   * ```
   */
  static fromConfigAndParams(config: tf.serialization.ConfigDict, params: readonly ParamInfo[]): AdamW {
    const c = config as Record<string, unknown>;
    return new AdamW(params, {
      lr: lrFromConfig(c.lr),
      eta: c.eta as Record<string, number> | undefined,
      etaDefault: c.etaDefault as number | undefined,
      beta1: c.beta1 as number,
      beta2: c.beta2 as number,
      eps: c.eps as number,
      weightDecay: c.weightDecay as number,
      weightDecayMask: maskFromConfig(c.weightDecayMask),
      amsgrad: c.amsgrad as boolean,
      fused: (c.fused as FusedMode | undefined) ?? 'auto',
    });
  }
}
