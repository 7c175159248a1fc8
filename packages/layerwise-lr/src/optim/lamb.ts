/**
 * LAMB: layer-wise adaptive moments (You et al. 2020, "Large batch optimization for deep learning: training
 * BERT in 76 minutes", Algorithm 2; optax `lamb` = chain(scale_by_adam, add_decayed_weights,
 * scale_by_trust_ratio, scale_by_learning_rate)), as the paper's Table 2 used it: decoupled weight decay and
 * the trust ratio on conv/linear kernels only (`weightDecayMask`, `trustMask`, both default `kernelsOnly`).
 * Per parameter tensor, with `lr = schedule(step) * eta`, `t` its own 1-based step and `w` its value before:
 * ```
 * m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2
 * a = (m / (1 - b1^t)) / (sqrt(v) / sqrt(1 - b2^t) + eps)     (bias-corrected Adam direction)
 * u = a + wd * w                                             (kernels: decoupled decay; others: wd = 0)
 * r = ||w|| / ||u||, r = 1 if ||w|| = 0 or ||u|| = 0           (kernels; others: r = 1)
 * w = w - lr * r * u
 * ```
 * No gradient clipping (the paper trained without it; timm's Lamb clips the global norm at 1 by default),
 * no trust-ratio clamp. Pair with `polynomialDecayWithWarmup` (schedule.ts) for the LAMB schedule.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ParamInfo } from '../types.js';
import { ChainOptimizer, etaFromConfig, lrFromConfig, type OptimizerOptions } from './base.js';
import { kernelsOnly, maskConfig, maskFromConfig } from './mask.js';
import { scaleByTrustRatio } from './norm-transforms.js';
import { addWeightDecay, masked, scaleByAdam, scaleByLearningRate, type ParamMask } from './transforms.js';

/** Options of {@link LAMB}. */
export interface LAMBOptions extends Partial<OptimizerOptions> {
  /** Global learning rate or schedule (default 1e-3). */
  lr?: OptimizerOptions['lr'];
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-6 (LAMB paper, optax, timm). */
  eps?: number;
  /** Decoupled weight decay (default 0.01, as timm's Lamb). */
  weightDecay?: number;
  /** Which parameters are decayed (default: conv/linear kernels, `kernelsOnly`). */
  weightDecayMask?: ParamMask;
  /** Which parameters get the trust ratio (default: conv/linear kernels, `kernelsOnly`). */
  trustMask?: ParamMask;
}


/**
 * LAMB with per-parameter eta, a schedule and masks.
 *
 * @example
 * ```ts
 * const opt = new LAMB(params, {
 *   lr: polynomialDecayWithWarmup({ peak: 5e-3, warmupSteps: 500, totalSteps: 20_000 }),
 *   eta: lrTable, weightDecay: 0.01,
 * });
 * ```
 */
export class LAMB extends ChainOptimizer {
  /** @nocollapse */
  static override get className(): string {
    return 'LwlrLAMB';
  }

  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly weightDecayMask: ParamMask;
  readonly trustMask: ParamMask;

  constructor(params: readonly ParamInfo[], options: LAMBOptions = {}) {
    const {
      lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-6, weightDecay = 0.01, weightDecayMask = kernelsOnly,
      trustMask = kernelsOnly,
    } = options;
    super(params, {
      lr,
      eta: options.eta,
      etaDefault: options.etaDefault,
      transforms: [
        scaleByAdam({ beta1, beta2, eps }),
        masked(addWeightDecay(weightDecay), weightDecayMask),
        masked(scaleByTrustRatio(), trustMask),
        scaleByLearningRate(),
      ],
    });
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
    this.weightDecayMask = weightDecayMask;
    this.trustMask = trustMask;
  }

  /**
   * Plain-data configuration.
   *
   * @example
   * ```ts
   * const again = LAMB.fromConfigAndParams(JSON.parse(JSON.stringify(opt.getConfig())), params);
   * ```
   */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...this.baseConfig(),
      beta1: this.beta1,
      beta2: this.beta2,
      eps: this.eps,
      weightDecay: this.weightDecay,
      weightDecayMask: maskConfig(this.weightDecayMask),
      trustMask: maskConfig(this.trustMask),
    };
  }

  /**
   * Rebuilds a LAMB from {@link getConfig}'s output and the parameters.
   *
   * @example
   * ```ts
   * const opt2 = LAMB.fromConfigAndParams(opt.getConfig(), params);
   * ```
   */
  static fromConfigAndParams(config: tf.serialization.ConfigDict, params: readonly ParamInfo[]): LAMB {
    const c = config as Record<string, unknown>;
    return new LAMB(params, {
      lr: lrFromConfig(c.lr),
      eta: etaFromConfig(c),
      etaDefault: c.etaDefault as number | undefined,
      beta1: c.beta1 as number,
      beta2: c.beta2 as number,
      eps: c.eps as number,
      weightDecay: c.weightDecay as number,
      weightDecayMask: maskFromConfig(c.weightDecayMask),
      trustMask: maskFromConfig(c.trustMask),
    });
  }
}
