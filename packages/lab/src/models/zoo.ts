/**
 * The model zoo's image models by name, each a builder from {@link ZooOptions}: DavidNet, ViT, ConvNeXt and
 * Swin with their presets. (The ResNets live in `resnet.ts` and are registered in `registry.ts` directly.)
 * {@link zooOptions} turns the registry's `ModelOptions` (`inputShape`, `numClasses`) into `ZooOptions`.
 */
import type * as tf from '@tensorflow/tfjs';
import { CONVNEXT_PRESETS, convnext } from './convnext.js';
import { davidnet } from './davidnet.js';
import type { ImageModelOptions } from './layers/common.js';
import { SWIN_PRESETS, swin } from './swin.js';
import { VIT_PRESETS, vit } from './vit.js';

/** What every zoo builder takes; the regularization knobs apply where the model has them. */
export interface ZooOptions extends ImageModelOptions {
  /** Dropout (ViT, Swin). */
  dropRate?: number;
  /** Attention-probability dropout (ViT, Swin). */
  attnDropRate?: number;
  /** Stochastic depth of the last block (ViT, ConvNeXt, Swin). */
  dropPathRate?: number;
  /** Width multiplier (DavidNet). */
  widthMultiplier?: number;
  /** Logit multiplier (DavidNet, 0.125). */
  outputScale?: number;
}

export type ZooBuilder = (o: ZooOptions) => tf.LayersModel;

export const zooModels: Record<string, ZooBuilder> = {
  davidnet: (o) => davidnet(o),
  'vit-s16': (o) => vit({ ...o, ...VIT_PRESETS['vit-s16'] }),
  'vit-tiny': (o) => vit({ ...o, ...VIT_PRESETS['vit-tiny'] }),
  'vit-cpu': (o) => vit({ ...o, ...VIT_PRESETS['vit-cpu'] }),
  'convnext-t': (o) => convnext({ ...o, ...CONVNEXT_PRESETS['convnext-t'] }),
  'convnext-cpu': (o) => convnext({ ...o, ...CONVNEXT_PRESETS['convnext-cpu'] }),
  'swin-t': (o) => swin({ ...o, ...SWIN_PRESETS['swin-t'] }),
  'swin-cpu': (o) => swin({ ...o, ...SWIN_PRESETS['swin-cpu'] }),
};

const PASSED = ['seed', 'dropRate', 'attnDropRate', 'dropPathRate', 'widthMultiplier', 'outputScale'] as const;

/**
 * `{ inputShape: [H, W, C], numClasses }` (the registry's options) -> {@link ZooOptions}; the zoo knobs
 * are passed on when present. The MLP's `width` / `depth` are not zoo knobs and are ignored.
 */
export function zooOptions(o: { inputShape: readonly number[]; numClasses: number } & Partial<Record<(typeof PASSED)[number], number>>): ZooOptions {
  if (o.inputShape.length !== 3) throw new Error(`image models need inputShape [height, width, channels], got [${o.inputShape.join(',')}]`);
  const [h, w, c] = o.inputShape as [number, number, number];
  const out: ZooOptions = { numClasses: o.numClasses, imageSize: [h, w], channels: c };
  for (const k of PASSED) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
