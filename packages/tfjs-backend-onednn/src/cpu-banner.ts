/**
 * TensorFlow.js's `cpu` backend prints a banner on its first use in Node ("Hi, looks like you are running
 * TensorFlow.js in Node.js. To speed things up dramatically, install our node backend..."). Once this package's
 * native backend is registered that advice is moot: TensorFlow.js picks `onednn` by default (it has the higher
 * priority), so a program on `cpu` chose it (parity checks, tiny work). Where the addon is missing the banner
 * stays: there it is useful advice, next to this package's own warning.
 */
import * as tf from '@tensorflow/tfjs-core';

function quiet<T>(backend: T): T {
  const b = backend as { firstUse?: unknown };
  if (b !== null && typeof b === 'object' && typeof b.firstUse === 'boolean') b.firstUse = false;
  return backend;
}

/** Silences the banner of the `cpu` backend: the instance already made, and any the engine makes later. */
export function silenceCpuBanner(): void {
  const engine = tf.engine();
  if (engine.registry.cpu !== undefined) quiet(engine.registry.cpu);
  const entry = engine.registryFactory.cpu;
  if (entry === undefined) return;
  const make = entry.factory;
  entry.factory = () => {
    const made = make();
    return made instanceof Promise ? made.then(quiet) : quiet(made);
  };
}
