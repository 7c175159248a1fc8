#!/usr/bin/env node
/** The `lwlr` command line: `lwlr <command> [flags]`. Errors are one line on stderr with a non-zero exit. */
import { UsageError } from './args.js';

const USAGE = `usage: lwlr <command> [flags]

commands:
  lr        measure layer-wise learning rates (Algorithm 1) and print/save the table
  train     train with uniform, layer-wise or depth-scheme learning rates
  compare   train several schemes from one init (--schemes a,b --out DIR), or print runs side by side
  compare-tables  how far eta tables are from a reference (rank correlation, max |ln ratio|): the T ablation
  info      print a model's parameters (name, shape, numel, kind) and the total
  sweep     run a grid of train trials in parallel processes (results.csv, results.json)
  report    HTML report of runs and sweeps: eta maps, curves, summary, heat maps (--png: PNG/SVG files)
  convert   weights (safetensors) to/from PyTorch state_dict names and layout; LR tables to torch names
  generate  text from a trained language model (lwlr generate RUN_DIR --prompt "...")

lwlr <command> --help shows the flags.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'lr': return (await import('./lr.js')).lrCommand(rest);
    case 'train': return (await import('./train.js')).trainCommand(rest);
    case 'compare': return (await import('./compare.js')).compareCommand(rest);
    case 'compare-tables': return (await import('./compare-tables.js')).compareTablesCommand(rest);
    case 'info': return (await import('./info.js')).infoCommand(rest);
    case 'sweep': return (await import('./sweep.js')).sweepCommand(rest);
    case 'report': return (await import('./report.js')).reportCommand(rest);
    case 'convert': return (await import('./convert.js')).convertCommand(rest);
    case 'generate': return (await import('./generate.js')).generateCommand(rest);
    case undefined: case '--help': case 'help':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command '${command}' (expected lr, train, compare, compare-tables, info, sweep, report, convert or generate)`);
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    const err = e as Error;
    process.stderr.write(`lwlr: error: ${String(err?.message ?? err).split('\n')[0]}\n`);
    if (process.env.LWLR_DEBUG) process.stderr.write(`${err?.stack}\n`);
    process.exitCode = err instanceof UsageError ? err.exitCode : 1;
  },
);
