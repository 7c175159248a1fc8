/**
 * A registry of optimizers by name (timm's `_optimizer_registry` idea): the CLI's `--optimizer sgd|adamw`
 * and later baselines (`lars`, `lamb`, `sgd-ng`, ...) are registrations; a variant is a registration of
 * the same factory with other defaults.
 */
import type { ParamInfo } from '../types.js';
import { AdamW, type AdamWOptions } from './adamw.js';
import type { ChainOptimizer, OptimizerOptions } from './base.js';
import { SGD, type SGDOptions } from './sgd.js';

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
