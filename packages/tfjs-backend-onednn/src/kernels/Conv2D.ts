/** Conv2D on oneDNN (NHWC or NCHW, stride, dilation, same/valid/explicit padding). */
import { backend_util, Conv2D, type Conv2DAttrs, type KernelConfig } from '@tensorflow/tfjs-core';
import { nativeOrCpu } from './shared-native-fallback.js';
import { nativeConvForward } from './shared-conv-run.js';

export const conv2DConfig: KernelConfig = {
  kernelName: Conv2D,
  backendName: 'onednn',
  kernelFunc: nativeOrCpu(Conv2D, ({ inputs, backend, attrs }) => {
    const { x, filter } = inputs;
    const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as Conv2DAttrs;
    const ci = backend_util.computeConv2DInfo(
      x!.shape as [number, number, number, number],
      filter!.shape as [number, number, number, number],
      strides,
      dilations,
      pad,
      dimRoundingMode,
      false,
      backend_util.convertConv2DDataFormat(dataFormat),
    );
    return nativeConvForward(backend, Conv2D, x!, filter!, ci, false);
  }),
};
