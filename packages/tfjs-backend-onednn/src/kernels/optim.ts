/**
 * Fused optimizer kernels (project kernels, registered for `onednn` only; native/optim.cc, native/reduce.cc).
 * Each updates one parameter tensor in one pass over memory. Contract shared with the optimizers of
 * `layerwise-lr`, which use them when `tf.getKernel(name, tf.getBackend())` exists and compose ordinary tfjs
 * ops otherwise (same results):
 *
 * - `LwlrSgdStep` inputs { param, grad, buf? }, attrs { lr, momentum, dampening, nesterov, weightDecay,
 *   firstStep } -> [newParam, newBuf] (newBuf only when momentum != 0). PyTorch 1.13 SGD:
 *   g = grad + wd * param; if momentum: buf = firstStep ? g : momentum * buf + (1 - dampening) * g,
 *   g = nesterov ? g + momentum * buf : buf; param -= lr * g.
 * - `LwlrAdamWStep` inputs { param, grad, m, v, vmax? }, attrs { lr, beta1, beta2, eps, weightDecay, step,
 *   amsgrad } -> [newParam, newM, newV, (newVmax when amsgrad)]. PyTorch 1.13 AdamW:
 *   param *= 1 - lr * wd; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; vmax = max(vmax, v) if amsgrad;
 *   denom = sqrt(amsgrad ? vmax : v) / sqrt(1 - b2^step) + eps; param -= lr / (1 - b1^step) * m / denom.
 * - `LwlrSumAbs` { x } -> scalar sum |x|;  `LwlrSquaredNorm` { x } -> scalar sum x^2 (double accumulation).
 *
 * There is no cpu kernel to fall back to: inputs must be float32 (Int32Array/Uint8Array-backed float32
 * tensors are converted); anything else throws.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendOneDNN } from '../backend.js';
import { allocOutput, f32In, sizeOf } from './ew-util.js';

export const SGD_STEP = 'LwlrSgdStep';
export const ADAMW_STEP = 'LwlrAdamWStep';
export const SUM_ABS = 'LwlrSumAbs';
export const SQUARED_NORM = 'LwlrSquaredNorm';

function f32(backend: MathBackendOneDNN, t: tf.TensorInfo | undefined, kernel: string, name: string): Float32Array {
  if (!t) throw new Error(`${kernel}: missing input ${name}`);
  const v = f32In(backend, t);
  if (v === null) throw new Error(`${kernel}: input ${name} must be float32 (got ${t.dtype})`);
  return v;
}

function sameShape(kernel: string, ref: tf.TensorInfo, ...ts: (tf.TensorInfo | undefined)[]): void {
  const s = ref.shape.join(',');
  for (const t of ts) {
    if (t && t.shape.join(',') !== s) throw new Error(`${kernel}: shape [${t.shape}] differs from param [${ref.shape}]`);
  }
}

const sgdStep: tf.KernelFunc = ({ inputs, backend: b, attrs: a }) => {
  const backend = b as MathBackendOneDNN;
  const attrs = a ?? {};
  const { param, grad, buf } = inputs;
  const lr = Number(attrs.lr);
  const momentum = Number(attrs.momentum ?? 0);
  const dampening = Number(attrs.dampening ?? 0);
  const nesterov = !!attrs.nesterov;
  const weightDecay = Number(attrs.weightDecay ?? 0);
  const firstStep = !!attrs.firstStep;
  sameShape(SGD_STEP, param!, grad, buf);
  const p = f32(backend, param, SGD_STEP, 'param');
  const g = f32(backend, grad, SGD_STEP, 'grad');
  const useBuf = momentum !== 0 && !firstStep;
  const bv = useBuf ? f32(backend, buf, SGD_STEP, 'buf') : null;
  const n = sizeOf(param!.shape);
  const newP = allocOutput(backend, n);
  const newB = momentum !== 0 ? allocOutput(backend, n) : null;
  backend.native.ewSgdStep(p, g, bv, newP, newB, lr, momentum, dampening, nesterov, weightDecay, firstStep);
  const outP = backend.makeTensorInfo(param!.shape, 'float32', newP);
  return newB ? [outP, backend.makeTensorInfo(param!.shape, 'float32', newB)] : [outP];
};

const adamWStep: tf.KernelFunc = ({ inputs, backend: b, attrs: a }) => {
  const backend = b as MathBackendOneDNN;
  const attrs = a ?? {};
  const { param, grad, m, v, vmax } = inputs;
  const amsgrad = !!attrs.amsgrad;
  sameShape(ADAMW_STEP, param!, grad, m, v, amsgrad ? vmax : undefined);
  const pv = f32(backend, param, ADAMW_STEP, 'param');
  const gv = f32(backend, grad, ADAMW_STEP, 'grad');
  const mv = f32(backend, m, ADAMW_STEP, 'm');
  const vv = f32(backend, v, ADAMW_STEP, 'v');
  const vmv = amsgrad ? f32(backend, vmax, ADAMW_STEP, 'vmax') : null;
  const n = sizeOf(param!.shape);
  const outs = [allocOutput(backend, n), allocOutput(backend, n), allocOutput(backend, n)];
  if (amsgrad) outs.push(allocOutput(backend, n));
  backend.native.ewAdamWStep(
    pv, gv, mv, vv, vmv, outs[0], outs[1], outs[2], amsgrad ? outs[3] : null,
    Number(attrs.lr), Number(attrs.beta1), Number(attrs.beta2), Number(attrs.eps),
    Number(attrs.weightDecay ?? 0), Number(attrs.step), amsgrad,
  );
  return outs.map((o) => backend.makeTensorInfo(param!.shape, 'float32', o));
};

function scalarReduce(kernel: string, fn: 'ewSumAbs' | 'ewSumSquares'): tf.KernelFunc {
  return ({ inputs, backend: b }) => {
    const backend = b as MathBackendOneDNN;
    const x = f32(backend, inputs.x, kernel, 'x');
    const s = backend.native[fn](x.subarray(0, sizeOf(inputs.x!.shape))) as number;
    return backend.makeTensorInfo([], 'float32', new Float32Array([s]));
  };
}

export const optimKernels: tf.KernelConfig[] = [
  { kernelName: SGD_STEP, backendName: 'onednn', kernelFunc: sgdStep },
  { kernelName: ADAMW_STEP, backendName: 'onednn', kernelFunc: adamWStep },
  { kernelName: SUM_ABS, backendName: 'onednn', kernelFunc: scalarReduce(SUM_ABS, 'ewSumAbs') },
  { kernelName: SQUARED_NORM, backendName: 'onednn', kernelFunc: scalarReduce(SQUARED_NORM, 'ewSumSquares') },
];
