/**
 * A model's weights by name, to and from files: every float weight (trainable parameters AND non-trainable
 * state such as BatchNorm moving statistics), named as the parameter table names them (`fc1.kernel`,
 * `layer1.0.bn1.gamma`; non-trainable ones by the same rule: `bn1.moving_mean`).
 *
 * Files: safetensors (`*.safetensors`, keys = these names, tfjs layout) or a TensorFlow.js model directory
 * (`model.json` + `weights.bin`, written through an IOHandler so no tfjs-node is needed; its weight names are
 * tfjs's own `layer/weight` names, so `tf.loadLayersModel` reads it).
 *
 * @example
 * ```ts
 * saveWeightsFile(model, 'run/final.safetensors');
 * await saveWeightsFile(model, 'run/tfjs-model');        // a directory: model.json + weights.bin
 * loadWeightsFile(model2, 'run/final.safetensors');       // names and shapes must match
 * ```
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { collectParams } from 'layerwise-lr';
import { decodeSafetensors, encodeSafetensors, type NamedArray } from '../safetensors.js';

/** One weight of a model: its name, its tfjs variable and its tfjs (original) name. */
export interface ModelWeight {
  name: string;
  /** The tfjs weight name as `model.save` writes it (`fc1/kernel`). */
  tfjsName: string;
  variable: tf.Variable;
  trainable: boolean;
}

interface LayerLike {
  name: string;
  layers?: LayerLike[];
  weights: Array<{ name: string; originalName?: string; dtype: string; trainable: boolean; read(): tf.Tensor }>;
}

/**
 * Every float weight of `model` in model order, named: trainable ones exactly as `collectParams` names them,
 * the others `${layer}.${weight}` (nested models prefixed with their name). Shared variables appear once.
 *
 * @example
 * ```ts
 * modelWeights(model).map((w) => w.name); // ['conv1.kernel', 'bn1.gamma', 'bn1.beta', 'bn1.moving_mean', ...]
 * ```
 */
export function modelWeights(model: tf.LayersModel): ModelWeight[] {
  const paramName = new Map<number, string>();
  for (const p of collectParams(model)) paramName.set(p.variable.id, p.name);
  const out: ModelWeight[] = [];
  const seen = new Set<number>();
  const visit = (layer: LayerLike, prefix: string): void => {
    if (layer.layers && layer.layers.length > 0) {
      for (const child of layer.layers) visit(child, `${prefix}${layer.name}.`);
      return;
    }
    for (const w of layer.weights) {
      if (w.dtype !== 'float32') continue;
      const variable = w.read() as tf.Variable;
      if (seen.has(variable.id)) continue;
      seen.add(variable.id);
      const tfjsName = w.originalName ?? w.name;
      const short = tfjsName.startsWith(`${layer.name}/`) ? tfjsName.slice(layer.name.length + 1).replace(/\//g, '.') : tfjsName.split('/').pop()!;
      const name = paramName.get(variable.id) ?? (short === layer.name ? `${prefix}${layer.name}` : `${prefix}${layer.name}.${short}`);
      out.push({ name, tfjsName, variable, trainable: paramName.has(variable.id) });
    }
  };
  for (const l of model.layers) visit(l as unknown as LayerLike, '');
  return out;
}

/**
 * A copy of every weight as `{ shape, data }` by name (reads the tensors back).
 *
 * @example
 * ```ts
 * writeFileSync('w.safetensors', encodeSafetensors(readWeights(model)));
 * ```
 */
export function readWeights(model: tf.LayersModel): Record<string, NamedArray> {
  const out: Record<string, NamedArray> = {};
  for (const w of modelWeights(model)) out[w.name] = { shape: [...w.variable.shape], data: Float32Array.from(w.variable.dataSync() as Float32Array) };
  return out;
}

/**
 * Assigns `tensors` (by name) to the model's weights. Names and shapes must match exactly: otherwise throws
 * ONE line naming `what` and the first differences (missing, unexpected, shape), changing nothing.
 *
 * @example
 * ```ts
 * setWeights(model, decodeSafetensors(bytes).tensors, '--init-weights w.safetensors');
 * ```
 */
export function setWeights(model: tf.LayersModel, tensors: Readonly<Record<string, NamedArray>>, what: string): void {
  const weights = modelWeights(model);
  const problems: string[] = [];
  const known = new Set(weights.map((w) => w.name));
  for (const w of weights) {
    const t = tensors[w.name];
    if (!t) problems.push(`missing ${w.name}`);
    else if (t.shape.length !== w.variable.shape.length || t.shape.some((d, i) => d !== w.variable.shape[i])) {
      problems.push(`${w.name} has shape [${t.shape}] in the file, [${w.variable.shape}] in the model`);
    }
  }
  for (const name of Object.keys(tensors)) if (!known.has(name)) problems.push(`unexpected ${name}`);
  if (problems.length) {
    const shown = problems.slice(0, 5).join('; ');
    throw new Error(`${what}: does not fit the model (${problems.length} difference(s): ${shown}${problems.length > 5 ? '; ...' : ''})`);
  }
  for (const w of weights) {
    const t = tensors[w.name]!;
    tf.tidy(() => w.variable.assign(tf.tensor(t.data, t.shape, 'float32')));
  }
}

/** True when `file` names a TF.js model directory (or its model.json) rather than a safetensors file. */
function isTfjsPath(file: string): boolean {
  if (file.endsWith('.safetensors')) return false;
  if (path.basename(file) === 'model.json') return true;
  return !existsSync(file) || statSync(file).isDirectory();
}

/**
 * Writes the model's weights: `FILE.safetensors` as safetensors (names as {@link modelWeights}, metadata
 * `layout: tfjs`), anything else as a TF.js model directory (`model.json` + `weights.bin`; a path ending in
 * `model.json` names the file itself).
 *
 * @example
 * ```ts
 * await saveWeightsFile(model, 'final.safetensors');
 * ```
 */
export async function saveWeightsFile(model: tf.LayersModel, file: string, metadata: Record<string, string> = {}): Promise<void> {
  if (!isTfjsPath(file)) {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    writeFileSync(file, encodeSafetensors(readWeights(model), { layout: 'tfjs', ...metadata }));
    return;
  }
  const dir = path.basename(file) === 'model.json' ? path.dirname(file) : file;
  mkdirSync(dir, { recursive: true });
  await model.save(tf.io.withSaveHandler(async (a) => {
    const data = a.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(a.weightData);
    writeFileSync(path.join(dir, 'weights.bin'), new Uint8Array(data));
    const json = {
      format: a.format, generatedBy: a.generatedBy, convertedBy: a.convertedBy ?? null, modelTopology: a.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs ?? [] }],
      userDefinedMetadata: Object.keys(metadata).length ? metadata : undefined,
    };
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
  }));
}

