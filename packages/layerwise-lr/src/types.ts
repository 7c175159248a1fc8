/**
 * Shared types of layerwise-lr: the contract between parameter discovery, Algorithm 1,
 * the learning-rate table and the optimizers. Kept in one small file so every module agrees.
 */
import type * as tf from '@tensorflow/tfjs-core';

/** What a parameter tensor is, as Algorithm 1 and the optimizers need to know it. */
export type ParamKind =
  | 'kernel'     // weight of a conv / dense / depthwise conv (the paper's "conv/linear" tensors)
  | 'bias'       // additive bias of a conv / dense layer
  | 'scale'      // norm scale (BatchNorm / LayerNorm gamma)
  | 'shift'      // norm shift (BatchNorm / LayerNorm beta)
  | 'embedding'; // embedding-like: class token, position embedding, relative position bias table

/** One trainable parameter tensor, with a stable dotted name (`layer2.0.conv1.kernel`). */
export interface ParamInfo {
  /** Public, stable key: dotted path as in PyTorch/timm. Every eta table is keyed by it. */
  readonly name: string;
  readonly shape: readonly number[];
  /** Number of elements, the paper's m_i. */
  readonly numel: number;
  readonly kind: ParamKind;
  /** Fan-in / fan-out with PyTorch's conventions (for kernels; 1 for others). */
  readonly fanIn: number;
  readonly fanOut: number;
  /** The tfjs variable holding the values (its own `.name` is tfjs's, not ours). */
  readonly variable: tf.Variable;
}

/** A minibatch: model inputs and targets (integer labels or one-hot). */
export interface Batch {
  x: tf.Tensor | tf.Tensor[];
  y: tf.Tensor;
}

/** A learning-rate schedule: optimizer step (0-based) -> learning rate. */
export type Schedule = (step: number) => number;

/**
 * The parts of a tfjs-layers weight (`LayerVariable`) that layerwise-lr reads. Structural, so the
 * library needs no import of `@tensorflow/tfjs-layers`; a real `LayerVariable` satisfies it.
 */
export interface LayerVariableLike {
  /** tfjs's unique name (may carry a `_1` suffix). */
  readonly name: string;
  /** The scoped name before uniquification (`fc1/kernel`); preferred when present. */
  readonly originalName?: string;
  readonly dtype: string;
  readonly shape: readonly (number | null)[];
  readonly trainable: boolean;
  /** The backing `tf.Variable` (typed `Tensor` by tfjs-layers). */
  read(): tf.Tensor;
}

/** The parts of a tfjs-layers `Layer` that layerwise-lr reads (structural). */
export interface LayerLike {
  readonly name: string;
  getClassName(): string;
  readonly trainableWeights: readonly LayerVariableLike[];
  readonly nonTrainableWeights: readonly LayerVariableLike[];
  /** Present on nested models (a `Sequential` or functional model used as a layer). */
  readonly layers?: readonly LayerLike[];
}

/**
 * The parts of a `tf.LayersModel` that layerwise-lr reads (structural): a real `tf.LayersModel`
 * (`tf.sequential(...)`, `tf.model(...)`) satisfies it.
 */
export interface LayersModelLike extends LayerLike {
  readonly layers: readonly LayerLike[];
  /** All weights, trainable and not, in model order. */
  readonly weights: readonly LayerVariableLike[];
  apply(inputs: tf.Tensor | tf.Tensor[], kwargs?: { training?: boolean }): unknown;
}

/** How Algorithm 1 (re-)initializes the parameters before measuring: the paper's `fan-out`, or `fan-in`, or `none`. */
export type InitMode = 'fan-out' | 'fan-in' | 'none';

/**
 * How Algorithm 1 turns one minibatch's gradient g of a tensor with m elements into a number:
 * `l1` the mean absolute value sum(|g|) / m (the paper's), `l2` the root mean square sqrt(sum(g^2) / m).
 */
export type GradNorm = 'l1' | 'l2';
