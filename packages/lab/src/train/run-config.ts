/**
 * A training run as one typed, validated, serializable value: {@link RunConfig} (what a run directory's
 * `config.json` holds), and {@link resolveRunConfig}, which turns flags, a config file or an object in code into
 * one — checking every value and every combination before anything is loaded or written, and throwing a
 * {@link ConfigError} naming the flag (the CLI's exit 2).
 *
 * The fields are the `lwlr train` flags in camelCase (`--warmup-epochs` is `warmupEpochs`), grouped by what they
 * describe (model, data, optimizer, scheme, schedule, init, outputs). {@link RUN_FIELDS} describes each once
 * (type, default, choices, help, check): the CLI's flags and help, the config-file reader, the sweep's grid
 * validation and `resolveRunConfig` all read it. Choices come from the registries (models, datasets,
 * optimizers, schemes, init modes), so a new model or optimizer is one registration.
 *
 * Defaults that depend on the optimizer are written once, in the optimizer registry: an optimizer that only
 * takes `uniform` (the paper's baselines, muP's) trains with it unless `--lr-scheme` says otherwise, and an
 * explicit scheme it does not take is a usage error; `mup-*` defaults to `--init fan-in`.
 *
 * @example
 * ```ts
 * const config = resolveRunConfig({ model: 'mlp', data: 'synthetic', 'batch-size': 64, optimizer: 'lamb', out: 'runs/a' });
 * config.lrScheme;   // 'uniform' (lamb's default)
 * resolveRunConfig({ lr: -1 }); // throws ConfigError: --lr must be a finite number >= 0 (got -1)
 * ```
 */
import { existsSync } from 'node:fs';
import { BACKEND_CHOICES, type BackendChoice } from 'tfjs-backend-onednn';
import { GRAD_NORMS, INIT_MODES, LR_SCHEMES, acceptsScheme, getOptimizerInfo, type GradNorm, type InitMode } from 'layerwise-lr';
import { ConfigError, UsageError } from '../errors.js';
import { flagValue, toCamel, toDashed, type FlagSpec, type FlagSpecs, type FlagValue } from '../flags.js';
import { isLanguageModel, modelInfo, modelNames } from '../models/registry.js';
import { TOKENIZERS } from '../data/tokenizers.js';
import { DATASETS } from '../data/registry.js';
import { AUGMENT_LEVELS, type AugmentLevel } from '../data/augment/policy.js';
import { parseRandAugment } from '../data/augment/randaugment.js';
import { defaultSchemeFor, hasAdamKnobs, isMup, optimizerNames } from './optimizers.js';

/** The model: which network, at which size. */
export interface ModelConfig {
  model: string;
  /** MLP hidden width. */
  width: number;
  /** MLP number of linear layers. */
  depth: number;
  /** DavidNet's width multiplier. */
  widthMult?: number;
  /** The model's outputs (default: the dataset's classes). */
  numClasses?: number;
  drop?: number;
  attnDrop?: number;
  dropPath?: number;
  outputScale?: number;
  /** Language models: an LM head of their own instead of the tied token embedding. */
  untieHead: boolean;
}

/** The data: dataset, preprocessing, augmentation, batching. */
export interface DataConfig {
  data: string;
  dataDir?: string;
  limit?: number;
  imageSize?: number;
  channels?: number;
  valSplit?: number;
  augment: AugmentLevel;
  mixup?: number;
  randaugment?: string;
  /** `--data text`: a UTF-8 file or folder (default: the Brown corpus). */
  dataFile?: string;
  /** `--data text`: the tokenizer. */
  tokenizer: string;
  /** `--data text`: tokens per training window (default: the model's context). */
  context?: number;
  batchSize: number;
  dropLast: boolean;
}

/** The optimizer, its knobs (the registry says which it has) and the loss. */
export interface OptimizerConfig {
  optimizer: string;
  /** The peak global learning rate. */
  lr: number;
  momentum: number;
  wd: number;
  wdExclude: boolean;
  beta1?: number;
  beta2?: number;
  eps?: number;
  trustCoef?: number;
  larsClip?: boolean;
  mupBaseWidth?: number;
  accumSteps: number;
  labelSmoothing: number;
}

