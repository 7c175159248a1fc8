/**
 * Parameter discovery: the named, typed list of trainable tensors that Algorithm 1 measures and
 * every eta table is keyed by. Two sources: a tfjs `LayersModel` ({@link collectParams}) or a plain
 * map of named `tf.Variable`s ({@link paramsFromVariables}).
 *
 * Fan conventions follow PyTorch's `torch.nn.init._calculate_fan_in_and_fan_out`, applied to tfjs
 * layouts (kernel `[...receptive, in, out]`): `fanIn = receptive * in`, `fanOut = receptive * out`.
 * Depthwise kernels `[kh, kw, in, mult]` correspond to a PyTorch weight `[in*mult, 1, kh, kw]`
 * with `groups = in`, hence `fanIn = kh*kw` and `fanOut = kh*kw*in*mult` (groups not divided out).
 * A transposed-conv kernel in tfjs is `[kh, kw, out, in]`; the same rule gives `fanIn = kh*kw*out`,
 * `fanOut = kh*kw*in`, which is what PyTorch computes for `ConvTranspose2d` (weight `[in, out, kh, kw]`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { PARAM_KINDS, type LayerLike, type LayerVariableLike, type LayersModelLike, type ParamInfo, type ParamKind } from './types.js';

/** A rule that sets the kind of every parameter whose dotted name matches. */
export interface KindOverride {
  /**
   * A RegExp is tested against the full dotted name (unanchored, like `RegExp.test`); a string is a
   * glob matched against the whole name, where `*` matches any run of characters
   * (`'blocks.*.attn.k.bias'`, `'cls_token'`).
   */
  pattern: RegExp | string;
  kind: ParamKind;
}

/** Options of {@link collectParams}. */
export interface CollectParamsOptions {
  /** Applied in order after the automatic kinds; the last matching rule wins. */
  kindOverrides?: readonly KindOverride[];
}

/** Options of {@link paramsFromVariables}. */
export interface ParamsFromVariablesOptions {
  /** Explicit kinds by exact name; they win over name patterns and `kindOverrides`. */
  kinds?: Readonly<Record<string, ParamKind>>;
  /** Pattern rules applied after the name patterns (the last matching rule wins). */
  kindOverrides?: readonly KindOverride[];
  /** Explicit fans by exact name (e.g. for a depthwise kernel, whose fans the shape cannot tell). */
  fans?: Readonly<Record<string, { fanIn: number; fanOut: number }>>;
}

/** Parameter names that are embedding-like whatever layer holds them (class token, position embeddings). */
export const EMBEDDING_NAME_PATTERN = /(^|[._])(cls_token|dist_token|pos_embed|pos_embedding|relative_position_bias_table)($|[._])/;


/** Layer classes whose weights are conv/dense kernels and biases. */
const KERNEL_LAYERS = new Set([
  'Dense', 'Conv1D', 'Conv2D', 'Conv3D', 'Conv2DTranspose', 'Conv3DTranspose',
  'DepthwiseConv2D', 'SeparableConv1D', 'SeparableConv2D',
]);
/** Layer classes whose gamma/beta are norm scale/shift. */
const NORM_LAYERS = new Set(['BatchNormalization', 'LayerNormalization']);

function product(xs: readonly number[]): number {
  let p = 1;
  for (const x of xs) p *= x;
  return p;
}

/**
 * Fans of a kernel in tfjs layout `[...receptive, in, out]`, PyTorch conventions; `depthwise` for
 * `[kh, kw, in, mult]` depthwise kernels (fanIn = kh*kw, fanOut = kh*kw*in*mult).
 *
 * @example
 * ```ts
 * kernelFans([3, 3, 16, 32]);      // { fanIn: 144, fanOut: 288 }
 * kernelFans([3, 3, 16, 2], true); // { fanIn: 9, fanOut: 288 }
 * ```
 */
