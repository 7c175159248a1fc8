/** FusedDepthwiseConv2D on oneDNN: depthwise conv + per-channel bias + activation in one primitive. */
import {
  backend_util,
  FusedDepthwiseConv2D,
  type FusedDepthwiseConv2DAttrs,
  type KernelConfig,
} from '@tensorflow/tfjs-core';
import { nativeOrCpu } from './shared-native-fallback.js';
import { nativeConvForward } from './shared-conv-run.js';

export const fusedDepthwiseConv2DConfig: KernelConfig = {
  kernelName: FusedDepthwiseConv2D,
  backendName: 'onednn',
  kernelFunc: nativeOrCpu(FusedDepthwiseConv2D, ({ inputs, backend, attrs }) => {
    const { x, filter, bias, preluActivationWeights } = inputs;
    const { strides, pad, dilations, dimRoundingMode, activation, leakyreluAlpha } =
      attrs as unknown as FusedDepthwiseConv2DAttrs;
    const $dilations = dilations ?? [1, 1];
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
    return nativeConvForward(backend, FusedDepthwiseConv2D, x!, filter!, ci, true, {
      bias,
      activation,
      leakyreluAlpha,
      preluActivationWeights,
    });
  }),
};
