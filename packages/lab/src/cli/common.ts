/** Flags and helpers shared by the commands. */
import { UsageError, type FlagSpecs, type ParsedFlags } from './args.js';
import { parseRandAugment } from '../data/augment/randaugment.js';
import type { SetupOptions } from '../train/setup.js';
import { DATASETS } from '../data/registry.js';
import { AUGMENT_LEVELS, type AugmentLevel } from '../data/augment/policy.js';
import { isLanguageModel, modelNames } from '../models/registry.js';
import { TOKENIZERS } from '../data/tokenizers.js';

export const COMMON_FLAGS: FlagSpecs = {
  model: { type: 'string', default: 'mlp', help: `model: ${modelNames().join(', ')}` },
  data: { type: 'string', default: 'fashion-mnist', help: `dataset: ${DATASETS.join(', ')}` },
  'data-dir': { type: 'string', help: 'directory of the dataset files' },
  limit: { type: 'int', help: 'use only the first N examples of each split' },
  width: { type: 'int', default: 1024, help: 'MLP hidden width' },
  depth: { type: 'int', default: 2, help: 'MLP number of linear layers' },
  'width-mult': { type: 'number', help: 'width multiplier of DavidNet (default 1)' },
  'image-size': { type: 'int', help: "resize the data to N x N (the model's input size; folder: default 224)" },
  channels: { type: 'int', help: 'replicate 1-channel data to 3 channels (--channels 3)' },
  'num-classes': { type: 'int', help: "the model's number of outputs (default: the dataset's classes)" },
  drop: { type: 'number', help: 'dropout rate (ViT, Swin)' },
  'attn-drop': { type: 'number', help: 'attention dropout rate (ViT, Swin)' },
  'drop-path': { type: 'number', help: 'stochastic depth rate of the last block (ViT, ConvNeXt, Swin)' },
  'output-scale': { type: 'number', help: 'logit multiplier (DavidNet, default 0.125)' },
  augment: { type: 'string', default: 'none', choices: AUGMENT_LEVELS, help: 'training augmentation: basic = crop (pad 4, or random-resized for folders) + flip; strong = basic + RandAugment 2,10 + Mixup 0.5' },
  mixup: { type: 'number', help: 'Mixup alpha (overrides --augment; 0 = off)' },
  randaugment: { type: 'string', help: 'RandAugment N,M (overrides --augment; torchvision ops, M of 0..30)' },
  'val-split': { type: 'number', help: 'hold out a fraction (0..1) or a count of the training split for validation' },
  'data-file': { type: 'string', help: '--data text: a UTF-8 file or a folder of them (default: the Brown corpus; every 10th document validates)' },
  tokenizer: { type: 'string', default: 'bytes', choices: TOKENIZERS, help: '--data text: bytes (vocabulary 256) or gpt2 (BPE, 50257)' },
  context: { type: 'int', help: "--data text: tokens per training window (default: the model's context)" },
  'untie-head': { type: 'boolean', default: false, help: 'language models: an LM head of its own instead of the tied token embedding' },
  'batch-size': { type: 'int', default: 256, help: 'minibatch size' },
  seed: { type: 'int', default: 0, help: 'seed of the init, shuffling and measurement' },
  init: { type: 'string', default: 'fan-out', choices: ['fan-out', 'fan-in', 'none'], help: 'measurement init' },
  exponent: { type: 'number', default: 0.5, help: 'eta = G^-exponent' },
  'grad-norm': {
    type: 'string', default: 'l1', choices: ['l1', 'l2'],
    help: 'G of a tensor per minibatch, summed over the T minibatches: l1 = mean |g| (the paper), l2 = root mean square of g',
  },
  backend: { type: 'string', default: 'auto', choices: ['auto', 'tensorflow', 'onednn', 'cpu'], help: 'tfjs backend' },
  help: { type: 'boolean', help: 'show this help' },
};

/**
 * The measurement flags that make sense for `scheme`: frozen-adagrad is per element, 1/sqrt(sum g^2), so it
 * takes neither --exponent nor --grad-norm (a usage error, not a silent no-op).
 */
