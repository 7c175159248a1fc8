/**
 * A registry of optimizers by name (timm's `_optimizer_registry` idea): the CLI's `--optimizer sgd|adamw`,
 * the paper's baselines (`lars`, `lamb`, `sgd-ng`, ...) and muP's (`mup-sgd`, `mup-adam`) are registrations;
 * a variant is a registration of the same factory with other defaults. Each says which eta schemes it takes,
 * so a CLI reads its choices, defaults and combination rules from here and writes none of them again.
 */
import type { EtaTable } from '../eta-table.js';
import { mupTable, type MupBase } from '../mup.js';
import type { LRSchemeName, ParamInfo } from '../types.js';
import { AdamW, type AdamWOptions } from './adamw.js';
import type { ChainOptimizer, OptimizerOptions } from './base.js';
import { SGD, type SGDOptions } from './sgd.js';
import { AdamNG, type AdamNGOptions } from './adam-ng.js';
import { LAMB, type LAMBOptions } from './lamb.js';
import { LARS, LARS_DEFAULTS, type LARSOptions } from './lars.js';
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
  /** Option defaults merged under the caller's options; their keys are the options the optimizer takes. */
  readonly defaults: Readonly<Record<string, unknown>>;
  /**
   * The eta schemes it trains with (absent: every scheme). The first is its default. The paper's baselines set
   * their own per-tensor step sizes and take `uniform` only; muP's take `uniform` (replaced by muP's table) or
   * `mup` (its own table handed back, e.g. from a run's directory).
   */
  readonly schemes?: readonly LRSchemeName[];
  /**
   * The eta table it trains with when it brings its own (muP's, from the `mupBase` option), replacing the
   * caller's; absent: the caller's `eta`.
   */
  readonly etaTable?: (params: readonly ParamInfo[], options: Readonly<Record<string, unknown>>) => EtaTable;
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
 * True when optimizer `name` trains with eta tables of `scheme` (see {@link OptimizerInfo.schemes}).
 *
 * @example
 * ```ts
 * acceptsScheme('lamb', 'layerwise'); // false: LAMB sets its own per-tensor steps
 * ```
 */
export function acceptsScheme(name: string, scheme: string): boolean {
  const s = getOptimizerInfo(name).schemes;
  return s === undefined || (s as readonly string[]).includes(scheme);
}

/**
 * The eta table optimizer `name` trains with: its own (muP's) when it brings one, else `table`.
 *
 * @example
 * ```ts
 * optimizerEtaTable('mup-sgd', params, uniform, { mupBase }).meta.scheme; // 'mup'
 * ```
 */
export function optimizerEtaTable(name: string, params: readonly ParamInfo[], table: EtaTable, options: Readonly<Record<string, unknown>> = {}): EtaTable {
  const info = getOptimizerInfo(name);
  return info.etaTable ? info.etaTable(params, { ...info.defaults, ...options }) : table;
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
  schemes: ['uniform'],
  create: (p, o) => new SGDNG(p, o as SGDNGOptions),
});
registerOptimizer({
  name: 'sgd-ng-adap',
  description: 'SGD-NG_adap: SGD-NG with each normalized gradient scaled by max(||w||, minWeightNorm)',
  defaults: { momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0, normEps: 1e-8, adaptive: true, minWeightNorm: 1e-3 },
  schemes: ['uniform'],
  create: (p, o) => new SGDNG(p, o as SGDNGOptions),
});
registerOptimizer({
  name: 'adam-ng',
  description: 'Adam-NG: each tensor\'s gradient divided by its L2 norm, then Adam (decoupled decay if set)',
  defaults: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, amsgrad: false, normEps: 1e-8 },
  schemes: ['uniform'],
  create: (p, o) => new AdamNG(p, o as AdamNGOptions),
});
registerOptimizer({
  name: 'lars',
  description: 'LARS/LARC (apex semantics): clipped local lr on conv/linear kernels, then SGD with momentum',
  defaults: { dampening: 0, nesterov: false, weightDecay: 0, ...LARS_DEFAULTS },
  schemes: ['uniform'],
  create: (p, o) => new LARS(p, o as LARSOptions),
});
registerOptimizer({
  name: 'lamb',
  description: 'LAMB: Adam moments, decoupled decay and trust ratio ||w||/||u|| on conv/linear kernels',
  defaults: { beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: 0.01 },
  schemes: ['uniform'],
  create: (p, o) => new LAMB(p, o as LAMBOptions),
});

/** The muP base model's shapes from the `mupBase` option (one line naming the optimizer when absent). */
function mupBaseOf(name: string, o: Readonly<Record<string, unknown>>): MupBase {
  if (o.mupBase == null) throw new Error(`${name}: needs the mupBase option (the base model's parameter shapes)`);
  return o.mupBase as MupBase;
}

registerOptimizer({
  name: 'mup-sgd',
  description: "muP SGD (the mup package's MuSGD): SGD with muP's per-tensor etas relative to a base model (option mupBase)",
  defaults: { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 },
  schemes: ['uniform', 'mup'],
  etaTable: (p, o) => mupTable(p, mupBaseOf('mup-sgd', o), { optimizer: 'sgd' }),
  create: (p, o) => new SGD(p, { ...(o as SGDOptions), eta: mupTable(p, mupBaseOf('mup-sgd', o), { optimizer: 'sgd' }) }),
});
registerOptimizer({
  name: 'mup-adam',
  description: "muP AdamW (the mup package's MuAdam): AdamW with muP's per-tensor etas relative to a base model (option mupBase)",
  defaults: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-2, amsgrad: false },
  schemes: ['uniform', 'mup'],
  etaTable: (p, o) => mupTable(p, mupBaseOf('mup-adam', o), { optimizer: 'adam' }),
  create: (p, o) => new AdamW(p, { ...(o as AdamWOptions), eta: mupTable(p, mupBaseOf('mup-adam', o), { optimizer: 'adam' }) }),
});
