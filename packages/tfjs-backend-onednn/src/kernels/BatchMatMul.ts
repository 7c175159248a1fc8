/** BatchMatMul on oneDNN (2-D and batched, every transpose combination, broadcast batch dims). */
import { BatchMatMul, type KernelConfig, type BatchMatMulAttrs, type NamedTensorInfoMap, type NamedAttrMap } from '@tensorflow/tfjs-core';
import { nativeOrCpu } from './shared-native-fallback.js';
import { broadcastShapes, nativeMatMul } from './shared-matmul.js';
import { deferred } from './shared-lazy.js';

/** The output shape when the product is well-formed and not empty (else null: run now, errors now). */
function outShape(inputs: NamedTensorInfoMap, attrs: NamedAttrMap): number[] | null {
  const a = inputs.a!.shape;
  const b = inputs.b!.shape;
  if (a.length < 2 || b.length < 2) return null;
  const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
  const M = transposeA ? a[a.length - 1]! : a[a.length - 2]!;
  const K = transposeA ? a[a.length - 2]! : a[a.length - 1]!;
  const Kb = transposeB ? b[b.length - 1]! : b[b.length - 2]!;
  const N = transposeB ? b[b.length - 2]! : b[b.length - 1]!;
  const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2));
  if (K !== Kb || K === 0 || batch === null) return null;
  const shape = [...batch, M, N];
  return shape.every((d) => d > 0) ? shape : null;
}

export const batchMatMulConfig: KernelConfig = {
  kernelName: BatchMatMul,
  backendName: 'onednn',
  // Deferred: computed when read (the fused matMul op's gradient computes the input gradient even for the
  // data input of a first linear Dense layer; see shared-lazy.ts).
  kernelFunc: deferred(
    nativeOrCpu(BatchMatMul, ({ inputs, backend, attrs }) => {
      const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
      return nativeMatMul(backend, BatchMatMul, inputs.a!, inputs.b!, !!transposeA, !!transposeB);
    }),
    outShape,
  ),
};
