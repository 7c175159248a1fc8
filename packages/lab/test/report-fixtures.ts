// Run and sweep directories as `lwlr train` and the sweep helper write them, generated for the report tests.
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { EtaTable, type EtaTableJSON } from 'layerwise-lr';
import type { RunData, SweepResults } from '../src/report/load.js';

type Kind = 'kernel' | 'bias' | 'scale' | 'shift' | 'embedding';

/** A ResNet-like table: stem, `blocks` blocks of conv+bn pairs, head; etas spread over three decades. */
export function fakeTable(blocks = 3, etaScale = 1): EtaTableJSON {
  const rows: Array<[string, number[], Kind]> = [['conv1.kernel', [3, 3, 3, 8], 'kernel'], ['bn1.gamma', [8], 'scale'], ['bn1.beta', [8], 'shift']];
  for (let b = 0; b < blocks; b++) {
    for (const c of [1, 2]) {
      rows.push([`layer1.${b}.conv${c}.kernel`, [3, 3, 8, 8], 'kernel'], [`layer1.${b}.bn${c}.gamma`, [8], 'scale'], [`layer1.${b}.bn${c}.beta`, [8], 'shift']);
    }
  }
  rows.push(['fc.kernel', [8, 10], 'kernel'], ['fc.bias', [10], 'bias']);
  const json = {
    schema: 'layerwise-lr/eta-table@1',
    meta: { scheme: 'layerwise', steps: 4, batchSize: 32, init: 'fan-out', exponent: 0.5, seed: 0, zeroGradient: null, libraryVersion: '0.1.0', createdAt: '2026-01-01T00:00:00.000Z', warnings: [] },
    entries: rows.map(([name, shape, kind], i) => ({
      name, shape, numel: shape.reduce((a, b) => a * b, 1), kind, G: 1 / (1 + i), eta: etaScale * 10 ** (-2 + (3 * i) / (rows.length - 1)),
    })),
  };
  return EtaTable.fromJSON(JSON.stringify(json)).toJSON(); // fills in the signature
}

export interface FakeRunOptions { scheme?: string; lr?: number; epochs?: number; stepsPerEpoch?: number; val?: boolean; blocks?: number; seed?: number; etaScale?: number }

/** Writes config.json, eta-table.json and metrics.jsonl; the loss decays from ~2.3 with a little noise. */
export function writeRun(dir: string, o: FakeRunOptions = {}): string {
  const epochs = o.epochs ?? 3, spe = o.stepsPerEpoch ?? 10, lr = o.lr ?? 0.1;
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({
    command: 'train', argv: ['--out', dir], model: 'resnet18-cifar', data: 'synthetic', optimizer: 'sgd', lr, epochs, lrScheme: o.scheme ?? 'layerwise', seed: o.seed ?? 0, out: dir,
  }, null, 2));
  writeFileSync(path.join(dir, 'eta-table.json'), JSON.stringify(fakeTable(o.blocks, o.etaScale), null, 2));
  const lines: string[] = [];
  let t = 0;
  for (let e = 1; e <= epochs; e++) {
    for (let s = 1; s <= spe; s++) {
      const step = (e - 1) * spe + s;
      t += 0.5;
      lines.push(JSON.stringify({ type: 'train', epoch: e, step, loss: 2.3 * Math.exp(-step * lr / 2) * (1 + 0.05 * Math.sin(step)), lr, imagesPerSec: 100, time: t }));
    }
    const acc = 1 - 0.9 * Math.exp(-e * lr * 3);
    lines.push(JSON.stringify({
      type: 'eval', epoch: e, step: e * spe, trainLoss: 2.3 * Math.exp(-e * spe * lr / 2), testLoss: 2.5 * Math.exp(-e * spe * lr / 3), testAcc: acc, testTop5: Math.min(1, acc + 0.1), time: t + 0.25,
      ...(o.val ? { valLoss: 2.6 * Math.exp(-e * spe * lr / 3), valAcc: acc - 0.02 } : {}),
    }));
  }
  writeFileSync(path.join(dir, 'metrics.jsonl'), `${lines.join('\n')}\n`);
  return dir;
}

/**
 * A sweep over lr (4 values) x wd (3) x optimizer (2) x seed (2): 96 trials. lr = 1 diverges everywhere;
 * lr = 0.3 with wd = 0.001 diverges for one of the two seeds (the cell keeps the other seed's value).
 */
export function fakeSweep(): SweepResults {
  const grid = { lr: [0.01, 0.03, 0.3, 1], wd: [0, 0.0001, 0.001], optimizer: ['sgd', 'adamw'], seed: [0, 1], epochs: [5] };
  const trials: SweepResults['trials'] = [];
  for (const optimizer of grid.optimizer) for (const lr of grid.lr) for (const wd of grid.wd) for (const seed of grid.seed) {
    const diverged = lr === 1 || (lr === 0.3 && wd === 0.001 && seed === 1);
    const acc = 0.5 + lr - 10 * wd + (optimizer === 'adamw' ? 0.05 : 0) + 0.01 * seed;
    trials.push({
      id: `t${trials.length}`, dir: `trials/t${trials.length}`, params: { lr, wd, optimizer, seed, epochs: 5 }, status: diverged ? 'diverged' : 'done',
      finalTrainLoss: diverged ? null : 1 - acc, finalTestLoss: diverged ? null : 1.1 - acc, finalTestAcc: diverged ? null : acc, bestTestAcc: diverged ? null : acc + 0.01,
      epochs: diverged ? 1 : 5, wallSeconds: 10, error: diverged ? 'loss is NaN' : null,
    });
  }
  return { format: 'lwlr-sweep@1', config: { model: 'mlp' }, grid, trials, groups: [] };
}

export function writeSweep(dir: string, results: unknown = fakeSweep()): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'results.json'), JSON.stringify(results, null, 2));
  return dir;
}

/** `runs` runs of `steps` logged steps each, in memory (a long noisy loss curve with a spike per run). */
export function bigRuns(runs: number, steps: number, epochs = 100): RunData[] {
  const out: RunData[] = [];
  for (let r = 0; r < runs; r++) {
    const train = new Array(steps);
    for (let s = 0; s < steps; s++) {
      const noise = Math.sin(s * 12.9898 + r * 78.233) * 43758.5453;
      const loss = 2.3 * Math.exp(-s / (steps / 4)) + 0.05 + 0.1 * (noise - Math.floor(noise)) + (s === (r * 997) % steps ? 5 : 0);
      train[s] = { step: s + 1, epoch: 1 + Math.floor((s * epochs) / steps), loss, lr: 0.1, time: s * 0.01 };
    }
    const evals = Array.from({ length: epochs }, (_, e) => ({
      epoch: e + 1, step: Math.round(((e + 1) * steps) / epochs), trainLoss: 2 * Math.exp(-e / 20), testLoss: 2.1 * Math.exp(-e / 25), testAcc: 0.9 - 0.8 * Math.exp(-e / 10) + r / 1000, time: (e + 1) * steps * 0.01 / epochs,
    }));
    out.push({ kind: 'run', dir: `/gen/run${r}`, name: `run${String(r).padStart(2, '0')}`, config: { lr: 0.1 + r / 100, seed: r }, table: fakeTable(4), train, evals });
  }
  return out;
}
