/** `lwlr sweep`: runs the cross product of a sweep file's grid as `lwlr train` trials; writes results.csv/json. */
import { availableParallelism } from 'node:os';
import { helpText, parseFlags, UsageError, type FlagSpecs } from './args.js';
import { loadSweepConfig } from '../sweep/config.js';
import { withRepeat } from '../sweep/trials.js';
import { SweepRun, checkTrialFlags } from '../sweep/runner.js';

const FLAGS: FlagSpecs = {
  config: { type: 'string', help: 'sweep file (YAML or JSON): lwlr train flags, and grid: {flag: [values]}' },
  out: { type: 'string', help: 'sweep directory: results.csv, results.json, trials/<id>/' },
  workers: { type: 'int', help: 'trials at once, each with one native thread (default: the number of cores)' },
  repeat: { type: 'int', help: 'seeds 0..N-1 (or the file\'s seed + 0..N-1) per grid point; groups report mean and std' },
  'dry-run': { type: 'boolean', default: false, help: 'list the trials and their state; run nothing' },
  help: { type: 'boolean', help: 'show this help' },
};

export async function sweepCommand(argv: string[]): Promise<number> {
  const { flags: f, positional } = parseFlags(argv, FLAGS);
  if (f.help) {
    console.log(helpText('sweep', 'Run a grid of lwlr train trials in parallel worker processes (finished trials are skipped on a re-run).', FLAGS));
    return 0;
  }
  if (positional.length > 0) throw new UsageError(`unexpected argument '${positional[0]}' (the sweep file goes after --config)`);
  if (!f.config) throw new UsageError('--config SWEEP_FILE is required');
  if (!f.out) throw new UsageError('--out DIR is required');
  const workers = (f.workers as number | undefined) ?? availableParallelism();
  if (workers < 1) throw new UsageError(`--workers must be >= 1 (got ${workers})`);
  const config = withRepeat(loadSweepConfig(f.config as string), f.repeat as number | undefined);
  if (!f.dryRun) checkTrialFlags(config);
  const run = new SweepRun({ config, out: f.out as string, workers, dryRun: f.dryRun as boolean });
  const onSigint = () => {
    console.log(run.stopped ? 'killing the running trials' : 'interrupted: the running trials finish their step and stop (Ctrl-C again to kill them)');
    run.stop();
  };
  process.on('SIGINT', onSigint);
  try {
    const results = await run.run();
    if (f.dryRun) return 0;
    const by = (s: string) => results.trials.filter((t) => t.status === s).length;
    console.log(`${by('done')} done, ${by('diverged')} diverged, ${by('failed')} failed, ${by('pending')} pending; ${f.out}/results.csv, ${f.out}/results.json`);
    if (run.stopped) return 130;
    return by('failed') > 0 ? 1 : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
