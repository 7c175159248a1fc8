// The CLI as users and scripts call it: real processes, synthetic data (offline, seconds).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EtaTable } from 'layerwise-lr';
import { decodeSafetensors } from '../src/safetensors.js';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'lwlr.js');
const small = ['--data', 'synthetic', '--limit', '256', '--width', '32', '--batch-size', '64', '--backend', 'cpu'];

function lwlr(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('lwlr lr: prints the table, writes the JSON and the init weights', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lwlr-cli-'));
  const r = lwlr('lr', ...small, '--steps', '3', '--out', path.join(dir, 'lr.json'), '--save-init', path.join(dir, 'init.safetensors'));
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /fc1\.kernel\s+kernel\s+\[784,32\]\s+25088/);
  const table = EtaTable.fromJSON(readFileSync(path.join(dir, 'lr.json'), 'utf8'));
  assert.deepEqual(table.names, ['fc1.kernel', 'fc1.bias', 'fc2.kernel', 'fc2.bias']);
  assert.equal(table.meta.steps, 3);
  const init = decodeSafetensors(readFileSync(path.join(dir, 'init.safetensors')));
  const k = init.tensors['fc1.kernel'].data;
  const std = Math.sqrt(k.reduce((a, v) => a + v * v, 0) / k.length);
  assert.ok(Math.abs(std - Math.sqrt(1 / 32)) < 0.01, `fan-out init std ${std}`);
  assert.ok(init.tensors['fc1.bias'].data.every((v) => v === 0));
});

test('lwlr train: same seed and flags give the same losses; metrics, config and table in the run dir', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lwlr-cli-'));
  const losses = [];
  for (const run of ['a', 'b']) {
    const r = lwlr('train', ...small, '--epochs', '2', '--lr', '0.05', '--lr-steps', '2', '--log-every', '1', '--quiet', '--out', path.join(dir, run));
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /epoch 2\/2: train loss \d\.\d+ +test loss \d\.\d+ +test acc \d+\.\d+%/);
    const lines = readFileSync(path.join(dir, run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.filter((l) => l.type === 'eval').length, 2);
    losses.push(lines.filter((l) => l.type === 'train').map((l) => l.loss));
    const cfg = JSON.parse(readFileSync(path.join(dir, run, 'config.json'), 'utf8'));
    assert.equal(cfg.lrScheme, 'layerwise');
    assert.equal(EtaTable.fromJSON(readFileSync(path.join(dir, run, 'eta-table.json'), 'utf8')).meta.steps, 2);
  }
  assert.equal(losses[0].length, 8); // 256 / 64 = 4 steps x 2 epochs, logged every step
  assert.deepEqual(losses[0], losses[1]);
  const cmp = lwlr('compare', path.join(dir, 'a'), path.join(dir, 'b'));
  assert.equal(cmp.code, 0, cmp.err);
  assert.match(cmp.out, /^a\s+layerwise\s+2\s/m);
});

test('lwlr: bad input is one line on stderr and a non-zero exit', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lwlr-cli-'));
  const cases: Array<[string[], number, RegExp]> = [
    [['frobnicate'], 2, /^lwlr: error: unknown command 'frobnicate'/],
    [['lr', '--model', 'resnet-9000', ...small], 2, /^lwlr: error: --model must be one of mlp, resnet18, .* \(got 'resnet-9000'\)/],
    [['lr', '--bogus', '1'], 2, /^lwlr: error: unknown flag --bogus/],
    [['lr', '--steps', 'many'], 2, /^lwlr: error: --steps must be a number/],
    [['lr', '--steps', '0', ...small], 2, /--steps must be >= 1/],
    [['lr', '--data', 'fashion-mnist', '--data-dir', '/nonexistent', '--backend', 'cpu'], 1, /data directory \/nonexistent does not exist/],
    [['train', ...small], 2, /--out RUN_DIR is required/],
    [['train', '--optimizer', 'adagrad', '--out', dir], 2, /--optimizer must be one of adam-ng, adamw, lamb, lars, mup-adam, mup-sgd, sgd, sgd-ng, sgd-ng-adap \(got 'adagrad'\)/],
  ];
  for (const [args, code, re] of cases) {
    const r = lwlr(...args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, re);
    assert.equal(r.err.trim().split('\n').length, 1, `one line: ${r.err}`);
  }
});

test('lwlr train --eta-table: a table for another model is refused with the differences', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lwlr-cli-'));
  const table = path.join(dir, 'lr.json');
  assert.equal(lwlr('lr', ...small, '--steps', '1', '--out', table).code, 0);
  const r = lwlr('train', ...small, '--width', '16', '--epochs', '1', '--eta-table', table, '--out', path.join(dir, 'run'));
  assert.equal(r.code, 1);
  assert.match(r.err, /^lwlr: error: --eta-table .*fc1\.kernel/);
  const c = lwlr('train', ...small, '--epochs', '1', '--lr-scheme', 'uniform', '--eta-table', table, '--out', path.join(dir, 'run3'));
  assert.equal(c.code, 2);
  assert.match(c.err, /^lwlr: error: --eta-table .* holds a 'layerwise' table but --lr-scheme is 'uniform' \(drop one of the two\)\n$/);
  writeFileSync(path.join(dir, 'junk.json'), '{"schema": "something-else"}');
  const j = lwlr('train', ...small, '--epochs', '1', '--eta-table', path.join(dir, 'junk.json'), '--out', path.join(dir, 'run2'));
  assert.equal(j.code, 1);
  assert.match(j.err, /--eta-table .*junk\.json: .*schema/);
  // 0.1's --lr-table still works, with a warning
  const old = lwlr('train', ...small, '--epochs', '1', '--lr-table', table, '--out', path.join(dir, 'old'));
  assert.equal(old.code, 0, old.err);
  assert.match(old.err, /^warning: --lr-table is deprecated; use --eta-table$/m);
});

