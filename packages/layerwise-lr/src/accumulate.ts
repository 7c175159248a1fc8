/**
 * Gradient accumulation over k micro-batches, so that an effective batch larger than memory allows works:
 * sum the gradients of k micro-batches (each the gradient of that micro-batch's MEAN loss), then step with
 * their mean. With equal-size micro-batches this equals the gradient of the mean loss over the whole batch.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Sums named gradients over micro-batches and hands out their mean.
 *
 * Ownership: `add` never disposes what it is given (the caller disposes its gradients as usual); the
 * running sums are the accumulator's own (kept out of any enclosing `tidy`) until `reset()` / `dispose()`.
 * `mean()` returns NEW tensors owned by the caller (tracked by an enclosing `tidy` if there is one).
 * A name absent from some micro-batches counts as a zero gradient there: the mean divides by the number
 * of `add` calls, as summing `.grad` over k backward passes of `loss / k` does in PyTorch.
 *
 * @example
 * ```ts
 * const acc = new GradientAccumulator();
 * for (const micro of microBatches) {          // k micro-batches
 *   const { value, grads } = tf.variableGrads(() => loss(micro));
 *   acc.add(grads);
 *   tf.dispose([value, ...Object.values(grads)]);
 * }
 * const mean = acc.mean();
 * optimizer.applyGradients(mean);
 * tf.dispose(Object.values(mean));
 * acc.reset();
 * ```
 */
export class GradientAccumulator {
  private sums = new Map<string, tf.Tensor>();
  private n = 0;

  /** Number of `add` calls since the last reset. */
  get count(): number {
    return this.n;
  }

  /** Names that have received at least one gradient since the last reset. */
  get names(): string[] {
    return [...this.sums.keys()];
  }

  /**
   * Adds one micro-batch's gradients (keyed by any names: tfjs variable names or parameter names).
   * Throws, before changing anything, when a shape differs from the earlier gradients of the same name.
   *
   * @example
   * ```ts
   * acc.add({ w: gW, b: gB });
   * ```
   */
  add(grads: tf.NamedTensorMap): void {
    for (const [name, g] of Object.entries(grads)) {
      const prev = this.sums.get(name);
      if (g == null) continue;
      if (prev != null && !sameShape(prev.shape, g.shape)) {
        throw new Error(`GradientAccumulator.add: "${name}" has shape [${g.shape}], earlier [${prev.shape}]`);
      }
    }
    for (const [name, g] of Object.entries(grads)) {
      if (g == null) continue;
      const prev = this.sums.get(name);
      const next = tf.keep(tf.tidy(() => (prev == null ? tf.cast(g, 'float32') : tf.add(prev, g))));
      this.sums.set(name, next);
      prev?.dispose();
    }
    this.n++;
  }

  /**
   * The running sums (new tensors, owned by the caller).
   *
   * @example
   * ```ts
   * const sums = acc.sum();
   * ```
   */
  sum(): tf.NamedTensorMap {
    const out: tf.NamedTensorMap = {};
    for (const [name, s] of this.sums) out[name] = tf.clone(s);
    return out;
  }

  /**
   * The mean over the `count` micro-batches (new tensors, owned by the caller). Throws when nothing was added.
   *
   * @example
   * ```ts
   * optimizer.applyGradients(acc.mean());
   * ```
   */
  mean(): tf.NamedTensorMap {
    if (this.n === 0) throw new Error('GradientAccumulator.mean: no gradients were added');
    const out: tf.NamedTensorMap = {};
    const k = this.n;
    for (const [name, s] of this.sums) out[name] = tf.div(s, k);
    return out;
  }

  /**
   * Forgets the sums (disposing them) and the count, ready for the next effective batch.
   *
   * @example
   * ```ts
   * acc.reset();
   * ```
   */
  reset(): void {
    for (const s of this.sums.values()) s.dispose();
    this.sums.clear();
    this.n = 0;
  }

  /**
   * Same as {@link reset}; call when done with the accumulator.
   *
   * @example
   * ```ts
   * acc.dispose();
   * ```
   */
  dispose(): void {
    this.reset();
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
