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
import { adamFamilyConfig, adamFamilyOptionsFromConfig, adamFamilySettings, type AdamFamilyOptions } from './adam-options.js';
import { ChainOptimizer } from './base.js';
import { ADAMW_STEP_KERNEL, fusedAdamWStep, shouldUseFused, type FusedMode } from './fused.js';
import {
  addWeightDecay, masked, scaleByAdam, scaleByLearningRate, type ParamMask, type StepContext,
} from './transforms.js';

/** Options of {@link AdamW} (defaults as torch.optim.AdamW; weight decay 1e-2). */
export interface AdamWOptions extends AdamFamilyOptions {
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

  readonly beta1!: number;
  readonly beta2!: number;
  readonly eps!: number;
  readonly weightDecay!: number;
  readonly weightDecayMask!: ParamMask;
  readonly amsgrad!: boolean;
  readonly fused: FusedMode;
  private useFused = false;

  constructor(params: readonly ParamInfo[], options: AdamWOptions = {}) {
    const s = adamFamilySettings(options, 1e-2);
    super(params, {
      lr: options.lr ?? 1e-3,
      eta: options.eta,
      etaDefault: options.etaDefault,
      transforms: [
        scaleByAdam(s),
        masked(addWeightDecay(s.weightDecay), s.weightDecayMask),
        scaleByLearningRate(),
      ],
    });
    Object.assign(this, s);
    this.fused = options.fused ?? 'auto';
  }

  protected override beforeStep(): void {
    this.useFused = shouldUseFused(this.fused, ADAMW_STEP_KERNEL);
  }

  protected override updateParam(ctx: StepContext, grad: tf.Tensor): tf.Tensor {
    // the fused kernel takes one scalar lr: per-element multipliers (frozen-adagrad) take the composed path
    if (!this.useFused || ctx.elementEta) return super.updateParam(ctx, grad);
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
    return { ...this.baseConfig(), ...adamFamilyConfig(this), fused: this.fused };
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
    return new AdamW(params, { ...adamFamilyOptionsFromConfig(c), fused: (c.fused as FusedMode | undefined) ?? 'auto' });
  }
}
