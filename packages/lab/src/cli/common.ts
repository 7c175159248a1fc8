/** Flags and helpers shared by the commands. */
import type { FlagSpecs, ParsedFlags } from './args.js';
import type { SetupOptions } from '../train/setup.js';
import { DATASETS } from '../data/registry.js';
import { modelNames } from '../models/registry.js';

export const COMMON_FLAGS: FlagSpecs = {
  model: { type: 'string', default: 'mlp', help: `model: ${modelNames().join(', ')}` },
  data: { type: 'string', default: 'fashion-mnist', help: `dataset: ${DATASETS.join(', ')}` },
  'data-dir': { type: 'string', help: 'directory of the dataset files' },
  limit: { type: 'int', help: 'use only the first N examples of each split' },
  width: { type: 'int', default: 1024, help: 'MLP hidden width' },
  depth: { type: 'int', default: 2, help: 'MLP number of linear layers' },
  'width-mult': { type: 'number', help: 'width multiplier of DavidNet (default 1)' },
  'batch-size': { type: 'int', default: 256, help: 'minibatch size' },
  seed: { type: 'int', default: 0, help: 'seed of the init, shuffling and measurement' },
  init: { type: 'string', default: 'fan-out', choices: ['fan-out', 'fan-in', 'none'], help: 'measurement init' },
  exponent: { type: 'number', default: 0.5, help: 'eta = G^-exponent' },
  backend: { type: 'string', default: 'auto', choices: ['auto', 'tensorflow', 'onednn', 'cpu'], help: 'tfjs backend' },
  help: { type: 'boolean', help: 'show this help' },
};

/** h:mm:ss */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * The data and model part of a run ({@link SetupOptions}) from the parsed {@link COMMON_FLAGS}; the commands
 * add what is theirs (`shuffle`, `dropLast`).
 */
export function setupOptionsFromFlags(f: ParsedFlags): SetupOptions {
  return {
    model: f.model as string, data: f.data as string, dataDir: f.dataDir as string | undefined, limit: f.limit as number | undefined,
    width: f.width as number, depth: f.depth as number, widthMultiplier: f.widthMult as number | undefined, batchSize: f.batchSize as number, seed: f.seed as number,
  };
}
