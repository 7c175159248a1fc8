// The run directory's one owner: its file names, the writer, and the strict and lenient readers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  RUN_FILES, RunDir, finalMetrics, hasMetrics, isRunDir, parseMetrics, readMetrics, readRun, readRunConfigFile, runFile,
} from '../src/train/run-dir.js';
import { fakeTable } from './report-fixtures.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'lwlr-run-dir-'));

test('parseMetrics: train/eval records, unknown types and extra fields ignored, partial last line skipped, bad lines name the line', () => {
  const text = [
    '{"type":"train","epoch":1,"step":1,"loss":2.5,"lr":0.1,"imagesPerSec":10,"time":0.1}',
    '{"type":"lr","epoch":1,"step":1,"whatever":3}',
    '{"type":"eval","epoch":1,"step":1,"trainLoss":2,"testLoss":2.1,"testAcc":0.5,"valAcc":0.4,"valLoss":2.2,"extra":1,"time":0.2}',
    '{"type":"train","epoch":2,"step":2,"loss":null,"lr":0.1,"imagesPerSec":10,"time":0.3}',
    '{"type":"train","epo',
  ].join('\n');
  const m = parseMetrics(text, 'x/metrics.jsonl');
  assert.equal(m.train.length, 2);
  assert.ok(Number.isNaN(m.train[1].loss));
  assert.deepEqual(m.evals[0], { epoch: 1, step: 1, trainLoss: 2, testLoss: 2.1, testAcc: 0.5, time: 0.2, valLoss: 2.2, valAcc: 0.4 });
  assert.throws(() => parseMetrics('{"type":"train","epoch":1,"step":1}\nnot json\n{"type":"train","epoch":1,"step":2}\n', 'x/metrics.jsonl'), /^Error: x\/metrics\.jsonl:2: not a JSON object$/);
  assert.throws(() => parseMetrics('{"type":"train"}\n', 'f'), /f:1: expected a record with numeric epoch and step/);
});

test('parseMetrics lenient (a sweep reading killed trials): every unreadable line is skipped, never an error', () => {
  const text = '{"type":"eval","epoch":1,"step":4,"trainLoss":1,"testLoss":1.5,"testAcc":0.5,"time":1}\ngarbage\n{"type":"eval"}\n{"type":"eval","epoch":2,"step":8,"trainLoss":null,"testLoss":null,"testAcc":null,"time":2}\n';
  assert.throws(() => parseMetrics(text, 'm'), /m:2: not a JSON object/);
  const m = parseMetrics(text, 'm', { lenient: true });
  assert.equal(m.evals.length, 2);
  // a diverged last epoch (null losses) has no final numbers; the best accuracy is the finite one
  assert.deepEqual(finalMetrics(m.evals), { finalTrainLoss: null, finalTestLoss: null, finalTestAcc: null, bestTestAcc: 0.5, epochs: 2 });
  assert.deepEqual(finalMetrics([]), { finalTrainLoss: null, finalTestLoss: null, finalTestAcc: null, bestTestAcc: null, epochs: 0 });
});

test('RunDir writes the layout RUN_FILES names; readRun reads it back; a folder without metrics or table is no run', () => {
  const dir = path.join(tmp(), 'run');
  assert.ok(!isRunDir(dir));
  assert.throws(() => readRun(dir), /run: not a run directory \(no metrics\.jsonl or eta-table\.json\)/);
  const w = new RunDir(dir);
  w.writeConfig({ model: 'mlp', lr: 0.1 });
  w.writeEtaTable(fakeTable(3));
  w.resetMetrics();
  assert.ok(!hasMetrics(dir));
  w.log({ type: 'train', epoch: 1, step: 1, loss: 2, lr: 0.1, imagesPerSec: 5, time: 0.5 });
  w.log({ type: 'eval', epoch: 1, step: 1, trainLoss: 2, testLoss: 2.5, testAcc: 0.25, time: 1 });
  w.close();
  assert.ok(hasMetrics(dir));
  assert.deepEqual(readdirSync(dir).sort(), [RUN_FILES.config, RUN_FILES.etaTable, RUN_FILES.metrics].sort());
  assert.equal(runFile(dir, 'metrics'), path.join(dir, 'metrics.jsonl'));
  const r = readRun(dir);
  assert.deepEqual(r.config, { model: 'mlp', lr: 0.1 });
  assert.equal(r.table!.entries.length, fakeTable(3).entries.length);
  assert.deepEqual(r.train, [{ step: 1, epoch: 1, loss: 2, lr: 0.1, time: 0.5 }]);
  assert.equal(r.evals[0]!.testAcc, 0.25);
  assert.deepEqual(readMetrics(dir), { train: r.train, evals: r.evals });
  writeFileSync(runFile(dir, 'config'), '[1]');
  assert.throws(() => readRunConfigFile(dir), /config\.json: expected a JSON object/);
  assert.deepEqual(readMetrics(path.join(dir, 'none')), { train: [], evals: [] });
  assert.ok(!existsSync(path.join(dir, 'none')));
  assert.equal(readFileSync(runFile(dir, 'metrics'), 'utf8').split('\n').length, 3);
  // a 0.1 run: its table under the old name is read
  const old = path.join(tmp(), 'old');
  new RunDir(old).writeJSON('lr-table.json', fakeTable(1));
  assert.ok(isRunDir(old));
  assert.equal(readRun(old).table!.entries.length, fakeTable(1).entries.length);
});