/** The per-parameter eta: a scheme (Algorithm 1's settings for `layerwise`) or a saved table. */
export interface SchemeConfig {
  /** The scheme; absent with `etaTable` unless given (then it must be the table's). */
  lrScheme?: string;
  /** A saved eta table (`lwlr lr --out`), instead of a scheme (0.1's `--lr-table`). */
  etaTable?: string;
  /** T of Algorithm 1 and of frozen-adagrad's measurement (default: one epoch). */
  lrSteps?: number;
  exponent: number;
  /** How Algorithm 1 measures G per minibatch: `l1` mean |g| (the paper's), `l2` root mean square. */
  gradNorm: GradNorm;
}

/** The schedule of the global learning rate. */
export interface ScheduleConfig {
  epochs: number;
  warmupEpochs: number;
  lrSchedule: 'cosine' | 'poly';
  polyPower: number;
}

/** Where training starts. */
export interface InitConfig {
  seed: number;
  /** The measurement init (Algorithm 1's, and training's unless `trainInit` is `default`). */
  init: InitMode;
  trainInit: 'measurement' | 'default';
  initWeights?: string;
}

/** What the run writes, and where it runs. `out` and `saveWeights` say where, not what: config.json leaves them out. */
export interface OutputConfig {
  out?: string;
  saveWeights?: string;
  logEvery: number;
  tensorboard: boolean;
  backend: BackendChoice;
}

/** A whole training run, resolved and checked (see the module doc). */
export type RunConfig = Readonly<ModelConfig & DataConfig & OptimizerConfig & SchemeConfig & ScheduleConfig & InitConfig & OutputConfig>;

/** Which part of the run a field describes (help groups). */
export type RunSection = 'model' | 'data' | 'optimizer' | 'scheme' | 'schedule' | 'init' | 'output';

/** One field of {@link RunConfig}: its flag spec, and its own check (a message when the value is bad). */
export interface RunField extends FlagSpec {
  section: RunSection;
  check?: (value: never, config: RunConfig) => string | undefined;
}

const finite = (v: number) => Number.isFinite(v);
const atLeast = (lo: number, what = 'a number') => (v: number) => (finite(v) && v >= lo ? undefined : `must be ${what} >= ${lo}`);
const above = (lo: number) => (v: number) => (finite(v) && v > lo ? undefined : `must be a number > ${lo}`);
const fraction = (v: number) => (finite(v) && v >= 0 && v < 1 ? undefined : 'must be in [0, 1)');
const positiveInt = (v: number) => (Number.isInteger(v) && v >= 1 ? undefined : 'must be an integer >= 1');

