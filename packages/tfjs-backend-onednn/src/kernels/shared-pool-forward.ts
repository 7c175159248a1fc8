/** MaxPool and AvgPool forward: one kernel on oneDNN's pooling primitive (NHWC), differing in the algorithm. */
import { backend_util, type KernelConfig, type MaxPoolAttrs, util } from '@tensorflow/tfjs-core';
import { nativeOrCpu } from './shared-native-fallback.js';
import { allocOutput } from './shared-output-alloc.js';
import { poolParams, sizeOf } from './shared-conv-params.js';
import { poolInputsOk } from './shared-pool-run.js';

/** The kernel config of a 2-D pooling forward kernel: `max` (MaxPool) or average (AvgPool, divided by the
 * pixels inside the input, as tfjs does). Unsupported cases fall back to the cpu kernel. */
export function poolForwardConfig(kernelName: string, max: boolean): KernelConfig {
  return {
    kernelName,
    backendName: 'onednn',
    kernelFunc: nativeOrCpu(kernelName, ({ inputs, backend, attrs }) => {
      const x = inputs.x!;
      const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolAttrs; // AvgPoolAttrs has the same fields
      if (!backend_util.eitherStridesOrDilationsAreOne(strides, 1)) return null;
      const ci = backend_util.computePool2DInfo(x.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
      // 1x1 window, same shape: the cpu kernel returns the input (identity), cheaply.
      if (ci.filterWidth === 1 && ci.filterHeight === 1 && util.arraysEqual(ci.inShape, ci.outShape)) return null;
      const vals = poolInputsOk(backend, kernelName, ci, x);
      if (!vals) return null;
      const out = allocOutput(backend, sizeOf(ci.outShape));
      backend.native.pool2d(vals[0], out, poolParams(ci), max);
      return backend.makeTensorInfo(ci.outShape, 'float32', out);
    }),
  };
}
