/**
 * The sweep's bookkeeping, the same for every executor: which trials are finished (their markers), what runs
 * next, the early stopping's decisions (`asha.ts`), each trial's outcome, and `results.json` / `results.csv`
 * rewritten after every change. An executor only supplies a {@link SegmentRunner}: child processes on this
 * machine (`executors/local.ts`) or jobs on a queue (`executors/queue.ts`).
 *
 * A trial runs in segments: without early stopping one, to its last epoch; with it, one per rung
 * (`--stop-after` the rung, then `--resume`, which continues bit for bit). Everything is re-read from the
 * sweep directory on a start, so an interrupted sweep continues where it was.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../errors.js';
import { ashaDecisions, nextStop, rungs, type AshaTrial } from './asha.js';
import type { SweepConfig } from './config.js';
import { readRunMetrics, sweepResults, writeResults, type RunMetrics, type SweepResults, type TrialResult, type TrialStatus } from './results.js';
import { isFinal, readMarker, trialResult, writeMarker } from './trial-dir.js';
import type { SegmentOutcome } from './trial-process.js';
import { expandTrials, type Trial } from './trials.js';

/** How an executor trains one segment of a trial. */
export interface SegmentRunner {
  /** Segments at once (the local workers; Infinity for a queue, whose workers set the pace). */
  readonly concurrency: number;
  /**
   * Trains `t` until epoch `until` (undefined: to its last epoch); when it resolves, the trial's files
   * (config.json, metrics.jsonl, ...) are in `DIR/trials/<id>/`.
   */
  run(t: Trial, until: number | undefined): Promise<SegmentOutcome>;
  /** Called once a segment's outcome is recorded (marker and results written). */
  settled?(t: Trial, until: number | undefined, o: SegmentOutcome): Promise<void>;
}

/** A trial's place in the sweep. */
interface TrialState {
  t: Trial;
  /** The trial's last epoch (known with early stopping, which requires `epochs` in the file). */
  epochs: number;
  phase: AshaTrial['phase'];
  /** What the results show. */
  status: TrialStatus;
  /** Paused: allowed past its rung. */
  promoted: boolean;
  /** Of the segments before the current one. */
  priorWall: number;
  wallSeconds: number | null;
  error: string | null;
  metrics: RunMetrics;
}

const MANIFEST = 'sweep.json';

/** What `DIR/sweep.json` holds: the sweep (after `--repeat`), to refuse another one in the directory and to `--collect`. */
function manifestOf(config: SweepConfig): Record<string, unknown> {
  return { fixed: config.fixed, grid: config.grid, variants: config.variants, earlyStop: config.earlyStop };
}

/**
 * The sweep recorded in `DIR/sweep.json` (what `lwlr sweep --collect DIR` continues).
 *
 * @example
 * ```ts
 * readManifest('runs/fig7').grid; // { scheme: [...], width: [...], lr: [...] }
 * ```
 */
export function readManifest(out: string): SweepConfig {
  const file = path.join(out, MANIFEST);
  if (!existsSync(file)) throw new UsageError(`${out}: no ${MANIFEST} (not a sweep directory)`, 1);
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as SweepConfig;
    if (typeof m.fixed !== 'object' || typeof m.grid !== 'object') throw new Error('expected {fixed, grid}');
    return m;
  } catch (e) {
    throw new UsageError(`${file}: not a sweep manifest (${(e as Error).message.split('\n')[0]})`, 1);
  }
}

export interface DriverOptions {
  /** The config after `withRepeat`. */
  config: SweepConfig;
  /** The sweep directory (`results.json`, `results.csv`, `sweep.json`, `trials/<id>/`). */
  out: string;
  /** Progress lines (default: console.log). */
  log?: (line: string) => void;
}

/** One sweep directory's trials, their states and results; see the module doc. */
export class SweepDriver {
  readonly trials: Trial[];
  private readonly states = new Map<string, TrialState>();
  private readonly log: (line: string) => void;
  private finished = 0;

  constructor(private readonly o: DriverOptions) {
    this.trials = expandTrials(o.config);
    this.log = o.log ?? ((l: string) => console.log(l));
    this.load();
  }

  private dir(t: Trial): string {
    return path.join(this.o.out, 'trials', t.id);
  }

