/**
 * Ops that run as one fused kernel, with a gradient that saves only what it needs, where the active backend
 * has the kernel (`onednn`), and as the equivalent composition of tfjs ops elsewhere (`cpu`, `webgl`, ...).
 * Same formulas either way; the fused kernels differ from the composition only by float rounding.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { attention, batchNormTrain, gelu, layerNorm } from 'tfjs-backend-onednn';
 * const h = gelu(tf.randomNormal([8, 197, 1536]));                       // exact-erf GELU
 * const y = layerNorm(tf.randomNormal([8, 197, 384]), tf.ones([384]), tf.zeros([384]), 1e-6);
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';

function fusedAvailable(kernelName: string, ...ts: tf.Tensor[]): boolean {
  return ts.every((t) => t.dtype === 'float32') && tf.getKernel(kernelName, tf.getBackend()) !== undefined;
}

/**
 * Exact GELU, `x * 0.5 * (1 + erf(x / sqrt(2)))` (`torch.nn.GELU()`, tfjs-layers' activation `'gelu'`).
 * Fused: kernel `LwlrGelu`, whose gradient saves only x.
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (fusedAvailable('LwlrGelu', x)) return tf.engine().runKernel('LwlrGelu', { x }) as tf.Tensor;
  return tf.tidy(() => tf.mul(x, tf.mul(0.5, tf.add(1, tf.erf(tf.div(x, Math.sqrt(2)))))));
}

/**
 * LayerNorm over the last axis, as `torch.nn.LayerNorm(C, eps)`: `(x - mean) / sqrt(var + eps) * gamma + beta`
 * with the biased variance; gamma and beta of shape [C]. Fused: kernel `LwlrLayerNorm`, whose gradient saves
 * x and gamma.
 */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  const C = x.shape[x.rank - 1];
  if (x.rank < 1 || gamma.rank !== 1 || beta.rank !== 1 || gamma.shape[0] !== C || beta.shape[0] !== C) {
    throw new Error(`layerNorm: gamma and beta must be [${C}] for x [${x.shape}], got [${gamma.shape}] and [${beta.shape}]`);
  }
  if (!(epsilon > 0)) throw new Error(`layerNorm: epsilon must be > 0, got ${epsilon}`);
  if (fusedAvailable('LwlrLayerNorm', x, gamma, beta)) {
    return tf.engine().runKernel('LwlrLayerNorm', { x, gamma, beta }, { epsilon }) as tf.Tensor;
  }
  return tf.tidy(() => {
    const axis = x.rank - 1;
    const mean = tf.mean(x, axis, true);
    const xc = tf.sub(x, mean);
    const variance = tf.mean(tf.square(xc), axis, true);
    const y = tf.mul(xc, tf.rsqrt(tf.add(variance, epsilon)));
    return tf.add(tf.mul(y, gamma), beta);
  });
}

/** What {@link batchNormTrain} returns. */
export interface BatchNormTrainResult {
  /** The normalized x. */
  y: tf.Tensor;
  /** The batch mean per channel, [C]. */
  mean: tf.Tensor;
  /** The biased batch variance per channel, [C]. */
  variance: tf.Tensor;
}

/** Options of {@link batchNormTrain}: what follows the normalization in the same pass. */
export interface BatchNormTrainOptions {
  /** Added to the normalized x (x's shape): a residual block's shortcut, as in `relu(bn(conv(h)) + x)`. */
  residual?: tf.Tensor;
  /** ReLU on the result (after the residual). */
  relu?: boolean;
}

/**
 * Training-mode BatchNorm over every axis but the last (NHWC channels, or features of [B, C]), with the batch's
 * own statistics: `(x - mean) / sqrt(variance + eps) * gamma + beta`, the biased variance, as tf.moments followed
 * by tf.batchNorm (what tfjs-layers' BatchNormalization computes in training). Returns the statistics too, for
 * the moving averages. Fused (kernel `LwlrBatchNormTrain`): the gradient saves x, gamma and the statistics and
 * runs one kernel of two passes. With `options.residual` and/or `options.relu`, `relu(bn(x) + residual)` in the
 * same pass (kernel `LwlrBatchNormTrainAct`, whose gradient also saves y); elsewhere the composition.
 *
 * @example
 * // a ResNet bottleneck's tail: relu(bn3(conv3) + shortcut)
 * const { y, mean, variance } = batchNormTrain(h, gamma, beta, 1e-5, { residual: shortcut, relu: true });
 */
