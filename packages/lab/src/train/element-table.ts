/**
 * A frozen-adagrad table on disk: the per-element multipliers as safetensors (keys = parameter names, float32 in
 * the tfjs layout of each parameter; `__metadata__` carries the summary's signature and settings), beside its
 * per-tensor summary, an LR table JSON (scheme `frozen-adagrad`, eta = each tensor's mean multiplier), which the
 * report draws as an eta map. A run directory holds `lr-table.json` + `frozen-adagrad.safetensors`; `lwlr lr
 * --lr-scheme frozen-adagrad --out X.json` writes `X.json` + `X.safetensors`.
 *
 * @example
 * ```ts
 * writeElementTable('runs/a/frozen-adagrad.safetensors', fa);
 * const again = readElementTable('runs/a/frozen-adagrad.safetensors', LRTable.fromJSON(text));
 * ```
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { FrozenAdagradTable, type LRTable } from 'layerwise-lr';
import { decodeSafetensors, encodeSafetensors, type NamedArray } from '../safetensors.js';

/** The multipliers file of a run directory. */
export const ELEMENT_TABLE_FILE = 'frozen-adagrad.safetensors';

/** The multipliers file beside an LR table JSON: `X.json` -> `X.safetensors`. */
export function elementTableFileFor(jsonFile: string): string {
  return jsonFile.replace(/\.json$/i, '') + '.safetensors';
}

/** Writes the per-element multipliers of `fa` to `file` (safetensors). */
export function writeElementTable(file: string, fa: FrozenAdagradTable): void {
  const tensors: Record<string, NamedArray> = {};
  for (const e of fa.summary.entries) tensors[e.name] = { shape: [...e.shape], data: fa.multipliers[e.name] as Float32Array };
  const m = fa.summary.meta;
  writeFileSync(file, encodeSafetensors(tensors, {
    format: 'lwlr-frozen-adagrad@1', layout: 'tfjs', signature: m.signature, steps: String(m.steps), init: String(m.init),
    seed: String(m.seed), eps: String(m.elementwise?.eps),
  }));
}

/**
 * Reads the multipliers in `file` for the summary `summary` (its `lr-table.json`); every mismatch (a missing
 * file, another model's table, values that do not average to the summary's etas) is one Error naming the file.
 */
export function readElementTable(file: string, summary: LRTable): FrozenAdagradTable {
  if (summary.meta.scheme !== 'frozen-adagrad') throw new Error(`${file}: the LR table is '${summary.meta.scheme}', not frozen-adagrad`);
  if (!existsSync(file)) throw new Error(`${file}: missing (a frozen-adagrad table keeps its per-element multipliers there)`);
  let decoded: ReturnType<typeof decodeSafetensors>;
  try {
    decoded = decodeSafetensors(new Uint8Array(readFileSync(file)), file);
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  const sig = decoded.metadata?.signature;
  if (sig !== undefined && sig !== summary.meta.signature) {
    throw new Error(`${file}: its signature ${sig} is not its LR table's (${summary.meta.signature}): the two files are of different models`);
  }
  const arrays: Record<string, Float32Array> = {};
  for (const [name, a] of Object.entries(decoded.tensors)) {
    const e = summary.entry(name);
    if (e && a.shape.join(',') !== e.shape.join(',')) throw new Error(`${file}: '${name}' has shape [${a.shape}], its LR table [${e.shape}]`);
    arrays[name] = a.data;
  }
  try {
    return FrozenAdagradTable.fromMultipliers(summary, arrays);
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message.split('\n')[0]}`);
  }
}
