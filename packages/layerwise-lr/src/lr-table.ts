/**
 * The LR table: per parameter {name, shape, numel, kind, G, eta}, with the metadata needed to
 * reproduce it, a versioned JSON form, and a compatibility check against a model's parameters.
 * The library does no file I/O: `JSON.stringify(table)` / `LRTable.fromJSON(text)` are the interface.
 */
import { hashString32 } from './rng.js';
import type { LRSchemeName, ZeroGradientPolicy } from './schemes.js';
import type { GradNorm, InitMode, ParamKind } from './types.js';
import { LIBRARY_VERSION } from './version.js';

/** The JSON schema id written by {@link LRTable.toJSON} and required by {@link LRTable.fromJSON}. */
export const LR_TABLE_SCHEMA = 'layerwise-lr/lr-table@1';

/** One parameter's row. */
export interface LRTableEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly numel: number;
  readonly kind: ParamKind;
  /** Measured gradient magnitude sum_t mean|g| (Algorithm 1); null for schemes that measure nothing. */
  readonly G: number | null;
  /** The learning-rate multiplier. */
  readonly eta: number;
  /** True when a zero-gradient parameter was left out of the normalization (eta = 1). */
  readonly excluded?: boolean;
}

/** Zero-gradient guard settings and findings of a measurement. */
export interface ZeroGradientReport {
  /** Relative threshold: zero-gradient when G <= threshold * medianG. */
  readonly threshold: number;
  readonly policy: ZeroGradientPolicy;
  readonly medianG: number;
  /** threshold * medianG. */
  readonly cutoff: number;
  /** Names of the parameters found below the cutoff. */
  readonly names: readonly string[];
}

/**
 * How a `frozen-adagrad` table's per-element multipliers were made (see `frozen-adagrad.ts`): each element's
 * multiplier is 1 / (sqrt(sum_t g^2) + eps) before the normalization; elements whose sqrt(sum_t g^2) is at or
 * below `zeroThreshold` x its median over all elements get 1, outside the normalization.
 */
export interface ElementwiseReport {
  readonly eps: number;
  readonly zeroThreshold: number;
  /** Elements found with a zero gradient (multiplier 1). */
  readonly zeroElements: number;
  /** Smallest and largest multiplier over all elements (after the normalization). */
  readonly min: number;
  readonly max: number;
}

/** How a table was made. */
export interface LRTableMeta {
  readonly scheme: LRSchemeName;
  /** T, the number of minibatches measured (null for fixed schemes). */
  readonly steps: number | null;
  readonly batchSize: number | null;
  readonly init: InitMode | null;
  /**
   * How G was measured (`layerwise`): `l1` sum_t mean|g| (the paper's), `l2` sum_t sqrt(mean g^2); null for
   * tables that measured no G. A table written before this field existed and measured (`steps` set) reads as `l1`.
   */
  readonly gradNorm: GradNorm | null;
  /** `frozen-adagrad` only: its epsilon, zero-gradient guard and the range of its per-element multipliers. */
  readonly elementwise: ElementwiseReport | null;
  readonly exponent: number | null;
  readonly seed: number | null;
  readonly zeroGradient: ZeroGradientReport | null;
  /** Hash of the parameters' names and shapes in order ({@link LRTable.signatureOf}). */
  readonly signature: string;
  readonly libraryVersion: string;
  /** ISO 8601 time of creation. */
  readonly createdAt: string;
  readonly warnings: readonly string[];
}

/** Metadata as given to the constructor: version, time and warnings are filled in when missing. */
export type LRTableMetaInput = Omit<LRTableMeta, 'libraryVersion' | 'createdAt' | 'warnings' | 'signature' | 'gradNorm' | 'elementwise'> &
  Partial<Pick<LRTableMeta, 'libraryVersion' | 'createdAt' | 'warnings' | 'signature' | 'gradNorm' | 'elementwise'>>;

/** The JSON form of a table. */
export interface LRTableJSON {
  schema: typeof LR_TABLE_SCHEMA;
  meta: LRTableMeta;
  entries: LRTableEntry[];
}

const KINDS: readonly ParamKind[] = ['kernel', 'bias', 'scale', 'shift', 'embedding'];
const SCHEMES: readonly LRSchemeName[] = ['uniform', 'layerwise', 'depth-increasing', 'depth-decreasing', 'mup', 'frozen-adagrad'];
const GRAD_NORM_NAMES: readonly GradNorm[] = ['l1', 'l2'];
const INITS: readonly InitMode[] = ['fan-out', 'fan-in', 'none'];
const POLICIES: readonly ZeroGradientPolicy[] = ['exclude', 'error', 'keep'];

