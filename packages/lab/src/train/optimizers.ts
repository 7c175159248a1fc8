/**
 * The optimizer of a training run: a registered optimizer of `layerwise-lr` (`listOptimizers()`: sgd, adamw,
 * the paper's baselines and muP's) with the run's per-parameter eta and a warmup + cosine (or polynomial)
 * schedule by step. Everything optimizer-specific is read from the library's registry, not written here: the
 * names, the defaults (LARS's trust coefficient, LAMB's eps, ...), which eta schemes each takes (sgd and
 * adamw: every scheme, `frozen-adagrad`'s per-element multipliers included; the baselines: `uniform` only, as
 * the paper runs them; `mup-*`: `uniform`, replaced by muP's table), and which knobs each has (its registered
 * defaults' keys).
 *
 * The lab adds what the registry cannot know: `mup-*` needs `--mup-base-width` (the base model comes from the
 * model's registered muP width family) and `--init fan-in` (muP's variances are 1/fan_in; the fan-out init
 * scales the input layer with width).
 */
import {
  acceptsScheme, applyMupInit, collectParams, cosineWithWarmup, createOptimizer, excludeFromWeightDecay, getOptimizerInfo,
  listOptimizers, optimizerEtaTable, polynomialDecayWithWarmup,
  type ChainOptimizer, type FrozenAdagradTable, type InitMode, type EtaTable, type MupBase, type ParamInfo, type ParamMask,
} from 'layerwise-lr';
import { UsageError } from '../errors.js';
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

function checkChoice(o: OptimizerChoice, table: EtaTable): void {
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
export function optimizerTable(params: readonly ParamInfo[], table: EtaTable, o: OptimizerChoice): EtaTable {
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
export function makeOptimizer(
  params: readonly ParamInfo[], table: EtaTable, o: OptimizerChoice, stepsPerEpoch: number, elementwise?: FrozenAdagradTable,
): ChainOptimizer {
  checkChoice(o, table);
  if ((table.meta.scheme === 'frozen-adagrad') !== (elementwise !== undefined)) {
    throw new Error(`makeOptimizer: a '${table.meta.scheme}' table ${elementwise ? 'with' : 'without'} per-element multipliers`);
  }
  // frozen-adagrad: per-tensor etas (= table) and per-element factors, both from the one object
  const eta = elementwise ?? table;
  const warmupSteps = Math.round(o.warmupEpochs * stepsPerEpoch);
  const totalSteps = o.epochs * stepsPerEpoch;
  const lr = (o.lrSchedule ?? 'cosine') === 'poly'
    ? polynomialDecayWithWarmup({ peak: o.lr, warmupSteps, totalSteps, power: o.polyPower ?? 1 })
    : cosineWithWarmup({ peak: o.lr, warmupSteps, totalSteps });
  if (isMup(o.optimizer) && o.mupInit !== false) {
    applyMupInit(params, o.mupBase!, { optimizer: hasAdamKnobs(o.optimizer) ? 'adam' : 'sgd' });
  }
  return createOptimizer(o.optimizer, params, { lr, eta, ...registryOptions(o) });
}