export function kernelFans(shape: readonly number[], depthwise = false): { fanIn: number; fanOut: number } {
  if (shape.length < 2) return { fanIn: 1, fanOut: 1 };
  const receptive = product(shape.slice(0, -2));
  const inDim = shape[shape.length - 2]!;
  const outDim = shape[shape.length - 1]!;
  if (depthwise) return { fanIn: receptive, fanOut: receptive * inDim * outDim };
  return { fanIn: receptive * inDim, fanOut: receptive * outDim };
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

function matches(pattern: RegExp | string, name: string): boolean {
  if (typeof pattern === 'string') return globToRegExp(pattern).test(name);
  pattern.lastIndex = 0; // a /g or /y RegExp is stateful
  return pattern.test(name);
}

function checkKind(kind: unknown, where: string): ParamKind {
  if (!PARAM_KINDS.includes(kind as ParamKind)) {
    throw new Error(`${where}: unknown parameter kind '${String(kind)}' (expected one of ${PARAM_KINDS.join(', ')})`);
  }
  return kind as ParamKind;
}

function applyOverrides(name: string, kind: ParamKind | null, overrides: readonly KindOverride[] | undefined): ParamKind | null {
  if (!overrides) return kind;
  let k = kind;
  for (const o of overrides) {
    if (matches(o.pattern, name)) k = checkKind(o.kind, `kind override ${String(o.pattern)}`);
  }
  return k;
}

/** Kind guessed from the last segment of a name and the tensor's rank, or null when unknown. */
function kindFromShortName(short: string, rank: number): ParamKind | null {
  const s = short.toLowerCase();
  if (s === 'bias' || s.endsWith('_bias')) return 'bias';
  if (s === 'gamma' || s === 'scale') return 'scale';
  if (s === 'beta' || s === 'shift' || s === 'offset') return 'shift';
  if (s === 'embeddings' || s === 'embedding') return 'embedding';
  if ((s === 'kernel' || s.endsWith('_kernel') || s === 'weight') && rank >= 2) return 'kernel';
  return null;
}

function concreteShape(shape: readonly (number | null)[], where: string): number[] {
  return shape.map((d) => {
    if (d == null || !Number.isInteger(d) || d < 0) throw new Error(`${where}: weight has an undefined dimension in shape [${shape.join(',')}]`);
    return d;
  });
}

function asVariable(t: tf.Tensor, where: string): tf.Variable {
  if (!(t instanceof tf.Variable)) {
    throw new Error(`${where}: weight is not backed by a tf.Variable (two copies of @tensorflow/tfjs-core loaded?)`);
  }
  return t;
}

function shortNameOf(w: LayerVariableLike): string {
  const full = w.originalName ?? w.name.replace(/_\d+$/, '');
  const i = full.lastIndexOf('/');
  return i >= 0 ? full.slice(i + 1) : full;
}

/** Throws when two entries share a name, naming them. */
function checkUnique(params: readonly { name: string }[], hint: string): void {
  const seen = new Set<string>();
  const dups = new Set<string>();
  for (const p of params) {
    if (seen.has(p.name)) dups.add(p.name);
    seen.add(p.name);
  }
  if (dups.size > 0) throw new Error(`duplicate parameter names: ${[...dups].join(', ')} (${hint})`);
}

/**
 * The trainable float weights of a tfjs `LayersModel`, in model order, with stable dotted names,
 * kinds and fans.
 *
 * Name: `${layer.name}.${shortName}`, where `shortName` is the weight's name after its last `/`
 * (`fc1.kernel`, `fc1.bias`, `bn1.gamma`, `bn1.beta`), or just the layer name when the weight is named
 * after its layer (`cls_token`, `pos_embed`); the layers of a nested model are prefixed
 * with the nested model's name (`encoder.fc1.kernel`). Kinds come from the layer class (Dense / Conv /
 * DepthwiseConv2D / SeparableConv2D / Conv2DTranspose kernels -> `kernel`, their biases -> `bias`;
 * BatchNormalization / LayerNormalization gamma -> `scale`, beta -> `shift`; Embedding -> `embedding`),
 * then from the weight's own name for other layers, then from name patterns ({@link EMBEDDING_NAME_PATTERN}
 * -> `embedding`), and finally `opts.kindOverrides` win. A weight whose kind cannot be told is an error
 * that asks for an override. Frozen layers (`trainable = false`) and non-float weights are skipped.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { collectParams } from 'layerwise-lr';
 * const model = tf.sequential({ layers: [
 *   tf.layers.dense({ units: 32, inputShape: [8], name: 'fc1' }),
 *   tf.layers.dense({ units: 4, name: 'fc2' }) ] });
 * collectParams(model).map((p) => p.name); // ['fc1.kernel', 'fc1.bias', 'fc2.kernel', 'fc2.bias']
 * collectParams(model, { kindOverrides: [{ pattern: 'fc2.bias', kind: 'embedding' }] });
 * ```
 */
export function collectParams(model: LayersModelLike, opts: CollectParamsOptions = {}): ParamInfo[] {
  const out: ParamInfo[] = [];
  const seenVars = new Set<number>();
  const visit = (layer: LayerLike, prefix: string): void => {
    if (layer.layers && layer.layers.length > 0) {
      for (const child of layer.layers) visit(child, `${prefix}${layer.name}.`);
      return;
    }
    const cls = layer.getClassName();
    const weights = layer.trainableWeights;
    const shorts = weights.map(shortNameOf);
    weights.forEach((w, idx) => {
      if (!w.trainable || w.dtype !== 'float32') return;
      const where = `layer '${prefix}${layer.name}' (${cls})`;
      const variable = asVariable(w.read(), where);
      if (seenVars.has(variable.id)) return; // a weight shared between layers counts once
      seenVars.add(variable.id);
      let short = shorts[idx]!;
      if (shorts.filter((s) => s === short).length > 1) {
        // e.g. a wrapper (Bidirectional) holding two inner layers: keep the inner path
        const full = w.originalName ?? w.name;
        short = (full.startsWith(`${layer.name}/`) ? full.slice(layer.name.length + 1) : full).replace(/\//g, '.');
      }
      // A layer that is one named tensor (cls_token, pos_embed) names its weight after itself: `cls_token`,
      // not `cls_token.cls_token`.
      const name = short === layer.name ? `${prefix}${layer.name}` : `${prefix}${layer.name}.${short}`;
      const shape = concreteShape(w.shape, where);
      let kind: ParamKind | null = null;
      let depthwise = false;
      const s = short.toLowerCase();
      if (KERNEL_LAYERS.has(cls)) {
        if (s === 'bias') kind = 'bias';
        else if (s === 'kernel' || s === 'pointwise_kernel') kind = 'kernel';
        else if (s === 'depthwise_kernel') { kind = 'kernel'; depthwise = true; }
      } else if (NORM_LAYERS.has(cls)) {
        if (s === 'gamma') kind = 'scale';
        else if (s === 'beta') kind = 'shift';
      } else if (cls === 'Embedding') {
        kind = 'embedding';
      }
      if (kind === null) kind = kindFromShortName(s.split('.').pop()!, shape.length);
      if (EMBEDDING_NAME_PATTERN.test(name)) kind = 'embedding';
      kind = applyOverrides(name, kind, opts.kindOverrides);
      if (kind === null) {
        throw new Error(`cannot tell the kind of parameter '${name}' shape [${shape.join(',')}] in ${where}: ` +
          `pass kindOverrides: [{ pattern: '${name}', kind: 'kernel' | 'bias' | 'scale' | 'shift' | 'embedding' }]`);
      }
      const fans = kind === 'kernel' ? kernelFans(shape, depthwise) : { fanIn: 1, fanOut: 1 };
      out.push({ name, shape, numel: product(shape), kind, fanIn: fans.fanIn, fanOut: fans.fanOut, variable });
    });
  };
  for (const layer of model.layers) visit(layer, '');
  checkUnique(out, 'rename the layers so that every parameter has a unique dotted name');
  return out;
}

/**
 * Parameters from a plain map of named `tf.Variable`s (for models written as functions). Order is
 * the map's insertion order (avoid integer-like keys, which JavaScript enumerates first).
 * Only trainable float32 variables are taken.
 *
 * Kinds by name: last segment `bias` -> bias; `kernel` / `weight` with rank >= 2 -> kernel;
 * `gamma` / `scale` -> scale; `beta` / `shift` -> shift; `cls_token`, `pos_embed`,
 * `relative_position_bias_table`, `embedding(s)` -> embedding; any other tensor of rank >= 2 -> kernel;
 * any other of rank <= 1 is an error asking for an explicit kind. Then `opts.kindOverrides`, then
 * `opts.kinds` (exact names) win. Kernel fans from the shape in tfjs layout unless `opts.fans` gives them.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { paramsFromVariables } from 'layerwise-lr';
 * const vars = {
 *   'fc1.kernel': tf.variable(tf.zeros([4, 8])), 'fc1.bias': tf.variable(tf.zeros([8])),
 *   'temperature': tf.variable(tf.ones([1])),
 * };
 * const params = paramsFromVariables(vars, { kinds: { temperature: 'scale' } });
 * ```
 */
export function paramsFromVariables(
  vars: Readonly<Record<string, tf.Variable>>,
  opts: ParamsFromVariablesOptions = {},
): ParamInfo[] {
  const out: ParamInfo[] = [];
  const seen = new Map<number, string>();
  for (const [name, variable] of Object.entries(vars)) {
    if (!(variable instanceof tf.Variable)) throw new Error(`'${name}' is not a tf.Variable`);
    if (!variable.trainable || variable.dtype !== 'float32') continue;
    const prev = seen.get(variable.id);
    if (prev !== undefined) throw new Error(`the same tf.Variable appears under two names: '${prev}' and '${name}'`);
    seen.set(variable.id, name);
    const shape = variable.shape.slice();
    const last = name.split('.').pop()!;
    let kind: ParamKind | null = kindFromShortName(last, shape.length);
    if (EMBEDDING_NAME_PATTERN.test(name)) kind = 'embedding';
    if (kind === null && shape.length >= 2) kind = 'kernel';
    kind = applyOverrides(name, kind, opts.kindOverrides);
    if (opts.kinds && Object.prototype.hasOwnProperty.call(opts.kinds, name)) {
      kind = checkKind(opts.kinds[name], `kinds['${name}']`);
    }
    if (kind === null) {
      throw new Error(`cannot tell the kind of parameter '${name}' shape [${shape.join(',')}]: ` +
        `pass { kinds: { '${name}': 'kernel' | 'bias' | 'scale' | 'shift' | 'embedding' } }`);
    }
    let fans = kind === 'kernel' ? kernelFans(shape) : { fanIn: 1, fanOut: 1 };
    const given = opts.fans?.[name];
    if (given) {
      if (!(given.fanIn > 0) || !(given.fanOut > 0)) throw new Error(`fans['${name}'] must be positive numbers`);
      fans = { fanIn: given.fanIn, fanOut: given.fanOut };
    }
    out.push({ name, shape, numel: product(shape), kind, fanIn: fans.fanIn, fanOut: fans.fanOut, variable });
  }
  for (const key of [...Object.keys(opts.kinds ?? {}), ...Object.keys(opts.fans ?? {})]) {
    if (!Object.prototype.hasOwnProperty.call(vars, key)) throw new Error(`options name a parameter '${key}' that is not among the variables`);
  }
  return out;
}