function fail(msg: string): never {
  throw new Error(`LR table: ${msg}`);
}

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function numOrNull(x: unknown, where: string, check: (n: number) => boolean = Number.isFinite): number | null {
  if (x === null || x === undefined) return null;
  if (typeof x !== 'number' || !check(x)) fail(`${where} must be a number or null, got ${JSON.stringify(x)}`);
  return x;
}

function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

function validateEntry(e: unknown, i: number): LRTableEntry {
  const at = `entries[${i}]`;
  if (!isObj(e)) fail(`${at} must be an object`);
  if (typeof e.name !== 'string' || e.name.length === 0) fail(`${at}.name must be a non-empty string`);
  const where = `${at} ('${e.name}')`;
  if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
    fail(`${where}.shape must be an array of non-negative integers`);
  }
  const shape = (e.shape as number[]).slice();
  const numel = shape.reduce((a, b) => a * b, 1);
  if (e.numel !== numel) fail(`${where}.numel is ${JSON.stringify(e.numel)} but its shape ${fmtShape(shape)} has ${numel} elements`);
  if (!KINDS.includes(e.kind as ParamKind)) fail(`${where}.kind must be one of ${KINDS.join(', ')}, got ${JSON.stringify(e.kind)}`);
  const G = numOrNull(e.G, `${where}.G`, (n) => Number.isFinite(n) && n >= 0);
  if (typeof e.eta !== 'number' || !Number.isFinite(e.eta) || e.eta <= 0) fail(`${where}.eta must be a positive finite number, got ${JSON.stringify(e.eta)}`);
  if (e.excluded !== undefined && typeof e.excluded !== 'boolean') fail(`${where}.excluded must be a boolean`);
  const out: LRTableEntry = { name: e.name, shape, numel, kind: e.kind as ParamKind, G, eta: e.eta };
  return e.excluded ? { ...out, excluded: true } : out;
}

function validateZeroGradient(z: unknown): ZeroGradientReport | null {
  if (z === null || z === undefined) return null;
  if (!isObj(z)) fail('meta.zeroGradient must be an object or null');
  const threshold = numOrNull(z.threshold, 'meta.zeroGradient.threshold');
  const medianG = numOrNull(z.medianG, 'meta.zeroGradient.medianG');
  const cutoff = numOrNull(z.cutoff, 'meta.zeroGradient.cutoff');
  if (threshold === null || medianG === null || cutoff === null) fail('meta.zeroGradient needs threshold, medianG and cutoff');
  if (!POLICIES.includes(z.policy as ZeroGradientPolicy)) fail(`meta.zeroGradient.policy must be one of ${POLICIES.join(', ')}`);
  if (!Array.isArray(z.names) || !z.names.every((n) => typeof n === 'string')) fail('meta.zeroGradient.names must be an array of strings');
  return { threshold, policy: z.policy as ZeroGradientPolicy, medianG, cutoff, names: [...(z.names as string[])] };
}

function validateElementwise(e: unknown): ElementwiseReport | null {
  if (e === null || e === undefined) return null;
  if (!isObj(e)) fail('meta.elementwise must be an object or null');
  const get = (k: string, check: (n: number) => boolean = Number.isFinite): number => {
    const v = numOrNull(e[k], `meta.elementwise.${k}`, check);
    if (v === null) fail(`meta.elementwise needs ${k}`);
    return v;
  };
  return {
    eps: get('eps', (n) => Number.isFinite(n) && n >= 0),
    zeroThreshold: get('zeroThreshold', (n) => Number.isFinite(n) && n >= 0),
    zeroElements: get('zeroElements', (n) => Number.isInteger(n) && n >= 0),
    min: get('min', (n) => Number.isFinite(n) && n > 0),
    max: get('max', (n) => Number.isFinite(n) && n > 0),
  };
}

