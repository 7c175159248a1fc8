/**
 * Our weights <-> the PyTorch state_dict of the same architecture (torchvision ResNet, timm ViT / ConvNeXt /
 * Swin, Page's DavidNet, a plain MLP): a pure mapping of names, shapes and array layouts; no tfjs, no files.
 *
 * Names (ours -> torch):
 * - `.kernel` / `.depthwise_kernel` -> `.weight`; `.bias` stays; norm `.gamma` / `.beta` -> `.weight` / `.bias`;
 *   `.moving_mean` / `.moving_variance` -> `.running_mean` / `.running_var`; `cls_token`, `pos_embed`,
 *   `relative_position_bias_table` and ConvNeXt's layer scale `stages.{s}.blocks.{b}.gamma` keep their names.
 * - ViT and Swin: `attn.{q,k,v}.kernel|bias` -> one `attn.qkv.weight|bias`, q, k, v concatenated along the
 *   output dim (rows of the torch tensor), as timm's fused projection.
 * - Swin (timm >= 0.9): `layers.{s}.downsample.*` -> `layers.{s+1}.downsample.*`, `head.*` -> `head.fc.*`.
 * - GPT (Hugging Face GPT-2 names; see gpt2.ts): `attn.{q,k,v}` fused into `attn.c_attn` along the columns
 *   (axis 1) of its Conv1D weight [in, 3 out], whose layout is ours (copied, not transposed).
 *
 * Layouts (tfjs -> torch): dense [in, out] -> [out, in]; conv [kh, kw, in, out] -> [out, in, kh, kw];
 * depthwise [kh, kw, C, m] -> [C*m, 1, kh, kw]; the MLP's first dense layer (after tfjs's Flatten of an NHWC
 * image, rows in h, w, c order) -> [out, c*h*w] (the order of `torch.flatten` on NCHW); the rest as is.
 *
 * `num_batches_tracked`: torch's BatchNorm has this int64 counter, we have no such thing. We do not write it
 * (torch's `BatchNorm._load_from_state_dict` sets a missing counter to 0, so `load_state_dict(strict=True)`
 * accepts the file; the counter only matters with `momentum=None`), and we ignore it when reading
 * ({@link torchExtraBuffers} lists the names torch has).
 *
 * @example
 * ```ts
 * const m = torchMapping([{ name: 'fc.kernel', shape: [512, 10] }], { family: 'resnet' });
 * m.entries[0]; // { torch: 'fc.weight', shape: [10, 512], parts: [{ name: 'fc.kernel', transform: { kind: 'dense' }, ... }] }
 * const torchWeights = weightsToTorch(readWeights(model), m);
 * ```
 */
import type { NamedArray } from '../safetensors.js';
import { gpt2ExtraNames, gpt2TorchName, withTransformerPrefix } from './gpt2.js';

/** The architectures whose torch naming we know. */
export const TORCH_FAMILIES = ['mlp', 'resnet', 'davidnet', 'vit', 'convnext', 'swin', 'gpt'] as const;
export type TorchFamily = (typeof TORCH_FAMILIES)[number];

/** How one of our arrays becomes (part of) a torch tensor. */
export type TorchTransform =
  | { kind: 'copy' }
  /** [in, out] -> [out, in] */
  | { kind: 'dense' }
  /** [kh, kw, in, out] -> [out, in, kh, kw] */
  | { kind: 'conv' }
  /** [kh, kw, C, m] -> [C*m, 1, kh, kw] (torch `groups=C`: output channel c*m + j) */
  | { kind: 'depthwise' }
  /** A dense layer after Flatten of [h, w, c]: [h*w*c, out] -> [out, c*h*w]. */
  | { kind: 'flatten-dense'; input: [number, number, number] };

/** One of our weights inside a torch tensor: rows [begin, end) of the torch tensor's first axis (of axis 1 for an entry with `axis: 1`). */
export interface TorchPart {
  name: string;
  /** Our (tfjs) shape. */
  shape: number[];
  transform: TorchTransform;
  rows: [number, number];
}

/** One torch tensor: its state_dict name and shape, and our weights it is made of (3 for a fused qkv). */
export interface TorchEntry {
  torch: string;
  shape: number[];
  parts: TorchPart[];
  /** The axis a fused tensor's parts are concatenated on, when not 0 (GPT-2's `c_attn` weight: 1). */
  axis?: 1;
}

export interface TorchMapping {
  family: TorchFamily;
  /** In the order of our weights (a fused tensor where its first part was). */
  entries: TorchEntry[];
}

