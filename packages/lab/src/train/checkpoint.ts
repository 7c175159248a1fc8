/**
 * Checkpoints of a training run in `RUN_DIR/checkpoint/`, enough to continue bit for bit on the same backend:
 *
 * - `weights.safetensors`: every model weight by name, BatchNorm moving statistics included;
 * - `optimizer.safetensors`: the optimizer's slots (momentum, moments) as float32, keyed `param/slot`;
 * - `state.json`: the loop position (epoch, batch within it, global step, the partial epoch's loss sums, the
 *   results and elapsed time so far), the optimizer's step counts (its `iterations` is the schedule position),
 *   the seeded dropout / drop-path stream positions (`dropCounters`) and the data pipeline's own state when
 *   it has one (data order and masks are otherwise pure functions of the seed, the epoch and these counters);
 * - `metrics.jsonl`: the run's metrics up to this point (a resumed run rolls the run's files back to it).
 *
 * Written atomically: into `checkpoint.tmp/`, then renamed over the previous one, so a crash or a kill during
 * the write leaves the last good checkpoint (`checkpoint/`, or `checkpoint.old/` between the two renames).
 *
 * @example
 * ```ts
 * saveCheckpoint(runDir, { model, opt, loop: state });
 * // later, in a fresh process with the same config:
 * const ck = loadCheckpoint(runDir);
 * restoreCheckpoint(ck, model, opt);
 * await trainLoop(run, opt, o, dir, hooks, ck.loop);
 * ```
 */
import * as tf from '@tensorflow/tfjs';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ChainOptimizer, OptimizerState, ParamState } from 'layerwise-lr';
import { decodeSafetensors, encodeSafetensors, type NamedArray } from '../safetensors.js';
import { dropCounters, setDropCounters } from '../models/layers/drop.js';
import { readWeights, setWeights } from './weights.js';
import type { LoopState } from './loop.js';
import { RUN_FILES } from './run-dir.js';

export type { LoopState } from './loop.js';

export interface Checkpoint {
  loop: LoopState;
  weights: Record<string, NamedArray>;
  optimizer: OptimizerState;
  dropCounters: Record<string, number>;
  /** The data pipeline's state, when it keeps one (`getState()` of the train source). */
  data?: unknown;
  /** The metrics file's content at the checkpoint. */
  metrics: string;
  /** The directory it was read from. */
  dir: string;
}

const FORMAT = 'lwlr-checkpoint';
const CK = RUN_FILES.checkpoint;

function writeSynced(file: string, data: string | Uint8Array): void {
  writeFileSync(file, data);
  const fd = openSync(file, 'r+');
  try { fsyncSync(fd); } finally { closeSync(fd); }
}

/** The checkpoint directory of a run (`checkpoint/`, else `checkpoint.old/` left by a crash mid-swap), or undefined. */
export function checkpointDir(runDir: string): string | undefined {
  for (const name of [CK, `${CK}.old`]) {
    const d = path.join(runDir, name);
    if (existsSync(path.join(d, 'state.json'))) return d;
  }
  return undefined;
}

/** The weights file of a run's last good checkpoint (safetensors, tfjs layout), or undefined when it has none. */
export function checkpointWeightsFile(runDir: string): string | undefined {
  const dir = checkpointDir(runDir);
  return dir === undefined ? undefined : path.join(dir, 'weights.safetensors');
}

/** Removes a run's checkpoints (a fresh run in an old directory). */
export function removeCheckpoints(runDir: string): void {
  for (const name of [CK, `${CK}.old`, `${CK}.tmp`]) rmSync(path.join(runDir, name), { recursive: true, force: true });
}

/**
 * Saves model, optimizer and loop state into `runDir/checkpoint/` (atomically, see the module doc). Reads
 * every weight and slot back from the device: once per epoch, not per step.
 *
 * @example
 * ```ts
 * saveCheckpoint('runs/a', { model, opt, loop: { epoch: 2, batch: 0, step: 40, lossSum: 0, lossCount: 0, elapsed: 12.5, results } });
 * ```
 */