function validateMeta(m: unknown): LRTableMetaInput {
  if (!isObj(m)) fail('meta must be an object');
  if (!SCHEMES.includes(m.scheme as LRSchemeName)) fail(`meta.scheme must be one of ${SCHEMES.join(', ')}, got ${JSON.stringify(m.scheme)}`);
  const steps = numOrNull(m.steps, 'meta.steps', (n) => Number.isInteger(n) && n >= 1);
  const batchSize = numOrNull(m.batchSize, 'meta.batchSize', (n) => Number.isInteger(n) && n >= 1);
  if (m.init !== null && m.init !== undefined && !INITS.includes(m.init as InitMode)) fail(`meta.init must be one of ${INITS.join(', ')} or null`);
  if (m.gradNorm !== null && m.gradNorm !== undefined && !GRAD_NORM_NAMES.includes(m.gradNorm as GradNorm)) {
    fail(`meta.gradNorm must be one of ${GRAD_NORM_NAMES.join(', ')} or null, got ${JSON.stringify(m.gradNorm)}`);
  }
  const exponent = numOrNull(m.exponent, 'meta.exponent');
  const seed = numOrNull(m.seed, 'meta.seed', Number.isSafeInteger);
  if (m.signature !== undefined && typeof m.signature !== 'string') fail('meta.signature must be a string');
  if (m.libraryVersion !== undefined && typeof m.libraryVersion !== 'string') fail('meta.libraryVersion must be a string');
  if (m.createdAt !== undefined && typeof m.createdAt !== 'string') fail('meta.createdAt must be a string');
  if (m.warnings !== undefined && !(Array.isArray(m.warnings) && m.warnings.every((w) => typeof w === 'string'))) {
    fail('meta.warnings must be an array of strings');
  }
  return {
    scheme: m.scheme as LRSchemeName,
    steps,
    batchSize,
    init: (m.init ?? null) as InitMode | null,
    gradNorm: m.gradNorm as GradNorm | null | undefined,
    elementwise: validateElementwise(m.elementwise),
    exponent,
    seed,
    zeroGradient: validateZeroGradient(m.zeroGradient),
    signature: m.signature as string | undefined,
    libraryVersion: m.libraryVersion as string | undefined,
    createdAt: m.createdAt as string | undefined,
    warnings: m.warnings as string[] | undefined,
  };
}

