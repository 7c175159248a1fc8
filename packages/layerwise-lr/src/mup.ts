/**
 * Maximal update parametrization (muP; Yang et al. 2022, "Tensor Programs V", the `mup` package's
 * `set_base_shapes` + `MuSGD` / `MuAdam` + `MuReadout`), relative to a base model, as a per-tensor
 * learning-rate table (scheme `mup`) and per-tensor init scales for the optimizers of this library.
 *
 * Infinite dimensions come from comparing each tensor's shape with the base model's tensor of the same name
 * (a dimension that differs is infinite; its width multiplier is `shape / baseShape`), as `set_base_shapes`.
 * With tfjs layouts the fan-in dimension of a kernel is `shape[ndim - 2]` (dense `[in, out]`, conv
 * `[kh, kw, in, out]`) and the fan-out dimension `shape[ndim - 1]`. Each tensor gets a role:
 *
 * | role     | which tensors                                  | SGD eta           | Adam eta        | init scale |
 * |----------|------------------------------------------------|-------------------|-----------------|------------|
 * | `input`  | kernel, fan-out infinite, fan-in finite        | m_out             | 1               | 1          |
 * | `hidden` | kernel, fan-in and fan-out infinite            | m_out / m_in      | 1 / m_in        | 1 (`fan-in`) or 1/sqrt(m_in) (`constant`) |
 * | `output` | kernel, fan-in infinite, fan-out finite        | 1 / m_in (absorb) or m_in (model) | 1 / m_in (absorb) or 1 (model) | 1 / m_in (absorb) or 1 (model) |
 * | `vector` | bias, norm scale/shift, embedding, one inf dim | m                 | 1               | 1          |
 * | `fixed`  | no infinite dimension                          | 1                 | 1               | 1          |
 *
 * (m = width multiplier of the infinite dimension; m_in, m_out of the fan-in / fan-out dimension.) These are
 * exactly the `mup` package's groups: `MuSGD` multiplies the lr of vector-like tensors (one infinite dim,
 * which includes the input and output kernels) by their width multiplier and divides the lr of matrix-like
 * ones by `fanin_mult / fanout_mult`; `MuAdam` divides the lr of matrix-like tensors by their fan-in
 * multiplier; `MuReadout` multiplies the readout's input by `1 / width_mult`. Relative to Table 3 of TP5
 * (input weights & biases: SGD lr x fan_out, Adam lr x 1; hidden: SGD x 1, Adam x 1/fan_in; output weights:
 * SGD and Adam x 1/fan_in, init var 1/fan_in^2) this is the same parametrization expressed relative to the base.
 *
 * The output multiplier `1 / m_in` of the readout is either applied by the model (`outputMultiplier:
 * 'model'`: the model multiplies its logits by {@link mupOutputMultiplier}, as `MuReadout`) or absorbed
 * (`'absorb'`, the default): with `W_eff = W / m` the same training run is obtained by scaling the readout's
 * init by `1/m` and its learning rate by `1/m^2` (SGD: `m * 1/m^2 = 1/m`) or `1/m` (Adam, whose step is
 * invariant to gradient scale), with no change to the model. Exact in real arithmetic for the gradient
 * steps; see the deviations below for eps and weight decay.
 *
 * Init scales multiply the model's own init at the target width. `baseInit: 'fan-in'` (default) is for inits
 * whose variance is already `c / fan_in` at every width (the fan-in measurement init, PyTorch's defaults):
 * only the readout changes. `'constant'` is for inits whose std does not depend on the width (timm ViT's
 * N(0, .02^2)): hidden kernels are scaled by `1/sqrt(m_in)` as `mup.init.normal_` does.
 *
 * Deviations from the `mup` package: (1) weight decay: our eta scales a tensor's decay like a torch param
 * group's lr (`lr * eta * wd`); `MuSGD`/`MuAdam` rescale `weight_decay` inversely so `lr * wd` stays
 * per-tensor constant. Identical when wd = 0. (2) absorbed readout with Adam: eps acts as `eps * m` on the
 * readout (negligible unless gradients are ~eps). (3) Attention logits keep 1/sqrt(d) (muP's 1/d attention
 * scaling is left out). (4) The readout's init follows the package (the model's own readout init times
 * `1/m`), not Table 3's `var 1/fan_in^2`; both are muP (any readout init that is O(1/fan_in) or smaller).
 */
import * as tf from '@tensorflow/tfjs-core';
import { EtaTable, type EtaTableEntry } from './eta-table.js';
import type { ParamInfo } from './types.js';

/** What muP treats a tensor as (see the module doc's table). */
export type MupRole = 'input' | 'hidden' | 'output' | 'vector' | 'fixed';

