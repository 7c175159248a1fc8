/**
 * tfjs-layers' BatchNormalization, with its training-mode forward through the backend's `batchNormTrain` op: one
 * fused kernel whose gradient saves x and runs two passes on `onednn` (tf.moments + tf.batchNorm, tfjs-layers'
 * own computation, elsewhere). Same class name, config, weights and moving-average update as tfjs-layers'
 * layer, so models save, load and convert as before (a loaded model gets tfjs-layers' class back, same values).
 * Inference, and a normalization axis other than the last, use tfjs-layers' own `call`.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormTrain } from 'tfjs-backend-onednn';

/** tfjs-layers' BatchNormalization class (not exported by name from @tensorflow/tfjs). */
const BatchNormalizationBase = Object.getPrototypeOf(tf.layers.batchNormalization({})).constructor as {
  new (args: Parameters<typeof tf.layers.batchNormalization>[0]): tf.layers.Layer;
};

/** The fields of tfjs-layers' BatchNormalization this layer reads (public at runtime, private in its typings). */
interface BatchNormFields {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma: tf.LayerVariable;
  beta: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

export class BatchNorm extends BatchNormalizationBase {
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor | tf.Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const self = this as unknown as BatchNormFields;
    const axis = self.axis >= 0 ? self.axis : self.axis + x.rank;
    if (kwargs?.training !== true || axis !== x.rank - 1 || x.rank < 2) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormTrain(x, self.gamma.read(), self.beta.read(), self.epsilon);
      // moving averages exactly as tfjs-layers: v <- v - (v - batch value) * (1 - momentum)
      for (const [v, value] of [[self.movingMean, mean], [self.movingVariance, variance]] as const) {
        tf.tidy(() => {
          const orig = v.read();
          v.write(tf.sub(orig, tf.mul(tf.sub(orig, value), 1 - self.momentum)));
        });
      }
      return y;
    });
  }
}

/** A BatchNormalization layer (tfjs-layers' arguments) with the fused training forward. */
export function batchNorm(args: Parameters<typeof tf.layers.batchNormalization>[0]): tf.layers.Layer {
  return new BatchNorm(args);
}
