/**
 * Layer scale (CaiT / ConvNeXt): y = x * gamma, gamma of shape [C] (last axis) initialized to a small
 * constant (ConvNeXt: 1e-6). Weight `gamma`, so `collectParams` names it `<layer>.gamma` and, the layer
 * class not being a norm, tells its kind from the short name: `scale` (as a norm gamma).
 */
import * as tf from '@tensorflow/tfjs';
import type { LayerArgs } from './common.js';

export interface LayerScaleArgs extends LayerArgs {
  /** Initial value of every entry of gamma. */
  initValue: number;
}

export class LayerScale extends tf.layers.Layer {
  static className = 'LwlrLayerScale';
  readonly initValue: number;
  private gamma: tf.LayerVariable | null = null;

  constructor(args: LayerScaleArgs) {
    super(args);
    this.initValue = args.initValue;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const c = shape[shape.length - 1];
    if (c == null) throw new Error(`LayerScale '${this.name}': the last axis must be known`);
    this.gamma = this.addWeight('gamma', [c], 'float32', tf.initializers.constant({ value: this.initValue }));
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.mul(Array.isArray(inputs) ? inputs[0]! : inputs, this.gamma!.read()));
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), initValue: this.initValue };
  }
}
tf.serialization.registerClass(LayerScale);
