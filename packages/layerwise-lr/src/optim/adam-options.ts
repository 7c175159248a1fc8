/**
 * What AdamW and Adam-NG share: Adam's hyper-parameters with the decoupled weight decay and its mask, their
 * defaults, and their plain-data config (one place for the option docs, the defaults and the round trip).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { etaFromConfig, lrFromConfig, type OptimizerOptions } from './base.js';
import { decayAll, maskConfig, maskFromConfig } from './mask.js';
import type { ParamMask } from './transforms.js';

/** The options of an Adam-family optimizer (AdamW, Adam-NG). */
export interface AdamFamilyOptions extends Partial<OptimizerOptions> {
  /** Global learning rate or schedule (default 1e-3). */
  lr?: OptimizerOptions['lr'];
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Adam's eps (default 1e-8). */
  eps?: number;
  /** Decoupled weight decay (default: the optimizer's; AdamW 1e-2 as torch, Adam-NG 0 as torch.optim.Adam). */
  weightDecay?: number;
  /** Which parameters are decayed (default: all). See `excludeFromWeightDecay`, `kernelsOnly`. */
  weightDecayMask?: ParamMask;
  /** The AMSGrad variant (default false). */
  amsgrad?: boolean;
}

/** {@link AdamFamilyOptions} with every default filled in. */
export interface AdamFamilySettings {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly weightDecayMask: ParamMask;
  readonly amsgrad: boolean;
}

/**
 * The settings of `o` with the defaults (and the optimizer's own weight-decay default).
 *
 * @example
 * ```ts
 * adamFamilySettings({ beta2: 0.98 }, 1e-2); // { beta1: 0.9, beta2: 0.98, eps: 1e-8, weightDecay: 0.01, ... }
 * ```
 */
export function adamFamilySettings(o: AdamFamilyOptions, weightDecayDefault: number): AdamFamilySettings {
  return {
    beta1: o.beta1 ?? 0.9,
    beta2: o.beta2 ?? 0.999,
    eps: o.eps ?? 1e-8,
    weightDecay: o.weightDecay ?? weightDecayDefault,
    weightDecayMask: o.weightDecayMask ?? decayAll,
    amsgrad: o.amsgrad ?? false,
  };
}

/** The settings as plain config data (the mask by its config, or `'custom'`). */
export function adamFamilyConfig(s: AdamFamilySettings): tf.serialization.ConfigDict {
  return {
    beta1: s.beta1, beta2: s.beta2, eps: s.eps, weightDecay: s.weightDecay,
    weightDecayMask: maskConfig(s.weightDecayMask), amsgrad: s.amsgrad,
  };
}

/** The options back from a `getConfig()` (lr, eta and the Adam settings). */
export function adamFamilyOptionsFromConfig(c: Record<string, unknown>): AdamFamilyOptions {
  return {
    lr: lrFromConfig(c.lr),
    eta: etaFromConfig(c),
    etaDefault: c.etaDefault as number | undefined,
    beta1: c.beta1 as number,
    beta2: c.beta2 as number,
    eps: c.eps as number,
    weightDecay: c.weightDecay as number,
    weightDecayMask: maskFromConfig(c.weightDecayMask),
    amsgrad: c.amsgrad as boolean,
  };
}
