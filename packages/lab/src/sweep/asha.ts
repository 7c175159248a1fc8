/**
 * ASHA, asynchronous successive halving (Li et al., "A System for Massively Parallel Hyperparameter Tuning",
 * 2020), as early stopping for a sweep's grid: rungs at r, r*eta, r*eta^2, ... epochs (below the trial's
 * last epoch). A trial pauses at each rung and continues only while it is in the top 1/eta of the trials
 * that reached that rung; a paused trial that cannot get there any more is stopped.
 *
 * As in the paper, promotion is asynchronous: a rung with n arrivals promotes its best floor(n / eta) at
 * once, without waiting for the others, and an early promotion stands when later arrivals rank higher.
 * One deliberate addition: once a rung is complete (no trial can still arrive at it), it promotes at
 * least its best trial, so that a grid smaller than eta still trains one trial to the end.
 *
 * The functions here are pure: the sweep driver (`driver.ts`) asks them which paused trials continue or
 * stop, from what the trials' metrics say, so a sweep restarted from its files decides the same way.
 */
import type { EarlyStopConfig } from './config.js';

/** What the scheduler needs to know of a trial. */
export interface AshaTrial {
  id: string;
  /** The trial's last epoch. */
  epochs: number;
  /** Epochs completed (for a running trial: when its current segment started). */
  completed: number;
  /** The metric after each completed epoch (null: missing or not finite, ranked last). */
  valueAt(epoch: number): number | null;
  /** `waiting` (to start or resume), `running`, `paused` at a rung, or `finished` (for good). */
  phase: 'waiting' | 'running' | 'paused' | 'finished';
  /** A paused trial already allowed past its rung. */
  promoted: boolean;
}

export interface AshaDecision {
  /** Paused trials that continue to their next rung (or their end). */
  promote: string[];
  /** Paused trials stopped for good. */
  stop: string[];
}

/**
 * The rungs of a trial with `epochs` epochs: r, r*eta, ... below `epochs`.
 *
 * @example
 * ```ts
 * rungs({ metric: 'testAcc', graceEpochs: 1, reductionFactor: 3 }, 20); // [1, 3, 9]
 * ```
 */
export function rungs(e: EarlyStopConfig, epochs: number): number[] {
  const out: number[] = [];
  for (let r = e.graceEpochs; r < epochs; r *= e.reductionFactor) out.push(r);
  return out;
}

/** Where a trial that completed `completed` epochs stops next: its next rung, or its last epoch. */
export function nextStop(e: EarlyStopConfig, epochs: number, completed: number): number {
  return rungs(e, epochs).find((r) => r > completed) ?? epochs;
}

/** Better first: higher accuracy, lower loss; null last. */
function compare(metric: EarlyStopConfig['metric'], a: number | null, b: number | null): number {
  if (a === null || b === null) return (a === null ? 1 : 0) - (b === null ? 1 : 0);
  return metric === 'trainLoss' ? a - b : b - a;
}

/**
 * Which paused trials continue and which stop, rung by rung from the lowest. `trials` in grid order
 * (ties in the metric go to the earlier trial).
 *
 * @example
 * ```ts
 * // four trials paused at rung 1 (of 2 epochs), eta 2: the two best continue, the others stop
 * ashaDecisions({ metric: 'trainLoss', graceEpochs: 1, reductionFactor: 2 }, trials); // { promote: [a, b], stop: [c, d] }
 * ```
 */
export function ashaDecisions(e: EarlyStopConfig, trials: readonly AshaTrial[]): AshaDecision {
  const promoted = new Set(trials.filter((t) => t.phase === 'paused' && t.promoted).map((t) => t.id));
  const stopped = new Set<string>();
  const decision: AshaDecision = { promote: [], stop: [] };
  const all = [...new Set(trials.flatMap((t) => rungs(e, t.epochs)))].sort((a, b) => a - b);
  for (const rung of all) {
    const at = trials.filter((t) => rungs(e, t.epochs).includes(rung));
    const reached = at.filter((t) => t.completed >= rung);
    // complete: no trial can still arrive (one paused below, not yet stopped, may still be promoted)
    const complete = at.every((t) => t.completed >= rung || t.phase === 'finished' || stopped.has(t.id));
    let k = Math.floor(reached.length / e.reductionFactor);
    if (complete && reached.length > 0) k = Math.max(k, 1);
    const order = reached.map((t, i) => ({ t, i, v: t.valueAt(rung) }));
    order.sort((a, b) => compare(e.metric, a.v, b.v) || a.i - b.i);
    const top = new Set(order.slice(0, k).map((o) => o.t.id));
    for (const t of reached) {
      if (t.phase !== 'paused' || t.completed !== rung || promoted.has(t.id)) continue;
      if (top.has(t.id)) {
        promoted.add(t.id);
        decision.promote.push(t.id);
      } else if (complete) {
        stopped.add(t.id);
        decision.stop.push(t.id);
      }
    }
  }
  return decision;
}
