import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeSafetensors, decodeSafetensors } from '../src/safetensors.js';

test('safetensors: layout (LE header length, JSON header, 8-byte alignment) and round trip', () => {
  const bytes = encodeSafetensors({
    'fc1.kernel': { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
    'fc1.bias': { shape: [3], data: Float32Array.from([0.5, -1, 2]) },
  }, { layout: 'tfjs' });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  assert.deepEqual(header['fc1.kernel'], { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
  assert.deepEqual(header['fc1.bias'], { dtype: 'F32', shape: [3], data_offsets: [24, 36] });
  assert.equal(bytes.length, 8 + n + 36);
  // first float of the data: 1.0 little-endian = 00 00 80 3f
  assert.deepEqual(Array.from(bytes.subarray(8 + n, 8 + n + 4)), [0, 0, 0x80, 0x3f]);
  const back = decodeSafetensors(bytes);
  assert.deepEqual(Array.from(back.tensors['fc1.bias'].data), [0.5, -1, 2]);
  assert.deepEqual(back.tensors['fc1.kernel'].shape, [2, 3]);
  assert.deepEqual(back.metadata, { layout: 'tfjs' });
  assert.throws(() => encodeSafetensors({ a: { shape: [2], data: new Float32Array(3) } }), /a has shape \[2\] but 3 values/);
});
