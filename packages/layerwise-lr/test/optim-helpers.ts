/** Helpers shared by the optimizer tests. */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { ParamInfo, ParamKind } from '../src/types.js';

/** A ParamInfo over a fresh variable (tfjs picks the variable's own unique name: the optimizer must map it to ours). */
export function makeParam(name: string, kind: ParamKind, values: number[], shape: number[]): ParamInfo {
  const variable = tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), true));
  const numel = shape.reduce((a, b) => a * b, 1);
  return { name, shape, numel, kind, fanIn: shape[0] ?? 1, fanOut: shape[shape.length - 1] ?? 1, variable };
}

/** Element-wise |actual - expected| <= tol (absolute). */
export function assertNear(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    assert.ok(d <= tol, `${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (|diff| ${d} > ${tol})`);
  }
}
