/** MaxPool on oneDNN's pooling primitive (NHWC). */
import { MaxPool, type KernelConfig } from '@tensorflow/tfjs-core';
import { poolForwardConfig } from './shared-pool-forward.js';

export const maxPoolConfig: KernelConfig = poolForwardConfig(MaxPool, true);
