/** The [outer, r, inner] view of a reduction (shared by reduce.ts and centered.ts). */
/** [outer, r, inner] when the reduced axes form one block after collapsing, else null. */
export function reductionBlock(shape: readonly number[], axes: readonly number[]): [number, number, number] | null {
  const red = new Set(axes);
  // 0 = before the block, 1 = in the block, 2 = after the block
  let phase = 0;
  let outer = 1;
  let r = 1;
  let inner = 1;
  for (let d = 0; d < shape.length; d++) {
    const s = shape[d]!;
    if (s === 1) continue;
    if (red.has(d)) {
      if (phase === 2) return null;
      phase = 1;
      r *= s;
    } else if (phase === 0) {
      outer *= s;
    } else {
      phase = 2;
      inner *= s;
    }
  }
  return [outer, r, inner];
}
