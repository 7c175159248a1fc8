/**
 * layerwise-lr: layer-wise learning-rate initialization (Algorithm 1 of "Initializing the Layer-wise
 * Learning Rate") for TensorFlow.js, and optimizers that take per-parameter learning-rate multipliers.
 */
export * from './types.js';
export * from './version.js';
export * from './rng.js';
export * from './params.js';
export * from './init.js';
export * from './measure.js';
export * from './schemes.js';
export * from './lr-table.js';
export * from './optim/index.js';
export * from './schedule.js';
export * from './accumulate.js';
export * from './mup.js';
export * from './frozen-adagrad.js';
export * from './table-compare.js';
