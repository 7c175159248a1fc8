// lwlr train as users call it: checkpoints, --resume (after --stop-after and after a real Ctrl-C), the resume
// flag rules, weights in and out. Real processes, synthetic data, cpu backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeSafetensors } from '../src/safetensors.js';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'lwlr.js');
const small = ['--data', 'synthetic', '--limit', '256', '--width', '32', '--batch-size', '64', '--backend', 'cpu', '--lr-scheme', 'uniform', '--lr', '0.05', '--log-every', '1', '--quiet'];
const tmp = () => mkdtempSync(path.join(tmpdir(), 'lwlr-cli-resume-'));

function lwlr(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** metrics.jsonl without the wall-clock fields. */
function metrics(dir: string): unknown[] {
  return readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => {
    const { time: _t, imagesPerSec: _i, ...rest } = JSON.parse(l);
    return rest;
  });
}
const csvRows = (dir: string) => readFileSync(path.join(dir, 'metrics.csv'), 'utf8').trim().split('\n').length - 1;
const tensors = (file: string) => decodeSafetensors(readFileSync(file)).tensors;

test('lwlr train --stop-after 1, then --resume: the same losses and final weights as one 3-epoch run', () => {
  const d = tmp();
  const full = lwlr('train', ...small, '--epochs', '3', '--out', path.join(d, 'full'), '--save-weights', path.join(d, 'full.safetensors'));
  assert.equal(full.code, 0, full.err);
  const a = path.join(d, 'a');
  const first = lwlr('train', ...small, '--epochs', '3', '--stop-after', '1', '--out', a);
  assert.equal(first.code, 0, first.err);
  assert.match(first.out, /stopped after epoch 1 of 3 \(--stop-after\); continue with: lwlr train --resume /);
  assert.ok(existsSync(path.join(a, 'checkpoint', 'weights.safetensors')));
  const rest = lwlr('train', '--resume', a, '--save-weights', path.join(d, 'a.safetensors'));
  assert.equal(rest.code, 0, rest.err);
  assert.match(rest.out, /^resuming .* at the start of epoch 2 \(global step 4\)$/m);
  assert.match(rest.out, /^epoch 3\/3: train loss/m);
  assert.doesNotMatch(rest.out, /^epoch 1\/3/m);
  assert.deepEqual(metrics(a), metrics(path.join(d, 'full')));
  assert.equal(csvRows(a), 12 + 3);
  assert.deepEqual(tensors(path.join(d, 'a.safetensors')), tensors(path.join(d, 'full.safetensors')));
  // the run is done: resuming again trains nothing; --epochs extends it (the schedule is re-planned)
  const again = lwlr('train', '--resume', a);
  assert.equal(again.code, 0, again.err);
  assert.match(again.out, /all 3 epochs are done \(pass a larger --epochs to train longer\)/);
  const longer = lwlr('train', '--resume', a, '--epochs', '4');
  assert.equal(longer.code, 0, longer.err);
  assert.match(longer.out, /^epoch 4\/4: /m);
  assert.equal(JSON.parse(readFileSync(path.join(a, 'config.json'), 'utf8')).epochs, 4);
});

