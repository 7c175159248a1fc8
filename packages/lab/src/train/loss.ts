/**
 * The training loss: mean softmax cross-entropy with optional label smoothing (torch
 * `CrossEntropyLoss(label_smoothing=eps)`: the target is `(1 - eps) * onehot(y) + eps / C`) and Mixup
 * (`lambda * CE(y) + (1 - lambda) * CE(y2)`, which, CE being linear in the target, is CE against the mixed
 * target; timm's `mixup_target` builds the same one).
 */
import * as tf from '@tensorflow/tfjs';
import { meanSoftmaxCrossEntropy } from 'layerwise-lr';

/** What a batch brings to the loss: labels and, with Mixup, the second labels and the weight. */
export interface LossTargets {
  /** Integer labels [B] (images) or [B, T] (next tokens). */
  y: tf.Tensor;
  mixup?: { y2: tf.Tensor; lambda: number };
}

/**
 * Mean cross-entropy of `logits` [B, C] against the batch's labels, smoothed by `smoothing` (0: off).
 * Without smoothing and Mixup it is the plain integer-label path.
 *
 * @example
 * ```ts
 * const loss = trainingLoss({ y }, logits, 0.1); // torch: CrossEntropyLoss(label_smoothing=0.1)(logits, y)
 * ```
 */
export function trainingLoss(t: LossTargets, logits: tf.Tensor, smoothing = 0): tf.Scalar {
  if (!(smoothing >= 0 && smoothing < 1)) throw new Error(`label smoothing must be in [0, 1), got ${smoothing}`);
  if (smoothing === 0 && !t.mixup) return meanSoftmaxCrossEntropy(t.y, logits);
  return tf.tidy(() => meanSoftmaxCrossEntropy(trainingTarget(t, logits.shape[logits.rank - 1]!, smoothing), logits));
}

/**
 * The soft target [..., C] (labels [...] one-hot) of {@link trainingLoss}: `(1 - eps) * (lambda onehot(y) + (1 - lambda) onehot(y2)) + eps / C`
 * (without Mixup, lambda = 1). The caller disposes it.
 *
 * @example
 * ```ts
 * const target = trainingTarget({ y, mixup: { y2, lambda: 0.7 } }, 10, 0); // rows sum to 1
 * ```
 */
export function trainingTarget(t: LossTargets, numClasses: number, smoothing = 0): tf.Tensor {
  return tf.tidy(() => {
    const on = 1 - smoothing;
    const hot = (y: tf.Tensor, w: number) => tf.mul(tf.oneHot(tf.cast(y, 'int32'), numClasses), w * on);
    let target = t.mixup
      ? tf.add(hot(t.y, t.mixup.lambda), hot(t.mixup.y2, 1 - t.mixup.lambda))
      : hot(t.y, 1);
    if (smoothing > 0) target = tf.add(target, smoothing / numClasses);
    return target;
  });
}
