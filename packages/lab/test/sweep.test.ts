import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadSweepConfig, sweepConfigFrom } from '../src/sweep/config.js';
import { expandTrials, withRepeat } from '../src/sweep/trials.js';
import { groupTrials, meanStd, readRunMetrics, type SweepResults, type TrialResult } from '../src/sweep/results.js';
import { LWLR_BIN, SweepRun, checkTrialFlags } from '../src/sweep/runner.js';
import { ashaDecisions, nextStop, rungs } from '../src/sweep/asha.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'lwlr-sweep-'));
const quiet = () => {};
const BASE = { model: 'mlp', data: 'synthetic', limit: 128, width: 8, epochs: 1, 'batch-size': 64, 'warmup-epochs': 0, 'lr-scheme': 'uniform', backend: 'cpu' };

test('sweep config: fixed flags, grid, one-line errors naming the file', () => {
  const c = sweepConfigFrom({ ...BASE, grid: { lr: [0.1, 1], 'wd-exclude': [true, false] } }, 's.yaml');
  assert.equal(c.fixed.model, 'mlp');
  assert.deepEqual(c.grid, { lr: [0.1, 1], 'wd-exclude': [true, false] });
  const bad: Array<[unknown, RegExp]> = [
    [{ model: 'mlp' }, /s.yaml: 'grid' must map flags to lists/],
    [{ grid: { lr: [] } }, /s.yaml: grid.lr must be a non-empty list/],
    [{ grid: { lr: 0.1 } }, /grid.lr must be a non-empty list/],
    [{ lr: 1, grid: { lr: [1, 2] } }, /'lr' is both fixed and in the grid/],
    [{ out: 'x', grid: { lr: [1] } }, /'out' is lwlr sweep's/],
    [{ 'stop-after': 1, grid: { lr: [1] } }, /'stop-after' is lwlr sweep's/],
    [{ '--lr': 1, grid: { a: [1] } }, /'--lr' is not an lwlr train flag name/],
    [{ grid: { lr: [[1]] } }, /grid.lr' must be a string, a finite number or a boolean/],
    [{ grid: { lr: [{ a: 1 }] } }, /grid.lr\[0\] needs a 'name'/],
    [{ grid: { lr: [1, 1] } }, /grid.lr lists a value twice/],
  ];
  for (const [raw, re] of bad) assert.throws(() => sweepConfigFrom(raw, 's.yaml'), re);
  const dir = tmp();
  writeFileSync(path.join(dir, 'a.json'), JSON.stringify({ epochs: 2, grid: { lr: [0.5] } }));
  writeFileSync(path.join(dir, 'b.yaml'), 'epochs: 2\ngrid:\n  lr: [0.5]\n');
  assert.deepEqual(loadSweepConfig(path.join(dir, 'a.json')), loadSweepConfig(path.join(dir, 'b.yaml')));
  writeFileSync(path.join(dir, 'c.yaml'), 'grid: [\n');
  assert.throws(() => loadSweepConfig(path.join(dir, 'c.yaml')), /c.yaml: not valid YAML/);
  assert.throws(() => loadSweepConfig(path.join(dir, 'none.yaml')), /--config .*none.yaml: no such file/);
});

test('sweep trials: cross product (last key fastest), readable ids, booleans as --flag/--no-flag, --repeat seeds', () => {
  const c = sweepConfigFrom({ epochs: 1, seed: 10, grid: { lr: [0.1, 1], 'lars-clip': [true, false] } }, 's');
  const t = expandTrials(c);
  assert.deepEqual(t.map((x) => x.id), ['lr-0.1_lars-clip-true', 'lr-0.1_lars-clip-false', 'lr-1_lars-clip-true', 'lr-1_lars-clip-false']);
  assert.deepEqual(t[1]!.argv, ['--epochs', '1', '--seed', '10', '--lr', '0.1', '--no-lars-clip']);
  const r = withRepeat(c, 3);
  assert.deepEqual(r.grid.seed, [10, 11, 12]);
  assert.equal(r.fixed.seed, undefined);
  assert.equal(expandTrials(r).length, 12);
  assert.deepEqual(withRepeat(sweepConfigFrom({ grid: { lr: [1] } }, 's'), 2).grid.seed, [0, 1]);
  assert.throws(() => withRepeat(sweepConfigFrom({ grid: { seed: [1, 2] } }, 's'), 2), /grid already sweeps seed/);
  assert.deepEqual(expandTrials(sweepConfigFrom({ grid: { model: ['a b', 'a-b'] } }, 's')).map((x) => x.id), ['model-a-b', 'model-a-b_1']);
});

test('sweep variants: a grid key of mappings is a named axis of flags that go together', () => {
  const c = sweepConfigFrom({ epochs: 1, grid: {
    scheme: [{ name: 'sgd', optimizer: 'sgd', 'lr-scheme': 'uniform' }, { name: 'mup', optimizer: 'mup-sgd', init: 'fan-in', 'mup-base-width': 64 }],
    lr: [0.1],
  } }, 's');
  assert.deepEqual(c.grid, { scheme: ['sgd', 'mup'], lr: [0.1] });
  const t = expandTrials(c);
  assert.deepEqual(t.map((x) => x.id), ['scheme-sgd_lr-0.1', 'scheme-mup_lr-0.1']);
  assert.deepEqual(t[1]!.params, { scheme: 'mup', lr: 0.1 });
  assert.deepEqual(t[1]!.argv, ['--epochs', '1', '--optimizer', 'mup-sgd', '--init', 'fan-in', '--mup-base-width', '64', '--lr', '0.1']);
  assert.throws(() => sweepConfigFrom({ grid: { s: [{ optimizer: 'sgd' }] } }, 's'), /grid.s\[0\] needs a 'name'/);
  assert.throws(() => sweepConfigFrom({ grid: { s: [{ name: 'a' }, 1] } }, 's'), /grid.s\[1\] must be a mapping/);
  assert.throws(() => sweepConfigFrom({ init: 'none', grid: { s: [{ name: 'a', init: 'fan-in' }] } }, 's'), /'init' is both fixed and set by grid.s\[0\]/);
  assert.throws(() => sweepConfigFrom({ grid: { lr: [1], s: [{ name: 'a', lr: 2 }] } }, 's'), /'lr' is both a grid axis and set by grid.s/);
  assert.throws(() => withRepeat(sweepConfigFrom({ grid: { s: [{ name: 'a', seed: 2 }] } }, 's'), 2), /already sweeps seed/);
});

test('sweep aggregation: mean and sample std over done trials; diverged counted, not averaged', () => {
  assert.deepEqual(meanStd([1, 3, null]), { mean: 2, std: Math.SQRT2 });
  assert.deepEqual(meanStd([null]), { mean: null, std: null });
  const mk = (seed: number, status: TrialResult['status'], acc: number | null): TrialResult => ({
    id: `s${seed}`, dir: `trials/s${seed}`, params: { lr: 0.1, seed }, status, finalTrainLoss: acc, finalTestLoss: acc,
    finalTestAcc: acc, bestTestAcc: acc, epochs: 1, wallSeconds: 1, error: null,
  });
  const g = groupTrials([mk(0, 'done', 0.5), mk(1, 'done', 0.7), mk(2, 'diverged', null)]);
  assert.equal(g.length, 1);
  assert.deepEqual(g[0]!.params, { lr: 0.1 });
  assert.equal(g[0]!.n, 3);
  assert.equal(g[0]!.diverged, 1);
  assert.ok(Math.abs(g[0]!.finalTestAcc.mean! - 0.6) < 1e-12);
  assert.ok(Math.abs(g[0]!.finalTestAcc.std! - Math.sqrt(0.02)) < 1e-12);
});

test('lwlr sweep: 2x2 grid on synthetic data with 2 workers; a diverging trial is recorded and the others finish; re-run skips; --repeat aggregates', async () => {
  const out = tmp();
  const config = sweepConfigFrom({ ...BASE, limit: 256, grid: { lr: [0.05, 1e12], optimizer: ['sgd', 'adamw'] } }, 's.yaml');
  checkTrialFlags(config);
  const r1 = await new SweepRun({ config, out, workers: 2, log: quiet }).run();
  const byId = Object.fromEntries(r1.trials.map((t) => [t.id, t]));
  for (const id of ['lr-0.05_optimizer-sgd', 'lr-0.05_optimizer-adamw']) {
    const t = byId[id]!;
    assert.equal(t.status, 'done', `${id}: ${t.error}`);
    assert.equal(t.epochs, 1);
    assert.ok(typeof t.finalTrainLoss === 'number' && typeof t.finalTestAcc === 'number' && typeof t.bestTestAcc === 'number');
    assert.equal(t.dir, path.join('trials', id));
  }
  for (const id of ['lr-1000000000000_optimizer-sgd', 'lr-1000000000000_optimizer-adamw']) {
    assert.equal(byId[id]!.status, 'diverged');
    assert.match(byId[id]!.error!, /training diverged/);
    assert.equal(byId[id]!.finalTrainLoss, null);
  }
  // results.json: the schema the report reads
  const json = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as SweepResults;
  assert.equal(json.format, 'lwlr-sweep@1');
  assert.deepEqual(json.config, { ...BASE, limit: 256 });
  assert.deepEqual(json.grid, { lr: [0.05, 1e12], optimizer: ['sgd', 'adamw'] });
  assert.deepEqual(Object.keys(json.trials[0]!).sort(), ['bestTestAcc', 'dir', 'epochs', 'error', 'finalTestAcc', 'finalTestLoss', 'finalTrainLoss', 'id', 'params', 'status', 'wallSeconds']);
  assert.equal(json.groups.length, 4);
  assert.equal(json.groups.find((g) => g.params.lr === 1e12 && g.params.optimizer === 'sgd')!.diverged, 1);
  const csv = readFileSync(path.join(out, 'results.csv'), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'id,status,lr,optimizer,finalTrainLoss,finalTestLoss,finalTestAcc,bestTestAcc,epochs,wallSeconds,error');
  assert.equal(csv.length, 5);
  assert.deepEqual(readRunMetrics(path.join(out, 'trials', 'lr-0.05_optimizer-sgd')).finalTestAcc, byId['lr-0.05_optimizer-sgd']!.finalTestAcc);

  // re-run: every trial is marked finished, nothing runs (the metrics files are untouched)
  const metrics = path.join(out, 'trials', 'lr-0.05_optimizer-sgd', 'metrics.jsonl');
  const mtime = statSync(metrics).mtimeMs;
  const lines: string[] = [];
  const r2 = await new SweepRun({ config, out, workers: 2, log: (l) => lines.push(l) }).run();
  assert.match(lines[0]!, /4 trials, 4 already finished, 0 to run/);
  assert.equal(statSync(metrics).mtimeMs, mtime);
  assert.deepEqual(r2.trials.map((t) => t.status), r1.trials.map((t) => t.status));
  // a different sweep in the same directory is refused
  await assert.rejects(new SweepRun({ config: withRepeat(config, 2), out, workers: 2, log: quiet }).run(), /holds another sweep/);

  // --repeat 2 over a 1x2 grid: groups over seeds
  const out2 = tmp();
  const rep = withRepeat(sweepConfigFrom({ ...BASE, grid: { optimizer: ['sgd', 'adamw'] } }, 's.yaml'), 2);
  const r3 = await new SweepRun({ config: rep, out: out2, workers: 2, log: quiet }).run();
  assert.deepEqual(r3.trials.map((t) => t.id), ['optimizer-sgd_seed-0', 'optimizer-sgd_seed-1', 'optimizer-adamw_seed-0', 'optimizer-adamw_seed-1']);
  assert.ok(r3.trials.every((t) => t.status === 'done'), r3.trials.map((t) => t.error).join('; '));
  assert.equal(r3.groups.length, 2);
  const g = r3.groups[0]!;
  assert.deepEqual(g.params, { optimizer: 'sgd' });
  assert.equal(g.n, 2);
  const accs = r3.trials.slice(0, 2).map((t) => t.finalTestAcc!);
  assert.ok(Math.abs(g.finalTestAcc.mean! - (accs[0]! + accs[1]!) / 2) < 1e-12);
  assert.ok(Math.abs(g.finalTestAcc.std! - Math.abs(accs[0]! - accs[1]!) / Math.SQRT2) < 1e-12);
});

test('lwlr sweep: stop() (Ctrl-C) leaves the running trials pending and unmarked; a re-run resumes them from their checkpoints', async () => {
  const out = tmp();
  const config = sweepConfigFrom({ ...BASE, limit: 512, epochs: 40, 'batch-size': 8, grid: { lr: [0.01, 0.02, 0.03] } }, 's.yaml');
  const run = new SweepRun({ config, out, workers: 2, log: quiet });
  const pending = run.run();
  // stop once both running trials have checkpointed (polled, not a fixed delay: the machine may be busy)
  const ids = expandTrials(config).map((t) => t.id);
  const checkpointed = () => ids.filter((id) => existsSync(path.join(out, 'trials', id, 'checkpoint', 'state.json'))).length;
  while (checkpointed() < 2) await new Promise((resolve) => setTimeout(resolve, 50));
  run.stop();
  const r = await pending;
  assert.ok(r.trials.every((t) => t.status === 'pending'), r.trials.map((t) => `${t.status} ${t.error}`).join('; '));
  assert.equal(r.trials.filter((t) => t.error === 'interrupted').length, 2, 'the two running trials were interrupted; the third never started');
  assert.ok(!existsSync(path.join(out, 'trials', r.trials[0]!.id, 'result.json')));
  const lines: string[] = [];
  const r2 = await new SweepRun({ config, out, workers: 2, log: (l) => lines.push(l) }).run();
  assert.ok(r2.trials.every((t) => t.status === 'done' && t.epochs === 40), r2.trials.map((t) => `${t.status} ${t.epochs} ${t.error}`).join('; '));
  assert.equal(lines.filter((l) => l.includes('(resumed)')).length, 2, lines.join('\n'));
});

test('lwlr sweep CLI: usage errors are one line, exit 2; --dry-run lists the trials', () => {
  const dir = tmp();
  const file = path.join(dir, 's.yaml');
  writeFileSync(file, 'epochs: 1\ngrid:\n  lr: [0.1]\n  optimizer: [sgd, adamx]\n');
  const run = (...args: string[]) => spawnSync(process.execPath, [LWLR_BIN, 'sweep', ...args], { encoding: 'utf8' });
  const bad = run('--config', file, '--out', path.join(dir, 'o'));
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^lwlr: error: sweep flags \(.*--optimizer adamx\): --optimizer must be one of .*\n$/);
  const missing = run('--out', dir);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--config SWEEP_FILE is required/);
  const dry = run('--config', file, '--out', path.join(dir, 'o'), '--dry-run', '--repeat', '2');
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /pending +lr-0.1_optimizer-sgd_seed-1: lwlr train --epochs 1 --lr 0.1 --optimizer sgd --seed 1 --out .* --quiet/);
  assert.match(dry.stdout, /4 trials, 0 finished, 4 to run/);
  assert.ok(!existsSync(path.join(dir, 'o')));
});