/** Every field of a run, by flag name, in help order. */
export const RUN_FIELDS: Readonly<Record<string, RunField>> = {
  // model
  model: { section: 'model', type: 'string', default: 'mlp', choices: modelNames(), help: 'model' },
  width: { section: 'model', type: 'int', default: 1024, help: 'MLP hidden width', check: positiveInt },
  depth: { section: 'model', type: 'int', default: 2, help: 'MLP number of linear layers', check: positiveInt },
  'width-mult': { section: 'model', type: 'number', help: 'width multiplier of DavidNet (default 1)', check: above(0) },
  'num-classes': { section: 'model', type: 'int', help: "the model's number of outputs (default: the dataset's classes)", check: positiveInt },
  drop: { section: 'model', type: 'number', help: 'dropout rate (ViT, Swin)', check: fraction },
  'attn-drop': { section: 'model', type: 'number', help: 'attention dropout rate (ViT, Swin)', check: fraction },
  'drop-path': { section: 'model', type: 'number', help: 'stochastic depth rate of the last block (ViT, ConvNeXt, Swin)', check: fraction },
  'output-scale': { section: 'model', type: 'number', help: 'logit multiplier (DavidNet, default 0.125)', check: (v: number) => (finite(v) ? undefined : 'must be a finite number') },
  'untie-head': { section: 'model', type: 'boolean', default: false, help: 'language models: an LM head of its own instead of the tied token embedding' },
  // data
  data: { section: 'data', type: 'string', default: 'fashion-mnist', choices: DATASETS, help: 'dataset' },
  'data-dir': { section: 'data', type: 'string', help: 'directory of the dataset files' },
  limit: { section: 'data', type: 'int', help: 'use only the first N examples of each split', check: positiveInt },
  'image-size': { section: 'data', type: 'int', help: "resize the data to N x N (the model's input size; folder: default 224)", check: positiveInt },
  channels: { section: 'data', type: 'int', help: 'replicate 1-channel data to 3 channels (--channels 3)', check: (v: number) => ([1, 3].includes(v) ? undefined : 'must be 1 or 3') },
  'val-split': {
    section: 'data', type: 'number', help: 'hold out a fraction (0..1) or a count of the training split for validation',
    check: (v: number) => ((v > 0 && v < 1) || (Number.isInteger(v) && v >= 1) ? undefined : 'must be a fraction in (0, 1) or a whole count >= 1'),
  },
  augment: { section: 'data', type: 'string', default: 'none', choices: AUGMENT_LEVELS, help: 'training augmentation: basic = crop (pad 4, or random-resized for folders) + flip; strong = basic + RandAugment 2,10 + Mixup 0.5' },
  mixup: { section: 'data', type: 'number', help: 'Mixup alpha (overrides --augment; 0 = off)', check: atLeast(0, 'an alpha') },
  randaugment: {
    section: 'data', type: 'string', help: 'RandAugment N,M (overrides --augment; torchvision ops, M of 0..30)',
    check: (v: string) => { try { parseRandAugment(v); return undefined; } catch { return 'must be N,M with integers N >= 0 and M in 0..30'; } },
  },
  'data-file': { section: 'data', type: 'string', help: '--data text: a UTF-8 file or a folder of them (default: the Brown corpus; every 10th document validates)' },
  tokenizer: { section: 'data', type: 'string', default: 'bytes', choices: TOKENIZERS, help: '--data text: bytes (vocabulary 256) or gpt2 (BPE, 50257)' },
  context: { section: 'data', type: 'int', help: "--data text: tokens per training window (default: the model's context)", check: positiveInt },
  'batch-size': { section: 'data', type: 'int', default: 256, help: 'minibatch size', check: positiveInt },
  'drop-last': { section: 'data', type: 'boolean', default: false, help: 'drop the last partial batch of each epoch' },
  // optimizer
  optimizer: { section: 'optimizer', type: 'string', default: 'sgd', choices: optimizerNames(), help: "optimizer (sgd/adamw: torch.optim semantics; the rest: the paper's baselines and muP)" },
  lr: { section: 'optimizer', type: 'number', default: 0.1, help: 'peak global learning rate', check: atLeast(0, 'a finite number') },
  momentum: { section: 'optimizer', type: 'number', default: 0.9, help: 'momentum of the SGD family (sgd, sgd-ng*, lars, mup-sgd)', check: fraction },
  wd: { section: 'optimizer', type: 'number', default: 5e-4, help: 'weight decay (scaled by each eta, as a torch param group)', check: atLeast(0, 'a finite number') },
  'wd-exclude': { section: 'optimizer', type: 'boolean', default: false, help: "no weight decay on biases, norm scales/shifts, embeddings and the model's own exclusions" },
  beta1: { section: 'optimizer', type: 'number', help: 'Adam beta1 (adamw, adam-ng, lamb, mup-adam; default 0.9)', check: fraction },
  beta2: { section: 'optimizer', type: 'number', help: 'Adam beta2 (default 0.999)', check: fraction },
  eps: { section: 'optimizer', type: 'number', help: 'Adam eps (default 1e-8; lamb 1e-6)', check: above(0) },
  'trust-coef': { section: 'optimizer', type: 'number', help: `LARS trust coefficient (default ${getOptimizerInfo('lars').defaults.trustCoefficient})`, check: above(0) },
  'lars-clip': { section: 'optimizer', type: 'boolean', help: 'LARS: clip the local lr at the global lr (LARC, the default); --no-lars-clip scales instead' },
  'mup-base-width': { section: 'optimizer', type: 'number', help: 'muP base width: MLP hidden width (--width), DavidNet width multiplier (--width-mult) or ViT embedding dim', check: above(0) },
  'accum-steps': { section: 'optimizer', type: 'int', default: 1, help: 'split each --batch-size batch into K micro-batches (gradient accumulation; same run, less memory)', check: positiveInt },
  'label-smoothing': { section: 'optimizer', type: 'number', default: 0, help: 'label smoothing epsilon (torch CrossEntropyLoss semantics)', check: fraction },
  // scheme
  'lr-scheme': { section: 'scheme', type: 'string', choices: LR_SCHEMES, help: "per-parameter learning rates (default: layerwise; uniform for optimizers that take only uniform)" },
  'eta-table': { section: 'scheme', type: 'string', help: 'use a saved eta table (from lwlr lr --out) instead of measuring' },
  'lr-steps': { section: 'scheme', type: 'int', help: 'T for the layerwise and frozen-adagrad schemes (default: one epoch, as the paper)', check: positiveInt },
  exponent: { section: 'scheme', type: 'number', default: 0.5, help: 'eta = G^-exponent (layerwise)', check: atLeast(0, 'a finite number') },
  'grad-norm': {
    section: 'scheme', type: 'string', default: 'l1', choices: GRAD_NORMS,
    help: 'G of a tensor per minibatch, summed over the T minibatches: l1 = mean |g| (the paper), l2 = root mean square of g (layerwise)',
  },
  // schedule
  epochs: { section: 'schedule', type: 'int', default: 10, help: 'epochs', check: positiveInt },
  'warmup-epochs': {
    section: 'schedule', type: 'number', default: 1, help: 'linear warmup, then the decay of --lr-schedule',
    check: (v: number, c: RunConfig) => (!(finite(v) && v >= 0) ? 'must be a number >= 0' : v > c.epochs ? `is longer than the run (--epochs ${c.epochs})` : undefined),
  },
  'lr-schedule': { section: 'schedule', type: 'string', default: 'cosine', choices: ['cosine', 'poly'], help: 'decay to 0 after warmup: cosine, or polynomial (LAMB)' },
  'poly-power': { section: 'schedule', type: 'number', default: 1, help: 'exponent of --lr-schedule poly', check: above(0) },
  // init
  seed: { section: 'init', type: 'int', default: 0, help: 'seed of the init, shuffling and measurement', check: (v: number) => (Number.isSafeInteger(v) && v >= 0 ? undefined : 'must be an integer >= 0') },
  init: { section: 'init', type: 'string', choices: INIT_MODES, help: 'measurement init (default fan-out; fan-in for mup-*)' },
  'train-init': {
    section: 'init', type: 'string', default: 'measurement', choices: ['measurement', 'default'],
    help: "weights training starts from: the measurement init (--init, seeded) or the model's own default init (torchvision/timm style, seeded); Algorithm 1 measures at --init either way",
  },
  'init-weights': { section: 'init', type: 'string', help: 'start from these weights (.safetensors or a TF.js model directory)' },
  // output
  out: { section: 'output', type: 'string', help: 'run directory (config.json, the eta table, metrics, checkpoint/)' },
  'save-weights': { section: 'output', type: 'string', help: 'write the final weights (.safetensors, or a TF.js model directory)' },
  'log-every': { section: 'output', type: 'int', default: 20, help: 'log the train loss every N steps', check: positiveInt },
  tensorboard: { section: 'output', type: 'boolean', default: false, help: 'also write TensorBoard event files to RUN_DIR/tb' },
  backend: { section: 'output', type: 'string', default: 'auto', choices: BACKEND_CHOICES, help: 'tfjs backend' },
};

