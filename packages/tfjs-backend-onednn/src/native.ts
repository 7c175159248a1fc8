/**
 * Loads the native addon (build/Release/onednn.node). Throws a clear error with the fix when it cannot.
 */
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

let cached: NativeAddon | undefined;
let loadError: Error | undefined;

/** The addon, loaded once. Throws an Error explaining how to build it when it is missing. */
export function loadNative(): NativeAddon {
  if (cached) return cached;
  if (loadError) throw loadError;
  const require = createRequire(import.meta.url);
  const file = path.join(packageRoot, 'build', 'Release', 'onednn.node');
  try {
    cached = require(file) as NativeAddon;
  } catch (e) {
    loadError = new Error(
      `tfjs-backend-onednn: cannot load the native addon ${file} (${(e as Error).message.split('\n')[0]}). ` +
        `Install oneDNN and build it: apt-get install libdnnl-dev && npm run build -w tfjs-backend-onednn`,
    );
    throw loadError;
  }
  const threads = Number(process.env.LWLR_NUM_THREADS ?? '');
  if (Number.isInteger(threads) && threads > 0) cached.setNumThreads(threads);
  return cached;
}
