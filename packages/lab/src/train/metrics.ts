/** Run-directory output: metrics as JSON lines (one object per event), appended and flushed as they come. */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export type MetricRecord =
  | { type: 'train'; epoch: number; step: number; loss: number; lr: number; imagesPerSec: number; time: number }
  | { type: 'eval'; epoch: number; step: number; trainLoss: number; testLoss: number; testAcc: number; testTop5?: number; time: number };

export class RunDir {
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
  log(record: MetricRecord): void {
    appendFileSync(this.file('metrics.jsonl'), `${JSON.stringify(record)}\n`);
  }
}
