/**
 * The local executor (`lwlr sweep` without `--queue`): each trial a child process `lwlr train ... --out
 * DIR/trials/<id> --quiet` with one native thread, `workers` at a time, on this machine. Nothing here needs
 * Redis. Done, diverged and stopped trials get a `result.json` marker, and a re-run skips them; failed and
 * interrupted ones run again, from their last checkpoint when they have one (see `driver.ts`).
 * `stop()` (Ctrl-C) sends SIGINT to the running trials, which finish their step, checkpoint and exit; a
 * second `stop()` kills them.
 */
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { SweepConfig } from '../config.js';
import { SweepDriver, type SegmentRunner } from '../driver.js';
import type { SweepResults } from '../results.js';
import { runSegment, signalTrial, type SegmentOutcome } from '../trial-process.js';
import type { Trial } from '../trials.js';

export interface SweepOptions {
  /** The config after `withRepeat`. */
  config: SweepConfig;
  /** The sweep directory (`results.json`, `results.csv`, `sweep.json`, `trials/<id>/`). */
  out: string;
  workers: number;
  /** Print the trials and their state; run nothing, write nothing. */
  dryRun?: boolean;
  /** Progress lines (default: console.log). */
  log?: (line: string) => void;
}

/** A running local sweep; {@link SweepRun.stop} is the Ctrl-C handler. */
export class SweepRun {
  private readonly children = new Set<ChildProcess>();
  private stops = 0;
  /** Child processes in `DIR/trials/<id>`, `workers` at a time. */
  private readonly runner: SegmentRunner;

  constructor(private readonly o: SweepOptions) {
    this.runner = {
      concurrency: Math.max(1, o.workers),
      run: (t: Trial, until: number | undefined): Promise<SegmentOutcome> => runSegment(path.join(o.out, 'trials', t.id), {
        argv: t.argv, until,
        onChild: (c, running) => (running ? this.children.add(c) : this.children.delete(c)),
        stopping: () => this.stopped,
      }),
    };
  }

  /** First call: SIGINT to the trials (they finish the step), no new trials. Second: SIGKILL. */
  stop(): void {
    this.stops++;
    for (const c of this.children) signalTrial(c, this.stops === 1 ? 'SIGINT' : 'SIGKILL');
  }

  get stopped(): boolean {
    return this.stops > 0;
  }

  /** Runs the pending trials; resolves with the results (also written to `out`). */
  async run(): Promise<SweepResults> {
    const log = this.o.log ?? ((l: string) => console.log(l));
    const driver = new SweepDriver({ config: this.o.config, out: this.o.out, log });
    const { finished, todo } = driver.counts();
    if (this.o.dryRun) {
      for (const line of driver.describe()) log(line);
      log(`${driver.trials.length} trials, ${finished} finished, ${todo} to run (dry run: nothing run)`);
      return driver.results();
    }
    driver.checkManifest();
    log(`sweep: ${driver.trials.length} trials, ${finished} already finished, ${todo} to run on ${this.runner.concurrency} worker(s)`);
    return driver.run(this.runner, () => this.stopped);
  }
}
