import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { normalizeEta, layerwiseEtaFromG, schemeRawEta, schemeTable, LR_SCHEMES } from '../src/schemes.js';
import { paramsFromVariables } from '../src/params.js';
import { assertAllClose, assertClose, assertRejects, detFloats, useCpu } from './core-helpers.js';

await useCpu();

function weightedSum(eta: number[], numel: number[], excluded?: boolean[]): [number, number] {
  let s = 0;
  let m = 0;
  eta.forEach((e, i) => { if (!excluded?.[i]) { s += numel[i]! * e; m += numel[i]!; } });
  return [s, m];
}

test('normalizeEta: hand example and the identity sum m_i eta_i = sum m_i', () => {
  assertAllClose(normalizeEta([1, 2], [3, 1]), [0.8, 1.6]);
  const raw = Array.from(detFloats(50, 7), (v) => Math.exp(4 * v)); // spans e^-4 .. e^4
  const numel = Array.from(detFloats(50, 8), (v) => 1 + Math.floor((v + 1) * 5e5));
  const eta = normalizeEta(raw, numel);
  const [s, m] = weightedSum(eta, numel);
  assertClose(s, m, 1e-9);
  // ratios are kept
  assertClose(eta[3]! / eta[7]!, raw[3]! / raw[7]!, 1e-12);
});

test('normalizeEta: excluded entries get eta = 1 and take no part in the sums', () => {
  const eta = normalizeEta([1, 2, 1e9], [3, 1, 5], [false, false, true]);
  assertAllClose(eta, [0.8, 1.6, 1]);
  assert.deepEqual(normalizeEta([4, 4, 1], [2, 2, 2], [false, false, true]), [1, 1, 1]);
});

test('normalizeEta: bad input is an error', async () => {
  await assertRejects(() => normalizeEta([1], [1, 2]), /1 values but 2 sizes/);
  await assertRejects(() => normalizeEta([], []), /no parameters/);
  await assertRejects(() => normalizeEta([1, -1], [1, 1]), /positive finite/);
  await assertRejects(() => normalizeEta([1, Infinity], [1, 1]), /positive finite/);
  await assertRejects(() => normalizeEta([1], [0]), /positive integer/);
  await assertRejects(() => normalizeEta([1], [1], [true]), /every parameter is excluded/);
});

test('layerwiseEtaFromG: eta ~ G^-p, default p = 0.5, normalized', () => {
  const G = [4, 1, 16];
  const numel = [1, 1, 2];
  const { eta, excluded } = layerwiseEtaFromG(G, numel);
  // raw = [1/2, 1, 1/4]; mean = (0.5 + 1 + 0.5) / 4 = 0.5
  assertAllClose(eta, [1, 2, 0.5]);
  assert.deepEqual(excluded, [false, false, false]);
  const p1 = layerwiseEtaFromG(G, numel, { exponent: 1 }).eta; // raw [1/4, 1, 1/16]; mean = 1.375/4
  assertAllClose(p1, [0.25 / 0.34375, 1 / 0.34375, 0.0625 / 0.34375]);
  assertAllClose(layerwiseEtaFromG(G, numel, { exponent: 0 }).eta, [1, 1, 1]);
});

test('layerwiseEtaFromG: scaling G by c leaves eta unchanged', () => {
  const G = [3e-2, 7e-3, 1.1e-1, 4.2e-2];
  const numel = [100, 10, 1000, 7];
  const a = layerwiseEtaFromG(G, numel).eta;
  const b = layerwiseEtaFromG(G.map((g) => g * 123.5), numel).eta;
  assertAllClose(b, a, 1e-12);
});

