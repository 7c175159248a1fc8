/**
 * {@link runTraining}: what `lwlr train` does, callable in process (`lwlr compare`, tests, notebooks): from a
 * {@link RunConfig} to a finished, stopped or diverged run directory.
 *
 * Order of work, so that bad input never leaves a folder and long runs never lose work:
 * 1. the run's inputs are read and checked: the checkpoint of a resumed run, the data, the model, the eta
 *    table (measured, fixed, saved or the run's own; frozen-adagrad's per-element multipliers beside it) and
 *    `--init-weights`; any problem is a one-line error and nothing is written;
 * 2. only then is the run directory created (config, eta table, metrics, checkpoints: `run-dir.ts`);
 * 3. training checkpoints every epoch; a stop request (`signal`, the CLI's Ctrl-C) checkpoints mid-epoch; a
 *    non-finite train or test loss throws {@link DivergenceError} and keeps the last good checkpoint.
 *
 * @example
 * ```ts
 * const config = resolveRunConfig({ model: 'mlp', data: 'synthetic', epochs: 2, out: 'runs/a' });
 * const r = await runTraining(config, { hooks: { onEpoch: (e) => console.log(e.testAcc) } });
 * r.status; // 'done'
 * ```
 */
import { selectBackend } from 'tfjs-backend-onednn';
import { EtaTable, schemeTable, type ChainOptimizer, type FixedLRSchemeName, type FrozenAdagradTable } from 'layerwise-lr';
import { readFileSync, rmSync } from 'node:fs';
import { ConfigError, UsageError, oneLine } from '../errors.js';
import {
  setupRun, initForTraining, measureFrozenAdagradOnTrainSplit, measureOnTrainSplit, InterruptedError, type RunSetup, type SetupOptions,
} from './setup.js';
import { elementTableFileFor, readElementTable, writeElementTable } from './element-table.js';
import { trainLoop, type EpochResult, type LoopHooks, type LoopOptions } from './loop.js';
import { makeOptimizer, mupBaseShapes, optimizerTable, wdExcludeMask, isMup, type OptimizerChoice } from './optimizers.js';
import { csvSink } from './metrics.js';
import { RunDir, hasMetrics, readRunConfigFile, readRunEtaTable, runFile } from './run-dir.js';
import { checkpointDir, loadCheckpoint, removeCheckpoints, restoreCheckpoint, saveCheckpoint, type Checkpoint } from './checkpoint.js';
import { loadWeightsFile, saveWeightsFile } from './weights.js';
import { storedRunConfig, type RunConfig } from './run-config.js';
import { tensorBoardSink } from '../tensorboard/sink.js';
import type { TextInfo } from './text-setup.js';

/** What a caller sees of a run while it trains (all optional). */
export interface RunHooks {
  /** A status line (the model and data, resuming, ...). */
  say?(line: string): void;
  /** A warning (default: `warning: ...` on stderr). */
  warn?(line: string): void;
  /** Once the data and model are set up: what the run reads (a language model's text: tokenizer, window). */
  onStart?(info: { dataset: string; text?: TextInfo }): void;
  /** The measurement's progress (Algorithm 1's G, or frozen-adagrad's sum of g^2): minibatch t of T. */
  onMeasure?(t: number, total: number, scheme: string): void;
  onStep?: LoopHooks['onStep'];
  onEpoch?(r: EpochResult): void;
}

/** Options of {@link runTraining}: how this invocation runs, not what the run is. */
export interface RunOptions {
  /** Continue the run in `config.out` from its last checkpoint (`config` from {@link resumedRunConfig}). */
  resume?: boolean;
  /** Start over in an `out` that already holds a run (its metrics and checkpoint are replaced). */
  overwrite?: boolean;
  /** Stop (checkpointed, resumable) after this epoch. */
  stopAfter?: number;
  /** Aborting it stops the run as Ctrl-C does: the step finishes, a checkpoint is written, status `stopped`. */
  signal?: AbortSignal;
  hooks?: RunHooks;
  /** The command line, recorded in config.json. */
  argv?: readonly string[];
}

