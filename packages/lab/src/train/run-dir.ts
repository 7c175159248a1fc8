/**
 * The one owner of a run directory's layout: its file names, and writing and reading them. `lwlr train` writes a
 * run through {@link RunDir}; the report, `lwlr compare` and sweeps read runs through {@link readRun},
 * {@link readMetrics} and friends, so a file is named in this module only.
 *
 * ```
 * RUN_DIR/
 *   config.json        the run's config (every resolved value, and what the run found: dataset sizes)
 *   eta-table.json     the eta table the optimizer trains with (0.1 runs: lr-table.json, still read)
 *   metrics.jsonl      one JSON record per event (train every --log-every steps, eval after each epoch)
 *   metrics.csv        the same records as a table
 *   checkpoint/        the last good checkpoint (checkpoint.ts owns what is inside)
 *   tb/                TensorBoard event files (--tensorboard)
 *   result.json, log.txt   a sweep trial's outcome marker and its output (written by the sweep)
 * ```
 *
 * @example
 * ```ts
 * const run = readRun('runs/a');            // { config, table, train, evals }
 * const m = readMetrics('runs/sweep/trials/lr-0.1', { lenient: true });
 * finalMetrics(m.evals).bestTestAcc;        // 0.891
 * ```
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { EtaTable, type EtaTableJSON } from 'layerwise-lr';
import { UsageError } from '../errors.js';
import type { MetricRecord, MetricSink } from './metrics.js';

/** The file and folder names of a run directory. */
export const RUN_FILES = {
  config: 'config.json',
  etaTable: 'eta-table.json',
  /** The eta table's 0.1 name, read when a run has no `etaTable`. */
  legacyEtaTable: 'lr-table.json',
  /** Frozen-adagrad's per-element multipliers (safetensors), beside its eta table (the per-tensor means). */
  elementTable: 'frozen-adagrad.safetensors',
  metrics: 'metrics.jsonl',
  metricsCsv: 'metrics.csv',
  checkpoint: 'checkpoint',
  tensorboard: 'tb',
  /** A sweep trial's outcome marker (done / diverged). */
  trialResult: 'result.json',
  /** A sweep trial's stdout and stderr. */
  trialLog: 'log.txt',
} as const;

/** The path of one of a run's files. */
export function runFile(dir: string, name: keyof typeof RUN_FILES): string {
  return path.join(dir, RUN_FILES[name]);
}

export interface TrainPoint { step: number; epoch: number; loss: number; lr: number; time: number }
export interface EvalPoint {
  epoch: number; step: number; trainLoss: number; testLoss: number; testAcc: number; time: number;
  testTop5?: number; valLoss?: number; valAcc?: number;
}

/** A run's metrics: the train records and the eval records, in file order. */
export interface RunMetricsLog { train: TrainPoint[]; evals: EvalPoint[] }

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * Parses `metrics.jsonl` text. Strict by default: a truncated last line (a run still writing) is skipped, any
 * other bad line is a one-line error naming `file` and the line. `lenient: true` (a sweep reading trials that
 * may have been killed anywhere) skips every line it cannot read.
 *
 * @example
 * ```ts
 * parseMetrics('{"type":"eval","epoch":1,"step":4,"trainLoss":0.5,"testLoss":0.6,"testAcc":0.8,"time":1}\n').evals[0].testAcc; // 0.8
 * ```
 */
export function parseMetrics(text: string, file: string = RUN_FILES.metrics, o: { lenient?: boolean } = {}): RunMetricsLog {
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
      if (o.lenient) continue;
      if (i >= lines.length - 2 && !text.endsWith('\n')) break; // partial last line
      throw new UsageError(`${file}:${i + 1}: not a JSON object`, 1);
    }
    if (!isObj(r) || typeof r.step !== 'number' || typeof r.epoch !== 'number') {
      if (o.lenient) continue;
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

/**
 * Reads a run's `metrics.jsonl` ({@link parseMetrics}); a missing file is no records.
 *
 * @example
 * ```ts
 * readMetrics('runs/a').evals.at(-1)?.testAcc;
 * ```
 */
export function readMetrics(dir: string, o: { lenient?: boolean } = {}): RunMetricsLog {
  const file = runFile(dir, 'metrics');
  if (!existsSync(file)) return { train: [], evals: [] };
  return parseMetrics(readFileSync(file, 'utf8'), file, o);
}

/** The last and best of a run's eval records (nulls where none, or not finite: a diverged run). */
export interface FinalMetrics {
  finalTrainLoss: number | null;
  finalTestLoss: number | null;
  finalTestAcc: number | null;
  bestTestAcc: number | null;
  /** Completed epochs (eval records). */
  epochs: number;
}

/**
 * The final and best numbers of a run's eval records.
 *
 * @example
 * ```ts
 * finalMetrics(readMetrics('runs/a', { lenient: true }).evals); // { finalTestAcc: 0.88, bestTestAcc: 0.89, epochs: 10, ... }
 * ```
 */
export function finalMetrics(evals: readonly EvalPoint[]): FinalMetrics {
  const fin = (v: number | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const last = evals.at(-1);
  let best: number | null = null;
  for (const e of evals) {
    const a = fin(e.testAcc);
    if (a !== null && (best === null || a > best)) best = a;
  }
  return {
    finalTrainLoss: fin(last?.trainLoss), finalTestLoss: fin(last?.testLoss), finalTestAcc: fin(last?.testAcc),
    bestTestAcc: best, epochs: evals.length,
  };
}

function readJSONFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${file}: not valid JSON (${(e as Error).message.split('\n')[0]})`, 1);
  }
}

/** A run's `config.json` as stored (an object), or null when the run has none. */
export function readRunConfigFile(dir: string): Record<string, unknown> | null {
  const file = runFile(dir, 'config');
  if (!existsSync(file)) return null;
  const c = readJSONFile(file);
  if (!isObj(c)) throw new UsageError(`${file}: expected a JSON object`, 1);
  return c;
}

/** A run's eta table, or null when the run has none (errors name the file). */
export function readRunEtaTable(dir: string): EtaTable | null {
  const file = etaTableFile(dir);
  if (!existsSync(file)) return null;
  try {
    return EtaTable.fromJSON(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${file}: ${(e as Error).message.split('\n').join('; ')}`, 1);
  }
}

