/**
 * Deferred kernels (MathBackendOneDNN.lazyTensorInfo): the output is computed when first read, or never.
 *
 * tfjs's fused ops (fused.conv2d, fused.depthwiseConv2d, fused.matMul: every conv/dense layer without an
 * activation, e.g. before BatchNorm) have custom gradients that compute the input gradient eagerly; when the
 * input needs no gradient (the data fed to the first layer) the tape drops it unread. Deferring these
 * kernels (Conv2DBackpropInput, DepthwiseConv2dNativeBackpropInput, BatchMatMul) makes that drop free: a
 * BatchNorm CNN's first Conv2DBackpropInput ([128,28,28,32] -> [128,28,28,1]) was ~10 ms of a ~110 ms step. Values are those of the eager kernel (it is the same function, run later on
 * the same inputs; tensors are immutable). LWLR_LAZY=0 turns deferral off.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { MathBackendOneDNN } from '../backend.js';

const enabled = process.env.LWLR_LAZY !== '0';

/**
 * A kernelFunc that defers `eager` when every input is float32 and `outShape` (from inputs and attrs) is
 * known; otherwise it runs `eager` now.
 */
export function deferred(
  eager: tf.KernelFunc,
  outShape: (inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap) => number[] | null,
): tf.KernelFunc {
  if (!enabled) return eager;
  return (args) => {
    const backend = args.backend as MathBackendOneDNN;
    const inputs = Object.values(args.inputs).filter((t): t is tf.TensorInfo => t != null);
    const shape = inputs.every((t) => t.dtype === 'float32') ? outShape(args.inputs, args.attrs ?? {}) : null;
    if (shape === null || typeof backend.lazyTensorInfo !== 'function') return eager(args);
    const { inputs: ins, attrs } = args;
    return backend.lazyTensorInfo(shape, 'float32', inputs, () => eager({ inputs: ins, attrs, backend }) as tf.TensorInfo);
  };
}