test('ASHA: rungs r, r*eta, ... below the last epoch; a rung promotes its best floor(n/eta) at once, at least one when complete', () => {
  const es = (metric: 'trainLoss' | 'testAcc', r: number, eta: number) => ({ metric, graceEpochs: r, reductionFactor: eta });
  assert.deepEqual(rungs(es('testAcc', 1, 3), 20), [1, 3, 9]);
  assert.deepEqual(rungs(es('testAcc', 1, 3), 9), [1, 3]);
  assert.deepEqual(rungs(es('testAcc', 2, 2), 2), []);
  assert.deepEqual([0, 1, 2, 3, 9].map((c) => nextStop(es('testAcc', 1, 3), 20, c)), [1, 3, 3, 9, 20]);
  type T = { id: string; completed: number; phase: 'waiting' | 'running' | 'paused' | 'finished'; v: Record<number, number | null>; promoted?: boolean; epochs?: number };
  const view = (ts: T[]) => ts.map((t) => ({ epochs: 2, promoted: false, ...t, valueAt: (e: number) => t.v[e] ?? null }));
  const loss = es('trainLoss', 1, 2);
  // 4 trials paused at rung 1 of 2 epochs, eta 2: the rung is complete, the best two (lowest loss) go on
  const four: T[] = [
    { id: 'a', completed: 1, phase: 'paused', v: { 1: 0.5 } }, { id: 'b', completed: 1, phase: 'paused', v: { 1: 0.3 } },
    { id: 'c', completed: 1, phase: 'paused', v: { 1: 2 } }, { id: 'd', completed: 1, phase: 'paused', v: { 1: null } },
  ];
  assert.deepEqual(ashaDecisions(loss, view(four)), { promote: ['a', 'b'], stop: ['c', 'd'] });
  // higher is better for accuracy
  assert.deepEqual(ashaDecisions(es('testAcc', 1, 2), view(four)), { promote: ['a', 'c'], stop: ['b', 'd'] });
  // asynchronous: two of four arrived, the better one goes on at once; nobody is stopped while others may still arrive
  const two: T[] = [{ id: 'a', completed: 1, phase: 'paused', v: { 1: 2 } }, { id: 'b', completed: 1, phase: 'paused', v: { 1: 0.3 } },
    { id: 'c', completed: 0, phase: 'running', v: {} }, { id: 'd', completed: 0, phase: 'waiting', v: {} }];
  assert.deepEqual(ashaDecisions(loss, view(two)), { promote: ['b'], stop: [] });
  // an earlier promotion stands (b is past the rung); with all four in, k = 2: a (2) is second best of b, c (5), d (9)
  const late: T[] = [{ id: 'a', completed: 1, phase: 'paused', v: { 1: 2 } }, { id: 'b', completed: 2, phase: 'finished', v: { 1: 0.3, 2: 0.2 } },
    { id: 'c', completed: 1, phase: 'paused', v: { 1: 5 } }, { id: 'd', completed: 1, phase: 'paused', v: { 1: 9 } }];
  assert.deepEqual(ashaDecisions(loss, view(late)), { promote: ['a'], stop: ['c', 'd'] });
  // fewer trials than eta: floor(2/3) = 0, but a complete rung still lets its best one go on; ties go to the earlier trial
  const pair: T[] = [{ id: 'a', completed: 1, phase: 'paused', v: { 1: 1 } }, { id: 'b', completed: 1, phase: 'paused', v: { 1: 1 } }];
  assert.deepEqual(ashaDecisions(es('trainLoss', 1, 3), view(pair)), { promote: ['a'], stop: ['b'] });
  // rung by rung: a paused one below (not yet decided) keeps the rung above open; a stopped one closes it
  const twoRungs: T[] = [
    { id: 'a', completed: 2, phase: 'paused', v: { 1: 1, 2: 0.5 }, epochs: 4 }, { id: 'b', completed: 2, phase: 'paused', v: { 1: 1, 2: 0.4 }, epochs: 4 },
    { id: 'c', completed: 1, phase: 'paused', v: { 1: 3 }, epochs: 4 },
  ];
  assert.deepEqual(ashaDecisions(loss, view(twoRungs)), { promote: ['b'], stop: ['c', 'a'] });
  const open: T[] = [...twoRungs.slice(0, 2), { id: 'c', completed: 0, phase: 'running', v: {}, epochs: 4 }];
  assert.deepEqual(ashaDecisions(loss, view(open)), { promote: ['b'], stop: [] });
});

