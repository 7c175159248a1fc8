/**
 * What `lwlr sweep --queue` and `lwlr worker` say to each other through Redis (BullMQ): the queue's name,
 * a job per trial segment (its payload and id), what a worker returns (the outcome and the trial's small
 * files), and the Redis connection. Both sides check what they read: a malformed payload or result is one
 * clear error, never a crash or a silently wrong trial.
 */
import { readFileSync, existsSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Redis } from 'ioredis';
import { UsageError } from '../../errors.js';
import { RUN_FILES } from '../../train/run-dir.js';
import type { SweepValue } from '../config.js';

/** The BullMQ queue every sweep's trials go through; a job id names its sweep, trial and segment. */
export const QUEUE_NAME = 'lwlr-trials';

export const JOB_FORMAT = 'lwlr-trial-job@1';
export const RESULT_FORMAT = 'lwlr-trial-result@1';

/** A segment of a trial, as a job's data. */
export interface TrialJob {
  format: typeof JOB_FORMAT;
  /** The sweep's key (`DIR/queue.json`); a worker trains in `<trials-dir>/<sweep>/<trial>/`. */
  sweep: string;
  /** The trial's id (its directory name). */
  trial: string;
  /** The trial's grid values (for the workers' log lines). */
  params: Record<string, SweepValue>;
  /** The trial's whole configuration: its `lwlr train` arguments, without `--out`. */
  argv: string[];
  /** Stop after this epoch (a rung of the early stopping); null: train to the end. */
  until: number | null;
}

/** The small files of a trial a worker returns (checkpoints stay with the worker). */
export const RETURNED_FILES = (['config', 'etaTable', 'metrics', 'metricsCsv', 'trialLog'] as const).map((k) => RUN_FILES[k]);
/** Of `log.txt`, the end. */
const LOG_TAIL_BYTES = 256 * 1024;

/** What a worker returns for a segment that ran (a failed one is a failed job, with its error). */
export interface TrialJobResult {
  format: typeof RESULT_FORMAT;
  status: 'done' | 'diverged' | 'paused';
  wallSeconds: number;
  error: string | null;
  resumed: boolean;
  /** `host:pid` of the worker. */
  worker: string;
  /** File name -> gzip, base64. */
  files: Record<string, string>;
}

/** A name safe as one directory level: no separators, not `.` or `..`. */
const SAFE_NAME = /^(?!\.\.?$)[A-Za-z0-9._+-]{1,200}$/;
/** Flags the worker sets itself: a payload carrying one is refused. */
const WORKER_FLAGS = new Set(['--out', '--resume', '--overwrite', '--stop-after', '--quiet', '--help']);

/**
 * The job id of a trial's segment: one job per (sweep, trial, segment), so adding it again is a no-op
 * while it is on the queue. BullMQ ids may not contain ':' nor be all digits.
 *
 * @example
 * ```ts
 * jobId('fig7-3fa9c2', 'lr-0.1_width-256', null); // 'fig7-3fa9c2__lr-0.1_width-256__end'
 * ```
 */
export function jobId(sweep: string, trial: string, until: number | null): string {
  return `${sweep}__${trial}__${until === null ? 'end' : `e${until}`}`;
}

/** Checks a job's data; throws `malformed job payload: ...` naming what is wrong. */
export function parseTrialJob(data: unknown): TrialJob {
  const bad = (what: string): never => {
    throw new Error(`malformed job payload: ${what}`);
  };
  if (data === null || typeof data !== 'object' || Array.isArray(data)) bad(`expected an object, got ${JSON.stringify(data)?.slice(0, 80)}`);
  const d = data as Record<string, unknown>;
  if (d.format !== JOB_FORMAT) bad(`format ${JSON.stringify(d.format)}, expected '${JOB_FORMAT}' (a worker of another lwlr version?)`);
  for (const k of ['sweep', 'trial'] as const) if (typeof d[k] !== 'string' || !SAFE_NAME.test(d[k] as string)) bad(`'${k}' must be a plain name ([A-Za-z0-9._+-]), got ${JSON.stringify(d[k])}`);
  if (!Array.isArray(d.argv) || !d.argv.every((a) => typeof a === 'string')) bad("'argv' must be a list of strings");
  const flag = (d.argv as string[]).find((a) => WORKER_FLAGS.has(a.split('=')[0]!));
  if (flag !== undefined) bad(`'argv' sets ${flag.split('=')[0]}, which the worker sets itself`);
  if (d.params === null || typeof d.params !== 'object' || Array.isArray(d.params)) bad("'params' must be an object");
  if (d.until !== null && !(Number.isInteger(d.until) && (d.until as number) >= 1)) bad(`'until' must be null or an epoch >= 1, got ${JSON.stringify(d.until)}`);
  return d as unknown as TrialJob;
}

