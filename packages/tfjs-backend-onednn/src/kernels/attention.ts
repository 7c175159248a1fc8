/**
 * Multi-head scaled dot-product attention on the projections' layout [B, N, H*d] (native/attention.cc), as two
 * kernels with their own gradients (the `attention` op in src/ops.ts chains them):
 *   LwlrAttentionScores { q, k, bias?: [H, N, N], mask?: [nW, N, N] }, attrs { numHeads, scale, nW }
 *     -> probs [B, H, N, N] = softmax(scale * q_h k_h^T + bias_h + mask_{b mod nW})
 *   LwlrAttentionApply { probs, v } (attr numHeads) -> out [B, N, H*d] = merge_h(probs_h v_h)
 * Their gradients save q, k, v (which the projections' fused matMul saves anyway) and the probabilities; they
 * replace tfjs's split-heads transposes (3 copies of q/k/v, saved), the scaled q, the logits, their sum with the
 * bias and mask, and the merge. Gradient kernels: LwlrAttentionApplyGrad { dy, probs, v } -> [dprobs, dv] and
 * LwlrAttentionScoresGrad { dy, q, k, probs } -> [dq, dk, dbias] (dbias [H, N, N] = sum over the batch, or [1]
 * without bias). No gradient for the mask (a constant) and no second-order gradients.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendOneDNN } from '../backend.js';
import { allocOutput, f32In, sizeOf } from './ew-util.js';

interface AttentionAttrs {
  numHeads: number;
  scale: number;
  nW: number;
  hasBias: boolean;
}

function f32(backend: MathBackendOneDNN, t: tf.TensorInfo | undefined, kernel: string, name: string): Float32Array {
  const v = t ? f32In(backend, t) : null;
  if (v === null) throw new Error(`${kernel}: ${name} must be a float32 tensor`);
  return v;
}

/** [B, N, H, d, nW] of the problem from a [B, N, C] tensor, checked. */
function problemDims(x: tf.TensorInfo, numHeads: number, nW: number, kernel: string): number[] {
  if (x.shape.length !== 3) throw new Error(`${kernel}: expected [B, N, C], got [${x.shape}]`);
  const [B, N, C] = x.shape as [number, number, number];
  if (!(Number.isInteger(numHeads) && numHeads >= 1 && C % numHeads === 0)) throw new Error(`${kernel}: ${C} channels are not a multiple of numHeads ${numHeads}`);
  if (!(Number.isInteger(nW) && nW >= 1 && B % nW === 0)) throw new Error(`${kernel}: batch ${B} is not a multiple of nW ${nW}`);
  return [B, N, numHeads, C / numHeads, nW];
}