  /** The trials' states from their directories. */
  private load(): void {
    const es = this.o.config.earlyStop;
    for (const t of this.trials) {
      const m = readMarker(this.dir(t));
      const metrics = readRunMetrics(this.dir(t));
      const s: TrialState = {
        t, epochs: Number(t.flags.epochs), phase: 'waiting', status: 'pending', promoted: false,
        priorWall: 0, wallSeconds: null, error: null, metrics,
      };
      if (isFinal(m)) Object.assign(s, { phase: 'finished', status: m.status, wallSeconds: m.wallSeconds, error: m.error });
      else if (es && rungs(es, s.epochs).includes(metrics.epochs)) {
        // at a rung: waits for the early stopping's decision (made already when its marker says promoted)
        const here = m?.status === 'paused' && m.rung === metrics.epochs;
        Object.assign(s, { phase: 'paused', promoted: here && m.promoted === true, priorWall: here ? m.wallSeconds : 0 });
        s.wallSeconds = s.priorWall || null;
      } else if (m?.status === 'paused') s.priorWall = m.wallSeconds;
      this.states.set(t.id, s);
    }
    this.finished = [...this.states.values()].filter((s) => s.phase === 'finished').length;
  }

  /** Trials finished for good (done, diverged, stopped), and those still to train. */
  counts(): { finished: number; todo: number } {
    return { finished: this.finished, todo: this.trials.length - this.finished };
  }

  /** The results as they stand (unfinished trials are `pending`). */
  results(): SweepResults {
    const rows: TrialResult[] = this.trials.map((t) => {
      const s = this.states.get(t.id)!;
      return trialResult(this.o.out, t, s.status, s.wallSeconds, s.error);
    });
    return sweepResults(this.o.config, rows);
  }

  /** Writes `results.json` and `results.csv`. */
  save(): void {
    writeResults(this.o.out, this.results());
  }

  /**
   * Creates the sweep directory with its `sweep.json`, or checks that the one there records this sweep
   * (a directory holding another sweep is refused).
   */
  checkManifest(): void {
    const { config, out } = this.o;
    mkdirSync(out, { recursive: true });
    const file = path.join(out, MANIFEST);
    const text = `${JSON.stringify(manifestOf(config), null, 2)}\n`;
    if (existsSync(file)) {
      const old = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (JSON.stringify(old) !== JSON.stringify(JSON.parse(text))) {
        throw new UsageError(`--out ${out} holds another sweep (its ${MANIFEST} differs): use another --out or remove it`);
      }
      return;
    }
    writeFileSync(file, text);
  }

  /** One line per trial (state and its command) for `--dry-run`. */
  describe(): string[] {
    const es = this.o.config.earlyStop;
    const lines = this.trials.map((t) => `${this.states.get(t.id)!.status.padEnd(8)} ${t.id}: lwlr train ${t.argv.join(' ')} --out ${this.dir(t)} --quiet`);
    if (es) lines.push(`early stopping (ASHA) on ${es.metric}: rungs at epochs ${[...new Set(this.trials.flatMap((t) => rungs(es, Number(t.flags.epochs))))].sort((a, b) => a - b).join(', ') || '(none: every trial is shorter than grace-epochs)'}; the top 1/${es.reductionFactor} of each rung continue`);
    return lines;
  }

  /** The early stopping's decisions: paused trials continue (marked promoted) or stop (marked stopped). */
  decide(): void {
    const es = this.o.config.earlyStop;
    if (!es) return;
    const views: AshaTrial[] = this.trials.map((t) => {
      const s = this.states.get(t.id)!;
      return {
        id: t.id, epochs: s.epochs, completed: s.metrics.epochs, phase: s.phase, promoted: s.promoted,
        valueAt: (epoch) => s.metrics.evals.find((e) => e.epoch === epoch)?.[es.metric] ?? null,
      };
    });
    const { promote, stop } = ashaDecisions(es, views);
    for (const id of promote) {
      const s = this.states.get(id)!;
      s.promoted = true;
      writeMarker(this.dir(s.t), { status: 'paused', wallSeconds: s.priorWall, error: null, rung: s.metrics.epochs, promoted: true });
      this.log(`${id}: continues past epoch ${s.metrics.epochs} (${es.metric} ${this.rungValue(s)})`);
    }
    for (const id of stop) {
      const s = this.states.get(id)!;
      Object.assign(s, { phase: 'finished', status: 'stopped', wallSeconds: s.priorWall });
      writeMarker(this.dir(s.t), { status: 'stopped', wallSeconds: s.priorWall, error: null });
      this.finished++;
      this.log(`[${this.finished}/${this.trials.length}] ${id}: stopped at epoch ${s.metrics.epochs} (${es.metric} ${this.rungValue(s)}: not in the top 1/${es.reductionFactor} of its rung)`);
    }
    if (promote.length || stop.length) this.save();
  }

