// The options of issue 11's study through the CLI: --grad-norm, --lr-scheme frozen-adagrad (its files, resume,
// saved tables, errors). Real processes on synthetic data (offline, seconds).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LRTable } from 'layerwise-lr';
import { decodeSafetensors } from '../src/safetensors.js';
import { readElementTable } from '../src/train/element-table.js';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'lwlr.js');
const small = ['--data', 'synthetic', '--limit', '256', '--width', '32', '--batch-size', '64', '--backend', 'cpu'];

function lwlr(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const tmp = () => mkdtempSync(path.join(tmpdir(), 'lwlr-ev-'));

test('lwlr lr --grad-norm l2: recorded in the table and its header; l1 stays the default', () => {
  const dir = tmp();
  const r = lwlr('lr', ...small, '--steps', '2', '--grad-norm', 'l2', '--out', path.join(dir, 'l2.json'));
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /init fan-out, G l2 \(rms g\), p=0\.5/);
  assert.equal(LRTable.fromJSON(readFileSync(path.join(dir, 'l2.json'), 'utf8')).meta.gradNorm, 'l2');
  const d = lwlr('lr', ...small, '--steps', '2', '--out', path.join(dir, 'l1.json'));
  assert.equal(d.code, 0, d.err);
  assert.equal(LRTable.fromJSON(readFileSync(path.join(dir, 'l1.json'), 'utf8')).meta.gradNorm, 'l1');
  const bad = lwlr('lr', ...small, '--grad-norm', 'l3');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /^lwlr: error: --grad-norm must be one of l1, l2 \(got 'l3'\)\n$/);
});

test('lwlr lr --lr-scheme frozen-adagrad: X.json (per-tensor means) + X.safetensors (per-element multipliers, mean 1)', () => {
  const dir = tmp();
  const out = path.join(dir, 'fa.json');
  const r = lwlr('lr', ...small, '--steps', '3', '--lr-scheme', 'frozen-adagrad', '--out', out);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /scheme frozen-adagrad, T=3, batch 64, init fan-out, per element 1\/\(sqrt\(sum g\^2\) \+ 1e-10\)/);
  const summary = LRTable.fromJSON(readFileSync(out, 'utf8'));
  const st = decodeSafetensors(readFileSync(path.join(dir, 'fa.safetensors')));
  assert.deepEqual(Object.keys(st.tensors), summary.names);
  let sum = 0;
  let n = 0;
  for (const e of summary.entries) {
    const a = st.tensors[e.name]!.data;
    const mean = a.reduce((x, y) => x + y, 0) / a.length;
    assert.ok(Math.abs(mean - e.eta) <= 1e-5 * e.eta, `${e.name}: mean ${mean} vs eta ${e.eta}`);
    sum += mean * a.length;
    n += a.length;
  }
  assert.ok(Math.abs(sum / n - 1) < 1e-5, `mean over all elements ${sum / n}`);
  assert.equal(st.metadata?.signature, summary.meta.signature);
  // flags that do not apply to a per-element scheme are usage errors, not silent no-ops
  for (const [flag, value, re] of [['--exponent', '1', /--exponent is for --lr-scheme layerwise/], ['--grad-norm', 'l2', /--grad-norm is for --lr-scheme layerwise/]] as const) {
    const e = lwlr('lr', ...small, '--lr-scheme', 'frozen-adagrad', flag, value);
    assert.equal(e.code, 2, e.err);
    assert.match(e.err, re);
  }
  const noJson = lwlr('lr', ...small, '--lr-scheme', 'frozen-adagrad', '--out', path.join(dir, 'fa.txt'));
  assert.equal(noJson.code, 2);
  assert.match(noJson.err, /name it \*\.json/);
});

