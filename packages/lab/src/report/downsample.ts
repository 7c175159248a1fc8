/**
 * Largest-Triangle-Three-Buckets downsampling (Steinarsson 2013): keeps the first and last point and, from each
 * of `n - 2` equal buckets in between, the point making the largest triangle with the previous kept point and
 * the next bucket's mean. Shape-preserving (spikes survive), O(length).
 */

/**
 * Indices of the points LTTB keeps (all of them when `xs.length <= n`). Non-finite y values are never
 * candidates (a diverged loss leaves a gap rather than a spike to Infinity).
 * @example lttbIndices([0, 1, 2, 3, 4], [0, 5, 0, 0, 0], 3) // [0, 1, 4]
 */
export function lttbIndices(xs: ArrayLike<number>, ys: ArrayLike<number>, n: number): number[] {
  const len = xs.length;
  if (n >= len || n < 3) return Array.from({ length: len }, (_, i) => i);
  const out = [0];
  const every = (len - 2) / (n - 2);
  let a = 0;
  for (let b = 0; b < n - 2; b++) {
    // next bucket's average (the last point for the final bucket)
    const ns = Math.floor((b + 1) * every) + 1;
    const ne = Math.min(len, Math.floor((b + 2) * every) + 1);
    let ax = 0, ay = 0, cnt = 0;
    for (let j = ns; j < ne; j++) {
      if (Number.isFinite(ys[j])) { ax += xs[j]; ay += ys[j]; cnt++; }
    }
    if (cnt) { ax /= cnt; ay /= cnt; } else { ax = xs[len - 1]; ay = Number.isFinite(ys[len - 1]) ? ys[len - 1] : 0; }
    const s = Math.floor(b * every) + 1;
    const e = Math.floor((b + 1) * every) + 1;
    const px = xs[a], py = ys[a];
    let best = -1, bestArea = -1;
    for (let j = s; j < e; j++) {
      if (!Number.isFinite(ys[j])) continue;
      const area = Math.abs((px - ax) * (ys[j] - py) - (px - xs[j]) * (ay - py));
      if (area > bestArea) { bestArea = area; best = j; }
    }
    if (best < 0) best = s; // a bucket of non-finite values: keep one so the gap shows
    out.push(best);
    a = Number.isFinite(ys[best]) ? best : a;
  }
  out.push(len - 1);
  return out;
}

/** Downsamples `points` to about `n` by LTTB on (x(p), y(p)). */
export function downsample<T>(points: readonly T[], n: number, x: (p: T) => number, y: (p: T) => number): T[] {
  if (points.length <= n) return points.slice();
  // plain loops: TypedArray.from with a map function goes through the iterator protocol (10x slower here)
  const xs = new Float64Array(points.length);
  const ys = new Float64Array(points.length);
  for (let i = 0; i < points.length; i++) {
    xs[i] = x(points[i]);
    ys[i] = y(points[i]);
  }
  return lttbIndices(xs, ys, n).map((i) => points[i]);
}
