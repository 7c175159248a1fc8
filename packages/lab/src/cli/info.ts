/** `lwlr info`: a model's parameter table (name, shape, numel, kind) and total, as text or JSON. */
import * as tf from '@tensorflow/tfjs';
import { collectParams } from 'layerwise-lr';
import { helpText, parseFlags, UsageError, type FlagSpecs } from './args.js';
import { COMMON_FLAGS } from './common.js';
import { buildModel } from '../models/registry.js';
import { torchFamilyOf, torchMapping } from '../interop/torch.js';

const FLAGS: FlagSpecs = {
  model: COMMON_FLAGS.model,
  'num-classes': { type: 'int', default: 10, help: 'output classes' },
  'image-size': { type: 'int', default: 28, help: 'input height = width' },
  channels: { type: 'int', default: 1, help: 'input channels' },
  width: COMMON_FLAGS.width,
  depth: COMMON_FLAGS.depth,
  vocab: { type: 'int', help: "language models: the tokenizer's vocabulary (default 256, bytes; gpt2-small: 50257)" },
  'untie-head': COMMON_FLAGS['untie-head'],
  json: { type: 'boolean', default: false, help: 'print { "params": [...], "total": N }' },
  torch: { type: 'boolean', default: false, help: 'add each parameter\'s PyTorch state_dict name (torchvision/timm; lwlr convert\'s mapping)' },
  help: COMMON_FLAGS.help,
};

export async function infoCommand(argv: string[]): Promise<number> {
  const { flags: f, positional } = parseFlags(argv, FLAGS);
  if (f.help) {
    console.log(helpText('info', "Print a model's parameters: name, shape, numel, kind, and the total.", FLAGS));
    return 0;
  }
  if (positional.length) throw new UsageError(`unexpected argument '${positional[0]}'`);
  for (const k of ['numClasses', 'imageSize', 'channels'] as const) {
    if ((f[k] as number) < 1) throw new UsageError(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be >= 1`);
  }
  // Only shapes are needed: the cpu backend builds any model without the native addon, and prints nothing.
  await tf.setBackend('cpu');
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  const size = f.imageSize as number;
  const model = buildModel(f.model as string, {
    inputShape: [size, size, f.channels as number], numClasses: f.numClasses as number,
    width: f.width as number, depth: f.depth as number, vocabSize: f.vocab as number | undefined, untieHead: f.untieHead as boolean,
  });
  try {
    const params: Array<{ name: string; shape: number[]; numel: number; kind: string; torch?: string }> =
      collectParams(model).map((p) => ({ name: p.name, shape: [...p.shape], numel: p.numel, kind: p.kind }));
    if (f.torch) {
      let family;
      try {
        family = torchFamilyOf(f.model as string);
      } catch (e) {
        throw new UsageError(`--torch: ${(e as Error).message}`, 1);
      }
      // a fused tensor (ViT/Swin q, k, v -> attn.qkv) shows which rows of it a parameter is
      for (const e of torchMapping(params, { family, inputShape: [size, size, f.channels as number] }).entries) {
        for (const part of e.parts) {
          params.find((p) => p.name === part.name)!.torch = e.parts.length > 1 ? `${e.torch}[${part.rows[0]}:${part.rows[1]}]` : e.torch;
        }
      }
    }
    const total = params.reduce((a, p) => a + p.numel, 0);
    if (f.json) {
      console.log(JSON.stringify({ params, total }));
      return 0;
    }
    const rows = [['name', 'kind', 'shape', 'numel', ...(f.torch ? ['torch name'] : [])],
      ...params.map((p) => [p.name, p.kind, `[${p.shape.join(',')}]`, String(p.numel), ...(f.torch ? [p.torch ?? '-'] : [])])];
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    for (const r of rows) console.log(r.map((cell, c) => (c === 3 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd());
    console.log(`total: ${total.toLocaleString('en-US')} parameters in ${params.length} tensors`);
    return 0;
  } finally {
    model.dispose();
  }
}