/** A weight as the mapping needs it: its name and (tfjs) shape. */
export interface WeightSpec {
  name: string;
  shape: readonly number[];
}

export interface TorchMappingOptions {
  family: TorchFamily;
  /** The model's input [h, w, c] (MLP: reorders the first layer's rows from h, w, c to c, h, w). */
  inputShape?: readonly number[];
}

/**
 * The torch family of a registry model name (`resnet18-cifar` -> `resnet`, `vit-tiny` -> `vit`).
 *
 * @example
 * ```ts
 * torchFamilyOf('swin-cpu'); // 'swin'
 * ```
 */
export function torchFamilyOf(model: string): TorchFamily {
  if (model === 'mlp' || model === 'davidnet') return model;
  const head = model.split('-')[0]!.replace(/\d+$/, '');
  if ((TORCH_FAMILIES as readonly string[]).includes(head)) return head as TorchFamily;
  throw new Error(`no torch naming for model '${model}' (known: mlp, resnet*, davidnet, vit-*, convnext-*, swin-*, gpt*)`);
}

/**
 * The family from our parameter names alone (for LR tables, which carry no model name); null if unclear.
 *
 * @example
 * ```ts
 * inferTorchFamily(['fc1.kernel', 'fc1.bias', 'fc2.kernel']); // 'mlp'
 * ```
 */
export function inferTorchFamily(names: readonly string[]): TorchFamily | null {
  const has = (re: RegExp) => names.some((n) => re.test(n));
  if (has(/^tok_embed\.kernel$/)) return 'gpt';
  if (has(/^layers\.\d+\.blocks\.\d+\.attn\./)) return 'swin';
  if (has(/^stages\.\d+\.blocks\.\d+\.conv_dw\./)) return 'convnext';
  if (has(/^blocks\.\d+\.attn\.[qkv]\./)) return 'vit';
  if (has(/^prep\.conv\./)) return 'davidnet';
  if (has(/^layer1\.0\.conv1\./)) return 'resnet';
  if (names.length > 0 && names.every((n) => /^fc\d+\.(kernel|bias)$/.test(n))) return 'mlp';
  return null;
}

const LEAF_KEPT = new Set(['cls_token', 'pos_embed', 'relative_position_bias_table']);

/** Our name -> torch name of the tensor and, for a fused qkv, which third (null if not fused); null: unknown. */
function torchNameOf(name: string, rank: number, family: TorchFamily): { torch: string; fusedIndex: number | null; transform: TorchTransform; axis?: 0 | 1 } | null {
  if (family === 'gpt') return gpt2TorchName(name);
  const dot = name.lastIndexOf('.');
  let prefix = dot < 0 ? '' : name.slice(0, dot);
  const leaf = name.slice(dot + 1);
  let out: string;
  let transform: TorchTransform = { kind: 'copy' };
  if (leaf === 'kernel' && (rank === 2 || rank === 4)) {
    out = 'weight';
    transform = { kind: rank === 2 ? 'dense' : 'conv' };
  } else if (leaf === 'depthwise_kernel' && rank === 4) {
    out = 'weight';
    transform = { kind: 'depthwise' };
  } else if (leaf === 'bias') out = 'bias';
  else if (leaf === 'gamma') out = family === 'convnext' && /^stages\.\d+\.blocks\.\d+$/.test(prefix) ? 'gamma' : 'weight';
  else if (leaf === 'beta') out = 'bias';
  else if (leaf === 'moving_mean') out = 'running_mean';
  else if (leaf === 'moving_variance') out = 'running_var';
  else if (LEAF_KEPT.has(leaf)) out = leaf;
  else return null;
  let fusedIndex: number | null = null;
  if (family === 'vit' || family === 'swin') {
    const m = /^(.*\.attn)\.([qkv])$/.exec(prefix);
    if (m) {
      prefix = `${m[1]}.qkv`;
      fusedIndex = 'qkv'.indexOf(m[2]!);
    }
  }
  if (family === 'swin') {
    prefix = prefix.replace(/^layers\.(\d+)\.downsample(?=\.|$)/, (_, s: string) => `layers.${Number(s) + 1}.downsample`);
    prefix = prefix.replace(/^head(?=\.|$)/, 'head.fc');
  }
  return { torch: prefix ? `${prefix}.${out}` : out, fusedIndex, transform };
}

