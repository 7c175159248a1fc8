/** DepthwiseConv2dNativeBackpropInput on oneDNN (grouped convolution backward-data). */
import {
  backend_util,
  DepthwiseConv2dNativeBackpropInput,
  type DepthwiseConv2dNativeBackpropInputAttrs,
  type KernelConfig,
} from '@tensorflow/tfjs-core';
import { nativeOrCpu } from './shared-native-fallback.js';
import { deferred } from './shared-lazy.js';
import { nativeConvBackpropInput } from './shared-conv-run.js';

export const depthwiseConv2dNativeBackpropInputConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropInput,
  backendName: 'onednn',
  // Deferred: computed when read (the fused conv ops' gradients compute it even for the data input).
  kernelFunc: deferred(nativeOrCpu(DepthwiseConv2dNativeBackpropInput, ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs;
    const { strides, dilations, pad, dimRoundingMode, inputShape } =
      attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
    const ci = backend_util.computeConv2DInfo(
      inputShape,
      filter!.shape as [number, number, number, number],
      strides,
      dilations,
      pad,
      dimRoundingMode,
      true,
    );
    return nativeConvBackpropInput(backend, DepthwiseConv2dNativeBackpropInput, dy!, filter!, ci, true);
  }), (_inputs, attrs) => [...(attrs.inputShape as number[])]),
};
