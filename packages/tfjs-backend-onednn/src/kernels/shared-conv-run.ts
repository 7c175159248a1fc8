/**
 * The native convolutions shared by Conv2D/FusedConv2D and the depthwise kernels (forward with optional
 * fused bias + activation) and their backprops.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendOneDNN } from '../backend.js';
import { allocOutput } from './shared-output-alloc.js';
import { f32Values, noteFallback } from './shared-native-fallback.js';
import { applyPrelu, convParams, isPostOpActivation, perChannelBias, sizeOf } from './shared-conv-params.js';

type ConvInfo = tf.backend_util.Conv2DInfo;

export interface FusedArgs {
  bias?: tf.TensorInfo | null;
  activation?: string | null;
  leakyreluAlpha?: number;
  preluActivationWeights?: tf.TensorInfo | null;
}

function emptyResult(backend: MathBackendOneDNN, shape: number[]): tf.TensorInfo {
  return backend.makeTensorInfo(shape, 'float32', new Float32Array(0));
}

/** Forward conv (regular when depthwise=false, else depthwise with groups = in channels). */
export function nativeConvForward(
  backend: MathBackendOneDNN,
  kernelName: string,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  ci: ConvInfo,
  depthwise: boolean,
  fused: FusedArgs = {},
): tf.TensorInfo | null {
  if (x.dtype !== 'float32' || filter.dtype !== 'float32') {
    noteFallback(kernelName, 'non-float32 input');
    return null;
  }
  const act = fused.activation ?? 'linear';
  if (act !== 'prelu' && !isPostOpActivation(act)) {
    noteFallback(kernelName, `activation ${act}`);
    return null;
  }
  if (act === 'prelu' && (!fused.preluActivationWeights || ci.dataFormat === 'channelsFirst')) {
    noteFallback(kernelName, 'prelu with NCHW');
    return null;
  }
  const xv = f32Values(backend, x);
  const wv = f32Values(backend, filter);
  if (!xv || !wv) return null;
  let biasV: Float32Array | null = null;
  if (fused.bias) {
    biasV = perChannelBias(backend, fused.bias, ci.outChannels, ci.dataFormat === 'channelsFirst');
    if (!biasV) {
      noteFallback(kernelName, `bias shape [${fused.bias.shape}]`);
      return null;
    }
  }
  const outShape = ci.outShape;
  const n = sizeOf(outShape);
  if (n === 0) return emptyResult(backend, outShape);
  if (sizeOf(x.shape) === 0 || sizeOf(filter.shape) === 0) return null;
  const out = allocOutput(backend, n);
  backend.native.conv2d(
    xv,
    wv,
    out,
    convParams(ci, depthwise ? ci.inChannels : 1),
    biasV,
    act === 'prelu' ? 'linear' : act,
    fused.leakyreluAlpha ?? 0.2,
  );
  const res = backend.makeTensorInfo(outShape, 'float32', out);
  if (act !== 'prelu') return res;
  const r = applyPrelu(backend, res, fused.preluActivationWeights!);
  if (!r) backend.disposeIntermediateTensorInfo(res);
  return r;
}

/** dx of a conv: dy [N,OH,OW,OC] x filter -> [N,IH,IW,IC]. */
export function nativeConvBackpropInput(
  backend: MathBackendOneDNN,
  kernelName: string,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  ci: ConvInfo,
  depthwise: boolean,
): tf.TensorInfo | null {
  if (dy.dtype !== 'float32' || filter.dtype !== 'float32') {
    noteFallback(kernelName, 'non-float32 input');
    return null;
  }
  const dyv = f32Values(backend, dy);
  const wv = f32Values(backend, filter);
  if (!dyv || !wv) return null;
  const shape = ci.inShape;
  const n = sizeOf(shape);
  if (n === 0) return emptyResult(backend, shape);
  if (sizeOf(dy.shape) === 0 || sizeOf(filter.shape) === 0) return null;
  const out = allocOutput(backend, n);
  backend.native.conv2dBackpropInput(dyv, wv, out, convParams(ci, depthwise ? ci.inChannels : 1));
  return backend.makeTensorInfo(shape, 'float32', out);
}

/** dW of a conv: x, dy -> filter shape (tfjs layout). */
export function nativeConvBackpropFilter(
  backend: MathBackendOneDNN,
  kernelName: string,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  ci: ConvInfo,
  depthwise: boolean,
): tf.TensorInfo | null {
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') {
    noteFallback(kernelName, 'non-float32 input');
    return null;
  }
  const xv = f32Values(backend, x);
  const dyv = f32Values(backend, dy);
  if (!xv || !dyv) return null;
  const shape = ci.filterShape;
  const n = sizeOf(shape);
  if (n === 0) return emptyResult(backend, shape);
  if (sizeOf(x.shape) === 0 || sizeOf(dy.shape) === 0) return null;
  const out = allocOutput(backend, n);
  backend.native.conv2dBackpropFilter(xv, dyv, out, convParams(ci, depthwise ? ci.inChannels : 1));
  return backend.makeTensorInfo(shape, 'float32', out);
}
