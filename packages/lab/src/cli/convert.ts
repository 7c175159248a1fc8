/**
 * `lwlr convert`: weights between ours (safetensors in tfjs layout with our names, or a TF.js model directory)
 * and a PyTorch state_dict in safetensors (torchvision / timm names, torch layout), and LR tables to torch names. The model is built
 * (cpu backend) only for its weight names and shapes. See `src/interop/torch.ts` for the mapping.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { helpText, parseFlags, UsageError, type FlagSpecs } from './args.js';
import { COMMON_FLAGS } from './common.js';
import { buildModel, isLanguageModel, modelNames } from '../models/registry.js';
import { loadWeightsFile, modelWeights, readWeights, saveWeightsFile, setWeights } from '../train/weights.js';
import { decodeSafetensors, encodeSafetensors } from '../safetensors.js';
import { inferTorchFamily, torchFamilyOf, torchMapping, type TorchFamily } from '../interop/torch.js';
import { convertSafetensors, lrTableToTorch, type WeightsLayout } from '../interop/torch-files.js';

const FLAGS: FlagSpecs = {
  model: { type: 'string', help: `model: ${modelNames().join(', ')} (default: the file's metadata, as lwlr train --save-weights writes it)` },
  'num-classes': { type: 'int', default: 10, help: "the model's outputs (as trained)" },
  'image-size': { type: 'int', default: 28, help: 'input height = width (as trained: MLP, ViT and Swin weights depend on it)' },
  channels: { type: 'int', default: 1, help: 'input channels (as trained)' },
  width: COMMON_FLAGS.width,
  depth: COMMON_FLAGS.depth,
  'width-mult': COMMON_FLAGS['width-mult'],
  vocab: { type: 'int', help: "language models: the tokenizer's vocabulary (default 256, bytes; gpt2: 50257)" },
  'untie-head': COMMON_FLAGS['untie-head'],
  from: { type: 'string', help: 'input weights: .safetensors, or a TF.js model directory (with --format torch)' },
  to: { type: 'string', help: 'output weights: .safetensors, or a TF.js model directory (with --format tfjs)' },
  format: { type: 'string', choices: ['torch', 'tfjs'], help: 'layout to write: torch (state_dict names, [out,in,kh,kw]) or tfjs (ours)' },
  'lr-table': { type: 'string', help: 'convert this LR table (lr-table.json) to torch names instead of weights' },
  out: { type: 'string', help: 'output of --lr-table (JSON)' },
  help: COMMON_FLAGS.help,
};

const SUMMARY = `Convert weights and LR tables to and from PyTorch.

  lwlr convert --model resnet18-cifar --image-size 32 --channels 3 --from final.safetensors --to torch.safetensors --format torch
  lwlr convert --model resnet18-cifar --image-size 32 --channels 3 --from torch.safetensors --to ours.safetensors --format tfjs
  lwlr convert --model resnet18-cifar --image-size 32 --channels 3 --from torch.safetensors --to tfjs-model --format tfjs   (model.json + weights.bin)
  lwlr convert --lr-table lr-table.json --format torch --out lr-table-torch.json   (--model optional: inferred from the names)
  lwlr convert --model gpt-tiny --from final.safetensors --to gpt2-hf.safetensors --format torch   (Hugging Face GPT2LMHeadModel names; --vocab 50257 for --tokenizer gpt2)`;

export async function convertCommand(argv: string[]): Promise<number> {
  const { flags: f, positional } = parseFlags(argv, FLAGS);
  if (f.help) {
    console.log(helpText('convert', SUMMARY, FLAGS));
    return 0;
  }
  if (positional.length) throw new UsageError(`unexpected argument '${positional[0]}'`);
  if (!f.format) throw new UsageError('--format is required: torch or tfjs');
  const model = f.model as string | undefined;
  if (model !== undefined && !modelNames().includes(model)) throw new UsageError(`--model must be one of ${modelNames().join(', ')} (got '${model}')`);
  const family = (m: string): TorchFamily => {
    try {
      return torchFamilyOf(m);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  };
  if (f.lrTable !== undefined) return convertTable(f.lrTable as string, f.format as string, f.out as string | undefined, model === undefined ? undefined : family(model));

  for (const k of ['from', 'to'] as const) if (!f[k]) throw new UsageError(`--${k} is required (a .safetensors file), or use --lr-table`);
  const from = f.from as string;
  const to = f.to as string;
  const layout = f.format as WeightsLayout;
  if (!existsSync(from)) throw new UsageError(`--from ${from}: no such file`, 1);
  // a TF.js model directory (model.json + weights.bin) is ours: read for --format torch, written for --format tfjs
  const fromTfjs = !from.endsWith('.safetensors');
  const toTfjs = !to.endsWith('.safetensors');
  if (fromTfjs && layout !== 'torch') throw new UsageError(`--from ${from}: a TF.js model directory converts with --format torch (or give a .safetensors file)`);
  if (toTfjs && layout !== 'tfjs') throw new UsageError(`--to ${to}: expected a file name ending in .safetensors (a TF.js model directory only with --format tfjs)`);
  for (const k of ['numClasses', 'imageSize', 'channels'] as const) {
    if ((f[k] as number) < 1) throw new UsageError(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be >= 1`);
  }
  const name = model ?? (fromTfjs ? tfjsMetadata(from) : headerMetadata(readFileSync(from)))?.model;
  if (!name || !modelNames().includes(name)) throw new UsageError(`--model is required (${from} names no model in its metadata)`);
  const size = f.imageSize as number;
  const inputShape: [number, number, number] = [size, size, f.channels as number];
  // names and shapes (and TF.js directories) only: the cpu backend builds any model without the native addon
  await tf.setBackend('cpu');
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  const built = buildModel(name, {
    inputShape, numClasses: f.numClasses as number, width: f.width as number, depth: f.depth as number,
    widthMultiplier: f.widthMult as number | undefined, vocabSize: f.vocab as number | undefined, untieHead: f.untieHead as boolean,
  });
  try {
    const specs = modelWeights(built).map((w) => ({ name: w.name, shape: [...w.variable.shape] }));
    const mapping = torchMapping(specs, { family: family(name), inputShape });
    let input: Uint8Array;
    if (fromTfjs) {
      loadWeightsFile(built, from, `--from ${from}`);
      input = encodeSafetensors(readWeights(built), { layout: 'tfjs' });
    } else input = readFileSync(from);
    let out;
    try {
      out = convertSafetensors(input, mapping, layout, `--from ${from}`, { model: name });
    } catch (e) {
      const msg = (e as Error).message;
      throw new Error(/shape/.test(msg) ? `${msg} (are --num-classes, --image-size, --channels, --width${isLanguageModel(name) ? ', --vocab, --untie-head' : ''} as trained?)` : msg);
    }
    if (toTfjs) {
      if (out.missing.length) throw new Error(`--from ${from}: a TF.js model directory needs every weight; ${out.missing.length} missing (first: ${out.missing.slice(0, 3).join(', ')})`);
      setWeights(built, decodeSafetensors(out.bytes).tensors, `--from ${from}`);
      await saveWeightsFile(built, to, { model: name });
      console.log(`wrote ${out.count} weights (TF.js model directory, ${name}) to ${to}`);
      return 0;
    }
    writeFileSync(to, out.bytes);
    console.log(`wrote ${out.count} tensors (${layout} layout, ${name}) to ${to}`);
    if (out.missing.length) {
      const hint = layout === 'torch' ? '; in torch load with load_state_dict(..., strict=False)' : '';
      console.log(`note: ${out.missing.length} of the model's ${mapping.entries.length} tensors were not in ${from} (first: ${out.missing.slice(0, 3).join(', ')})${hint}`);
    }
    return 0;
  } finally {
    built.dispose();
  }
}

/** `userDefinedMetadata` of a TF.js model directory's model.json, if readable. */
function tfjsMetadata(dir: string): Record<string, string> | undefined {
  try {
    const file = path.basename(dir) === 'model.json' ? dir : path.join(dir, 'model.json');
    return JSON.parse(readFileSync(file, 'utf8')).userDefinedMetadata;
  } catch {
    return undefined;
  }
}

