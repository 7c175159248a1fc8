/**
 * The optimizer of a training run, built from the CLI's optimizer flags: a registered optimizer of
 * `layerwise-lr` (or SGD/AdamW with muP's per-tensor table) with the run's per-parameter eta and a
 * warmup + cosine (or polynomial) schedule by step.
 *
 * Which learning-rate schemes compose with which optimizer (as the paper runs them):
 * - `sgd`, `adamw`: every scheme (`uniform`, `layerwise`, the depth schemes, `frozen-adagrad`, a saved table).
 * - `sgd-ng`, `sgd-ng-adap`, `adam-ng`, `lars`, `lamb`: `uniform` only; they set their own per-tensor step
 *   sizes and the paper compares them with one learning rate (its Table 2, Figure 7).
 * - `mup-sgd`, `mup-adam`: `uniform` only (muP's table replaces it), `--mup-base-width` required, and
 *   `--init fan-in` (muP's variances are 1/fan_in; the fan-out init scales the input layer with width).
 */
import {
  AdamW, SGD, applyMupInit, collectParams, cosineWithWarmup, createOptimizer, mupTable, polynomialDecayWithWarmup,
  type ChainOptimizer, type FrozenAdagradTable, type InitMode, type LRTable, type MupBase, type ParamInfo, type ParamMask,
} from 'layerwise-lr';
import { UsageError, type FlagSpecs, type ParsedFlags } from '../cli/args.js';
import { buildModel } from '../models/registry.js';
import { VIT_PRESETS, vit } from '../models/vit.js';
import { zooOptions } from '../models/zoo.js';

/** Every `--optimizer` value. */
export const OPTIMIZER_NAMES = ['sgd', 'adamw', 'sgd-ng', 'sgd-ng-adap', 'adam-ng', 'lars', 'lamb', 'mup-sgd', 'mup-adam'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/** The optimizers that take a per-parameter learning-rate scheme other than `uniform`. */
const TAKES_ANY_SCHEME = new Set<string>(['sgd', 'adamw']);
const SGD_LIKE = new Set<string>(['sgd', 'sgd-ng', 'sgd-ng-adap', 'lars', 'mup-sgd']);

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
  /** LARS trust coefficient (default 0.001). */
  trustCoef?: number;
  /** LARS clipping, the LARC variant (default true). */
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
  optimizer: { type: 'string', default: 'sgd', choices: OPTIMIZER_NAMES, help: 'optimizer (sgd/adamw: torch.optim semantics; the rest: the paper\'s baselines)' },
  lr: { type: 'number', default: 0.1, help: 'peak global learning rate' },
  momentum: { type: 'number', default: 0.9, help: 'momentum of the SGD family (sgd, sgd-ng*, lars, mup-sgd)' },
  wd: { type: 'number', default: 5e-4, help: 'weight decay (scaled by each eta, as a torch param group)' },
  'warmup-epochs': { type: 'number', default: 1, help: 'linear warmup, then the decay of --lr-schedule' },
  'lr-schedule': { type: 'string', default: 'cosine', choices: ['cosine', 'poly'], help: 'decay to 0 after warmup: cosine, or polynomial (LAMB)' },
  'poly-power': { type: 'number', default: 1, help: 'exponent of --lr-schedule poly' },
  beta1: { type: 'number', help: 'Adam beta1 (adamw, adam-ng, lamb, mup-adam; default 0.9)' },
  beta2: { type: 'number', help: 'Adam beta2 (default 0.999)' },
  eps: { type: 'number', help: 'Adam eps (default 1e-8; lamb 1e-6)' },
  'trust-coef': { type: 'number', default: 1e-3, help: 'LARS trust coefficient' },
  'lars-clip': { type: 'boolean', default: true, help: 'LARS: clip the local lr at the global lr (LARC); --no-lars-clip scales instead' },
  'mup-base-width': { type: 'number', help: 'muP base width: MLP hidden width (--width) or DavidNet width multiplier (--width-mult)' },
};

/**
 * The parameter shapes of the muP base model: `name` built as the run's model but at `baseWidth` (the MLP's
 * hidden width, DavidNet's width multiplier, a ViT preset's embedding dim), as the `mup` package's
 * `set_base_shapes` builds its base model.
 *
 * @example
 * ```ts
 * mupBaseShapes('mlp', { inputShape: [28, 28, 1], numClasses: 10 }, 256); // { 'fc1.kernel': [784, 256], ... }
 * ```
 */
