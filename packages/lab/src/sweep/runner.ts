/**
 * Checks a sweep's flags before anything runs; the executors (`executors/local.ts`, `executors/queue.ts`)
 * run the trials. `SweepRun` (the local executor) is re-exported here for existing imports.
 */
import { UsageError } from '../errors.js';
import type { SweepConfig, SweepValue } from './config.js';
import { resolveRunConfig } from '../train/run-config.js';
import { LWLR_BIN, trialEnv } from './trial-process.js';
import { expandTrials, type Trial } from './trials.js';

export { SweepRun, type SweepOptions } from './executors/local.js';
export { LWLR_BIN };

/** The environment of a trial: one native thread (the workers are the parallelism). */
export const TRIAL_ENV = trialEnv(1);

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
 * combination an optimizer refuses is one error before anything runs, not N failed trials. `checkFiles: false`
 * (a queue's workers read `eta-table` and `init-weights` on their machines) leaves the files' existence to them.
 */
export function checkTrialFlags(config: SweepConfig, o: { checkFiles?: boolean } = {}): void {
  for (const t of expandTrials(config)) {
    try {
      resolveRunConfig(trialValues(config, t), { checkFiles: o.checkFiles });
    } catch (e) {
      const err = e as UsageError;
      throw new UsageError(`sweep flags (${t.argv.join(' ')}): ${err.message}`, err instanceof UsageError ? err.exitCode : 2);
    }
  }
}
