/**
 * _FusedMatMul on oneDNN: matmul + bias + activation in one primitive (bias and relu/relu6/leakyrelu/elu/
 * sigmoid as post-ops; prelu after). The cpu version calls its own batchMatMul directly, hence this override.
 */
import { _FusedMatMul, type KernelConfig, type _FusedMatMulAttrs } from '@tensorflow/tfjs-core';
import { nativeOrCpu } from './shared-native-fallback.js';
import { nativeMatMul } from './shared-matmul.js';

export const fusedMatMulConfig: KernelConfig = {
  kernelName: _FusedMatMul,
  backendName: 'onednn',
  kernelFunc: nativeOrCpu(_FusedMatMul, ({ inputs, backend, attrs }) => {
    const { transposeA, transposeB, activation, leakyreluAlpha } = attrs as unknown as _FusedMatMulAttrs;
    return nativeMatMul(
      backend,
      _FusedMatMul,
      inputs.a!,
      inputs.b!,
      !!transposeA,
      !!transposeB,
      inputs.bias,
      activation,
      leakyreluAlpha,
      inputs.preluActivationWeights,
    );
  }),
};
