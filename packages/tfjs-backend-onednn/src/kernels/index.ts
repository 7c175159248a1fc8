/**
 * Every native kernel of the backend. Each file exports KernelConfig objects (backendName is set at
 * registration). To add one: write src/kernels/<KernelName>.ts and add it to this list.
 */
import type { KernelConfig } from '@tensorflow/tfjs-core';

export const nativeKernels: KernelConfig[] = [
];
