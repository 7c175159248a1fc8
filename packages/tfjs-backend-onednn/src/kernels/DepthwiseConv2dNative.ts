/** DepthwiseConv2dNative on oneDNN (grouped convolution, groups = in channels, any channel multiplier). */
import {
  backend_util,
  DepthwiseConv2dNative,
  type DepthwiseConv2dNativeAttrs,
  type KernelConfig,
} from '@tensorflow/tfjs-core';
import { nativeOrCpu } from './shared-native-fallback.js';
import { nativeConvForward } from './shared-conv-run.js';

export const depthwiseConv2dNativeConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNative,
  backendName: 'onednn',
  kernelFunc: nativeOrCpu(DepthwiseConv2dNative, ({ inputs, backend, attrs }) => {
    const { x, filter } = inputs;
    const { strides, pad, dilations, dimRoundingMode } = attrs as unknown as DepthwiseConv2dNativeAttrs;
    const $dilations = dilations ?? [1, 1];
    // The cpu kernel rejects strides and dilations both > 1: let it raise that error.
    if (!backend_util.eitherStridesOrDilationsAreOne(strides, $dilations)) return null;
    const ci = backend_util.computeConv2DInfo(
      x!.shape as [number, number, number, number],
      filter!.shape as [number, number, number, number],
      strides,
      $dilations,
      pad,
      dimRoundingMode,
      true,
    );
    return nativeConvForward(backend, DepthwiseConv2dNative, x!, filter!, ci, true);
  }),
};
