import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareEta, spearman } from '../src/table-compare.js';
import { assertClose } from './core-helpers.js';

const rows = (etas: Record<string, number>) => ({ entries: Object.entries(etas).map(([name, eta]) => ({ name, eta })) });

test('spearman: by hand, with ties as average ranks; sign flips with the order', () => {
  // ranks [1, 2, 3] vs [1, 3, 2]: 1 - 6 * (0 + 1 + 1) / (3 * 8) = 0.5
  assertClose(spearman([1, 2, 3], [10, 30, 20]), 0.5, 1e-12);
  assertClose(spearman([1, 2, 3, 4], [8, 6, 4, 2]), -1, 1e-12);
  // ties: a = [1, 1, 2] -> ranks [1.5, 1.5, 3]; b = [1, 2, 3] -> [1, 2, 3]: Pearson of the ranks = 0.8660254 (sqrt(3)/2)
  assertClose(spearman([1, 1, 2], [1, 2, 3]), Math.sqrt(3) / 2, 1e-12);
  assert.ok(Number.isNaN(spearman([1, 1], [1, 2])), 'a constant table has no rank correlation');
});

test('compareEta: the Table 3 statistics by hand; names matched whatever their order; different tensors refused', () => {
  const ref = rows({ a: 1, b: 2, c: 4 });
  const other = rows({ c: 5, a: 0.5, b: 2 });
  const c = compareEta(ref, other);
  assert.equal(c.count, 3);
  assertClose(c.spearman, 1, 1e-12);
  // |ln ratio| = [ln 2, 0, ln 1.25]; deviations 100 |b - a| / a = [50, 0, 25]
  assertClose(c.maxAbsLogRatio, Math.log(2), 1e-12);
  assert.equal(c.maxAbsLogRatioAt, 'a');
  assertClose(c.meanAbsLogRatio, (Math.log(2) + Math.log(1.25)) / 3, 1e-12);
  assertClose(c.maxDeviationPct, 50, 1e-12);
  assertClose(c.meanDeviationPct, 25, 1e-12);
  const self = compareEta(ref, ref);
  assert.deepEqual([self.spearman, self.maxAbsLogRatio, self.maxDeviationPct], [1, 0, 0]);
  assert.throws(() => compareEta(ref, rows({ a: 1, b: 2, d: 3 })), /different tensors; only in the first: c; only in the second: d/);
});
