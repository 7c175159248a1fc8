// A run as a typed value: resolveRunConfig checks every value and combination up front (a ConfigError naming
// the flag), the defaults that depend on the optimizer come from its registration, config.json round-trips, and
// the CLI maps a ConfigError to exit 2 with nothing written. One case per row of issue 13's table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, UsageError } from '../src/errors.js';
import {
  RUN_FIELDS, resolveRunConfig, resumedRunConfig, runConfigArgs, storedRunConfig, type RunConfig,
} from '../src/train/run-config.js';
import { TRAIN_FLAGS } from '../src/cli/train.js';
import { checkTrialFlags } from '../src/sweep/runner.js';
import { sweepConfigFrom } from '../src/sweep/config.js';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'lwlr.js');
const tmp = () => mkdtempSync(path.join(tmpdir(), 'lwlr-run-config-'));

/** Asserts `f` throws a one-line ConfigError about `flag` whose message matches `re`. */
function refuses(f: () => unknown, flag: string, re: RegExp): void {
  assert.throws(f, (e: Error) => {
    assert.ok(e instanceof ConfigError, `a ConfigError, got ${e.constructor.name}: ${e.message}`);
    assert.equal(e.flag, flag, e.message);
    assert.equal(e.exitCode, 2);
    assert.match(e.message, re);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

test('defaults: every field resolved; camelCase and dashed keys; strings from a file become numbers', () => {
  const c = resolveRunConfig({});
  assert.equal(c.model, 'mlp');
  assert.equal(c.optimizer, 'sgd');
  assert.equal(c.lrScheme, 'layerwise');
  assert.equal(c.init, 'fan-out');
  assert.equal(c.lr, 0.1);
  assert.equal(c.trustCoef, undefined, "LARS's knob has no value unless given: the registry's default applies");
  assert.ok(Object.isFrozen(c));
  const d = resolveRunConfig({ 'batch-size': '64', warmupEpochs: 0, 'wd-exclude': 'true' });
  assert.deepEqual([d.batchSize, d.warmupEpochs, d.wdExclude], [64, 0, true]);
  refuses(() => resolveRunConfig({ learningRate: 0.1 }), 'learningRate', /unknown key 'learningRate'/);
  refuses(() => resolveRunConfig({ epochs: 'many' }), 'epochs', /--epochs must be a number \(got 'many'\)/);
  refuses(() => resolveRunConfig({ model: 'resnet-9000' }), 'model', /--model must be one of mlp, resnet18/);
  // the CLI's flags are the fields plus the invocation's
  for (const name of Object.keys(RUN_FIELDS)) assert.ok(TRAIN_FLAGS[name], name);
});

test('issue 13 row 1: negative lr, momentum, wd, warmup and a warmup longer than the run are refused up front', () => {
  refuses(() => resolveRunConfig({ lr: -1 }), 'lr', /^--lr must be a finite number >= 0 \(got -1\)$/);
  refuses(() => resolveRunConfig({ momentum: -1 }), 'momentum', /^--momentum must be in \[0, 1\) \(got -1\)$/);
  refuses(() => resolveRunConfig({ wd: -1 }), 'wd', /^--wd must be a finite number >= 0 \(got -1\)$/);
  refuses(() => resolveRunConfig({ 'warmup-epochs': -1 }), 'warmup-epochs', /^--warmup-epochs must be a number >= 0 \(got -1\)$/);
  refuses(() => resolveRunConfig({ epochs: 3, 'warmup-epochs': 5 }), 'warmup-epochs', /^--warmup-epochs is longer than the run \(--epochs 3\) \(got 5\)$/);
  resolveRunConfig({ epochs: 3, 'warmup-epochs': 3 }); // the whole run as warmup is a run
});

test('issue 13 row 3: zero sizes and counts are refused like --epochs 0', () => {
  for (const flag of ['epochs', 'batch-size', 'width', 'depth', 'limit', 'lr-steps', 'accum-steps', 'log-every', 'image-size', 'num-classes']) {
    refuses(() => resolveRunConfig({ [flag]: 0 }), flag, new RegExp(`^--${flag} must be an integer >= 1 \\(got 0\\)$`));
  }
  for (const [flag, value, re] of [
    ['label-smoothing', 1, /must be in \[0, 1\)/], ['drop', 1.5, /must be in \[0, 1\)/], ['beta2', 1, /must be in \[0, 1\)/],
    ['eps', 0, /must be a number > 0/], ['poly-power', 0, /must be a number > 0/], ['exponent', -0.5, /must be a finite number >= 0/],
    ['channels', 2, /must be 1 or 3/], ['val-split', -1, /must be a fraction in \(0, 1\) or a whole count >= 1/],
    ['mixup', -1, /must be an alpha >= 0/], ['randaugment', '2', /must be N,M/], ['seed', -1, /must be an integer >= 0/],
  ] as Array<[string, unknown, RegExp]>) {
    refuses(() => resolveRunConfig({ [flag]: value, optimizer: flag === 'beta2' || flag === 'eps' ? 'adamw' : 'sgd' }), flag, re);
  }
});

test('issue 13 row 5: an optimizer that takes only uniform defaults to it; an explicit other scheme is a usage error', () => {
  for (const optimizer of ['lamb', 'lars', 'sgd-ng', 'sgd-ng-adap', 'adam-ng']) {
    assert.equal(resolveRunConfig({ optimizer }).lrScheme, 'uniform', optimizer);
    refuses(() => resolveRunConfig({ optimizer, 'lr-scheme': 'layerwise' }), 'lr-scheme',
      new RegExp(`^--optimizer ${optimizer} sets its own per-tensor steps and takes --lr-scheme uniform only \\(got 'layerwise'\\)$`));
  }
  assert.equal(resolveRunConfig({ optimizer: 'adamw' }).lrScheme, 'layerwise');
  // muP: uniform and fan-in by default; --mup-base-width required; an explicit other init refused
  const mup = resolveRunConfig({ optimizer: 'mup-sgd', 'mup-base-width': 64 });
  assert.deepEqual([mup.lrScheme, mup.init], ['uniform', 'fan-in']);
  refuses(() => resolveRunConfig({ optimizer: 'mup-adam' }), 'mup-base-width', /needs --mup-base-width/);
  refuses(() => resolveRunConfig({ optimizer: 'mup-sgd', 'mup-base-width': 64, init: 'fan-out' }), 'init', /needs --init fan-in/);
  refuses(() => resolveRunConfig({ 'mup-base-width': 64 }), 'mup-base-width', /is for --optimizer mup-sgd or mup-adam/);
  // knobs an optimizer does not have
  refuses(() => resolveRunConfig({ optimizer: 'lars', beta1: 0.8 }), 'beta1', /Adam knobs; --optimizer lars has none/);
  refuses(() => resolveRunConfig({ optimizer: 'adamw', 'trust-coef': 0.01 }), 'trust-coef', /LARS knobs; --optimizer adamw has none/);
  assert.equal(resolveRunConfig({ optimizer: 'lars', 'trust-coef': 0.02, 'lars-clip': false }).trustCoef, 0.02);
  // the sweep grid of the issue validates in process: every trial resolves
  checkTrialFlags(sweepConfigFrom({ epochs: 1, grid: { optimizer: ['sgd', 'lamb'], lr: [0.1] } }, 's.yaml'));
  assert.throws(() => checkTrialFlags(sweepConfigFrom({ epochs: 1, 'lr-scheme': 'layerwise', grid: { optimizer: ['sgd', 'lamb'] } }, 's.yaml')),
    (e: Error) => e instanceof UsageError && /^sweep flags \(--epochs 1 --lr-scheme layerwise --optimizer lamb\): --optimizer lamb sets its own per-tensor steps/.test(e.message));
});

test('frozen-adagrad (sgd/adamw only) takes neither --exponent nor --grad-norm; --grad-norm is l1 unless given', () => {
  assert.equal(resolveRunConfig({}).gradNorm, 'l1');
  assert.equal(resolveRunConfig({ 'grad-norm': 'l2' }).gradNorm, 'l2');
  refuses(() => resolveRunConfig({ 'grad-norm': 'l3' }), 'grad-norm', /--grad-norm must be one of l1, l2 \(got 'l3'\)/);
  for (const optimizer of ['sgd', 'adamw']) assert.equal(resolveRunConfig({ optimizer, 'lr-scheme': 'frozen-adagrad' }).lrScheme, 'frozen-adagrad');
  refuses(() => resolveRunConfig({ optimizer: 'lamb', 'lr-scheme': 'frozen-adagrad' }), 'lr-scheme', /takes --lr-scheme uniform only \(got 'frozen-adagrad'\)/);
  refuses(() => resolveRunConfig({ 'lr-scheme': 'frozen-adagrad', exponent: 1 }), 'exponent', /--exponent is for --lr-scheme layerwise/);
  refuses(() => resolveRunConfig({ 'lr-scheme': 'frozen-adagrad', 'grad-norm': 'l2' }), 'grad-norm', /--grad-norm is for --lr-scheme layerwise/);
  assert.equal(resolveRunConfig({ 'lr-scheme': 'frozen-adagrad', exponent: 0.5, 'grad-norm': 'l1' }).exponent, 0.5);
});

test('a saved table: --lr-scheme is then unset unless given; files that do not exist are named (exit 1)', () => {
  const d = tmp();
  const table = path.join(d, 't.json');
  writeFileSync(table, '{}');
  assert.equal(resolveRunConfig({ 'eta-table': table }).lrScheme, undefined);
  assert.equal(resolveRunConfig({ 'eta-table': table, 'lr-scheme': 'uniform' }).lrScheme, 'uniform');
  // 0.1's name of the field (sweep files, config files, a stored config.json)
  assert.equal(resolveRunConfig({ 'lr-table': table }).etaTable, table);
  assert.equal(resolveRunConfig({ lrTable: table }).etaTable, table);
  for (const flag of ['eta-table', 'init-weights']) {
    assert.throws(() => resolveRunConfig({ [flag]: path.join(d, 'nope') }),
      (e: Error) => e instanceof UsageError && e.exitCode === 1 && new RegExp(`^--${flag} .*nope: no such file$`).test(e.message));
  }
});

test('config.json round trip: storedRunConfig -> resolveRunConfig; an 0.1 config.json (LARS knobs for every run, quiet) reads', () => {
  const c = resolveRunConfig({ model: 'mlp', width: 32, optimizer: 'adamw', beta1: 0.8, out: '/tmp/x', 'save-weights': 'w.safetensors' });
  const stored = storedRunConfig(c, { datasetName: 'synthetic', trainCount: 256 });
  assert.equal(stored.out, undefined, 'where the run writes is not what it is');
  assert.equal(stored.saveWeights, undefined);
  assert.equal(stored.command, 'train');
  const again = resolveRunConfig(JSON.parse(JSON.stringify(stored)));
  assert.deepEqual({ ...again }, { ...c, out: undefined, saveWeights: undefined });
  const old = {
    command: 'train', model: 'mlp', optimizer: 'sgd', lr: 0.05, trustCoef: 0.001, larsClip: true, quiet: true, lrScheme: 'uniform',
    argv: ['--lr', '0.05'], datasetName: 'synthetic', trainCount: 256, testCount: 256,
  };
  const r = resolveRunConfig(old);
  assert.deepEqual([r.lr, r.trustCoef, r.larsClip, r.lrScheme], [0.05, undefined, undefined, 'uniform']);
  // the arguments a sweep trial's child process gets
  assert.deepEqual(runConfigArgs(resolveRunConfig({ lr: 0.2, 'wd-exclude': true, optimizer: 'lamb' })), ['--optimizer', 'lamb', '--lr', '0.2', '--wd-exclude', '--lr-scheme', 'uniform', '--init', 'fan-out']);
});

test('resume: the stored config with --epochs changed; another value is refused naming both', () => {
  const stored = storedRunConfig(resolveRunConfig({ lr: 0.05, epochs: 2 }));
  const r: RunConfig = resumedRunConfig('/runs/a', { epochs: 4, lr: 0.05 }, stored);
  assert.deepEqual([r.epochs, r.lr, r.out], [4, 0.05, '/runs/a']);
  assert.throws(() => resumedRunConfig('/runs/a', { lr: 0.2 }, stored), /^Error: --resume \/runs\/a: --lr 0\.2 differs from the run's 0\.05 /);
  assert.throws(() => resumedRunConfig('/runs/a', {}, null), /--resume \/runs\/a: no config\.json \(not a run directory\?\)/);
});

function lwlr(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('CLI: a bad value or combination is exit 2, one line, and no --out folder; bad input files leave none either (exit 1)', () => {
  const d = tmp();
  const small = ['--data', 'synthetic', '--limit', '64', '--width', '8', '--batch-size', '32', '--backend', 'cpu', '--quiet'];
  const badTable = path.join(d, 'bad.json');
  writeFileSync(badTable, '{"schema": "something-else"}');
  const otherTable = path.join(d, 'other.json');
  assert.equal(lwlr('lr', ...small, '--width', '4', '--steps', '1', '--out', otherTable).code, 0);
  const cases: Array<[string[], number, RegExp]> = [
    [['--lr', '-1'], 2, /^lwlr: error: --lr must be a finite number >= 0 \(got -1\)$/],
    [['--momentum', '-1'], 2, /--momentum must be in \[0, 1\)/],
    [['--wd', '-1'], 2, /--wd must be a finite number >= 0/],
    [['--warmup-epochs', '-1'], 2, /--warmup-epochs must be a number >= 0/],
    [['--epochs', '2', '--warmup-epochs', '3'], 2, /--warmup-epochs is longer than the run \(--epochs 2\)/],
    [['--batch-size', '0'], 2, /--batch-size must be an integer >= 1/],
    [['--width', '0'], 2, /--width must be an integer >= 1/],
    [['--limit', '0'], 2, /--limit must be an integer >= 1/],
    [['--lr-steps', '0'], 2, /--lr-steps must be an integer >= 1/],
    [['--optimizer', 'lamb', '--lr-scheme', 'layerwise'], 2, /--optimizer lamb sets its own per-tensor steps and takes --lr-scheme uniform only/],
    [['--eta-table', path.join(d, 'missing.json')], 1, /--eta-table .*missing\.json: no such file/],
    [['--eta-table', badTable], 1, /--eta-table .*bad\.json: eta table: missing or unknown schema/],
    [['--eta-table', otherTable], 1, /^lwlr: error: --eta-table .*other\.json: eta table \(layerwise, 4 parameters\) does not match the model \(4 parameters\): 3 shape mismatches: fc1\.kernel: table \[784,4\] vs model \[784,8\]/],
    [['--init-weights', badTable], 1, /--init-weights .*bad\.json: /],
  ];
  for (const [args, code, re] of cases) {
    const out = path.join(d, `run-${cases.findIndex((c) => c[0] === args)}`);
    const r = lwlr('train', ...small, ...args, '--out', out);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err.trim(), re, args.join(' '));
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.ok(!existsSync(out), `${args.join(' ')}: no run directory`);
  }
});

test('issue 13 row 6: lwlr info names the flag when the model cannot take the size', () => {
  const r = lwlr('info', '--model', 'swin-t', '--image-size', '30', '--channels', '3');
  assert.equal(r.code, 1);
  assert.match(r.err, /^lwlr: error: --model swin-t cannot take 30x30 images \(.*\); choose a size it divides with --image-size N\n$/);
});
