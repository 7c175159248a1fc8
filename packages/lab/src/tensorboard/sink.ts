/**
 * `lwlr train --tensorboard`: a {@link MetricSink} writing TensorBoard event files into `RUN_DIR/tb`.
 * (Seam: the event-file writer lands with the report issue; until then the flag is refused.)
 */
import type { MetricSink } from '../train/metrics.js';

export function tensorBoardSink(runDir: string): MetricSink {
  throw new Error(`--tensorboard: event-file output is not implemented yet (run dir ${runDir})`);
}
