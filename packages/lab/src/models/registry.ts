/** Models by name, as the CLI's `--model` flag takes them. Each builder gets the data's shape and classes. */
import type * as tf from '@tensorflow/tfjs';
import { mlp } from './mlp.js';
import { resnet18, resnet20, resnet50 } from './resnet.js';
import { zooModels, zooOptions } from './zoo.js';
import { GPT_PRESETS, gptPreset, type GptPreset } from './gpt.js';

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

const builders: Record<string, ModelBuilder> = {
  mlp: (o) => mlp({ inputShape: o.inputShape, numClasses: o.numClasses, width: o.width, depth: o.depth, seed: o.seed }),
  resnet18: (o) => resnet18({ inputShape: o.inputShape, numClasses: o.numClasses, seed: o.seed }),
  resnet50: (o) => resnet50({ inputShape: o.inputShape, numClasses: o.numClasses, seed: o.seed }),
  'resnet18-cifar': (o) => resnet18({ inputShape: o.inputShape, numClasses: o.numClasses, cifar: true, seed: o.seed }),
  'resnet50-cifar': (o) => resnet50({ inputShape: o.inputShape, numClasses: o.numClasses, cifar: true, seed: o.seed }),
  resnet20: (o) => resnet20({ inputShape: o.inputShape, numClasses: o.numClasses, seed: o.seed }),
  davidnet: (o) => zooModels['davidnet']!(zooOptions(o)),
  'vit-s16': (o) => zooModels['vit-s16']!(zooOptions(o)),
  'vit-tiny': (o) => zooModels['vit-tiny']!(zooOptions(o)),
  'vit-cpu': (o) => zooModels['vit-cpu']!(zooOptions(o)),
  'convnext-t': (o) => zooModels['convnext-t']!(zooOptions(o)),
  'convnext-cpu': (o) => zooModels['convnext-cpu']!(zooOptions(o)),
  'swin-t': (o) => zooModels['swin-t']!(zooOptions(o)),
  'swin-cpu': (o) => zooModels['swin-cpu']!(zooOptions(o)),
  ...Object.fromEntries(Object.keys(GPT_PRESETS).map((name) => [name, (o: ModelOptions) => gptPreset(name as GptPreset, {
    vocabSize: o.vocabSize, tieHead: !o.untieHead, dropRate: o.dropRate, attnDropRate: o.attnDropRate, dropPathRate: o.dropPathRate, seed: o.seed,
  })])),
};

/** True for the language models (GPT presets): they train on `--data text`. */
export function isLanguageModel(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(GPT_PRESETS, name);
}

/** Adds a model to the registry (the zoo registers its families here). */
export function registerModel(name: string, builder: ModelBuilder): void {
  builders[name] = builder;
}

export function modelNames(): string[] {
  return Object.keys(builders);
}

export function buildModel(name: string, o: ModelOptions): tf.LayersModel {
  const b = builders[name];
  if (!b) throw new Error(`unknown model '${name}' (expected one of: ${modelNames().join(', ')})`);
  return b(o);
}
