/**
 * `lwlr train --tensorboard`: a {@link MetricSink} writing TensorBoard event files into `RUN_DIR/tb`.
 * Scalars: `train/loss`, `train/lr`, `train/images_per_sec` per logged step; `eval/<field>` (snake case) for every
 * numeric field of an eval record (`eval/test_acc`, `eval/test_loss`, `eval/train_loss`, `eval/val_acc`, ...).
 * The eta table: a histogram of log10(eta) over the tensors (`eta_table/log10_eta`) and a markdown table
 * (`eta_table/etas`, text plugin), both at step 0.
 */
import type { EtaTableJSON } from 'layerwise-lr';
import type { MetricRecord, MetricSink } from '../train/metrics.js';
import { histogramOf, type SummaryValue } from './events.js';
import { EventFileWriter } from './writer.js';
import { runFile } from '../train/run-dir.js';

const SKIP = new Set(['type', 'epoch', 'step', 'time']);
const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The scalars of one metrics record, as TensorBoard tags. */
export function scalarsOf(record: MetricRecord): SummaryValue[] {
  const r = record as unknown as Record<string, unknown>;
  const prefix = record.type === 'train' ? 'train' : 'eval';
  const out: SummaryValue[] = [];
  for (const [k, v] of Object.entries(r)) {
    if (SKIP.has(k) || typeof v !== 'number' || !Number.isFinite(v)) continue;
    out.push({ tag: `${prefix}/${snake(k)}`, scalar: v });
  }
  return out;
}

/** The eta table as markdown (TensorBoard's text plugin renders it). */
export function etaTableMarkdown(table: EtaTableJSON): string {
  const fmt = (x: number | null) => (x === null ? '-' : x.toPrecision(4));
  const rows = table.entries.map((e, i) => `| ${i} | ${e.name} | [${e.shape.join(', ')}] | ${e.numel} | ${e.kind} | ${fmt(e.G)} | ${fmt(e.eta)} |`);
  return [`scheme **${table.meta.scheme}**, T=${table.meta.steps ?? '-'}`, '', '| # | name | shape | numel | kind | G | eta |', '|---|---|---|---|---|---|---|', ...rows].join('\n');
}

/**
 * @example
 * const dir = new RunDir('runs/a');
 * dir.addSink(tensorBoardSink('runs/a')); // then: tensorboard --logdir runs
 */
export function tensorBoardSink(runDir: string): MetricSink {
  const w = new EventFileWriter(runFile(runDir, 'tensorboard'));
  return {
    write(record) {
      const values = scalarsOf(record);
      if (values.length) w.write({ wallTime: w.wallTime(), step: record.step, values });
    },
    etaTable(table) {
      const values: SummaryValue[] = [{ tag: 'eta_table/etas', text: etaTableMarkdown(table) }];
      if (table.entries.length) values.unshift({ tag: 'eta_table/log10_eta', histogram: histogramOf(table.entries.map((e) => Math.log10(e.eta))) });
      w.write({ wallTime: w.wallTime(), step: 0, values });
    },
    close() {
      w.close();
    },
  };
}