/** The fields' flag specs (what the CLI parses). */
export function runFlagSpecs(sections?: readonly RunSection[]): FlagSpecs {
  const out: FlagSpecs = {};
  for (const [name, f] of Object.entries(RUN_FIELDS)) {
    if (sections && !sections.includes(f.section)) continue;
    const { section: _s, check: _c, ...spec } = f;
    out[name] = spec;
  }
  return out;
}

/** 0.1's names of fields, still read (config files, sweep files, stored config.json) and taken as flags. */
export const DEPRECATED_FIELDS: Readonly<Record<string, string>> = { 'lr-table': 'eta-table' };

const BY_CAMEL = new Map(Object.keys(RUN_FIELDS).map((name) => [toCamel(name), name]));
for (const [old, now] of Object.entries(DEPRECATED_FIELDS)) BY_CAMEL.set(toCamel(old), now).set(old, now);

/** Keys a run's config.json holds besides the fields: what the run found, and the command line. */
export const CONFIG_META_KEYS: ReadonlySet<string> = new Set(['command', 'argv', 'datasetName', 'trainCount', 'testCount', 'valCount', 'lwlrVersion', 'text']);

/** Keys of the CLI's invocation (not of the run) that older config.json files hold. */
const INVOCATION_KEYS: ReadonlySet<string> = new Set(['quiet', 'stopAfter', 'overwrite', 'resume', 'config', 'help']);

