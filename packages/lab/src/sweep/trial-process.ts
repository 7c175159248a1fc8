/**
 * One segment of a trial as a child process: `lwlr train <argv> --out DIR --quiet [--stop-after E]`, resumed
 * from DIR's checkpoint when it has one (a fresh run if the resume is refused). The local executor and
 * `lwlr worker` both run trials through here.
 *
 * A trial's outcome is its exit: 0 = done (or paused at E with `--stop-after`), 1 with "training diverged" =
 * diverged, 130 / SIGINT = interrupted (checkpointed; it runs again), anything else = failed.
 *
 * The child runs in its own process group (a terminal's Ctrl-C reaches the parent only, which forwards one
 * SIGINT) and dies with its parent ({@link exitWithParent}): a killed sweep or worker leaves no orphan that
 * would go on writing into a trial directory another worker resumes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkpointDir } from '../train/checkpoint.js';
import { runFile } from '../train/run-dir.js';
import { readRunMetrics } from './results.js';

/** `packages/lab/bin/lwlr.js` (from `dist/src/sweep/`). */
export const LWLR_BIN = fileURLToPath(new URL('../../../bin/lwlr.js', import.meta.url));

/** The environment of a trial with `threads` native threads (default 1: the parallelism is in the trials). */
export function trialEnv(threads = 1): Record<string, string> {
  return { LWLR_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
}

/** The environment variable that makes a trial exit when its parent (this pid) is gone. */
export const PARENT_ENV = 'LWLR_PARENT_PID';

export interface SegmentOutcome {
  /**
   * `done`: trained to its last epoch; `paused`: stopped at the segment's end (`until`);
   * `interrupted`: stopped early by a Ctrl-C, checkpointed, to run again.
   */
  status: 'done' | 'diverged' | 'failed' | 'paused' | 'interrupted';
  /** Of this segment (a resumed one's time since its resume). */
  wallSeconds: number;
  error: string | null;
  /** The segment continued from a checkpoint. */
  resumed: boolean;
}

export interface SegmentOptions {
  /** The trial's `lwlr train` arguments (without `--out`, `--quiet`, `--resume`, `--stop-after`). */
  argv: string[];
  /** Stop (checkpointed) after this epoch, a rung of the early stopping; undefined: train to the end. */
  until?: number;
  /** Native threads of the trial (default 1). */
  threads?: number;
  /** Called with each child process as it starts, and when it is gone (for Ctrl-C forwarding). */
  onChild?(child: ChildProcess, running: boolean): void;
  /** True while the parent is stopping: a child killed then is interrupted, not failed. */
  stopping?(): boolean;
}

/**
 * Runs one segment of the trial in `dir`: resumed from its checkpoint when it has one, a fresh run
 * (replacing what an unfinished attempt left) otherwise; the output is appended to `dir/log.txt`.
 * A segment already trained (its `until` reached, e.g. by a worker that died before it could report) is
 * not trained again.
 *
 * @example
 * ```ts
 * const o = await runSegment('runs/sweep/trials/lr-0.1', { argv: ['--model', 'mlp', '--epochs', '9'], until: 3 });
 * // { status: 'paused', wallSeconds: 4.2, error: null, resumed: false }
 * ```
 */
export async function runSegment(dir: string, o: SegmentOptions): Promise<SegmentOutcome> {
  const stopArgs = o.until === undefined ? [] : ['--stop-after', String(o.until)];
  const hasCheckpoint = checkpointDir(dir) !== undefined && existsSync(runFile(dir, 'config'));
  const completed = hasCheckpoint ? readRunMetrics(dir).epochs : 0;
  if (o.until !== undefined && hasCheckpoint && completed === o.until) {
    return { status: 'paused', wallSeconds: 0, error: null, resumed: true };
  }
  // (a checkpoint past `until` cannot stop there: the segment starts over)
  if (hasCheckpoint && (o.until === undefined || completed < o.until)) {
    const r = await spawnTrain(dir, ['--resume', dir, '--out', dir, '--quiet', ...stopArgs], true, o);
    // a refused resume (exit 2: a torn or foreign checkpoint) falls back to a fresh run
    if (!(r.status === 'failed' && r.error !== null && /--resume/.test(r.error))) return r;
  }
  return spawnTrain(dir, [...o.argv, '--out', dir, '--overwrite', '--quiet', ...stopArgs], false, o);
}

function spawnTrain(dir: string, args: string[], resumed: boolean, o: SegmentOptions): Promise<SegmentOutcome> {
  mkdirSync(dir, { recursive: true });
  const logFile = createWriteStream(runFile(dir, 'trialLog'), { flags: resumed ? 'a' : 'w' });
  const started = performance.now();
  const child = spawn(process.execPath, [LWLR_BIN, 'train', ...args], {
    env: { ...process.env, ...trialEnv(o.threads), [PARENT_ENV]: String(process.pid) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  o.onChild?.(child, true);
  let errTail = '';
  child.stdout!.pipe(logFile, { end: false });
  child.stderr!.on('data', (d: Buffer) => {
    logFile.write(d);
    errTail = (errTail + d.toString()).slice(-4000);
  });
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      o.onChild?.(child, false);
      logFile.end();
      const wallSeconds = (performance.now() - started) / 1000;
      const errLine = errTail.split('\n').reverse().find((l) => l.startsWith('lwlr: error: '))?.replace('lwlr: error: ', '') ?? null;
      let status: SegmentOutcome['status'];
      let error: string | null = errLine;
      if (code === 0) status = o.until === undefined ? 'done' : 'paused';
      else if (code === 1 && errLine !== null && /training diverged/.test(errLine)) status = 'diverged';
      else if (code === 130 || signal === 'SIGINT' || ((o.stopping?.() ?? false) && signal === 'SIGKILL')) {
        status = 'interrupted';
        error = 'interrupted';
      } else {
        status = 'failed';
        error ??= signal ? `killed by ${signal}` : `exit ${code}`;
      }
      resolve({ status, wallSeconds, error, resumed });
    });
  });
}

/**
 * Sends `signal` to a trial's process group (SIGINT: finish the step, checkpoint, exit 130).
 */
export function signalTrial(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch { /* already gone */ }
}

/**
 * In a trial started by {@link runSegment} (`LWLR_PARENT_PID` set): exits at once (SIGKILL, as if killed
 * with its parent) when the parent is gone, checked twice a second. Its last checkpoint stays.
 */
export function exitWithParent(): void {
  const parent = Number(process.env[PARENT_ENV]);
  delete process.env[PARENT_ENV]; // (not inherited by processes this one starts: their parent is this one)
  if (!Number.isInteger(parent) || parent <= 0) return;
  const check = () => {
    if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL');
  };
  check();
  setInterval(check, 500).unref();
}
