/**
 * The token embedding of a language model, usable as its tied output head, and a learned position embedding
 * over a context of up to N tokens.
 *
 * {@link TokenEmbedding} holds one weight `kernel` of shape [dim, vocab]: the layout of a Dense kernel
 * [in, out] of the head dim -> vocab. Applied to integer ids [B, T] it looks rows up (a gather on its vocab
 * axis): [B, T, dim]; applied to hidden states [B, T, dim] it is the head: logits = h . kernel, [B, T, vocab].
 * The same layer applied at both ends of a model is weight tying (GPT-2's `lm_head.weight is wte.weight`):
 * one tensor, one gradient (the sum of both uses, which autodiff gives), one eta.
 *
 * Why [dim, vocab] and not the lookup table's [vocab, dim]: it is the tensor PyTorch calls `wte.weight`
 * ([vocab, dim]) transposed, exactly as every Dense kernel here is its torch `Linear.weight` transposed, so
 * `collectParams` gives it the kind `kernel` and PyTorch's fans for that weight (fanIn = dim, fanOut = vocab;
 * torch computes the same for `nn.Embedding.weight` and for the tied `lm_head`), and the measurement init
 * treats it as the linear map it is. (A zero init, as for position embeddings, would make a tied model's
 * logits and every gradient zero.) Conversion to torch is the plain dense transpose.
 */
import * as tf from '@tensorflow/tfjs';
import { checkInt, type Initializer, type LayerArgs } from './common.js';

export interface TokenEmbeddingArgs extends LayerArgs {
  vocabSize: number;
  dim: number;
  /** Init of the kernel (default N(0, 0.02^2), GPT-2's). */
  initializer?: Initializer;
}

/** Token lookup ([B, T] int32 -> [B, T, dim]) and tied head ([B, T, dim] -> [B, T, vocab]); weight `kernel` [dim, vocab]. */
export class TokenEmbedding extends tf.layers.Layer {
  static className = 'LwlrTokenEmbedding';
  readonly vocabSize: number;
  readonly dim: number;
  private kernel: tf.LayerVariable | null = null;
  private readonly init: Initializer;

  constructor(args: TokenEmbeddingArgs) {
    super(args);
    checkInt(args.vocabSize, 'TokenEmbedding: vocabSize');
    checkInt(args.dim, 'TokenEmbedding: dim');
    this.vocabSize = args.vocabSize;
    this.dim = args.dim;
    this.init = args.initializer ?? tf.initializers.randomNormal({ mean: 0, stddev: 0.02 });
  }

  override build(): void {
    this.kernel = this.addWeight('kernel', [this.dim, this.vocabSize], 'float32', this.init);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const w = this.kernel!.read();
      if (x.rank === 2) {
        // ids [B, T] -> gather on the vocab axis [dim, B, T] -> [B, T, dim]
        return tf.transpose(tf.gather(w, tf.cast(x, 'int32'), 1), [1, 2, 0]);
      }
      if (x.rank === 3 && x.shape[2] === this.dim) {
        const [b, t] = x.shape as [number, number, number];
        return tf.reshape(tf.matMul(tf.reshape(x, [b * t, this.dim]), w), [b, t, this.vocabSize]);
      }
      throw new Error(`TokenEmbedding '${this.name}': expects ids [batch, tokens] or hidden states [batch, tokens, ${this.dim}], got [${x.shape}]`);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return s.length === 2 ? [s[0], s[1], this.dim] : [s[0], s[1], this.vocabSize];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), vocabSize: this.vocabSize, dim: this.dim };
  }
}
tf.serialization.registerClass(TokenEmbedding);

export interface PositionTableArgs extends LayerArgs {
  /** The longest sequence (GPT-2: 1024). */
  contextLength: number;
  /** Init (default N(0, 0.02^2), GPT-2's). */
  initializer?: Initializer;
}

/**
 * Adds a learned position embedding to [B, T, C] for any T up to `contextLength`: rows 0..T-1 of the
 * weight `pos_embed` [contextLength, C] (GPT-2's `wpe`). The layer is named `pos_embed`, so the parameter is
 * `pos_embed`, kind `embedding` (zero in the measurement init, as the paper treats position embeddings).
 */
export class PositionTable extends tf.layers.Layer {
  static className = 'LwlrPositionTable';
  readonly contextLength: number;
  private table: tf.LayerVariable | null = null;
  private readonly init: Initializer;

  constructor(args: PositionTableArgs) {
    super(args);
    checkInt(args.contextLength, 'PositionTable: contextLength');
    this.contextLength = args.contextLength;
    this.init = args.initializer ?? tf.initializers.randomNormal({ mean: 0, stddev: 0.02 });
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const c = s[s.length - 1];
    if (s.length !== 3 || c == null) throw new Error(`PositionTable '${this.name}': expects [batch, tokens, channels], got [${s.join(',')}]`);
    this.table = this.addWeight('pos_embed', [this.contextLength, c], 'float32', this.init);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const t = x.shape[1]!;
      if (t > this.contextLength) throw new Error(`a sequence of ${t} tokens is longer than the model's context of ${this.contextLength}`);
      const w = this.table!.read();
      return tf.add(x, t === this.contextLength ? w : tf.slice(w, [0, 0], [t, w.shape[1]!]));
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), contextLength: this.contextLength };
  }
}
tf.serialization.registerClass(PositionTable);