/** Our shape -> the torch shape under `t`. */
export function torchShape(shape: readonly number[], t: TorchTransform): number[] {
  switch (t.kind) {
    case 'copy': return [...shape];
    case 'dense': return [shape[1]!, shape[0]!];
    case 'conv': return [shape[3]!, shape[2]!, shape[0]!, shape[1]!];
    case 'depthwise': return [shape[2]! * shape[3]!, 1, shape[0]!, shape[1]!];
    case 'flatten-dense': return [shape[1]!, shape[0]!];
  }
}

function listFew(items: readonly string[], n = 5): string {
  return `${items.slice(0, n).join(', ')}${items.length > n ? `, ... (${items.length} in all)` : ''}`;
}

/**
 * The torch state_dict entries of a model's weights (see the module doc for the rules). Throws one line
 * listing the first few names it cannot map, or a fused qkv with a missing or odd part.
 *
 * @example
 * ```ts
 * const specs = modelWeights(model).map((w) => ({ name: w.name, shape: w.variable.shape }));
 * torchMapping(specs, { family: 'vit' }).entries.map((e) => e.torch); // ['patch_embed.proj.weight', ..., 'blocks.0.attn.qkv.weight', ...]
 * ```
 */
export function torchMapping(specs: readonly WeightSpec[], o: TorchMappingOptions): TorchMapping {
  const unknown: string[] = [];
  const entries: TorchEntry[] = [];
  const byTorch = new Map<string, { entry: TorchEntry; slots: Array<TorchPart | undefined> }>();
  const input = o.inputShape?.length === 3 ? (o.inputShape as [number, number, number]) : null;
  let firstDense = true;
  for (const s of specs) {
    const r = torchNameOf(s.name, s.shape.length, o.family);
    if (!r) {
      unknown.push(s.name);
      continue;
    }
    let transform = r.transform;
    if (o.family === 'mlp' && transform.kind === 'dense' && firstDense) {
      firstDense = false;
      if (input && input[0] * input[1] * input[2] === s.shape[0]) transform = { kind: 'flatten-dense', input: [...input] };
    }
    const part: TorchPart = { name: s.name, shape: [...s.shape], transform, rows: [0, 0] };
    const seen = byTorch.get(r.torch);
    if (seen && (r.fusedIndex === null || seen.slots.length !== 3)) {
      throw new Error(`torch mapping (${o.family}): ${s.name} and ${seen.slots.find(Boolean)!.name} both map to ${r.torch}`);
    }
    if (seen) {
      if (seen.slots[r.fusedIndex!]) throw new Error(`torch mapping (${o.family}): two weights for part ${'qkv'[r.fusedIndex!]} of ${r.torch}`);
      seen.slots[r.fusedIndex!] = part;
      continue;
    }
    const entry: TorchEntry = { torch: r.torch, shape: [], parts: [], ...(r.axis === 1 ? { axis: 1 as const } : {}) };
    const slots: Array<TorchPart | undefined> = r.fusedIndex === null ? [part] : [undefined, undefined, undefined];
    if (r.fusedIndex !== null) slots[r.fusedIndex] = part;
    byTorch.set(r.torch, { entry, slots });
    entries.push(entry);
  }
  if (unknown.length) throw new Error(`torch mapping (${o.family}): no torch name for ${unknown.length} weight(s): ${listFew(unknown)}`);
  for (const { entry, slots } of byTorch.values()) {
    const missing = slots.map((p, i) => (p ? '' : 'qkv'[i]!)).join('');
    if (missing) throw new Error(`torch mapping (${o.family}): ${entry.torch} is fused from q, k, v but the model has no ${missing.split('').join(', ')} part`);
    const axis = entry.axis ?? 0;
    let row = 0;
    for (const p of slots as TorchPart[]) {
      const ts = torchShape(p.shape, p.transform);
      if (entry.shape.length && (ts.length !== entry.shape.length || ts.some((d, i) => i !== axis && d !== entry.shape[i]))) {
        throw new Error(`torch mapping (${o.family}): the parts of ${entry.torch} have different shapes ([${entry.parts[0]!.shape}] vs [${p.shape}])`);
      }
      p.rows = [row, row + ts[axis]!];
      row += ts[axis]!;
      entry.shape = ts.map((d, i) => (i === axis ? row : d));
      entry.parts.push(p);
    }
  }
  return { family: o.family, entries };
}

/**
 * The state_dict entries torch has and we do not: BatchNorm's `num_batches_tracked` (int64 scalar), one per
 * BatchNorm (any entry ending in `running_mean`); for a GPT, GPT-2's causal-mask buffers and a tied `lm_head.weight`.
 *
 * @example
 * ```ts
 * torchExtraBuffers(torchMapping(specs, { family: 'resnet' })); // ['bn1.num_batches_tracked', ...]
 * ```
 */
