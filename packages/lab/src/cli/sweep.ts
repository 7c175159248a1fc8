/** `lwlr sweep`: runs the cross product of a sweep file's grid as `lwlr train` trials; writes results.csv/json. */
import { availableParallelism } from 'node:os';
import { helpText, parseFlags, UsageError, type FlagSpecs, type ParsedFlags } from './args.js';
import { loadSweepConfig } from '../sweep/config.js';
import { withRepeat } from '../sweep/trials.js';
import { SweepRun, checkTrialFlags } from '../sweep/runner.js';
import { TUNE_METRICS, parseSeeds, runTunedSweep, stopTunedSweep, type TuneMetric } from '../sweep/tune.js';


const FLAGS: FlagSpecs = {
  config: { type: 'string', help: 'sweep file (YAML or JSON): lwlr train flags, and grid: {flag: [values]}' },
  out: { type: 'string', help: 'sweep directory: results.csv, results.json, trials/<id>/' },
  workers: { type: 'int', help: 'trials at once, each with one native thread (default: the number of cores)' },
  repeat: { type: 'int', help: 'seeds 0..N-1 (or the file\'s seed + 0..N-1) per grid point; groups report mean and std' },
  'dry-run': { type: 'boolean', default: false, help: 'list the trials and their state; run nothing' },
  tune: { type: 'string', help: 'tune this grid axis (lr) per combination of the other axes on the file\'s seed (DIR/tune), then run each best again on --confirm-seeds (DIR/confirm); DIR/results.json combines them' },
  'tune-metric': { type: 'string', default: 'final-test-acc', choices: TUNE_METRICS, help: 'what --tune ranks by (final-val-acc needs val-split in the sweep file)' },
  'confirm-seeds': { type: 'string', default: '1,2', help: 'with --tune: the seeds each best combination runs again on' },
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
  if (f.tune !== undefined) return tunedSweep(f.config as string, f.out as string, workers, f);
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

/** `--tune AXIS`: the two-phase sweep of `sweep/tune.ts`, then a table of the tuned combinations. */
async function tunedSweep(file: string, out: string, workers: number, f: ParsedFlags): Promise<number> {
  if (f.repeat !== undefined) throw new UsageError('--repeat cannot be used with --tune (the tuning runs on one seed, --confirm-seeds adds the others)');
  const config = loadSweepConfig(file);
  const axis = f.tune as string;
  const onSigint = () => {
    console.log('interrupted: the running trials finish their step and stop (Ctrl-C again to kill them)');
    stopTunedSweep();
  };
  process.on('SIGINT', onSigint);
  try {
    const r = await runTunedSweep({
      config, out, workers, axis, metric: f.tuneMetric as TuneMetric, confirmSeeds: parseSeeds(f.confirmSeeds as string), dryRun: f.dryRun as boolean,
    });
    if (r.stopped) return 130;
    if (!r.results) return f.dryRun ? 0 : 1;
    const rows = r.results.groups.map((g) => {
      const { [axis]: best, ...rest } = g.params;
      const acc = g.finalTestAcc;
      const pct = (x: number | null) => (x === null ? '-' : (100 * x).toFixed(2));
      return [Object.entries(rest).map(([k, v]) => `${k}=${v}`).join(' '), String(best), `${g.n - g.diverged}/${g.n}`, `${pct(acc.mean)} ± ${pct(acc.std)}`];
    });
    const all = [['combination', `best ${axis}`, 'finished', 'final test acc % (mean ± std)'], ...rows];
    const w = all[0]!.map((_, c) => Math.max(...all.map((x) => x[c]!.length)));
    for (const x of all) console.log(x.map((cell, c) => cell.padEnd(w[c]!)).join('  ').trimEnd());
    console.log(`${out}/results.csv, ${out}/results.json (tuning: ${out}/tune, confirmation: ${out}/confirm)`);
    return r.failed > 0 ? 1 : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
