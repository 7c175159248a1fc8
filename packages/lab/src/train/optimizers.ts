/**
 * The optimizer of a training run: a registered optimizer of `layerwise-lr` (`listOptimizers()`: sgd, adamw,
 * the paper's baselines and muP's) with the run's per-parameter eta and a warmup + cosine (or polynomial)
 * schedule by step. Everything optimizer-specific is read from the library's registry, not written here: the
 * names, the defaults (LARS's trust coefficient, LAMB's eps, ...), which eta schemes each takes (sgd and
 * adamw: every scheme; the baselines: `uniform` only, as the paper runs them; `mup-*`: `uniform`, replaced by
 * muP's table), and which knobs each has (its registered defaults' keys).
 *
 * The lab adds what the registry cannot know: `mup-*` needs `--mup-base-width` (the base model comes from the
 * model's registered muP width family) and `--init fan-in` (muP's variances are 1/fan_in; the fan-out init
 * scales the input layer with width).
 */
import {
  acceptsScheme, applyMupInit, collectParams, cosineWithWarmup, createOptimizer, excludeFromWeightDecay, getOptimizerInfo,
  listOptimizers, optimizerEtaTable, polynomialDecayWithWarmup,
  type ChainOptimizer, type InitMode, type LRTable, type MupBase, type ParamInfo, type ParamMask,
} from 'layerwise-lr';
import { UsageError } from '../errors.js';
import type { FlagSpecs, ParsedFlags } from '../flags.js';
import { modelInfo, modelNames, type ModelOptions } from '../models/registry.js';

/** Every `--optimizer` value: the library's registered optimizers. */
export function optimizerNames(): string[] {
  return listOptimizers();
}

/** @deprecated use {@link optimizerNames} (this list is taken when the module loads). */
export const OPTIMIZER_NAMES: readonly string[] = listOptimizers();
export type OptimizerName = string;

/**
 * The eta scheme an optimizer trains with when none is given: the first it accepts, `layerwise` for those that
 * take every scheme (the paper's method).
 *
 * @example
 * ```ts
 * defaultSchemeFor('lamb'); // 'uniform'
 * defaultSchemeFor('sgd');  // 'layerwise'
 * ```
 */
export function defaultSchemeFor(optimizer: string): string {
  return getOptimizerInfo(optimizer).schemes?.[0] ?? 'layerwise';
}

/** True for muP's optimizers (`mup-sgd`, `mup-adam`): they need a base width and train with muP's table. */
export function isMup(optimizer: string): boolean {
  return optimizer.startsWith('mup-');
}

/** True when the optimizer has Adam moments (and so takes --beta1, --beta2, --eps). */
export function hasAdamKnobs(optimizer: string): boolean {
  return 'beta1' in getOptimizerInfo(optimizer).defaults;
}

export interface OptimizerChoice {
  optimizer: string;
  lr: number;
  momentum: number;
  wd: number;
  epochs: number;
  warmupEpochs: number;
  /** Adam-family betas and eps (adamw, adam-ng, lamb, mup-adam); absent: the optimizer's default. */
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** LARS trust coefficient (absent: the registered default). */
  trustCoef?: number;
  /** LARS clipping, the LARC variant (absent: the registered default, true). */
  larsClip?: boolean;
  /** `cosine` (default): warmup then cosine to 0; `poly`: warmup then polynomial decay to 0 (LAMB's). */
  lrSchedule?: 'cosine' | 'poly';
  /** Exponent of the `poly` schedule (default 1). */
  polyPower?: number;
  /** Which parameters are decayed (default: each optimizer's own; lars/lamb decay kernels only by default). */
  weightDecayMask?: ParamMask;
  /** mup-*: the base model's parameter shapes (see {@link mupBaseShapes}). */
  mupBase?: MupBase;
  /** mup-*: the run's init (checked: must be `fan-in`). */
  init?: InitMode;
  /** mup-*: apply muP's init scales to the weights (default true; false when the weights come from a checkpoint). */
  mupInit?: boolean;
}

