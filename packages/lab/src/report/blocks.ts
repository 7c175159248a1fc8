/**
 * Network blocks from dotted parameter names, for the eta map's block boundaries:
 * the name up to its last numbered component that is a block rather than a position inside a small module —
 * numbered under a plural container (`blocks.3`, `layers.0.blocks.1`, `stages.2.blocks.0`) or with at least two
 * more components after it (`layer2.0.conv1.kernel` -> `layer2.0`, but `layer2.0.downsample.0.kernel` -> `layer2.0`).
 * Names without such a component (`conv1.kernel`, `cls_token`, `head.kernel`) belong to no block ('').
 */
export function blockOf(name: string): string {
  const parts = name.split('.');
  let end = -1;
  for (let i = 1; i < parts.length - 1; i++) {
    if (!/^\d+$/.test(parts[i])) continue;
    if (parts.length - 1 - i >= 2 || /s$/.test(parts[i - 1])) end = i;
  }
  return end < 0 ? '' : parts.slice(0, end + 1).join('.');
}

export interface BlockSpan { block: string; start: number; end: number; index: number }

/**
 * Consecutive runs of tensors of the same (non-empty) block, in network order, numbered in order.
 * @example blockSpans(['conv1.kernel', 'layer1.0.conv1.kernel', 'layer1.0.bn1.gamma', 'layer1.1.conv1.kernel'])
 * // [{ block: 'layer1.0', start: 1, end: 2, index: 0 }, { block: 'layer1.1', start: 3, end: 3, index: 1 }]
 */
export function blockSpans(names: readonly string[]): BlockSpan[] {
  const spans: BlockSpan[] = [];
  names.forEach((n, i) => {
    const b = blockOf(n);
    const last = spans[spans.length - 1];
    if (!b) return;
    if (last && last.block === b && last.end === i - 1) last.end = i;
    else spans.push({ block: b, start: i, end: i, index: spans.length });
  });
  return spans;
}
