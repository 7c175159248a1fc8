/**
 * The IDX format of MNIST / Fashion-MNIST: big-endian magic (0x00 0x00 type ndims), ndims big-endian uint32
 * dimensions, then the raw data. Files may be gzipped (detected by the gzip magic, not the name).
 */
import { readFileSync, existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** An IDX array of unsigned bytes (the only type MNIST-format files use). */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Parses IDX bytes; `what` names the source in error messages. */
export function parseIdx(bytes: Uint8Array, what: string, expectedNdims?: number): IdxArray {
  let buf = bytes;
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw new Error(`${what}: corrupt gzip data (${(e as Error).message})`);
    }
  }
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0) {
    throw new Error(`${what}: not an IDX file (expected magic 0x0000TTNN, got ${hex(buf.subarray(0, 4))})`);
  }
  const type = buf[2];
  const ndims = buf[3];
  if (type !== 0x08) throw new Error(`${what}: IDX data type 0x${type.toString(16)} unsupported (expected 0x08, unsigned byte)`);
  if (expectedNdims !== undefined && ndims !== expectedNdims) {
    throw new Error(`${what}: expected ${expectedNdims} dimensions, found ${ndims}`);
  }
  const header = 4 + 4 * ndims;
  if (buf.length < header) throw new Error(`${what}: truncated header (${buf.length} bytes)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const n = dims.reduce((a, b) => a * b, 1);
  if (buf.length !== header + n) {
    throw new Error(`${what}: expected ${header + n} bytes for dims [${dims.join(', ')}], found ${buf.length}`);
  }
  return { dims, data: buf.subarray(header) };
}

/** Reads an IDX file (plain or gzipped). */
export function readIdx(path: string, expectedNdims?: number): IdxArray {
  if (!existsSync(path)) throw new Error(`missing data file ${path}`);
  return parseIdx(readFileSync(path), path, expectedNdims);
}

/** Encodes an unsigned-byte IDX array (used by tests and tools that write MNIST-format files). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = 0x08;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ') || '(empty)';
}
