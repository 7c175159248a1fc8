/**
 * Loads the native addon (build/Release/onednn.node). Throws a clear error with the fix when it cannot.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

/** The functions the addon exports; each kernel family adds its own (typed loosely on purpose). */
export interface NativeAddon {
  getNumThreads(): number;
  setNumThreads(n: number): void;
  dnnlVersion(): string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [fn: string]: any;
}

const here = path.dirname(fileURLToPath(import.meta.url));
// dist/src -> package root
const packageRoot = path.resolve(here, '..', '..');

/**
 * What builds the addon in any project that installed this package (and in this repository): the system
 * packages, then npm re-runs the package's install script (scripts/install.mjs).
 */
export const NATIVE_FIX = 'apt-get install libdnnl-dev g++ make python3 && npm rebuild tfjs-backend-onednn';

/** The reason the install-time build left (scripts/install.mjs), else the loader's first line. */
function whyNotLoaded(file: string, e: Error): string {
  const skipped = path.join(packageRoot, 'build', 'install-skipped.txt');
  if (!existsSync(file) && existsSync(skipped)) return `not built at install: ${readFileSync(skipped, 'utf8').trim()}`;
  return `${file}: ${e.message.split('\n')[0]}`;
}

let warned = false;

/**
 * Prints, once per process, that the `onednn` backend is unavailable, why, and the commands that fix it.
 * Importing the package calls it when the addon cannot load; `selectBackend` again on falling back (a no-op
 * after the first time).
 */
export function warnNativeUnavailableOnce(warn: (message: string) => void = (m) => process.stderr.write(`${m}\n`)): void {
  if (warned) return;
  try {
    loadNative();
    return;
  } catch (e) {
    warned = true;
    warn(`warning: ${(e as Error).message}. Until then TensorFlow.js runs on its slow pure-JS 'cpu' backend.`);
  }
}

let cached: NativeAddon | undefined;
let loadError: Error | undefined;

/**
 * OpenMP wait policy, set before the addon (and with it libgomp, shared with oneDNN) loads: libgomp reads
 * OMP_WAIT_POLICY / GOMP_SPINCOUNT once, at load. Default here: OMP_WAIT_POLICY=passive — idle OpenMP threads
 * sleep instead of spinning while JavaScript runs between native calls. Measured on 2 cores (root
 * bench/step.mjs, interleaved runs; packages/tfjs-backend-onednn/bench/eltwise.mjs --wait-policy): on an idle
 * machine passive and libgomp's default spin are within noise (MLP step ~20-26 ms either way); when anything
 * else uses a core (other processes, V8's GC threads) spinning threads wait at barriers for descheduled
 * ones: MLP step 160-172 ms (default) vs 32-45 ms (passive), BN-CNN 810-940 vs 290-320 ms; active is as bad.
 * Set OMP_WAIT_POLICY (or GOMP_SPINCOUNT) yourself to override; LWLR_OMP_WAIT_POLICY=<policy> changes the
 * default, LWLR_OMP_WAIT_POLICY=none leaves libgomp's own. No effect if libgomp was already loaded.
 */
function setDefaultOmpWaitPolicy(): void {
  const env = process.env;
  if (env.OMP_WAIT_POLICY !== undefined || env.GOMP_SPINCOUNT !== undefined) return;
  const policy = env.LWLR_OMP_WAIT_POLICY ?? 'passive';
  if (policy === '' || policy === 'none') return;
  env.OMP_WAIT_POLICY = policy;
}

/** The addon, loaded once. Throws an Error explaining how to build it when it is missing. */
export function loadNative(): NativeAddon {
  if (cached) return cached;
  if (loadError) throw loadError;
  setDefaultOmpWaitPolicy();
  const require = createRequire(import.meta.url);
  const file = path.join(packageRoot, 'build', 'Release', 'onednn.node');
  try {
    cached = require(file) as NativeAddon;
  } catch (e) {
    loadError = new Error(`tfjs-backend-onednn: cannot load the native addon (${whyNotLoaded(file, e as Error)}); build it: ${NATIVE_FIX}`);
    throw loadError;
  }
  const threads = Number(process.env.LWLR_NUM_THREADS ?? '');
  if (Number.isInteger(threads) && threads > 0) cached.setNumThreads(threads);
  return cached;
}