  private rungValue(s: TrialState): string {
    const v = s.metrics.evals.at(-1)?.[this.o.config.earlyStop!.metric];
    return v === null || v === undefined ? '-' : v.toFixed(4);
  }

  /**
   * What can train now, in order: paused trials allowed past their rung (the highest rung first), then the
   * waiting ones in grid order; each with the epoch its segment stops at (undefined: its last).
   */
  runnable(): Array<{ trial: Trial; until: number | undefined }> {
    const es = this.o.config.earlyStop;
    const all = [...this.states.values()];
    const promoted = all.filter((s) => s.phase === 'paused' && s.promoted).sort((a, b) => b.metrics.epochs - a.metrics.epochs);
    return [...promoted, ...all.filter((s) => s.phase === 'waiting')].map((s) => {
      const until = es ? nextStop(es, s.epochs, s.metrics.epochs) : undefined;
      return { trial: s.t, until: until === s.epochs ? undefined : until };
    });
  }

  /** Records a segment's outcome (marker, state, results) and logs it. */
  private finish(s: TrialState, o: SegmentOutcome): void {
    const wall = s.priorWall + o.wallSeconds;
    s.metrics = readRunMetrics(this.dir(s.t));
    s.error = o.error;
    s.wallSeconds = wall;
    switch (o.status) {
      case 'done':
      case 'diverged':
        Object.assign(s, { phase: 'finished', status: o.status });
        writeMarker(this.dir(s.t), { status: o.status, wallSeconds: wall, error: o.error, resumed: o.resumed });
        this.finished++;
        break;
      case 'paused':
        Object.assign(s, { phase: 'paused', status: 'pending', promoted: false, priorWall: wall });
        writeMarker(this.dir(s.t), { status: 'paused', wallSeconds: wall, error: null, rung: s.metrics.epochs, resumed: o.resumed });
        break;
      case 'failed':
        // finished for this run of the sweep (no marker: a re-run tries again)
        Object.assign(s, { phase: 'finished', status: 'failed' });
        this.finished++;
        break;
      case 'interrupted':
        Object.assign(s, { phase: 'waiting', status: 'pending', wallSeconds: o.wallSeconds });
        break;
    }
    const r = trialResult(this.o.out, s.t, s.status, s.wallSeconds, s.error);
    const acc = r.finalTestAcc !== null ? `  test acc ${(100 * r.finalTestAcc).toFixed(2)}%` : '';
    const loss = r.finalTrainLoss !== null ? `  train loss ${r.finalTrainLoss.toFixed(4)}` : '';
    const resumed = o.resumed ? ' (resumed)' : '';
    const what = o.status === 'paused' ? `paused at epoch ${s.metrics.epochs}` : o.status === 'interrupted' ? 'pending' : o.status;
    this.log(`[${this.finished}/${this.trials.length}] ${s.t.id}: ${what}${resumed}${loss}${acc}${o.error && o.status !== 'interrupted' ? `  (${o.error})` : ''}  ${o.wallSeconds.toFixed(1)} s`);
    this.save();
  }

  /**
   * Trains what is left with `runner` until every trial is finished, or `stopped()` turns true (then the
   * running segments end, nothing new starts). Resolves with the results (also written to the directory).
   */
  async run(runner: SegmentRunner, stopped: () => boolean = () => false): Promise<SweepResults> {
    this.save();
    const active = new Map<string, Promise<void>>();
    for (;;) {
      this.decide();
      if (!stopped()) {
        for (const { trial, until } of this.runnable()) {
          if (active.size >= runner.concurrency) break;
          const s = this.states.get(trial.id)!;
          s.phase = 'running';
          const segment = runner.run(trial, until)
            .catch((e: unknown): SegmentOutcome => ({ status: 'failed', wallSeconds: 0, error: String((e as Error)?.message ?? e).split('\n')[0]!, resumed: false }))
            .then(async (o) => {
              this.finish(s, o);
              await runner.settled?.(trial, until, o);
            })
            .finally(() => active.delete(trial.id));
          active.set(trial.id, segment);
        }
      }
      if (active.size === 0) break;
      await Promise.race(active.values());
    }
    this.save();
    return this.results();
  }
}