/** A tensor's shape against the base model's: its infinite dimensions and width multipliers. */
export interface MupShape {
  readonly name: string;
  readonly shape: readonly number[];
  readonly baseShape: readonly number[];
  /** Indices of the dimensions that differ from the base. */
  readonly infDims: readonly number[];
  /** Width multiplier of the fan-in dimension of a kernel (1 when finite or not a kernel). */
  readonly fanInMult: number;
  /** Width multiplier of the fan-out dimension of a kernel (1 when finite or not a kernel). */
  readonly fanOutMult: number;
  /** The multiplier of the single infinite dimension of a vector-like tensor (1 for others). */
  readonly widthMult: number;
  readonly role: MupRole;
}

/** Options of {@link mupTable} and {@link mupInitScales}. */
export interface MupOptions {
  /** Which optimizer family the learning rates are for: `sgd` (SGD, SGD momentum) or `adam` (Adam, AdamW). */
  optimizer: 'sgd' | 'adam';
  /** `absorb` (default): the readout multiplier lives in init and lr; `model`: the model applies it. */
  outputMultiplier?: 'absorb' | 'model';
  /** How the model's own init depends on width: `fan-in` (default) or `constant`. */
  baseInit?: 'fan-in' | 'constant';
}

/** Base shapes: a parameter list of the base model, or a name -> shape record. */
export type MupBase = readonly Pick<ParamInfo, 'name' | 'shape'>[] | Readonly<Record<string, readonly number[]>>;

function baseRecord(base: MupBase): Map<string, readonly number[]> {
  if (Array.isArray(base)) return new Map((base as Pick<ParamInfo, 'name' | 'shape'>[]).map((p) => [p.name, p.shape]));
  return new Map(Object.entries(base as Record<string, readonly number[]>));
}

/**
 * Each parameter's infinite dimensions and role against the base model (`set_base_shapes`). A parameter
 * missing from the base, a rank mismatch, or more than two infinite dimensions is an error.
 *
 * @example
 * ```ts
 * // MLP 784-512-10 against base width 256
 * mupShapes(collectParams(model), collectParams(baseModel)).map((s) => [s.name, s.role]);
 * // [['fc1.kernel','input'], ['fc1.bias','vector'], ['fc2.kernel','output'], ['fc2.bias','fixed']]
 * ```
 */
export function mupShapes(params: readonly Pick<ParamInfo, 'name' | 'shape' | 'kind'>[], base: MupBase): MupShape[] {
  const bases = baseRecord(base);
  return params.map((p) => {
    const b = bases.get(p.name);
    if (b === undefined) throw new Error(`mup: parameter '${p.name}' is not in the base model`);
    if (b.length !== p.shape.length) {
      throw new Error(`mup: parameter '${p.name}' has shape [${p.shape.join(',')}] but base shape [${b.join(',')}] (rank differs)`);
    }
    const infDims = p.shape.map((d, i) => (d !== b[i] ? i : -1)).filter((i) => i >= 0);
    if (infDims.length > 2) throw new Error(`mup: parameter '${p.name}' has ${infDims.length} infinite dimensions (at most 2)`);
    const mult = (i: number) => p.shape[i]! / b[i]!;
    const nd = p.shape.length;
    if (p.kind === 'kernel' && nd >= 2) {
      const iIn = nd - 2;
      const iOut = nd - 1;
      const extra = infDims.filter((i) => i !== iIn && i !== iOut);
      if (extra.length > 0) throw new Error(`mup: kernel '${p.name}' differs from the base in a spatial dimension (${extra.join(',')})`);
      const fanInMult = infDims.includes(iIn) ? mult(iIn) : 1;
      const fanOutMult = infDims.includes(iOut) ? mult(iOut) : 1;
      const inInf = infDims.includes(iIn);
      const outInf = infDims.includes(iOut);
      const role: MupRole = inInf && outInf ? 'hidden' : outInf ? 'input' : inInf ? 'output' : 'fixed';
      const widthMult = role === 'input' ? fanOutMult : role === 'output' ? fanInMult : 1;
      return { name: p.name, shape: [...p.shape], baseShape: [...b], infDims, fanInMult, fanOutMult, widthMult, role };
    }
    if (infDims.length === 2) throw new Error(`mup: '${p.name}' (${p.kind}) has two infinite dimensions; only kernels may`);
    const role: MupRole = infDims.length === 1 ? 'vector' : 'fixed';
    const widthMult = infDims.length === 1 ? mult(infDims[0]!) : 1;
    return { name: p.name, shape: [...p.shape], baseShape: [...b], infDims, fanInMult: 1, fanOutMult: 1, widthMult, role };
  });
}

