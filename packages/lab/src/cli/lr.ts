/** `lwlr lr`: Algorithm 1 on a model and dataset; prints the table and writes it as JSON. */
import { writeFileSync } from 'node:fs';
import { selectBackend } from 'tfjs-backend-onednn';
import { helpText, parseFlags, UsageError, type FlagSpecs } from './args.js';
import { COMMON_FLAGS, commonRunConfig } from './common.js';
import { setupOptions } from '../train/run.js';
import { setupRun, measureOnTrainSplit } from '../train/setup.js';
import { encodeSafetensors } from '../safetensors.js';

const FLAGS: FlagSpecs = {
  ...COMMON_FLAGS,
  steps: { type: 'int', default: 100, help: 'T: minibatches measured (no weight updates)' },
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
  const c = commonRunConfig(f);
  const backend = await selectBackend(c.backend);
  const run = await setupRun({ ...setupOptions(c), shuffle: f.shuffle as boolean });
  try {
    const t0 = performance.now();
    const table = await measureOnTrainSplit(run, { steps: f.steps as number, init: c.init, seed: c.seed, exponent: c.exponent, batchSize: c.batchSize });
    const seconds = (performance.now() - t0) / 1000;
    if (!f.quiet) {
      console.log(`${c.model} on ${run.dataset.name}: T=${f.steps} batches of ${c.batchSize}, init ${c.init}, backend ${backend}, ${seconds.toFixed(1)} s`);
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