/** How a run ended (a divergence throws). */
export interface RunResult {
  /**
   * `done`: all epochs; `paused`: `stopAfter` reached; `stopped`: the signal, with a checkpoint (or, during the
   * measurement, before anything was written); `complete`: a resumed run had nothing left to train.
   */
  status: 'done' | 'paused' | 'stopped' | 'complete';
  /** Per-epoch results, the restored ones of a resumed run included. */
  epochs: EpochResult[];
  /** The backend it ran on. */
  backend: string;
  /** False when it stopped before writing anything (during the measurement). */
  wrote: boolean;
}

/**
 * The data and model part of a run's config, as {@link setupRun} takes it.
 *
 * @example
 * ```ts
 * const run = await setupRun(setupOptions(config));
 * ```
 */
export function setupOptions(c: RunConfig): SetupOptions {
  return {
    model: c.model, data: c.data, dataDir: c.dataDir, limit: c.limit, width: c.width, depth: c.depth, widthMultiplier: c.widthMult,
    batchSize: c.batchSize, seed: c.seed, imageSize: c.imageSize, channels: c.channels, numClasses: c.numClasses,
    dropRate: c.drop, attnDropRate: c.attnDrop, dropPathRate: c.dropPath, outputScale: c.outputScale,
    augment: c.augment, mixup: c.mixup, randAugment: c.randaugment, valSplit: c.valSplit, dropLast: c.dropLast,
    dataFile: c.dataFile, tokenizer: c.tokenizer, context: c.context, untieHead: c.untieHead,
  };
}

/** The optimizer part of a run's config (muP's base shapes from the model's width family and the data's shape). */
function optimizerChoice(c: RunConfig, run: RunSetup, fresh: boolean): OptimizerChoice {
  const choice: OptimizerChoice = {
    optimizer: c.optimizer, lr: c.lr, momentum: c.momentum, wd: c.wd, epochs: c.epochs, warmupEpochs: c.warmupEpochs,
    beta1: c.beta1, beta2: c.beta2, eps: c.eps, trustCoef: c.trustCoef, larsClip: c.larsClip,
    lrSchedule: c.lrSchedule, polyPower: c.polyPower, init: c.init,
    // muP's init scales go on fresh weights only, not on a checkpoint's or --init-weights'
    mupInit: fresh && c.initWeights === undefined,
  };
  if (c.wdExclude) choice.weightDecayMask = wdExcludeMask(c.model, run.params);
  if (isMup(c.optimizer)) {
    // (muP has no width family for language models: mupBaseShapes refuses them before the shape matters)
    choice.mupBase = mupBaseShapes(c.model, {
      inputShape: run.dataset.shape as [number, number, number], numClasses: (run.model.outputs[0]!.shape as number[])[1]!, depth: c.depth,
    }, c.mupBaseWidth!);
  }
  return choice;
}

const oneLineOf = (e: unknown) => oneLine(String((e as Error).message ?? e));

/**
 * Trains the run `config` into `config.out` (see the module doc). Resolves with how it ended; throws a
 * {@link UsageError} / {@link ConfigError} for bad input (nothing written) and {@link DivergenceError} when the
 * loss stops being finite (the last good checkpoint kept).
 *
 * @example see the module doc.
 */
