/** `lwlr train`: trains a model with a learning-rate scheme; writes config, LR table and metrics to --out. */
import { readFileSync, existsSync } from 'node:fs';
import { selectBackend, type BackendChoice } from 'tfjs-backend-onednn';
import { LRTable, schemeTable, type InitMode } from 'layerwise-lr';
import { helpText, parseFlags, UsageError, type FlagSpecs } from './args.js';
import { COMMON_FLAGS, formatDuration, setupOptionsFromFlags } from './common.js';
import { setupRun, initForTraining, measureOnTrainSplit, InterruptedError } from '../train/setup.js';
import { trainLoop, type LoopOptions } from '../train/loop.js';
import { makeOptimizer, optimizerChoiceFromFlags, OPTIMIZER_FLAGS } from '../train/optimizers.js';
import { RunDir } from '../train/metrics.js';

const SCHEMES = ['uniform', 'layerwise', 'depth-increasing', 'depth-decreasing'] as const;

const FLAGS: FlagSpecs = {
  ...COMMON_FLAGS,
  ...OPTIMIZER_FLAGS,
  epochs: { type: 'int', default: 10, help: 'epochs' },
  'lr-scheme': { type: 'string', default: 'layerwise', choices: SCHEMES, help: 'per-parameter learning rates' },
  'lr-table': { type: 'string', help: 'use a saved LR table (from lwlr lr --out) instead of measuring' },
  'lr-steps': { type: 'int', help: 'T for the layerwise scheme (default: one epoch, as the paper)' },
  'drop-last': { type: 'boolean', default: false, help: 'drop the last partial batch of each epoch' },
  'log-every': { type: 'int', default: 20, help: 'log the train loss every N steps' },
  out: { type: 'string', help: 'run directory (config.json, lr-table.json, metrics.jsonl)' },
  quiet: { type: 'boolean', default: false, help: 'epoch lines only, no progress bar' },
};

export async function trainCommand(argv: string[]): Promise<number> {
  const { flags: f } = parseFlags(argv, FLAGS);
  if (f.help) {
    console.log(helpText('train', 'Train with uniform, layer-wise or depth-scheme learning rates.', FLAGS));
    return 0;
  }
  if (!f.out) throw new UsageError('--out RUN_DIR is required');
  if ((f.epochs as number) < 1) throw new UsageError('--epochs must be >= 1');
  if (f.lrTable && !existsSync(f.lrTable as string)) throw new UsageError(`--lr-table ${f.lrTable}: no such file`, 1);
  const backend = await selectBackend(f.backend as BackendChoice);
  const seed = f.seed as number;
  const init = f.init as InitMode;
  const run = await setupRun({ ...setupOptionsFromFlags(f), dropLast: f.dropLast as boolean });
  const dir = new RunDir(f.out as string);
  const say = (line: string) => {
    if (process.stdout.isTTY && !f.quiet) process.stdout.write('\r\x1b[K');
    console.log(line);
  };
  let stop = false;
  const onSigint = () => {
    if (stop) process.exit(130);
    stop = true;
    say('interrupted: finishing the step and saving (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', onSigint);
  try {
    const optChoice = optimizerChoiceFromFlags(f, { inputShape: run.dataset.shape, numClasses: run.dataset.numClasses });
    // Every scheme trains from the same seeded measurement init, so runs differ only in learning rates.
    initForTraining(run, init, seed);
    let table: LRTable;
    const scheme = f.lrScheme as (typeof SCHEMES)[number];
    if (f.lrTable) {
      try {
        table = LRTable.fromJSON(readFileSync(f.lrTable as string, 'utf8'));
        table.checkCompatible(run.params);
      } catch (e) {
        throw new UsageError(`--lr-table ${f.lrTable}: ${(e as Error).message.split('\n').join('; ')}`, 1);
      }
      // --lr-scheme is then optional; given, it must name the table's scheme (no silent choice between the two)
      const explicit = argv.some((a) => a === '--lr-scheme' || a.startsWith('--lr-scheme='));
      if (explicit && table.meta.scheme !== scheme) {
        throw new UsageError(`--lr-table ${f.lrTable} holds a '${table.meta.scheme}' table but --lr-scheme is '${scheme}' (drop one of the two)`);
      }
      const m = table.meta;
      if (m.scheme === 'layerwise' && (m.seed !== seed || m.init !== init)) {
        process.stderr.write(`warning: --lr-table ${f.lrTable} was measured from init ${m.init} seed ${m.seed}; training starts from init ${init} seed ${seed}\n`);
      }
    } else if (scheme === 'layerwise') {
      const steps = (f.lrSteps as number | undefined) ?? run.train.batchesPerEpoch;
      try {
        table = await measureOnTrainSplit(run, {
          steps, init, seed, exponent: f.exponent as number, batchSize: f.batchSize as number,
          onStep: (t, T) => { if (!f.quiet && process.stdout.isTTY) process.stdout.write(`\rmeasuring G: ${t}/${T}`); },
          shouldStop: () => stop,
        });
      } catch (e) {
        if (!(e instanceof InterruptedError)) throw e;
        say(`${e.message}; nothing trained, nothing written`);
        return 130;
      }
    } else {
      table = schemeTable(run.params, scheme);
    }
    const loop: LoopOptions = { epochs: f.epochs as number, logEvery: f.logEvery as number };
    dir.writeJSON('config.json', { command: 'train', argv, ...f, backend, datasetName: run.dataset.name, trainCount: run.train.count, testCount: run.test.count });
    dir.writeJSON('lr-table.json', table.toJSON());
    dir.resetMetrics();
    const opt = makeOptimizer(run.params, table, optChoice, run.train.batchesPerEpoch);
    say(`${f.model} on ${run.dataset.name} (${run.train.count} train / ${run.test.count} test), ${f.optimizer} lr ${f.lr}, scheme ${f.lrTable ? `${table.meta.scheme} (table ${f.lrTable})` : scheme}, backend ${backend}`);
    // Progress: a bar redrawn in place on a terminal (10 times a second at most); in a log (stdout not a
    // terminal) one plain line every 10 s; none with --quiet (epoch lines only).
    const tty = process.stdout.isTTY === true;
    let last = performance.now();
    const results = await trainLoop(run, opt, loop, dir, {
      onStep: (s) => {
        if (f.quiet) return;
        const now = performance.now();
        if (now - last < (tty ? 100 : 10_000)) return;
        last = now;
        const status = `${s.step}/${s.stepsPerEpoch} loss ${s.loss.toFixed(4)} lr ${s.lr.toPrecision(3)} ${Math.round(s.imagesPerSec)} img/s ETA ${formatDuration(s.etaSeconds)}`;
        if (!tty) {
          console.log(`epoch ${s.epoch}/${loop.epochs} step ${status}`);
          return;
        }
        const width = 24;
        const filled = Math.round((width * s.step) / s.stepsPerEpoch);
        process.stdout.write(`\repoch ${s.epoch}/${loop.epochs} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${status}`);
      },
      onEpoch: (r) => say(`epoch ${r.epoch}/${loop.epochs}: train loss ${r.trainLoss.toFixed(4)}  test loss ${r.testLoss.toFixed(4)}  test acc ${(100 * r.testAcc).toFixed(2)}%${r.testTop5 !== undefined ? `  top-5 ${(100 * r.testTop5).toFixed(2)}%` : ''}`),
      shouldStop: () => stop,
    });
    opt.dispose();
    if (stop) {
      say(`stopped after ${results.length} complete epoch(s); metrics in ${dir.file('metrics.jsonl')}`);
      return 130;
    }
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    run.dispose();
  }
}
