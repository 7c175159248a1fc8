/**
 * Our GPT's parameter names <-> Hugging Face `GPT2LMHeadModel` state_dict names (models/gpt.ts).
 *
 * GPT-2 writes its linear layers as `Conv1D`, whose weight is [in, out]: our dense layout, so they copy
 * as they are. Its attention projects q, k and v with one `attn.c_attn` (weight [dim, 3 dim], bias
 * [3 dim]), q, k, v concatenated along the output axis: the columns (axis 1) of the weight, the entries of the
 * bias. The token embedding `wte.weight` [vocab, dim] is our `tok_embed.kernel` [dim, vocab] transposed.
 *
 * | ours | Hugging Face |
 * |---|---|
 * | `tok_embed.kernel` [dim, vocab] | `transformer.wte.weight` [vocab, dim] (transposed) |
 * | `pos_embed` | `transformer.wpe.weight` |
 * | `blocks.{i}.norm1.gamma/beta`, `norm2.*` | `transformer.h.{i}.ln_1.weight/bias`, `ln_2.*` |
 * | `blocks.{i}.attn.{q,k,v}.kernel/bias` | `transformer.h.{i}.attn.c_attn.weight/bias` (fused) |
 * | `blocks.{i}.attn.proj.*` | `transformer.h.{i}.attn.c_proj.*` |
 * | `blocks.{i}.mlp.fc1.*`, `mlp.fc2.*` | `transformer.h.{i}.mlp.c_fc.*`, `mlp.c_proj.*` |
 * | `norm.gamma/beta` | `transformer.ln_f.weight/bias` |
 * | `head.kernel` (untied only) | `lm_head.weight` (transposed) |
 *
 * With a tied head there is no `lm_head.weight` to write (Hugging Face's safetensors files leave the tied
 * copy out too; `from_pretrained` ties it back). When reading, `lm_head.weight` of a tied model and the
 * causal-mask buffers older versions saved (`attn.bias`, `attn.masked_bias`) are ignored, and a state_dict of
 * `GPT2Model` (names without `transformer.`) is read as well.
 */
import type { TorchTransform } from './torch.js';

/** Where one of our weights goes in a GPT-2 state_dict. */
export interface Gpt2Name {
  torch: string;
  transform: TorchTransform;
  /** q, k or v (0, 1, 2) of a fused `c_attn`, else null. */
  fusedIndex: number | null;
  /** The axis of the torch tensor the fused parts are concatenated on. */
  axis: 0 | 1;
}

const LEAF: Record<string, string> = { kernel: 'weight', bias: 'bias', gamma: 'weight', beta: 'bias' };
const MODULE: Record<string, string> = {
  norm1: 'ln_1', norm2: 'ln_2', 'attn.proj': 'attn.c_proj', 'mlp.fc1': 'mlp.c_fc', 'mlp.fc2': 'mlp.c_proj',
};

/**
 * The Hugging Face name of one of our GPT weights, or null when it has none.
 *
 * @example
 * ```ts
 * gpt2TorchName('blocks.3.attn.k.kernel'); // { torch: 'transformer.h.3.attn.c_attn.weight', fusedIndex: 1, axis: 1, transform: { kind: 'copy' } }
 * ```
 */
export function gpt2TorchName(name: string): Gpt2Name | null {
  const copy: TorchTransform = { kind: 'copy' };
  if (name === 'tok_embed.kernel') return { torch: 'transformer.wte.weight', transform: { kind: 'dense' }, fusedIndex: null, axis: 0 };
  if (name === 'pos_embed') return { torch: 'transformer.wpe.weight', transform: copy, fusedIndex: null, axis: 0 };
  if (name === 'head.kernel') return { torch: 'lm_head.weight', transform: { kind: 'dense' }, fusedIndex: null, axis: 0 };
  const dot = name.lastIndexOf('.');
  const leaf = LEAF[name.slice(dot + 1)];
  if (dot < 0 || leaf === undefined) return null;
  const module = name.slice(0, dot);
  if (module === 'norm') return { torch: `transformer.ln_f.${leaf}`, transform: copy, fusedIndex: null, axis: 0 };
  const m = /^blocks\.(\d+)\.(.+)$/.exec(module);
  if (!m) return null;
  const block = `transformer.h.${m[1]}`;
  const qkv = /^attn\.([qkv])$/.exec(m[2]!);
  if (qkv) {
    const kernel = leaf === 'weight';
    return { torch: `${block}.attn.c_attn.${leaf}`, transform: copy, fusedIndex: 'qkv'.indexOf(qkv[1]!), axis: kernel ? 1 : 0 };
  }
  const mod = MODULE[m[2]!];
  return mod === undefined ? null : { torch: `${block}.${mod}.${leaf}`, transform: copy, fusedIndex: null, axis: 0 };
}

/**
 * The state_dict names a Hugging Face GPT-2 may hold that our model has no weight for: the causal-mask
 * buffers of each block, and `lm_head.weight` when the head is tied (`tied`).
 */
export function gpt2ExtraNames(torchNames: readonly string[], tied: boolean): string[] {
  const out: string[] = [];
  for (const n of torchNames) {
    const m = /^(transformer\.h\.\d+\.attn)\.c_attn\.weight$/.exec(n);
    if (m) out.push(`${m[1]}.bias`, `${m[1]}.masked_bias`);
  }
  if (tied) out.push('lm_head.weight');
  return out;
}

/**
 * A GPT2Model state_dict (no `transformer.` prefix) renamed as GPT2LMHeadModel's; other dicts unchanged.
 *
 * @example
 * ```ts
 * Object.keys(withTransformerPrefix({ 'wte.weight': a, 'h.0.ln_1.weight': b })); // ['transformer.wte.weight', 'transformer.h.0.ln_1.weight']
 * ```
 */
export function withTransformerPrefix<T>(dict: Readonly<Record<string, T>>): Record<string, T> {
  const names = Object.keys(dict);
  if (names.some((n) => n.startsWith('transformer.')) || !names.some((n) => n === 'wte.weight')) return { ...dict };
  return Object.fromEntries(names.map((n) => [n === 'lm_head.weight' ? n : `transformer.${n}`, dict[n]!]));
}
