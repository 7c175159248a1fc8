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
import { adamFamilyConfig, adamFamilyOptionsFromConfig, adamFamilySettings, type AdamFamilyOptions } from './adam-options.js';
import { ChainOptimizer } from './base.js';
import { normalizeGradient } from './norm-transforms.js';
import { addWeightDecay, masked, scaleByAdam, scaleByLearningRate, type ParamMask } from './transforms.js';

/** Options of {@link AdamNG} (weight decay default 0, as torch.optim.Adam). */
export interface AdamNGOptions extends AdamFamilyOptions {
  /** Added to the gradient norm (default 1e-8). */
  normEps?: number;
}

/**
 * Adam-NG with per-parameter eta, a schedule and a decay mask.
 *
 * @example
 * ```ts
 * const opt = new AdamNG(params, { lr: 1e-3, eta: etaTable, weightDecay: 0.05, weightDecayMask: kernelsOnly });
 * ```
 */
export class AdamNG extends ChainOptimizer {
  /** @nocollapse */
  static override get className(): string {
    return 'LwlrAdamNG';
  }

  readonly beta1!: number;
  readonly beta2!: number;
  readonly eps!: number;
  readonly weightDecay!: number;
  readonly weightDecayMask!: ParamMask;
  readonly amsgrad!: boolean;
  readonly normEps: number;

  constructor(params: readonly ParamInfo[], options: AdamNGOptions = {}) {
    const s = adamFamilySettings(options, 0);
    const normEps = options.normEps ?? 1e-8;
    super(params, {
      lr: options.lr ?? 1e-3,
      eta: options.eta,
      etaDefault: options.etaDefault,
      transforms: [
        normalizeGradient({ eps: normEps }),
        scaleByAdam(s),
        masked(addWeightDecay(s.weightDecay), s.weightDecayMask),
        scaleByLearningRate(),
      ],
    });
    Object.assign(this, s);
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
    return { ...this.baseConfig(), ...adamFamilyConfig(this), normEps: this.normEps };
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
    return new AdamNG(params, { ...adamFamilyOptionsFromConfig(c), normEps: c.normEps as number });
  }
}
