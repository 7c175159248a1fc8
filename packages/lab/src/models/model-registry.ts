/**
 * The model registry: each family file (`mlp.ts`, `resnet.ts`, `vit.ts`, ...) registers itself with
 * {@link registerModelFamily}, saying what it is: its builders by name (its presets, the `--model` values), its
 * PyTorch naming, its muP width family and its weight-decay exclusions, as timm's models declare
 * `default_cfg`, `no_weight_decay()` and `group_matcher`. The CLI's choices and help, the muP base model, the
 * `--wd-exclude` mask and the PyTorch interop all read from here, so a new model is one registration.
 * `models/registry.ts` imports every family, so importing it gives the full registry.
 *
 * @example
 * ```ts
 * registerModelFamily({
 *   family: 'lenet', description: 'LeNet-5',
 *   models: { lenet: (o) => lenet(imageOptions(o)) },
 *   torch: { matches: (names) => names.some((n) => n.startsWith('c1.')) },
 * });
 * ```
 */
import type * as tf from '@tensorflow/tfjs';
import type { TorchNaming } from '../interop/torch-naming.js';
import type { ImageModelOptions } from './layers/common.js';

/** What every builder gets: the data's shape and classes, and the knobs of the families that have them. */
export interface ModelOptions {
  inputShape: [number, number, number];
  numClasses: number;
  /** MLP hidden width. */
  width?: number;
  /** MLP number of linear layers. */
  depth?: number;
  /** Dropout (ViT, Swin). */
  dropRate?: number;
  /** Attention-probability dropout (ViT, Swin). */
  attnDropRate?: number;
  /** Stochastic depth of the last block (ViT, ConvNeXt, Swin). */
  dropPathRate?: number;
  /** Width multiplier (DavidNet). */
  widthMultiplier?: number;
  /** Logit multiplier (DavidNet, 0.125 by default). */
  outputScale?: number;
  /** Seed of the default init and of the dropout masks. */
  seed?: number;
  /** Language models: the tokenizer's vocabulary (default 256, bytes; `numClasses` and `inputShape` are not used). */
  vocabSize?: number;
  /** Language models: an LM head of its own instead of the tied token embedding. */
  untieHead?: boolean;
}

export type ModelBuilder = (o: ModelOptions) => tf.LayersModel;

/** muP's width family of a model: how to build the base model at another width (`mup`'s `set_base_shapes`). */
export interface MupWidthFamily {
  /** What `--mup-base-width` means for it (for messages and help), e.g. 'the hidden width (--width)'. */
  width: string;
  /** The model `name` as the run builds it (`o`) but at `baseWidth`; throws one line on a bad width. */
  base(name: string, o: ModelOptions, baseWidth: number): tf.LayersModel;
}

/** One architecture family and its registered models. */
export interface ModelFamily {
  /** The family (one file under `models/`): `mlp`, `resnet`, `vit`, ... */
  family: string;
  /** One line for help and docs. */
  description: string;
  /** What its models read: images (the default), or text (language models, `--data text`). */
  task?: 'image' | 'language';
  /** Its `--model` names (its presets) and their builders. */
  models: Readonly<Record<string, ModelBuilder>>;
  /** The {@link ModelOptions} knobs it reads besides the data's shape, classes and the seed. */
  options?: readonly (keyof ModelOptions)[];
  /** Its PyTorch (torchvision / timm) state_dict naming; absent: no interop. */
  torch?: TorchNaming;
  /** Its muP width family; absent: `mup-*` optimizers refuse it. */
  mup?: MupWidthFamily;
  /**
   * Parameter names never weight-decayed under `--wd-exclude`, besides biases, norm scales/shifts and
   * embeddings (timm's `no_weight_decay()`).
   */
  noWeightDecay?: readonly string[];
}

/** A registered model: its name and its family's declarations. */
export interface ModelInfo {
  name: string;
  build: ModelBuilder;
  family: ModelFamily;
}

