/**
 * The library's version, recorded in every eta table's metadata. Kept equal to `package.json`'s
 * `version` (a test checks it); the library does no file I/O, so it is a constant here.
 *
 * @example
 * ```ts
 * import { LIBRARY_VERSION } from 'layerwise-lr';
 * console.log(`layerwise-lr ${LIBRARY_VERSION}`);
 * ```
 */
export const LIBRARY_VERSION = '0.1.0';
