/** MaxPool on oneDNN's pooling primitive (NHWC). */
import { backend_util, MaxPool, type MaxPoolAttrs, type KernelConfig, util } from '@tensorflow/tfjs-core';
import { nativeOrCpu } from './shared-native-fallback.js';
import { allocOutput } from './shared-output-alloc.js';
import { poolParams, sizeOf } from './shared-conv-params.js';
import { poolInputsOk } from './shared-pool-run.js';

export const maxPoolConfig: KernelConfig = {
  kernelName: MaxPool,
  backendName: 'onednn',
  kernelFunc: nativeOrCpu(MaxPool, ({ inputs, backend, attrs }) => {
    const x = inputs.x!;
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolAttrs;
    if (!backend_util.eitherStridesOrDilationsAreOne(strides, 1)) return null;
    const ci = backend_util.computePool2DInfo(
      x.shape as [number, number, number, number],
      filterSize,
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    // 1x1 window, same shape: the cpu kernel returns the input (identity), cheaply.
    if (ci.filterWidth === 1 && ci.filterHeight === 1 && util.arraysEqual(ci.inShape, ci.outShape)) return null;
    const vals = poolInputsOk(backend, MaxPool, ci, x);
    if (!vals) return null;
    const out = allocOutput(backend, sizeOf(ci.outShape));
    backend.native.pool2d(vals[0], out, poolParams(ci), true);
    return backend.makeTensorInfo(ci.outShape, 'float32', out);
  }),
};
