/**
 * LayerNorm over the last axis, as `torch.nn.LayerNorm(C, eps)` (timm's `LayerNorm2d` is the same over the
 * channel axis of an NHWC tensor): y = (x - mean) / sqrt(var + eps) * gamma + beta, with the biased variance.
 *
 * tfjs-layers has a `layerNormalization`, but it tiles the statistics, gamma and beta to the full input shape
 * before a batch-norm kernel; this one runs the backend's `layerNorm` op: one fused kernel whose gradient saves
 * only x and two floats per row on `onednn`, the broadcasting composition elsewhere. Weights `gamma` (init 1) and `beta` (init 0), so
 * `collectParams` names them `<layer>.gamma` / `<layer>.beta` with kinds `scale` / `shift`.
 */
import * as tf from '@tensorflow/tfjs';
import { layerNorm as layerNormOp } from 'tfjs-backend-onednn';
import type { LayerArgs } from './common.js';

export interface LayerNormArgs extends LayerArgs {
  /** Added to the variance (PyTorch default 1e-5; timm ViT and ConvNeXt use 1e-6). */
  epsilon?: number;
}

export class LayerNorm extends tf.layers.Layer {
  static className = 'LwlrLayerNorm';
  readonly epsilon: number;
  private gamma: tf.LayerVariable | null = null;
  private beta: tf.LayerVariable | null = null;

  constructor(args: LayerNormArgs = {}) {
    super(args);
    this.epsilon = args.epsilon ?? 1e-5;
    if (!(this.epsilon > 0)) throw new Error(`LayerNorm epsilon must be > 0, got ${this.epsilon}`);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const c = shape[shape.length - 1];
    if (c == null) throw new Error(`LayerNorm '${this.name}': the last axis must be known`);
    this.gamma = this.addWeight('gamma', [c], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', [c], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return layerNormOp(x, this.gamma!.read(), this.beta!.read(), this.epsilon);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}
tf.serialization.registerClass(LayerNorm);

/** A {@link LayerNorm} layer. */
export function layerNorm(name: string, epsilon: number): LayerNorm {
  return new LayerNorm({ name, epsilon });
}
