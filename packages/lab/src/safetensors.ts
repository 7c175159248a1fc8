/**
 * safetensors (float32 only): 8-byte little-endian header length, a JSON header
 * `{ name: { dtype: "F32", shape, data_offsets: [begin, end] }, "__metadata__"?: {...} }`, then the raw
 * little-endian data. Keys are parameter names; arrays are in tfjs layout (conv [kh, kw, in, out], dense
 * [in, out]) — a PyTorch consumer must transpose.
 */
export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

export function encodeSafetensors(tensors: Record<string, NamedArray>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  const names = Object.keys(tensors);
  for (const name of names) {
    const { shape, data } = tensors[name];
    const n = shape.reduce((a, b) => a * b, 1);
    if (n !== data.length) throw new Error(`safetensors: ${name} has shape [${shape}] but ${data.length} values`);
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + 4 * n] };
    offset += 4 * n;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // align the data to 8 bytes, as the reference writer does
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const name of names) {
    const d = tensors[name].data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at); // little-endian hosts (x86, arm)
    at += d.byteLength;
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array, what = 'safetensors'): { tensors: Record<string, NamedArray>; metadata?: Record<string, string> } {
  if (bytes.length < 8) throw new Error(`${what}: too short for a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (8 + n > bytes.length) throw new Error(`${what}: header length ${n} exceeds the file size`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch {
    throw new Error(`${what}: header is not JSON`);
  }
  const base = 8 + n;
  const tensors: Record<string, NamedArray> = {};
  let metadata: Record<string, string> | undefined;
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = info as unknown as Record<string, string>;
      continue;
    }
    if (info.dtype !== 'F32') throw new Error(`${what}: ${name} has dtype ${info.dtype}; only F32 is supported`);
    const [b, e] = info.data_offsets;
    const count = info.shape.reduce((a, c) => a * c, 1);
    if (e - b !== 4 * count || base + e > bytes.length) throw new Error(`${what}: ${name} has bad data offsets [${b}, ${e}]`);
    const copy = new Uint8Array(e - b); // an aligned copy (a Node Buffer's slice would share and misalign)
    copy.set(bytes.subarray(base + b, base + e));
    tensors[name] = { shape: info.shape, data: new Float32Array(copy.buffer, 0, count) };
  }
  return { tensors, metadata };
}
