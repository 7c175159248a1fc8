/**
 * GELU, exact: x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2))), as `torch.nn.GELU()` (approximate='none'),
 * which timm's ViT, ConvNeXt and Swin use. The same formula as tfjs-layers' activation `'gelu'`, through the
 * backend's `gelu` op: one fused kernel whose gradient saves only x on `onednn`, the composition elsewhere.
 */
import * as tf from '@tensorflow/tfjs';
import { gelu as geluOp } from 'tfjs-backend-onednn';
import type { LayerArgs } from './common.js';

/** An exact-erf GELU activation layer (weightless). */
export class Gelu extends tf.layers.Layer {
  static className = 'LwlrGelu';

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return geluOp(Array.isArray(inputs) ? inputs[0]! : inputs);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }
}
tf.serialization.registerClass(Gelu);

/** An exact-erf GELU activation layer. */
export function gelu(name: string): tf.layers.Layer {
  return new Gelu({ name });
}
