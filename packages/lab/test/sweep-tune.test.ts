// `lwlr sweep --tune lr --confirm-seeds ...`: each combination of the other axes at its own best lr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { sweepConfigFrom } from '../src/sweep/config.js';
import type { SweepResults, TrialResult } from '../src/sweep/results.js';
import { LWLR_BIN } from '../src/sweep/runner.js';
import { bestPerGroup, checkTuneOptions, confirmConfig, parseSeeds, tunedResults, tuningPoints } from '../src/sweep/tune.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'lwlr-tune-'));

/** A finished tuning trial with the given eval metrics written to its directory. */
function trial(dir: string, id: string, params: Record<string, string | number>, m: { acc?: number; loss?: number; val?: number; test?: number }, status: TrialResult['status'] = 'done'): TrialResult {
  const rel = path.join('trials', id);
  mkdirSync(path.join(dir, rel), { recursive: true });
  const rec = { type: 'eval', epoch: 1, step: 1, trainLoss: m.loss ?? 1, testLoss: m.test ?? 1, testAcc: m.acc ?? 0.5, ...(m.val !== undefined ? { valAcc: m.val } : {}) };
  writeFileSync(path.join(dir, rel, 'metrics.jsonl'), `${JSON.stringify(rec)}\n`);
  return { id, dir: rel, params, status, finalTrainLoss: null, finalTestLoss: null, finalTestAcc: m.acc ?? null, bestTestAcc: null, epochs: 1, wallSeconds: 1, error: null };
}

const config = sweepConfigFrom({
  model: 'mlp', epochs: 1,
  grid: { method: [{ name: 'sgd', 'lr-scheme': 'uniform' }, { name: 'lw', 'lr-scheme': 'layerwise', exponent: 0.25 }], lr: [0.1, 0.2, 0.4] },
}, 's.yaml');

