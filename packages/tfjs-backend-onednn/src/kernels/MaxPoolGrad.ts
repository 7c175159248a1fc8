/**
 * MaxPoolGrad natively: the gradient goes to the first maximum of each window (row-major), exactly as the
 * cpu kernel (a direct multi-threaded loop in native/pool.cc; oneDNN's backward would need the forward's
 * workspace, which tfjs does not keep).
 */
import { backend_util, MaxPoolGrad, type MaxPoolGradAttrs, type KernelConfig } from '@tensorflow/tfjs-core';
import { nativeOrCpu } from './shared-native-fallback.js';
import { allocOutput } from './shared-output-alloc.js';
import { poolParams, sizeOf } from './shared-conv-params.js';
import { poolInputsOk } from './shared-pool-run.js';

export const maxPoolGradConfig: KernelConfig = {
  kernelName: MaxPoolGrad,
  backendName: 'onednn',
  kernelFunc: nativeOrCpu(MaxPoolGrad, ({ inputs, backend, attrs }) => {
    const { dy, input } = inputs;
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs;
    const ci = backend_util.computePool2DInfo(
      input!.shape as [number, number, number, number],
      filterSize,
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    if (!dy || dy.shape.join(',') !== ci.outShape.join(',')) return null;
    const vals = poolInputsOk(backend, MaxPoolGrad, ci, input!, dy);
    if (!vals) return null;
    const out = allocOutput(backend, sizeOf(ci.inShape));
    backend.native.maxPoolGrad(vals[0], vals[1], out, poolParams(ci));
    return backend.makeTensorInfo(input!.shape, 'float32', out);
  }),
};
