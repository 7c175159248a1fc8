/**
 * The queue executor (`lwlr sweep --queue redis://HOST:PORT[/DB]`): every trial segment is a BullMQ job on
 * Redis, carrying the trial's whole configuration; `lwlr worker` processes on any machines run them. This
 * coordinator waits for each job, writes the files its worker returned under `DIR/trials/<id>/`, and keeps
 * `results.json` / `results.csv` as the local executor does (the same driver writes both).
 *
 * - Job ids are `<sweep key>__<trial>__<segment>`, so a re-run adds nothing already on the queue, and
 *   finished trials (their markers) are not enqueued at all. A re-run retries failed jobs (as the local
 *   executor retries failed trials); `--collect` only gathers.
 * - A job is tried twice (BullMQ `attempts: 2`); a job whose worker died is re-run by another after its
 *   lock expires (BullMQ's stalled-job check).
 * - Collected jobs are removed from Redis; failed ones stay until a re-run retries them.
 * - `--detach` enqueues and returns; `--collect` (or the same command again) waits and gathers. With early
 *   stopping, the promotions past a rung are decided here: they wait for a coordinator to run.
 * - Ctrl-C stops waiting; the queue keeps the work.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Queue, type Job } from 'bullmq';
import { UsageError } from '../../errors.js';
import { rungs } from '../asha.js';
import type { SweepConfig } from '../config.js';
import { SweepDriver, type SegmentRunner } from '../driver.js';
import type { SweepResults } from '../results.js';
import type { SegmentOutcome } from '../trial-process.js';
import type { Trial } from '../trials.js';
import { connectQueue, jobId, JOB_FORMAT, parseTrialResult, QUEUE_NAME, unpackTrialFiles, type TrialJob } from '../queue/protocol.js';

export interface QueueSweepOptions {
  /** The config after `withRepeat` (for `--collect`: {@link readManifest} of the directory). */
  config: SweepConfig;
  out: string;
  /** `redis://HOST:PORT[/DB]`. */
  url: string;
  /** Enqueue and return. */
  detach?: boolean;
  /** Gather only: failed jobs stay failed (a plain run retries them). */
  collect?: boolean;
  /** Progress lines (default: console.log). */
  log?: (line: string) => void;
  /** How often the jobs' states are read (default 500 ms). */
  pollMs?: number;
}

const QUEUE_FILE = 'queue.json';

/** `DIR/queue.json`: the sweep's key on the queue (created on the first enqueue). */
interface QueueFile {
  format: 'lwlr-queue@1';
  key: string;
  url: string;
}

/** The sweep's key and URL from `DIR/queue.json`, or null for a directory never run with `--queue`. */
export function readQueueFile(out: string): QueueFile | null {
  const file = path.join(out, QUEUE_FILE);
  if (!existsSync(file)) return null;
  try {
    const q = JSON.parse(readFileSync(file, 'utf8')) as QueueFile;
    if (q.format !== 'lwlr-queue@1' || typeof q.key !== 'string') throw new Error('expected {format: lwlr-queue@1, key, url}');
    return q;
  } catch (e) {
    throw new UsageError(`${file}: ${(e as Error).message.split('\n')[0]}`, 1);
  }
}

