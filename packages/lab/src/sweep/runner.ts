/**
 * Runs a sweep: each trial a child process `lwlr train ... --out DIR/trials/<id> --quiet` with one native
 * thread (`LWLR_NUM_THREADS=1 OMP_NUM_THREADS=1`), `workers` at a time. A trial's outcome is its exit:
 * 0 = done, 1 with "training diverged" = diverged, anything else = failed; none stops the others. Done and
 * diverged trials get a `result.json` marker (written only then), and a re-run skips marked trials; failed
 * and interrupted ones run again, from their last checkpoint (`lwlr train --resume`) when they have one.
 * `stop()` (Ctrl-C) sends SIGINT to the running trials, which finish their step, checkpoint and exit; a
 * second `stop()` kills them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import { checkpointDir } from '../train/checkpoint.js';
import { runFile } from '../train/run-dir.js';
import type { SweepConfig, SweepValue } from './config.js';
import { resolveRunConfig } from '../train/run-config.js';
import { readRunMetrics, sweepResults, writeResults, type SweepResults, type TrialResult, type TrialStatus } from './results.js';
import { expandTrials, type Trial } from './trials.js';

/** `packages/lab/bin/lwlr.js` (from `dist/src/sweep/`). */
export const LWLR_BIN = fileURLToPath(new URL('../../../bin/lwlr.js', import.meta.url));

/** The environment of a trial: one native thread (the workers are the parallelism). */
export const TRIAL_ENV = { LWLR_NUM_THREADS: '1', OMP_NUM_THREADS: '1' };

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

/** What a trial's `result.json` holds. */
interface Marker {
  status: 'done' | 'diverged';
  /** Of the last run (a resumed trial's time since its resume). */
  wallSeconds: number;
  error: string | null;
  /** The last run continued from a checkpoint. */
  resumed?: boolean;
}

const MANIFEST = 'sweep.json';

function readMarker(dir: string): Marker | null {
  const file = runFile(dir, 'trialResult');
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Marker;
  } catch {
    return null; // a torn marker: run the trial again
  }
}

function trialResult(out: string, t: Trial, status: TrialStatus, wallSeconds: number | null, error: string | null): TrialResult {
  const dir = path.join('trials', t.id);
  const m = readRunMetrics(path.join(out, dir));
  const done = status === 'done';
  return {
    id: t.id, dir, params: t.params, status,
    finalTrainLoss: done ? m.finalTrainLoss : null, finalTestLoss: done ? m.finalTestLoss : null,
    finalTestAcc: done ? m.finalTestAcc : null, bestTestAcc: done ? m.bestTestAcc : null,
    epochs: m.epochs, wallSeconds, error,
  };
}

/**
 * The run values of a trial (the file's fixed flags, then its grid values or variants' flags), dashed keys as in
 * the sweep file: what `resolveRunConfig` takes.
 */
export function trialValues(config: SweepConfig, t: Trial): Record<string, SweepValue> {
  const values: Record<string, SweepValue> = { ...config.fixed };
  for (const [k, v] of Object.entries(t.params)) Object.assign(values, config.variants?.[k]?.[String(v)] ?? { [k]: v });
  return values;
}

/**
 * Checks every trial's run config in process (`resolveRunConfig`: every value and combination), so a typo or a
 * combination an optimizer refuses is one error before anything runs, not N failed trials.
 */
export function checkTrialFlags(config: SweepConfig): void {
  for (const t of expandTrials(config)) {
    try {
      resolveRunConfig(trialValues(config, t));
    } catch (e) {
      const err = e as UsageError;
      throw new UsageError(`sweep flags (${t.argv.join(' ')}): ${err.message}`, err instanceof UsageError ? err.exitCode : 2);
    }
  }
}

/** A running sweep; {@link SweepRun.stop} is the Ctrl-C handler. */
export class SweepRun {
  private readonly children = new Set<ChildProcess>();
  private stops = 0;

  constructor(private readonly o: SweepOptions) {}

  /** First call: SIGINT to the trials (they finish the step), no new trials. Second: SIGKILL. */
  stop(): void {
    this.stops++;
    for (const c of this.children) {
      try {
        process.kill(-c.pid!, this.stops === 1 ? 'SIGINT' : 'SIGKILL');
      } catch { /* already gone */ }
    }
  }

  get stopped(): boolean {
    return this.stops > 0;
  }

