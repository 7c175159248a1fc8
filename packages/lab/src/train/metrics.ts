/**
 * Run-directory output: metrics as JSON lines (one object per event), appended and flushed as they come, and
 * forwarded to any extra {@link MetricSink}s (CSV, TensorBoard) the run adds.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { LRTableJSON } from 'layerwise-lr';

export type MetricRecord =
  | { type: 'train'; epoch: number; step: number; loss: number; lr: number; imagesPerSec: number; time: number }
  | { type: 'eval'; epoch: number; step: number; trainLoss: number; testLoss: number; testAcc: number; testTop5?: number; time: number };

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
