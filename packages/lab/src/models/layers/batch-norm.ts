/**
 * tfjs-layers' BatchNormalization, with its training-mode forward through the backend's `batchNormTrain` op: one
 * fused kernel whose gradient saves x and runs two passes on `onednn` (tf.moments + tf.batchNorm, tfjs-layers'
 * own computation, elsewhere). Same class name, config, weights and moving-average update as tfjs-layers'
 * layer, so models save, load and convert as before (a loaded model gets tfjs-layers' class back, same values).
 * Inference, and a normalization axis other than the last, use tfjs-layers' own `call`.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormTrain, type BatchNormTrainOptions } from 'tfjs-backend-onednn';

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
    return this.normalize(Array.isArray(inputs) ? inputs[0]! : inputs, kwargs, {});
  }

  /** BatchNorm of x, then `+ residual` and ReLU as `options` says (fused in training on `onednn`). */
  protected normalize(x: tf.Tensor, kwargs: { training?: boolean }, options: BatchNormTrainOptions): tf.Tensor {
    const self = this as unknown as BatchNormFields;
    const axis = self.axis >= 0 ? self.axis : self.axis + x.rank;
    if (kwargs?.training !== true || axis !== x.rank - 1 || x.rank < 2) {
      return tf.tidy(() => {
        let y = super.call(x, kwargs) as tf.Tensor;
        if (options.residual) y = tf.add(y, options.residual);
        return options.relu ? tf.relu(y) : y;
      });
    }
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormTrain(x, self.gamma.read(), self.beta.read(), self.epsilon, options);
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

/** Arguments of {@link BatchNormAct}: tfjs-layers' BatchNormalization arguments and `relu`. */
export type BatchNormActArgs = Parameters<typeof tf.layers.batchNormalization>[0] & {
  /** ReLU after the normalization (and after the residual, when the layer gets one). */
  relu?: boolean;
};

/**
 * BatchNorm followed by an optional residual add and ReLU, in one layer: `apply(x)` gives `relu(bn(x))`,
 * `apply([x, shortcut])` gives `relu(bn(x) + shortcut)` (`relu: true`), as a ResNet block's
 * `bn -> relu` and `bn -> add -> relu`. In training on `onednn` this is one fused kernel (one pass over the
 * activations instead of two or three, and no separate gradient passes for the add and the ReLU). Weights and
 * their names are a BatchNormalization layer's (`gamma`, `beta`, `moving_mean`, `moving_variance`), so tables,
 * checkpoints and PyTorch conversion are unchanged. Serialized as `LwlrBatchNormAct` (load with lwlr-lab
 * imported).
 *
 * @example
 * const y = new BatchNormAct({ axis: -1, momentum: 0.9, epsilon: 1e-5, relu: true, name: 'layer1.0.bn3' })
 *   .apply([conv3Out, shortcut]) as tf.SymbolicTensor;
 */
export class BatchNormAct extends BatchNorm {
  static className = 'LwlrBatchNormAct';
  readonly relu: boolean;

  constructor(args: BatchNormActArgs) {
    const { relu, ...bnArgs } = args;
    super(bnArgs);
    this.relu = relu ?? false;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as tf.Shape[];
    if (shapes.length > 2) throw new Error(`${this.name}: expects x or [x, residual], got ${shapes.length} inputs`);
    if (shapes.length === 2 && shapes[0]!.some((d, i) => d !== shapes[1]![i])) {
      throw new Error(`${this.name}: the residual's shape [${shapes[1]}] differs from x's [${shapes[0]}]`);
    }
    super.build(shapes[0]!);
    // the residual gets x's input spec
    this.inputSpec = shapes.map(() => this.inputSpec[0]!);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const [x, residual] = Array.isArray(inputs) ? inputs : [inputs];
    return this.normalize(x!, kwargs, { relu: this.relu, ...(residual ? { residual } : {}) });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), relu: this.relu };
  }
}
// (the base class is typed from an instance, so its static fromConfig is not visible to the compiler)
tf.serialization.registerClass(BatchNormAct as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
