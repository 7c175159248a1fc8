/**
 * Ops that run as one fused kernel, with a gradient that saves only what it needs, where the active backend
 * has the kernel (`onednn`), and as the equivalent composition of tfjs ops elsewhere (`cpu`, `webgl`, ...).
 * Same formulas either way; the fused kernels differ from the composition only by float rounding.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { gelu, layerNorm } from 'tfjs-backend-onednn';
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
 * x, gamma and the mean and 1/sqrt(var + eps) of each row.
 */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  const C = x.shape[x.rank - 1];
  if (x.rank < 1 || gamma.rank !== 1 || beta.rank !== 1 || gamma.shape[0] !== C || beta.shape[0] !== C) {
    throw new Error(`layerNorm: gamma and beta must be [${C}] for x [${x.shape}], got [${gamma.shape}] and [${beta.shape}]`);
  }
  if (!(epsilon > 0)) throw new Error(`layerNorm: epsilon must be > 0, got ${epsilon}`);
  if (fusedAvailable('LwlrLayerNorm', x, gamma, beta)) {
    return tf.tidy(() => {
      const [y] = tf.engine().runKernel('LwlrLayerNorm', { x, gamma, beta }, { epsilon }) as tf.Tensor[];
      return y!;
    });
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