test('lwlr train --lr-scheme frozen-adagrad: files in the run dir, resume bit for bit, saved table, one-line errors', () => {
  const dir = tmp();
  const args = [...small, '--epochs', '2', '--lr', '0.02', '--lr-steps', '2', '--lr-scheme', 'frozen-adagrad', '--quiet'];
  const a = lwlr('train', ...args, '--out', path.join(dir, 'a'));
  assert.equal(a.code, 0, a.err);
  const runA = path.join(dir, 'a');
  const table = LRTable.fromJSON(readFileSync(path.join(runA, 'lr-table.json'), 'utf8'));
  assert.equal(table.meta.scheme, 'frozen-adagrad');
  assert.equal(table.meta.steps, 2);
  const fa = readElementTable(path.join(runA, 'frozen-adagrad.safetensors'), table);
  assert.deepEqual(fa.names, ['fc1.kernel', 'fc1.bias', 'fc2.kernel', 'fc2.bias']);
  // interrupted after epoch 1, resumed: the same metrics as the uninterrupted run
  const b = lwlr('train', ...args, '--out', path.join(dir, 'b'), '--stop-after', '1');
  assert.equal(b.code, 0, b.err);
  const rb = lwlr('train', '--resume', path.join(dir, 'b'), '--quiet');
  assert.equal(rb.code, 0, rb.err);
  const evals = (d: string) => readFileSync(path.join(d, 'metrics.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"eval"'))
    .map((l) => { const { time: _t, ...rest } = JSON.parse(l); return rest; });
  assert.deepEqual(evals(path.join(dir, 'b')), evals(runA));
  // a saved table (lwlr lr --out X.json + X.safetensors) trains the same as measuring in the run
  const lr = lwlr('lr', ...small, '--steps', '2', '--lr-scheme', 'frozen-adagrad', '--out', path.join(dir, 'fa.json'));
  assert.equal(lr.code, 0, lr.err);
  const c = lwlr('train', ...args.filter((x, i, all) => x !== '--lr-scheme' && all[i - 1] !== '--lr-scheme'), '--lr-table', path.join(dir, 'fa.json'), '--out', path.join(dir, 'c'));
  assert.equal(c.code, 0, c.err);
  assert.deepEqual(evals(path.join(dir, 'c')), evals(runA));
  assert.equal(JSON.parse(readFileSync(path.join(dir, 'c', 'config.json'), 'utf8')).lrScheme, 'frozen-adagrad');
  // the safetensors of another model (width 16) beside a run: refused in one line, exit 1
  const other = lwlr('lr', ...small, '--width', '16', '--steps', '2', '--lr-scheme', 'frozen-adagrad', '--out', path.join(dir, 'other.json'));
  assert.equal(other.code, 0, other.err);
  copyFileSync(path.join(dir, 'other.safetensors'), path.join(dir, 'b', 'frozen-adagrad.safetensors'));
  const mism = lwlr('train', '--resume', path.join(dir, 'b'), '--epochs', '3', '--quiet');
  assert.equal(mism.code, 1);
  assert.match(mism.err, /^lwlr: error: --resume .*frozen-adagrad\.safetensors: its signature sig1:\w+ is not its LR table's .*different models\n$/);
  rmSync(path.join(dir, 'b', 'frozen-adagrad.safetensors'));
  const missing = lwlr('train', '--resume', path.join(dir, 'b'), '--epochs', '3', '--quiet');
  assert.equal(missing.code, 1);
  assert.match(missing.err, /^lwlr: error: --resume .*frozen-adagrad\.safetensors: missing/);
  // a saved table for another model: the table's differences, one line
  const wrong = lwlr('train', ...small, '--width', '16', '--epochs', '1', '--lr-table', path.join(dir, 'fa.json'), '--out', path.join(dir, 'd'), '--quiet');
  assert.equal(wrong.code, 1);
  assert.match(wrong.err, /^lwlr: error: --lr-table .*fa\.json: LR table \(frozen-adagrad, 4 parameters\) does not match the model/);
  // truncated multipliers: one line naming the file
  writeFileSync(path.join(dir, 'fa.safetensors'), readFileSync(path.join(dir, 'fa.safetensors')).subarray(0, 100));
  const torn = lwlr('train', ...small, '--epochs', '1', '--lr-table', path.join(dir, 'fa.json'), '--out', path.join(dir, 'e'), '--quiet');
  assert.equal(torn.code, 1);
  assert.match(torn.err, /^lwlr: error: --lr-table .*fa\.json: .*fa\.safetensors: /);
  // frozen-adagrad with an optimizer that runs one learning rate: refused before measuring
  const lars = lwlr('train', ...small, '--optimizer', 'lars', '--lr-scheme', 'frozen-adagrad', '--out', path.join(dir, 'f'));
  assert.equal(lars.code, 2);
  assert.match(lars.err, /--optimizer lars sets its own per-tensor steps .* use --lr-scheme uniform \(got 'frozen-adagrad'\)/);
  assert.ok(!existsSync(path.join(dir, 'f', 'metrics.jsonl')));
});

test('lwlr train: a run directory overwritten with another scheme loses the old multipliers file', () => {
  const dir = tmp();
  const run = path.join(dir, 'r');
  const base = [...small, '--epochs', '1', '--lr-steps', '2', '--quiet', '--out', run];
  assert.equal(lwlr('train', ...base, '--lr-scheme', 'frozen-adagrad').code, 0);
  assert.ok(existsSync(path.join(run, 'frozen-adagrad.safetensors')));
  const r = lwlr('train', ...base, '--lr-scheme', 'layerwise', '--overwrite');
  assert.equal(r.code, 0, r.err);
  assert.ok(!existsSync(path.join(run, 'frozen-adagrad.safetensors')));
});

test('lwlr info: resnet20 (0.27 M) and vit-cpu, with --torch names', () => {
  const r = lwlr('info', '--model', 'resnet20', '--torch');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /layer2\.0\.conv1\.kernel\s+kernel\s+\[3,3,16,32\]\s+4608\s+layer2\.0\.conv1\.weight/);
  assert.match(r.out, /total: 269,434 parameters in 59 tensors/);
  const c = lwlr('info', '--model', 'resnet20', '--image-size', '32', '--channels', '3', '--json');
  assert.equal(JSON.parse(c.out).total, 269_722);
  const v = lwlr('info', '--model', 'vit-cpu', '--torch');
  assert.equal(v.code, 0, v.err);
  assert.match(v.out, /blocks\.0\.attn\.k\.kernel\s+kernel\s+\[64,64\]\s+4096\s+blocks\.0\.attn\.qkv\.weight\[64:128\]/);
  assert.match(v.out, /total: 305,034 parameters in 104 tensors/);
});