/**
 * The learning-rate multiplier (eta) of one tensor under muP (the module doc's table).
 *
 * @example
 * ```ts
 * mupEta({ role: 'hidden', fanInMult: 2, fanOutMult: 2, widthMult: 1 } as MupShape, { optimizer: 'adam' }); // 0.5
 * ```
 */
export function mupEta(s: MupShape, o: MupOptions): number {
  const absorb = (o.outputMultiplier ?? 'absorb') === 'absorb';
  switch (s.role) {
    case 'input':
    case 'vector':
      return o.optimizer === 'sgd' ? s.widthMult : 1;
    case 'hidden':
      return o.optimizer === 'sgd' ? s.fanOutMult / s.fanInMult : 1 / s.fanInMult;
    case 'output':
      if (absorb) return 1 / s.fanInMult;
      return o.optimizer === 'sgd' ? s.fanInMult : 1;
    default:
      return 1;
  }
}

/**
 * The factor one tensor's init is multiplied by under muP (the module doc's table).
 *
 * @example
 * ```ts
 * mupInitScale({ role: 'output', fanInMult: 4 } as MupShape, { optimizer: 'sgd' }); // 0.25
 * ```
 */
export function mupInitScale(s: MupShape, o: MupOptions): number {
  const absorb = (o.outputMultiplier ?? 'absorb') === 'absorb';
  if (s.role === 'output') return absorb ? 1 / s.fanInMult : 1;
  if (s.role === 'hidden' && o.baseInit === 'constant') return 1 / Math.sqrt(s.fanInMult);
  return 1;
}

/**
 * The logit multiplier a model applies in `outputMultiplier: 'model'` mode: `1 / m_in` of the readout
 * (`MuReadout`). With several output tensors they must agree; no output tensor gives 1.
 *
 * @example
 * ```ts
 * mupOutputMultiplier(mupShapes(params, baseParams)); // 0.5 at twice the base width
 * ```
 */
export function mupOutputMultiplier(shapes: readonly MupShape[]): number {
  const outs = [...new Set(shapes.filter((s) => s.role === 'output').map((s) => s.fanInMult))];
  if (outs.length > 1) throw new Error(`mup: output tensors have different width multipliers (${outs.join(', ')})`);
  return outs.length === 0 ? 1 : 1 / outs[0]!;
}

/**
 * muP's per-tensor learning rates as an {@link EtaTable} (scheme `mup`, not normalized: muP is defined
 * relative to the base model, where every eta is 1). Compose with `SGD` (`optimizer: 'sgd'`) or `AdamW`
 * (`optimizer: 'adam'`) through their `eta` option.
 *
 * @example
 * ```ts
 * const base = collectParams(mlp({ inputShape: [784], numClasses: 10, width: 256 }));
 * const table = mupTable(collectParams(model), base, { optimizer: 'sgd' });
 * applyMupInit(collectParams(model), base, { optimizer: 'sgd' });
 * const opt = new SGD(collectParams(model), { lr: 0.1, eta: table, momentum: 0.9 });
 * ```
 */
export function mupTable(params: readonly ParamInfo[], base: MupBase, o: MupOptions): EtaTable {
  const shapes = mupShapes(params, base);
  const entries: EtaTableEntry[] = params.map((p, i) => ({
    name: p.name, shape: [...p.shape], numel: p.numel, kind: p.kind, G: null, eta: mupEta(shapes[i]!, o),
  }));
  return new EtaTable(entries, {
    scheme: 'mup', steps: null, batchSize: null, init: null, exponent: null, seed: null, zeroGradient: null,
    signature: EtaTable.signatureOf(params),
  });
}

/**
 * Per-tensor init scales by name (only the tensors whose scale is not 1).
 *
 * @example
 * ```ts
 * mupInitScales(params, base, { optimizer: 'sgd' }); // { 'fc2.kernel': 0.5 } at twice the base width
 * ```
 */
export function mupInitScales(params: readonly Pick<ParamInfo, 'name' | 'shape' | 'kind'>[], base: MupBase, o: MupOptions): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of mupShapes(params, base)) {
    const k = mupInitScale(s, o);
    if (k !== 1) out[s.name] = k;
  }
  return out;
}

/**
 * Multiplies each parameter's current values by its muP init scale (in place; call once, after the model's
 * or the measurement init). Returns the scales applied.
 *
 * @example
 * ```ts
 * applyMeasurementInit(params, { init: 'fan-in', seed: 0 });
 * applyMupInit(params, baseParams, { optimizer: 'adam' });
 * ```
 */
export function applyMupInit(params: readonly ParamInfo[], base: MupBase, o: MupOptions): Record<string, number> {
  const scales = mupInitScales(params, base, o);
  for (const p of params) {
    const k = scales[p.name];
    if (k === undefined) continue;
    tf.tidy(() => { p.variable.assign(tf.mul(p.variable, k)); });
  }
  return scales;
}
