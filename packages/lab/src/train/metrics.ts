/**
 * Run-directory output: metrics as JSON lines (one object per event), appended and flushed as they come, and
 * forwarded to any extra {@link MetricSink}s (CSV, TensorBoard) the run adds.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { LRTableJSON } from 'layerwise-lr';

export type MetricRecord =
  | { type: 'train'; epoch: number; step: number; loss: number; lr: number; imagesPerSec: number; time: number }
  | {
    type: 'eval'; epoch: number; step: number; trainLoss: number; testLoss: number; testAcc: number; testTop5?: number;
    /** On the validation hold-out, when the run has one. */
    valLoss?: number; valAcc?: number;
    /** Language models: exp(testLoss), and bits per UTF-8 byte of the test text. */
    testPerplexity?: number; testBitsPerByte?: number;
    time: number;
  };

/** Something that receives a run's metrics as they are logged (a CSV file, TensorBoard event files). */
export interface MetricSink {
  write(record: MetricRecord): void;
  /** The run's learning-rate table, once, before the first step. */
  lrTable?(table: LRTableJSON): void;
  /** Flushes and closes; called once at the end of the run (also when it stops early). */
  close(): void;
}

export class RunDir {
  private readonly sinks: MetricSink[] = [];

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }
  file(name: string): string {
    return path.join(this.dir, name);
  }
  writeJSON(name: string, value: unknown): void {
    writeFileSync(this.file(name), `${JSON.stringify(value, null, 2)}\n`);
  }
  /** Starts a fresh metrics file. */
  resetMetrics(): void {
    writeFileSync(this.file('metrics.jsonl'), '');
  }
  /** The records of the metrics file (a resumed run's history). */
  readMetrics(): MetricRecord[] {
    const f = this.file('metrics.jsonl');
    if (!existsSync(f)) return [];
    return readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as MetricRecord);
  }
  /** Forwards every later record to `sink` as well. */
  addSink(sink: MetricSink): void {
    this.sinks.push(sink);
  }
  log(record: MetricRecord): void {
    appendFileSync(this.file('metrics.jsonl'), `${JSON.stringify(record)}\n`);
    for (const s of this.sinks) s.write(record);
  }
  logLRTable(table: LRTableJSON): void {
    for (const s of this.sinks) s.lrTable?.(table);
  }
  /** Closes the sinks (the JSONL file needs no closing). */
  close(): void {
    for (const s of this.sinks.splice(0)) s.close();
  }
}

/** The columns of `metrics.csv`, in order: train and eval records share one table, absent fields are empty. */
export const CSV_COLUMNS = [
  'type', 'epoch', 'step', 'loss', 'lr', 'imagesPerSec', 'trainLoss', 'testLoss', 'testAcc', 'testTop5', 'valLoss', 'valAcc', 'time',
] as const;

/**
 * A {@link MetricSink} writing `metrics.csv`: a header of {@link CSV_COLUMNS}, then one row per record as it is
 * logged (appended and flushed, as the JSONL). Numbers as JavaScript prints them (shortest round-trip form).
 * Starts the file afresh, writing `history` (records logged before, e.g. by the run being resumed) first.
 *
 * @example
 * ```ts
 * dir.addSink(csvSink(dir.file('metrics.csv'), dir.readMetrics()));
 * ```
 */
export function csvSink(file: string, history: readonly MetricRecord[] = []): MetricSink {
  const row = (r: MetricRecord) => `${CSV_COLUMNS.map((c) => {
    const v = (r as Record<string, unknown>)[c];
    return v === undefined || v === null ? '' : String(v);
  }).join(',')}\n`;
  writeFileSync(file, `${CSV_COLUMNS.join(',')}\n${history.map(row).join('')}`);
  return {
    write: (r) => appendFileSync(file, row(r)),
    close: () => {},
  };
}
