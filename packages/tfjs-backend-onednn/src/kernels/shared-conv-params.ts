/**
 * Shared by the native conv and pool kernels: tfjs's Conv2DInfo -> the parameter arrays of the addon, plus
 * the bias/activation handling of the fused convolutions.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_NAME, type MathBackendOneDNN } from '../backend.js';

type ConvInfo = tf.backend_util.Conv2DInfo;

/**
 * oneDNN requires (in + padBefore + padAfter - effectiveKernel) / stride + 1 == out (integer division). tfjs's
 * pads satisfy it for 'same'/'valid'/explicit pads; with dimRoundingMode the after-pad may need to change:
 * the after-pad only decides how many zeros follow the input, so setting it to what the output size needs
 * gives the same values as the cpu kernel (which skips out-of-range pixels).
 */
function padAfter(inSize: number, out: number, k: number, dil: number, stride: number, before: number, after: number): number {
  const eff = (k - 1) * dil + 1;
  if (Math.floor((inSize + before + after - eff) / stride) + 1 === out) return after;
  return (out - 1) * stride + eff - inSize - before;
}

/**
 * Parameters of the addon's conv functions: [N, IH, IW, IC, OH, OW, OC, KH, KW, SH, SW, DH, DW, PT, PL, PB,
 * PR, G, NCHW], dilations as in tfjs (the addon subtracts 1 for oneDNN). groups = IC for depthwise.
 */
export function convParams(ci: ConvInfo, groups: number): number[] {
  const { top, left, bottom, right } = ci.padInfo;
  const pb = padAfter(ci.inHeight, ci.outHeight, ci.filterHeight, ci.dilationHeight, ci.strideHeight, top, bottom);
  const pr = padAfter(ci.inWidth, ci.outWidth, ci.filterWidth, ci.dilationWidth, ci.strideWidth, left, right);
  return [
    ci.batchSize,
    ci.inHeight,
    ci.inWidth,
    ci.inChannels,
    ci.outHeight,
    ci.outWidth,
    ci.outChannels,
    ci.filterHeight,
    ci.filterWidth,
    ci.strideHeight,
    ci.strideWidth,
    ci.dilationHeight,
    ci.dilationWidth,
    top,
    left,
    pb,
    pr,
    groups,
    ci.dataFormat === 'channelsFirst' ? 1 : 0,
  ];
}

/** Parameters of the addon's pool functions: [N, IH, IW, C, OH, OW, KH, KW, SH, SW, PT, PL, PB, PR]. */
export function poolParams(ci: ConvInfo): number[] {
  const { top, left, bottom, right } = ci.padInfo;
  const pb = padAfter(ci.inHeight, ci.outHeight, ci.filterHeight, 1, ci.strideHeight, top, bottom);
  const pr = padAfter(ci.inWidth, ci.outWidth, ci.filterWidth, 1, ci.strideWidth, left, right);
  return [
    ci.batchSize,
    ci.inHeight,
    ci.inWidth,
    ci.inChannels,
    ci.outHeight,
    ci.outWidth,
    ci.filterHeight,
    ci.filterWidth,
    ci.strideHeight,
    ci.strideWidth,
    top,
    left,
    pb,
    pr,
  ];
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

const postOpActivations = new Set(['linear', 'relu', 'relu6', 'leakyrelu', 'elu', 'sigmoid']);

/**
 * The per-channel bias of a fused conv as a Float32Array of outChannels values, or null when the bias's
 * broadcast is not per-channel (the caller then falls back). Accepts [C], [1,..,1,C] (NHWC), a scalar or
 * [1] (broadcast to every channel), and for NCHW a 1-D [C] (the cpu kernel reshapes it to [C,1,1]).
 */
export function perChannelBias(
  backend: MathBackendOneDNN,
  bias: tf.TensorInfo,
  outChannels: number,
  channelsFirst: boolean,
): Float32Array | null {
  if (bias.dtype !== 'float32') return null;
  const v = backend.data.get(bias.dataId).values;
  if (!(v instanceof Float32Array)) return null;
  const n = sizeOf(bias.shape);
  if (n === 1) return new Float32Array(outChannels).fill(v[0]);
  if (n !== outChannels) return null;
  if (channelsFirst) return bias.shape.length === 1 ? v : null;
  if (bias.shape.length > 4 || bias.shape[bias.shape.length - 1] !== outChannels) return null;
  return v;
}

/** Whether the activation runs as a oneDNN post-op ('prelu' runs after, through the Prelu kernel). */
export function isPostOpActivation(act: string | null | undefined): boolean {
  return postOpActivations.has(act ?? 'linear');
}

/** y = prelu(res, alpha) with the backend's own Prelu kernel; disposes res. */
export function applyPrelu(backend: MathBackendOneDNN, res: tf.TensorInfo, alpha: tf.TensorInfo): tf.TensorInfo | null {
  const prelu = tf.getKernel('Prelu', BACKEND_NAME);
  if (!prelu) return null;
  const r = prelu.kernelFunc({ inputs: { x: res, alpha }, backend, attrs: {} }) as tf.TensorInfo;
  backend.disposeIntermediateTensorInfo(res);
  return r;
}
