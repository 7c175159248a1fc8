/** Conv2DBackpropInput (the input gradient of Conv2D) on oneDNN's convolution backward-data. */
import {
  backend_util,
  Conv2DBackpropInput,
  type Conv2DBackpropInputAttrs,
  type KernelConfig,
} from '@tensorflow/tfjs-core';
import { nativeOrCpu } from './shared-native-fallback.js';
import { deferred } from './shared-lazy.js';
import { nativeConvBackpropInput } from './shared-conv-run.js';

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: 'onednn',
  // Deferred: computed when read (the fused conv ops' gradients compute it even for the data input).
  kernelFunc: deferred(nativeOrCpu(Conv2DBackpropInput, ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs;
    const { inputShape, strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as Conv2DBackpropInputAttrs;
    // As the cpu kernel: dilation 1 (tfjs computes no conv gradient with dilation > 1).
    const ci = backend_util.computeConv2DInfo(
      inputShape,
      filter!.shape as [number, number, number, number],
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      backend_util.convertConv2DDataFormat(dataFormat),
    );
    return nativeConvBackpropInput(backend, Conv2DBackpropInput, dy!, filter!, ci, false);
  }), (_inputs, attrs) => [...(attrs.inputShape as number[])]),
};