export function batchNormTrain(
  x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number, options: BatchNormTrainOptions = {},
): BatchNormTrainResult {
  const C = x.shape[x.rank - 1];
  if (x.rank < 2 || gamma.rank !== 1 || beta.rank !== 1 || gamma.shape[0] !== C || beta.shape[0] !== C) {
    throw new Error(`batchNormTrain: gamma and beta must be [${C}] for x [${x.shape}] (rank >= 2), got [${gamma.shape}] and [${beta.shape}]`);
  }
  if (!(epsilon > 0)) throw new Error(`batchNormTrain: epsilon must be > 0, got ${epsilon}`);
  const { residual, relu = false } = options;
  if (residual && !tf.util.arraysEqual(residual.shape, x.shape)) {
    throw new Error(`batchNormTrain: residual must have x's shape [${x.shape}], got [${residual.shape}]`);
  }
  if (!residual && !relu && fusedAvailable('LwlrBatchNormTrain', x, gamma, beta)) {
    const [y, mean, variance] = tf.engine().runKernel('LwlrBatchNormTrain', { x, gamma, beta }, { epsilon }) as tf.Tensor[];
    return { y: y!, mean: mean!, variance: variance! };
  }
  if ((residual || relu) && fusedAvailable('LwlrBatchNormTrainAct', x, gamma, beta, ...(residual ? [residual] : []))) {
    const inputs: tf.NamedTensorMap = residual ? { x, gamma, beta, residual } : { x, gamma, beta };
    const [y, mean, variance] = tf.engine().runKernel('LwlrBatchNormTrainAct', inputs, { epsilon, relu, hasResidual: !!residual }) as tf.Tensor[];
    return { y: y!, mean: mean!, variance: variance! };
  }
  return tf.tidy(() => {
    const axes = [...Array(x.rank - 1).keys()];
    const { mean, variance } = tf.moments(x, axes);
    let y = tf.batchNorm(x, mean, variance, beta, gamma, epsilon);
    if (residual) y = tf.add(y, residual);
    if (relu) y = tf.relu(y);
    return { y, mean, variance };
  });
}

/** Options of {@link attention}. */
export interface AttentionOptions {
  /** Number of heads H; the channels C of q, k, v are H * d. */
  numHeads: number;
  /** Multiplier of the logits (default 1 / sqrt(d)). */
  scale?: number;
  /** Learned additive bias of the logits, [H, N, N], shared by the whole batch (e.g. Swin's relative position bias). */
  bias?: tf.Tensor;
  /** Constant additive mask, [nW, N, N]: batch item b gets mask[b mod nW] (e.g. Swin's shifted-window mask). */
  mask?: tf.Tensor;
}

/** [B, N, C] -> [B, H, N, C / H]. */
function splitHeads(x: tf.Tensor, heads: number): tf.Tensor {
  const [b, n, c] = x.shape as [number, number, number];
  return tf.transpose(tf.reshape(x, [b, n, heads, c / heads]), [0, 2, 1, 3]);
}

/**
 * Multi-head scaled dot-product attention on projected q, k, v of shape [B, N, C] (heads = consecutive blocks of
 * C / H channels), returning [B, N, C]: for each head, softmax(scale * q k^T + bias + mask) v, heads merged
 * back. Fused (kernels `LwlrAttentionScores` and `LwlrAttentionApply`): no split/merge transposes; the
 * gradients save q, k, v and the probabilities [B, H, N, N]. Elsewhere the composition: split heads, matMul,
 * softmax, matMul, merge.
 */
export function attention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, opts: AttentionOptions): tf.Tensor {
  const H = opts.numHeads;
  if (q.rank !== 3 || !tf.util.arraysEqual(q.shape, k.shape) || !tf.util.arraysEqual(q.shape, v.shape)) {
    throw new Error(`attention: q, k, v must be [B, N, C] of one shape, got [${q.shape}], [${k.shape}], [${v.shape}]`);
  }
  const [B, N, C] = q.shape as [number, number, number];
  if (!(Number.isInteger(H) && H >= 1 && C % H === 0)) throw new Error(`attention: ${C} channels are not a multiple of numHeads ${H}`);
  const scale = opts.scale ?? 1 / Math.sqrt(C / H);
  const { bias, mask } = opts;
  if (bias && !tf.util.arraysEqual(bias.shape, [H, N, N])) throw new Error(`attention: bias must be [${H}, ${N}, ${N}], got [${bias.shape}]`);
  const nW = mask ? mask.shape[0]! : 1;
  if (mask && (mask.rank !== 3 || mask.shape[1] !== N || mask.shape[2] !== N || B % nW !== 0)) {
    throw new Error(`attention: mask must be [nW, ${N}, ${N}] with nW dividing the batch ${B}, got [${mask.shape}]`);
  }
  const extra = [bias, mask].filter((t): t is tf.Tensor => t !== undefined);
  if (fusedAvailable('LwlrAttentionScores', q, k, v, ...extra)) {
    return tf.tidy(() => {
      const inputs: tf.NamedTensorMap = { q, k };
      if (bias) inputs['bias'] = bias;
      if (mask) inputs['mask'] = mask;
      const probs = tf.engine().runKernel('LwlrAttentionScores', inputs, { numHeads: H, scale, nW, hasBias: bias !== undefined }) as tf.Tensor;
      return tf.engine().runKernel('LwlrAttentionApply', { probs, v }, { numHeads: H }) as tf.Tensor;
    });
  }
  return tf.tidy(() => {
    const [qh, kh, vh] = [q, k, v].map((t) => splitHeads(t, H)) as [tf.Tensor, tf.Tensor, tf.Tensor];
    let logits = tf.matMul(tf.mul(qh, scale), kh, false, true);
    if (bias) logits = tf.add(logits, bias);
    if (mask) logits = tf.reshape(tf.add(tf.reshape(logits, [B / nW, nW, H, N, N]), tf.reshape(mask, [1, nW, 1, N, N])), [B, H, N, N]);
    const o = tf.matMul(tf.softmax(logits), vh);
    return tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [B, N, C]);
  });
}
