/**
 * `lwlr train`: trains a model with a learning-rate scheme; writes the resolved config, the LR table, metrics
 * (JSONL, CSV, optionally TensorBoard) and a checkpoint per epoch to --out; `--resume RUN_DIR` continues one.
 *
 * Resume policy: a resumed run takes its config from `RUN_DIR/config.json`. Flags given with `--resume` must
 * equal the run's values, except the ones in {@link RESUME_MAY_CHANGE} (`--epochs` to extend the run — the
 * cosine schedule is then re-planned over the new length —, `--stop-after`, `--quiet`, `--save-weights`,
 * `--tensorboard`, and `--backend`, which then only warns that bit-for-bit continuation needs the same one).
 */
import { readFileSync, existsSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { selectBackend, type BackendChoice } from 'tfjs-backend-onednn';
import {
  LRTable, excludeFromWeightDecay, schemeTable, type ChainOptimizer, type FrozenAdagradTable, type GradNorm, type InitMode,
} from 'layerwise-lr';
import { helpText, UsageError, type FlagSpecs, type ParsedFlags } from './args.js';
import { COMMON_FLAGS, checkMeasurementFlags, formatDuration, setupOptionsFromFlags } from './common.js';
import { readConfigFile, resolveFlags } from './config.js';
import { setupRun, initForTraining, measureFrozenAdagradOnTrainSplit, measureOnTrainSplit, InterruptedError } from '../train/setup.js';
import { ELEMENT_TABLE_FILE, elementTableFileFor, readElementTable, writeElementTable } from '../train/element-table.js';
import { trainLoop, type LoopOptions } from '../train/loop.js';
import { makeOptimizer, optimizerChoiceFromFlags, optimizerTable, OPTIMIZER_FLAGS } from '../train/optimizers.js';
import { RunDir, csvSink } from '../train/metrics.js';
import { checkpointDir, loadCheckpoint, removeCheckpoints, restoreCheckpoint, rollBackMetrics, saveCheckpoint, type Checkpoint } from '../train/checkpoint.js';
import { loadWeightsFile, saveWeightsFile } from '../train/weights.js';
import { tensorBoardSink } from '../tensorboard/sink.js';

export const SCHEMES = ['uniform', 'layerwise', 'depth-increasing', 'depth-decreasing', 'frozen-adagrad'] as const;

export const TRAIN_FLAGS: FlagSpecs = {
  ...COMMON_FLAGS,
  ...OPTIMIZER_FLAGS,
  epochs: { type: 'int', default: 10, help: 'epochs' },
  'lr-scheme': { type: 'string', default: 'layerwise', choices: SCHEMES, help: 'per-parameter learning rates' },
  'lr-table': { type: 'string', help: 'use a saved LR table (from lwlr lr --out) instead of measuring' },
  'lr-steps': { type: 'int', help: 'T for the layerwise and frozen-adagrad schemes (default: one epoch, as the paper)' },
  'train-init': {
    type: 'string', default: 'measurement', choices: ['measurement', 'default'],
    help: "weights training starts from: the measurement init (--init, seeded) or the model's own default init (torchvision/timm style, seeded); Algorithm 1 measures at --init either way",
  },
  'drop-last': { type: 'boolean', default: false, help: 'drop the last partial batch of each epoch' },
  'accum-steps': { type: 'int', default: 1, help: 'split each --batch-size batch into K micro-batches (gradient accumulation; same run, less memory)' },
  'label-smoothing': { type: 'number', default: 0, help: 'label smoothing epsilon (torch CrossEntropyLoss semantics)' },
  'wd-exclude': { type: 'boolean', default: false, help: 'no weight decay on biases, norm scales/shifts and embeddings' },
  'init-weights': { type: 'string', help: 'start from these weights (.safetensors or a TF.js model directory)' },
  'save-weights': { type: 'string', help: 'write the final weights (.safetensors, or a TF.js model directory)' },
  'log-every': { type: 'int', default: 20, help: 'log the train loss every N steps' },
  tensorboard: { type: 'boolean', default: false, help: 'also write TensorBoard event files to RUN_DIR/tb' },
  config: { type: 'string', help: 'read flags from a JSON or YAML file (flags given here win)' },
  resume: { type: 'string', help: 'continue the run in this directory from its last checkpoint' },
  'stop-after': { type: 'int', help: 'stop (checkpointed) after this epoch; continue later with --resume' },
  out: { type: 'string', help: 'run directory (config.json, lr-table.json, metrics, checkpoint/)' },
  overwrite: { type: 'boolean', default: false, help: 'start over in an --out that already holds a run (its metrics and checkpoint are replaced)' },
  quiet: { type: 'boolean', default: false, help: 'epoch lines only, no progress bar' },
};

/** Flags (camelCase) a resumed run may change; the others must equal the run's config. */
export const RESUME_MAY_CHANGE: ReadonlySet<string> = new Set(['epochs', 'stopAfter', 'quiet', 'saveWeights', 'tensorboard', 'backend', 'resume', 'out']);

/** Flags that describe one invocation, not the run: left out of config.json. */
const NOT_IN_CONFIG = ['help', 'config', 'resume', 'out', 'overwrite', 'stopAfter', 'saveWeights'];

/** Options of {@link trainCommand} for callers in-process (tests, `lwlr compare`). */
export interface TrainHooks {
  /** Polled after each step besides Ctrl-C: true stops the run as Ctrl-C does (checkpoint, exit code 130). */
  shouldStop?(): boolean;
}

function dashed(camel: string): string {
  return camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The flags of a resumed run: its config.json, then the flags it may change (see the module doc). */
function resumeFlags(runDir: string, given: ParsedFlags, fromArgv: Set<string>): ParsedFlags {
  if (fromArgv.has('config')) throw new UsageError('--resume takes the config from RUN_DIR/config.json: drop --config');
  const file = path.join(runDir, 'config.json');
  if (!existsSync(file)) throw new UsageError(`--resume ${runDir}: no config.json (not a run directory?)`, 1);
  const stored = readConfigFile(file, TRAIN_FLAGS);
  const flags: ParsedFlags = {};
  for (const [name, s] of Object.entries(TRAIN_FLAGS)) flags[name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())] = s.default;
  Object.assign(flags, stored);
  for (const k of fromArgv) {
    if (k === 'out') {
      if (path.resolve(given.out as string) !== path.resolve(runDir)) throw new UsageError(`--out ${given.out} differs from --resume ${runDir} (a resumed run writes into its own directory)`);
      continue;
    }
    if (RESUME_MAY_CHANGE.has(k)) {
      flags[k] = given[k];
      continue;
    }
    if (given[k] !== flags[k]) {
      throw new UsageError(`--resume ${runDir}: --${dashed(k)} ${given[k]} differs from the run's ${flags[k] ?? '(unset)'} (a resumed run keeps its config; only --epochs, --stop-after, --quiet, --save-weights, --tensorboard, --backend may change)`);
    }
  }
  if (!fromArgv.has('stopAfter')) flags.stopAfter = undefined;
  if (!fromArgv.has('saveWeights')) flags.saveWeights = undefined;
  flags.out = runDir;
  flags.resume = runDir;
  return flags;
}

/** The config.json of a run: every flag as resolved (not the per-invocation ones) plus what the run found. */
function runConfig(f: ParsedFlags, extra: Record<string, unknown>): Record<string, unknown> {
  const cfg: Record<string, unknown> = { command: 'train' };
  for (const [k, v] of Object.entries(f)) if (!NOT_IN_CONFIG.includes(k) && v !== undefined) cfg[k] = v;
  return { ...cfg, ...extra };
}

export async function trainCommand(argv: string[], hooks: TrainHooks = {}): Promise<number> {
  const resolved = resolveFlags(argv, TRAIN_FLAGS);
  const { explicit, fromArgv } = resolved;
  if (resolved.flags.help) {
    console.log(helpText('train', 'Train with uniform, layer-wise or depth-scheme learning rates.', TRAIN_FLAGS));
    return 0;
  }
  if (resolved.positional.length) throw new UsageError(`unexpected argument '${resolved.positional[0]}' (lwlr train takes flags only)`);
  const resumeDir = resolved.flags.resume as string | undefined;
  const f = resumeDir ? resumeFlags(resumeDir, resolved.flags, fromArgv) : resolved.flags;
  if (!f.out) throw new UsageError('--out RUN_DIR is required');
  if ((f.epochs as number) < 1) throw new UsageError('--epochs must be >= 1');
  if ((f.accumSteps as number) < 1) throw new UsageError('--accum-steps must be >= 1');
  if (!((f.labelSmoothing as number) >= 0 && (f.labelSmoothing as number) < 1)) throw new UsageError(`--label-smoothing must be in [0, 1) (got ${f.labelSmoothing})`);
  if (f.stopAfter !== undefined && (f.stopAfter as number) < 1) throw new UsageError('--stop-after must be >= 1');
  checkMeasurementFlags(f.lrScheme as string, f);
  if (f.lrTable && !resumeDir && !existsSync(f.lrTable as string)) throw new UsageError(`--lr-table ${f.lrTable}: no such file`, 1);
  if (f.initWeights && !resumeDir && !existsSync(f.initWeights as string)) throw new UsageError(`--init-weights ${f.initWeights}: no such file`, 1);
  const storedBackend = f.backend as string;
  const backend = await selectBackend(f.backend as BackendChoice);
  if (resumeDir && fromArgv.has('backend') && backend !== storedBackend) {
    process.stderr.write(`warning: the run trained on ${storedBackend}, it continues on ${backend}: not bit for bit\n`);
  }
  const seed = f.seed as number;
  const init = f.init as InitMode;
  const out = f.out as string;
  // a finished or interrupted run is never replaced by accident: --resume continues it, --overwrite starts over
  if (!resumeDir && !f.overwrite) {
    const held = checkpointDir(out) !== undefined ? 'a checkpoint' : hasMetrics(out) ? 'metrics' : undefined;
    if (held) throw new UsageError(`--out ${out} already holds a run (${held}): continue it with --resume ${out}, or pass --overwrite to start over`);
  }
  // A resumed run's checkpoint, read before anything is built, so that a missing one costs no data loading.
  let ck: Checkpoint | undefined;
  if (resumeDir) {
    try {
      ck = loadCheckpoint(resumeDir);
    } catch (e) {
      throw new UsageError(`--resume ${(e as Error).message}`, 1);
    }
    if (ck.loop.epoch > (f.epochs as number)) {
      console.log(`${resumeDir}: all ${f.epochs} epochs are done (pass a larger --epochs to train longer)`);
      return 0;
    }
  }
  const run = await setupRun({ ...setupOptionsFromFlags(f), dropLast: f.dropLast as boolean });
  const dir = new RunDir(out);
  const say = (line: string) => {
    if (process.stdout.isTTY && !f.quiet) process.stdout.write('\r\x1b[K');
    console.log(line);
  };
  let stop = false;
  let stopped = false; // by Ctrl-C or hooks.shouldStop, seen by the loop
  const shouldStop = () => (stopped ||= stop || (hooks.shouldStop?.() ?? false));
  const onSigint = () => {
    if (stop) process.exit(130);
    stop = true;
    say('interrupted: finishing the step and saving a checkpoint (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', onSigint);
  let opt: ChainOptimizer | undefined;
  // frozen-adagrad: the per-element multipliers (its `table` is their per-tensor summary)
  let elementwise: FrozenAdagradTable | undefined;
  try {
    // checked before the measurement (a bad combination fails at once)
    // (muP has no width family for language models: mupBaseShapes refuses them before the shape matters)
    const optChoice = optimizerChoiceFromFlags(f, { inputShape: run.dataset.shape as [number, number, number], numClasses: run.dataset.numClasses });
    if (f.wdExclude) optChoice.weightDecayMask = excludeFromWeightDecay();
    // muP's init scales go on fresh weights only, not on a checkpoint's or --init-weights'
    if (ck || f.initWeights) optChoice.mupInit = false;
    let table: LRTable;
    const scheme = f.lrScheme as (typeof SCHEMES)[number];
    if (ck) {
      const file = path.join(out, 'lr-table.json');
      try {
        table = LRTable.fromJSON(readFileSync(file, 'utf8'));
        table.checkCompatible(run.params);
        if (table.meta.scheme === 'frozen-adagrad') elementwise = readElementTable(path.join(out, ELEMENT_TABLE_FILE), table);
      } catch (e) {
        throw new UsageError(`--resume ${out}: ${(e as Error).message.startsWith(out) ? '' : `${file}: `}${(e as Error).message.split('\n').join('; ')}`, 1);
      }
    } else {
      // Every scheme trains from the same seeded init (the measurement init, or with --train-init default the
      // model's own seeded init), so runs differ only in learning rates.
      const fromMeasurementInit = f.trainInit === 'measurement';
      if (fromMeasurementInit) initForTraining(run, init, seed);
      if (f.lrTable) {
        try {
          table = LRTable.fromJSON(readFileSync(f.lrTable as string, 'utf8'));
          table.checkCompatible(run.params);
          if (table.meta.scheme === 'frozen-adagrad') elementwise = readElementTable(elementTableFileFor(f.lrTable as string), table);
        } catch (e) {
          throw new UsageError(`--lr-table ${f.lrTable}: ${(e as Error).message.split('\n').join('; ')}`, 1);
        }
        // --lr-scheme is then optional; given, it must name the table's scheme (no silent choice between the two)
        if (explicit.has('lrScheme') && table.meta.scheme !== scheme) {
          throw new UsageError(`--lr-table ${f.lrTable} holds a '${table.meta.scheme}' table but --lr-scheme is '${scheme}' (drop one of the two)`);
        }
        f.lrScheme = table.meta.scheme; // config.json records the scheme trained
        const m = table.meta;
        if ((m.scheme === 'layerwise' || m.scheme === 'frozen-adagrad') && (m.seed !== seed || m.init !== init)) {
          process.stderr.write(`warning: --lr-table ${f.lrTable} was measured from init ${m.init} seed ${m.seed}; training starts from init ${init} seed ${seed}\n`);
        }
      } else if (scheme === 'layerwise' || scheme === 'frozen-adagrad') {
        const steps = (f.lrSteps as number | undefined) ?? run.train.batchesPerEpoch;
        const how = {
          steps, init, seed, exponent: f.exponent as number, batchSize: f.batchSize as number, gradNorm: f.gradNorm as GradNorm,
          labelSmoothing: f.labelSmoothing as number, keepInit: fromMeasurementInit,
          onStep: (t: number, T: number) => { if (!f.quiet && process.stdout.isTTY) process.stdout.write(`\rmeasuring ${scheme === 'layerwise' ? 'G' : 'sum g^2'}: ${t}/${T}`); },
          shouldStop,
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
          return 130;
        }
      } else {
        table = schemeTable(run.params, scheme);
      }
      // Algorithm 1 measures at the measurement init; --init-weights then sets where training starts.
      if (f.initWeights) {
        try {
          loadWeightsFile(run.model, f.initWeights as string, `--init-weights ${f.initWeights}`);
        } catch (e) {
          throw new UsageError((e as Error).message.split('\n')[0], 1);
        }
      }
    }
    const loop: LoopOptions = {
      epochs: f.epochs as number, logEvery: f.logEvery as number, accumSteps: f.accumSteps as number,
      labelSmoothing: f.labelSmoothing as number, stopAfter: f.stopAfter as number | undefined,
    };
    const found = {
      datasetName: run.dataset.name, trainCount: run.train.count, testCount: run.test.count, valCount: run.val?.count,
      ...(run.text ? { text: run.text } : {}),
    };
    if (ck) {
      const old = JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8'));
      dir.writeJSON('config.json', { ...old, epochs: f.epochs, backend });
      rollBackMetrics(ck, out);
    } else {
      dir.writeJSON('config.json', runConfig({ ...f, backend }, { argv, ...found }));
      dir.writeJSON('lr-table.json', optimizerTable(run.params, table, optChoice).toJSON());
      if (elementwise) writeElementTable(dir.file(ELEMENT_TABLE_FILE), elementwise);
      else rmSync(dir.file(ELEMENT_TABLE_FILE), { force: true }); // a former run's, in an --overwrite directory
      dir.resetMetrics();
      removeCheckpoints(out);
    }
    dir.addSink(csvSink(dir.file('metrics.csv'), dir.readMetrics()));
    if (f.tensorboard) dir.addSink(tensorBoardSink(out));
    dir.logLRTable(optimizerTable(run.params, table, optChoice).toJSON());
    opt = makeOptimizer(run.params, table, optChoice, run.train.batchesPerEpoch, elementwise);
    const data = run.train as unknown as { getState?(): unknown; setState?(s: unknown): void };
    if (ck) {
      try {
        restoreCheckpoint(ck, run.model, opt);
        if (ck.data !== undefined) data.setState?.(ck.data);
      } catch (e) {
        throw new UsageError(`--resume ${(e as Error).message.split('\n')[0]}`, 1);
      }
      const at = ck.loop.batch ? `epoch ${ck.loop.epoch} step ${ck.loop.batch}` : `the start of epoch ${ck.loop.epoch}`;
      say(`resuming ${out} at ${at} (global step ${ck.loop.step})`);
    }
    const sizes = run.text
      ? `${run.text.trainTokens} train / ${run.text.validationTokens} validation tokens (${run.text.tokenizer}), context ${run.text.context}`
      : `${run.train.count} train / ${run.test.count} test`;
    say(`${f.model} on ${run.dataset.name} (${sizes}), ${f.optimizer} lr ${f.lr}, scheme ${f.lrTable ? `${table.meta.scheme} (table ${f.lrTable})` : table.meta.scheme}, backend ${backend}`);
    // Progress: a bar redrawn in place on a terminal (10 times a second at most); in a log (stdout not a
    // terminal) one plain line every 10 s; none with --quiet (epoch lines only).
    const tty = process.stdout.isTTY === true;
    let last = performance.now();
    const model = run.model;
    const theOpt = opt;
    const results = await trainLoop(run, opt, loop, dir, {
      onStep: (s) => {
        if (f.quiet) return;
        const now = performance.now();
        if (now - last < (tty ? 100 : 10_000)) return;
        last = now;
        const speed = run.text ? `${Math.round(s.imagesPerSec * run.text.context)} tok/s` : `${Math.round(s.imagesPerSec)} img/s`;
        const status = `${s.step}/${s.stepsPerEpoch} loss ${s.loss.toFixed(4)} lr ${s.lr.toPrecision(3)} ${speed} ETA ${formatDuration(s.etaSeconds)}`;
        if (!tty) {
          console.log(`epoch ${s.epoch}/${loop.epochs} step ${status}`);
          return;
        }
        const width = 24;
        const filled = Math.round((width * s.step) / s.stepsPerEpoch);
        process.stdout.write(`\repoch ${s.epoch}/${loop.epochs} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${status}`);
      },
      onEpoch: (r) => say(r.testPerplexity !== undefined
        ? `epoch ${r.epoch}/${loop.epochs}: train loss ${r.trainLoss.toFixed(4)}  val loss ${r.testLoss.toFixed(4)}  perplexity ${r.testPerplexity.toFixed(2)}  bits/byte ${r.testBitsPerByte!.toFixed(3)}  next-token acc ${(100 * r.testAcc).toFixed(2)}%`
        : `epoch ${r.epoch}/${loop.epochs}: train loss ${r.trainLoss.toFixed(4)}  test loss ${r.testLoss.toFixed(4)}  test acc ${(100 * r.testAcc).toFixed(2)}%${r.testTop5 !== undefined ? `  top-5 ${(100 * r.testTop5).toFixed(2)}%` : ''}${r.valAcc !== undefined ? `  val acc ${(100 * r.valAcc).toFixed(2)}%` : ''}`),
      shouldStop,
      onCheckpoint: (state) => saveCheckpoint(out, { model, opt: theOpt, loop: state, data: data.getState?.() }),
    }, ck?.loop);
    if (stopped) {
      say(`stopped after ${results.length} complete epoch(s); checkpoint and metrics in ${out} (continue with: lwlr train --resume ${out})`);
      return 130;
    }
    if (results.length < (f.epochs as number)) {
      say(`stopped after epoch ${results.length} of ${f.epochs} (--stop-after); continue with: lwlr train --resume ${out}`);
      return 0;
    }
    if (f.saveWeights) {
      await saveWeightsFile(run.model, f.saveWeights as string, { model: String(f.model), epochs: String(f.epochs), seed: String(seed) });
      say(`weights written to ${f.saveWeights}`);
    }
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    dir.close();
    opt?.dispose();
    elementwise?.dispose();
    run.dispose();
  }
}

/** True when `dir` has a non-empty metrics.jsonl (a run trained there). */
function hasMetrics(dir: string): boolean {
  const file = path.join(dir, 'metrics.jsonl');
  return existsSync(file) && statSync(file).size > 0;
}
