/**
 * TFRecord framing: `uint64 length (LE) | uint32 masked_crc32c(length bytes) | data | uint32 masked_crc32c(data)`.
 */
import { maskedCrc32c } from './crc32c.js';

/**
 * Frames one record.
 * @example writeSync(fd, frameRecord(encodeEvent({ wallTime: Date.now() / 1000, step: 0, fileVersion: 'brain.Event:2' })));
 */
export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(16 + data.length);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt(data.length), true);
  v.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  v.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}
