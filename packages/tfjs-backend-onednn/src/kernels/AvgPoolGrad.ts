/**
 * AvgPoolGrad on oneDNN's pooling backward. Like the cpu kernel it spreads dy / (KH * KW) over every window
 * (include-padding semantics, even where the forward divided by fewer pixels).
 */
import { backend_util, AvgPoolGrad, type AvgPoolGradAttrs, type KernelConfig } from '@tensorflow/tfjs-core';
import { nativeOrCpu } from './shared-native-fallback.js';
import { allocOutput } from './shared-output-alloc.js';
import { poolParams, sizeOf } from './shared-conv-params.js';
import { poolInputsOk } from './shared-pool-run.js';

export const avgPoolGradConfig: KernelConfig = {
  kernelName: AvgPoolGrad,
  backendName: 'onednn',
  kernelFunc: nativeOrCpu(AvgPoolGrad, ({ inputs, backend, attrs }) => {
    const { dy, input } = inputs;
    const { filterSize, strides, pad } = attrs as unknown as AvgPoolGradAttrs;
    // As the cpu kernel: no dimRoundingMode here.
    const ci = backend_util.computePool2DInfo(
      input!.shape as [number, number, number, number],
      filterSize,
      strides,
      1,
      pad,
    );
    if (!dy || dy.shape.join(',') !== ci.outShape.join(',')) return null;
    const vals = poolInputsOk(backend, AvgPoolGrad, ci, dy);
    if (!vals) return null;
    const out = allocOutput(backend, sizeOf(ci.inShape));
    backend.native.avgPoolGrad(vals[0], out, poolParams(ci));
    return backend.makeTensorInfo(input!.shape, 'float32', out);
  }),
};
