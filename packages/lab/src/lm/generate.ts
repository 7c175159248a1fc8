/**
 * Sampling from a language model (`lwlr generate`): autoregressive, one token at a time.
 *
 * Each step runs the model on the last `context` tokens (no key/value cache: a step costs a forward pass
 * over up to `context` tokens, fine for the CPU-sized models) and draws the next token from
 * softmax(logits / temperature), restricted to the `topK` most likely tokens when given; temperature 0 is
 * greedy (argmax). Draws come from a generator seeded by `seed` alone, so the same model, prompt, options
 * and backend give the same text.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng, deriveSeed } from 'layerwise-lr';

export interface SampleOptions {
  /** Softmax temperature (default 1; 0 = greedy). */
  temperature?: number;
  /** Keep only the k most likely tokens (default: all). */
  topK?: number;
}

export interface GenerateOptions extends SampleOptions {
  /** Tokens to generate. */
  tokens: number;
  /** The model's context: at most this many tokens are fed (the latest ones). */
  context: number;
  /** Seed of the draws (default 0). */
  seed?: number;
  /** Called with each new token (streaming output). */
  onToken?: (id: number) => void;
}

/**
 * A token drawn from `logits` (one position's scores) with `u` uniform in (0, 1): the inverse CDF over the
 * kept tokens, in descending order of probability (ties by id). Probabilities in double precision.
 *
 * @example
 * ```ts
 * sampleToken(Float32Array.of(0, 5, 1), 0.5, { temperature: 0 }); // 1 (argmax)
 * ```
 */
export function sampleToken(logits: ArrayLike<number>, u: number, o: SampleOptions = {}): number {
  const temperature = o.temperature ?? 1;
  if (!(temperature >= 0)) throw new Error(`temperature must be >= 0, got ${temperature}`);
  const n = logits.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (logits[b]! - logits[a]!) || a - b);
  if (temperature === 0) return order[0]!;
  const k = o.topK === undefined ? n : Math.min(n, o.topK);
  if (!(Number.isInteger(k) && k >= 1)) throw new Error(`top-k must be an integer >= 1, got ${o.topK}`);
  const top = logits[order[0]!]!;
  const w = new Float64Array(k);
  let sum = 0;
  for (let i = 0; i < k; i++) {
    w[i] = Math.exp((logits[order[i]!]! - top) / temperature);
    sum += w[i]!;
  }
  let acc = 0;
  const target = u * sum;
  for (let i = 0; i < k; i++) {
    acc += w[i]!;
    if (target < acc) return order[i]!;
  }
  return order[k - 1]!;
}

/**
 * The prompt's continuation: `o.tokens` new token ids (the prompt not included).
 *
 * @example
 * ```ts
 * const ids = generateTokens(model, [...byteTokenizer().encode('The ')], { tokens: 50, context: 128, seed: 1, topK: 40 });
 * ```
 */
export function generateTokens(model: tf.LayersModel, prompt: readonly number[], o: GenerateOptions): number[] {
  if (prompt.length === 0) throw new Error('generation needs a prompt of at least one token');
  if (!(Number.isInteger(o.tokens) && o.tokens >= 0)) throw new Error(`--tokens must be an integer >= 0, got ${o.tokens}`);
  const rng = new Rng(deriveSeed(o.seed ?? 0, 'generate'));
  const seq = [...prompt];
  const out: number[] = [];
  for (let i = 0; i < o.tokens; i++) {
    const window = seq.slice(-o.context);
    const logits = tf.tidy(() => {
      const x = tf.tensor2d(window, [1, window.length], 'int32');
      const y = model.predict(x) as tf.Tensor3D;
      const v = y.shape[2];
      return tf.reshape(tf.slice(y, [0, window.length - 1, 0], [1, 1, v]), [v]);
    });
    const scores = logits.dataSync();
    logits.dispose();
    const id = sampleToken(scores, rng.uniform(), o);
    seq.push(id);
    out.push(id);
    o.onToken?.(id);
  }
  return out;
}
