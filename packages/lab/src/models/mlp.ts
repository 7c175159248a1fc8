/**
 * The paper's MLP: input (flattened) -> (Dense(width) -> ReLU) x (depth - 1) -> Dense(classes).
 * Layers are named fc1, fc2, ... so parameters are `fc1.kernel`, `fc1.bias`, ...
 */
import * as tf from '@tensorflow/tfjs';
import { InitSeeds } from './layers/common.js';

export interface MlpOptions {
  inputShape: number[];
  numClasses: number;
  /** Hidden width (default 1024). */
  width?: number;
  /** Number of dense layers (default 2). */
  depth?: number;
  /**
   * Opt-in readout multiplier (muP's `MuReadout`, `mupOutputMultiplier`): a `readout_mult` rescaling of the
   * last dense layer's input (so it scales the kernel's contribution, not the bias). Absent (default): no
   * such layer, the paper's MLP.
   */
  outputMultiplier?: number;
  /** Seed of the default init (tfjs's Dense default: Glorot-uniform kernels, zero biases); absent: unseeded. */
  seed?: number;
}

export function mlp(opts: MlpOptions): tf.LayersModel {
  const width = opts.width ?? 1024;
  const depth = opts.depth ?? 2;
  if (!Number.isInteger(depth) || depth < 1) throw new Error(`--depth must be an integer >= 1, got ${depth}`);
  if (!Number.isInteger(width) || width < 1) throw new Error(`--width must be an integer >= 1, got ${width}`);
  const layers: tf.layers.Layer[] = [tf.layers.flatten({ inputShape: opts.inputShape, name: 'flatten' })];
  const seeds = new InitSeeds(opts.seed);
  const kernel = () => tf.initializers.glorotUniform({ seed: seeds.next() });
  for (let i = 1; i < depth; i++) layers.push(tf.layers.dense({ units: width, activation: 'relu', name: `fc${i}`, kernelInitializer: kernel() }));
  if (opts.outputMultiplier !== undefined) layers.push(tf.layers.rescaling({ scale: opts.outputMultiplier, offset: 0, name: 'readout_mult' }));
  layers.push(tf.layers.dense({ units: opts.numClasses, name: `fc${depth}`, kernelInitializer: kernel() }));
  return tf.sequential({ layers, name: 'mlp' });
}
