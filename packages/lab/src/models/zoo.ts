/**
 * The zoo's image models (DavidNet, ViT, ConvNeXt and Swin with their presets) as builders from
 * {@link ZooOptions}. Kept for callers of the 0.1 API: the registry (`registry.ts`, `model-registry.ts`) is
 * where models live now; {@link zooOptions} is `imageOptions`.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ImageModelOptions } from './layers/common.js';
import { imageHW } from './layers/common.js';
import { imageOptions, modelInfo } from './registry.js';

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

const ZOO = ['davidnet', 'vit-s16', 'vit-tiny', 'vit-cpu', 'convnext-t', 'convnext-cpu', 'swin-t', 'swin-cpu'];

/** The registered zoo models as {@link ZooOptions} builders. */
export const zooModels: Record<string, ZooBuilder> = Object.fromEntries(ZOO.map((name) => [name, (o: ZooOptions) => {
  const [h, w] = imageHW(o);
  const { imageSize: _s, channels, numClasses, ...knobs } = o;
  return modelInfo(name).build({ ...knobs, inputShape: [h, w, channels], numClasses });
}]));

/** @deprecated `imageOptions` of the registry: `{ inputShape: [H, W, C], numClasses }` -> {@link ZooOptions}. */
export const zooOptions = imageOptions;
