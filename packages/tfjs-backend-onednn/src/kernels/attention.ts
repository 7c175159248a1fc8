/**
 * LwlrAttention (native/attention.cc): multi-head scaled dot-product attention on the projections' layout.
 *   inputs { q, k, v: [B, N, H*d], bias?: [H, N, N], mask?: [nW, N, N] }, attrs { numHeads, scale, nW }
 *   -> [out [B, N, H*d], probs [B, H, N, N]]
 *   out = merge_h(softmax(scale * q_h k_h^T + bias_h + mask_{b mod nW}) v_h)
 * The gradient saves q, k, v (which the projections' fused matMul saves anyway) and the probabilities; it
 * replaces tfjs's split-heads transposes (3 copies of q/k/v, saved), the scaled q, the logits and the merge.
 * LwlrAttentionGrad { dy, q, k, v, probs } -> [dq, dk, dv, dbias] (dbias [H, N, N] = sum over the batch, or
 * [1] when there is no bias). No gradient for the mask (a constant) and no second-order gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendOneDNN } from '../backend.js';
import { allocOutput, f32In, sizeOf } from './ew-util.js';

interface AttentionAttrs {
  numHeads: number;
  scale: number;
  nW: number;
}

function f32(backend: MathBackendOneDNN, t: tf.TensorInfo | undefined, kernel: string, name: string): Float32Array {
  const v = t ? f32In(backend, t) : null;
  if (v === null) throw new Error(`${kernel}: ${name} must be a float32 tensor`);
  return v;
}

/** [B, N, H, d, nW] of the problem, checked. */
function problemDims(q: tf.TensorInfo, k: tf.TensorInfo, v: tf.TensorInfo, a: AttentionAttrs, kernel: string): number[] {
  const same = (t: tf.TensorInfo) => t.shape.length === 3 && t.shape.every((d, i) => d === q.shape[i]);
  if (q.shape.length !== 3 || !same(k) || !same(v)) {
    throw new Error(`${kernel}: q, k, v must be [B, N, C] of one shape, got [${q.shape}], [${k.shape}], [${v.shape}]`);
  }
  const [B, N, C] = q.shape as [number, number, number];
  const H = a.numHeads;
  if (!(Number.isInteger(H) && H >= 1 && C % H === 0)) throw new Error(`${kernel}: ${C} channels are not a multiple of numHeads ${H}`);
  if (!(Number.isInteger(a.nW) && a.nW >= 1 && B % a.nW === 0)) throw new Error(`${kernel}: batch ${B} is not a multiple of nW ${a.nW}`);
  return [B, N, H, C / H, a.nW];
}

export const attentionConfig: tf.KernelConfig = {
  kernelName: 'LwlrAttention',
  backendName: 'onednn',
  kernelFunc: ({ inputs, backend: b, attrs }) => {
    const backend = b as MathBackendOneDNN;
    const K = 'LwlrAttention';
    const a = attrs as unknown as AttentionAttrs;
    const { q, k, v, bias, mask } = inputs;
    const dims = problemDims(q!, k!, v!, a, K);
    const [B, N, H, , nW] = dims as [number, number, number, number, number];
    if (bias && (bias.shape.length !== 3 || bias.shape[0] !== H || bias.shape[1] !== N || bias.shape[2] !== N)) {
      throw new Error(`${K}: bias must be [${H}, ${N}, ${N}], got [${bias.shape}]`);
    }
    if (mask && (mask.shape.length !== 3 || mask.shape[0] !== nW || mask.shape[1] !== N || mask.shape[2] !== N)) {
      throw new Error(`${K}: mask must be [${nW}, ${N}, ${N}], got [${mask.shape}]`);
    }
    const out = allocOutput(backend, sizeOf(q!.shape));
    const probs = allocOutput(backend, B * H * N * N);
    backend.native.attention(
      f32(backend, q, K, 'q'), f32(backend, k, K, 'k'), f32(backend, v, K, 'v'),
      bias ? f32(backend, bias, K, 'bias') : null, mask ? f32(backend, mask, K, 'mask') : null,
      dims, a.scale, out, probs,
    );
    return [backend.makeTensorInfo(q!.shape, 'float32', out), backend.makeTensorInfo([B, H, N, N], 'float32', probs)];
  },
};

export const attentionGradConfig: tf.KernelConfig = {
  kernelName: 'LwlrAttentionGrad',
  backendName: 'onednn',
  kernelFunc: ({ inputs, backend: b, attrs }) => {
    const backend = b as MathBackendOneDNN;
    const K = 'LwlrAttentionGrad';
    const a = attrs as unknown as AttentionAttrs & { hasBias: boolean };
    const { dy, q, k, v, probs } = inputs;
    const dims = problemDims(q!, k!, v!, a, K);
    const [, N, H] = dims as [number, number, number];
    const n = sizeOf(q!.shape);
    const [dq, dk, dv] = [0, 1, 2].map(() => allocOutput(backend, n));
    const dbias = a.hasBias ? allocOutput(backend, H * N * N) : null;
    backend.native.attentionGrad(
      f32(backend, dy, K, 'dy'), f32(backend, q, K, 'q'), f32(backend, k, K, 'k'), f32(backend, v, K, 'v'),
      f32(backend, probs, K, 'probs'), dims, a.scale, dq, dk, dv, dbias,
    );
    return [
      ...[dq, dk, dv].map((g) => backend.makeTensorInfo(q!.shape, 'float32', g!)),
      dbias ? backend.makeTensorInfo([H, N, N], 'float32', dbias) : backend.makeTensorInfo([1], 'float32', new Float32Array(1)),
    ];
  },
};

tf.registerGradient({
  kernelName: 'LwlrAttention',
  inputsToSave: ['q', 'k', 'v'],
  outputsToSave: [false, true],
  gradFunc: (dys, saved, attrs) => {
    const [q, k, v, probs] = saved as tf.Tensor[];
    const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
    const a = attrs as unknown as AttentionAttrs & { hasBias: boolean };
    const [dq, dk, dv, dbias] = tf.engine().runKernel('LwlrAttentionGrad', { dy, q: q!, k: k!, v: v!, probs: probs! }, attrs as tf.NamedAttrMap) as tf.Tensor[];
    const N = q!.shape[1]!;
    return {
      q: () => dq!,
      k: () => dk!,
      v: () => dv!,
      bias: () => dbias!,
      // the mask is a constant; its gradient is never asked for unless it depends on a differentiated tensor
      mask: () => tf.zeros([a.nW, N, N]),
    };
  },
});
