/** Conv2DBackpropFilter (the filter gradient of Conv2D) on oneDNN's convolution backward-weights. */
import {
  backend_util,
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  type KernelConfig,
} from '@tensorflow/tfjs-core';
import { nativeOrCpu } from './shared-native-fallback.js';
import { nativeConvBackpropFilter } from './shared-conv-run.js';

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'onednn',
  kernelFunc: nativeOrCpu(Conv2DBackpropFilter, ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs;
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
    // As the cpu kernel: dilation 1.
    const ci = backend_util.computeConv2DInfo(
      x!.shape as [number, number, number, number],
      filterShape,
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      backend_util.convertConv2DDataFormat(dataFormat),
    );
    return nativeConvBackpropFilter(backend, Conv2DBackpropFilter, x!, dy!, ci, false);
  }),
};
