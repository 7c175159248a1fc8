/**
 * A seeded synthetic classification dataset (offline demos, tests): each class is a fixed random prototype
 * image (pixels N(0, separation^2)), examples are a prototype plus N(0, noise^2) pixel noise. With the defaults
 * (0.3, 1) pixels have about unit variance, as normalized real data, and a small MLP needs an epoch or more to
 * separate the classes: losses fall, but not to zero at once (the old prototypes of std 1 were separated in a
 * few steps, which hid most behaviour from the tests). Deterministic per seed.
 */
import { Rng } from 'layerwise-lr';
import type { Dataset, Split } from './dataset.js';

export interface SyntheticOptions {
  shape?: [number, number, number];
  numClasses?: number;
  trainCount?: number;
  testCount?: number;
  /** Std of the class prototypes' pixels (default 0.3). */
  separation?: number;
  /** Std of the per-example pixel noise (default 1). */
  noise?: number;
  seed?: number;
}

export function loadSynthetic(opts: SyntheticOptions = {}): Dataset {
  const shape = opts.shape ?? [28, 28, 1];
  const numClasses = opts.numClasses ?? 10;
  const rng = new Rng(opts.seed ?? 0);
  const size = shape[0] * shape[1] * shape[2];
  const protos = Array.from({ length: numClasses }, () => rng.fillNormal(new Float32Array(size), 0, opts.separation ?? 0.3));
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