  /** Runs the pending trials; resolves with the results (also written to `out`). */
  async run(): Promise<SweepResults> {
    const { config, out } = this.o;
    const log = this.o.log ?? ((l: string) => console.log(l));
    const trials = expandTrials(config);
    const results = new Map<string, TrialResult>();
    for (const t of trials) {
      const m = readMarker(path.join(out, 'trials', t.id));
      results.set(t.id, m ? trialResult(out, t, m.status, m.wallSeconds, m.error) : trialResult(out, t, 'pending', null, null));
    }
    const todo = trials.filter((t) => results.get(t.id)!.status === 'pending');
    const finished = trials.length - todo.length;
    if (this.o.dryRun) {
      for (const t of trials) log(`${results.get(t.id)!.status.padEnd(8)} ${t.id}: lwlr train ${t.argv.join(' ')} --out ${path.join(out, 'trials', t.id)} --quiet`);
      log(`${trials.length} trials, ${finished} finished, ${todo.length} to run (dry run: nothing run)`);
      return sweepResults(config, trials.map((t) => results.get(t.id)!));
    }
    this.checkManifest();
    const save = () => writeResults(out, sweepResults(config, trials.map((t) => results.get(t.id)!)));
    save();
    log(`sweep: ${trials.length} trials, ${finished} already finished, ${todo.length} to run on ${this.o.workers} worker(s)`);
    let next = 0;
    let count = finished;
    const worker = async () => {
      while (!this.stopped && next < todo.length) {
        const t = todo[next++]!;
        const r = await this.runTrial(t);
        results.set(t.id, r);
        save();
        count++;
        const acc = r.finalTestAcc !== null ? `  test acc ${(100 * r.finalTestAcc).toFixed(2)}%` : '';
        const loss = r.finalTrainLoss !== null ? `  train loss ${r.finalTrainLoss.toFixed(4)}` : '';
        const resumed = readMarker(path.join(out, 'trials', t.id))?.resumed ? ' (resumed)' : '';
        log(`[${count}/${trials.length}] ${t.id}: ${r.status}${resumed}${loss}${acc}${r.error ? `  (${r.error})` : ''}  ${r.wallSeconds?.toFixed(1)} s`);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.o.workers, todo.length)) }, worker));
    save();
    return sweepResults(config, trials.map((t) => results.get(t.id)!));
  }

  /** `DIR/sweep.json` records the config; a directory holding another sweep is refused. */
  private checkManifest(): void {
    const { config, out } = this.o;
    mkdirSync(out, { recursive: true });
    const file = path.join(out, MANIFEST);
    const manifest = { fixed: config.fixed, grid: config.grid, variants: config.variants };
    const text = `${JSON.stringify(manifest, null, 2)}\n`;
    if (existsSync(file)) {
      const old = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (JSON.stringify(old) !== JSON.stringify(JSON.parse(text))) {
        throw new UsageError(`--out ${out} holds another sweep (its ${MANIFEST} differs): use another --out or remove it`);
      }
      return;
    }
    writeFileSync(file, text);
  }

  /** Runs a trial: resumed from its checkpoint when it has one (a fresh run if the resume is refused). */
  private async runTrial(t: Trial): Promise<TrialResult> {
    const dir = path.join(this.o.out, 'trials', t.id);
    if (checkpointDir(dir) !== undefined && existsSync(runFile(dir, 'config'))) {
      const r = await this.spawnTrial(t, ['--resume', dir, '--out', dir, '--quiet'], true);
      // a refused resume (exit 2: a torn or foreign checkpoint) falls back to a fresh run
      if (!(r.status === 'failed' && r.error !== null && /--resume/.test(r.error))) return r;
    }
    // a fresh run replaces what an earlier, unfinished attempt left in the trial directory
    return this.spawnTrial(t, [...t.argv, '--out', dir, '--overwrite', '--quiet'], false);
  }

  private spawnTrial(t: Trial, args: string[], resumed: boolean): Promise<TrialResult> {
    const { out } = this.o;
    const dir = path.join(out, 'trials', t.id);
    mkdirSync(dir, { recursive: true });
    const logFile = createWriteStream(runFile(dir, 'trialLog'), { flags: resumed ? 'a' : 'w' });
    const started = performance.now();
    // detached: its own process group, so a terminal's Ctrl-C reaches the sweep only, which forwards one SIGINT
    const child = spawn(process.execPath, [LWLR_BIN, 'train', ...args], {
      env: { ...process.env, ...TRIAL_ENV }, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    });
    this.children.add(child);
    let errTail = '';
    child.stdout!.pipe(logFile, { end: false });
    child.stderr!.on('data', (d: Buffer) => {
      logFile.write(d);
      errTail = (errTail + d.toString()).slice(-4000);
    });
    return new Promise((resolve) => {
      child.on('close', (code, signal) => {
        this.children.delete(child);
        logFile.end();
        const wall = (performance.now() - started) / 1000;
        const errLine = errTail.split('\n').reverse().find((l) => l.startsWith('lwlr: error: '))?.replace('lwlr: error: ', '') ?? null;
        let status: TrialStatus;
        let error: string | null = errLine;
        if (code === 0) status = 'done';
        else if (code === 1 && errLine !== null && /training diverged/.test(errLine)) status = 'diverged';
        else if (code === 130 || signal === 'SIGINT' || (this.stopped && signal === 'SIGKILL')) {
          status = 'pending';
          error = 'interrupted';
        } else {
          status = 'failed';
          error ??= signal ? `killed by ${signal}` : `exit ${code}`;
        }
        if (status === 'done' || status === 'diverged') {
          const marker: Marker = { status, wallSeconds: wall, error, resumed };
          writeFileSync(runFile(dir, 'trialResult'), `${JSON.stringify(marker)}\n`);
        }
        resolve(trialResult(out, t, status, wall, error));
      });
    });
  }
}
