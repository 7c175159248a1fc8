/**
 * Fused kernels with their own gradients (native/fused.cc), for the ops in src/ops.ts. Each replaces a chain of
 * tfjs kernels whose intermediates the autodiff tape would keep until the backward pass:
 *  - LwlrLayerNorm { x, gamma, beta } (attr epsilon) -> y: LayerNorm over the last axis. The gradient saves x
 *    and gamma (it recomputes each row's mean and 1/sqrt(var + eps) from x); tfjs's composition of the same
 *    formula saves x - mean, the normalized x, its product with gamma and more (3-4 tensors of x's size).
 *  - LwlrBatchNormTrain { x, gamma, beta } (attr epsilon) -> [y, mean, variance]: training-mode BatchNorm over
 *    every axis but the last, with the batch statistics (for the moving averages). The gradient saves x, gamma
 *    and the statistics and computes dx, dgamma, dbeta in two passes; tfjs's tf.moments + batchNorm composition
 *    keeps the FusedBatchNorm inputs and runs ~10 full-size kernels in the backward (the mean's and the
 *    variance's gradient paths, their sums).
 *  - LwlrBatchNormTrainAct { x, gamma, beta, residual? } (attrs epsilon, relu, hasResidual) -> [y, mean, variance]:
 *    the same BatchNorm followed, in the same pass, by `+ residual` and/or ReLU (a ResNet block's BN -> add ->
 *    ReLU tail, or BN -> ReLU): one pass instead of two or three, and no separate Add/ReLU outputs or gradient
 *    passes. The gradient also saves y (to gate dy by the ReLU; the next layer usually saves it anyway) and runs
 *    the same kernel, which also returns the gated dy as the residual's gradient.
 *  - LwlrGelu { x } -> y, exact-erf GELU. The gradient saves x; the composition saves x / sqrt 2, erf of it,
 *    1 + erf, the cdf and x (5 tensors of x's size).
 * LwlrLayerNormGrad, LwlrBatchNormTrainGrad and LwlrGeluGrad are their gradient kernels (no gradients of their own: second-order
 * gradients through these ops are not supported).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendOneDNN } from '../backend.js';
import { allocOutput, f32In, sizeOf } from './ew-util.js';
import { attentionKernels } from './attention.js';

function f32(backend: MathBackendOneDNN, t: tf.TensorInfo | undefined, kernel: string, name: string): Float32Array {
  const v = t ? f32In(backend, t) : null;
  if (v === null) throw new Error(`${kernel}: ${name} must be a float32 tensor`);
  return v;
}

function lastDim(shape: readonly number[]): number {
  return shape.length === 0 ? 1 : shape[shape.length - 1]!;
}

export const layerNormConfig: tf.KernelConfig = {
  kernelName: 'LwlrLayerNorm',
  backendName: 'onednn',
  kernelFunc: ({ inputs, backend: b, attrs }) => {
    const backend = b as MathBackendOneDNN;
    const { x, gamma, beta } = inputs;
    const C = lastDim(x!.shape);
    if (gamma!.shape.length !== 1 || gamma!.shape[0] !== C || beta!.shape.length !== 1 || beta!.shape[0] !== C) {
      throw new Error(`LwlrLayerNorm: gamma and beta must be [${C}], got [${gamma!.shape}] and [${beta!.shape}]`);
    }
    const y = allocOutput(backend, sizeOf(x!.shape));
    backend.native.fusedLayerNorm(
      f32(backend, x, 'LwlrLayerNorm', 'x'), f32(backend, gamma, 'LwlrLayerNorm', 'gamma'),
      f32(backend, beta, 'LwlrLayerNorm', 'beta'), Number(attrs?.epsilon), C, y, null, null,
    );
    return backend.makeTensorInfo(x!.shape, 'float32', y);
  },
};

export const layerNormGradConfig: tf.KernelConfig = {
  kernelName: 'LwlrLayerNormGrad',
  backendName: 'onednn',
  kernelFunc: ({ inputs, backend: b, attrs }) => {
    const backend = b as MathBackendOneDNN;
    const { dy, x, gamma } = inputs;
    const k = 'LwlrLayerNormGrad';
    const C = lastDim(x!.shape);
    const n = sizeOf(x!.shape);
    const dx = allocOutput(backend, n);
    const dgamma = new Float32Array(C);
    const dbeta = new Float32Array(C);
    backend.native.fusedLayerNormGrad(
      f32(backend, dy, k, 'dy'), f32(backend, x, k, 'x'), f32(backend, gamma, k, 'gamma'), Number(attrs?.epsilon), C,
      dx, dgamma, dbeta,
    );
    return [
      backend.makeTensorInfo(x!.shape, 'float32', dx),
      backend.makeTensorInfo([C], 'float32', dgamma),
      backend.makeTensorInfo([C], 'float32', dbeta),
    ];
  },
};

/** LwlrBatchNormTrain and LwlrBatchNormTrainAct (the latter with the optional residual and the relu attribute). */
function batchNormTrainKernel(k: string): tf.KernelFunc {
  return ({ inputs, backend: b, attrs }) => {
    const backend = b as MathBackendOneDNN;
    const { x, gamma, beta, residual } = inputs;
    const C = lastDim(x!.shape);
    if (gamma!.shape.length !== 1 || gamma!.shape[0] !== C || beta!.shape.length !== 1 || beta!.shape[0] !== C) {
      throw new Error(`${k}: gamma and beta must be [${C}], got [${gamma!.shape}] and [${beta!.shape}]`);
    }
    if (residual && !tf.util.arraysEqual(residual.shape, x!.shape)) {
      throw new Error(`${k}: residual must have x's shape [${x!.shape}], got [${residual.shape}]`);
    }
    const y = allocOutput(backend, sizeOf(x!.shape));
    const mean = new Float32Array(C);
    const variance = new Float32Array(C);
    backend.native.fusedBatchNormTrain(
      f32(backend, x, k, 'x'), f32(backend, gamma, k, 'gamma'), f32(backend, beta, k, 'beta'), Number(attrs?.epsilon), C,
      y, mean, variance, residual ? f32(backend, residual, k, 'residual') : null, attrs?.relu === true,
    );
    return [
      backend.makeTensorInfo(x!.shape, 'float32', y),
      backend.makeTensorInfo([C], 'float32', mean),
      backend.makeTensorInfo([C], 'float32', variance),
    ];
  };
}