/** The flags `lwlr train` takes for {@link OptimizerChoice}. */
export const OPTIMIZER_FLAGS: FlagSpecs = {
  optimizer: { type: 'string', default: 'sgd', choices: OPTIMIZER_NAMES, help: "optimizer (sgd/adamw: torch.optim semantics; the rest: the paper's baselines and muP)" },
  lr: { type: 'number', default: 0.1, help: 'peak global learning rate' },
  momentum: { type: 'number', default: 0.9, help: 'momentum of the SGD family (sgd, sgd-ng*, lars, mup-sgd)' },
  wd: { type: 'number', default: 5e-4, help: 'weight decay (scaled by each eta, as a torch param group)' },
  'warmup-epochs': { type: 'number', default: 1, help: 'linear warmup, then the decay of --lr-schedule' },
  'lr-schedule': { type: 'string', default: 'cosine', choices: ['cosine', 'poly'], help: 'decay to 0 after warmup: cosine, or polynomial (LAMB)' },
  'poly-power': { type: 'number', default: 1, help: 'exponent of --lr-schedule poly' },
  beta1: { type: 'number', help: 'Adam beta1 (adamw, adam-ng, lamb, mup-adam; default 0.9)' },
  beta2: { type: 'number', help: 'Adam beta2 (default 0.999)' },
  eps: { type: 'number', help: 'Adam eps (default 1e-8; lamb 1e-6)' },
  'trust-coef': { type: 'number', help: `LARS trust coefficient (default ${getOptimizerInfo('lars').defaults.trustCoefficient})` },
  'lars-clip': { type: 'boolean', help: 'LARS: clip the local lr at the global lr (LARC, the default); --no-lars-clip scales instead' },
  'mup-base-width': { type: 'number', help: 'muP base width: MLP hidden width (--width) or DavidNet width multiplier (--width-mult)' },
};

/**
 * The parameter shapes of the muP base model: `name` built as the run's model but at `baseWidth` (the MLP's
 * hidden width, DavidNet's width multiplier, a ViT preset's embedding dim: each model's registered muP width
 * family), as the `mup` package's `set_base_shapes` builds its base model.
 *
 * @example
 * ```ts
 * mupBaseShapes('mlp', { inputShape: [28, 28, 1], numClasses: 10 }, 256); // { 'fc1.kernel': [784, 256], ... }
 * ```
 */
export function mupBaseShapes(name: string, o: Omit<ModelOptions, 'inputShape'> & { inputShape: [number, number, number] }, baseWidth: number): Record<string, number[]> {
  if (!(baseWidth > 0)) throw new UsageError(`--mup-base-width must be > 0 (got ${baseWidth})`);
  const family = modelInfo(name).family;
  if (!family.mup) {
    throw new UsageError(`--optimizer mup-*: model '${name}' has no width family here (expected ${mupModels().join(', ')})`);
  }
  let model;
  try {
    model = family.mup.base(name, o, baseWidth);
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]!);
  }
  const shapes = Object.fromEntries(collectParams(model).map((p) => [p.name, [...p.shape]]));
  model.dispose();
  return shapes;
}

/** The registered models with a muP width family. */
export function mupModels(): string[] {
  return modelNamesWhere((f) => f.mup !== undefined);
}

function modelNamesWhere(pred: (f: ReturnType<typeof modelInfo>['family']) => boolean): string[] {
  return modelNames().filter((n) => pred(modelInfo(n).family));
}

/**
 * The `--wd-exclude` mask of a model: no decay on biases, norm scales/shifts and embeddings, nor on the names the
 * model's family declares (timm's `no_weight_decay()`; an entry names a parameter or its last component).
 *
 * @example
 * ```ts
 * wdExcludeMask('vit-tiny', params)(clsTokenParam); // false: not decayed
 * ```
 */
export function wdExcludeMask(model: string, params: readonly ParamInfo[]): ParamMask {
  const own = modelInfo(model).family.noWeightDecay ?? [];
  const names = params.filter((p) => own.some((n) => p.name === n || p.name.endsWith(`.${n}`))).map((p) => p.name);
  return excludeFromWeightDecay({ names });
}

/**
 * {@link OptimizerChoice} from the parsed flags of `lwlr train` (camel-case keys); for `mup-*` it builds the
 * base model's shapes from the run's data shape.
 *
 * @example
 * ```ts
 * const choice = optimizerChoiceFromFlags(flags, { inputShape: run.dataset.shape, numClasses: run.dataset.numClasses });
 * ```
 */
export function optimizerChoiceFromFlags(f: ParsedFlags, data?: { inputShape: [number, number, number]; numClasses: number }): OptimizerChoice {
  const optimizer = f.optimizer as string;
  const c: OptimizerChoice = {
    optimizer, lr: f.lr as number, momentum: f.momentum as number, wd: f.wd as number,
    epochs: f.epochs as number, warmupEpochs: f.warmupEpochs as number,
    beta1: f.beta1 as number | undefined, beta2: f.beta2 as number | undefined, eps: f.eps as number | undefined,
    trustCoef: f.trustCoef as number | undefined, larsClip: f.larsClip as boolean | undefined,
    lrSchedule: f.lrSchedule as 'cosine' | 'poly' | undefined, polyPower: f.polyPower as number | undefined,
    init: f.init as InitMode | undefined,
  };
  // fail before the measurement, not after it (a saved --lr-table is checked by makeOptimizer)
  if (f.lrTable === undefined && f.lrScheme !== undefined && !acceptsScheme(optimizer, f.lrScheme as string)) {
    throw new UsageError(`--optimizer ${optimizer} sets its own per-tensor steps and runs with one learning rate: use --lr-scheme uniform (got '${f.lrScheme}')`);
  }
  if (isMup(optimizer)) {
    if (f.mupBaseWidth === undefined) throw new UsageError(`--optimizer ${optimizer} needs --mup-base-width (the width its learning rates are relative to)`);
    if (!data) throw new Error('optimizerChoiceFromFlags: mup needs the data shape');
    c.mupBase = mupBaseShapes(f.model as string, { ...data, depth: f.depth as number | undefined }, f.mupBaseWidth as number);
  } else if (f.mupBaseWidth !== undefined) {
    throw new UsageError(`--mup-base-width is for --optimizer mup-sgd or mup-adam (got --optimizer ${optimizer})`);
  }
  return c;
}