test('lwlr compare-tables: statistics against the reference, from table files and run directories; one-line errors', () => {
  const dir = tmp();
  const table = (etas: number[], steps: number) => new LRTable(
    ['a', 'b', 'c'].map((name, i) => ({ name, shape: [2], numel: 2, kind: 'kernel' as const, G: 1, eta: etas[i]! })),
    { scheme: 'layerwise', steps, batchSize: 8, init: 'fan-out', exponent: 0.5, seed: 0, zeroGradient: null });
  writeFileSync(path.join(dir, 'ref.json'), JSON.stringify(table([1, 2, 4], 100)));
  writeFileSync(path.join(dir, 't1.json'), JSON.stringify(table([0.5, 2, 5], 1)));
  const run = path.join(dir, 'run');
  mkdirSync(run);
  writeFileSync(path.join(run, 'lr-table.json'), JSON.stringify(table([1, 2, 4], 10)));
  const r = lwlr('compare-tables', path.join(dir, 'ref.json'), path.join(dir, 't1.json'), run);
  assert.equal(r.code, 0, r.err);
  // t1 vs ref by hand: |ln ratio| = [ln 2, 0, ln 1.25] -> max 0.6931 at a, mean 0.3054; deviations [50, 0, 25] %
  assert.match(r.out, /t1\.json\s+1\s+1\.0000\s+0\.6931\s+a\s+0\.3054\s+50\.00\s+25\.00/);
  assert.match(r.out, /run\s+10\s+1\.0000\s+0\.0000\s+\S+\s+0\.0000\s+0\.00\s+0\.00/);
  const j = JSON.parse(lwlr('compare-tables', path.join(dir, 'ref.json'), path.join(dir, 't1.json'), '--json').out);
  assert.equal(j[0].maxDeviationPct, 50);
  const one = lwlr('compare-tables', path.join(dir, 'ref.json'));
  assert.equal(one.code, 2);
  assert.match(one.err, /needs a reference table and at least one other/);
  const missing = lwlr('compare-tables', path.join(dir, 'ref.json'), path.join(dir, 'nope.json'));
  assert.equal(missing.code, 1);
  assert.match(missing.err, /nope\.json: no such file or directory\n$/);
});
