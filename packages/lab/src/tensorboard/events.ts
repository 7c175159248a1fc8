/**
 * TensorBoard `Event` protobufs (tensorflow/core/util/event.proto, summary.proto), encoded by hand:
 *
 *   Event       { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
 *   Summary     { repeated Value value = 1; }
 *   Value       { string tag = 1; float simple_value = 2; HistogramProto histo = 5; TensorProto tensor = 8;
 *                 SummaryMetadata metadata = 9; }
 *   HistogramProto  { double min = 1, max = 2, num = 3, sum = 4, sum_squares = 5;
 *                     repeated double bucket_limit = 6 [packed]; repeated double bucket = 7 [packed]; }
 *   TensorProto     { DataType dtype = 1; TensorShapeProto tensor_shape = 2; repeated bytes string_val = 8; }
 *   SummaryMetadata { PluginData plugin_data = 1; }   PluginData { string plugin_name = 1; bytes content = 2; }
 */
import { ProtoWriter } from './protobuf.js';

/** The first record of every event file. */
export const FILE_VERSION = 'brain.Event:2';
const DT_STRING = 7;

/** A histogram in TensorBoard's form: `bucket[i]` counts values in (`bucketLimit[i-1]`, `bucketLimit[i]`]. */
export interface Histogram {
  min: number;
  max: number;
  num: number;
  sum: number;
  sumSquares: number;
  bucketLimit: number[];
  bucket: number[];
}

export type SummaryValue =
  | { tag: string; scalar: number }
  | { tag: string; histogram: Histogram }
  | { tag: string; text: string };

export interface EventInput {
  /** Seconds since the epoch. */
  wallTime: number;
  step: number;
  fileVersion?: string;
  values?: readonly SummaryValue[];
}

function writeValue(w: ProtoWriter, v: SummaryValue): void {
  w.string(1, v.tag);
  if ('scalar' in v) {
    w.float(2, v.scalar);
  } else if ('histogram' in v) {
    const h = v.histogram;
    w.message(5, (m) => {
      m.double(1, h.min).double(2, h.max).double(3, h.num).double(4, h.sum).double(5, h.sumSquares);
      m.packedDoubles(6, h.bucketLimit).packedDoubles(7, h.bucket);
    });
  } else {
    // A rank-0 string tensor tagged for the text plugin (rendered as markdown).
    w.message(8, (t) => {
      t.varint(1, DT_STRING);
      t.message(2, () => {});
      t.string(8, v.text);
    });
    w.message(9, (m) => m.message(1, (p) => p.string(1, 'text')));
  }
}

/**
 * Encodes one `Event`.
 * @example encodeEvent({ wallTime: 1700000000.5, step: 10, values: [{ tag: 'train/loss', scalar: 0.25 }] })
 */
export function encodeEvent(e: EventInput): Uint8Array {
  const w = new ProtoWriter();
  w.double(1, e.wallTime);
  if (e.step !== 0) w.varint(2, e.step);
  if (e.fileVersion !== undefined) w.string(3, e.fileVersion);
  if (e.values?.length) {
    w.message(5, (s) => {
      for (const v of e.values!) s.message(1, (vw) => writeValue(vw, v));
    });
  }
  return w.finish();
}

/**
 * A histogram of `values` over `buckets` equal-width buckets between their min and max
 * (one bucket ending at max when all values are equal).
 * @example histogramOf([0, 1, 1, 2], 2) // bucketLimit [1, 2], bucket [3, 1]
 */
export function histogramOf(values: readonly number[], buckets = 30): Histogram {
  if (!values.length) throw new Error('histogram of no values');
  const min = Math.min(...values);
  const max = Math.max(...values);
  const sum = values.reduce((a, b) => a + b, 0);
  const sumSquares = values.reduce((a, b) => a + b * b, 0);
  const n = max > min ? buckets : 1;
  const width = (max - min) / n;
  const bucketLimit = Array.from({ length: n }, (_, i) => (i === n - 1 ? max : min + width * (i + 1)));
  const bucket = new Array<number>(n).fill(0);
  for (const x of values) {
    const i = width > 0 ? Math.min(n - 1, Math.max(0, Math.ceil((x - min) / width) - 1)) : 0;
    bucket[i]++;
  }
  return { min, max, num: values.length, sum, sumSquares, bucketLimit, bucket };
}