export function mupBaseShapes(
  name: string, o: { inputShape: [number, number, number]; numClasses: number; depth?: number }, baseWidth: number,
): Record<string, number[]> {
  if (!(baseWidth > 0)) throw new UsageError(`--mup-base-width must be > 0 (got ${baseWidth})`);
  let model;
  if (name === 'mlp') {
    if (!Number.isInteger(baseWidth)) throw new UsageError(`--mup-base-width for mlp is a hidden width, an integer (got ${baseWidth})`);
    model = buildModel('mlp', { ...o, width: baseWidth });
  } else if (name === 'davidnet') {
    model = buildModel('davidnet', { ...o, widthMultiplier: baseWidth });
  } else if (name in VIT_PRESETS) {
    model = vit({ ...zooOptions(o), ...VIT_PRESETS[name as keyof typeof VIT_PRESETS], dim: baseWidth });
  } else {
    throw new UsageError(`--optimizer mup-*: model '${name}' has no width family here (expected mlp, davidnet, ${Object.keys(VIT_PRESETS).join(', ')})`);
  }
  const shapes = Object.fromEntries(collectParams(model).map((p) => [p.name, [...p.shape]]));
  model.dispose();
  return shapes;
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
  if (!TAKES_ANY_SCHEME.has(optimizer) && f.lrTable === undefined && f.lrScheme !== undefined && f.lrScheme !== 'uniform') {
    throw new UsageError(`--optimizer ${optimizer} sets its own per-tensor steps and runs with one learning rate: use --lr-scheme uniform (got '${f.lrScheme}')`);
  }
  if (optimizer.startsWith('mup-')) {
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
  if (!(OPTIMIZER_NAMES as readonly string[]).includes(name)) {
    throw new UsageError(`--optimizer must be one of ${OPTIMIZER_NAMES.join(', ')} (got '${name}')`);
  }
  // a mup-* run directory records muP's table (optimizerTable); resuming it hands that table back
  const ownTable = name.startsWith('mup-') && table.meta.scheme === 'mup';
  if (!TAKES_ANY_SCHEME.has(name) && table.meta.scheme !== 'uniform' && !ownTable) {
    throw new UsageError(`--optimizer ${name} sets its own per-tensor steps and runs with one learning rate: use --lr-scheme uniform (got '${table.meta.scheme}')`);
  }
  if (name.startsWith('mup-')) {
    if (!o.mupBase) throw new UsageError(`--optimizer ${name} needs --mup-base-width`);
    if (o.init !== undefined && o.init !== 'fan-in') throw new UsageError(`--optimizer ${name} needs --init fan-in (muP's init variances are 1/fan_in; got '${o.init}')`);
  }
  const adamKnob = o.beta1 !== undefined || o.beta2 !== undefined || o.eps !== undefined;
  if (adamKnob && SGD_LIKE.has(name)) throw new UsageError(`--beta1/--beta2/--eps are Adam knobs; --optimizer ${name} has none`);
}

/**
 * The per-parameter table the optimizer of `o` trains with: muP's (scheme `mup`) for `mup-*`, else `table`.
 * Write this one to the run directory, so that a muP run records the etas it used (the paper's Figure 14).
 *
 * @example
 * ```ts
 * dir.writeJSON('lr-table.json', optimizerTable(run.params, table, choice).toJSON());
 * ```
 */
export function optimizerTable(params: readonly ParamInfo[], table: LRTable, o: OptimizerChoice): LRTable {
  if (!o.optimizer.startsWith('mup-')) return table;
  checkChoice(o, table);
  return mupTable(params, o.mupBase!, { optimizer: o.optimizer === 'mup-sgd' ? 'sgd' : 'adam' });
}

/**
 * The run's optimizer: `o.optimizer` with eta from `table` (or muP's table for `mup-*`), scheduled over
 * `o.epochs * stepsPerEpoch` steps. Combinations the paper does not make are a one-line {@link UsageError}
 * (see the module doc). `mup-*` also multiplies the readout's weights by muP's init scale (once, here).
 *
 * @example
 * ```ts
 * const opt = makeOptimizer(run.params, schemeTable(run.params, 'uniform'),
 *   { optimizer: 'lars', lr: 0.2, momentum: 0.9, wd: 5e-4, epochs: 10, warmupEpochs: 1 }, run.train.batchesPerEpoch);
 * ```
 */
export function makeOptimizer(
  params: readonly ParamInfo[], table: LRTable, o: OptimizerChoice, stepsPerEpoch: number, elementwise?: FrozenAdagradTable,
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
  const mask = o.weightDecayMask !== undefined ? { weightDecayMask: o.weightDecayMask } : {};
  const adam = Object.fromEntries(Object.entries({ beta1: o.beta1, beta2: o.beta2, eps: o.eps }).filter(([, v]) => v !== undefined));
  switch (o.optimizer) {
    case 'sgd': return new SGD(params, { lr, eta, momentum: o.momentum, weightDecay: o.wd, ...mask });
    case 'adamw': return new AdamW(params, { lr, eta, weightDecay: o.wd, ...adam, ...mask });
    case 'sgd-ng': case 'sgd-ng-adap':
      return createOptimizer(o.optimizer, params, { lr, eta: table, momentum: o.momentum, weightDecay: o.wd, ...mask });
    case 'lars':
      return createOptimizer('lars', params, {
        lr, eta: table, momentum: o.momentum, weightDecay: o.wd, trustCoefficient: o.trustCoef ?? 1e-3, clip: o.larsClip ?? true, ...mask,
      });
    case 'adam-ng': case 'lamb':
      return createOptimizer(o.optimizer, params, { lr, eta: table, weightDecay: o.wd, ...adam, ...mask });
    case 'mup-sgd': case 'mup-adam': {
      const family = o.optimizer === 'mup-sgd' ? 'sgd' : 'adam';
      const eta = optimizerTable(params, table, o);
      if (o.mupInit !== false) applyMupInit(params, o.mupBase!, { optimizer: family });
      return family === 'sgd'
        ? new SGD(params, { lr, eta, momentum: o.momentum, weightDecay: o.wd, ...mask })
        : new AdamW(params, { lr, eta, weightDecay: o.wd, ...adam, ...mask });
    }
    default:
      throw new UsageError(`unknown optimizer '${o.optimizer}'`);
  }
}