test('sweep config: early-stop is checked (metric, integers, epochs in the file, a validation split for valAcc)', () => {
  const ok = sweepConfigFrom({ epochs: 9, 'early-stop': { metric: 'testAcc' }, grid: { lr: [1] } }, 's.yaml');
  assert.deepEqual(ok.earlyStop, { metric: 'testAcc', graceEpochs: 1, reductionFactor: 3 });
  assert.equal(ok.fixed['early-stop'], undefined);
  const bad: Array<[unknown, RegExp]> = [
    [{ epochs: 9, 'early-stop': 3, grid: { lr: [1] } }, /s.yaml: early-stop must be a mapping/],
    [{ epochs: 9, 'early-stop': { metric: 'acc' }, grid: { lr: [1] } }, /early-stop.metric must be one of testAcc, trainLoss, valAcc/],
    [{ epochs: 9, 'early-stop': { metric: 'testAcc', 'grace-epochs': 0 }, grid: { lr: [1] } }, /grace-epochs must be an integer >= 1/],
    [{ epochs: 9, 'early-stop': { metric: 'testAcc', 'reduction-factor': 1.5 }, grid: { lr: [1] } }, /reduction-factor must be an integer >= 2/],
    [{ epochs: 9, 'early-stop': { metric: 'testAcc', eta: 2 }, grid: { lr: [1] } }, /unknown key 'eta'/],
    [{ 'early-stop': { metric: 'testAcc' }, grid: { lr: [1] } }, /needs 'epochs' in the sweep file/],
    [{ epochs: 9, 'early-stop': { metric: 'valAcc' }, grid: { lr: [1] } }, /valAcc needs a validation split/],
  ];
  for (const [raw, re] of bad) assert.throws(() => sweepConfigFrom(raw, 's.yaml'), re);
  assert.ok(sweepConfigFrom({ 'early-stop': { metric: 'valAcc' }, grid: { epochs: [3, 9], 'val-split': [0.1] } }, 's').earlyStop);
});

