/**
 * A run's metric records (what `metrics.jsonl` holds, one per event) and the sinks they are forwarded to (CSV,
 * TensorBoard). The run directory itself is `run-dir.ts`'s.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import type { EtaTableJSON } from 'layerwise-lr';

export { RunDir } from './run-dir.js';

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
  etaTable?(table: EtaTableJSON): void;
  /** Flushes and closes; called once at the end of the run (also when it stops early). */
  close(): void;
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
