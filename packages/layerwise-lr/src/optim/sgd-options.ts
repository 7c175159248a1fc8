/**
 * What the SGD family (SGD, SGD-NG, LARS) shares: torch.optim.SGD's momentum, dampening, Nesterov and coupled
 * weight decay with its mask, their defaults, and their plain-data config (one place for the option docs, the
 * defaults and the `getConfig()` round trip; `adam-options.ts` does the same for the Adam family).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { etaFromConfig, lrFromConfig, type OptimizerOptions } from './base.js';
import { decayAll, maskConfig, maskFromConfig } from './mask.js';
import type { ParamMask } from './transforms.js';

/** The options of an SGD-family optimizer. */
export interface SGDFamilyOptions extends OptimizerOptions {
  /** Momentum factor (default: the optimizer's; SGD 0 as torch, SGD-NG and LARS 0.9). */
  momentum?: number;
  /** Dampening for momentum (default 0). */
  dampening?: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
  /** Coupled (L2) weight decay (default 0). */
  weightDecay?: number;
  /** Which parameters are decayed (default: all). See `excludeFromWeightDecay`, `kernelsOnly`. */
  weightDecayMask?: ParamMask;
}

/** {@link SGDFamilyOptions} with every default filled in. */
export interface SGDFamilySettings {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  readonly weightDecayMask: ParamMask;
}

/**
 * The settings of `o` with the defaults (and the optimizer's own momentum default).
 *
 * @example
 * ```ts
 * sgdFamilySettings({ weightDecay: 5e-4 }, 0.9); // { momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 5e-4, ... }
 * ```
 */
export function sgdFamilySettings(o: SGDFamilyOptions, momentumDefault: number): SGDFamilySettings {
  return {
    momentum: o.momentum ?? momentumDefault,
    dampening: o.dampening ?? 0,
    nesterov: o.nesterov ?? false,
    weightDecay: o.weightDecay ?? 0,
    weightDecayMask: o.weightDecayMask ?? decayAll,
  };
}

/** The settings as plain config data (the mask by its config, or `'custom'`). */
export function sgdFamilyConfig(s: SGDFamilySettings): tf.serialization.ConfigDict {
  return {
    momentum: s.momentum, dampening: s.dampening, nesterov: s.nesterov, weightDecay: s.weightDecay,
    weightDecayMask: maskConfig(s.weightDecayMask),
  };
}

/** The options back from a `getConfig()` (lr, eta and the SGD settings). */
export function sgdFamilyOptionsFromConfig(c: Record<string, unknown>): SGDFamilyOptions {
  return {
    lr: lrFromConfig(c.lr),
    eta: etaFromConfig(c),
    etaDefault: c.etaDefault as number | undefined,
    momentum: c.momentum as number,
    dampening: c.dampening as number,
    nesterov: c.nesterov as boolean,
    weightDecay: c.weightDecay as number,
    weightDecayMask: maskFromConfig(c.weightDecayMask),
  };
}
