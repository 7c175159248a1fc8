/**
 * The optimizer of a training run, built from the CLI's optimizer flags: the registered optimizer with the
 * run's per-parameter eta and the warmup + cosine schedule by step.
 */
import { AdamW, SGD, cosineWithWarmup, excludeFromWeightDecay, type ChainOptimizer, type LRTable, type ParamInfo } from 'layerwise-lr';
import type { FlagSpecs } from '../cli/args.js';

export interface OptimizerChoice {
  optimizer: string;
  lr: number;
  momentum: number;
  wd: number;
  epochs: number;
  warmupEpochs: number;
  /** No weight decay on biases, norm scales/shifts and embeddings (`excludeFromWeightDecay()`); default false. */
  wdExclude?: boolean;
}

/** The flags `lwlr train` takes for {@link OptimizerChoice}. */
export const OPTIMIZER_FLAGS: FlagSpecs = {
  optimizer: { type: 'string', default: 'sgd', choices: ['sgd', 'adamw'], help: 'optimizer (torch.optim semantics)' },
  lr: { type: 'number', default: 0.1, help: 'peak global learning rate' },
  momentum: { type: 'number', default: 0.9, help: 'SGD momentum' },
  wd: { type: 'number', default: 5e-4, help: 'weight decay (scaled by each eta, as a torch param group)' },
  'warmup-epochs': { type: 'number', default: 1, help: 'linear warmup, then cosine decay to 0' },
};

/** The run's optimizer: `o.optimizer` with eta from `table`, scheduled over `o.epochs * stepsPerEpoch` steps. */
export function makeOptimizer(params: readonly ParamInfo[], table: LRTable, o: OptimizerChoice, stepsPerEpoch: number): ChainOptimizer {
  const lr = cosineWithWarmup({ peak: o.lr, warmupSteps: Math.round(o.warmupEpochs * stepsPerEpoch), totalSteps: o.epochs * stepsPerEpoch });
  const weightDecayMask = o.wdExclude ? excludeFromWeightDecay() : undefined;
  if (o.optimizer === 'sgd') return new SGD(params, { lr, eta: table, momentum: o.momentum, weightDecay: o.wd, weightDecayMask });
  if (o.optimizer === 'adamw') return new AdamW(params, { lr, eta: table, weightDecay: o.wd, weightDecayMask });
  throw new Error(`unknown optimizer '${o.optimizer}' (expected sgd or adamw)`);
}
