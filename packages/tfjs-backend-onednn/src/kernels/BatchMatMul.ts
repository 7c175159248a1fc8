/** BatchMatMul on oneDNN (2-D and batched, every transpose combination, broadcast batch dims). */
import { BatchMatMul, type KernelConfig, type BatchMatMulAttrs } from '@tensorflow/tfjs-core';
import { nativeOrCpu } from './shared-native-fallback.js';
import { nativeMatMul } from './shared-matmul.js';

export const batchMatMulConfig: KernelConfig = {
  kernelName: BatchMatMul,
  backendName: 'onednn',
  kernelFunc: nativeOrCpu(BatchMatMul, ({ inputs, backend, attrs }) => {
    const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
    return nativeMatMul(backend, BatchMatMul, inputs.a!, inputs.b!, !!transposeA, !!transposeB);
  }),
};
