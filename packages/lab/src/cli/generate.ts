/**
 * `lwlr generate RUN_DIR --prompt "..."`: text from a trained language model. The model, tokenizer and window
 * come from `RUN_DIR/config.json`; the weights from the run's latest checkpoint (or `--weights FILE`). Output
 * streams to stdout (the prompt, then the continuation); the same seed, weights and backend give the same text.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { selectBackend, type BackendChoice } from 'tfjs-backend-onednn';
import { helpText, parseFlags, UsageError, type FlagSpecs } from './args.js';
import { COMMON_FLAGS } from './common.js';
import { buildModel, isLanguageModel } from '../models/registry.js';
import { loadTokenizer } from '../data/tokenizers.js';
import { checkpointDir } from '../train/checkpoint.js';
import { loadWeightsFile } from '../train/weights.js';
import { generateTokens } from '../lm/generate.js';
import type { TextInfo } from '../train/text-setup.js';

const FLAGS: FlagSpecs = {
  prompt: { type: 'string', default: '', help: 'the text to continue (empty: start after a document separator)' },
  tokens: { type: 'int', default: 200, help: 'tokens to generate' },
  temperature: { type: 'number', default: 1, help: 'softmax temperature (0: greedy)' },
  'top-k': { type: 'int', help: 'sample from the k most likely tokens only' },
  seed: { type: 'int', default: 0, help: 'seed of the draws' },
  weights: { type: 'string', help: "weights to use instead of the run's latest checkpoint (.safetensors or a TF.js model directory)" },
  backend: COMMON_FLAGS.backend,
  help: COMMON_FLAGS.help,
};

const SUMMARY = `Generate text with a trained language model.

  lwlr generate runs/gpt-tiny --prompt "The jury said" --tokens 200 --temperature 0.8 --top-k 40 --seed 1`;

export async function generateCommand(argv: string[]): Promise<number> {
  const { flags: f, positional } = parseFlags(argv, FLAGS);
  if (f.help) {
    console.log(helpText('generate RUN_DIR', SUMMARY, FLAGS));
    return 0;
  }
  if (positional.length !== 1) throw new UsageError('expected one RUN_DIR (a run of a language model: lwlr train --model gpt-tiny --data text --out RUN_DIR)');
  if ((f.tokens as number) < 0) throw new UsageError('--tokens must be >= 0');
  if (!((f.temperature as number) >= 0)) throw new UsageError(`--temperature must be >= 0 (got ${f.temperature})`);
  if (f.topK !== undefined && (f.topK as number) < 1) throw new UsageError('--top-k must be >= 1');
  const dir = positional[0]!;
  const cfgFile = path.join(dir, 'config.json');
  if (!existsSync(cfgFile)) throw new UsageError(`${dir}: no config.json (not a run directory?)`, 1);
  const cfg = JSON.parse(readFileSync(cfgFile, 'utf8')) as { model?: string; untieHead?: boolean; text?: TextInfo };
  if (!cfg.model || !isLanguageModel(cfg.model) || !cfg.text) throw new UsageError(`${dir}: not a run of a language model (model ${cfg.model ?? '?'})`, 1);
  let weights = f.weights as string | undefined;
  if (weights === undefined) {
    const ck = checkpointDir(dir);
    if (!ck) throw new UsageError(`${dir}: no checkpoint yet (train first, or give --weights FILE)`, 1);
    weights = path.join(ck, 'weights.safetensors');
  }
  await selectBackend(f.backend as BackendChoice);
  const tok = await loadTokenizer(cfg.text.tokenizer);
  const model = buildModel(cfg.model, { inputShape: [1, 1, 1], numClasses: cfg.text.vocabSize, vocabSize: cfg.text.vocabSize, untieHead: cfg.untieHead });
  try {
    loadWeightsFile(model, weights, weights === f.weights ? `--weights ${weights}` : weights);
    const text = f.prompt as string;
    const prompt = text === '' ? [tok.separator[tok.separator.length - 1]!] : Array.from(tok.encode(text));
    process.stdout.write(text);
    // stream: print what decodes to whole characters so far
    const ids: number[] = [];
    let shown = '';
    const show = (final: boolean) => {
      const s = tok.decode(ids);
      const upto = final ? s.length : s.endsWith('\ufffd') ? s.lastIndexOf('\ufffd') : s.length;
      if (upto > shown.length) {
        process.stdout.write(s.slice(shown.length, upto));
        shown = s.slice(0, upto);
      }
    };
    generateTokens(model, prompt, {
      tokens: f.tokens as number, context: cfg.text.context, seed: f.seed as number, temperature: f.temperature as number,
      topK: f.topK as number | undefined,
      onToken: (id) => { ids.push(id); show(false); },
    });
    show(true);
    process.stdout.write('\n');
    return 0;
  } finally {
    model.dispose();
  }
}