function checkChoice(o: OptimizerChoice, table: LRTable): void {
  const name = o.optimizer;
  if (!optimizerNames().includes(name)) {
    throw new UsageError(`--optimizer must be one of ${optimizerNames().join(', ')} (got '${name}')`);
  }
  if (!acceptsScheme(name, table.meta.scheme)) {
    throw new UsageError(`--optimizer ${name} sets its own per-tensor steps and runs with one learning rate: use --lr-scheme uniform (got '${table.meta.scheme}')`);
  }
  if (isMup(name)) {
    if (!o.mupBase) throw new UsageError(`--optimizer ${name} needs --mup-base-width`);
    if (o.init !== undefined && o.init !== 'fan-in') throw new UsageError(`--optimizer ${name} needs --init fan-in (muP's init variances are 1/fan_in; got '${o.init}')`);
  }
  const adamKnob = o.beta1 !== undefined || o.beta2 !== undefined || o.eps !== undefined;
  if (adamKnob && !hasAdamKnobs(name)) throw new UsageError(`--beta1/--beta2/--eps are Adam knobs; --optimizer ${name} has none`);
}

/**
 * The options of the registered optimizer `o.optimizer` from the choice: the knobs it has (its registered
 * defaults' keys; the others are left out, so an absent one takes the registered default).
 */
function registryOptions(o: OptimizerChoice): Record<string, unknown> {
  const takes = getOptimizerInfo(o.optimizer).defaults;
  const knobs: Record<string, unknown> = {
    momentum: o.momentum, weightDecay: o.wd, trustCoefficient: o.trustCoef, clip: o.larsClip,
    ...(hasAdamKnobs(o.optimizer) ? { beta1: o.beta1, beta2: o.beta2, eps: o.eps } : {}),
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(knobs)) if (v !== undefined && k in takes) out[k] = v;
  if (o.weightDecayMask !== undefined) out.weightDecayMask = o.weightDecayMask;
  if (isMup(o.optimizer) && o.mupBase !== undefined) out.mupBase = o.mupBase;
  return out;
}

/**
 * The per-parameter table the optimizer of `o` trains with: muP's (scheme `mup`) for `mup-*`, else `table`.
 * Write this one to the run directory, so that a muP run records the etas it used (the paper's Figure 14).
 *
 * @example
 * ```ts
 * dir.writeEtaTable(optimizerTable(run.params, table, choice).toJSON());
 * ```
 */
export function optimizerTable(params: readonly ParamInfo[], table: LRTable, o: OptimizerChoice): LRTable {
  checkChoice(o, table);
  return optimizerEtaTable(o.optimizer, params, table, registryOptions(o));
}

/**
 * The run's optimizer: `o.optimizer` from the library's registry with eta from `table` (or muP's table for
 * `mup-*`), scheduled over `o.epochs * stepsPerEpoch` steps. Combinations the registry refuses are a one-line
 * {@link UsageError}. `mup-*` also multiplies the readout's weights by muP's init scale (once, here, unless
 * `mupInit: false`).
 *
 * @example
 * ```ts
 * const opt = makeOptimizer(run.params, schemeTable(run.params, 'uniform'),
 *   { optimizer: 'lars', lr: 0.2, momentum: 0.9, wd: 5e-4, epochs: 10, warmupEpochs: 1 }, run.train.batchesPerEpoch);
 * ```
 */
export function makeOptimizer(params: readonly ParamInfo[], table: LRTable, o: OptimizerChoice, stepsPerEpoch: number): ChainOptimizer {
  checkChoice(o, table);
  const warmupSteps = Math.round(o.warmupEpochs * stepsPerEpoch);
  const totalSteps = o.epochs * stepsPerEpoch;
  const lr = (o.lrSchedule ?? 'cosine') === 'poly'
    ? polynomialDecayWithWarmup({ peak: o.lr, warmupSteps, totalSteps, power: o.polyPower ?? 1 })
    : cosineWithWarmup({ peak: o.lr, warmupSteps, totalSteps });
  if (isMup(o.optimizer) && o.mupInit !== false) {
    applyMupInit(params, o.mupBase!, { optimizer: hasAdamKnobs(o.optimizer) ? 'adam' : 'sgd' });
  }
  return createOptimizer(o.optimizer, params, { lr, eta: table, ...registryOptions(o) });
}