/**
 * The field name (dashed) of a key (dashed or camelCase); undefined when it is none.
 *
 * @example
 * ```ts
 * runFieldName('warmupEpochs'); // 'warmup-epochs'
 * ```
 */
export function runFieldName(key: string): string | undefined {
  if (RUN_FIELDS[key]) return key;
  return BY_CAMEL.get(key);
}

/**
 * A stored config.json of an older lwlr read as today's fields: meta keys and invocation flags dropped, and
 * LARS's knobs that 0.1 wrote for every optimizer dropped where the optimizer has none.
 */
function upgradeStored(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (!CONFIG_META_KEYS.has(k) && !INVOCATION_KEYS.has(k)) out[k] = v;
  const optimizer = typeof out.optimizer === 'string' ? out.optimizer : 'sgd';
  const takes = optimizerNames().includes(optimizer) ? getOptimizerInfo(optimizer).defaults : {};
  if (!('trustCoefficient' in takes)) {
    if (out.trustCoef === 1e-3) delete out.trustCoef;
    if (out.larsClip === true) delete out.larsClip;
  }
  return out;
}

/** Options of {@link resolveRunConfig}. */
export interface ResolveOptions {
  /** Names the source in messages (`--config run.yaml`, `sweep.yaml grid.lr`). */
  where?: string;
  /** Check that `--eta-table` and `--init-weights` exist (default true; a resumed run reads neither). */
  checkFiles?: boolean;
}

/**
 * Resolves a run: `input` holds the values given (flags as the CLI parsed them, a config file's or sweep's
 * mapping, an object in code; keys dashed or camelCase; a stored `config.json` of this or an older version is
 * accepted too). Every field gets its value or default; every value and combination is checked. Throws a
 * one-line {@link ConfigError} naming the flag (or a {@link UsageError}, exit 1, for a file that does not exist).
 *
 * @example
 * ```ts
 * resolveRunConfig({ optimizer: 'lamb', 'lr-scheme': 'layerwise' });
 * // ConfigError: --optimizer lamb sets its own per-tensor steps and takes --lr-scheme uniform only (got 'layerwise')
 * ```
 */
