/**
 * A registry of optimizers by name (timm's `_optimizer_registry` idea): the CLI's `--optimizer sgd|adamw`
 * and later baselines (`lars`, `lamb`, `sgd-ng`, ...) are registrations; a variant is a registration of
 * the same factory with other defaults.
 */
import type { ParamInfo } from '../types.js';
import { AdamW, type AdamWOptions } from './adamw.js';
import type { ChainOptimizer, OptimizerOptions } from './base.js';
import { SGD, type SGDOptions } from './sgd.js';
import { AdamNG, type AdamNGOptions } from './adam-ng.js';
import { LAMB, type LAMBOptions } from './lamb.js';
import { LARS, type LARSOptions } from './lars.js';
import { SGDNG, type SGDNGOptions } from './sgd-ng.js';

/** Builds an optimizer from parameters and options (defaults already merged in). */
export type OptimizerFactory = (params: readonly ParamInfo[], options: OptimizerOptions & Record<string, unknown>) => ChainOptimizer;

/** One registered optimizer. */
export interface OptimizerInfo {
  /** Registry key, lower-case with dashes (`sgd`, `adamw`, `sgd-ng`). */
  readonly name: string;
  /** One line for `--help` and docs. */
  readonly description: string;
  readonly create: OptimizerFactory;
  /** Option defaults merged under the caller's options. */
  readonly defaults: Readonly<Record<string, unknown>>;
}

const registry = new Map<string, OptimizerInfo>();

/**
 * Adds an optimizer to the registry (a second registration of a name is an error).
 *
 * @example
 * ```ts
 * registerOptimizer({ name: 'sgd-nesterov', description: 'SGD, Nesterov momentum 0.9',
 *   defaults: { momentum: 0.9, nesterov: true }, create: (p, o) => new SGD(p, o) });
 * ```
 */
export function registerOptimizer(info: OptimizerInfo): void {
  if (registry.has(info.name)) throw new Error(`registerOptimizer: "${info.name}" is already registered`);
  registry.set(info.name, info);
}

/**
 * The registered optimizer `name` (throws, listing the known names, when absent).
 *
 * @example
 * ```ts
 * getOptimizerInfo('adamw').defaults; // { weightDecay: 0.01, ... }
 * ```
 */
export function getOptimizerInfo(name: string): OptimizerInfo {
  const info = registry.get(name);
  if (info == null) throw new Error(`unknown optimizer "${name}" (known: ${listOptimizers().join(', ')})`);
  return info;
}

/**
 * Names of all registered optimizers, sorted.
 *
 * @example
 * ```ts
 * listOptimizers(); // ['adamw', 'sgd']
 * ```
 */
export function listOptimizers(): string[] {
  return [...registry.keys()].sort();
}

/**
 * Creates the registered optimizer `name` for `params`; `options` override the registration's defaults.
 *
 * @example
 * ```ts
 * const opt = createOptimizer('sgd', params, { lr: 0.1, momentum: 0.9, weightDecay: 5e-4, eta: table });
 * ```
 */
export function createOptimizer(
  name: string, params: readonly ParamInfo[], options: OptimizerOptions & Record<string, unknown>,
): ChainOptimizer {
  const info = getOptimizerInfo(name);
  return info.create(params, { ...info.defaults, ...options } as OptimizerOptions & Record<string, unknown>);
}

registerOptimizer({
  name: 'sgd',
  description: 'torch.optim.SGD: momentum, dampening, nesterov, coupled weight decay',
  defaults: { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 },
  create: (p, o) => new SGD(p, o as SGDOptions),
});
registerOptimizer({
  name: 'adamw',
  description: 'torch.optim.AdamW: decoupled weight decay, bias correction, optional amsgrad',
  defaults: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-2, amsgrad: false },
  create: (p, o) => new AdamW(p, o as AdamWOptions),
});
registerOptimizer({
  name: 'sgd-ng',
  description: 'SGD-NG: each tensor\'s gradient divided by its L2 norm, then SGD with momentum (Yu et al. 2017)',
  defaults: { momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0, normEps: 1e-8, adaptive: false },
  create: (p, o) => new SGDNG(p, o as SGDNGOptions),
});
registerOptimizer({
  name: 'sgd-ng-adap',
  description: 'SGD-NG_adap: SGD-NG with each normalized gradient scaled by max(||w||, minWeightNorm)',
  defaults: { momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0, normEps: 1e-8, adaptive: true, minWeightNorm: 1e-3 },
  create: (p, o) => new SGDNG(p, o as SGDNGOptions),
});
registerOptimizer({
  name: 'adam-ng',
  description: 'Adam-NG: each tensor\'s gradient divided by its L2 norm, then Adam (decoupled decay if set)',
  defaults: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, amsgrad: false, normEps: 1e-8 },
  create: (p, o) => new AdamNG(p, o as AdamNGOptions),
});
registerOptimizer({
  name: 'lars',
  description: 'LARS/LARC (apex semantics): clipped local lr on conv/linear kernels, then SGD with momentum',
  defaults: { momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0, trustCoefficient: 1e-3, clip: true, eps: 1e-8 },
  create: (p, o) => new LARS(p, o as LARSOptions),
});
registerOptimizer({
  name: 'lamb',
  description: 'LAMB: Adam moments, decoupled decay and trust ratio ||w||/||u|| on conv/linear kernels',
  defaults: { beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: 0.01 },
  create: (p, o) => new LAMB(p, o as LAMBOptions),
});