test('lwlr train: Ctrl-C saves a mid-epoch checkpoint and exits 130; --resume continues exactly', async () => {
  const d = tmp();
  const args = ['train', '--data', 'synthetic', '--limit', '1024', '--width', '32', '--batch-size', '64', '--backend', 'cpu',
    '--lr-scheme', 'uniform', '--lr', '0.05', '--log-every', '1', '--quiet', '--epochs', '3'];
  const full = lwlr(...args, '--out', path.join(d, 'full'));
  assert.equal(full.code, 0, full.err);
  const b = path.join(d, 'b');
  const metricsFile = path.join(b, 'metrics.jsonl');
  const child = spawn(process.execPath, [bin, ...args, '--out', b]);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const guard = setTimeout(() => child.kill('SIGKILL'), 120_000); // only against a hang: a busy machine is slow
  while (!(existsSync(metricsFile) && readFileSync(metricsFile, 'utf8').split('\n').length > 20)) await new Promise((r) => setTimeout(r, 10));
  child.kill('SIGINT');
  const code = await exited;
  clearTimeout(guard);
  assert.equal(code, 130, out);
  assert.match(out, /interrupted: finishing the step and saving a checkpoint/);
  assert.match(out, /stopped after \d+ complete epoch\(s\); checkpoint and metrics in .* \(continue with: lwlr train --resume /);
  const state = JSON.parse(readFileSync(path.join(b, 'checkpoint', 'state.json'), 'utf8'));
  assert.ok(state.loop.step >= 20 && state.loop.step < 48, `stopped at step ${state.loop.step}`);
  const rest = lwlr('train', '--resume', b);
  assert.equal(rest.code, 0, rest.err);
  assert.deepEqual(metrics(b), metrics(path.join(d, 'full')));
  assert.deepEqual(tensors(path.join(b, 'checkpoint', 'weights.safetensors')), tensors(path.join(d, 'full', 'checkpoint', 'weights.safetensors')));
});

test('lwlr train --resume: flags must match the run (except --epochs, --quiet, ...); errors are one line', () => {
  const d = tmp();
  const a = path.join(d, 'a');
  assert.equal(lwlr('train', ...small, '--epochs', '2', '--stop-after', '1', '--out', a).code, 0);
  const cases: Array<[string[], number, RegExp]> = [
    [['--lr', '0.2'], 2, /^lwlr: error: --resume .*: --lr 0\.2 differs from the run's 0\.05 \(a resumed run keeps its config; only --epochs/],
    [['--model', 'vit-tiny'], 2, /--model vit-tiny differs from the run's mlp/],
    [['--out', path.join(d, 'elsewhere')], 2, /--out .*elsewhere differs from --resume/],
    [['--config', path.join(a, 'config.json')], 2, /--resume takes the config from RUN_DIR\/config\.json: drop --config/],
  ];
  for (const [extra, code, re] of cases) {
    const r = lwlr('train', '--resume', a, ...extra);
    assert.equal(r.code, code, `${extra.join(' ')}: ${r.err}`);
    assert.match(r.err, re);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
  }
  const nothing = lwlr('train', '--resume', path.join(d, 'nope'));
  assert.equal(nothing.code, 1);
  assert.match(nothing.err, /^lwlr: error: --resume .*nope: no config\.json \(not a run directory\?\)\n$/);
  // the same value as the run's is accepted
  const same = lwlr('train', '--resume', a, '--lr', '0.05', '--width', '32');
  assert.equal(same.code, 0, same.err);
  assert.match(same.out, /^epoch 2\/2: /m);
});

test('lwlr train --save-weights / --init-weights: TF.js directory round trip; a model that does not fit is one line', () => {
  const d = tmp();
  const saved = path.join(d, 'tfjs-model');
  const a = lwlr('train', ...small, '--epochs', '1', '--out', path.join(d, 'a'), '--save-weights', saved);
  assert.equal(a.code, 0, a.err);
  assert.ok(existsSync(path.join(saved, 'model.json')) && existsSync(path.join(saved, 'weights.bin')));
  // lr 0: training leaves the loaded weights as they are, so the test metrics are run a's
  const b = lwlr('train', ...small, '--epochs', '1', '--lr', '0', '--wd', '0', '--init-weights', saved, '--out', path.join(d, 'b'));
  assert.equal(b.code, 0, b.err);
  const evalOf = (dir: string) => (metrics(dir).find((r) => (r as { type: string }).type === 'eval') as { testLoss: number }).testLoss;
  assert.equal(evalOf(path.join(d, 'b')), evalOf(path.join(d, 'a')));
  const bad = lwlr('train', ...small, '--width', '16', '--epochs', '1', '--init-weights', saved, '--out', path.join(d, 'c'));
  assert.equal(bad.code, 1);
  assert.match(bad.err, /^lwlr: error: --init-weights .*tfjs-model: does not fit the model \(3 difference\(s\): fc1\.kernel has shape \[784,32\] in the file, \[784,16\] in the model; /);
  assert.equal(bad.err.trim().split('\n').length, 1);
});

test('lwlr train --resume: ViT with dropout, stochastic depth and a validation split continues bit for bit (onednn)', () => {
  const d = tmp();
  const args = ['train', '--model', 'vit-tiny', '--data', 'synthetic', '--limit', '64', '--batch-size', '16', '--backend', 'onednn',
    '--lr-scheme', 'uniform', '--optimizer', 'adamw', '--lr', '0.001', '--drop', '0.1', '--drop-path', '0.1', '--val-split', '16',
    '--epochs', '3', '--log-every', '1', '--quiet'];
  const full = lwlr(...args, '--out', path.join(d, 'full'));
  assert.equal(full.code, 0, full.err);
  const a = path.join(d, 'a');
  assert.equal(lwlr(...args, '--stop-after', '1', '--out', a).code, 0);
  const state = JSON.parse(readFileSync(path.join(a, 'checkpoint', 'state.json'), 'utf8'));
  assert.equal(state.dropCounters['blocks.1.drop_path1'], 3, 'the drop-path stream position is saved');
  const rest = lwlr('train', '--resume', a);
  assert.equal(rest.code, 0, rest.err);
  const m = metrics(a);
  assert.deepEqual(m, metrics(path.join(d, 'full')));
  assert.ok((m.at(-1) as { valAcc?: number }).valAcc !== undefined, 'validation metrics');
  assert.deepEqual(tensors(path.join(a, 'checkpoint', 'weights.safetensors')), tensors(path.join(d, 'full', 'checkpoint', 'weights.safetensors')));
});
