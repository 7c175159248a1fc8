/**
 * LARS with LARC clipping: layer-wise adaptive rate scaling (You, Gitman & Ginsburg 2017, arXiv:1708.03888) in
 * the form of NVIDIA apex's `LARC` wrapper (apex/parallel/LARC.py) around torch.optim.SGD with momentum, the
 * variant the paper used for its Table 2 (LARC, lr 0.2, trust coefficient 0.001), applied to conv/linear
 * kernels only (`trustMask`, default `kernelsOnly`); biases and norm parameters take the plain SGD update.
 *
 * Per parameter tensor, with `lr = schedule(step) * eta` (apex's `group['lr']`) and `wd` the weight decay
 * (0 where `weightDecayMask` excludes the tensor). Order as apex: norms of the RAW gradient and the weight,
 * then the decay is added, then gradient-plus-decay is scaled, then SGD runs with weight decay 0:
 * ```
 * kernel (trustMask), ||w|| != 0 and ||g|| != 0:
 *   local = trust * ||w|| / (||g|| + wd * ||w|| + eps)
 *   s = clip ? min(local / lr, 1) : local        (clip: effective lr = min(local, lr))
 *   d = (g + wd * w) * s
 * kernel with ||w|| = 0 or ||g|| = 0:  d = g    (apex: no scaling and no decay, never NaN)
 * other tensors:                        d = g + wd * w    (plain torch SGD)
 * buf = first ? d : momentum * buf + (1 - dampening) * d;   d = nesterov ? d + momentum * buf : buf
 * w = w - lr * d
 * ```
 * Chain: `[masked(scaleByLarc, trustMask), masked(addWeightDecay, not trustMask and weightDecayMask),
 * traceMomentum, scaleByLearningRate]`.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ParamInfo } from '../types.js';
import { ChainOptimizer } from './base.js';
import { kernelsOnly, maskConfig, maskFromConfig } from './mask.js';
import { sgdFamilyConfig, sgdFamilyOptionsFromConfig, sgdFamilySettings, type SGDFamilyOptions } from './sgd-options.js';
import { scaleByLarc } from './norm-transforms.js';
import { addWeightDecay, masked, scaleByLearningRate, traceMomentum, type ParamMask } from './transforms.js';

/** Options of {@link LARS}. */
export interface LARSOptions extends SGDFamilyOptions {
  /** Momentum factor (default 0.9). */
  momentum?: number;
  /** Weight decay, folded into the LARC scaling for `trustMask` tensors, coupled for the others (default 0). */
  weightDecay?: number;
  /** Which parameters are decayed (default: all, as a single torch param group). */
  weightDecayMask?: ParamMask;
  /** LARC trust coefficient (default {@link LARS_DEFAULTS}: 0.001). */
  trustCoefficient?: number;
  /** LARC clipping (default true); false is the scaling variant (`lr * local`). */
  clip?: boolean;
  /** eps in the local-lr denominator (default 1e-8). */
  eps?: number;
  /** Which parameters get the local lr (default: conv/linear kernels, `kernelsOnly`). */
  trustMask?: ParamMask;
}

/** LARS's own defaults (the one place they are written; the optimizer registry reads them). */
export const LARS_DEFAULTS = { momentum: 0.9, trustCoefficient: 1e-3, clip: true, eps: 1e-8 } as const;

/**
 * LARS/LARC (apex semantics) with per-parameter eta, a schedule and masks.
 *
 * @example
 * ```ts
 * const opt = new LARS(params, { lr: 0.2, eta: etaTable, momentum: 0.9, weightDecay: 1e-4, trustCoefficient: 1e-3 });
 * opt.minimize(() => loss());
 * ```
 */
export class LARS extends ChainOptimizer {
  /** @nocollapse */
  static override get className(): string {
    return 'LwlrLARS';
  }

  readonly momentum!: number;
  readonly dampening!: number;
  readonly nesterov!: boolean;
  readonly weightDecay!: number;
  readonly weightDecayMask!: ParamMask;
  readonly trustCoefficient: number;
  readonly clip: boolean;
  readonly eps: number;
  readonly trustMask: ParamMask;

  constructor(params: readonly ParamInfo[], options: LARSOptions) {
    const settings = sgdFamilySettings(options, LARS_DEFAULTS.momentum);
    const { momentum, dampening, nesterov, weightDecay, weightDecayMask } = settings;
    const {
      trustCoefficient = LARS_DEFAULTS.trustCoefficient, clip = LARS_DEFAULTS.clip, eps = LARS_DEFAULTS.eps, trustMask = kernelsOnly,
    } = options;
    const plainDecay = Object.assign((p: ParamInfo): boolean => !trustMask(p) && weightDecayMask(p), {
      config: { not: maskConfig(trustMask), and: maskConfig(weightDecayMask) },
    });
    super(params, {
      lr: options.lr,
      eta: options.eta,
      etaDefault: options.etaDefault,
      transforms: [
        masked(scaleByLarc({ trustCoefficient, clip, eps, weightDecay, weightDecayMask }), trustMask),
        masked(addWeightDecay(weightDecay), plainDecay),
        traceMomentum({ momentum, dampening, nesterov }),
        scaleByLearningRate(),
      ],
    });
    Object.assign(this, settings);
    this.trustCoefficient = trustCoefficient;
    this.clip = clip;
    this.eps = eps;
    this.trustMask = trustMask;
  }

  /**
   * Plain-data configuration.
   *
   * @example
   * ```ts
   * const again = LARS.fromConfigAndParams(JSON.parse(JSON.stringify(opt.getConfig())), params);
   * ```
   */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...this.baseConfig(),
      ...sgdFamilyConfig(this),
      trustCoefficient: this.trustCoefficient,
      clip: this.clip,
      eps: this.eps,
      trustMask: maskConfig(this.trustMask),
    };
  }

  /**
   * Rebuilds a LARS from {@link getConfig}'s output and the parameters.
   *
   * @example
   * ```ts
   * const opt2 = LARS.fromConfigAndParams(opt.getConfig(), params);
   * ```
   */
  static fromConfigAndParams(config: tf.serialization.ConfigDict, params: readonly ParamInfo[]): LARS {
    const c = config as Record<string, unknown>;
    return new LARS(params, {
      ...(sgdFamilyOptionsFromConfig(c) as LARSOptions),
      trustCoefficient: c.trustCoefficient as number,
      clip: c.clip as boolean,
      eps: c.eps as number,
      trustMask: maskFromConfig(c.trustMask),
    });
  }
}
