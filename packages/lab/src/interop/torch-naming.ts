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