/** A fresh key: the directory's name and 6 random hex digits (`fig7-3fa9c2`), a plain name for job ids and directories. */
function newKey(out: string): string {
  const base = path.basename(path.resolve(out)).replace(/[^A-Za-z0-9.+-]+/g, '-').replace(/^[.-]+/, '').slice(0, 40) || 'sweep';
  return `${base}-${randomBytes(3).toString('hex')}`;
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** A sweep coordinated through the queue; {@link QueueSweep.stop} is the Ctrl-C handler. */
export class QueueSweep {
  private stops = 0;
  /** The sweep is over: the poller ends. */
  private ended = false;
  private key = '';
  private queue: Queue | undefined;
  /** Jobs waited for: id -> the segment and how to settle its outcome. */
  private readonly waiting = new Map<string, { t: Trial; until: number | undefined; settle: (o: SegmentOutcome) => void }>();
  private readonly log: (line: string) => void;

  constructor(private readonly o: QueueSweepOptions) {
    this.log = o.log ?? ((l: string) => console.log(l));
  }

  /** Stops waiting (the jobs stay on the queue; `--collect` gathers them later). */
  stop(): void {
    this.stops++;
    for (const [id, w] of this.waiting) {
      this.waiting.delete(id);
      w.settle(STILL_QUEUED);
    }
  }

  get stopped(): boolean {
    return this.stops > 0;
  }

  /**
   * Enqueues what can run and, unless detached, waits until every trial is finished (or Ctrl-C).
   * Resolves with the results (also written to the directory).
   */
  async run(): Promise<SweepResults> {
    const { out, url } = this.o;
    // Redis first: an unreachable one is one error, with nothing written
    const conn = await connectQueue(url);
    let poller: Promise<void> | undefined;
    try {
      const driver = new SweepDriver({ config: this.o.config, out, log: this.log });
      driver.checkManifest();
      this.key = this.queueFile(out, url).key;
      this.queue = new Queue(QUEUE_NAME, { connection: conn });
      this.queue.on('error', () => {});
      const { finished, todo } = driver.counts();
      this.log(`sweep: ${driver.trials.length} trials, ${finished} already finished, ${todo} to run on the queue ${url} (sweep ${this.key})`);
      if (this.o.detach) {
        driver.decide();
        const next = driver.runnable();
        for (const { trial, until } of next) await this.enqueue(trial, until);
        driver.save();
        this.log(`enqueued ${next.length} trial(s); run workers with: lwlr worker --queue ${url}; gather with: lwlr sweep --collect ${out} --queue ${url}`);
        return driver.results();
      }
      poller = this.poll();
      const runner: SegmentRunner = {
        concurrency: Infinity,
        run: (t, until) => this.runSegment(t, until),
        // a collected job goes once its outcome is recorded in the directory (a crash before leaves it to collect
        // again); a failed one stays failed until a re-run retries it
        settled: async (t, until, o) => {
          if (o.status === 'done' || o.status === 'diverged' || o.status === 'paused') await this.queue!.remove(jobId(this.key, t.id, until ?? null)).catch(() => {});
        },
      };
      return await driver.run(runner, () => this.stopped);
    } finally {
      this.ended = true;
      conn.disconnect(); // (commands waiting for an absent Redis end too)
      await poller;
      await Promise.race([this.queue?.close().catch(() => {}), sleep(2000)]);
    }
  }

  private queueFile(out: string, url: string): QueueFile {
    const q = readQueueFile(out);
    if (q) return q;
    const fresh: QueueFile = { format: 'lwlr-queue@1', key: newKey(out), url };
    mkdirSync(out, { recursive: true });
    const file = path.join(out, QUEUE_FILE);
    writeFileSync(`${file}.tmp`, `${JSON.stringify(fresh, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
    return fresh;
  }

  /** Adds the segment's job unless it is on the queue (a failed one is retried, unless collecting). */
  private async enqueue(t: Trial, until: number | undefined): Promise<string> {
    const q = this.queue!;
    const id = jobId(this.key, t.id, until ?? null);
    const old = await q.getJob(id);
    if (old && !this.o.collect && (await old.getState()) === 'failed') await old.remove();
    else if (old) return id;
    const data: TrialJob = { format: JOB_FORMAT, sweep: this.key, trial: t.id, params: t.params, argv: t.argv, until: until ?? null };
    // with early stopping, a trial past a rung goes before those below it (as ASHA prefers promotions to new trials)
    const es = this.o.config.earlyStop;
    const segments = es ? rungs(es, Number(t.flags.epochs)) : [];
    const priority = es ? Math.max(1, 100 - (until === undefined ? segments.length : segments.indexOf(until))) : undefined;
    await q.add('trial', data, { jobId: id, attempts: 2, removeOnComplete: false, removeOnFail: false, priority });
    return id;
  }

  /** Enqueues a segment; resolves when its job has completed (its files written) or failed. */
  private async runSegment(t: Trial, until: number | undefined): Promise<SegmentOutcome> {
    if (this.stopped) return STILL_QUEUED;
    const id = await this.enqueue(t, until);
    if (this.stopped) return STILL_QUEUED;
    return new Promise((settle) => this.waiting.set(id, { t, until, settle }));
  }

  /** Reads the waited-for jobs' states until stopped; warns once while Redis does not answer. */
  private async poll(): Promise<void> {
    const pollMs = this.o.pollMs ?? 500;
    let silent = false;
    while (!this.stopped && !this.ended) {
      const round = this.pollOnce();
      const answered = await Promise.race([round.then(() => true, () => true), sleep(10_000).then(() => false)]);
      if (!answered && !silent) this.log(`Redis at ${this.o.url} does not answer; waiting for it (the workers and the queue keep the work)`);
      if (!answered) silent = true;
      await round.catch(() => {});
      if (answered && silent && !this.stopped && !this.ended) {
        this.log(`Redis at ${this.o.url} answers again`);
        silent = false;
      }
      await sleep(pollMs);
    }
  }

  private async pollOnce(): Promise<void> {
    const q = this.queue!;
    for (const [id, w] of [...this.waiting]) {
      if (this.stopped || this.ended) return;
      const state = await q.getJobState(id);
      if (!this.waiting.has(id)) continue;
      if (state === 'completed' || state === 'failed') {
        const job = await q.getJob(id);
        this.waiting.delete(id);
        w.settle(state === 'completed' ? this.collect(w.t, job) : { status: 'failed', wallSeconds: 0, error: job?.failedReason || 'failed', resumed: false });
      } else if (state === 'unknown') {
        // gone (Redis restarted without persistence, or removed by hand): the trial is enqueued again
        this.log(`${w.t.id}: its job is gone from the queue; enqueued again`);
        await this.enqueue(w.t, w.until);
      }
    }
  }

  /** Writes the files a completed job returned into `DIR/trials/<id>/`; the segment's outcome. */
  private collect(t: Trial, job: Job | undefined): SegmentOutcome {
    try {
      const r = parseTrialResult(job?.returnvalue);
      const dir = path.join(this.o.out, 'trials', t.id);
      mkdirSync(dir, { recursive: true });
      for (const [name, data] of unpackTrialFiles(r.files)) {
        const file = path.join(dir, name);
        writeFileSync(`${file}.tmp`, data);
        renameSync(`${file}.tmp`, file);
      }
      return { status: r.status, wallSeconds: r.wallSeconds, error: r.error, resumed: r.resumed };
    } catch (e) {
      return { status: 'failed', wallSeconds: 0, error: (e as Error).message, resumed: false };
    }
  }
}

const STILL_QUEUED: SegmentOutcome = { status: 'interrupted', wallSeconds: 0, error: 'still on the queue', resumed: false };
