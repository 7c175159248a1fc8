/**
 * Checks a sweep's flags before anything runs; the executors (`executors/local.ts`, `executors/queue.ts`)
 * run the trials. `SweepRun` (the local executor) is re-exported here for existing imports.
 */
import { spawnSync } from 'node:child_process';
import { UsageError } from '../cli/args.js';
import type { SweepConfig } from './config.js';
import { LWLR_BIN, trialEnv } from './trial-process.js';
import { axisArgs, flagArgs } from './trials.js';

export { SweepRun, type SweepOptions } from './executors/local.js';
export { LWLR_BIN };

/** The environment of a trial: one native thread (the workers are the parallelism). */
export const TRIAL_ENV = trialEnv(1);

/**
 * Checks every grid value's flags with `lwlr train <flags> --help` (which parses, then prints help), so a
 * typo in the file is one error before anything runs, not N failed trials.
 */
export function checkTrialFlags(config: SweepConfig): void {
  const fixed = Object.entries(config.fixed).flatMap(([k, v]) => flagArgs(k, v));
  const n = Math.max(...Object.values(config.grid).map((l) => l.length));
  for (let i = 0; i < n; i++) {
    const args = Object.entries(config.grid).flatMap(([k, l]) => axisArgs(config, k, l[i % l.length]!));
    const r = spawnSync(process.execPath, [LWLR_BIN, 'train', ...fixed, ...args, '--help'], { encoding: 'utf8', env: { ...process.env, ...TRIAL_ENV } });
    if (r.status !== 0) {
      const line = (r.stderr ?? '').split('\n').find((l) => l.startsWith('lwlr: error: ')) ?? `exit ${r.status}`;
      throw new UsageError(`sweep flags (${[...fixed, ...args].join(' ')}): ${line.replace('lwlr: error: ', '')}`);
    }
  }
}
