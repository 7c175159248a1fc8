/**
 * Fused optimizer kernels: the contract between these optimizers and any backend that wants to do a whole
 * parameter update in one kernel (e.g. `tfjs-backend-onednn`). This package never depends on such a
 * backend: it asks the tfjs kernel registry whether the active backend has the kernel and otherwise
 * composes ordinary tfjs ops with the same math (see `transforms.ts`).
 *
 * Contract (all tensors float32, all the same shape as `param`; `lr` already includes eta):
 *
 * - `LwlrSgdStep`, inputs `{ param, grad, buf? }`, attrs `{ lr, momentum, dampening, nesterov,
 *   weightDecay, firstStep }` -> `[newParam]` when `momentum == 0`, else `[newParam, newBuf]`.
 *   `buf` is absent when `firstStep` (or momentum is 0). torch.optim.SGD (1.13):
 *   `g = grad + wd * param; if momentum: buf = firstStep ? g : momentum * buf + (1 - dampening) * g;
 *    g = nesterov ? g + momentum * buf : buf; newParam = param - lr * g`.
 * - `LwlrAdamWStep`, inputs `{ param, grad, m, v, vmax? }` (`vmax` only with amsgrad; the optimizer passes
 *   zeros on the first step, like torch's initial state), attrs `{ lr, beta1, beta2, eps, weightDecay,
 *   step, amsgrad }` with `step` the 1-based count of this parameter's updates including this one ->
 *   `[newParam, newM, newV]` or, with amsgrad, `[newParam, newM, newV, newVmax]`. torch.optim.AdamW (1.13):
 *   `p = param * (1 - lr * wd); m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; vmax = max(vmax, v);
 *    denom = sqrt(amsgrad ? vmax : v) / sqrt(1 - b2^step) + eps; newParam = p - lr / (1 - b1^step) * m / denom`.
 *
 * A kernel may return a single tensor instead of a one-element array; both are accepted.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Kernel name of the fused SGD step. */
export const SGD_STEP_KERNEL = 'LwlrSgdStep';
/** Kernel name of the fused AdamW step. */
export const ADAMW_STEP_KERNEL = 'LwlrAdamWStep';

/** Whether to use a backend's fused kernel: when present (`'auto'`), never, or always (error when absent). */
export type FusedMode = 'auto' | 'always' | 'never';

/** Attributes of `LwlrSgdStep`. */
export interface SgdStepAttrs {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  firstStep: boolean;
}

/** Attributes of `LwlrAdamWStep`. */
export interface AdamWStepAttrs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  step: number;
  amsgrad: boolean;
}

/**
 * Whether the active backend (or `backendName`) has registered `kernelName`.
 *
 * @example
 * ```ts
 * if (hasFusedKernel(SGD_STEP_KERNEL)) console.log('fused SGD available');
 * ```
 */
export function hasFusedKernel(kernelName: string, backendName: string = tf.getBackend()): boolean {
  return tf.getKernel(kernelName, backendName) != null;
}

/**
 * Decides, for one optimizer step, whether to take the fused path.
 *
 * @example
 * ```ts
 * const fused = shouldUseFused('auto', SGD_STEP_KERNEL);
 * ```
 */
export function shouldUseFused(mode: FusedMode, kernelName: string): boolean {
  if (mode === 'never') return false;
  const has = hasFusedKernel(kernelName);
  if (mode === 'always' && !has) {
    throw new Error(`fused: 'always' was asked but backend "${tf.getBackend()}" has no kernel ${kernelName}`);
  }
  return has;
}

function outputs(result: tf.Tensor | tf.Tensor[], kernelName: string, expected: number): tf.Tensor[] {
  const list = Array.isArray(result) ? result : [result];
  if (list.length < expected) {
    throw new Error(`fused: kernel ${kernelName} returned ${list.length} outputs, expected ${expected}`);
  }
  return list;
}

/**
 * Runs `LwlrSgdStep` once.
 *
 * @example
 * ```ts
 * const { param: p1, buf } = fusedSgdStep(p, g, undefined,
 *   { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 5e-4, firstStep: true });
 * ```
 */
export function fusedSgdStep(
  param: tf.Tensor, grad: tf.Tensor, buf: tf.Tensor | undefined, attrs: SgdStepAttrs,
): { param: tf.Tensor; buf?: tf.Tensor } {
  const inputs: tf.NamedTensorMap = { param, grad };
  if (buf != null) inputs.buf = buf;
  const withBuf = attrs.momentum !== 0;
  const out = outputs(
    tf.engine().runKernel(SGD_STEP_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap),
    SGD_STEP_KERNEL, withBuf ? 2 : 1,
  );
  return withBuf ? { param: out[0], buf: out[1] } : { param: out[0] };
}

/**
 * Runs `LwlrAdamWStep` once.
 *
 * @example
 * ```ts
 * const r = fusedAdamWStep(p, g, m, v, undefined,
 *   { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 1, amsgrad: false });
 * ```
 */
export function fusedAdamWStep(
  param: tf.Tensor, grad: tf.Tensor, m: tf.Tensor, v: tf.Tensor, vmax: tf.Tensor | undefined, attrs: AdamWStepAttrs,
): { param: tf.Tensor; m: tf.Tensor; v: tf.Tensor; vmax?: tf.Tensor } {
  const inputs: tf.NamedTensorMap = { param, grad, m, v };
  if (attrs.amsgrad) {
    if (vmax == null) throw new Error('fusedAdamWStep: amsgrad needs vmax');
    inputs.vmax = vmax;
  }
  const out = outputs(
    tf.engine().runKernel(ADAMW_STEP_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap),
    ADAMW_STEP_KERNEL, attrs.amsgrad ? 4 : 3,
  );
  return attrs.amsgrad ? { param: out[0], m: out[1], v: out[2], vmax: out[3] } : { param: out[0], m: out[1], v: out[2] };
}