function sameShape(a: tf.TensorInfo, b: tf.TensorInfo, kernel: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${kernel}: shapes [${a.shape}] and [${b.shape}] differ`);
  }
}

const scoresConfig: tf.KernelConfig = {
  kernelName: 'LwlrAttentionScores',
  backendName: 'onednn',
  kernelFunc: ({ inputs, backend: b, attrs }) => {
    const backend = b as MathBackendOneDNN;
    const K = 'LwlrAttentionScores';
    const a = attrs as unknown as AttentionAttrs;
    const { q, k, bias, mask } = inputs;
    sameShape(q!, k!, K);
    const dims = problemDims(q!, a.numHeads, a.nW ?? 1, K);
    const [B, N, H, , nW] = dims as [number, number, number, number, number];
    if (bias && (bias.shape.length !== 3 || bias.shape[0] !== H || bias.shape[1] !== N || bias.shape[2] !== N)) {
      throw new Error(`${K}: bias must be [${H}, ${N}, ${N}], got [${bias.shape}]`);
    }
    if (mask && (mask.shape.length !== 3 || mask.shape[0] !== nW || mask.shape[1] !== N || mask.shape[2] !== N)) {
      throw new Error(`${K}: mask must be [${nW}, ${N}, ${N}], got [${mask.shape}]`);
    }
    const probs = allocOutput(backend, B * H * N * N);
    backend.native.attentionScores(
      f32(backend, q, K, 'q'), f32(backend, k, K, 'k'),
      bias ? f32(backend, bias, K, 'bias') : null, mask ? f32(backend, mask, K, 'mask') : null, dims, a.scale, probs,
    );
    return backend.makeTensorInfo([B, H, N, N], 'float32', probs);
  },
};

const applyConfig: tf.KernelConfig = {
  kernelName: 'LwlrAttentionApply',
  backendName: 'onednn',
  kernelFunc: ({ inputs, backend: b, attrs }) => {
    const backend = b as MathBackendOneDNN;
    const K = 'LwlrAttentionApply';
    const { probs, v } = inputs;
    const dims = problemDims(v!, Number(attrs?.numHeads), 1, K);
    const [B, N, H] = dims as [number, number, number];
    if (probs!.shape.join(',') !== [B, H, N, N].join(',')) throw new Error(`${K}: probs must be [${B}, ${H}, ${N}, ${N}], got [${probs!.shape}]`);
    const out = allocOutput(backend, sizeOf(v!.shape));
    backend.native.attentionApply(f32(backend, probs, K, 'probs'), f32(backend, v, K, 'v'), dims, out);
    return backend.makeTensorInfo(v!.shape, 'float32', out);
  },
};

const applyGradConfig: tf.KernelConfig = {
  kernelName: 'LwlrAttentionApplyGrad',
  backendName: 'onednn',
  kernelFunc: ({ inputs, backend: b, attrs }) => {
    const backend = b as MathBackendOneDNN;
    const K = 'LwlrAttentionApplyGrad';
    const { dy, probs, v } = inputs;
    sameShape(dy!, v!, K);
    const dims = problemDims(v!, Number(attrs?.numHeads), 1, K);
    const dprobs = allocOutput(backend, sizeOf(probs!.shape));
    const dv = allocOutput(backend, sizeOf(v!.shape));
    backend.native.attentionApplyGrad(f32(backend, dy, K, 'dy'), f32(backend, probs, K, 'probs'), f32(backend, v, K, 'v'), dims, dprobs, dv);
    return [backend.makeTensorInfo(probs!.shape, 'float32', dprobs), backend.makeTensorInfo(v!.shape, 'float32', dv)];
  },
};

const scoresGradConfig: tf.KernelConfig = {
  kernelName: 'LwlrAttentionScoresGrad',
  backendName: 'onednn',
  kernelFunc: ({ inputs, backend: b, attrs }) => {
    const backend = b as MathBackendOneDNN;
    const K = 'LwlrAttentionScoresGrad';
    const a = attrs as unknown as AttentionAttrs;
    const { dy, q, k, probs } = inputs;
    sameShape(q!, k!, K);
    const dims = problemDims(q!, a.numHeads, a.nW ?? 1, K);
    const [, N, H] = dims as [number, number, number];
    const n = sizeOf(q!.shape);
    const dq = allocOutput(backend, n);
    const dk = allocOutput(backend, n);
    const dbias = a.hasBias ? allocOutput(backend, H * N * N) : null;
    backend.native.attentionScoresGrad(
      f32(backend, dy, K, 'dy'), f32(backend, q, K, 'q'), f32(backend, k, K, 'k'), f32(backend, probs, K, 'probs'),
      dims, a.scale, dq, dk, dbias,
    );
    return [
      backend.makeTensorInfo(q!.shape, 'float32', dq),
      backend.makeTensorInfo(q!.shape, 'float32', dk),
      dbias ? backend.makeTensorInfo([H, N, N], 'float32', dbias) : backend.makeTensorInfo([1], 'float32', new Float32Array(1)),
    ];
  },
};

export const attentionKernels: tf.KernelConfig[] = [scoresConfig, applyConfig, applyGradConfig, scoresGradConfig];

tf.registerGradient({
  kernelName: 'LwlrAttentionApply',
  inputsToSave: ['probs', 'v'],
  gradFunc: (dy, saved, attrs) => {
    const [probs, v] = saved as tf.Tensor[];
    const [dprobs, dv] = tf.engine().runKernel('LwlrAttentionApplyGrad', { dy: dy as tf.Tensor, probs: probs!, v: v! }, attrs as tf.NamedAttrMap) as tf.Tensor[];
    return { probs: () => dprobs!, v: () => dv! };
  },
});

tf.registerGradient({
  kernelName: 'LwlrAttentionScores',
  inputsToSave: ['q', 'k'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [q, k, probs] = saved as tf.Tensor[];
    const a = attrs as unknown as AttentionAttrs;
    const [dq, dk, dbias] = tf.engine().runKernel('LwlrAttentionScoresGrad', { dy: dy as tf.Tensor, q: q!, k: k!, probs: probs! }, attrs as tf.NamedAttrMap) as tf.Tensor[];
    const N = q!.shape[1]!;
    return {
      q: () => dq!,
      k: () => dk!,
      bias: () => dbias!,
      // the mask is a constant; its gradient is only asked for if it depends on a differentiated tensor
      mask: () => tf.zeros([a.nW, N, N]),
    };
  },
});
