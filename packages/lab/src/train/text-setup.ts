/**
 * The run of a language model on `--data text`: documents (`--data-file PATH`, or the Brown corpus), the
 * tokenizer (`--tokenizer`), the model with the tokenizer's vocabulary, and next-token batch sources of
 * `--context` tokens (default: the model's context): `train` at seeded random offsets, `test` the fixed
 * validation documents tiled in order. `lwlr lr`, `train`, `compare` and `sweep` reach it through `setupRun`.
 */
import { collectParams } from 'layerwise-lr';
import { brownDocuments, readTextPath, tokenizeCorpus } from '../data/text.js';
import { loadTokenizer, type TokenizerName } from '../data/tokenizers.js';
import { TextBatchSource } from '../data/text-batches.js';
import { buildModel, isLanguageModel } from '../models/registry.js';
import { gptContextLength } from '../models/gpt.js';
import type { RunSetup, SetupOptions } from './setup.js';

/** What a language-model run knows about its text, for its metrics and for `lwlr generate`. */
export interface TextInfo {
  tokenizer: TokenizerName;
  vocabSize: number;
  /** Tokens per window (`--context`). */
  context: number;
  /** The model's context (its position table). */
  modelContext: number;
  /** UTF-8 bytes per token of the validation split (1 for bytes): bits per byte = loss / ln 2 / this. */
  bytesPerToken: number;
  trainTokens: number;
  validationTokens: number;
}

/**
 * Sets up a language-model run (see the module doc). The image-only options (`--augment`, `--val-split`,
 * `--image-size`, ...) are refused by the CLI before this.
 *
 * @example
 * ```ts
 * const run = await setupTextRun({ model: 'gpt-tiny', data: 'text', batchSize: 32, seed: 0 });
 * run.text!.bytesPerToken; // 1 (bytes)
 * ```
 */
export async function setupTextRun(o: SetupOptions): Promise<RunSetup & { text: TextInfo }> {
  if (!isLanguageModel(o.model)) throw new Error(`--data text trains language models (gpt2-small, gpt-mini, gpt-tiny), not --model ${o.model}`);
  const tokenizer = await loadTokenizer(o.tokenizer ?? 'bytes');
  const docs = o.dataFile !== undefined ? readTextPath(o.dataFile) : brownDocuments();
  const name = o.dataFile !== undefined ? `text:${o.dataFile}` : 'brown';
  const corpus = tokenizeCorpus(name, docs, tokenizer, o.limit);
  const model = buildModel(o.model, {
    inputShape: [1, 1, 1], numClasses: tokenizer.vocabSize, vocabSize: tokenizer.vocabSize, untieHead: o.untieHead,
    dropRate: o.dropRate, attnDropRate: o.attnDropRate, dropPathRate: o.dropPathRate, seed: o.seed,
  });
  try {
    const modelContext = gptContextLength(model);
    const context = o.context ?? modelContext;
    if (!(Number.isInteger(context) && context >= 1)) throw new Error(`--context must be a positive integer (got ${context})`);
    if (context > modelContext) throw new Error(`--context ${context} is longer than --model ${o.model}'s context of ${modelContext}`);
    const train = new TextBatchSource(corpus.train, { batchSize: o.batchSize, context, random: true, seed: o.seed });
    const test = new TextBatchSource(corpus.validation, { batchSize: o.batchSize, context, random: false });
    const vocabSize = model.outputs[0]!.shape[2] as number;
    return {
      dataset: { name, shape: [context], numClasses: vocabSize },
      model, params: collectParams(model), train, test,
      text: {
        tokenizer: tokenizer.name, vocabSize, context, modelContext,
        bytesPerToken: corpus.validationBytes / corpus.validation.length,
        trainTokens: corpus.train.length, validationTokens: corpus.validation.length,
      },
      dispose() {
        model.dispose();
      },
    };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