test('layerwiseEtaFromG: zero-gradient parameters relative to the median, policies', async () => {
  // a ViT-like spread: the largest G (class token) is 1e5 above the smallest real one
  const names = ['cls_token', 'patch.kernel', 'q.kernel', 'k.kernel', 'k.bias', 'fc.kernel', 'unused.bias'];
  const G = [1e3, 1e-2, 2e-2, 3e-2, 2e-9, 5e-2, 0];
  const numel = [4, 100, 64, 64, 8, 64, 8];
  const r = layerwiseEtaFromG(G, numel, { names });
  assert.deepEqual(r.excluded, [false, false, false, false, true, false, true]);
  assert.equal(r.eta[4], 1);
  assert.equal(r.eta[6], 1);
  assert.deepEqual(r.zeroGradient.names, ['k.bias', 'unused.bias']);
  assert.equal(r.zeroGradient.medianG, 2e-2);
  assertClose(r.zeroGradient.cutoff, 2e-6);
  assert.match(r.warnings.join(' '), /k\.bias.*unused\.bias/);
  const [s, m] = weightedSum(r.eta, numel, r.excluded);
  assertClose(s, m, 1e-9);
  // a threshold relative to the maximum (1e3 * 1e-4 = 0.1) would have flagged every real tensor; the median does not
  assert.equal(r.excluded.filter(Boolean).length, 2);
  await assertRejects(() => layerwiseEtaFromG(G, numel, { names, zeroGradient: { policy: 'error' } }), /k\.bias/, /unused\.bias/, /policy/);
  // keep: G = 0 exactly cannot be kept; a tiny nonzero one is kept with a huge eta
  await assertRejects(() => layerwiseEtaFromG(G, numel, { names, zeroGradient: { policy: 'keep' } }), /G = 0 exactly/, /unused\.bias/);
  const kept = layerwiseEtaFromG(G.slice(0, 6), numel.slice(0, 6), { names: names.slice(0, 6), zeroGradient: { policy: 'keep' } });
  assert.deepEqual(kept.excluded, [false, false, false, false, false, false]);
  assert.ok(kept.eta[4]! > 1e3 * kept.eta[3]!);
  // a looser threshold
  const loose = layerwiseEtaFromG(G, numel, { names, zeroGradient: { threshold: 0.6 } });
  assert.deepEqual(loose.zeroGradient.names, ['patch.kernel', 'k.bias', 'unused.bias']);
});

test('layerwiseEtaFromG: bad options and all-zero gradients are errors', async () => {
  await assertRejects(() => layerwiseEtaFromG([1, 2], [1, 1], { exponent: -1 }), /exponent/);
  await assertRejects(() => layerwiseEtaFromG([1, 2], [1, 1], { exponent: NaN }), /exponent/);
  await assertRejects(() => layerwiseEtaFromG([1, 2], [1, 1], { zeroGradient: { threshold: -1 } }), /threshold/);
  await assertRejects(() => layerwiseEtaFromG([1, 2], [1, 1], { zeroGradient: { policy: 'drop' as never } }), /policy/);
  await assertRejects(() => layerwiseEtaFromG([0, 0], [1, 1]), /every parameter has a zero gradient/);
  await assertRejects(() => layerwiseEtaFromG([1, NaN], [1, 1], { names: ['a', 'b'] }), /'b'/);
});

test('fixed schemes: raw values as in the paper (0.1 -> 1, 2 -> 1) and normalized tables', async () => {
  assertAllClose(schemeRawEta('depth-increasing', 4), [0.1, 0.4, 0.7, 1]);
  assertAllClose(schemeRawEta('depth-decreasing', 3), [2, 1.5, 1]);
  assert.deepEqual(schemeRawEta('uniform', 3), [1, 1, 1]);
  assert.deepEqual(schemeRawEta('depth-increasing', 1), [1]);
  await assertRejects(() => schemeRawEta('layerwise' as never, 3), /needs a measurement/);
  await assertRejects(() => schemeRawEta('cosine' as never, 3), /unknown LR scheme/);
  assert.deepEqual([...LR_SCHEMES], ['uniform', 'layerwise', 'depth-increasing', 'depth-decreasing', 'frozen-adagrad']);

  const vars = {
    'fc1.kernel': tf.variable(tf.zeros([4, 8])),
    'fc1.bias': tf.variable(tf.zeros([8])),
    'fc2.kernel': tf.variable(tf.zeros([8, 2])),
    'fc2.bias': tf.variable(tf.zeros([2])),
  };
  const params = paramsFromVariables(vars);
  const numel = params.map((p) => p.numel);
  for (const scheme of ['uniform', 'depth-increasing', 'depth-decreasing'] as const) {
    const t = schemeTable(params, scheme);
    assert.equal(t.meta.scheme, scheme);
    assert.ok(t.entries.every((e) => e.G === null));
    const eta = t.entries.map((e) => e.eta);
    const [s, m] = weightedSum(eta, numel);
    assertClose(s, m, 1e-9, scheme);
  }
  const inc = schemeTable(params, 'depth-increasing').entries.map((e) => e.eta);
  assertClose(inc[3]! / inc[0]!, 10, 1e-12);
  const dec = schemeTable(params, 'depth-decreasing').entries.map((e) => e.eta);
  assertClose(dec[3]! / dec[0]!, 0.5, 1e-12);
  assert.deepEqual(schemeTable(params, 'uniform').entries.map((e) => e.eta), [1, 1, 1, 1]);
  tf.dispose(Object.values(vars));
});