test('lwlr sweep with early-stop (ASHA, local executor): the known-bad learning rates stop at the first rung, the good ones run to the end', async () => {
  const out = tmp();
  // lr 1e-6 and 1e-7 barely move the initial loss (~10.7 after epoch 1); lr 0.05 and 0.1 bring it well below
  const config = sweepConfigFrom({
    ...BASE, limit: 256, 'batch-size': 32, epochs: 2, 'early-stop': { metric: 'trainLoss', 'grace-epochs': 1, 'reduction-factor': 2 },
    grid: { lr: [0.05, 0.1, 1e-6, 1e-7] },
  }, 's.yaml');
  const lines: string[] = [];
  const r = await new SweepRun({ config, out, workers: 2, log: (l) => lines.push(l) }).run();
  const by = Object.fromEntries(r.trials.map((t) => [t.params.lr, t]));
  for (const lr of [0.05, 0.1]) assert.deepEqual([by[lr]!.status, by[lr]!.epochs], ['done', 2], `${lr}: ${by[lr]!.error}\n${lines.join('\n')}`);
  for (const lr of [1e-6, 1e-7]) {
    const t = by[lr]!;
    assert.deepEqual([t.status, t.epochs, t.error], ['stopped', 1, null], lines.join('\n'));
    // its last metrics are shown: those of epoch 1
    const m = readRunMetrics(path.join(out, t.dir));
    assert.equal(t.finalTrainLoss, m.evals[0]!.trainLoss);
    assert.ok(t.finalTrainLoss! > by[0.05]!.finalTrainLoss!);
  }
  assert.deepEqual(r.groups.map((g) => [g.params.lr, g.stopped]), [[0.05, 0], [0.1, 0], [1e-6, 1], [1e-7, 1]]);
  assert.equal(lines.filter((l) => /continues past epoch 1/.test(l)).length, 2, lines.join('\n'));
  assert.equal(lines.filter((l) => /: stopped at epoch 1 \(trainLoss [\d.]+: not in the top 1\/2 of its rung\)/.test(l)).length, 2, lines.join('\n'));
  const csv = readFileSync(path.join(out, 'results.csv'), 'utf8');
  assert.match(csv, /\nlr-1e-7,stopped,1e-7,/);
  // a re-run has nothing to do: stopped is final
  const again: string[] = [];
  await new SweepRun({ config, out, workers: 2, log: (l) => again.push(l) }).run();
  assert.match(again[0]!, /4 trials, 4 already finished, 0 to run/);
});