export function resolveRunConfig(input: Readonly<Record<string, unknown>>, o: ResolveOptions = {}): RunConfig {
  const prefix = o.where ? `${o.where}: ` : '';
  const fail = (flag: string, msg: string): never => { throw new ConfigError(flag, `${prefix}${msg}`); };
  const given = new Map<string, FlagValue>(); // dashed name -> value
  const raw = 'command' in input || 'argv' in input ? upgradeStored({ ...input }) : input;
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined || value === null) continue;
    if (INVOCATION_KEYS.has(key) && !RUN_FIELDS[key]) continue;
    const name = runFieldName(key);
    if (!name) fail(key, `unknown key '${key}' (the keys are lwlr train's flags, e.g. batch-size or batchSize)`);
    try {
      given.set(name!, flagValue(name!, RUN_FIELDS[name!]!, value));
    } catch (e) {
      fail(name!, (e as Error).message);
    }
  }
  const values: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(RUN_FIELDS)) values[toCamel(name)] = given.has(name) ? given.get(name) : f.default;
  const c = values as unknown as RunConfig & Record<string, unknown>;
  const explicit = (name: string) => given.has(name);

  // defaults written once, in the optimizer registry (see the module doc)
  if (!explicit('lr-scheme')) values.lrScheme = c.etaTable === undefined ? defaultSchemeFor(c.optimizer) : undefined;
  if (!explicit('init')) values.init = isMup(c.optimizer) ? 'fan-in' : 'fan-out';

  // each value by itself, in field order
  for (const [name, f] of Object.entries(RUN_FIELDS)) {
    const v = values[toCamel(name)];
    if (v === undefined || !f.check) continue;
    const msg = f.check(v as never, c);
    if (msg) fail(name, `--${name} ${msg} (got ${typeof v === 'string' ? `'${v}'` : v})`);
  }

  // combinations
  checkDataAndModel(c, fail);
  const opt = c.optimizer;
  if (c.etaTable === undefined && c.lrScheme !== undefined && !acceptsScheme(opt, c.lrScheme)) {
    fail('lr-scheme', `--optimizer ${opt} sets its own per-tensor steps and takes --lr-scheme uniform only (got '${c.lrScheme}')`);
  }
  // frozen-adagrad is per element, 1/sqrt(sum g^2): an exponent or a norm for it would be a silent no-op
  if (c.lrScheme === 'frozen-adagrad') {
    if (c.exponent !== RUN_FIELDS.exponent!.default) fail('exponent', `--exponent is for --lr-scheme layerwise; frozen-adagrad is per element 1/sqrt(sum g^2) (got --exponent ${c.exponent})`);
    if (c.gradNorm !== RUN_FIELDS['grad-norm']!.default) fail('grad-norm', `--grad-norm is for --lr-scheme layerwise; frozen-adagrad sums g^2 per element (got --grad-norm ${c.gradNorm})`);
  }
  if (isMup(opt)) {
    if (!modelInfo(c.model).family.mup) {
      const withWidth = modelNames().filter((n) => modelInfo(n).family.mup);
      fail('optimizer', `--optimizer ${opt}: model '${c.model}' has no muP width family (models with one: ${withWidth.join(', ')})`);
    }
    if (c.mupBaseWidth === undefined) fail('mup-base-width', `--optimizer ${opt} needs --mup-base-width (the width its learning rates are relative to)`);
    if (c.init !== 'fan-in') fail('init', `--optimizer ${opt} needs --init fan-in (muP's init variances are 1/fan_in; got '${c.init}')`);
  } else if (c.mupBaseWidth !== undefined) {
    fail('mup-base-width', `--mup-base-width is for --optimizer mup-sgd or mup-adam (got --optimizer ${opt})`);
  }
  if ((c.beta1 !== undefined || c.beta2 !== undefined || c.eps !== undefined) && !hasAdamKnobs(opt)) {
    fail(c.beta1 !== undefined ? 'beta1' : c.beta2 !== undefined ? 'beta2' : 'eps', `--beta1/--beta2/--eps are Adam knobs; --optimizer ${opt} has none`);
  }
  const lars = 'trustCoefficient' in getOptimizerInfo(opt).defaults;
  if (!lars && (c.trustCoef !== undefined || c.larsClip !== undefined)) {
    fail(c.trustCoef !== undefined ? 'trust-coef' : 'lars-clip', `--trust-coef/--lars-clip are LARS knobs; --optimizer ${opt} has none`);
  }
  if (o.checkFiles === false) return Object.freeze(values) as unknown as RunConfig;
  if (c.etaTable !== undefined && !existsSync(c.etaTable)) throw new UsageError(`${prefix}--eta-table ${c.etaTable}: no such file`, 1);
  if (c.initWeights !== undefined && !existsSync(c.initWeights)) throw new UsageError(`${prefix}--init-weights ${c.initWeights}: no such file`, 1);
  return Object.freeze(values) as unknown as RunConfig;
}

/** Image-only values with `--data text`, text-only ones without it, and a model that does not read the data. */
function checkDataAndModel(c: RunConfig, fail: (flag: string, msg: string) => never): void {
  const text = c.data === 'text';
  const lm = isLanguageModel(c.model);
  if (text && !lm) fail('model', `--data text trains language models (${modelNames().filter(isLanguageModel).join(', ')}), not --model ${c.model}`);
  if (!text && lm) fail('data', `--model ${c.model} is a language model: use --data text (with --data-file PATH, or the Brown corpus)`);
  const set = (k: keyof RunConfig) => {
    const v = c[k];
    return v !== undefined && v !== false && !(k === 'augment' && v === 'none') && !(k === 'tokenizer' && v === 'bytes');
  };
  const image: Array<keyof RunConfig> = ['dataDir', 'augment', 'mixup', 'randaugment', 'valSplit', 'imageSize', 'channels', 'numClasses'];
  const textOnly: Array<keyof RunConfig> = ['dataFile', 'tokenizer', 'context', 'untieHead'];
  for (const k of text ? image : textOnly) {
    if (!set(k)) continue;
    fail(toDashed(k), text ? `--${toDashed(k)} is for image data; --data text takes --data-file, --tokenizer, --context` : `--${toDashed(k)} is for --data text (language models)`);
  }
}