/** Lists shown in an error: the first `max`, then a count. */
function listSome(items: readonly string[], max = 20): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown}, ... and ${items.length - max} more` : shown;
}

function fmtNum(x: number | null, kind: 'G' | 'eta'): string {
  if (x === null) return '-';
  if (kind === 'G') return x.toExponential(4);
  return Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toPrecision(5) : x.toExponential(4);
}

/**
 * Per-parameter learning-rate multipliers with their provenance. Read by name
 * ({@link LRTable.eta}, {@link LRTable.etaMap}); serialize with `JSON.stringify(table)` and read back
 * with {@link LRTable.fromJSON}; check against a model with {@link LRTable.checkCompatible}.
 *
 * @example
 * ```ts
 * import { measureLayerwiseLR, LRTable, collectParams } from 'layerwise-lr';
 * const table = await measureLayerwiseLR(model, batches, { steps: 10 });
 * console.log(table.format());
 * const text = JSON.stringify(table);            // the CLI writes it to lr.json
 * const again = LRTable.fromJSON(text);
 * again.checkCompatible(collectParams(model));   // throws listing any differences
 * const eta = again.etaMap();                    // { 'fc1.kernel': 0.93, ... }
 * ```
 */
export class LRTable {
  readonly entries: readonly LRTableEntry[];
  readonly meta: LRTableMeta;
  private readonly byName: Map<string, LRTableEntry>;

  /**
   * Builds a table; validates every entry (names unique, numel = product of shape, eta positive finite).
   *
   * @example
   * ```ts
   * const t = new LRTable([{ name: 'w', shape: [2, 2], numel: 4, kind: 'kernel', G: null, eta: 1 }],
   *   { scheme: 'uniform', steps: null, batchSize: null, init: null, exponent: null, seed: null, zeroGradient: null });
   * ```
   */
  constructor(entries: readonly LRTableEntry[], meta: LRTableMetaInput) {
    if (!Array.isArray(entries) || entries.length === 0) fail('needs at least one entry');
    const list = entries.map((e, i) => validateEntry(e, i));
    const byName = new Map<string, LRTableEntry>();
    for (const e of list) {
      if (byName.has(e.name)) fail(`duplicate parameter name '${e.name}'`);
      byName.set(e.name, e);
    }
    const checked = validateMeta(meta);
    const signature = LRTable.signatureOf(list);
    if (checked.signature !== undefined && checked.signature !== signature) {
      fail(`meta.signature ${checked.signature} does not match the entries' names and shapes (${signature})`);
    }
    this.entries = Object.freeze(list.map((e) => Object.freeze({ ...e, shape: Object.freeze([...e.shape]) })));
    this.byName = new Map(this.entries.map((e) => [e.name, e]));
    this.meta = Object.freeze({
      scheme: checked.scheme,
      steps: checked.steps,
      batchSize: checked.batchSize,
      init: checked.init,
      // absent: a layer-wise table measured before the option existed (the paper's L1), else nothing measured
      gradNorm: checked.gradNorm !== undefined ? checked.gradNorm : checked.scheme === 'layerwise' && checked.steps !== null ? 'l1' : null,
      elementwise: checked.elementwise ?? null,
      exponent: checked.exponent,
      seed: checked.seed,
      zeroGradient: checked.zeroGradient,
      signature,
      libraryVersion: checked.libraryVersion ?? LIBRARY_VERSION,
      createdAt: checked.createdAt ?? new Date().toISOString(),
      warnings: Object.freeze([...(checked.warnings ?? [])]),
    });
  }

  /**
   * The signature of a parameter list: a hash of names and shapes in order (`sig1:` + 16 hex digits).
   *
   * @example
   * ```ts
   * LRTable.signatureOf(collectParams(model)) === table.meta.signature; // same names and shapes
   * ```
   */
  static signatureOf(params: readonly { readonly name: string; readonly shape: readonly number[] }[]): string {
    const text = params.map((p) => `${p.name}${fmtShape(p.shape)}`).join(';');
    const a = hashString32(text).toString(16).padStart(8, '0');
    const b = hashString32(text, 0x9e3779b9).toString(16).padStart(8, '0');
    return `sig1:${a}${b}`;
  }

  /** Parameter names in order. */
  get names(): string[] {
    return this.entries.map((e) => e.name);
  }

  /**
   * The multiplier of one parameter; throws for an unknown name.
   *
   * @example
   * ```ts
   * const lrOfFc1 = baseLr * table.eta('fc1.kernel');
   * ```
   */
  eta(name: string): number {
    const e = this.byName.get(name);
    if (!e) fail(`no parameter named '${name}' (the table has ${this.entries.length}: ${listSome(this.names, 5)})`);
    return e.eta;
  }

  /**
   * The entry of one parameter, or undefined.
   *
   * @example
   * ```ts
   * table.entry('attn.k.bias')?.excluded; // true when found zero-gradient
   * ```
   */
  entry(name: string): LRTableEntry | undefined {
    return this.byName.get(name);
  }

  /**
   * name -> eta, in parameter order (what the optimizers take).
   *
   * @example
   * ```ts
   * const etas = table.etaMap(); // { 'fc1.kernel': 0.91, 'fc1.bias': 3.2, ... }
   * ```
   */
  etaMap(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const e of this.entries) out[e.name] = e.eta;
    return out;
  }

  /**
   * The versioned JSON form (`schema: 'layerwise-lr/lr-table@1'`); `JSON.stringify(table)` calls it.
   *
   * @example
   * ```ts
   * const text = JSON.stringify(table, null, 2);
   * ```
   */
  toJSON(): LRTableJSON {
    return {
      schema: LR_TABLE_SCHEMA,
      meta: {
        ...this.meta,
        zeroGradient: this.meta.zeroGradient ? { ...this.meta.zeroGradient, names: [...this.meta.zeroGradient.names] } : null,
        elementwise: this.meta.elementwise ? { ...this.meta.elementwise } : null,
        warnings: [...this.meta.warnings],
      },
      entries: this.entries.map((e) => {
        const o: LRTableEntry = { name: e.name, shape: [...e.shape], numel: e.numel, kind: e.kind, G: e.G, eta: e.eta };
        return e.excluded ? { ...o, excluded: true } : o;
      }),
    };
  }

  /**
   * Reads a table from its JSON form (an object or the JSON text), validating the schema id and
   * every field, with an error naming the first bad field.
   *
   * @example
   * ```ts
   * const table = LRTable.fromJSON(text); // text written by JSON.stringify(table)
   * ```
   */
  static fromJSON(json: unknown): LRTable {
    let obj: unknown = json;
    if (typeof json === 'string') {
      try {
        obj = JSON.parse(json);
      } catch (err) {
        fail(`not valid JSON (${(err as Error).message})`);
      }
    }
    if (!isObj(obj)) fail('expected a JSON object');
    if (obj.schema !== LR_TABLE_SCHEMA) {
      if (typeof obj.schema === 'string' && obj.schema.startsWith('layerwise-lr/lr-table@')) {
        fail(`unsupported schema version '${obj.schema}': this library (${LIBRARY_VERSION}) reads '${LR_TABLE_SCHEMA}'`);
      }
      fail(`missing or unknown schema ${JSON.stringify(obj.schema)}: expected '${LR_TABLE_SCHEMA}'`);
    }
    if (!Array.isArray(obj.entries)) fail('entries must be an array');
    return new LRTable(obj.entries as LRTableEntry[], validateMeta(obj.meta));
  }

  /**
   * Throws one Error listing every difference between the table and a model's parameters:
   * names missing from the table, names in the table that the model lacks, and shape mismatches.
   * Returns nothing when they match (order may differ).
   *
   * @example
   * ```ts
   * table.checkCompatible(collectParams(model));
   * ```
   */
  checkCompatible(params: readonly { readonly name: string; readonly shape: readonly number[] }[]): void {
    const modelNames = new Set(params.map((p) => p.name));
    const missing = params.filter((p) => !this.byName.has(p.name)).map((p) => `${p.name} ${fmtShape(p.shape)}`);
    const extra = this.entries.filter((e) => !modelNames.has(e.name)).map((e) => `${e.name} ${fmtShape(e.shape)}`);
    const mismatched = params.flatMap((p) => {
      const e = this.byName.get(p.name);
      if (!e || fmtShape(e.shape) === fmtShape(p.shape)) return [];
      return [`${p.name}: table ${fmtShape(e.shape)} vs model ${fmtShape(p.shape)}`];
    });
    if (missing.length + extra.length + mismatched.length === 0) return;
    const lines = [`LR table (${this.meta.scheme}, ${this.entries.length} parameters) does not match the model (${params.length} parameters):`];
    if (missing.length) lines.push(`  ${missing.length} missing from the table: ${listSome(missing)}`);
    if (extra.length) lines.push(`  ${extra.length} in the table but not in the model: ${listSome(extra)}`);
    if (mismatched.length) lines.push(`  ${mismatched.length} shape mismatch${mismatched.length > 1 ? 'es' : ''}: ${listSome(mismatched)}`);
    throw new Error(lines.join('\n'));
  }

  /**
   * A printable table: name, kind, shape, numel, G, eta (zero-gradient exclusions marked `*`),
   * under a header line with the scheme and measurement settings.
   *
   * @example
   * ```ts
   * console.log(table.format());
   * ```
   */
  format(): string {
    const m = this.meta;
    const head = [`scheme ${m.scheme}`];
    if (m.steps !== null) head.push(`T=${m.steps}`);
    if (m.batchSize !== null) head.push(`batch ${m.batchSize}`);
    if (m.init !== null) head.push(`init ${m.init}`);
    if (m.gradNorm !== null) head.push(`G ${m.gradNorm === 'l1' ? 'l1 (mean |g|)' : 'l2 (rms g)'}`);
    if (m.exponent !== null) head.push(m.elementwise ? `per element 1/(sqrt(sum g^2) + ${m.elementwise.eps})` : `p=${m.exponent}`);
    if (m.seed !== null) head.push(`seed ${m.seed}`);
    const rows = [['name', 'kind', 'shape', 'numel', 'G', m.elementwise ? 'mean eta' : 'eta']].concat(this.entries.map((e) => [
      e.name + (e.excluded ? ' *' : ''), e.kind, fmtShape(e.shape), String(e.numel), fmtNum(e.G, 'G'), fmtNum(e.eta, 'eta'),
    ]));
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    const right = [false, false, false, true, true, true];
    const lines = rows.map((r) => r.map((cell, c) => (right[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd());
    const out = [`LR table: ${head.join(', ')}`, ...lines];
    if (m.elementwise) {
      const e = m.elementwise;
      out.push(`per-element multipliers from ${fmtNum(e.min, 'eta')} to ${fmtNum(e.max, 'eta')} (eta: each tensor's mean)` +
        (e.zeroElements > 0 ? `; ${e.zeroElements} zero-gradient element(s) at 1` : ''));
    }
    if (this.entries.some((e) => e.excluded)) out.push('* zero gradient: left out of the normalization, eta = 1');
    for (const w of m.warnings) out.push(`warning: ${w}`);
    return out.join('\n');
  }
}
