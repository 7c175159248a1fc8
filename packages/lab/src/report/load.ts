/**
 * Reads what `lwlr train` / `lwlr lr` / a sweep leave on disk for the report: a run directory (`config.json`,
 * `lr-table.json`, `metrics.jsonl`) or a sweep directory (`results.json`, format `lwlr-sweep@1`).
 * Every problem is a one-line {@link UsageError} naming the file.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { EtaTableJSON } from 'layerwise-lr';
import { UsageError } from '../errors.js';
import { isRunDir, readRun, RUN_FILES, type EvalPoint, type TrainPoint } from '../train/run-dir.js';

export { parseMetrics, type EvalPoint, type TrainPoint } from '../train/run-dir.js';

/** One training run (or a bare LR measurement: no metrics). */
export interface RunData {
  kind: 'run';
  dir: string;
  /** Display name: the directory's base name, made unique among the report's inputs. */
  name: string;
  config: Record<string, unknown> | null;
  table: EtaTableJSON | null;
  train: TrainPoint[];
  evals: EvalPoint[];
}

export type TrialStatus = 'done' | 'diverged' | 'stopped' | 'failed' | 'pending';
export interface SweepTrial {
  id: string; dir?: string; params: Record<string, unknown>; status: TrialStatus;
  finalTrainLoss?: number | null; finalTestLoss?: number | null; finalTestAcc?: number | null; bestTestAcc?: number | null;
  epochs?: number | null; wallSeconds?: number | null; error?: string | null;
}
export interface MeanStd { mean: number | null; std: number | null }
export interface SweepGroup {
  params: Record<string, unknown>; n: number; diverged: number; stopped?: number;
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
  if (!isRunDir(dir)) {
    throw new UsageError(`${dir}: not a run directory (no ${RUN_FILES.metrics} or ${RUN_FILES.etaTable}) nor a sweep directory (no results.json)`, 1);
  }
  const { config, table, train, evals } = readRun(dir);
  return { kind: 'run', dir, name, config, table, train, evals };
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