/** Fields a run's config.json leaves out: where the run writes, not what it is. */
const NOT_STORED = new Set(['out', 'saveWeights']);

/**
 * The config.json form of a run: every field (camelCase, unset ones left out) except where it writes, and what
 * the run found (`extra`: dataset sizes, the command line). {@link resolveRunConfig} reads it back.
 *
 * @example
 * ```ts
 * dir.writeConfig(storedRunConfig(config, { datasetName: 'mnist', trainCount: 60000 }));
 * ```
 */
export function storedRunConfig(c: RunConfig, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { command: 'train' };
  for (const [k, v] of Object.entries(c)) if (v !== undefined && !NOT_STORED.has(k)) out[k] = v;
  return { ...out, ...extra };
}

/**
 * The `lwlr train` arguments of a run (what a sweep trial's child process runs with): `--flag value`, booleans
 * as `--flag` / `--no-flag`, unset fields and defaults left out.
 *
 * @example
 * ```ts
 * runConfigArgs(resolveRunConfig({ lr: 0.2 })); // ['--lr', '0.2', '--lr-scheme', 'layerwise', ...]
 * ```
 */
export function runConfigArgs(c: RunConfig): string[] {
  const args: string[] = [];
  for (const [name, f] of Object.entries(RUN_FIELDS)) {
    const v = (c as unknown as Record<string, unknown>)[toCamel(name)];
    if (v === undefined || v === f.default) continue;
    if (typeof v === 'boolean') args.push(v ? `--${name}` : `--no-${name}`);
    else args.push(`--${name}`, String(v));
  }
  return args;
}

/**
 * Fields (camelCase) a resumed run may change; the others must equal the run's config: `--epochs` extends the
 * run (the schedule is then re-planned over the new length), `--backend` only warns that bit-for-bit
 * continuation needs the same one; `--out` must be the run directory itself.
 */
export const RESUME_MAY_CHANGE: ReadonlySet<string> = new Set(['epochs', 'saveWeights', 'tensorboard', 'backend', 'out']);

/**
 * The config of a run to resume: the run's `config.json` (of this or an older version), with the values
 * `given` again (camelCase or dashed keys) — equal to the run's, or among {@link RESUME_MAY_CHANGE}. A stored
 * config that no longer resolves, a missing one, or a given value that differs is a one-line error.
 *
 * @example
 * ```ts
 * const config = resumedRunConfig('runs/a', { epochs: 40 }); // runs/a's config, 40 epochs
 * ```
 */
export function resumedRunConfig(dir: string, given: Readonly<Record<string, unknown>>, stored: Record<string, unknown> | null): RunConfig {
  if (stored === null) throw new UsageError(`--resume ${dir}: no config.json (not a run directory?)`, 1);
  const base = resolveRunConfig(stored, { where: `--resume ${dir}: config.json`, checkFiles: false }) as unknown as Record<string, unknown>;
  const changed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined) continue;
    const name = runFieldName(key);
    if (!name) continue;
    const k = toCamel(name);
    if (k === 'out') continue;
    if (RESUME_MAY_CHANGE.has(k)) {
      changed[k] = value;
      continue;
    }
    const v = flagValue(name, RUN_FIELDS[name]!, value);
    if (v !== base[k]) {
      throw new UsageError(`--resume ${dir}: --${toDashed(k)} ${v} differs from the run's ${base[k] ?? '(unset)'} (a resumed run keeps its config; only --epochs, --stop-after, --quiet, --save-weights, --tensorboard, --backend may change)`);
    }
  }
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) fields[k] = v;
  return resolveRunConfig({ ...fields, ...changed, out: dir }, { checkFiles: false });
}