export function saveCheckpoint(runDir: string, c: { model: tf.LayersModel; opt: ChainOptimizer; loop: LoopState; data?: unknown }): void {
  const tmp = path.join(runDir, `${CK}.tmp`);
  const final = path.join(runDir, CK);
  const old = path.join(runDir, `${CK}.old`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeSynced(path.join(tmp, 'weights.safetensors'), encodeSafetensors(readWeights(c.model), { layout: 'tfjs' }));
  const state = c.opt.getState();
  const slots: Record<string, NamedArray> = {};
  const params: Record<string, { step: number; slots: string[] }> = {};
  for (const [name, ps] of Object.entries(state.params)) {
    params[name] = { step: ps.step, slots: Object.keys(ps.slots) };
    for (const [slot, d] of Object.entries(ps.slots)) slots[`${name}/${slot}`] = { shape: d.shape, data: Float32Array.from(d.values) };
  }
  writeSynced(path.join(tmp, 'optimizer.safetensors'), encodeSafetensors(slots));
  const metrics = path.join(runDir, RUN_FILES.metrics);
  writeSynced(path.join(tmp, RUN_FILES.metrics), existsSync(metrics) ? readFileSync(metrics) : '');
  writeSynced(path.join(tmp, 'state.json'), `${JSON.stringify({
    format: FORMAT, version: 1, savedAt: new Date().toISOString(), loop: c.loop,
    optimizer: { className: state.className, iterations: state.iterations, params },
    dropCounters: dropCounters(c.model), data: c.data,
  }, null, 1)}\n`);
  rmSync(old, { recursive: true, force: true });
  if (existsSync(final)) renameSync(final, old);
  renameSync(tmp, final);
  rmSync(old, { recursive: true, force: true });
}

/**
 * Reads a run's last good checkpoint (throws one line naming the directory when there is none or it is
 * damaged).
 *
 * @example
 * ```ts
 * const ck = loadCheckpoint('runs/a'); // ck.loop.epoch, ck.loop.batch ...
 * ```
 */
export function loadCheckpoint(runDir: string): Checkpoint {
  const dir = checkpointDir(runDir);
  if (!dir) throw new Error(`${runDir}: no checkpoint (expected ${path.join(runDir, CK, 'state.json')}; a checkpoint is written at the end of each epoch and on Ctrl-C)`);
  try {
    const s = JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8'));
    if (s.format !== FORMAT || s.version !== 1) throw new Error(`state.json is not a ${FORMAT} version 1`);
    const weights = decodeSafetensors(readFileSync(path.join(dir, 'weights.safetensors')), 'weights.safetensors').tensors;
    const slots = decodeSafetensors(readFileSync(path.join(dir, 'optimizer.safetensors')), 'optimizer.safetensors').tensors;
    const params: Record<string, ParamState> = {};
    for (const [name, p] of Object.entries(s.optimizer.params as Record<string, { step: number; slots: string[] }>)) {
      const ps: ParamState = { step: p.step, slots: {} };
      for (const slot of p.slots) {
        const t = slots[`${name}/${slot}`];
        if (!t) throw new Error(`optimizer.safetensors has no ${name}/${slot}`);
        ps.slots[slot] = { shape: t.shape, values: t.data };
      }
      params[name] = ps;
    }
    const optimizer: OptimizerState = {
      format: 'layerwise-lr/optimizer-state', version: 1, className: s.optimizer.className, iterations: s.optimizer.iterations, params,
    };
    const metricsFile = path.join(dir, RUN_FILES.metrics);
    return {
      loop: s.loop as LoopState, weights, optimizer, dropCounters: s.dropCounters ?? {}, data: s.data,
      metrics: existsSync(metricsFile) ? readFileSync(metricsFile, 'utf8') : '', dir,
    };
  } catch (e) {
    throw new Error(`${dir}: damaged checkpoint: ${(e as Error).message.split('\n')[0]}`);
  }
}

/**
 * Puts a checkpoint's weights, optimizer state and dropout stream positions into a freshly built model and
 * optimizer of the same config (throws one line when they do not fit).
 *
 * @example
 * ```ts
 * restoreCheckpoint(loadCheckpoint('runs/a'), run.model, opt);
 * ```
 */
export function restoreCheckpoint(ck: Checkpoint, model: tf.LayersModel, opt: ChainOptimizer): void {
  setWeights(model, ck.weights, `${ck.dir}/weights.safetensors`);
  try {
    opt.setState(ck.optimizer);
  } catch (e) {
    throw new Error(`${ck.dir}: the optimizer state does not fit: ${(e as Error).message}`);
  }
  setDropCounters(model, ck.dropCounters);
}

/** Copies the checkpoint's metrics over the run's (drops records logged after the checkpoint). */
export function rollBackMetrics(ck: Checkpoint, runDir: string): void {
  writeFileSync(path.join(runDir, RUN_FILES.metrics), ck.metrics);
}
