/**
 * Convolution and max-pooling layers with PyTorch's symmetric zero padding (`padding=p` in torch.nn.Conv2d and
 * MaxPool2d) as one op. tfjs-layers knows only 'valid' and 'same', and TF's 'same' pads a strided op
 * bottom/right only, so a torchvision ResNet's strided convolutions were a ZeroPadding2D layer (a padded copy of
 * the activations, and a slice of its gradient in the backward) followed by a 'valid' op. These pass the
 * padding to the tfjs op itself (`pad: number`), which the `onednn` backend hands to oneDNN: no copies.
 * Max pooling ignores the padded positions (PyTorch pads with -inf). Weights, names and initializers are the
 * tfjs-layers Conv2D's; serialized as `LwlrPaddedConv2D` / `LwlrPaddedMaxPool2D` (load with lwlr-lab imported).
 */
import * as tf from '@tensorflow/tfjs';

type Conv2DArgs = Parameters<typeof tf.layers.conv2d>[0];
type MaxPool2DArgs = Parameters<typeof tf.layers.maxPooling2d>[0];

/** tfjs-layers' Conv2D and MaxPooling2D classes (not exported by name from @tensorflow/tfjs). */
const Conv2DBase = Object.getPrototypeOf(tf.layers.conv2d({ filters: 1, kernelSize: 1 })).constructor as {
  new (args: Conv2DArgs): tf.layers.Layer;
};
const MaxPool2DBase = Object.getPrototypeOf(tf.layers.maxPooling2d({ poolSize: 1 })).constructor as {
  new (args: MaxPool2DArgs): tf.layers.Layer;
};

/** The Conv2D fields read here (public at runtime, private in tfjs-layers' typings). */
interface ConvFields {
  kernel: tf.LayerVariable;
  bias: tf.LayerVariable | null;
  useBias: boolean;
  strides: [number, number];
  dilationRate: [number, number];
  dataFormat: string;
  activation: { apply(x: tf.Tensor): tf.Tensor; getClassName(): string } | null;
}

interface PoolFields {
  poolSize: [number, number];
  strides: [number, number];
  dataFormat: string;
}

function single(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor4D {
  return (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
}

function checkPad(pad: number, name: string): void {
  if (!Number.isInteger(pad) || pad < 0) throw new Error(`${name}: pad must be an integer >= 0, got ${pad}`);
}

/** [N, H, W, C] with H and W grown by 2 * pad (what a 'valid' op sees after the padding). */
function paddedShape(inputShape: tf.Shape | tf.Shape[], pad: number): tf.Shape {
  const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  return [s[0]!, s[1] == null ? null : s[1] + 2 * pad, s[2] == null ? null : s[2] + 2 * pad, s[3]!];
}

/**
 * A channels-last Conv2D padded by `pad` zeros on every side of H and W, as `torch.nn.Conv2d(..., padding=pad)`.
 *
 * @example
 * // torchvision's strided 3x3 conv: Conv2d(64, 128, 3, stride=2, padding=1, bias=False)
 * const y = new PaddedConv2D({ filters: 128, kernelSize: 3, strides: 2, pad: 1, useBias: false, name: 'layer2.0.conv2' })
 *   .apply(x) as tf.SymbolicTensor;
 */
export class PaddedConv2D extends Conv2DBase {
  static className = 'LwlrPaddedConv2D';
  readonly pad: number;

  constructor(args: Omit<Conv2DArgs, 'padding'> & { pad: number }) {
    const { pad, ...convArgs } = args;
    super({ ...convArgs, padding: 'valid' });
    checkPad(pad, this.name);
    if ((this as unknown as ConvFields).dataFormat !== 'channelsLast') throw new Error(`${this.name}: only channelsLast`);
    this.pad = pad;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return super.computeOutputShape(paddedShape(inputShape, this.pad));
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const self = this as unknown as ConvFields;
    return tf.tidy(() => {
      const y = tf.fused.conv2d({
        x: single(inputs), filter: self.kernel.read() as tf.Tensor4D, strides: self.strides, pad: this.pad,
        dilations: self.dilationRate, bias: self.useBias && self.bias ? self.bias.read() : undefined,
      });
      return self.activation && self.activation.getClassName() !== 'linear' ? self.activation.apply(y) : y;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const { padding: _unused, ...config } = super.getConfig();
    return { ...config, pad: this.pad };
  }
}

/**
 * A channels-last MaxPooling2D over windows that may reach `pad` positions past each side of H and W, which never
 * win (as `torch.nn.MaxPool2d(..., padding=pad)`).
 *
 * @example
 * // torchvision ResNet's stem pooling: MaxPool2d(3, stride=2, padding=1)
 * const y = new PaddedMaxPool2D({ poolSize: 3, strides: 2, pad: 1, name: 'maxpool' }).apply(x) as tf.SymbolicTensor;
 */
export class PaddedMaxPool2D extends MaxPool2DBase {
  static className = 'LwlrPaddedMaxPool2D';
  readonly pad: number;

  constructor(args: Omit<MaxPool2DArgs, 'padding'> & { pad: number }) {
    const { pad, ...poolArgs } = args;
    super({ ...poolArgs, padding: 'valid' });
    checkPad(pad, this.name);
    const self = this as unknown as PoolFields;
    if (self.dataFormat !== 'channelsLast') throw new Error(`${this.name}: only channelsLast`);
    if (2 * pad > Math.min(...self.poolSize)) throw new Error(`${this.name}: pad ${pad} is more than half the pool size`);
    this.pad = pad;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return super.computeOutputShape(paddedShape(inputShape, this.pad));
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const self = this as unknown as PoolFields;
    return tf.tidy(() => tf.maxPool(single(inputs), self.poolSize, self.strides, this.pad));
  }

  override getConfig(): tf.serialization.ConfigDict {
    const { padding: _unused, ...config } = super.getConfig();
    return { ...config, pad: this.pad };
  }
}

// (the base classes are typed from instances, so their static fromConfig is not visible to the compiler)
tf.serialization.registerClass(PaddedConv2D as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
tf.serialization.registerClass(PaddedMaxPool2D as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
