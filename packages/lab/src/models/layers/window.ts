/**
 * Swin Transformer window operations (Liu et al. 2021; timm `swin_transformer.py`), channels-last:
 *
 * - {@link WindowPartition}: [B, H, W, C] -> (cyclic shift by -s) -> [B * nW, ws*ws, C], windows in
 *   row-major order of (window row, window column), tokens row-major inside a window;
 * - {@link WindowReverse}: the inverse, ending with the shift back by +s;
 * - {@link WindowAttention}: multi-head attention inside each window with a learned relative position bias
 *   (`relative_position_bias_table` [(2ws-1)^2, heads], indexed by {@link relativePositionIndex}, a buffer
 *   and not a parameter) and, for shifted windows, the mask of {@link shiftedWindowMask} (-100 between
 *   tokens that come from different regions of the unshifted image, as timm).
 */
import * as tf from '@tensorflow/tfjs';
import { MultiHeadAttention, type AttentionArgs } from './attention.js';
import { checkInt, type Initializer, type LayerArgs } from './common.js';

/**
 * timm's `relative_position_index`: for tokens i, j of a ws x ws window (row-major), the row of the bias
 * table holding their bias: (dy + ws - 1) * (2ws - 1) + (dx + ws - 1), with (dy, dx) = pos(i) - pos(j).
 */
export function relativePositionIndex(ws: number): Int32Array {
  const n = ws * ws;
  const out = new Int32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const dy = Math.floor(i / ws) - Math.floor(j / ws) + ws - 1;
      const dx = (i % ws) - (j % ws) + ws - 1;
      out[i * n + j] = dy * (2 * ws - 1) + dx;
    }
  }
  return out;
}

/**
 * Region id of every pixel of the cyclically shifted image, as timm's `img_mask`: rows (and columns) are
 * split into [0, H-ws), [H-ws, H-s), [H-s, H) and the regions numbered row-major. Returns [H * W].
 */
export function shiftedRegions(h: number, w: number, ws: number, shift: number): Int32Array {
  const band = (x: number, n: number): number => (x < n - ws ? 0 : x < n - shift ? 1 : 2);
  const out = new Int32Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = band(y, h) * 3 + band(x, w);
  return out;
}

/**
 * The shifted-window attention mask [nW, N, N] (N = ws*ws), windows as {@link WindowPartition} orders them:
 * 0 where tokens i and j of a window come from the same region of the shifted image, -100 elsewhere.
 */
export function shiftedWindowMask(h: number, w: number, ws: number, shift: number): Float32Array {
  const regions = shiftedRegions(h, w, ws, shift);
  const nwh = h / ws;
  const nww = w / ws;
  const n = ws * ws;
  const out = new Float32Array(nwh * nww * n * n);
  for (let wy = 0; wy < nwh; wy++) {
    for (let wx = 0; wx < nww; wx++) {
      const win = wy * nww + wx;
      const ids = new Int32Array(n);
      for (let t = 0; t < n; t++) ids[t] = regions[(wy * ws + Math.floor(t / ws)) * w + wx * ws + (t % ws)]!;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[(win * n + i) * n + j] = ids[i] === ids[j] ? 0 : -100;
    }
  }
  return out;
}

/** Cyclic shift along `axis`, as `torch.roll(x, shift, axis)`: out[i] = x[(i - shift) mod n]. */
export function roll(x: tf.Tensor, shift: number, axis: number): tf.Tensor {
  const n = x.shape[axis]!;
  const k = ((shift % n) + n) % n;
  if (k === 0) return x;
  const [a, b] = tf.split(x, [n - k, k], axis);
  return tf.concat([b!, a!], axis);
}

function oneShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
  return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
}

export interface WindowArgs extends LayerArgs {
  windowSize: number;
  /** Cyclic shift (0 for regular windows). */
  shiftSize: number;
}

function checkWindow(ws: number, shift: number): void {
  checkInt(ws, 'windowSize');
  checkInt(shift, 'shiftSize', 0);
  if (shift >= ws) throw new Error(`shiftSize ${shift} must be smaller than windowSize ${ws}`);
}

/** [B, H, W, C] -> roll(-shift) -> [B * nW, ws*ws, C]. */
export class WindowPartition extends tf.layers.Layer {
  static className = 'LwlrWindowPartition';
  readonly windowSize: number;
  readonly shiftSize: number;

  constructor(args: WindowArgs) {
    super(args);
    checkWindow(args.windowSize, args.shiftSize);
    this.windowSize = args.windowSize;
    this.shiftSize = args.shiftSize;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const s = oneShape(inputShape);
    const ws = this.windowSize;
    if (s.length !== 4 || s[1] == null || s[2] == null || s[1] % ws !== 0 || s[2] % ws !== 0) {
      throw new Error(`WindowPartition '${this.name}': input [${s.join(',')}] must be [B, H, W, C] with H and W multiples of ${ws}`);
    }
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      let x = Array.isArray(inputs) ? inputs[0]! : inputs;
      if (this.shiftSize > 0) x = roll(roll(x, -this.shiftSize, 1), -this.shiftSize, 2);
      const [b, h, w, c] = x.shape as [number, number, number, number];
      const ws = this.windowSize;
      const t = tf.transpose(tf.reshape(x, [b, h / ws, ws, w / ws, ws, c]), [0, 1, 3, 2, 4, 5]);
      return tf.reshape(t, [b * (h / ws) * (w / ws), ws * ws, c]);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = oneShape(inputShape);
    return [null, this.windowSize * this.windowSize, s[3]!];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), windowSize: this.windowSize, shiftSize: this.shiftSize };
  }
}
tf.serialization.registerClass(WindowPartition);

