/**
 * What a sweep keeps in a trial's directory (`DIR/trials/<id>/`) besides the run itself: the `result.json`
 * marker, and the trial's row of the results read back from its `metrics.jsonl`. Both executors write
 * trials through here, so a sweep run locally and one drained by workers leave the same files.
 *
 * The marker is written only at the end of a segment: `done`, `diverged` and `stopped` are final (a re-run
 * skips the trial); `paused` is an early-stopping trial waiting at a rung (ASHA), `promoted` once it may go on.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { readRunMetrics, type TrialResult, type TrialStatus } from './results.js';
import type { Trial } from './trials.js';
import { RUN_FILES } from '../train/run-dir.js';

/** A trial's `result.json`. */
export interface Marker {
  status: 'done' | 'diverged' | 'stopped' | 'paused';
  /** Of the trial's finished segments, summed (a resumed segment's time since its resume). */
  wallSeconds: number;
  error: string | null;
  /** The last segment continued from a checkpoint. */
  resumed?: boolean;
  /** `paused`: the rung (epochs completed) it waits at. */
  rung?: number;
  /** `paused`: the early stopping decided that the trial continues past its rung. */
  promoted?: boolean;
}

const MARKER = RUN_FILES.trialResult;

/** The trial's directory relative to the sweep directory (as results.json records it). */
export function trialDir(t: Trial): string {
  return path.join('trials', t.id);
}

/** The marker of a trial directory; null when none (or a torn one: the trial runs again). */
export function readMarker(dir: string): Marker | null {
  const file = path.join(dir, MARKER);
  if (!existsSync(file)) return null;
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as Marker;
    return ['done', 'diverged', 'stopped', 'paused'].includes(m?.status) ? m : null;
  } catch {
    return null;
  }
}

/** Writes the marker atomically (a torn marker would read as none and re-run a finished trial). */
export function writeMarker(dir: string, m: Marker): void {
  const file = path.join(dir, MARKER);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(m)}\n`);
  renameSync(tmp, file);
}

/** A final marker: the trial is skipped on a re-run. */
export function isFinal(m: Marker | null): m is Marker & { status: 'done' | 'diverged' | 'stopped' } {
  return m !== null && m.status !== 'paused';
}

/**
 * The trial's row of the results, its metrics read from `DIR/trials/<id>/metrics.jsonl`: final and best
 * for `done`, the last epoch's for `stopped`, none for the others (a diverged trial's numbers are no result).
 *
 * @example
 * ```ts
 * trialResult('runs/fig7', trial, 'done', 21.7, null).finalTestAcc; // 0.861
 * ```
 */
export function trialResult(out: string, t: Trial, status: TrialStatus, wallSeconds: number | null, error: string | null): TrialResult {
  const dir = trialDir(t);
  const m = readRunMetrics(path.join(out, dir));
  const shown = status === 'done' || status === 'stopped';
  return {
    id: t.id, dir, params: t.params, status,
    finalTrainLoss: shown ? m.finalTrainLoss : null, finalTestLoss: shown ? m.finalTestLoss : null,
    finalTestAcc: shown ? m.finalTestAcc : null, bestTestAcc: shown ? m.bestTestAcc : null,
    epochs: m.epochs, wallSeconds, error,
  };
}