/** The knobs {@link imageOptions} passes on. */
const PASSED = ['seed', 'dropRate', 'attnDropRate', 'dropPathRate', 'widthMultiplier', 'outputScale'] as const;

const models = new Map<string, ModelInfo>();
const families = new Map<string, ModelFamily>();

/**
 * Registers a family and its models (a name registered twice is an error).
 *
 * @example see the module doc.
 */
export function registerModelFamily(family: ModelFamily): void {
  if (families.has(family.family)) throw new Error(`registerModelFamily: family '${family.family}' is already registered`);
  for (const name of Object.keys(family.models)) {
    if (models.has(name)) throw new Error(`registerModelFamily: model '${name}' is already registered (by ${models.get(name)!.family.family})`);
  }
  families.set(family.family, family);
  for (const [name, build] of Object.entries(family.models)) models.set(name, { name, build, family });
}

/**
 * Adds one model to a registered family, or alone (a family of its own named after it).
 *
 * @example
 * ```ts
 * registerModel('mlp-wide', (o) => mlp({ ...o, width: 4096 }), 'mlp');
 * ```
 */
export function registerModel(name: string, builder: ModelBuilder, family?: string): void {
  if (models.has(name)) throw new Error(`registerModel: model '${name}' is already registered`);
  if (family === undefined) {
    registerModelFamily({ family: name, description: name, models: { [name]: builder } });
    return;
  }
  const f = families.get(family);
  if (!f) throw new Error(`registerModel: unknown family '${family}'`);
  models.set(name, { name, build: builder, family: f });
}

/** Every registered `--model` name, in registration order. */
export function modelNames(): string[] {
  return [...models.keys()];
}

/** Every registered family. */
export function modelFamilies(): ModelFamily[] {
  return [...families.values()];
}

/**
 * The registered model `name` (throws one line listing the known names when absent).
 *
 * @example
 * ```ts
 * modelInfo('vit-tiny').family.mup?.width; // 'the embedding dim'
 * ```
 */
export function modelInfo(name: string): ModelInfo {
  const m = models.get(name);
  if (!m) throw new Error(`unknown model '${name}' (expected one of: ${modelNames().join(', ')})`);
  return m;
}

/**
 * True for the language models (their family's `task` is `language`): they train on `--data text`. False for an
 * unknown name.
 *
 * @example
 * ```ts
 * isLanguageModel('gpt-tiny'); // true
 * ```
 */
export function isLanguageModel(name: string): boolean {
  return models.get(name)?.family.task === 'language';
}

/**
 * Builds the registered model `name`.
 *
 * @example
 * ```ts
 * buildModel('resnet18-cifar', { inputShape: [32, 32, 3], numClasses: 10 });
 * ```
 */
export function buildModel(name: string, o: ModelOptions): tf.LayersModel {
  return modelInfo(name).build(o);
}

/**
 * `{ inputShape: [H, W, C], numClasses }` (the registry's options) -> the image models' options; the zoo knobs
 * (seed, dropout, drop path, width multiplier, output scale) are passed on when present. The MLP's `width` /
 * `depth` are not image-model knobs and are left out.
 *
 * @example
 * ```ts
 * imageOptions({ inputShape: [32, 32, 3], numClasses: 10, dropRate: 0.1 }); // { numClasses: 10, imageSize: [32, 32], channels: 3, dropRate: 0.1 }
 * ```
 */
export function imageOptions<T extends { inputShape: readonly number[]; numClasses: number } & Partial<Record<(typeof PASSED)[number], number>>>(o: T): ImageModelOptions & Partial<Record<(typeof PASSED)[number], number>> {
  if (o.inputShape.length !== 3) throw new Error(`image models need inputShape [height, width, channels], got [${o.inputShape.join(',')}]`);
  const [h, w, c] = o.inputShape as [number, number, number];
  const out: ImageModelOptions & Partial<Record<(typeof PASSED)[number], number>> = { numClasses: o.numClasses, imageSize: [h, w], channels: c };
  for (const k of PASSED) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
