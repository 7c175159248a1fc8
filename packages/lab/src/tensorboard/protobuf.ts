/**
 * A minimal protocol-buffers writer: just the wire types the TensorBoard event messages need
 * (varint, 64-bit double, 32-bit float, length-delimited bytes / strings / nested messages, packed doubles).
 *
 * @example
 * const w = new ProtoWriter();
 * w.double(1, 1.5).string(3, 'brain.Event:2');
 * const bytes = w.finish();
 */
const enc = new TextEncoder();

export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private length = 0;

  private push(b: Uint8Array): this {
    this.chunks.push(b);
    this.length += b.length;
    return this;
  }

  /** An unsigned varint (exact up to 2^53). */
  private varintRaw(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`protobuf: varint must be a non-negative safe integer, got ${n}`);
    const out: number[] = [];
    while (n >= 0x80) {
      out.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    out.push(n);
    return this.push(Uint8Array.from(out));
  }

  private tag(field: number, wire: number): this {
    return this.varintRaw(field * 8 + wire);
  }

  /** int32/int64/uint64/enum/bool field (non-negative values). */
  varint(field: number, n: number): this {
    return this.tag(field, 0).varintRaw(n);
  }

  double(field: number, x: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, x, true);
    return this.tag(field, 1).push(b);
  }

  float(field: number, x: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, x, true);
    return this.tag(field, 5).push(b);
  }

  bytes(field: number, b: Uint8Array): this {
    return this.tag(field, 2).varintRaw(b.length).push(b);
  }

  string(field: number, s: string): this {
    return this.bytes(field, enc.encode(s));
  }

  /** A nested message, written by `build` into a fresh writer. */
  message(field: number, build: (w: ProtoWriter) => void): this {
    const w = new ProtoWriter();
    build(w);
    return this.bytes(field, w.finish());
  }

  /** `repeated double` in packed form. */
  packedDoubles(field: number, xs: readonly number[]): this {
    const b = new Uint8Array(8 * xs.length);
    const v = new DataView(b.buffer);
    xs.forEach((x, i) => v.setFloat64(8 * i, x, true));
    return this.bytes(field, b);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}
