/**
 * Adam-NG: Adam on layer-wise normalized gradients (Yu et al. 2017, "Block-normalized gradient method", their
 * Adam variant; the Adam-NG baseline of the paper's Table 2). Per parameter tensor, with
 * `lr = schedule(step) * eta`, `t` its own 1-based step count and `w` its value before the step:
 * ```
 * d = g / (||g|| + normEps)                        (unit-norm; zero gradient -> zero)
 * m = b1 m + (1 - b1) d;   v = b2 v + (1 - b2) d^2;   vmax = max(vmax, v)   (amsgrad)
 * a = (m / (1 - b1^t)) / (sqrt(amsgrad ? vmax : v) / sqrt(1 - b2^t) + eps)   (torch Adam's rounding order)
 * w = w - lr * (a + wd * w)                         (decoupled, AdamW-style decay; wd = 0 where masked out)
 * ```
 * Chain: `[normalizeGradient, scaleByAdam, masked(addWeightDecay), scaleByLearningRate]` = AdamW's chain with
 * one transform in front.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ParamInfo } from '../types.js';
import { ChainOptimizer, lrFromConfig, type OptimizerOptions } from './base.js';
import { decayAll, maskFromConfig } from './mask.js';
import { normalizeGradient } from './norm-transforms.js';
import { addWeightDecay, masked, scaleByAdam, scaleByLearningRate, type ParamMask } from './transforms.js';

/** Options of {@link AdamNG}. */
export interface AdamNGOptions extends Partial<OptimizerOptions> {
  /** Global learning rate or schedule (default 1e-3). */
  lr?: OptimizerOptions['lr'];
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Adam's eps (default 1e-8). */
  eps?: number;
  /** Decoupled weight decay (default 0, as torch.optim.Adam). */
  weightDecay?: number;
  /** Which parameters are decayed (default: all). */
  weightDecayMask?: ParamMask;
  /** AMSGrad (default false). */
  amsgrad?: boolean;
  /** Added to the gradient norm (default 1e-8). */
  normEps?: number;
}

/**
 * Adam-NG with per-parameter eta, a schedule and a decay mask.
 *
 * @example
 * ```ts
 * const opt = new AdamNG(params, { lr: 1e-3, eta: lrTable, weightDecay: 0.05, weightDecayMask: kernelsOnly });
 * ```
 */
export class AdamNG extends ChainOptimizer {
  /** @nocollapse */
  static override get className(): string {
    return 'LwlrAdamNG';
  }

  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly weightDecayMask: ParamMask;
  readonly amsgrad: boolean;
  readonly normEps: number;

  constructor(params: readonly ParamInfo[], options: AdamNGOptions = {}) {
    const {
      lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0, weightDecayMask = decayAll, amsgrad = false,
      normEps = 1e-8,
    } = options;
    super(params, {
      lr,
      eta: options.eta,
      etaDefault: options.etaDefault,
      transforms: [
        normalizeGradient({ eps: normEps }),
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
    this.normEps = normEps;
  }

  /**
   * Plain-data configuration.
   *
   * @example
   * ```ts
   * const again = AdamNG.fromConfigAndParams(JSON.parse(JSON.stringify(opt.getConfig())), params);
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
      normEps: this.normEps,
    };
  }

  /**
   * Rebuilds an AdamNG from {@link getConfig}'s output and the parameters.
   *
   * @example
   * ```ts
   * const opt2 = AdamNG.fromConfigAndParams(opt.getConfig(), params);
   * ```
   */
  static fromConfigAndParams(config: tf.serialization.ConfigDict, params: readonly ParamInfo[]): AdamNG {
    const c = config as Record<string, unknown>;
    return new AdamNG(params, {
      lr: lrFromConfig(c.lr),
      eta: c.eta as Record<string, number> | undefined,
      etaDefault: c.etaDefault as number | undefined,
      beta1: c.beta1 as number,
      beta2: c.beta2 as number,
      eps: c.eps as number,
      weightDecay: c.weightDecay as number,
      weightDecayMask: maskFromConfig(c.weightDecayMask),
      amsgrad: c.amsgrad as boolean,
      normEps: c.normEps as number,
    });
  }
}
