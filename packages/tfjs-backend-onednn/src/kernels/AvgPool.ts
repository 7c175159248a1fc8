/** AvgPool on oneDNN's pooling primitive (NHWC), dividing by the pixels inside the input as tfjs does. */
import { AvgPool, type KernelConfig } from '@tensorflow/tfjs-core';
import { poolForwardConfig } from './shared-pool-forward.js';

export const avgPoolConfig: KernelConfig = poolForwardConfig(AvgPool, false);
