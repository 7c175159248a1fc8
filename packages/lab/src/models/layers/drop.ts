/**
 * Dropout and stochastic depth (DropPath) with reproducible masks.
 *
 * tfjs's own `tf.layers.dropout` draws from `Math.random` unless given a seed, and with a seed it draws the
 * same mask at every step. These layers take an optional seed and derive call n's mask from (seed, n), so
 * the same seed and the same sequence of training calls give the same masks; `dropCalls` is public so that a
 * checkpoint can save and restore it ({@link dropCounters} / {@link setDropCounters}). Both are the identity
 * unless called with `training: true` (as `model.apply(x, { training: true })` and `fit` do).
 *
 * - {@link Dropout}: elementwise, as `nn.Dropout(p)`: kept values scaled by 1/(1-p).
 * - {@link DropPath}: per sample, as timm's `DropPath(p)` (`drop_path` with `scale_by_keep=True`): the whole
 *   residual branch of a sample is zeroed with probability p, kept ones are scaled by 1/(1-p).
 */
import * as tf from '@tensorflow/tfjs';
import { checkRate, type LayerArgs } from './common.js';

export interface DropArgs extends LayerArgs {
  /** Probability of dropping, in [0, 1). */
  rate: number;
  /** Seed of the mask stream (optional: unseeded draws from Math.random). */
  seed?: number;
}

/** The seed of call `n` of a mask stream seeded with `seed` (never 0, which tfjs reads as unseeded). */
export function mixSeed(seed: number, n: number): number {
  let h = (Math.imul(seed | 0, 0x27d4eb2d) ^ Math.imul(n + 1, 0x165667b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  h = (h ^ (h >>> 13)) & 0x7fffffff;
  return h === 0 ? 1 : h;
}

/** x * mask / (1 - rate), mask ~ Bernoulli(1 - rate) of `maskShape` (broadcast against x). */
export function dropWithMask(x: tf.Tensor, rate: number, maskShape: number[], seed: number | undefined): tf.Tensor {
  return tf.tidy(() => {
    const keep = 1 - rate;
    const u = tf.randomUniform(maskShape, 0, 1, 'float32', seed);
    return tf.mul(x, tf.div(tf.floor(tf.add(u, keep)), keep));
  });
}

abstract class SeededDrop extends tf.layers.Layer {
  readonly rate: number;
  readonly seed: number | undefined;
  /** Number of training calls so far (the position in the mask stream). */
  dropCalls = 0;

  constructor(args: DropArgs) {
    super(args);
    checkRate(args.rate, `${new.target.name} rate`);
    this.rate = args.rate;
    this.seed = args.seed;
  }

  /** The shape of the random mask for an input of this shape. */
  protected abstract maskShape(shape: readonly number[]): number[];

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    if (kwargs?.training !== true || this.rate === 0) return tf.clone(x);
    const seed = this.seed === undefined ? undefined : mixSeed(this.seed, this.dropCalls);
    this.dropCalls += 1;
    return dropWithMask(x, this.rate, this.maskShape(x.shape), seed);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    const c: tf.serialization.ConfigDict = { ...super.getConfig(), rate: this.rate };
    if (this.seed !== undefined) c['seed'] = this.seed;
    return c;
  }
}

/** Elementwise dropout with a reproducible mask stream (see the module doc). */
export class Dropout extends SeededDrop {
  static className = 'LwlrDropout';
  protected maskShape(shape: readonly number[]): number[] {
    return shape.slice();
  }
}
tf.serialization.registerClass(Dropout);

/** Stochastic depth: drops a sample's whole residual branch (see the module doc). */
export class DropPath extends SeededDrop {
  static className = 'LwlrDropPath';
  protected maskShape(shape: readonly number[]): number[] {
    return [shape[0]!, ...new Array<number>(shape.length - 1).fill(1)];
  }
}
tf.serialization.registerClass(DropPath);

/** A layer with a reproducible mask stream (dropout, drop path, attention dropout). */
export interface HasDropCalls {
  dropCalls: number;
}

function hasDropCalls(l: unknown): l is HasDropCalls {
  return typeof (l as Partial<HasDropCalls>).dropCalls === 'number';
}

/** The mask-stream positions of every seeded stochastic layer of a model, by layer name (for checkpoints). */
export function dropCounters(model: tf.LayersModel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of model.layers) if (hasDropCalls(l)) out[l.name] = l.dropCalls;
  return out;
}

/** Restores what {@link dropCounters} returned. */
export function setDropCounters(model: tf.LayersModel, counters: Readonly<Record<string, number>>): void {
  for (const l of model.layers) {
    if (hasDropCalls(l) && Object.prototype.hasOwnProperty.call(counters, l.name)) l.dropCalls = counters[l.name]!;
  }
}
