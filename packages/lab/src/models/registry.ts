/** Models by name, as the CLI's `--model` flag takes them. Each builder gets the data's shape and classes. */
import type * as tf from '@tensorflow/tfjs';
import { mlp } from './mlp.js';

export interface ModelOptions {
  inputShape: [number, number, number];
  numClasses: number;
  width?: number;
  depth?: number;
}

export type ModelBuilder = (o: ModelOptions) => tf.LayersModel;

const builders: Record<string, ModelBuilder> = {
  mlp: (o) => mlp({ inputShape: o.inputShape, numClasses: o.numClasses, width: o.width, depth: o.depth }),
};

/** Adds a model to the registry (the zoo registers its families here). */
export function registerModel(name: string, builder: ModelBuilder): void {
  builders[name] = builder;
}

export function modelNames(): string[] {
  return Object.keys(builders);
}

export function buildModel(name: string, o: ModelOptions): tf.LayersModel {
  const b = builders[name];
  if (!b) throw new Error(`unknown model '${name}' (expected one of: ${modelNames().join(', ')})`);
  return b(o);
}
