// lwlr train --config (JSON/YAML, flags win, a run's config.json repeats the run), lwlr compare --schemes,
// --tensorboard and the loss/optimizer options as the CLI takes them. Real processes, cpu backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'lwlr.js');
const small = ['--data', 'synthetic', '--limit', '256', '--width', '32', '--batch-size', '64', '--backend', 'cpu', '--log-every', '1', '--quiet'];
const tmp = () => mkdtempSync(path.join(tmpdir(), 'lwlr-cli-config-'));

function lwlr(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const records = (dir: string) => readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const losses = (dir: string) => records(dir).filter((r) => r.type === 'train').map((r) => r.loss as number);

test('lwlr train --config: YAML keys with dashes or camelCase, flags override; config.json repeats the run', () => {
  const d = tmp();
  const ref = lwlr('train', ...small, '--epochs', '2', '--lr', '0.03', '--lr-scheme', 'layerwise', '--lr-steps', '2', '--label-smoothing', '0.1', '--out', path.join(d, 'ref'));
  assert.equal(ref.code, 0, ref.err);
  const yaml = path.join(d, 'run.yaml');
  writeFileSync(yaml, ['# a run', 'data: synthetic', 'limit: 256', 'width: 32', 'batch-size: 64', 'backend: cpu', 'logEvery: 1',
    'quiet: true', 'epochs: 5', 'lr: 0.03', 'lrScheme: layerwise', 'lr-steps: 2', 'labelSmoothing: 0.1', ''].join('\n'));
  const fromYaml = lwlr('train', '--config', yaml, '--epochs', '2', '--out', path.join(d, 'yaml'));
  assert.equal(fromYaml.code, 0, fromYaml.err);
  assert.deepEqual(losses(path.join(d, 'yaml')), losses(path.join(d, 'ref')));
  // the run's own config.json is a config file: the same losses
  const again = lwlr('train', '--config', path.join(d, 'ref', 'config.json'), '--out', path.join(d, 'again'));
  assert.equal(again.code, 0, again.err);
  assert.deepEqual(losses(path.join(d, 'again')), losses(path.join(d, 'ref')));
  const cfg = JSON.parse(readFileSync(path.join(d, 'ref', 'config.json'), 'utf8'));
  assert.equal(cfg.labelSmoothing, 0.1);
  assert.equal(cfg.out, undefined, 'the output directory is not part of the config');
  assert.equal(cfg.backend, 'cpu');
  // and a config without --out is refused, rather than overwriting the run it came from
  assert.match(lwlr('train', '--config', path.join(d, 'ref', 'config.json')).err, /--out RUN_DIR is required/);
});

test('lwlr train --config with a saved --eta-table: config.json records the table scheme and repeats the run', () => {
  const d = tmp();
  const table = path.join(d, 'lr.json');
  assert.equal(lwlr('lr', ...small.filter((x) => x !== '--log-every' && x !== '1' && x !== '--quiet'), '--steps', '2', '--out', table).code, 0);
  const a = lwlr('train', ...small, '--epochs', '1', '--eta-table', table, '--out', path.join(d, 'a'));
  assert.equal(a.code, 0, a.err);
  assert.equal(JSON.parse(readFileSync(path.join(d, 'a', 'config.json'), 'utf8')).lrScheme, 'layerwise');
  const b = lwlr('train', '--config', path.join(d, 'a', 'config.json'), '--out', path.join(d, 'b'));
  assert.equal(b.code, 0, b.err);
  assert.deepEqual(losses(path.join(d, 'b')), losses(path.join(d, 'a')));
});

test('lwlr train --config: unknown keys and bad values are one line naming the key and the file', () => {
  const d = tmp();
  const cases: Array<[string, string, number, RegExp]> = [
    ['unknown.yaml', 'epochs: 2\nlearning-rate: 0.1\n', 2, /^lwlr: error: --config .*unknown\.yaml: unknown key 'learning-rate' \(keys are the flags of the command/],
    ['bad.json', '{"epochs": "many"}', 2, /^lwlr: error: --config .*bad\.json: --epochs must be a number \(got 'many'\)/],
    ['choice.yaml', 'lr-scheme: sideways\n', 2, /^lwlr: error: --config .*choice\.yaml: --lr-scheme must be one of uniform, layerwise/],
    ['list.yaml', '- 1\n- 2\n', 1, /^lwlr: error: --config .*list\.yaml: expected a mapping of flag names to values/],
    ['broken.yaml', 'epochs: [1\n', 1, /^lwlr: error: --config .*broken\.yaml: not JSON or YAML/],
  ];
  for (const [name, text, code, re] of cases) {
    writeFileSync(path.join(d, name), text);
    const r = lwlr('train', '--config', path.join(d, name), '--out', path.join(d, 'run'));
    assert.equal(r.code, code, `${name}: ${r.err}`);
    assert.match(r.err, re);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
  }
  const missing = lwlr('train', '--config', path.join(d, 'nope.yaml'), '--out', path.join(d, 'run'));
  assert.equal(missing.code, 1);
  assert.match(missing.err, /--config .*nope\.yaml: no such file/);
});

test('lwlr compare --schemes: one run per scheme from the same init and data order, summary table and files', () => {
  const d = tmp();
  const out = path.join(d, 'cmp');
  const r = lwlr('compare', '--schemes', 'uniform,depth-increasing', ...small, '--epochs', '2', '--out', out, '--tensorboard');
  assert.equal(r.code, 0, r.err);
  for (const s of ['uniform', 'depth-increasing']) {
    assert.equal(JSON.parse(readFileSync(path.join(out, s, 'config.json'), 'utf8')).lrScheme, s);
    assert.ok(readdirSync(path.join(out, s, 'tb')).length > 0, 'TensorBoard event file');
  }
  // the first step's loss is computed before any update: same init and same first batch give the same value
  assert.equal(losses(path.join(out, 'uniform'))[0], losses(path.join(out, 'depth-increasing'))[0]);
  assert.notDeepEqual(losses(path.join(out, 'uniform')), losses(path.join(out, 'depth-increasing')));
  assert.match(r.out, /^run\s+scheme\s+epochs\s+train loss\s+test loss\s+test acc\s+best acc\s+time$/m);
  assert.match(r.out, /^depth-increasing\s+depth-increasing\s+2\s/m);
  const csv = readFileSync(path.join(out, 'summary.csv'), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'run,scheme,epochs,trainLoss,testLoss,testAcc,bestTestAcc,testTop5,valLoss,valAcc,time');
  assert.deepEqual(csv.slice(1).map((l) => l.split(',')[1]), ['uniform', 'depth-increasing']);
  const evalU = records(path.join(out, 'uniform')).filter((x) => x.type === 'eval').at(-1);
  assert.equal(Number(csv[1].split(',')[4]), evalU.testLoss);
  const md = readFileSync(path.join(out, 'summary.md'), 'utf8').trim().split('\n');
  assert.match(md[0], /^\| run \| scheme \| epochs \|/);
  assert.equal(md.length, 4);
  // the old form still prints run directories side by side
  const old = lwlr('compare', path.join(out, 'uniform'), path.join(out, 'depth-increasing'));
  assert.equal(old.code, 0, old.err);
  assert.match(old.out, /^uniform\s+uniform\s+2\s/m);
  for (const [args, re] of [
    [['--schemes', 'uniform,sideways', '--out', out], /--schemes: unknown scheme 'sideways'/],
    [['--schemes', 'uniform', '--lr-scheme', 'uniform', '--out', out], /--lr-scheme cannot be used with --schemes/],
    [['--schemes', 'uniform'], /--out DIR is required/],
  ] as Array<[string[], RegExp]>) {
    const e = lwlr('compare', ...args);
    assert.equal(e.code, 2, e.err);
    assert.match(e.err, re);
  }
});

test('lwlr train: --accum-steps, --wd-exclude and --label-smoothing run and are recorded; bad values are refused', () => {
  const d = tmp();
  const r = lwlr('train', ...small, '--epochs', '1', '--lr-scheme', 'uniform', '--accum-steps', '4', '--wd-exclude', '--label-smoothing', '0.1', '--out', path.join(d, 'a'));
  assert.equal(r.code, 0, r.err);
  const cfg = JSON.parse(readFileSync(path.join(d, 'a', 'config.json'), 'utf8'));
  assert.deepEqual([cfg.accumSteps, cfg.wdExclude, cfg.labelSmoothing], [4, true, 0.1]);
  assert.ok(existsSync(path.join(d, 'a', 'metrics.csv')));
  assert.match(lwlr('train', ...small, '--label-smoothing', '1', '--out', path.join(d, 'b')).err, /--label-smoothing must be in \[0, 1\)/);
  assert.match(lwlr('train', ...small, '--accum-steps', '0', '--out', path.join(d, 'b')).err, /--accum-steps must be an integer >= 1 \(got 0\)/);
});
