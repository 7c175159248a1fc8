/**
 * Unary elementwise kernels on float32 (native/eltwise.cc), each with the semantics of the tfjs-backend-cpu
 * kernel of the same name, plus EluGrad. Other dtypes (int32 Abs/Neg/Square..., complex) use the cpu kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendOneDNN } from '../backend.js';
import { allocOutput, f32In, nativeKernel, nativeOrCpu, sizeOf, type NativeImpl } from './ew-util.js';
import { ensureGradient } from './gradients.js';

/** Native op codes of ewUnary (native/eltwise.cc, enum UnaryOp). */
export const UnaryOp = {
  Relu: 0, Relu6: 1, Step: 2, Elu: 3, Sigmoid: 4, Tanh: 5, Exp: 6, Log: 7, Sqrt: 8, Rsqrt: 9, Square: 10,
  Abs: 11, Neg: 12, Erf: 13, Sign: 14, Reciprocal: 15, Softplus: 16, Expm1: 17, Log1p: 18, LeakyRelu: 19,
  ClipByValue: 20,
} as const;

const lazySquare = process.env.LWLR_LAZY !== '0';

type Params = (attrs: tf.NamedAttrMap) => [number, number];
const none: Params = () => [0, 0];

function unaryKernel(kernelName: keyof typeof UnaryOp, params: Params = none): tf.KernelConfig {
  const op = UnaryOp[kernelName];
  const ownGradient = kernelName === 'Relu' || kernelName === 'Square';
  const run: NativeImpl = ({ inputs, backend, attrs }) => {
    if (ownGradient) ensureGradient(kernelName);
    const x = inputs.x!;
    const xv = f32In(backend, x);
    if (xv === null) return null;
    const n = sizeOf(x.shape);
    const out = allocOutput(backend, n);
    const [alpha, beta] = params(attrs);
    backend.native.ewUnary(op, xv.length === n ? xv : xv.subarray(0, n), out, alpha, beta);
    return backend.makeTensorInfo(x.shape, 'float32', out);
  };
  if (kernelName !== 'Square') return nativeKernel(kernelName, run);
  // Square is deferred (float32, not tiny): Sum/Mean of it (the variance in tf.moments) square on the fly
  // and the squares are never written; anything else reading it computes it then (backend.squareSource).
  const eager = nativeOrCpu(kernelName, run);
  return {
    kernelName,
    backendName: 'onednn',
    kernelFunc: (args) => {
      ensureGradient(kernelName);
      const x = args.inputs.x!;
      const backend = args.backend as MathBackendOneDNN;
      if (!lazySquare || x.dtype !== 'float32' || sizeOf(x.shape) < 1024) return eager(args);
      return backend.lazyTensorInfo(x.shape, 'float32', [x], () => eager(args) as tf.TensorInfo, {
        squareOf: { dataId: x.dataId, shape: x.shape, dtype: x.dtype },
      });
    },
  };
}

export const unaryKernels: tf.KernelConfig[] = [
  unaryKernel('Relu'),
  unaryKernel('Relu6'),
  unaryKernel('Step', (a) => [Number(a.alpha ?? 0), 0]),
  unaryKernel('Elu'),
  unaryKernel('Sigmoid'),
  unaryKernel('Tanh'),
  unaryKernel('Exp'),
  unaryKernel('Log'),
  unaryKernel('Sqrt'),
  unaryKernel('Rsqrt'),
  unaryKernel('Square'),
  unaryKernel('Abs'),
  unaryKernel('Neg'),
  unaryKernel('Erf'),
  unaryKernel('Sign'),
  unaryKernel('Reciprocal'),
  unaryKernel('Softplus'),
  unaryKernel('Expm1'),
  unaryKernel('Log1p'),
  unaryKernel('LeakyRelu', (a) => [Number(a.alpha), 0]),
  unaryKernel('ClipByValue', (a) => [Number(a.clipValueMin), Number(a.clipValueMax)]),
];
