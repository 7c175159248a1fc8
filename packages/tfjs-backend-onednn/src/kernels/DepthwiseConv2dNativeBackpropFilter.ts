/** DepthwiseConv2dNativeBackpropFilter on oneDNN (grouped convolution backward-weights). */
import {
  backend_util,
  DepthwiseConv2dNativeBackpropFilter,
  type DepthwiseConv2dNativeBackpropFilterAttrs,
  type KernelConfig,
} from '@tensorflow/tfjs-core';
import { nativeOrCpu } from './shared-native-fallback.js';
import { nativeConvBackpropFilter } from './shared-conv-run.js';

export const depthwiseConv2dNativeBackpropFilterConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  backendName: 'onednn',
  kernelFunc: nativeOrCpu(DepthwiseConv2dNativeBackpropFilter, ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs;
    const { strides, dilations, pad, dimRoundingMode, filterShape } =
      attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
    const ci = backend_util.computeConv2DInfo(
      x!.shape as [number, number, number, number],
      filterShape,
      strides,
      dilations,
      pad,
      dimRoundingMode,
      true,
    );
    return nativeConvBackpropFilter(backend, DepthwiseConv2dNativeBackpropFilter, x!, dy!, ci, true);
  }),
};
