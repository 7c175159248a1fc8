/** Every kernel of the elementwise families (unary, binary, reductions, shape ops, norm, optimizers). */
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { unaryKernels } from './unary.js';
import { binaryKernels } from './binary.js';
import { reduceKernels } from './reduce.js';
import { shapeKernels } from './shape-ops.js';
import { batchNormGradConfig, fusedBatchNormConfig } from './FusedBatchNorm.js';
import { optimKernels } from './optim.js';

export const elementwiseKernels: KernelConfig[] = [
  ...unaryKernels,
  ...binaryKernels,
  ...reduceKernels,
  ...shapeKernels,
  fusedBatchNormConfig,
  batchNormGradConfig,
  ...optimKernels,
];
