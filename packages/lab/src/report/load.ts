/**
 * Reads what `lwlr train` / `lwlr lr` / a sweep leave on disk for the report: a run directory (`config.json`,
 * `lr-table.json`, `metrics.jsonl`) or a sweep directory (`results.json`, format `lwlr-sweep@1`).
 * Every problem is a one-line {@link UsageError} naming the file.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { LRTable, type LRTableJSON } from 'layerwise-lr';
import { UsageError } from '../errors.js';

export interface TrainPoint { step: number; epoch: number; loss: number; lr: number; time: number }
export interface EvalPoint {
  epoch: number; step: number; trainLoss: number; testLoss: number; testAcc: number; time: number;
  testTop5?: number; valLoss?: number; valAcc?: number;
}

/** One training run (or a bare LR measurement: no metrics). */
export interface RunData {
  kind: 'run';
  dir: string;
  /** Display name: the directory's base name, made unique among the report's inputs. */
  name: string;
  config: Record<string, unknown> | null;
  table: LRTableJSON | null;
  train: TrainPoint[];
  evals: EvalPoint[];
}

export type TrialStatus = 'done' | 'diverged' | 'failed' | 'pending';
export interface SweepTrial {
  id: string; dir?: string; params: Record<string, unknown>; status: TrialStatus;
  finalTrainLoss?: number | null; finalTestLoss?: number | null; finalTestAcc?: number | null; bestTestAcc?: number | null;
  epochs?: number | null; wallSeconds?: number | null; error?: string | null;
}
export interface MeanStd { mean: number | null; std: number | null }
export interface SweepGroup {
  params: Record<string, unknown>; n: number; diverged: number;
  finalTrainLoss?: MeanStd; finalTestAcc?: MeanStd; bestTestAcc?: MeanStd;
}
export interface SweepResults {
  format: 'lwlr-sweep@1';
  config: Record<string, unknown>;
  grid: Record<string, unknown[]>;
  trials: SweepTrial[];
  groups?: SweepGroup[];
}
export interface SweepData { kind: 'sweep'; dir: string; name: string; results: SweepResults }

export type ReportInput = RunData | SweepData;

function readJSON(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${file}: not valid JSON (${(e as Error).message.split('\n')[0]})`, 1);
  }
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Parses `metrics.jsonl`; a truncated last line (a run still writing) is skipped, any other bad line is an error. */
export function parseMetrics(text: string, file = 'metrics.jsonl'): { train: TrainPoint[]; evals: EvalPoint[] } {
  const train: TrainPoint[] = [];
  const evals: EvalPoint[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line.trim()) continue;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch {
      if (i >= lines.length - 2 && !text.endsWith('\n')) break; // partial last line
      throw new UsageError(`${file}:${i + 1}: not a JSON object`, 1);
    }
    if (!isObj(r) || typeof r.step !== 'number' || typeof r.epoch !== 'number') {
      throw new UsageError(`${file}:${i + 1}: expected a record with numeric epoch and step`, 1);
    }
    // JSON has no NaN/Infinity: a diverged loss is logged as null
    const num = (x: unknown) => (typeof x === 'number' ? x : NaN);
    if (r.type === 'train') {
      train.push({ step: r.step, epoch: r.epoch, loss: num(r.loss), lr: num(r.lr), time: num(r.time) });
    } else if (r.type === 'eval') {
      const e: EvalPoint = {
        epoch: r.epoch, step: r.step, trainLoss: num(r.trainLoss), testLoss: num(r.testLoss), testAcc: num(r.testAcc), time: num(r.time),
      };
      if (typeof r.testTop5 === 'number') e.testTop5 = r.testTop5;
      if (typeof r.valLoss === 'number') e.valLoss = r.valLoss;
      if (typeof r.valAcc === 'number') e.valAcc = r.valAcc;
      evals.push(e);
    } // other record types (added later by others) are ignored
  }
  return { train, evals };
}

function validateSweep(x: unknown, file: string): SweepResults {
  if (!isObj(x) || x.format !== 'lwlr-sweep@1') throw new UsageError(`${file}: expected "format": "lwlr-sweep@1"`, 1);
  if (!isObj(x.grid) || !Object.values(x.grid).every(Array.isArray)) throw new UsageError(`${file}: "grid" must map flags to arrays of values`, 1);
  if (!Array.isArray(x.trials) || !x.trials.every((t) => isObj(t) && isObj(t.params) && typeof t.status === 'string')) {
    throw new UsageError(`${file}: "trials" must be an array of {id, params, status, ...}`, 1);
  }
  if (x.groups !== undefined && !(Array.isArray(x.groups) && x.groups.every((g) => isObj(g) && isObj(g.params)))) {
    throw new UsageError(`${file}: "groups" must be an array of {params, n, ...}`, 1);
  }
  return x as unknown as SweepResults;
}

/**
 * Loads a run or sweep directory.
 * @example const input = loadInput('runs/resnet-layerwise'); // { kind: 'run', train: [...], evals: [...], table }
 */
export function loadInput(dir: string): ReportInput {
  if (!existsSync(dir)) throw new UsageError(`${dir}: no such directory`, 1);
  if (!statSync(dir).isDirectory()) throw new UsageError(`${dir}: not a directory (expected a run or sweep directory)`, 1);
  const name = path.basename(path.resolve(dir));
  const results = path.join(dir, 'results.json');
  if (existsSync(results)) return { kind: 'sweep', dir, name, results: validateSweep(readJSON(results), results) };
  const metricsFile = path.join(dir, 'metrics.jsonl');
  const tableFile = path.join(dir, 'lr-table.json');
  if (!existsSync(metricsFile) && !existsSync(tableFile)) {
    throw new UsageError(`${dir}: not a run directory (no metrics.jsonl or lr-table.json) nor a sweep directory (no results.json)`, 1);
  }
  let table: LRTableJSON | null = null;
  if (existsSync(tableFile)) {
    try {
      table = LRTable.fromJSON(readFileSync(tableFile, 'utf8')).toJSON();
    } catch (e) {
      throw new UsageError(`${tableFile}: ${(e as Error).message.split('\n')[0]}`, 1);
    }
  }
  const configFile = path.join(dir, 'config.json');
  const config = existsSync(configFile) ? readJSON(configFile) : null;
  if (config !== null && !isObj(config)) throw new UsageError(`${configFile}: expected a JSON object`, 1);
  const m = existsSync(metricsFile) ? parseMetrics(readFileSync(metricsFile, 'utf8'), metricsFile) : { train: [], evals: [] };
  return { kind: 'run', dir, name, config, table, ...m };
}

/** Loads all inputs and makes their display names unique (`a`, `a (2)`, ...). */
export function loadInputs(dirs: readonly string[]): ReportInput[] {
  const seen = new Map<string, number>();
  return dirs.map((d) => {
    const x = loadInput(d);
    const n = (seen.get(x.name) ?? 0) + 1;
    seen.set(x.name, n);
    if (n > 1) x.name = `${x.name} (${n})`;
    return x;
  });
}
