/**
 * `lwlr worker`: takes trial jobs from the queue and runs each as an `lwlr train` child process, the same way
 * the local executor does (`trial-process.ts`), in `<trials-dir>/<sweep>/<trial>/`; returns the outcome and
 * the trial's small files to the coordinator. Checkpoints stay in the trials dir: on storage the workers
 * share, a job another worker left (killed, or handed back) resumes from its checkpoint; elsewhere it
 * starts over (seeded: the same numbers either way).
 *
 * BullMQ keeps the job's lock alive while the trial runs (the child process leaves this event loop free);
 * a worker that dies stops renewing it, and after `lockSeconds` another worker's stalled-job check puts the
 * job back on the queue.
 *
 * {@link TrialWorker.stop}, in steps (Ctrl-C): 1. take no new jobs, let the running trials finish;
 * 2. hand them back (SIGINT: they checkpoint at the end of their step; the jobs return to the queue);
 * 3. kill them.
 */
import { hostname } from 'node:os';
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { runSegment, signalTrial } from '../trial-process.js';
import { connectQueue, packTrialFiles, parseTrialJob, QUEUE_NAME, RESULT_FORMAT, type TrialJobResult } from './protocol.js';

export interface TrialWorkerOptions {
  /** `redis://HOST:PORT[/DB]`. */
  url: string;
  /** Jobs at once. */
  concurrency: number;
  /** Native threads per trial (1 gives the local executor's numbers bit for bit). */
  threads: number;
  /** Where trials train: `<trialsDir>/<sweep>/<trial>/`. */
  trialsDir: string;
  /** The job lock's duration: how long a dead worker's job waits before another worker takes it (default 30). */
  lockSeconds?: number;
  /** Progress lines (default: console.log). */
  log?: (line: string) => void;
}

/** A worker on the queue; see the module doc. */
export class TrialWorker {
  private worker: Worker | undefined;
  private readonly children = new Set<ChildProcess>();
  private stops = 0;
  private closed: Promise<void> | undefined;
  private readonly log: (line: string) => void;
  private readonly name = `${hostname()}:${process.pid}`;

  constructor(private readonly o: TrialWorkerOptions) {
    this.log = o.log ?? ((l: string) => console.log(l));
  }

  /** Connects (an unreachable Redis is one error) and starts taking jobs; resolves once closed by {@link stop}. */
  async run(): Promise<void> {
    const connection = await connectQueue(this.o.url);
    const lockMs = (this.o.lockSeconds ?? 30) * 1000;
    this.worker = new Worker(QUEUE_NAME, (job, token) => this.process(job, token), {
      connection, concurrency: this.o.concurrency, autorun: false,
      lockDuration: lockMs, stalledInterval: lockMs,
      // a job is given back after a worker died twice with it; a failing trial is tried twice (the job's attempts)
      maxStalledCount: 2,
    });
    let redisDown = false;
    this.worker.on('error', (e) => {
      if (!redisDown) this.log(`worker: ${String(e.message).split('\n')[0]} (retrying)`);
      redisDown = true;
    });
    this.worker.on('active', () => { redisDown = false; });
    this.log(`worker ${this.name}: ${this.o.concurrency} trial(s) at once, ${this.o.threads} thread(s) each, trials in ${path.resolve(this.o.trialsDir)}, queue ${this.o.url}`);
    const running = this.worker.run();
    await running;
    await this.closed;
    connection.disconnect();
  }

  /** Ctrl-C: 1. no new jobs, finish the running trials; 2. hand them back; 3. kill them. */
  stop(): void {
    this.stops++;
    if (this.stops === 1) {
      this.log(`finishing ${this.children.size} running trial(s), taking no new ones (Ctrl-C again hands them back to the queue)`);
      this.closed = this.worker?.close();
      return;
    }
    if (this.stops === 2) this.log(`handing ${this.children.size} trial(s) back to the queue (they checkpoint first)`);
    for (const c of this.children) signalTrial(c, this.stops === 2 ? 'SIGINT' : 'SIGKILL');
  }

  /** Hands the running trials back and closes at once (SIGTERM). */
  handBack(): void {
    if (this.stops >= 2) return;
    this.log(`handing ${this.children.size} running trial(s) back to the queue and closing`);
    this.stops = 2;
    this.closed ??= this.worker?.close();
    for (const c of this.children) signalTrial(c, 'SIGINT');
  }

  private async process(job: Job, token: string | undefined): Promise<TrialJobResult> {
    let p;
    try {
      p = parseTrialJob(job.data);
    } catch (e) {
      this.log(`job ${job.id}: ${(e as Error).message}`);
      throw new UnrecoverableError((e as Error).message);
    }
    const dir = path.join(this.o.trialsDir, p.sweep, p.trial);
    const segment = p.until === null ? 'to the end' : `to epoch ${p.until}`;
    this.log(`start ${p.sweep}/${p.trial} ${segment} (attempt ${job.attemptsMade + 1})`);
    const o = await runSegment(dir, {
      argv: p.argv, until: p.until ?? undefined, threads: this.o.threads,
      onChild: (c, running) => (running ? this.children.add(c) : this.children.delete(c)),
      stopping: () => this.stops >= 2,
    });
    if (o.status === 'interrupted') {
      await job.moveToWait(token);
      this.log(`handed back ${p.sweep}/${p.trial}`);
      throw new WaitingError();
    }
    if (o.status === 'failed') {
      this.log(`failed ${p.sweep}/${p.trial}: ${o.error}`);
      throw new Error(o.error ?? 'failed');
    }
    this.log(`${o.status} ${p.sweep}/${p.trial}${o.resumed ? ' (resumed)' : ''} ${o.wallSeconds.toFixed(1)} s`);
    return {
      format: RESULT_FORMAT, status: o.status, wallSeconds: o.wallSeconds, error: o.error, resumed: o.resumed,
      worker: this.name, files: packTrialFiles(dir),
    };
  }
}
