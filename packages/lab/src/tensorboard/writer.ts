/** An event file `DIR/events.out.tfevents.<seconds>.<host>` that TensorBoard reads, written record by record. */
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { encodeEvent, FILE_VERSION, type EventInput } from './events.js';
import { frameRecord } from './records.js';

/**
 * Opens a new event file (the `brain.Event:2` version record first). Appends are synchronous, so a run that
 * dies leaves a readable file.
 * @example
 * const w = new EventFileWriter('runs/a/tb');
 * w.write({ wallTime: Date.now() / 1000, step: 1, values: [{ tag: 'train/loss', scalar: 2.3 }] });
 * w.close();
 */
export class EventFileWriter {
  readonly file: string;
  private fd: number | null;

  constructor(dir: string, now: () => number = () => Date.now() / 1000) {
    mkdirSync(dir, { recursive: true });
    this.now = now;
    const t = now();
    this.file = path.join(dir, `events.out.tfevents.${Math.floor(t)}.${hostname()}`);
    this.fd = openSync(this.file, 'a');
    this.write({ wallTime: t, step: 0, fileVersion: FILE_VERSION });
  }
  private readonly now: () => number;

  /** The current wall time (seconds) of this writer's clock. */
  wallTime(): number {
    return this.now();
  }

  write(e: EventInput): void {
    if (this.fd === null) throw new Error(`${this.file}: event file already closed`);
    writeSync(this.fd, frameRecord(encodeEvent(e)));
  }

  close(): void {
    if (this.fd === null) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = null;
  }
}
