/**
 * GELU, exact: x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2))), as `torch.nn.GELU()` (approximate='none'),
 * which timm's ViT, ConvNeXt and Swin use. tfjs-layers' activation `'gelu'` computes exactly this with
 * `tf.erf` (its `'gelu_new'` is the tanh approximation, not used here).
 */
import * as tf from '@tensorflow/tfjs';

/** An exact-erf GELU activation layer. */
export function gelu(name: string): tf.layers.Layer {
  return tf.layers.activation({ activation: 'gelu', name });
}
