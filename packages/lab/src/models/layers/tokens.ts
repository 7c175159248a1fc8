/**
 * The ViT token layers: a learned class token prepended to the patch tokens, and a learned position
 * embedding added to every token, as timm's `VisionTransformer` (`cls_token` [1, 1, C] ~ N(0, 1e-6^2),
 * `pos_embed` [1, N(+1), C] ~ trunc_normal(std .02)). Also {@link TokenPool}, the head's pooling
 * (class token or mean of the tokens).
 *
 * Weight names: the class token layer holds `cls_token`, the position layer `pos_embed`; with layers named
 * `cls_token` and `pos_embed`, `collectParams` reports `cls_token.cls_token` and `pos_embed.pos_embed`
 * (it always writes `<layer>.<weight>`), kind `embedding` by its name pattern.
 */
import * as tf from '@tensorflow/tfjs';
import { type Initializer, type LayerArgs } from './common.js';

function oneShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
  return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
}

function oneTensor(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0]! : inputs;
}

export interface TokenArgs extends LayerArgs {
  /** Init of the weight (by default: class token N(0, 1e-6^2), position embedding N(0, .02^2)). */
  initializer?: Initializer;
}

/** Prepends a learned token: [B, N, C] -> [B, N + 1, C]. Weight `cls_token` [1, 1, C]. */
export class ClassToken extends tf.layers.Layer {
  static className = 'LwlrClassToken';
  private token: tf.LayerVariable | null = null;
  private readonly init: Initializer;

  constructor(args: TokenArgs = {}) {
    super(args);
    this.init = args.initializer ?? tf.initializers.randomNormal({ mean: 0, stddev: 1e-6 });
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const s = oneShape(inputShape);
    if (s.length !== 3 || s[2] == null) throw new Error(`ClassToken '${this.name}': expects [batch, tokens, channels], got [${s.join(',')}]`);
    this.token = this.addWeight('cls_token', [1, 1, s[2]], 'float32', this.init);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = oneTensor(inputs);
      const t = tf.tile(this.token!.read(), [x.shape[0]!, 1, 1]);
      return tf.concat([t, x], 1);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = oneShape(inputShape);
    return [s[0], s[1] == null ? null : s[1] + 1, s[2]];
  }
}
tf.serialization.registerClass(ClassToken);

/** Adds a learned position embedding: [B, N, C] + pos_embed [1, N, C]. */
export class PositionEmbedding extends tf.layers.Layer {
  static className = 'LwlrPositionEmbedding';
  private pos: tf.LayerVariable | null = null;
  private readonly init: Initializer;

  constructor(args: TokenArgs = {}) {
    super(args);
    this.init = args.initializer ?? tf.initializers.randomNormal({ mean: 0, stddev: 0.02 });
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const s = oneShape(inputShape);
    if (s.length !== 3 || s[1] == null || s[2] == null) {
      throw new Error(`PositionEmbedding '${this.name}': expects [batch, tokens, channels] with known tokens, got [${s.join(',')}]`);
    }
    this.pos = this.addWeight('pos_embed', [1, s[1], s[2]], 'float32', this.init);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.add(oneTensor(inputs), this.pos!.read()));
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return oneShape(inputShape);
  }
}
tf.serialization.registerClass(PositionEmbedding);

export interface TokenPoolArgs extends LayerArgs {
  /** `token`: the first (class) token; `avg`: the mean over tokens. */
  mode: 'token' | 'avg';
}

/** [B, N, C] -> [B, C]: the class token, or the mean of the tokens. */
export class TokenPool extends tf.layers.Layer {
  static className = 'LwlrTokenPool';
  readonly mode: 'token' | 'avg';

  constructor(args: TokenPoolArgs) {
    super(args);
    if (args.mode !== 'token' && args.mode !== 'avg') throw new Error(`TokenPool mode must be 'token' or 'avg', got '${String(args.mode)}'`);
    this.mode = args.mode;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = oneTensor(inputs);
      if (this.mode === 'avg') return tf.mean(x, 1);
      const [b, , c] = x.shape;
      return tf.reshape(tf.slice(x, [0, 0, 0], [b!, 1, c!]), [b!, c!]);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = oneShape(inputShape);
    return [s[0], s[2]];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), mode: this.mode };
  }
}
tf.serialization.registerClass(TokenPool);
