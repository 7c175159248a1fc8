/**
 * SGD-NG and SGD-NG_adap: SGD with momentum on layer-wise normalized gradients (Yu et al. 2017, "Block-
 * normalized gradient method: an empirical study for training deep neural network"; the baselines of the
 * paper's Table 2 and Figure 7). Per parameter tensor, with `lr = schedule(step) * eta` and `w` its value
 * before the step:
 * ```
 * d = g / (||g|| + normEps)                       (unit-norm direction; zero gradient -> zero)
 * d = adaptive ? d * max(||w||, minWeightNorm) : d (SGD-NG_adap: step proportional to the weight norm)
 * d = d + wd * w                                  (coupled decay AFTER normalization, wd = 0 where masked out)
 * buf = first ? d : momentum * buf + (1 - dampening) * d;   d = nesterov ? d + momentum * buf : buf
 * w = w - lr * d
 * ```
 * `||w|| = 0` with `adaptive` (a zero-initialized bias): the step is scaled by `minWeightNorm` (default 1e-3,
 * optax's `min_scale`) instead of 0, so such a tensor still moves; `minWeightNorm: 0` keeps it frozen.
 * Chain: `[normalizeGradient, scaleByParamNorm?, masked(addWeightDecay), traceMomentum, scaleByLearningRate]`.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ParamInfo } from '../types.js';
import { ChainOptimizer } from './base.js';
import { sgdFamilyConfig, sgdFamilyOptionsFromConfig, sgdFamilySettings, type SGDFamilyOptions } from './sgd-options.js';
import { normalizeGradient, scaleByParamNorm } from './norm-transforms.js';
import { addWeightDecay, masked, scaleByLearningRate, traceMomentum, type ParamMask, type Transform } from './transforms.js';

/** Options of {@link SGDNG}. */
export interface SGDNGOptions extends SGDFamilyOptions {
  /** Momentum factor (default 0.9). */
  momentum?: number;
  /** Coupled weight decay, added after normalization (default 0). */
  weightDecay?: number;
  /** Added to the gradient norm (default 1e-8). */
  normEps?: number;
  /** SGD-NG_adap: scale each normalized gradient by its tensor's weight norm (default false). */
  adaptive?: boolean;
  /** With `adaptive`: the weight norm used is `max(||w||, minWeightNorm)` (default 1e-3). */
  minWeightNorm?: number;
}

/**
 * SGD-NG (and, with `adaptive: true`, SGD-NG_adap) with per-parameter eta, a schedule and a decay mask.
 *
 * @example
 * ```ts
 * const opt = new SGDNG(params, { lr: 0.1, eta: etaTable, momentum: 0.9, adaptive: true });
 * opt.minimize(() => loss());
 * ```
 */
export class SGDNG extends ChainOptimizer {
  /** @nocollapse */
  static override get className(): string {
    return 'LwlrSGDNG';
  }

  readonly momentum!: number;
  readonly dampening!: number;
  readonly nesterov!: boolean;
  readonly weightDecay!: number;
  readonly weightDecayMask!: ParamMask;
  readonly normEps: number;
  readonly adaptive: boolean;
  readonly minWeightNorm: number;

  constructor(params: readonly ParamInfo[], options: SGDNGOptions) {
    const settings = sgdFamilySettings(options, 0.9);
    const { momentum, dampening, nesterov, weightDecay, weightDecayMask } = settings;
    const { normEps = 1e-8, adaptive = false, minWeightNorm = 1e-3 } = options;
    const transforms: Transform[] = [normalizeGradient({ eps: normEps })];
    if (adaptive) transforms.push(scaleByParamNorm({ minNorm: minWeightNorm }));
    transforms.push(
      masked(addWeightDecay(weightDecay), weightDecayMask),
      traceMomentum({ momentum, dampening, nesterov }),
      scaleByLearningRate(),
    );
    super(params, { lr: options.lr, eta: options.eta, etaDefault: options.etaDefault, transforms });
    Object.assign(this, settings);
    this.normEps = normEps;
    this.adaptive = adaptive;
    this.minWeightNorm = minWeightNorm;
  }

  /**
   * Plain-data configuration.
   *
   * @example
   * ```ts
   * const again = SGDNG.fromConfigAndParams(JSON.parse(JSON.stringify(opt.getConfig())), params);
   * ```
   */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...this.baseConfig(),
      ...sgdFamilyConfig(this),
      normEps: this.normEps,
      adaptive: this.adaptive,
      minWeightNorm: this.minWeightNorm,
    };
  }

  /**
   * Rebuilds an SGDNG from {@link getConfig}'s output and the parameters.
   *
   * @example
   * ```ts
   * const opt2 = SGDNG.fromConfigAndParams(opt.getConfig(), params);
   * ```
   */
  static fromConfigAndParams(config: tf.serialization.ConfigDict, params: readonly ParamInfo[]): SGDNG {
    const c = config as Record<string, unknown>;
    return new SGDNG(params, {
      ...(sgdFamilyOptionsFromConfig(c) as SGDNGOptions),
      normEps: c.normEps as number,
      adaptive: c.adaptive as boolean,
      minWeightNorm: c.minWeightNorm as number,
    });
  }
}