export interface WindowReverseArgs extends WindowArgs {
  /** [H, W] of the image the windows came from. */
  resolution: [number, number];
}

/** [B * nW, ws*ws, C] -> [B, H, W, C] -> roll(+shift). */
export class WindowReverse extends tf.layers.Layer {
  static className = 'LwlrWindowReverse';
  readonly windowSize: number;
  readonly shiftSize: number;
  readonly resolution: [number, number];

  constructor(args: WindowReverseArgs) {
    super(args);
    checkWindow(args.windowSize, args.shiftSize);
    this.windowSize = args.windowSize;
    this.shiftSize = args.shiftSize;
    this.resolution = [args.resolution[0], args.resolution[1]];
    for (const d of this.resolution) {
      if (!Number.isInteger(d) || d % this.windowSize !== 0) throw new Error(`WindowReverse: resolution ${this.resolution} must be multiples of ${this.windowSize}`);
    }
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const [h, w] = this.resolution;
      const ws = this.windowSize;
      const c = x.shape[2]!;
      const t = tf.transpose(tf.reshape(x, [-1, h / ws, w / ws, ws, ws, c]), [0, 1, 3, 2, 4, 5]);
      let y = tf.reshape(t, [-1, h, w, c]);
      if (this.shiftSize > 0) y = roll(roll(y, this.shiftSize, 1), this.shiftSize, 2);
      return y;
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = oneShape(inputShape);
    return [null, this.resolution[0], this.resolution[1], s[2]!];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), windowSize: this.windowSize, shiftSize: this.shiftSize, resolution: this.resolution };
  }
}
tf.serialization.registerClass(WindowReverse);

export interface WindowAttentionArgs extends AttentionArgs {
  windowSize: number;
  shiftSize: number;
  /** [H, W] of the (unshifted) image the windows tile; needed for the shifted-window mask. */
  resolution: [number, number];
  /** Init of the bias table (default timm's trunc_normal(std .02)). */
  tableInitializer?: Initializer;
}

/**
 * Window attention on `[q, k, v]` (each [B * nW, ws*ws, C], from {@link WindowPartition} and the q/k/v
 * projections), adding the relative position bias and, when shifted, the region mask. Weight
 * `relative_position_bias_table`; with the layer named `layers.0.blocks.1.attn`, `collectParams` reports
 * `layers.0.blocks.1.attn.relative_position_bias_table`, kind `embedding` by its name pattern.
 */
export class WindowAttention extends MultiHeadAttention {
  static override className = 'LwlrWindowAttention';
  readonly windowSize: number;
  readonly shiftSize: number;
  readonly resolution: [number, number];
  private table: tf.LayerVariable | null = null;
  private readonly tableInit: Initializer;
  private readonly index: Int32Array;
  private readonly mask: Float32Array | null;

  constructor(args: WindowAttentionArgs) {
    super(args);
    checkWindow(args.windowSize, args.shiftSize);
    this.windowSize = args.windowSize;
    this.shiftSize = args.shiftSize;
    this.resolution = [args.resolution[0], args.resolution[1]];
    const [h, w] = this.resolution;
    if (h % this.windowSize !== 0 || w % this.windowSize !== 0) {
      throw new Error(`WindowAttention '${this.name}': resolution ${h}x${w} must be multiples of windowSize ${this.windowSize}`);
    }
    this.tableInit = args.tableInitializer ?? tf.initializers.randomNormal({ mean: 0, stddev: 0.02 });
    this.index = relativePositionIndex(this.windowSize);
    this.mask = this.shiftSize > 0 ? shiftedWindowMask(h, w, this.windowSize, this.shiftSize) : null;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    super.build(inputShape);
    const n = (inputShape as tf.Shape[])[0]![1];
    if (n !== this.windowSize * this.windowSize) {
      throw new Error(`WindowAttention '${this.name}': ${n} tokens per window, expected ${this.windowSize * this.windowSize}`);
    }
    const rows = (2 * this.windowSize - 1) ** 2;
    this.table = this.addWeight('relative_position_bias_table', [rows, this.numHeads], 'float32', this.tableInit);
    this.built = true;
  }

  protected override logitTerms(): { bias: tf.Tensor; mask?: tf.Tensor } {
    const n = this.windowSize * this.windowSize;
    const idx = tf.tensor1d(this.index, 'int32');
    const bias = tf.transpose(tf.reshape(tf.gather(this.table!.read(), idx), [n, n, this.numHeads]), [2, 0, 1]);
    if (!this.mask) return { bias };
    const [h, w] = this.resolution;
    const nw = (h / this.windowSize) * (w / this.windowSize);
    return { bias, mask: tf.tensor(this.mask, [nw, n, n], 'float32') };
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), windowSize: this.windowSize, shiftSize: this.shiftSize, resolution: this.resolution };
  }
}
tf.serialization.registerClass(WindowAttention);