export function torchExtraBuffers(m: TorchMapping): string[] {
  if (m.family === 'gpt') return gpt2ExtraNames(m.entries.map((e) => e.torch), !m.entries.some((e) => e.torch === 'lm_head.weight'));
  return m.entries.filter((e) => e.torch.endsWith('.running_mean')).map((e) => `${e.torch.slice(0, -'running_mean'.length)}num_batches_tracked`);
}

/**
 * A copy of `data` (row-major, `shape`) with its axes permuted: axis i of the result is axis `perm[i]` of the input.
 *
 * @example
 * ```ts
 * permute(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3], [1, 0]); // { shape: [3, 2], data: [1, 4, 2, 5, 3, 6] }
 * ```
 */
export function permute(data: Float32Array, shape: readonly number[], perm: readonly number[]): NamedArray {
  const rank = shape.length;
  const inStride = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; s *= shape[i]!, i--) inStride[i] = s;
  const outShape = perm.map((p) => shape[p]!);
  const stride = perm.map((p) => inStride[p]!); // input stride of each output axis
  const out = new Float32Array(data.length);
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = data[src]!;
    for (let a = rank - 1; a >= 0; a--) { // odometer over the output index
      idx[a]!++;
      src += stride[a]!;
      if (idx[a]! < outShape[a]!) break;
      src -= stride[a]! * outShape[a]!;
      idx[a] = 0;
    }
  }
  return { shape: outShape, data: out };
}

function inversePerm(p: readonly number[]): number[] {
  const q = new Array<number>(p.length);
  p.forEach((v, i) => { q[v] = i; });
  return q;
}

/** [kh, kw, in, out] -> [out, in, kh, kw] */
const CONV_PERM = [3, 2, 0, 1];

/**
 * One of our arrays in torch layout under `t`.
 *
 * @example
 * ```ts
 * toTorchLayout({ shape: [2, 3], data }, { kind: 'dense' }).shape; // [3, 2]
 * ```
 */
export function toTorchLayout(a: NamedArray, t: TorchTransform): NamedArray {
  switch (t.kind) {
    case 'copy': return { shape: [...a.shape], data: Float32Array.from(a.data) };
    case 'dense': return permute(a.data, a.shape, [1, 0]);
    case 'conv': return permute(a.data, a.shape, CONV_PERM);
    case 'depthwise': {
      const [kh, kw, c, m] = a.shape as [number, number, number, number];
      return { shape: [c * m, 1, kh, kw], data: permute(a.data, a.shape, [2, 3, 0, 1]).data };
    }
    case 'flatten-dense': {
      const [h, w, c] = t.input;
      const out = a.shape[1]!;
      return { shape: [out, c * h * w], data: permute(a.data, [h, w, c, out], CONV_PERM).data };
    }
  }
}

/**
 * The inverse of {@link toTorchLayout}: a torch array back to our layout (`shape` = our shape).
 *
 * @example
 * ```ts
 * fromTorchLayout({ shape: [3, 2], data }, { kind: 'dense' }, [2, 3]).shape; // [2, 3]
 * ```
 */
