/**
 * Backend selection for programs built on TensorFlow.js in Node: `tensorflow` (tfjs-node, when the user has it)
 * > `onednn` (this package) > `cpu`, with a one-line warning on falling back to `cpu` and a clear error when a
 * backend that was asked for by name cannot be had.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_NAME } from './backend.js';
import { loadNative, warnNativeUnavailableOnce } from './native.js';

/** What a caller may ask for: a backend by name, or `auto` (the best one available). */
export type BackendChoice = 'auto' | 'tensorflow' | 'onednn' | 'cpu';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow', 'onednn', 'cpu'];

async function tryTfjsNode(): Promise<string | null> {
  const specifier = '@tensorflow/tfjs-node'; // a variable: tfjs-node is optional and not a dependency
  try {
    await import(specifier);
  } catch (e) {
    return `cannot import @tensorflow/tfjs-node (${String((e as Error).message).split('\n')[0]})`;
  }
  return tf.findBackend('tensorflow') ? null : '@tensorflow/tfjs-node did not register the tensorflow backend';
}

function addonLoads(): boolean {
  try {
    loadNative();
    return true;
  } catch {
    return false;
  }
}

function onednnError(): string | null {
  try {
    loadNative();
    return tf.findBackendFactory(BACKEND_NAME) ? null : 'the onednn backend is not registered (import tfjs-backend-onednn)';
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Selects and initializes a backend; returns its name.
 *
 * @param choice `auto` (default) picks tensorflow > onednn > cpu; a name insists on that backend and throws an
 *   Error with the fix when it cannot be had.
 * @param warn where a one-line fallback warning goes (default: stderr). The missing addon is reported once per
 *   process, by importing the package; falling back for that reason prints nothing more.
 * @example
 * ```ts
 * import { selectBackend } from 'tfjs-backend-onednn';
 * const name = await selectBackend(process.env.BACKEND as BackendChoice ?? 'auto');
 * ```
 */
export async function selectBackend(
  choice: BackendChoice = 'auto',
  warn: (message: string) => void = (m) => process.stderr.write(`${m}\n`),
): Promise<string> {
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new Error(`unknown backend '${choice}' (expected one of: ${BACKEND_CHOICES.join(', ')})`);
  }
  const use = async (name: string): Promise<string> => {
    if (!(await tf.setBackend(name))) throw new Error(`backend '${name}' failed to initialize`);
    // The cpu backend prints a multi-line tfjs-node advertisement on first use; the one-line warning above
    // (or the explicit choice) already says it.
    if (name === 'cpu') (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
    return name;
  };
  if (choice === 'tensorflow') {
    const err = await tryTfjsNode();
    if (err) throw new Error(`backend 'tensorflow' unavailable: ${err}; install it with npm install @tensorflow/tfjs-node, or use --backend onednn`);
    return use('tensorflow');
  }
  if (choice === 'onednn') {
    const err = onednnError();
    if (err) throw new Error(`backend 'onednn' unavailable: ${err}`);
    return use(BACKEND_NAME);
  }
  if (choice === 'cpu') return use('cpu');
  if ((await tryTfjsNode()) === null) return use('tensorflow');
  const err = onednnError();
  if (err === null) return use(BACKEND_NAME);
  if (addonLoads()) warn(`warning: falling back to the slow pure-JS cpu backend (${err})`);
  else warnNativeUnavailableOnce(warn); // the missing addon: importing the package reported it already
  return use('cpu');
}
