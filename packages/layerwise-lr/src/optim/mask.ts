/**
 * Weight-decay masks: which parameters weight decay applies to, selected by kind and name (as timm's
 * `param_groups_weight_decay`: no decay for biases, norm parameters and embedding-like tensors), never by
 * position. A mask returns `true` for the parameters that ARE decayed.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ParamInfo, ParamKind } from '../types.js';
import type { ParamMask } from './transforms.js';

/** A mask that describes itself as plain data (so optimizers can put it in `getConfig()`). */
export interface DescribedMask extends ParamMask {
  readonly config: Readonly<Record<string, unknown>>;
}

/** Options of {@link excludeFromWeightDecay}. Each flag defaults to `true`. */
export interface ExcludeOptions {
  /** Exclude kind `bias`. */
  biases?: boolean;
  /** Exclude norm parameters (kinds `scale` and `shift`). */
  norms?: boolean;
  /** Exclude embedding-like tensors (kind `embedding`: cls token, position embedding, ...). */
  embeddings?: boolean;
  /** Also exclude these parameter names (e.g. a model's own `no_weight_decay()` list). */
  names?: readonly string[];
}

/**
 * A weight-decay mask that decays every parameter except the excluded kinds and names.
 * `excludeFromWeightDecay()` (all defaults) decays conv/dense kernels only, the same as {@link kernelsOnly}.
 *
 * @example
 * ```ts
 * const opt = new SGD(params, { lr: 0.1, weightDecay: 5e-4,
 *   weightDecayMask: excludeFromWeightDecay({ biases: true, norms: true, embeddings: false }) });
 * ```
 */
export function excludeFromWeightDecay(opts: ExcludeOptions = {}): DescribedMask {
  const { biases = true, norms = true, embeddings = true } = opts;
  const names = [...(opts.names ?? [])];
  const nameSet = new Set(names);
  const excluded = new Set<ParamKind>();
  if (biases) excluded.add('bias');
  if (norms) { excluded.add('scale'); excluded.add('shift'); }
  if (embeddings) excluded.add('embedding');
  const mask = (p: ParamInfo): boolean => !excluded.has(p.kind) && !nameSet.has(p.name);
  return Object.assign(mask, { config: { excludeFromWeightDecay: { biases, norms, embeddings, names } } });
}

/**
 * The "kernels only" preset: decay conv / dense / depthwise kernels (kind `kernel`), nothing else.
 *
 * @example
 * ```ts
 * const opt = new AdamW(params, { lr: 1e-3, weightDecay: 0.05, weightDecayMask: kernelsOnly });
 * ```
 */
export const kernelsOnly: DescribedMask = Object.assign((p: ParamInfo): boolean => p.kind === 'kernel', {
  config: { kernelsOnly: true },
});

/**
 * The default mask: decay every parameter (torch's behaviour when all parameters share one group).
 *
 * @example
 * ```ts
 * decayAll(params[0]); // true
 * ```
 */
export const decayAll: DescribedMask = Object.assign((_p: ParamInfo): boolean => true, { config: { decayAll: true } });

/**
 * Rebuilds a mask from its `config`; `'custom'` (a user's function) cannot be rebuilt and throws.
 *
 * @example
 * ```ts
 * const m = maskFromConfig(excludeFromWeightDecay({ embeddings: false }).config);
 * ```
 */
export function maskFromConfig(config: unknown): DescribedMask {
  if (config == null) return decayAll;
  if (typeof config === 'object') {
    const c = config as Record<string, unknown>;
    if (c.decayAll) return decayAll;
    if (c.kernelsOnly) return kernelsOnly;
    if (c.excludeFromWeightDecay) return excludeFromWeightDecay(c.excludeFromWeightDecay as ExcludeOptions);
  }
  throw new Error(`maskFromConfig: cannot rebuild weight-decay mask from ${JSON.stringify(config)} (a custom function?)`);
}

/**
 * A mask as plain config data for `getConfig()`: its `config` when it describes itself, else `'custom'`
 * (a user's function, which {@link maskFromConfig} refuses to rebuild).
 *
 * @example
 * ```ts
 * maskConfig(kernelsOnly); // { kernelsOnly: true }
 * ```
 */
export function maskConfig(m: ParamMask): tf.serialization.ConfigDictValue {
  return ((m as { config?: unknown }).config ?? 'custom') as tf.serialization.ConfigDictValue;
}
