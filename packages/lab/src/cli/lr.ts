/** `lwlr lr`: Algorithm 1 on a model and dataset; prints the table and writes it as JSON. */
import { writeFileSync } from 'node:fs';
import { selectBackend } from 'tfjs-backend-onednn';
import type { EtaTable } from 'layerwise-lr';
import { helpText, parseFlags, UsageError, type FlagSpecs } from './args.js';
import { COMMON_FLAGS, commonRunConfig } from './common.js';
import { setupOptions } from '../train/run.js';
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
  out: { type: 'string', help: 'write the eta table as JSON here' },
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
  if (scheme === 'frozen-adagrad' && f.out !== undefined && !/\.json$/i.test(f.out as string)) {
    throw new UsageError(`--out ${f.out}: a frozen-adagrad table is X.json (per-tensor summary) + X.safetensors (per-element multipliers): name it *.json`);
  }
  // frozen-adagrad takes neither --exponent nor --grad-norm: resolveRunConfig refuses them with it
  const c = commonRunConfig(f, { lrScheme: scheme });
  const backend = await selectBackend(c.backend);
  const run = await setupRun({ ...setupOptions(c), shuffle: f.shuffle as boolean });
  try {
    const t0 = performance.now();
    const how = { steps: f.steps as number, init: c.init, seed: c.seed, exponent: c.exponent, batchSize: c.batchSize, gradNorm: c.gradNorm };
    let table: EtaTable;
    if (scheme === 'frozen-adagrad') {
      const fa = await measureFrozenAdagradOnTrainSplit(run, how);
      table = fa.summary;
      if (f.out) writeElementTable(elementTableFileFor(f.out as string), fa);
      fa.dispose();
    } else {
      table = await measureOnTrainSplit(run, how);
    }
    const seconds = (performance.now() - t0) / 1000;
    if (!f.quiet) {
      console.log(`${c.model} on ${run.dataset.name}: ${scheme}, T=${f.steps} batches of ${c.batchSize}, init ${c.init}` +
        `${scheme === 'layerwise' ? `, G ${c.gradNorm}, p=${c.exponent}` : ''}, backend ${backend}, ${seconds.toFixed(1)} s`);
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
      writeFileSync(f.saveInit as string, encodeSafetensors(tensors, { init: c.init, seed: String(c.seed), layout: 'tfjs' }));
    }
    return 0;
  } finally {
    run.dispose();
  }
}