/**
 * Reads a weights file as {@link saveWeightsFile} writes it (or a TF.js `model.json` from elsewhere whose
 * weights carry this model's tfjs names or dotted names) and assigns it to `model` (see {@link setWeights}).
 * Errors are one line naming `what` (default: the file).
 *
 * @example
 * ```ts
 * loadWeightsFile(model, 'pretrained.safetensors', '--init-weights pretrained.safetensors');
 * ```
 */
export function loadWeightsFile(model: tf.LayersModel, file: string, what = file): void {
  if (!existsSync(file)) throw new Error(`${what}: no such file or directory`);
  if (!isTfjsPath(file)) {
    let decoded;
    try {
      decoded = decodeSafetensors(readFileSync(file), what);
    } catch (e) {
      throw new Error((e as Error).message.startsWith(what) ? (e as Error).message : `${what}: ${(e as Error).message}`);
    }
    setWeights(model, decoded.tensors, what);
    return;
  }
  const jsonFile = path.basename(file) === 'model.json' ? file : path.join(file, 'model.json');
  if (!existsSync(jsonFile)) throw new Error(`${what}: no model.json (expected a .safetensors file or a TF.js model directory)`);
  let manifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  try {
    manifest = JSON.parse(readFileSync(jsonFile, 'utf8')).weightsManifest;
    if (!Array.isArray(manifest)) throw new Error('no weightsManifest');
  } catch (e) {
    throw new Error(`${what}: ${jsonFile} is not a TF.js model.json (${(e as Error).message})`);
  }
  const byTfjs = new Map(modelWeights(model).map((w) => [w.tfjsName, w.name]));
  const tensors: Record<string, NamedArray> = {};
  for (const group of manifest) {
    const buffers = group.paths.map((p) => {
      const f = path.join(path.dirname(jsonFile), p);
      if (!existsSync(f)) throw new Error(`${what}: ${f} (named in model.json) is missing`);
      const b = readFileSync(f);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
    });
    const specs = group.weights;
    const bad = specs.find((s) => s.dtype !== 'float32' || s.quantization);
    if (bad) throw new Error(`${what}: weight ${bad.name} is ${bad.quantization ? 'quantized' : bad.dtype}; only float32 is supported`);
    const named = tf.io.decodeWeights(buffers, specs);
    for (const [name, t] of Object.entries(named)) {
      tensors[byTfjs.get(name) ?? name] = { shape: [...t.shape], data: t.dataSync() as Float32Array };
      t.dispose();
    }
  }
  setWeights(model, tensors, what);
}
