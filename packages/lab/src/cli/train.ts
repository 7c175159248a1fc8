/**
 * `lwlr train`: flags (and `--config FILE`) -> `resolveRunConfig` -> `runTraining`; this file adds only what a
 * terminal needs: the progress bar, Ctrl-C, and the exit code (0 done or paused, 130 stopped; errors are thrown
 * and mapped by `main.ts`: a `ConfigError` is exit 2 with nothing written).
 *
 * Resume policy (`resumedRunConfig`): a resumed run takes its config from `RUN_DIR/config.json`. Flags given with
 * `--resume` must equal the run's values, except `--epochs` (extends the run; the cosine schedule is re-planned
 * over the new length), `--stop-after`, `--quiet`, `--save-weights`, `--tensorboard`, and `--backend` (which then
 * only warns that bit-for-bit continuation needs the same one).
 */
import * as path from 'node:path';
import { LR_SCHEMES } from 'layerwise-lr';
import { helpText, toCamel, UsageError, type FlagSpecs } from './args.js';
import { formatDuration } from './common.js';
import { resolveFlags } from './config.js';
import { DEPRECATED_FIELDS, resolveRunConfig, resumedRunConfig, runFlagSpecs, type RunConfig } from '../train/run-config.js';
import { runTraining, type RunHooks } from '../train/run.js';
import { readRunConfigFile } from '../train/run-dir.js';

/** @deprecated the schemes are `LR_SCHEMES` of layerwise-lr. */
export const SCHEMES = LR_SCHEMES;

/** The flags of the invocation, not of the run (config.json leaves them out). */
const INVOCATION_FLAGS: FlagSpecs = {
  config: { type: 'string', help: 'read flags from a JSON or YAML file (flags given here win)' },
  resume: { type: 'string', help: 'continue the run in this directory from its last checkpoint' },
  'stop-after': { type: 'int', help: 'stop (checkpointed) after this epoch; continue later with --resume' },
  overwrite: { type: 'boolean', default: false, help: 'start over in an --out that already holds a run (its metrics and checkpoint are replaced)' },
  quiet: { type: 'boolean', default: false, help: 'epoch lines only, no progress bar' },
  help: { type: 'boolean', help: 'show this help' },
};

/** 0.1's flag names, still taken (with a warning) and read from config files. */
const DEPRECATED_FLAGS: FlagSpecs = Object.fromEntries(Object.entries(DEPRECATED_FIELDS).map(([old, now]) => [old, { ...runFlagSpecs()[now]!, help: `deprecated: --${now}` }]));

/** Every flag of `lwlr train`: the run's fields (`RUN_FIELDS`), then the invocation's. */
export const TRAIN_FLAGS: FlagSpecs = { ...runFlagSpecs(), ...INVOCATION_FLAGS, ...DEPRECATED_FLAGS };

const INVOCATION_CAMEL: ReadonlySet<string> = new Set(['config', 'resume', 'stopAfter', 'overwrite', 'quiet', 'help']);

/** What one `lwlr train` invocation asks for: the run's config, and how to run it. */
interface Invocation {
  config: RunConfig;
  resume: boolean;
  overwrite: boolean;
  stopAfter?: number;
  quiet: boolean;
}

/** The run's config from the command line: resumed from its directory, or resolved from the flags given. */
function invocationFromArgv(argv: readonly string[]): Invocation | 'help' {
  const { flags, positional, explicit, fromArgv } = resolveFlags(argv, TRAIN_FLAGS);
  if (flags.help) return 'help';
  if (positional.length) throw new UsageError(`unexpected argument '${positional[0]}' (lwlr train takes flags only)`);
  const given: Record<string, unknown> = {};
  for (const k of explicit) if (!INVOCATION_CAMEL.has(k)) given[k] = flags[k];
  for (const [old, now] of Object.entries(DEPRECATED_FIELDS)) {
    if (fromArgv.has(toCamel(old))) process.stderr.write(`warning: --${old} is deprecated; use --${now}\n`);
  }
  const how = { overwrite: flags.overwrite as boolean, stopAfter: flags.stopAfter as number | undefined, quiet: flags.quiet as boolean };
  const resume = flags.resume as string | undefined;
  if (resume !== undefined) {
    if (fromArgv.has('config')) throw new UsageError('--resume takes the config from RUN_DIR/config.json: drop --config');
    if (given.out !== undefined && path.resolve(String(given.out)) !== path.resolve(resume)) {
      throw new UsageError(`--out ${given.out} differs from --resume ${resume} (a resumed run writes into its own directory)`);
    }
    return { config: resumedRunConfig(resume, given, readRunConfigFile(resume)), resume: true, ...how };
  }
  if (given.out === undefined) throw new UsageError('--out RUN_DIR is required');
  return { config: resolveRunConfig(given), resume: false, ...how };
}