test('lwlr train: a NaN loss stops the run with one line and exit 1, metrics so far kept', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lwlr-cli-'));
  const r = lwlr('train', ...small, '--epochs', '2', '--lr', '1e12', '--warmup-epochs', '0', '--lr-scheme', 'uniform', '--log-every', '1', '--quiet', '--out', dir);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /^lwlr: error: training diverged at epoch 1 (step \d+: loss|\(evaluation\): test loss) is (NaN|Infinity) \(lower --lr\?\)\n$/);
  assert.ok(existsSync(path.join(dir, 'metrics.jsonl')));
  // issue 13: --lr 1e6 used to "finish" with test loss Infinity; a loss that overflows anywhere is a divergence
  const big = lwlr('train', ...small, '--epochs', '2', '--lr', '1e6', '--lr-scheme', 'uniform', '--quiet', '--out', path.join(dir, 'big'));
  assert.equal(big.code, 1, big.out + big.err);
  assert.match(big.err, /^lwlr: error: training diverged at epoch \d+ /);
});

test('lwlr train: Ctrl-C finishes the step, keeps the metrics and exits 130', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lwlr-cli-'));
  const metrics = path.join(dir, 'metrics.jsonl');
  const child = spawn(process.execPath, [bin, 'train', ...small, '--epochs', '1000', '--lr-scheme', 'uniform', '--log-every', '1', '--quiet', '--out', dir]);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  let running = true;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => { running = false; resolve(code); }));
  const guard = setTimeout(() => child.kill('SIGKILL'), 120_000); // only against a hang: a loaded machine starts slowly
  // wait until training has logged a few steps (or the child is gone: the assertions below then say so), then interrupt
  while (running && !(existsSync(metrics) && readFileSync(metrics, 'utf8').split('\n').length > 3)) await new Promise((r) => setTimeout(r, 20));
  child.kill('SIGINT');
  const code = await exited;
  clearTimeout(guard);
  assert.equal(code, 130, out);
  assert.match(out, /interrupted: finishing the step/);
  assert.match(out, /stopped after \d+ complete epoch\(s\); checkpoint and metrics in /);
  assert.ok(existsSync(path.join(dir, 'checkpoint', 'state.json')), 'a mid-epoch checkpoint');
  const lines = readFileSync(metrics, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(lines.length < 4 * 1000, 'stopped long before the end');
  assert.equal(lines.at(-1).type, 'train');
});

test('lwlr info: the parameter table and total, as text and JSON', () => {
  const r = lwlr('info', '--model', 'mlp', '--width', '8', '--depth', '3', '--json');
  assert.equal(r.code, 0, r.err);
  const info = JSON.parse(r.out);
  assert.deepEqual(info.params.map((p: { name: string }) => p.name), ['fc1.kernel', 'fc1.bias', 'fc2.kernel', 'fc2.bias', 'fc3.kernel', 'fc3.bias']);
  assert.deepEqual(info.params[0], { name: 'fc1.kernel', shape: [784, 8], numel: 6272, kind: 'kernel' });
  assert.equal(info.total, 784 * 8 + 8 + 8 * 8 + 8 + 8 * 10 + 10);
  const t = lwlr('info', '--image-size', '4', '--num-classes', '3', '--width', '5');
  assert.equal(t.code, 0, t.err);
  assert.match(t.out, /^fc1\.kernel\s+kernel\s+\[16,5\]\s+80$/m);
  assert.match(t.out, /^total: 103 parameters in 4 tensors$/m);
  assert.equal(t.err, '');
});

test('lwlr train never replaces a run by accident: an --out holding one is refused, --overwrite starts over', () => {
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'lwlr-cli-')), 'run');
  const args = ['train', '--data', 'synthetic', '--limit', '64', '--width', '8', '--batch-size', '32', '--epochs', '1', '--lr-scheme', 'uniform', '--backend', 'cpu', '--quiet', '--out', out];
  assert.equal(lwlr(...args).code, 0);
  const before = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8');
  const again = lwlr(...args);
  assert.equal(again.code, 2);
  assert.equal(again.err.trim(), `lwlr: error: --out ${out} already holds a run (a checkpoint): continue it with --resume ${out}, or pass --overwrite to start over`);
  assert.equal(readFileSync(path.join(out, 'metrics.jsonl'), 'utf8'), before, 'the run is untouched');
  assert.equal(lwlr(...args, '--overwrite').code, 0);
  assert.equal(JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8')).overwrite, undefined, 'an invocation flag, not the run\'s');
});