export async function runTraining(config: RunConfig, o: RunOptions = {}): Promise<RunResult> {
  const hooks = o.hooks ?? {};
  const say = hooks.say ?? ((l: string) => console.log(l));
  const warn = hooks.warn ?? ((l: string) => process.stderr.write(`warning: ${l}\n`));
  const out = config.out;
  if (!out) throw new ConfigError('out', '--out RUN_DIR is required');
  if (o.stopAfter !== undefined && !(Number.isInteger(o.stopAfter) && o.stopAfter >= 1)) throw new ConfigError('stop-after', `--stop-after must be an integer >= 1 (got ${o.stopAfter})`);
  // a finished or interrupted run is never replaced by accident: resume continues it, overwrite starts over
  if (!o.resume && !o.overwrite) {
    const held = checkpointDir(out) !== undefined ? 'a checkpoint' : hasMetrics(out) ? 'metrics' : undefined;
    if (held) throw new UsageError(`--out ${out} already holds a run (${held}): continue it with --resume ${out}, or pass --overwrite to start over`);
  }
  // a resumed run's checkpoint, read before anything is built, so that a missing one costs no data loading
  let ck: Checkpoint | undefined;
  if (o.resume) {
    try {
      ck = loadCheckpoint(out);
    } catch (e) {
      throw new UsageError(`--resume ${(e as Error).message}`, 1);
    }
    if (ck.loop.epoch > config.epochs) return { status: 'complete', epochs: ck.loop.results, backend: config.backend, wrote: false };
  }
  const backend = await selectBackend(config.backend);
  if (o.resume) {
    const trained = readRunConfigFile(out)?.backend;
    if (typeof trained === 'string' && trained !== backend) warn(`the run trained on ${trained}, it continues on ${backend}: not bit for bit`);
  }
  let stopped = false;
  const shouldStop = () => (stopped ||= o.signal?.aborted ?? false);
  const run = await setupRun(setupOptions(config));
  hooks.onStart?.({ dataset: run.dataset.name, text: run.text });
  let dir: RunDir | undefined;
  let opt: ChainOptimizer | undefined;
  // frozen-adagrad: the per-element multipliers (`table` is their per-tensor summary)
  let elementwise: FrozenAdagradTable | undefined;
  try {
    const choice = optimizerChoice(config, run, !ck);
    let table: EtaTable;
    let stored = config;
    if (ck) {
      try {
        table = readRunEtaTable(out) ?? (() => { throw new Error(`${runFile(out, 'etaTable')}: no such file`); })();
        table.checkCompatible(run.params);
        if (table.meta.scheme === 'frozen-adagrad') elementwise = readElementTable(runFile(out, 'elementTable'), table);
      } catch (e) {
        throw new UsageError(`--resume ${out}: ${oneLineOf(e)}`, 1);
      }
    } else {
      // Every scheme trains from the same seeded init (the measurement init, or with --train-init default the
      // model's own seeded init), so runs differ only in learning rates.
      const fromMeasurementInit = config.trainInit === 'measurement';
      if (fromMeasurementInit) initForTraining(run, config.init, config.seed);
      if (config.etaTable !== undefined) {
        const file = config.etaTable;
        try {
          table = EtaTable.fromJSON(readFileSync(file, 'utf8'));
          table.checkCompatible(run.params);
          if (table.meta.scheme === 'frozen-adagrad') elementwise = readElementTable(elementTableFileFor(file), table);
        } catch (e) {
          throw new UsageError(`--eta-table ${file}: ${oneLineOf(e)}`, 1);
        }
        // --lr-scheme is then optional; given, it must name the table's scheme (no silent choice between the two)
        if (config.lrScheme !== undefined && table.meta.scheme !== config.lrScheme) {
          throw new ConfigError('lr-scheme', `--eta-table ${file} holds a '${table.meta.scheme}' table but --lr-scheme is '${config.lrScheme}' (drop one of the two)`);
        }
        stored = { ...config, lrScheme: table.meta.scheme }; // config.json records the scheme trained
        const m = table.meta;
        if ((m.scheme === 'layerwise' || m.scheme === 'frozen-adagrad') && (m.seed !== config.seed || m.init !== config.init)) {
          warn(`--eta-table ${file} was measured from init ${m.init} seed ${m.seed}; training starts from init ${config.init} seed ${config.seed}`);
        }
      } else if (config.lrScheme === 'layerwise' || config.lrScheme === 'frozen-adagrad') {
        const scheme = config.lrScheme;
        const how = {
          steps: config.lrSteps ?? run.train.batchesPerEpoch, init: config.init, seed: config.seed, exponent: config.exponent,
          gradNorm: config.gradNorm, batchSize: config.batchSize, labelSmoothing: config.labelSmoothing, keepInit: fromMeasurementInit,
          onStep: (t: number, total: number) => hooks.onMeasure?.(t, total, scheme), shouldStop,
        };
        try {
          if (scheme === 'layerwise') {
            table = await measureOnTrainSplit(run, how);
          } else {
            elementwise = await measureFrozenAdagradOnTrainSplit(run, how);
            table = elementwise.summary;
          }
        } catch (e) {
          if (!(e instanceof InterruptedError)) throw e;
          say(`${e.message}; nothing trained, nothing written`);
          return { status: 'stopped', epochs: [], backend, wrote: false };
        }
      } else {
        table = schemeTable(run.params, config.lrScheme as FixedLRSchemeName);
      }
      // Algorithm 1 measures at the measurement init; --init-weights then sets where training starts.
      if (config.initWeights !== undefined) {
        try {
          loadWeightsFile(run.model, config.initWeights, `--init-weights ${config.initWeights}`);
        } catch (e) {
          throw new UsageError(String((e as Error).message).split('\n')[0]!, 1);
        }
      }
    }
    const used = optimizerTable(run.params, table, choice);
    // every input is read and checked: from here on the run directory is written
    dir = new RunDir(out);
    if (ck) {
      dir.writeConfig({ ...readRunConfigFile(out), epochs: config.epochs, backend });
      dir.setMetricsText(ck.metrics);
    } else {
      const found = {
        datasetName: run.dataset.name, trainCount: run.train.count, testCount: run.test.count, valCount: run.val?.count,
        ...(run.text ? { text: run.text } : {}),
      };
      dir.writeConfig(storedRunConfig({ ...stored, backend } as RunConfig, { argv: o.argv, ...found }));
      dir.writeEtaTable(used.toJSON());
      if (elementwise) writeElementTable(dir.file('elementTable'), elementwise);
      else rmSync(dir.file('elementTable'), { force: true }); // a former run's, in an --overwrite directory
      dir.resetMetrics();
      removeCheckpoints(out);
    }
    dir.addSink(csvSink(dir.file('metricsCsv'), dir.readMetrics()));
    if (config.tensorboard) dir.addSink(tensorBoardSink(out));
    dir.logEtaTable(used.toJSON());
    opt = makeOptimizer(run.params, table, choice, run.train.batchesPerEpoch, elementwise);
    const data = run.train as unknown as { getState?(): unknown; setState?(s: unknown): void };
    if (ck) {
      try {
        restoreCheckpoint(ck, run.model, opt);
        if (ck.data !== undefined) data.setState?.(ck.data);
      } catch (e) {
        throw new UsageError(`--resume ${String((e as Error).message).split('\n')[0]}`, 1);
      }
      const at = ck.loop.batch ? `epoch ${ck.loop.epoch} step ${ck.loop.batch}` : `the start of epoch ${ck.loop.epoch}`;
      say(`resuming ${out} at ${at} (global step ${ck.loop.step})`);
    }
    const sizes = run.text
      ? `${run.text.trainTokens} train / ${run.text.validationTokens} validation tokens (${run.text.tokenizer}), context ${run.text.context}`
      : `${run.train.count} train / ${run.test.count} test`;
    say(`${config.model} on ${run.dataset.name} (${sizes}), ${config.optimizer} lr ${config.lr}, scheme ${config.etaTable !== undefined ? `${table.meta.scheme} (table ${config.etaTable})` : table.meta.scheme}, backend ${backend}`);
    const loop: LoopOptions = {
      epochs: config.epochs, logEvery: config.logEvery, accumSteps: config.accumSteps, labelSmoothing: config.labelSmoothing, stopAfter: o.stopAfter,
    };
    const model = run.model;
    const theOpt = opt;
    const results = await trainLoop(run, opt, loop, dir, {
      onStep: hooks.onStep, onEpoch: hooks.onEpoch, shouldStop,
      onCheckpoint: (state) => saveCheckpoint(out, { model, opt: theOpt, loop: state, data: data.getState?.() }),
    }, ck?.loop);
    if (stopped) return { status: 'stopped', epochs: results, backend, wrote: true };
    if (results.length < config.epochs) return { status: 'paused', epochs: results, backend, wrote: true };
    if (config.saveWeights !== undefined) {
      await saveWeightsFile(run.model, config.saveWeights, { model: config.model, epochs: String(config.epochs), seed: String(config.seed) });
      say(`weights written to ${config.saveWeights}`);
    }
    return { status: 'done', epochs: results, backend, wrote: true };
  } finally {
    dir?.close();
    opt?.dispose();
    elementwise?.dispose();
    run.dispose();
  }
}