export const batchNormTrainConfig: tf.KernelConfig = {
  kernelName: 'LwlrBatchNormTrain',
  backendName: 'onednn',
  kernelFunc: batchNormTrainKernel('LwlrBatchNormTrain'),
};

export const batchNormTrainActConfig: tf.KernelConfig = {
  kernelName: 'LwlrBatchNormTrainAct',
  backendName: 'onednn',
  kernelFunc: batchNormTrainKernel('LwlrBatchNormTrainAct'),
};

export const batchNormTrainGradConfig: tf.KernelConfig = {
  kernelName: 'LwlrBatchNormTrainGrad',
  backendName: 'onednn',
  kernelFunc: ({ inputs, backend: b, attrs }) => {
    const backend = b as MathBackendOneDNN;
    const k = 'LwlrBatchNormTrainGrad';
    // y (optional): the forward's ReLU output, which gates dy; with attr storeGated the gated dy is a 4th output
    const { dy, x, gamma, mean, variance, dmean, dvariance, y } = inputs;
    const C = lastDim(x!.shape);
    const n = sizeOf(x!.shape);
    const dx = allocOutput(backend, n);
    const gated = y && attrs?.storeGated === true ? allocOutput(backend, n) : null;
    const dgamma = new Float32Array(C);
    const dbeta = new Float32Array(C);
    backend.native.fusedBatchNormTrainGrad(
      f32(backend, dy, k, 'dy'), f32(backend, x, k, 'x'), f32(backend, gamma, k, 'gamma'), f32(backend, mean, k, 'mean'),
      f32(backend, variance, k, 'variance'), dmean ? f32(backend, dmean, k, 'dmean') : null,
      dvariance ? f32(backend, dvariance, k, 'dvariance') : null, Number(attrs?.epsilon), C, dx, dgamma, dbeta,
      y ? f32(backend, y, k, 'y') : null, gated,
    );
    const out = [
      backend.makeTensorInfo(x!.shape, 'float32', dx),
      backend.makeTensorInfo([C], 'float32', dgamma),
      backend.makeTensorInfo([C], 'float32', dbeta),
    ];
    if (gated) out.push(backend.makeTensorInfo(x!.shape, 'float32', gated));
    return out;
  },
};

