/**
 * Tokenizers of the text data (`--tokenizer`): `bytes` (the default: UTF-8 bytes, vocabulary 256, nothing to
 * load) and `gpt2` (GPT-2's byte-level BPE, vocabulary 50257, from the npm package `gpt-tokenizer`, which
 * ships the merges: nothing is downloaded at run time).
 *
 * Documents are joined with a separator token sequence: GPT-2's `<|endoftext|>` (50256) for `gpt2`, a blank
 * line ("\n\n") for `bytes`. Text that happens to contain the characters `<|endoftext|>` is encoded as those
 * characters, never as the special token.
 */
export const TOKENIZERS = ['bytes', 'gpt2'] as const;
export type TokenizerName = (typeof TOKENIZERS)[number];

export interface Tokenizer {
  name: TokenizerName;
  vocabSize: number;
  /** Token ids of a text (no special tokens). */
  encode(text: string): number[] | Uint8Array;
  /** The text of token ids. Bytes that do not form whole UTF-8 characters decode as U+FFFD. */
  decode(ids: ArrayLike<number>): string;
  /** Put between two documents. */
  separator: readonly number[];
}

const utf8 = new TextEncoder();
const lenientDecoder = new TextDecoder('utf-8');

/**
 * UTF-8 bytes as tokens (vocabulary 256).
 *
 * @example
 * ```ts
 * byteTokenizer().encode('é'); // Uint8Array [195, 169]
 * ```
 */
export function byteTokenizer(): Tokenizer {
  return {
    name: 'bytes',
    vocabSize: 256,
    encode: (text) => utf8.encode(text),
    decode: (ids) => lenientDecoder.decode(Uint8Array.from(ids as ArrayLike<number>)),
    separator: [10, 10],
  };
}

/** The GPT-2 end-of-text token. */
export const GPT2_EOT = 50256;

/**
 * GPT-2's tokenizer (`gpt-tokenizer/encoding/gpt2`, loaded on first use: about 0.5 MB of merges).
 *
 * @example
 * ```ts
 * (await gpt2Tokenizer()).encode('Hello world'); // [15496, 995]
 * ```
 */
export async function gpt2Tokenizer(): Promise<Tokenizer> {
  const bpe = await import('gpt-tokenizer/encoding/gpt2');
  const none = new Set<string>();
  return {
    name: 'gpt2',
    vocabSize: bpe.vocabularySize,
    encode: (text) => bpe.encode(text, { allowedSpecial: none, disallowedSpecial: none }),
    decode: (ids) => bpe.decode(Array.from(ids)),
    separator: [GPT2_EOT],
  };
}

/** A tokenizer by name; unknown names are a clear error. */
export async function loadTokenizer(name: string): Promise<Tokenizer> {
  if (name === 'bytes') return byteTokenizer();
  if (name === 'gpt2') return gpt2Tokenizer();
  throw new Error(`unknown tokenizer '${name}' (expected one of: ${TOKENIZERS.join(', ')})`);
}