test('tune: best per combination by the metric (ties to the first value, diverged never wins); confirmation config; combined results', () => {
  const dir = tmp();
  const trials = [
    trial(dir, 'a1', { method: 'sgd', lr: 0.1 }, { acc: 0.7, loss: 0.9, val: 0.8, test: 0.6 }),
    trial(dir, 'a2', { method: 'sgd', lr: 0.2 }, { acc: 0.8, loss: 0.5, val: 0.6 }),
    trial(dir, 'a3', { method: 'sgd', lr: 0.4 }, { acc: 0.8, loss: 0.4, val: 0.7 }),
    trial(dir, 'b1', { method: 'lw', lr: 0.1 }, { acc: 0.6 }),
    trial(dir, 'b2', { method: 'lw', lr: 0.2 }, { acc: 0.9 }, 'diverged'),
    trial(dir, 'b3', { method: 'lw', lr: 0.4 }, { acc: 0.65 }),
  ];
  const byAcc = bestPerGroup(trials, dir, 'lr', 'final-test-acc');
  assert.deepEqual(byAcc.map((g) => [g.params, g.best, g.score, g.trial?.id]), [
    [{ method: 'sgd' }, 0.2, 0.8, 'a2'], // tie with 0.4: the first in the file's order
    [{ method: 'lw' }, 0.4, 0.65, 'b3'], // the diverged 0.2 never wins
  ]);
  assert.deepEqual(bestPerGroup(trials, dir, 'lr', 'final-train-loss')[0]!.best, 0.4, 'a loss: smaller is better');
  assert.deepEqual(bestPerGroup(trials, dir, 'lr', 'final-val-acc')[0]!.best, 0.1);
  assert.deepEqual(bestPerGroup(trials, dir, 'lr', 'final-test-loss')[0]!.best, 0.1, 'the validation loss of a language model: smaller is better');
  const allDiverged = bestPerGroup([trial(dir, 'c1', { method: 'sgd', lr: 0.1 }, {}, 'diverged')], dir, 'lr', 'final-test-acc');
  assert.deepEqual([allDiverged[0]!.best, allDiverged[0]!.trial], [null, null]);

  const c = confirmConfig(config, byAcc, 'lr', [1, 2]);
  assert.deepEqual(c.grid, { tuned: ['method-sgd', 'method-lw'], seed: [1, 2] });
  assert.deepEqual(c.variants!.tuned, {
    'method-sgd': { 'lr-scheme': 'uniform', lr: 0.2 },
    'method-lw': { 'lr-scheme': 'layerwise', exponent: 0.25, lr: 0.4 },
  });
  const confirm: SweepResults = {
    format: 'lwlr-sweep@1', config: {}, grid: c.grid, groups: [],
    trials: [
      { ...trials[0]!, id: 'x1', dir: 'trials/x1', params: { tuned: 'method-sgd', seed: 1 }, finalTestAcc: 0.84 },
      { ...trials[0]!, id: 'x2', dir: 'trials/x2', params: { tuned: 'method-sgd', seed: 2 }, finalTestAcc: 0.82 },
      { ...trials[0]!, id: 'y1', dir: 'trials/y1', params: { tuned: 'method-lw', seed: 1 }, finalTestAcc: 0.6 },
      { ...trials[0]!, id: 'y2', dir: 'trials/y2', params: { tuned: 'method-lw', seed: 2 }, status: 'diverged', finalTestAcc: null },
    ],
  };
  const r = tunedResults(config, byAcc, confirm, 'lr', 0, [1, 2]);
  assert.deepEqual(r.grid, { method: ['sgd', 'lw'], lr: [0.2, 0.4], seed: [0, 1, 2] });
  assert.deepEqual(r.trials.map((t) => [t.dir, t.params]), [
    ['tune/trials/a2', { method: 'sgd', lr: 0.2, seed: 0 }],
    ['tune/trials/b3', { method: 'lw', lr: 0.4, seed: 0 }],
    ['confirm/trials/x1', { method: 'sgd', lr: 0.2, seed: 1 }],
    ['confirm/trials/x2', { method: 'sgd', lr: 0.2, seed: 2 }],
    ['confirm/trials/y1', { method: 'lw', lr: 0.4, seed: 1 }],
    ['confirm/trials/y2', { method: 'lw', lr: 0.4, seed: 2 }],
  ]);
  const sgd = r.groups.find((g) => g.params.method === 'sgd')!;
  assert.equal(sgd.n, 3);
  assert.ok(Math.abs(sgd.finalTestAcc.mean! - (0.8 + 0.84 + 0.82) / 3) < 1e-12);
  const lw = r.groups.find((g) => g.params.method === 'lw')!;
  assert.deepEqual([lw.n, lw.diverged], [3, 1]);
});

test('tune: a variant\'s own tune-values replace the grid\'s list for it (methods on other lr scales)', () => {
  const c = sweepConfigFrom({
    model: 'mlp',
    grid: {
      method: [{ name: 'sgd', optimizer: 'sgd' }, { name: 'lamb', optimizer: 'lamb', 'tune-values': '0.001, 0.002' }],
      width: [8, 16],
      lr: [0.1, 0.2, 0.4],
    },
  }, 's.yaml');
  assert.equal(tuningPoints(config, 'lr'), null, 'no tune-values: the plain grid');
  const p = tuningPoints(c, 'lr')!;
  assert.deepEqual(p.config.grid.point, [
    'method-sgd_width-8_lr-0.1', 'method-sgd_width-8_lr-0.2', 'method-sgd_width-8_lr-0.4',
    'method-sgd_width-16_lr-0.1', 'method-sgd_width-16_lr-0.2', 'method-sgd_width-16_lr-0.4',
    'method-lamb_width-8_lr-0.001', 'method-lamb_width-8_lr-0.002', 'method-lamb_width-16_lr-0.001', 'method-lamb_width-16_lr-0.002',
  ]);
  assert.deepEqual(p.config.variants!.point!['method-lamb_width-16_lr-0.002'], { optimizer: 'lamb', width: 16, lr: 0.002 });
  assert.deepEqual(p.params['method-lamb_width-16_lr-0.002'], { method: 'lamb', width: 16, lr: 0.002 });
  // the confirmation's flags drop tune-values too
  const cc = confirmConfig(c, [{ params: { method: 'lamb', width: 8 }, best: 0.002, score: 1, trial: null }], 'lr', [1]);
  assert.deepEqual(cc.variants!.tuned!['method-lamb_width-8'], { optimizer: 'lamb', width: 8, lr: 0.002 });
  const bad = sweepConfigFrom({ grid: { method: [{ name: 'x', 'tune-values': '0.1' }], lr: [1, 2] } }, 's.yaml');
  assert.throws(() => tuningPoints(bad, 'lr'), /grid\.method 'x': tune-values must list two or more distinct values/);
});