export function fromTorchLayout(a: NamedArray, t: TorchTransform, shape: readonly number[]): NamedArray {
  switch (t.kind) {
    case 'copy': return { shape: [...shape], data: Float32Array.from(a.data) };
    case 'dense': return permute(a.data, a.shape, [1, 0]);
    case 'conv': return permute(a.data, a.shape, inversePerm(CONV_PERM));
    case 'depthwise': {
      const [kh, kw, c, m] = shape as [number, number, number, number];
      return { shape: [...shape], data: permute(a.data, [c, m, kh, kw], inversePerm([2, 3, 0, 1])).data };
    }
    case 'flatten-dense': {
      const [h, w, c] = t.input;
      return { shape: [...shape], data: permute(a.data, [shape[1]!, c, h, w], inversePerm(CONV_PERM)).data };
    }
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Our weights (by name, tfjs layout) -> torch tensors (by state_dict name, torch layout). Every mapped
 * tensor whose parts are all present is written; `missing` lists the torch names left out (a fused qkv with
 * only some parts present is an error). Shapes must be the mapping's; names outside it are an error.
 *
 * @example
 * ```ts
 * const { tensors } = weightsToTorch(readWeights(model), mapping);
 * writeFileSync('w.safetensors', encodeSafetensors(tensors, { format: 'pt', layout: 'torch' }));
 * ```
 */
export function weightsToTorch(ours: Readonly<Record<string, NamedArray>>, m: TorchMapping, what = 'weights'): { tensors: Record<string, NamedArray>; missing: string[] } {
  const known = new Set(m.entries.flatMap((e) => e.parts.map((p) => p.name)));
  const unexpected = Object.keys(ours).filter((n) => !known.has(n));
  if (unexpected.length) throw new Error(`${what}: ${unexpected.length} name(s) not in the ${m.family} model: ${listFew(unexpected)}`);
  const tensors: Record<string, NamedArray> = {};
  const missing: string[] = [];
  for (const e of m.entries) {
    const present = e.parts.filter((p) => ours[p.name]);
    if (present.length === 0) {
      missing.push(e.torch);
      continue;
    }
    if (present.length < e.parts.length) {
      throw new Error(`${what}: ${e.torch} is fused from ${e.parts.map((p) => p.name).join(', ')}; the file has only ${present.map((p) => p.name).join(', ')}`);
    }
    // parts fused on axis 1 are placed as rows of the transposed tensor, which is then transposed back
    const shape = e.axis === 1 ? [e.shape[1]!, e.shape[0]!] : e.shape;
    let data: Float32Array = new Float32Array(e.shape.reduce((a, b) => a * b, 1));
    const rowSize = data.length / shape[0]!;
    for (const p of e.parts) {
      const a = ours[p.name]!;
      if (!sameShape(a.shape, p.shape)) throw new Error(`${what}: ${p.name} has shape [${a.shape}], the model [${p.shape}]`);
      const t = toTorchLayout(a, p.transform);
      data.set(e.axis === 1 ? permute(t.data, t.shape, [1, 0]).data : t.data, p.rows[0] * rowSize);
    }
    if (e.axis === 1) data = permute(data, shape, [1, 0]).data;
    tensors[e.torch] = { shape: [...e.shape], data };
  }
  return { tensors, missing };
}

/**
 * Torch tensors (by state_dict name) -> our weights (tfjs layout); the inverse of {@link weightsToTorch}.
 * `num_batches_tracked` of our BatchNorms is ignored; any other name outside the mapping, or a wrong shape,
 * is a one-line error naming `what` and the first few.
 *
 * @example
 * ```ts
 * const { tensors } = weightsFromTorch(decodeSafetensors(bytes).tensors, mapping, 'resnet18.safetensors');
 * setWeights(model, tensors, 'resnet18.safetensors');
 * ```
 */
export function weightsFromTorch(theirs: Readonly<Record<string, NamedArray>>, m: TorchMapping, what = 'weights'): { tensors: Record<string, NamedArray>; missing: string[] } {
  if (m.family === 'gpt') theirs = withTransformerPrefix(theirs);
  const byTorch = new Map(m.entries.map((e) => [e.torch, e]));
  const ignored = new Set(torchExtraBuffers(m));
  const unexpected = Object.keys(theirs).filter((n) => !byTorch.has(n) && !ignored.has(n));
  if (unexpected.length) throw new Error(`${what}: ${unexpected.length} name(s) not in a ${m.family} state_dict of this model: ${listFew(unexpected)}`);
  const wrong = m.entries.filter((e) => theirs[e.torch] && !sameShape(theirs[e.torch]!.shape, e.shape));
  if (wrong.length) {
    throw new Error(`${what}: ${wrong.length} shape mismatch(es): ${listFew(wrong.map((e) => `${e.torch} is [${theirs[e.torch]!.shape}], expected [${e.shape}]`), 3)}`);
  }
  const tensors: Record<string, NamedArray> = {};
  const missing: string[] = [];
  for (const e of m.entries) {
    const t = theirs[e.torch];
    if (!t) {
      missing.push(e.torch);
      continue;
    }
    const whole = e.axis === 1 ? permute(t.data, t.shape, [1, 0]) : t;
    const rowSize = whole.data.length / whole.shape[0]!;
    for (const p of e.parts) {
      let rows: NamedArray = { shape: [p.rows[1] - p.rows[0], ...whole.shape.slice(1)], data: whole.data.subarray(p.rows[0] * rowSize, p.rows[1] * rowSize) };
      if (e.axis === 1) rows = permute(rows.data, rows.shape, [1, 0]);
      tensors[p.name] = fromTorchLayout(rows, p.transform, p.shape);
    }
  }
  return { tensors, missing };
}