/** The run's eta table file: `eta-table.json`, or a 0.1 run's `lr-table.json`. */
export function etaTableFile(dir: string): string {
  const file = runFile(dir, 'etaTable');
  const legacy = runFile(dir, 'legacyEtaTable');
  return !existsSync(file) && existsSync(legacy) ? legacy : file;
}

/** Everything a reader of a finished (or running) run needs. */
export interface RunRecord extends RunMetricsLog {
  dir: string;
  config: Record<string, unknown> | null;
  table: EtaTableJSON | null;
}

/**
 * Reads a run directory (or a bare `lwlr lr` measurement: a table and no metrics). A directory with neither
 * metrics nor a table is not a run: a one-line error.
 *
 * @example
 * ```ts
 * const { config, table, train, evals } = readRun('runs/resnet-layerwise');
 * ```
 */
export function readRun(dir: string): RunRecord {
  if (!isRunDir(dir)) throw new UsageError(`${dir}: not a run directory (no ${RUN_FILES.metrics} or ${RUN_FILES.etaTable})`, 1);
  return { dir, config: readRunConfigFile(dir), table: readRunEtaTable(dir)?.toJSON() ?? null, ...readMetrics(dir) };
}

/** True when `dir` holds a run's metrics or eta table. */
export function isRunDir(dir: string): boolean {
  return existsSync(runFile(dir, 'metrics')) || existsSync(etaTableFile(dir));
}

/** True when `dir` has a non-empty metrics file (a run trained there). */
export function hasMetrics(dir: string): boolean {
  const file = runFile(dir, 'metrics');
  return existsSync(file) && statSync(file).size > 0;
}

/**
 * The writer of a run directory: config and eta table as JSON, metrics as JSON lines (appended and flushed as
 * they come) and forwarded to any extra {@link MetricSink}s (CSV, TensorBoard) the run adds. Creates the
 * directory: construct it only once the run's inputs have been read (bad values never leave a folder).
 *
 * @example
 * ```ts
 * const dir = new RunDir('runs/a');
 * dir.writeConfig(config);
 * dir.writeEtaTable(table.toJSON());
 * dir.resetMetrics();
 * dir.log({ type: 'train', epoch: 1, step: 1, loss: 2.3, lr: 0.1, imagesPerSec: 900, time: 0.1 });
 * ```
 */
export class RunDir {
  private readonly sinks: MetricSink[] = [];

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }
  /** The path of a file in the run directory: a {@link RUN_FILES} key, or any other name. */
  file(name: string): string {
    return path.join(this.dir, (RUN_FILES as Record<string, string>)[name] ?? name);
  }
  writeJSON(name: string, value: unknown): void {
    writeFileSync(this.file(name), `${JSON.stringify(value, null, 2)}\n`);
  }
  writeConfig(config: unknown): void {
    this.writeJSON(RUN_FILES.config, config);
  }
  writeEtaTable(table: EtaTableJSON): void {
    this.writeJSON(RUN_FILES.etaTable, table);
  }
  /** Starts a fresh metrics file. */
  resetMetrics(): void {
    writeFileSync(this.file(RUN_FILES.metrics), '');
  }
  /** Replaces the metrics file's content (a resumed run rolled back to its checkpoint). */
  setMetricsText(text: string): void {
    writeFileSync(this.file(RUN_FILES.metrics), text);
  }
  /** The records of the metrics file (a resumed run's history). */
  readMetrics(): MetricRecord[] {
    const f = this.file(RUN_FILES.metrics);
    if (!existsSync(f)) return [];
    return readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as MetricRecord);
  }
  /** Forwards every later record to `sink` as well. */
  addSink(sink: MetricSink): void {
    this.sinks.push(sink);
  }
  log(record: MetricRecord): void {
    appendFileSync(this.file(RUN_FILES.metrics), `${JSON.stringify(record)}\n`);
    for (const s of this.sinks) s.write(record);
  }
  logEtaTable(table: EtaTableJSON): void {
    for (const s of this.sinks) s.etaTable?.(table);
  }
  /** Closes the sinks (the JSONL file needs no closing). */
  close(): void {
    for (const s of this.sinks.splice(0)) s.close();
  }
}
