/**
 * Every native kernel of the backend. Each file exports KernelConfig objects (backendName is set at
 * registration). To add one: write src/kernels/<KernelName>.ts and add it to this list.
 */
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { elementwiseKernels } from './elementwise.js';
import { batchMatMulConfig } from './BatchMatMul.js';
import { fusedMatMulConfig } from './_FusedMatMul.js';
import { conv2DConfig } from './Conv2D.js';
import { fusedConv2DConfig } from './FusedConv2D.js';
import { conv2DBackpropInputConfig } from './Conv2DBackpropInput.js';
import { conv2DBackpropFilterConfig } from './Conv2DBackpropFilter.js';
import { depthwiseConv2dNativeConfig } from './DepthwiseConv2dNative.js';
import { fusedDepthwiseConv2DConfig } from './FusedDepthwiseConv2D.js';
import { depthwiseConv2dNativeBackpropInputConfig } from './DepthwiseConv2dNativeBackpropInput.js';
import { depthwiseConv2dNativeBackpropFilterConfig } from './DepthwiseConv2dNativeBackpropFilter.js';
import { maxPoolConfig } from './MaxPool.js';
import { avgPoolConfig } from './AvgPool.js';
import { maxPoolGradConfig } from './MaxPoolGrad.js';
import { avgPoolGradConfig } from './AvgPoolGrad.js';
import { gatherKernels } from './Gather.js';

export const nativeKernels: KernelConfig[] = [
  ...elementwiseKernels,
  batchMatMulConfig,
  fusedMatMulConfig,
  conv2DConfig,
  fusedConv2DConfig,
  conv2DBackpropInputConfig,
  conv2DBackpropFilterConfig,
  depthwiseConv2dNativeConfig,
  fusedDepthwiseConv2DConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  maxPoolConfig,
  avgPoolConfig,
  maxPoolGradConfig,
  avgPoolGradConfig,
  ...gatherKernels,
];
