/**
 * A seeded synthetic classification dataset (offline demos, tests): each class is a fixed random prototype
 * image, examples are prototypes plus Gaussian noise. Learnable, so losses fall; deterministic per seed.
 */
import { Rng } from 'layerwise-lr';
import type { Dataset, Split } from './dataset.js';

export interface SyntheticOptions {
  shape?: [number, number, number];
  numClasses?: number;
  trainCount?: number;
  testCount?: number;
  noise?: number;
  seed?: number;
}

export function loadSynthetic(opts: SyntheticOptions = {}): Dataset {
  const shape = opts.shape ?? [28, 28, 1];
  const numClasses = opts.numClasses ?? 10;
  const rng = new Rng(opts.seed ?? 0);
  const size = shape[0] * shape[1] * shape[2];
  const protos = Array.from({ length: numClasses }, () => rng.fillNormal(new Float32Array(size), 0, 1));
  const noise = opts.noise ?? 1;
  const make = (count: number): Split => {
    const images = new Float32Array(count * size);
    const labels = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const c = Math.floor(rng.uniform() * numClasses) % numClasses;
      labels[i] = c;
      const p = protos[c];
      for (let j = 0; j < size; j++) images[i * size + j] = p[j] + noise * rng.normal();
    }
    return { images, labels, count };
  };
  return { name: 'synthetic', shape, numClasses, train: make(opts.trainCount ?? 2048), test: make(opts.testCount ?? 512) };
}