/** The `__metadata__` of a safetensors header, if readable. */
function headerMetadata(bytes: Uint8Array): Record<string, string> | undefined {
  try {
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true));
    return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))).__metadata__;
  } catch {
    return undefined;
  }
}

function convertTable(file: string, format: string, out: string | undefined, family: TorchFamily | undefined): number {
  if (format !== 'torch') throw new UsageError('--lr-table converts to torch names only (--format torch); lwlr reads its own lr-table.json');
  if (!out) throw new UsageError('--out is required with --lr-table (the torch table, JSON)');
  if (!existsSync(file)) throw new UsageError(`--lr-table ${file}: no such file`, 1);
  let json: { entries?: Array<{ name?: unknown }> };
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`--lr-table ${file}: not JSON (${(e as Error).message})`);
  }
  const names = Array.isArray(json?.entries) ? json.entries.map((e) => String(e?.name)) : [];
  const fam = family ?? inferTorchFamily(names);
  if (!fam) throw new UsageError(`--lr-table ${file}: cannot tell the architecture from its names; give --model`);
  let table;
  try {
    table = lrTableToTorch(json, fam);
  } catch (e) {
    throw new Error(`--lr-table ${file}: ${(e as Error).message}`);
  }
  writeFileSync(out, `${JSON.stringify(table, null, 2)}\n`);
  const fused = Object.keys(table.meta.fused).length;
  console.log(`wrote ${table.entries.length} entries (${fam}, torch names) to ${out}${fused ? `; ${fused} fused qkv tensor(s) keep one entry per part (rows, see meta.note)` : ''}`);
  return 0;
}