export function checkMeasurementFlags(scheme: string, f: ParsedFlags): void {
  if (scheme !== 'frozen-adagrad') return;
  if (f.exponent !== undefined && f.exponent !== 0.5) throw new UsageError(`--exponent is for --lr-scheme layerwise; frozen-adagrad is per element 1/sqrt(sum g^2) (got --exponent ${f.exponent})`);
  if (f.gradNorm !== undefined && f.gradNorm !== 'l1') throw new UsageError(`--grad-norm is for --lr-scheme layerwise; frozen-adagrad sums g^2 per element (got --grad-norm ${f.gradNorm})`);
}

/** h:mm:ss */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * The data and model part of a run ({@link SetupOptions}) from the parsed {@link COMMON_FLAGS}; the commands
 * add what is theirs (`shuffle`, `dropLast`).
 */
export function setupOptionsFromFlags(f: ParsedFlags): SetupOptions {
  // flag-level checks as usage errors (exit 2); the data-dependent ones come from setupRun
  if (f.randaugment !== undefined) {
    try {
      parseRandAugment(f.randaugment as string);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  if (f.mixup !== undefined && !((f.mixup as number) >= 0)) throw new UsageError(`--mixup must be an alpha >= 0 (got ${f.mixup})`);
  if (f.channels !== undefined && ![1, 3].includes(f.channels as number)) throw new UsageError(`--channels must be 1 or 3 (got ${f.channels})`);
  if (f.imageSize !== undefined && !((f.imageSize as number) >= 1)) throw new UsageError(`--image-size must be a positive integer (got ${f.imageSize})`);
  checkTextFlags(f);
  const vs = f.valSplit as number | undefined;
  if (vs !== undefined && !((vs > 0 && vs < 1) || (Number.isInteger(vs) && vs >= 1))) {
    throw new UsageError(`--val-split must be a fraction in (0, 1) or a whole count >= 1 (got ${vs})`);
  }
  return {
    model: f.model as string, data: f.data as string, dataDir: f.dataDir as string | undefined, limit: f.limit as number | undefined,
    width: f.width as number, depth: f.depth as number, widthMultiplier: f.widthMult as number | undefined, batchSize: f.batchSize as number, seed: f.seed as number,
    imageSize: f.imageSize as number | undefined, channels: f.channels as number | undefined, numClasses: f.numClasses as number | undefined,
    dropRate: f.drop as number | undefined, attnDropRate: f.attnDrop as number | undefined, dropPathRate: f.dropPath as number | undefined,
    outputScale: f.outputScale as number | undefined,
    augment: (f.augment as AugmentLevel | undefined) ?? 'none', mixup: f.mixup as number | undefined, randAugment: f.randaugment as string | undefined,
    valSplit: f.valSplit as number | undefined,
    dataFile: f.dataFile as string | undefined, tokenizer: f.tokenizer as string | undefined, context: f.context as number | undefined,
    untieHead: f.untieHead as boolean | undefined,
  };
}

/** Image-only flags with `--data text`, text-only ones without it, and a model that does not fit the data: usage errors. */
function checkTextFlags(f: ParsedFlags): void {
  const text = f.data === 'text';
  const lm = isLanguageModel(f.model as string);
  if (text && !lm) throw new UsageError(`--data text trains language models (${modelNames().filter(isLanguageModel).join(', ')}), not --model ${f.model}`);
  if (!text && lm) throw new UsageError(`--model ${f.model} is a language model: use --data text (with --data-file PATH, or the Brown corpus)`);
  const given = (k: string) => f[k] !== undefined && f[k] !== false && !(k === 'augment' && f[k] === 'none') && !(k === 'tokenizer' && f[k] === 'bytes');
  const dashed = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  if (text) {
    for (const k of ['dataDir', 'augment', 'mixup', 'randaugment', 'valSplit', 'imageSize', 'channels', 'numClasses']) {
      if (given(k)) throw new UsageError(`--${dashed(k)} is for image data; --data text takes --data-file, --tokenizer, --context`);
    }
    if (f.context !== undefined && !((f.context as number) >= 1)) throw new UsageError(`--context must be a positive integer (got ${f.context})`);
  } else {
    for (const k of ['dataFile', 'tokenizer', 'context', 'untieHead']) {
      if (given(k)) throw new UsageError(`--${dashed(k)} is for --data text (language models)`);
    }
  }
}
