/**
 * How a model family names its weights in PyTorch, beyond the generic rules of `torch.ts` (`.kernel` ->
 * `.weight`, norm `.gamma`/`.beta` -> `.weight`/`.bias`, moving statistics -> running ones, dense and conv
 * layouts transposed). A family declares this when it registers (`models/model-registry.ts`), so the interop
 * code holds no per-model knowledge.
 *
 * @example
 * ```ts
 * const swinNaming: TorchNaming = {
 *   fusedQkv: true,
 *   renamePrefix: (p) => p.replace(/^head(?=\.|$)/, 'head.fc'),
 *   matches: (names) => names.some((n) => /^layers\.\d+\.blocks\.\d+\.attn\./.test(n)),
 * };
 * ```
 */
export interface TorchNaming {
  /**
   * The family's own name table, replacing the generic rules below (GPT-2's Hugging Face names); null: the weight
   * has no torch name.
   */
  name?(ours: string, rank: number): TorchName | null;
  /** State_dict names torch has and we do not (ignored when reading), given the mapping's torch names. */
  extraNames?(torchNames: readonly string[]): string[];
  /** A torch state_dict's names as the mapping expects them (GPT2Model's without `transformer.`). */
  fromTorchNames?<T>(dict: Readonly<Record<string, T>>): Record<string, T>;
  /** `attn.{q,k,v}.kernel|bias` are one fused `attn.qkv.weight|bias` in torch, q, k, v stacked (timm ViT, Swin). */
  fusedQkv?: boolean;
  /** The torch prefix of one of our prefixes after the generic rules (Swin: `layers.S.downsample` -> `layers.S+1`, `head` -> `head.fc`). */
  renamePrefix?(prefix: string): string;
  /** True where a `gamma` leaf keeps its name (ConvNeXt's layer scale `stages.S.blocks.B.gamma`); else `gamma` -> `weight`. */
  keepsGamma?(prefix: string): boolean;
  /** The first dense layer reads a flattened NHWC image: its rows go to torch's c, h, w order (the MLP). */
  flattensInput?: boolean;
  /** Recognizes the family from our parameter names alone (eta tables carry no model name). */
  matches(names: readonly string[]): boolean;
}

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

/** Where one of our weights goes in a torch state_dict (what a family's own {@link TorchNaming.name} returns). */
export interface TorchName {
  torch: string;
  transform: TorchTransform;
  /** q, k or v (0, 1, 2) of a fused tensor, else null. */
  fusedIndex: number | null;
  /** The axis of the torch tensor the fused parts are concatenated on (default 0). */
  axis?: 0 | 1;
}
