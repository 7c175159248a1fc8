/**
 * Mixup (Zhang et al. 2018): one lambda ~ Beta(alpha, alpha) per batch and a random permutation j of the
 * batch; images become `lambda x_i + (1 - lambda) x_j` and the loss `lambda CE(y_i) + (1 - lambda) CE(y_j)`.
 * (timm pairs each example with the reversed batch instead of a random permutation; same distribution of
 * pairs over a shuffled epoch.) The paper's strong augmentation uses alpha = 0.5.
 */
import type { Rng } from 'layerwise-lr';

/**
 * A Gamma(shape, 1) variate from `rng`: Marsaglia and Tsang (2000) for shape >= 1, and
 * Gamma(shape + 1) * U^(1/shape) below 1.
 *
 * @example
 * ```ts
 * const g = sampleGamma(new Rng(1), 0.5);
 * ```
 */
export function sampleGamma(rng: Rng, shape: number): number {
  if (!(shape > 0)) throw new Error(`gamma shape must be > 0, got ${shape}`);
  if (shape < 1) return sampleGamma(rng, shape + 1) * Math.pow(rng.uniform(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.uniform();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** A Beta(a, b) variate: X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). */
export function sampleBeta(rng: Rng, a: number, b: number): number {
  const x = sampleGamma(rng, a);
  const y = sampleGamma(rng, b);
  return x / (x + y);
}

/** A uniform random permutation of 0..n-1 (Fisher-Yates). */
export function randomPermutation(rng: Rng, n: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/**
 * Mixes a batch in place: `x[i] = lambda x[i] + (1 - lambda) x[perm[i]]` over `count` rows of `rowLen`
 * floats, `y2[i] = y[perm[i]]`. Returns y2.
 */
export function mixBatch(x: Float32Array, y: Int32Array, count: number, rowLen: number, lambda: number, perm: Int32Array): Int32Array {
  const src = x.slice(0, count * rowLen);
  const mu = 1 - lambda;
  const y2 = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const a = i * rowLen;
    const b = perm[i] * rowLen;
    for (let k = 0; k < rowLen; k++) x[a + k] = lambda * src[a + k] + mu * src[b + k];
    y2[i] = y[perm[i]];
  }
  return y2;
}