export const geluConfig: tf.KernelConfig = {
  kernelName: 'LwlrGelu',
  backendName: 'onednn',
  kernelFunc: ({ inputs, backend: b }) => {
    const backend = b as MathBackendOneDNN;
    const x = inputs.x!;
    const n = sizeOf(x.shape);
    const y = allocOutput(backend, n);
    backend.native.fusedGelu(f32(backend, x, 'LwlrGelu', 'x').subarray(0, n), y);
    return backend.makeTensorInfo(x.shape, 'float32', y);
  },
};

export const geluGradConfig: tf.KernelConfig = {
  kernelName: 'LwlrGeluGrad',
  backendName: 'onednn',
  kernelFunc: ({ inputs, backend: b }) => {
    const backend = b as MathBackendOneDNN;
    const { dy, x } = inputs;
    const n = sizeOf(x!.shape);
    const dx = allocOutput(backend, n);
    backend.native.fusedGeluGrad(f32(backend, dy, 'LwlrGeluGrad', 'dy').subarray(0, n), f32(backend, x, 'LwlrGeluGrad', 'x').subarray(0, n), dx);
    return backend.makeTensorInfo(x!.shape, 'float32', dx);
  },
};

export const fusedKernels: tf.KernelConfig[] = [
  layerNormConfig, layerNormGradConfig, batchNormTrainConfig, batchNormTrainActConfig, batchNormTrainGradConfig, geluConfig, geluGradConfig, ...attentionKernels];

tf.registerGradient({
  kernelName: 'LwlrLayerNorm',
  inputsToSave: ['x', 'gamma'],
  gradFunc: (dy, saved, attrs) => {
    const [x, gamma] = saved as tf.Tensor[];
    // One kernel for the three gradients, run here; each closure hands out its own.
    const [dx, dgamma, dbeta] = tf.engine().runKernel('LwlrLayerNormGrad', { dy: dy as tf.Tensor, x: x!, gamma: gamma! }, attrs as tf.NamedAttrMap) as tf.Tensor[];
    return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
  },
});

tf.registerGradient({
  kernelName: 'LwlrBatchNormTrain',
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [x, gamma, mean, variance] = saved as tf.Tensor[];
    const [dy, dmean, dvariance] = dys as tf.Tensor[];
    const [dx, dgamma, dbeta] = tf.engine().runKernel(
      'LwlrBatchNormTrainGrad', { dy: dy!, x: x!, gamma: gamma!, mean: mean!, variance: variance!, dmean: dmean!, dvariance: dvariance! },
      attrs as tf.NamedAttrMap,
    ) as tf.Tensor[];
    return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
  },
});

tf.registerGradient({
  kernelName: 'LwlrBatchNormTrainAct',
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [true, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [x, gamma, y, mean, variance] = saved as tf.Tensor[];
    const [dy, dmean, dvariance] = dys as tf.Tensor[];
    const relu = attrs?.relu === true;
    const hasResidual = attrs?.hasResidual === true;
    const [dx, dgamma, dbeta, gated] = tf.engine().runKernel(
      'LwlrBatchNormTrainGrad',
      { dy: dy!, x: x!, gamma: gamma!, mean: mean!, variance: variance!, dmean: dmean!, dvariance: dvariance!, ...(relu ? { y: y! } : {}) },
      { epsilon: attrs?.epsilon as number, storeGated: relu && hasResidual },
    ) as tf.Tensor[];
    const grads: Record<string, () => tf.Tensor> = { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
    // the residual's gradient is the (ReLU-gated) dy itself
    if (hasResidual) grads.residual = relu ? () => gated! : () => tf.reshape(dy!, dy!.shape);
    return grads;
  },
});

tf.registerGradient({
  kernelName: 'LwlrGelu',
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as tf.Tensor[];
    return { x: () => tf.engine().runKernel('LwlrGeluGrad', { dy: dy as tf.Tensor, x: x! }) as tf.Tensor };
  },
});