test('tune: option checks are one-line usage errors', () => {
  assert.throws(() => checkTuneOptions({ config, axis: 'wd', confirmSeeds: [1] }), /--tune wd: not an axis of the sweep's grid \(axes: method, lr\)/);
  assert.throws(() => checkTuneOptions({ config, axis: 'method', confirmSeeds: [1] }), /a variant axis cannot be tuned/);
  assert.throws(() => checkTuneOptions({ config, axis: 'lr', confirmSeeds: [0, 1] }), /must be distinct and differ from the tuning seed 0/);
  assert.throws(() => checkTuneOptions({ config: { ...config, grid: { ...config.grid, seed: [0, 1] } }, axis: 'lr', confirmSeeds: [2] }), /sweeps seed/);
  assert.equal(checkTuneOptions({ config: { ...config, fixed: { ...config.fixed, seed: 5 } }, axis: 'lr', confirmSeeds: [6, 7] }), 5);
  assert.deepEqual(parseSeeds('1, 2'), [1, 2]);
  assert.throws(() => parseSeeds('1,x'), /comma-separated list of integers/);
});

test('lwlr sweep --tune lr: tunes on seed 0 (one variant on its own values), confirms each best on seed 1; results.json combines both; a re-run runs nothing', () => {
  const dir = tmp();
  const file = path.join(dir, 's.yaml');
  writeFileSync(file, [
    'model: mlp', 'data: synthetic', 'limit: 128', 'width: 8', 'epochs: 1', 'batch-size: 64', 'warmup-epochs: 0', 'backend: cpu',
    'lr-scheme: uniform', 'grid:', '  method:', '    - {name: sgd, optimizer: sgd}', '    - {name: lamb, optimizer: lamb, tune-values: "0.001,0.003"}',
    '  lr: [0.01, 0.5]', '',
  ].join('\n'));
  const out = path.join(dir, 'out');
  const run = () => spawnSync(process.execPath, [LWLR_BIN, 'sweep', '--config', file, '--out', out, '--tune', 'lr', '--confirm-seeds', '1', '--workers', '2'], { encoding: 'utf8' });
  const r = run();
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /tuning lr over 0\.01, 0\.5 \(or a variant's own tune-values\) on seed 0 by final-test-acc/);
  const tuned = JSON.parse(readFileSync(path.join(out, 'tune', 'results.json'), 'utf8')) as SweepResults;
  assert.deepEqual(tuned.grid, { method: ['sgd', 'lamb'], lr: [0.01, 0.5, 0.001, 0.003] });
  assert.deepEqual(tuned.trials.map((t) => [t.params.method, t.params.lr]), [['sgd', 0.01], ['sgd', 0.5], ['lamb', 0.001], ['lamb', 0.003]]);
  const res = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as SweepResults;
  assert.equal(res.trials.length, 4);
  assert.deepEqual(res.trials.map((t) => [t.params.method, t.params.seed]), [['sgd', 0], ['lamb', 0], ['sgd', 1], ['lamb', 1]]);
  assert.ok([0.001, 0.003].includes(res.trials[1]!.params.lr as number), 'lamb tuned over its own values');
  assert.equal(res.trials[1]!.params.lr, res.trials[3]!.params.lr);
  assert.deepEqual(res.groups.map((g) => g.n), [2, 2]);
  assert.match(readFileSync(path.join(out, 'results.csv'), 'utf8').split('\n')[0]!, /^id,status,method,lr,seed,/);
  const again = run();
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /sweep: 4 trials, 4 already finished, 0 to run/);
  assert.match(again.stdout, /sweep: 2 trials, 2 already finished, 0 to run/);
  const bad = spawnSync(process.execPath, [LWLR_BIN, 'sweep', '--config', file, '--out', out, '--tune', 'lr', '--repeat', '2'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--repeat cannot be used with --tune/);
});