/** The terminal's view of a run: status lines, a progress bar (10 redraws a second) or a line every 10 s in a log. */
function terminalHooks(config: RunConfig, quiet: boolean): RunHooks & { say(line: string): void } {
  const tty = process.stdout.isTTY === true;
  const say = (line: string) => {
    if (tty && !quiet) process.stdout.write('\r\x1b[K');
    console.log(line);
  };
  let last = performance.now();
  let tokensPerExample: number | undefined; // a language model's window: speed in tokens/s
  return {
    say,
    onStart: (info) => { tokensPerExample = info.text?.context; },
    onMeasure: (t, total, scheme) => { if (!quiet && tty) process.stdout.write(`\rmeasuring ${scheme === 'frozen-adagrad' ? 'sum g^2' : 'G'}: ${t}/${total}`); },
    onStep: (s) => {
      if (quiet) return;
      const now = performance.now();
      if (now - last < (tty ? 100 : 10_000)) return;
      last = now;
      const speed = tokensPerExample !== undefined ? `${Math.round(s.imagesPerSec * tokensPerExample)} tok/s` : `${Math.round(s.imagesPerSec)} img/s`;
      const status = `${s.step}/${s.stepsPerEpoch} loss ${s.loss.toFixed(4)} lr ${s.lr.toPrecision(3)} ${speed} ETA ${formatDuration(s.secondsLeft)}`;
      if (!tty) {
        console.log(`epoch ${s.epoch}/${config.epochs} step ${status}`);
        return;
      }
      const width = 24;
      const filled = Math.round((width * s.step) / s.stepsPerEpoch);
      process.stdout.write(`\repoch ${s.epoch}/${config.epochs} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${status}`);
    },
    onEpoch: (r) => say(r.testPerplexity !== undefined
      ? `epoch ${r.epoch}/${config.epochs}: train loss ${r.trainLoss.toFixed(4)}  val loss ${r.testLoss.toFixed(4)}  perplexity ${r.testPerplexity.toFixed(2)}  bits/byte ${r.testBitsPerByte!.toFixed(3)}  next-token acc ${(100 * r.testAcc).toFixed(2)}%`
      : `epoch ${r.epoch}/${config.epochs}: train loss ${r.trainLoss.toFixed(4)}  test loss ${r.testLoss.toFixed(4)}  test acc ${(100 * r.testAcc).toFixed(2)}%${r.testTop5 !== undefined ? `  top-5 ${(100 * r.testTop5).toFixed(2)}%` : ''}${r.valAcc !== undefined ? `  val acc ${(100 * r.valAcc).toFixed(2)}%` : ''}`),
  };
}

/**
 * Trains a resolved run in this process with the terminal's progress and Ctrl-C handling (first Ctrl-C: finish
 * the step and checkpoint; second: quit at once). Returns the exit code: 0 done (or paused by --stop-after),
 * 130 stopped.
 *
 * @example
 * ```ts
 * const code = await trainWithTerminal(resolveRunConfig({ ...flags, out: 'runs/a' }), { argv });
 * ```
 */
export async function trainWithTerminal(
  config: RunConfig,
  o: { resume?: boolean; overwrite?: boolean; stopAfter?: number; quiet?: boolean; argv?: readonly string[] } = {},
): Promise<number> {
  const hooks = terminalHooks(config, o.quiet ?? false);
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
    hooks.say('interrupted: finishing the step and saving a checkpoint (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', onSigint);
  try {
    const r = await runTraining(config, { resume: o.resume, overwrite: o.overwrite, stopAfter: o.stopAfter, signal: controller.signal, hooks, argv: o.argv });
    const out = config.out!;
    switch (r.status) {
      case 'complete':
        console.log(`${out}: all ${config.epochs} epochs are done (pass a larger --epochs to train longer)`);
        return 0;
      case 'stopped':
        if (r.wrote) hooks.say(`stopped after ${r.epochs.length} complete epoch(s); checkpoint and metrics in ${out} (continue with: lwlr train --resume ${out})`);
        return 130;
      case 'paused':
        hooks.say(`stopped after epoch ${r.epochs.length} of ${config.epochs} (--stop-after); continue with: lwlr train --resume ${out}`);
        return 0;
      default:
        return 0;
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
}

export async function trainCommand(argv: string[]): Promise<number> {
  const r = invocationFromArgv(argv);
  if (r === 'help') {
    console.log(helpText('train', 'Train with uniform, layer-wise, depth-scheme or frozen-adagrad learning rates.', TRAIN_FLAGS));
    return 0;
  }
  return trainWithTerminal(r.config, { resume: r.resume, overwrite: r.overwrite, stopAfter: r.stopAfter, quiet: r.quiet, argv });
}
