/**
 * Files through the torch mapping ({@link torchMapping}): safetensors weights from one layout to the other,
 * and an LR table renamed to torch state_dict names.
 *
 * @example
 * ```ts
 * const specs = modelWeights(model).map((w) => ({ name: w.name, shape: w.variable.shape }));
 * const m = torchMapping(specs, { family: 'resnet', inputShape: [32, 32, 3] });
 * const out = convertSafetensors(readFileSync('w.safetensors'), m, 'torch', 'w.safetensors');
 * writeFileSync('w-torch.safetensors', out.bytes);
 * ```
 */
import { LRTable, type LRTableEntry, type LRTableMeta } from 'layerwise-lr';
import { decodeSafetensors, encodeSafetensors } from '../safetensors.js';
import { torchMapping, weightsFromTorch, weightsToTorch, type TorchFamily, type TorchMapping } from './torch.js';

export type WeightsLayout = 'torch' | 'tfjs';

/**
 * Decodes safetensors, first dropping `*.num_batches_tracked` entries (torch writes them as I64, which the
 * float32 reader refuses; we have no such counter). The other entries must be F32.
 *
 * @example
 * ```ts
 * decodeTorchSafetensors(readFileSync('resnet18.safetensors'), 'resnet18.safetensors').tensors['conv1.weight'];
 * ```
 */
export function decodeTorchSafetensors(bytes: Uint8Array, what: string): ReturnType<typeof decodeSafetensors> {
  if (bytes.length < 8) return decodeSafetensors(bytes, what);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch {
    return decodeSafetensors(bytes, what); // its own one-line error
  }
  const dropped = Object.keys(header).filter((k) => k.endsWith('.num_batches_tracked'));
  if (dropped.length === 0) return decodeSafetensors(bytes, what);
  for (const k of dropped) delete header[k];
  // same data section, a header without the counters (offsets are relative to the data, so they still hold)
  const head = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + head.length + bytes.length - 8 - n);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  out.set(bytes.subarray(8 + n), 8 + head.length);
  return decodeSafetensors(out, what);
}

export interface ConvertedWeights {
  bytes: Uint8Array;
  /** Tensors written. */
  count: number;
  /** Names (in the output's naming) of the model's tensors that were not in the input. */
  missing: string[];
}

/**
 * A safetensors file in one layout -> the other: `to = 'torch'` reads our names (tfjs layout) and writes
 * torch state_dict names (torch layout, metadata `format: pt`, `layout: torch`); `to = 'tfjs'` the reverse
 * (metadata `layout: tfjs`, as `lwlr train --save-weights` writes). A file whose metadata names the other
 * layout than expected is refused. Tensors of the model absent from the input are skipped and listed.
 *
 * @example
 * ```ts
 * const { bytes, missing } = convertSafetensors(readFileSync('final.safetensors'), mapping, 'torch', 'final.safetensors');
 * ```
 */
export function convertSafetensors(input: Uint8Array, m: TorchMapping, to: WeightsLayout, what: string, metadata: Record<string, string> = {}): ConvertedWeights {
  const from: WeightsLayout = to === 'torch' ? 'tfjs' : 'torch';
  const decoded = from === 'torch' ? decodeTorchSafetensors(input, what) : decodeSafetensors(input, what);
  const layout = decoded.metadata?.layout;
  if (layout !== undefined && layout !== from) throw new Error(`${what}: is already in ${layout} layout (metadata) but --format ${to} expects a ${from} file`);
  const { tensors, missing } = to === 'torch' ? weightsToTorch(decoded.tensors, m, what) : weightsFromTorch(decoded.tensors, m, what);
  const meta = to === 'torch' ? { format: 'pt', layout: 'torch', family: m.family, ...metadata } : { layout: 'tfjs', ...metadata };
  return { bytes: encodeSafetensors(tensors, meta), count: Object.keys(tensors).length, missing };
}

/** The schema id of an LR table in torch names ({@link lrTableToTorch}). */
export const TORCH_LR_TABLE_SCHEMA = 'layerwise-lr/lr-table-torch@1';

/** One row of a torch LR table: a torch tensor, or rows [begin, end) of one (a part of a fused qkv). */
export interface TorchLRTableEntry {
  /** The torch state_dict name. */
  name: string;
  /** The whole torch tensor's shape. */
  shape: number[];
  /** Present for a part of a fused tensor: its rows of the tensor's first axis (of axis 1 with `axis: 1`). */
  rows?: [number, number];
  /** 1 when the parts are concatenated on axis 1 (GPT-2's `c_attn.weight`, [in, 3 out]); absent: axis 0. */
  axis?: 1;
  /** Elements of this row range (or of the tensor). */
  numel: number;
  kind: LRTableEntry['kind'];
  G: number | null;
  eta: number;
  excluded?: true;
  /** Our name of the parameter. */
  source: string;
}

export interface TorchLRTableJSON {
  schema: typeof TORCH_LR_TABLE_SCHEMA;
  meta: LRTableMeta & {
    layout: 'torch';
    family: TorchFamily;
    /** Torch tensors made of several of our parameters, each with the names of its parts in row order. */
    fused: Record<string, string[]>;
    note: string;
  };
  entries: TorchLRTableEntry[];
}

const FUSED_NOTE = 'A fused tensor (attn.qkv, GPT-2 attn.c_attn) has one entry per part with `rows` [begin, end) of its first axis (of axis 1 where `axis: 1`) and that part\'s eta: '
  + 'torch param groups are per tensor, so give the tensor lr = base_lr * max(eta) and scale the gradient of each row range by eta / max(eta) '
  + '(a hook; exact for SGD with momentum when weight decay is applied in the same hook). examples/torch_layerwise_lr.py does this.';

/**
 * An LR table (`lr-table.json`) with torch state_dict names and shapes. Parts of a fused qkv stay separate
 * entries (same `name`, their `rows`), since q, k and v have their own eta; `meta.fused` lists them.
 * The family comes from `family` or else from the table's names ({@link inferTorchFamily}).
 *
 * @example
 * ```ts
 * const t = lrTableToTorch(JSON.parse(readFileSync('lr-table.json', 'utf8')), 'vit');
 * t.entries.filter((e) => e.name === 'blocks.0.attn.qkv.weight').map((e) => [e.rows, e.eta]);
 * ```
 */
export function lrTableToTorch(json: unknown, family: TorchFamily): TorchLRTableJSON {
  const table = LRTable.fromJSON(json).toJSON();
  const m = torchMapping(table.entries.map((e) => ({ name: e.name, shape: e.shape })), { family });
  const byName = new Map(table.entries.map((e) => [e.name, e]));
  const entries: TorchLRTableEntry[] = [];
  const fused: Record<string, string[]> = {};
  for (const t of m.entries) {
    if (t.parts.length > 1) fused[t.torch] = t.parts.map((p) => p.name);
    for (const p of t.parts) {
      const e = byName.get(p.name)!;
      const row: TorchLRTableEntry = {
        name: t.torch, shape: [...t.shape], ...(t.parts.length > 1 ? { rows: p.rows, ...(t.axis === 1 ? { axis: 1 as const } : {}) } : {}),
        numel: e.numel, kind: e.kind, G: e.G, eta: e.eta, ...(e.excluded ? { excluded: true as const } : {}), source: e.name,
      };
      entries.push(row);
    }
  }
  return { schema: TORCH_LR_TABLE_SCHEMA, meta: { ...table.meta, layout: 'torch', family, fused, note: FUSED_NOTE }, entries };
}