/** Checks what a worker returned; throws `malformed result: ...`. */
export function parseTrialResult(data: unknown): TrialJobResult {
  const bad = (what: string): never => {
    throw new Error(`malformed result from the worker: ${what}`);
  };
  if (data === null || typeof data !== 'object' || Array.isArray(data)) bad('expected an object');
  const d = data as Record<string, unknown>;
  if (d.format !== RESULT_FORMAT) bad(`format ${JSON.stringify(d.format)}, expected '${RESULT_FORMAT}' (a worker of another lwlr version?)`);
  if (!['done', 'diverged', 'paused'].includes(d.status as string)) bad(`status ${JSON.stringify(d.status)}`);
  if (typeof d.wallSeconds !== 'number' || typeof d.resumed !== 'boolean' || !(d.error === null || typeof d.error === 'string')) bad('wallSeconds, resumed or error missing');
  if (d.files === null || typeof d.files !== 'object' || Array.isArray(d.files)) bad("'files' must be an object");
  for (const [name, v] of Object.entries(d.files as object)) {
    if (!(RETURNED_FILES as readonly string[]).includes(name) || typeof v !== 'string') bad(`unexpected file '${name}'`);
  }
  return d as unknown as TrialJobResult;
}

function tail(file: string, bytes: number): Buffer {
  const size = statSync(file).size;
  if (size <= bytes) return readFileSync(file);
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    readSync(fd, buf, 0, bytes, size - bytes);
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** The returned files of a trial directory (those that exist), each gzipped and base64-encoded. */
export function packTrialFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of RETURNED_FILES) {
    const file = path.join(dir, name);
    if (!existsSync(file)) continue;
    const data = name === RUN_FILES.trialLog ? tail(file, LOG_TAIL_BYTES) : readFileSync(file);
    out[name] = gzipSync(data).toString('base64');
  }
  return out;
}

/** The files of {@link packTrialFiles}, decoded: name -> content. */
export function unpackTrialFiles(files: Record<string, string>): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [name, b64] of Object.entries(files)) {
    try {
      out.set(name, gunzipSync(Buffer.from(b64, 'base64')));
    } catch (e) {
      throw new Error(`malformed result from the worker: ${name} does not decode (${(e as Error).message})`);
    }
  }
  return out;
}

/**
 * Checks a `--queue` URL: `redis://[:PASSWORD@]HOST:PORT[/DB]` (or `rediss://` for TLS).
 *
 * @example
 * ```ts
 * checkQueueUrl('redis://10.0.0.5:6379/2'); // ok
 * ```
 */
export function checkQueueUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`--queue must be a URL redis://HOST:PORT[/DB] (got '${url}')`);
  }
  if (!['redis:', 'rediss:'].includes(u.protocol) || u.hostname === '' || !/^(\/\d*)?$/.test(u.pathname)) {
    throw new UsageError(`--queue must be a URL redis://HOST:PORT[/DB] (got '${url}')`);
  }
}

/**
 * A connection for BullMQ (commands wait while Redis is away and reconnects), after checking within
 * `timeoutMs` that Redis answers: an unreachable URL is one clear error (exit 1), before anything is written.
 */
export async function connectQueue(url: string, timeoutMs = 5000): Promise<Redis> {
  checkQueueUrl(url);
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs, enableOfflineQueue: false });
  let cause: Error | undefined;
  probe.on('error', (e: Error) => { cause ??= e; }); // reported below, once
  try {
    await probe.connect();
    await probe.ping();
  } catch (e) {
    throw new UsageError(`--queue ${url}: cannot reach Redis (${(cause ?? (e as Error)).message.split('\n')[0]})`, 1);
  } finally {
    probe.disconnect();
  }
  const conn = new Redis(url, { maxRetriesPerRequest: null });
  conn.on('error', () => {}); // ioredis retries by itself; the callers report a Redis that stays away
  return conn;
}
