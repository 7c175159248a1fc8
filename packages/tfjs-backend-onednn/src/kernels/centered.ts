/**
 * Centered values x - m (m broadcast over a block of x's dims, as tf.moments' `sub(x, mean)`), deferred:
 * Sub(x, m) with a smaller, broadcast m is not computed when made (backend.lazyTensorInfo with recipe
 * `subOf`). Its consumers in tf.moments and its gradient read x and m instead:
 *  - Sum/Mean of Square(x - m) over exactly the broadcast dims (the variance): ewReduceCenteredSq;
 *  - LwlrSquareGrad(dy, x - m) (the gradient of the Square): ewSquareGradCentered, dy full or broadcast
 *    like m.
 * The same float operations as Sub, Square, Sum / LwlrSquareGrad (sums in double), so the same values up to
 * the order of the double sums. Anything else reading x - m computes it then.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendOneDNN } from '../backend.js';
import { reductionBlock } from './reduce-block.js';

export interface Centered {
  /** [outer, r, inner]: m is constant along r. */
  block: [number, number, number];
  /** x's dims (of size > 1) along which m is broadcast. */
  axes: number[];
  x: tf.TensorInfo;
  m: tf.TensorInfo;
}

/** m's shape right-aligned to rank n (leading 1s). */
export function padShape(s: readonly number[], n: number): number[] {
  return [...new Array<number>(Math.max(0, n - s.length)).fill(1), ...s];
}

/** The layout of x - m when m broadcasts along one block of x's dims (and matches x on the others). */
export function centeredLayout(x: readonly number[], m: readonly number[]): Omit<Centered, 'x' | 'm'> | null {
  if (m.length > x.length) return null;
  const mp = padShape(m, x.length);
  const axes: number[] = [];
  for (let d = 0; d < x.length; d++) {
    if (mp[d] === x[d]) continue;
    if (mp[d] !== 1) return null;
    axes.push(d);
  }
  if (axes.length === 0) return null;
  const block = reductionBlock(x, axes);
  return block === null ? null : { block, axes };
}

/** When `t` is a deferred x - m not computed yet: x, m and the layout. */
export function centeredSource(backend: MathBackendOneDNN, t: tf.TensorInfo): Centered | null {
  const s = backend.subSource(t);
  if (s === null) return null;
  const lay = centeredLayout(s.a.shape, s.b.shape);
  return lay === null ? null : { ...lay, x: s.a, m: s.b };
}

/** Whether reducing x over `axes` reduces exactly the dims (of size > 1) along which m is broadcast. */
export function reducesBroadcastDims(c: Centered, axes: readonly number[]): boolean {
  const shape = c.x.shape;
  const red = new Set(axes);
  const bc = new Set(c.axes);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    if (red.has(d) !== bc.has(d)) return false;
  }
  return true;
}
