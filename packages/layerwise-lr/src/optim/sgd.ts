/**
 * SGD with momentum, dampening, Nesterov and coupled weight decay: torch.optim.SGD (1.13) update rule,
 * with per-parameter learning rates `schedule(step) * eta[name]` (each eta behaves exactly like a torch
 * param group with `lr = base_lr * eta`: it scales the step and the weight-decay term alike).
 *
 * Per parameter, with `lr = schedule(step) * eta`:
 * ```
 * g = grad + wd * p                        (wd = 0 where the mask says no decay)
 * buf = first ? g : momentum * buf + (1 - dampening) * g      (only when momentum != 0)
 * g = nesterov ? g + momentum * buf : buf
 * p = p - lr * g
 * ```
 * Chain: `[masked(addWeightDecay(wd), mask), traceMomentum(...), scaleByLearningRate()]`; a backend
 * kernel `LwlrSgdStep` is used instead when the active backend has one (see `fused.ts`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ParamInfo } from '../types.js';
import { ChainOptimizer } from './base.js';
import { fusedSgdStep, SGD_STEP_KERNEL, shouldUseFused, type FusedMode } from './fused.js';
import { sgdFamilyConfig, sgdFamilyOptionsFromConfig, sgdFamilySettings, type SGDFamilyOptions } from './sgd-options.js';
import {
  addWeightDecay, masked, scaleByLearningRate, traceMomentum, type ParamMask, type StepContext,
} from './transforms.js';

/** Options of {@link SGD} (defaults as torch.optim.SGD). */
export interface SGDOptions extends SGDFamilyOptions {
  /** Momentum factor (default 0). */
  momentum?: number;
  /** Use the backend's fused `LwlrSgdStep` kernel: `'auto'` (default) when present, `'always'`, `'never'`. */
  fused?: FusedMode;
}

/**
 * torch.optim.SGD with per-parameter eta multipliers, a weight-decay mask and a schedule.
 *
 * @example
 * ```ts
 * const params = collectParams(model);
 * const opt = new SGD(params, {
 *   lr: cosineWithWarmup({ peak: 0.1, warmupSteps: 500, totalSteps: 10_000 }),
 *   eta: lrTable,                 // LRTable or { name: eta }
 *   momentum: 0.9, weightDecay: 5e-4, weightDecayMask: excludeFromWeightDecay(),
 * });
 * opt.minimize(() => lossFn(model, batch));
 * ```
 */
export class SGD extends ChainOptimizer {
  /** @nocollapse */
  static override get className(): string {
    return 'LwlrSGD';
  }

  readonly momentum!: number;
  readonly dampening!: number;
  readonly nesterov!: boolean;
  readonly weightDecay!: number;
  readonly weightDecayMask!: ParamMask;
  readonly fused: FusedMode;
  private useFused = false;

  constructor(params: readonly ParamInfo[], options: SGDOptions) {
    const settings = sgdFamilySettings(options, 0);
    const { momentum, dampening, nesterov, weightDecay, weightDecayMask } = settings;
    super(params, {
      lr: options.lr,
      eta: options.eta,
      etaDefault: options.etaDefault,
      transforms: [
        masked(addWeightDecay(weightDecay), weightDecayMask),
        traceMomentum({ momentum, dampening, nesterov }),
        scaleByLearningRate(),
      ],
    });
    Object.assign(this, settings);
    this.fused = options.fused ?? 'auto';
  }

  protected override beforeStep(): void {
    this.useFused = shouldUseFused(this.fused, SGD_STEP_KERNEL);
  }

  protected override updateParam(ctx: StepContext, grad: tf.Tensor): tf.Tensor {
    // the fused kernel takes one scalar lr: per-element multipliers (frozen-adagrad) take the composed path
    if (!this.useFused || ctx.elementEta) return super.updateParam(ctx, grad);
    const firstStep = !ctx.hasSlot('momentum_buffer');
    const out = fusedSgdStep(ctx.param, grad, this.momentum !== 0 && !firstStep ? ctx.slot('momentum_buffer') : undefined, {
      lr: ctx.lr,
      momentum: this.momentum,
      dampening: this.dampening,
      nesterov: this.nesterov,
      weightDecay: this.weightDecayMask(ctx.info) ? this.weightDecay : 0,
      firstStep,
    });
    if (out.buf != null) ctx.setSlot('momentum_buffer', out.buf);
    return out.param;
  }

  /**
   * Plain-data configuration (hyper-parameters, lr or schedule config, eta, mask config).
   *
   * @example
   * ```ts
   * const again = SGD.fromConfigAndParams(JSON.parse(JSON.stringify(opt.getConfig())), params);
   * ```
   */
  override getConfig(): tf.serialization.ConfigDict {
    return { ...this.baseConfig(), ...sgdFamilyConfig(this), fused: this.fused };
  }

  /**
   * Rebuilds an SGD from {@link getConfig}'s output and the parameters. A custom (non-described) schedule
   * or mask cannot be rebuilt and throws.
   *
   * @example
   * ```ts
   * const opt2 = SGD.fromConfigAndParams(opt.getConfig(), params);
   * ```
   */
  static fromConfigAndParams(config: tf.serialization.ConfigDict, params: readonly ParamInfo[]): SGD {
    const c = config as Record<string, unknown>;
    return new SGD(params, { ...(sgdFamilyOptionsFromConfig(c) as SGDOptions), fused: (c.fused as FusedMode | undefined) ?? 'auto' });
  }
}
