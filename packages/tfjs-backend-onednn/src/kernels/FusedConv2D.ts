/**
 * FusedConv2D on oneDNN: conv + per-channel bias + activation in one primitive. The cpu version calls its
 * own conv2D directly, hence this override.
 */
import { backend_util, FusedConv2D, type FusedConv2DAttrs, type KernelConfig } from '@tensorflow/tfjs-core';
import { nativeOrCpu } from './shared-native-fallback.js';
import { nativeConvForward } from './shared-conv-run.js';

export const fusedConv2DConfig: KernelConfig = {
  kernelName: FusedConv2D,
  backendName: 'onednn',
  kernelFunc: nativeOrCpu(FusedConv2D, ({ inputs, backend, attrs }) => {
    const { x, filter, bias, preluActivationWeights } = inputs;
    const { strides, pad, dataFormat, dilations, dimRoundingMode, activation, leakyreluAlpha } =
      attrs as unknown as FusedConv2DAttrs;
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
    return nativeConvForward(backend, FusedConv2D, x!, filter!, ci, false, {
      bias,
      activation,
      leakyreluAlpha,
      preluActivationWeights,
    });
  }),
};
