/**
 * Patch layers: the ViT / Swin patch embedding (a p x p convolution with stride p, then tokens) and Swin's
 * patch merging rearrangement.
 */
import * as tf from '@tensorflow/tfjs';
import type { LayerArgs } from './common.js';

/**
 * Swin patch merging, weightless part: [B, H, W, C] -> [B, H/2, W/2, 4C] with the channel blocks in timm's
 * order `cat([x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2]])` (row offset fastest). The
 * model follows it with `downsample.norm` (LayerNorm 4C) and `downsample.reduction` (Linear 4C -> 2C, no bias).
 */
export class PatchMerge extends tf.layers.Layer {
  static className = 'LwlrPatchMerge';

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    if (s.length !== 4 || s[1] == null || s[2] == null || s[1] % 2 !== 0 || s[2] % 2 !== 0) {
      throw new Error(`PatchMerge '${this.name}': input [${s.join(',')}] must be [B, H, W, C] with even H and W`);
    }
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const [b, h, w, c] = x.shape as [number, number, number, number];
      // (b, i, dy, j, dx, c) -> (b, i, j, dx, dy, c): block index dx * 2 + dy, as timm's concat order
      const t = tf.transpose(tf.reshape(x, [b, h / 2, 2, w / 2, 2, c]), [0, 1, 3, 4, 2, 5]);
      return tf.reshape(t, [b, h / 2, w / 2, 4 * c]);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [s[0], s[1] == null ? null : s[1] / 2, s[2] == null ? null : s[2] / 2, s[3] == null ? null : 4 * s[3]];
  }
}
tf.serialization.registerClass(PatchMerge);
