/** `lwlr lr`: Algorithm 1 on a model and dataset; prints the table and writes it as JSON. */
import { writeFileSync } from 'node:fs';
import { selectBackend, type BackendChoice } from 'tfjs-backend-onednn';
import type { GradNorm, InitMode, LRTable } from 'layerwise-lr';
import { helpText, parseFlags, UsageError, type FlagSpecs } from './args.js';
import { COMMON_FLAGS, checkMeasurementFlags, setupOptionsFromFlags } from './common.js';
import { setupRun, measureFrozenAdagradOnTrainSplit, measureOnTrainSplit } from '../train/setup.js';
import { elementTableFileFor, writeElementTable } from '../train/element-table.js';
import { encodeSafetensors } from '../safetensors.js';

const FLAGS: FlagSpecs = {
  ...COMMON_FLAGS,
  steps: { type: 'int', default: 100, help: 'T: minibatches measured (no weight updates)' },
  'lr-scheme': {
    type: 'string', default: 'layerwise', choices: ['layerwise', 'frozen-adagrad'],
    help: 'layerwise (Algorithm 1) or frozen-adagrad (per-element 1/sqrt(sum g^2); --out X.json also writes X.safetensors)',
  },
  shuffle: { type: 'boolean', default: true, help: 'shuffle the training set (--no-shuffle: file order)' },
  out: { type: 'string', help: 'write the LR table as JSON here' },
  plot: { type: 'string', help: 'draw the eta map (all tensors and conv/linear kernels) to this .png or .svg file' },
  'save-init': { type: 'string', help: 'write the measurement-init weights as safetensors (tfjs layout)' },
  quiet: { type: 'boolean', default: false, help: 'print nothing but errors' },
};

export async function lrCommand(argv: string[]): Promise<number> {
  const { flags: f } = parseFlags(argv, FLAGS);
  if (f.help) {
    console.log(helpText('lr', 'Measure layer-wise learning rates (Algorithm 1).', FLAGS));
    return 0;
  }
  if ((f.steps as number) < 1) throw new UsageError('--steps must be >= 1');
  if (f.plot !== undefined && !/\.(png|svg)$/i.test(f.plot as string)) throw new UsageError(`--plot ${f.plot}: expected a file name ending in .png or .svg`);
  const scheme = f.lrScheme as string;
  checkMeasurementFlags(scheme, f);
  if (scheme === 'frozen-adagrad' && f.out !== undefined && !/\.json$/i.test(f.out as string)) {
    throw new UsageError(`--out ${f.out}: a frozen-adagrad table is X.json (per-tensor summary) + X.safetensors (per-element multipliers): name it *.json`);
  }
  const backend = await selectBackend(f.backend as BackendChoice);
  const run = await setupRun({ ...setupOptionsFromFlags(f), shuffle: f.shuffle as boolean });
  try {
    const t0 = performance.now();
    const how = {
      steps: f.steps as number, init: f.init as InitMode, seed: f.seed as number, exponent: f.exponent as number,
      batchSize: f.batchSize as number, gradNorm: f.gradNorm as GradNorm,
    };
    let table: LRTable;
    if (scheme === 'frozen-adagrad') {
      const fa = await measureFrozenAdagradOnTrainSplit(run, how);
      table = fa.summary;
      if (f.out) writeElementTable(elementTableFileFor(f.out as string), fa);
    } else {
      table = await measureOnTrainSplit(run, how);
    }
    const seconds = (performance.now() - t0) / 1000;
    if (!f.quiet) {
      console.log(`${f.model} on ${run.dataset.name}: ${scheme}, T=${f.steps} batches of ${f.batchSize}, init ${f.init}` +
        `${scheme === 'layerwise' ? `, G ${f.gradNorm}, p=${f.exponent}` : ''}, backend ${backend}, ${seconds.toFixed(1)} s`);
      console.log(table.format());
      const zero = table.meta.zeroGradient?.names ?? [];
      if (zero.length) console.log(`zero-gradient parameters (eta = 1, left out of the normalization): ${zero.join(', ')}`);
    }
    if (f.out) writeFileSync(f.out as string, `${JSON.stringify(table.toJSON(), null, 2)}\n`);
    // the plotting stack (vega, resvg) loads only when asked for
    if (f.plot) await (await import('../report/plot.js')).plotEtaMap(table.toJSON(), f.plot as string, `${f.model} on ${run.dataset.name}, T=${f.steps}`);
    if (f.saveInit) {
      const tensors = Object.fromEntries(
        run.params.map((p) => [p.name, { shape: [...p.shape], data: p.variable.dataSync() as Float32Array }]),
      );
      writeFileSync(f.saveInit as string, encodeSafetensors(tensors, { init: String(f.init), seed: String(f.seed), layout: 'tfjs' }));
    }
    return 0;
  } finally {
    run.dispose();
  }
}
