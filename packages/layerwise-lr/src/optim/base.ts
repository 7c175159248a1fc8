/**
 * The optimizer machinery shared by SGD, AdamW and every later baseline: a `tf.Optimizer` that owns a list
 * of named parameters ({@link ParamInfo}), gives each its learning rate `schedule(step) * eta[name]`, runs a
 * chain of {@link Transform}s on its gradient and moves it by `p <- p - u`.
 *
 * - Plugs into TensorFlow.js: `minimize(f)` (defaults to the optimizer's own variables) and
 *   `applyGradients(grads)` keyed by the tfjs VARIABLE name, as tfjs does; {@link ChainOptimizer.step}
 *   takes gradients keyed by PARAMETER name.
 * - State (momentum buffers, moments, per-parameter step counts) is keyed by parameter name, never by
 *   position, and comes out / goes in as plain data ({@link ChainOptimizer.getState} / `setState`).
 * - One `tidy` per step; tensors are read back to JS only by `getState()` / `getWeights()`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ParamInfo, Schedule } from '../types.js';
import { asSchedule, scheduleFromConfig, type ScheduleConfig } from '../schedule.js';
import type { StepContext, Transform } from './transforms.js';

/** A named tensor, as `tf.Optimizer.applyGradients` / `getWeights` use them. */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/**
 * Per-parameter learning-rate multipliers: an `LRTable` (anything with `etaMap()`) or a plain
 * `name -> eta` record. A source that also has `elementEtaMap()` (a `FrozenAdagradTable`) adds per-ELEMENT
 * factors: tensors shaped like their parameters, multiplied into the update on top of eta, so that element j
 * of tensor i trains with `lr * eta_i * factor_ij` (as its own torch param group would, weight decay included).
 */
export type EtaSource =
  | { etaMap(): Record<string, number>; elementEtaMap?(): Record<string, tf.Tensor> }
  | Readonly<Record<string, number>>;

/** Options every optimizer of this package takes. */
export interface OptimizerOptions {
  /** The global learning rate: a number or a schedule of the 0-based step. */
  lr: number | Schedule;
  /** Per-parameter multipliers (default: 1 for every parameter). */
  eta?: EtaSource;
  /**
   * Multiplier for parameters that `eta` does not name. Default: none, and a parameter missing from
   * `eta` is an error (names are the contract; a silent 1 would hide a typo).
   */
  etaDefault?: number;
}

/** Options of {@link ChainOptimizer}. */
export interface ChainOptions extends OptimizerOptions {
  /** The transforms applied in order to each gradient; the parameter then moves by `p - u`. */
  transforms: readonly Transform[];
}

/** One state slot as plain data. */
export interface SlotData {
  shape: number[];
  values: Float32Array | number[];
}

/** The state of one parameter. */
export interface ParamState {
  /** Number of updates this parameter has had (torch's `state['step']`). */
  step: number;
  slots: Record<string, SlotData>;
}

/** The whole optimizer state as plain data (for checkpoints). Keyed by parameter name. */
export interface OptimizerState {
  format: 'layerwise-lr/optimizer-state';
  version: 1;
  /** `className` of the optimizer that wrote it. */
  className: string;
  /** Optimizer steps taken so far (the next step uses `schedule(iterations)`). */
  iterations: number;
  params: Record<string, ParamState>;
}

/**
 * Turns an {@link EtaSource} into a plain `name -> eta` record (a copy).
 *
 * @example
 * ```ts
 * etaRecord(lrTable);            // lrTable.etaMap()
 * etaRecord({ 'fc1.kernel': 2 }); // { 'fc1.kernel': 2 }
 * ```
 */
export function etaRecord(eta: EtaSource): Record<string, number> {
  const maybe = eta as { etaMap?: unknown };
  if (typeof maybe.etaMap === 'function') return (eta as { etaMap(): Record<string, number> }).etaMap();
  return { ...(eta as Record<string, number>) };
}

/**
 * Rebuilds an `lr` option from its config form (a number or a schedule's `config`).
 *
 * @example
 * ```ts
 * const lr = lrFromConfig(opt.getConfig().lr); // number or schedule
 * ```
 */
export function lrFromConfig(lr: unknown): number | Schedule {
  if (typeof lr === 'number') return lr;
  if (lr != null && typeof lr === 'object') return scheduleFromConfig(lr as ScheduleConfig);
  throw new Error(`optimizer config: cannot rebuild lr from ${JSON.stringify(lr)} (a custom schedule function?)`);
}

/**
 * The per-element factors of an {@link EtaSource} (`elementEtaMap()`), or undefined when it has none.
 *
 * @example
 * ```ts
 * elementEtaRecord(frozenAdagradTable); // { 'fc1.kernel': Tensor, ... }
 * elementEtaRecord(lrTable);            // undefined
 * ```
 */
export function elementEtaRecord(eta: EtaSource | undefined): Record<string, tf.Tensor> | undefined {
  const maybe = eta as { elementEtaMap?: unknown } | undefined;
  if (maybe == null || typeof maybe.elementEtaMap !== 'function') return undefined;
  return (eta as { elementEtaMap(): Record<string, tf.Tensor> }).elementEtaMap();
}

/**
 * The `eta` option back from a `getConfig()`. A config written by an optimizer with per-element factors cannot
 * carry their tensors: rebuilding it from the config alone would silently drop them, so that is an error.
 *
 * @example
 * ```ts
 * const eta = etaFromConfig(opt.getConfig()); // { 'fc1.kernel': 0.93, ... }
 * ```
 */
export function etaFromConfig(c: Record<string, unknown>): Record<string, number> | undefined {
  if (c.elementEta !== undefined) {
    throw new Error('optimizer config: it had per-element multipliers (a frozen-adagrad table), which a config cannot carry; construct the optimizer with eta: <the table> instead');
  }
  return c.eta as Record<string, number> | undefined;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

const STATE_FORMAT = 'layerwise-lr/optimizer-state';

/**
 * An optimizer made of a chain of {@link Transform}s: the generic class behind SGD and AdamW, and the
 * way to write a new one in a few lines.
 *
 * @example
 * ```ts
 * import { ChainOptimizer, addWeightDecay, traceMomentum, scaleByLearningRate, masked, kernelsOnly } from 'layerwise-lr';
 * // SGD with momentum and kernel-only decay, spelled out:
 * const opt = new ChainOptimizer(params, {
 *   lr: cosineWithWarmup({ peak: 0.1, warmupSteps: 100, totalSteps: 1000 }),
 *   eta: lrTable,
 *   transforms: [masked(addWeightDecay(5e-4), kernelsOnly), traceMomentum({ momentum: 0.9 }), scaleByLearningRate()],
 * });
 * opt.minimize(() => loss());
 * ```
 */
export class ChainOptimizer extends tf.Optimizer {
  /** @nocollapse */
  static get className(): string {
    return 'LwlrChain';
  }

  /** The parameters this optimizer updates, in the order given. */
  readonly params: readonly ParamInfo[];
  /** The global learning-rate schedule. */
  readonly schedule: Schedule;
  /** The transform chain. */
  readonly transforms: readonly Transform[];

  private readonly byVariable = new Map<string, ParamInfo>();
  private readonly byName = new Map<string, ParamInfo>();
  private readonly lrOption: number | Schedule;
  private etaOption: Record<string, number> | undefined;
  private readonly etaDefault: number | undefined;
  private etas = new Map<string, number>();
  /** Per-element factors by parameter name (tensors owned by the eta source, never disposed here). */
  private elementEtas = new Map<string, tf.Tensor>();
  private readonly slotVars = new Map<string, Map<string, tf.Variable>>();
  private readonly stepCounts = new Map<string, number>();

  constructor(params: readonly ParamInfo[], options: ChainOptions) {
    super();
    if (!Array.isArray(params) || params.length === 0) throw new Error('optimizer: params must be a non-empty ParamInfo[]');
    for (const p of params) {
      if (this.byName.has(p.name)) throw new Error(`optimizer: parameter name "${p.name}" appears twice`);
      if (p.variable == null || typeof p.variable.assign !== 'function') {
        throw new Error(`optimizer: parameter "${p.name}" has no tf.Variable`);
      }
      if (this.byVariable.has(p.variable.name)) {
        throw new Error(`optimizer: variable "${p.variable.name}" is given twice ("${this.byVariable.get(p.variable.name)!.name}" and "${p.name}")`);
      }
      if (p.variable.dtype !== 'float32') throw new Error(`optimizer: parameter "${p.name}" is ${p.variable.dtype}, not float32`);
      if (!sameShape(p.variable.shape, p.shape)) {
        throw new Error(`optimizer: parameter "${p.name}" has shape [${p.shape}] but its variable [${p.variable.shape}]`);
      }
      this.byName.set(p.name, p);
      this.byVariable.set(p.variable.name, p);
    }
    this.params = [...params];
    this.lrOption = options.lr;
    if (typeof options.lr === 'number' && !(Number.isFinite(options.lr) && options.lr >= 0)) {
      throw new Error(`optimizer: lr must be a finite number >= 0, got ${options.lr}`);
    }
    this.schedule = asSchedule(options.lr);
    this.transforms = [...options.transforms];
    if (options.etaDefault != null && !(Number.isFinite(options.etaDefault) && options.etaDefault >= 0)) {
      throw new Error(`optimizer: etaDefault must be a finite number >= 0, got ${options.etaDefault}`);
    }
    this.etaDefault = options.etaDefault;
    this.setEta(options.eta);
  }

  /**
   * Replaces the per-parameter multipliers (`undefined`: all 1). Throws, listing them, when parameters are
   * missing from `eta` (unless `etaDefault` was given) or a value is not a finite number >= 0.
   * Names in `eta` that are not parameters of this optimizer are ignored (a table may cover frozen ones).
   *
   * @example
   * ```ts
   * opt.setEta({ 'fc1.kernel': 1.3, 'fc1.bias': 0.7 });
   * ```
   */
  setEta(eta: EtaSource | undefined): void {
    const rec = eta == null ? undefined : etaRecord(eta);
    const next = new Map<string, number>();
    const missing: string[] = [];
    const bad: string[] = [];
    for (const p of this.params) {
      let e: number | undefined;
      if (rec == null) e = 1;
      else if (Object.prototype.hasOwnProperty.call(rec, p.name)) e = rec[p.name];
      else e = this.etaDefault;
      if (e === undefined) { missing.push(p.name); continue; }
      if (typeof e !== 'number' || !Number.isFinite(e) || e < 0) { bad.push(`${p.name}=${e}`); continue; }
      next.set(p.name, e);
    }
    if (missing.length > 0) {
      throw new Error(`optimizer: eta has no entry for ${missing.length} parameter(s): ${missing.join(', ')} (pass etaDefault to allow this)`);
    }
    if (bad.length > 0) throw new Error(`optimizer: eta must be finite and >= 0: ${bad.join(', ')}`);
    const elementRec = elementEtaRecord(eta);
    const elements = new Map<string, tf.Tensor>();
    if (elementRec != null) {
      const wrong: string[] = [];
      for (const p of this.params) {
        const f = elementRec[p.name];
        if (f == null) continue;
        if (f.isDisposed || f.dtype !== 'float32' || !sameShape(f.shape, p.shape)) {
          wrong.push(`${p.name}: ${f.isDisposed ? 'disposed' : `${f.dtype} [${f.shape}]`} vs parameter [${p.shape}]`);
          continue;
        }
        elements.set(p.name, f);
      }
      if (wrong.length > 0) throw new Error(`optimizer: per-element multipliers do not fit their parameters: ${wrong.join('; ')}`);
    }
    this.etaOption = rec;
    this.etas = next;
    this.elementEtas = elements;
  }

  /**
   * Whether any parameter has per-element multipliers (then the fused single-kernel steps, which take one scalar
   * lr per tensor, are not used for those parameters).
   *
   * @example
   * ```ts
   * new SGD(params, { lr: 0.1, eta: frozenAdagradTable }).hasElementEta(); // true
   * ```
   */
  hasElementEta(): boolean {
    return this.elementEtas.size > 0;
  }

  /**
   * The multiplier of parameter `name`.
   *
   * @example
   * ```ts
   * opt.etaOf('fc1.kernel'); // 1.3
   * ```
   */
  etaOf(name: string): number {
    const e = this.etas.get(name);
    if (e === undefined) throw new Error(`optimizer: no parameter named "${name}"`);
    return e;
  }

  /**
   * The global learning rate the next step will use: `schedule(iterations)`. A parameter's own rate is
   * `currentLR() * etaOf(name)`.
   *
   * @example
   * ```ts
   * const lr = opt.currentLR();
   * ```
   */
  currentLR(): number {
    return this.schedule(this.iterations);
  }

  /**
   * Applies gradients keyed by tfjs variable name (`variable.name`), or a `NamedTensor[]` of the same,
   * exactly as `tf.Optimizer.applyGradients`. Absent / null gradients leave their parameter (and its step
   * count) untouched, as torch skips parameters whose `.grad` is None. A gradient for a variable that is not
   * one of this optimizer's parameters is an error.
   *
   * @example
   * ```ts
   * const { value, grads } = tf.variableGrads(() => loss());
   * opt.applyGradients(grads);
   * ```
   */
  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const entries: Array<[ParamInfo, tf.Tensor]> = [];
    const unknown: string[] = [];
    const pairs: Array<[string, tf.Tensor | undefined | null]> = Array.isArray(variableGradients)
      ? variableGradients.map((g) => [g.name, g.tensor])
      : Object.entries(variableGradients);
    for (const [varName, grad] of pairs) {
      const info = this.byVariable.get(varName);
      if (info == null) { unknown.push(varName); continue; }
      if (grad != null) entries.push([info, grad]);
    }
    if (unknown.length > 0) {
      throw new Error(
        `optimizer: gradient for variable(s) ${unknown.map((n) => `"${n}"`).join(', ')} not among this optimizer's parameters ` +
        `(known variables: ${[...this.byVariable.keys()].join(', ')})`,
      );
    }
    this.applyByParam(entries);
  }

  /**
   * One optimizer step from gradients keyed by PARAMETER name (`ParamInfo.name`).
   *
   * @example
   * ```ts
   * opt.step({ 'fc1.kernel': gK, 'fc1.bias': gB });
   * ```
   */
  step(gradsByParamName: Readonly<Record<string, tf.Tensor | undefined | null>>): void {
    const entries: Array<[ParamInfo, tf.Tensor]> = [];
    const unknown: string[] = [];
    for (const [name, grad] of Object.entries(gradsByParamName)) {
      const info = this.byName.get(name);
      if (info == null) { unknown.push(name); continue; }
      if (grad != null) entries.push([info, grad]);
    }
    if (unknown.length > 0) {
      throw new Error(`optimizer: gradient for unknown parameter(s) ${unknown.join(', ')} (known: ${[...this.byName.keys()].join(', ')})`);
    }
    this.applyByParam(entries);
  }

  /**
   * As `tf.Optimizer.minimize`, but `varList` defaults to this optimizer's parameters (not every trainable
   * variable in the engine).
   *
   * @example
   * ```ts
   * const loss = opt.minimize(() => tf.losses.meanSquaredError(y, model(x)), true);
   * ```
   */
  override minimize(f: () => tf.Scalar, returnCost = false, varList?: tf.Variable[]): tf.Scalar | null {
    return super.minimize(f, returnCost, varList ?? this.params.map((p) => p.variable));
  }

  /** The shared step: validates, then one tidy over all parameters, then `iterations += 1`. */
  protected applyByParam(entries: Array<[ParamInfo, tf.Tensor]>): void {
    for (const [info, grad] of entries) {
      if (!sameShape(grad.shape, info.shape)) {
        throw new Error(`optimizer: gradient of "${info.name}" has shape [${grad.shape}], parameter has [${info.shape}]`);
      }
    }
    const iteration = this.iterations;
    const baseLR = this.schedule(iteration);
    if (typeof baseLR !== 'number' || !Number.isFinite(baseLR) || baseLR < 0) {
      throw new Error(`optimizer: schedule gave lr=${baseLR} at step ${iteration} (must be finite and >= 0)`);
    }
    this.beforeStep();
    tf.tidy(() => {
      for (const [info, grad] of entries) {
        const step = (this.stepCounts.get(info.name) ?? 0) + 1;
        const ctx = this.context(info, baseLR, step, iteration);
        const next = this.updateParam(ctx, grad);
        info.variable.assign(next);
        this.stepCounts.set(info.name, step);
      }
    });
    this.incrementIterations();
  }

  /** Hook run once per step before any parameter is updated (validation that may throw). */
  protected beforeStep(): void {}

  /**
   * Computes the new value of one parameter. The default runs the transform chain and returns `p - u`;
   * subclasses override it to call a fused kernel. Runs inside the step's tidy.
   */
  protected updateParam(ctx: StepContext, grad: tf.Tensor): tf.Tensor {
    let u = grad;
    for (const t of this.transforms) u = t.update(u, ctx);
    return tf.sub(ctx.param, u);
  }

  private context(info: ParamInfo, baseLR: number, step: number, iteration: number): StepContext {
    const eta = this.etas.get(info.name)!;
    const slotsOf = (): Map<string, tf.Variable> => {
      let m = this.slotVars.get(info.name);
      if (m == null) { m = new Map(); this.slotVars.set(info.name, m); }
      return m;
    };
    return {
      info,
      param: info.variable,
      lr: baseLR * eta,
      baseLR,
      eta,
      elementEta: this.elementEtas.get(info.name),
      step,
      iteration,
      hasSlot: (name) => this.slotVars.get(info.name)?.has(name) ?? false,
      slot: (name) => {
        const m = slotsOf();
        let v = m.get(name);
        if (v == null) {
          v = tf.variable(tf.zerosLike(info.variable), false);
          m.set(name, v);
        }
        return v;
      },
      setSlot: (name, value) => {
        const m = slotsOf();
        const v = m.get(name);
        if (v == null) m.set(name, tf.variable(value, false));
        else v.assign(value);
      },
    };
  }

  /** Slot names any transform of this optimizer may create (used to validate restored state). */
  protected knownSlots(): Set<string> {
    return new Set(this.transforms.flatMap((t) => [...t.slots]));
  }

  /**
   * The optimizer's state as plain data, keyed by parameter name: per parameter its step count and each
   * slot as `{ shape, values: Float32Array }` (a copy), plus the optimizer's step count. Reads tensors back
   * (synchronously): meant for checkpoints, not for every step.
   *
   * @example
   * ```ts
   * const saved = opt.getState();
   * // ... later, in a fresh process, after restoring the weights:
   * const opt2 = new SGD(params, sameOptions);
   * opt2.setState(saved); // continues exactly where opt was
   * ```
   */
  getState(): OptimizerState {
    const params: Record<string, ParamState> = {};
    for (const p of this.params) {
      const step = this.stepCounts.get(p.name);
      const slots = this.slotVars.get(p.name);
      if (step == null && (slots == null || slots.size === 0)) continue;
      const out: Record<string, SlotData> = {};
      for (const [slot, v] of slots ?? []) {
        out[slot] = { shape: [...v.shape], values: Float32Array.from(v.dataSync() as Float32Array) };
      }
      params[p.name] = { step: step ?? 0, slots: out };
    }
    return {
      format: STATE_FORMAT,
      version: 1,
      className: (this.constructor as unknown as { className: string }).className,
      iterations: this.iterations,
      params,
    };
  }

  /**
   * Replaces the state by `state` (from {@link getState}, possibly of another instance whose parameters
   * came in another order). Matching is by parameter name. Throws, before changing anything, on another
   * optimizer class, unknown parameter or slot names, or shape / length mismatches.
   *
   * @example
   * ```ts
   * opt.setState(JSON.parse(text, reviveFloat32Arrays));
   * ```
   */
  setState(state: OptimizerState): void {
    const cls = (this.constructor as unknown as { className: string }).className;
    if (state == null || state.format !== STATE_FORMAT) throw new Error('optimizer.setState: not a layerwise-lr optimizer state');
    if (state.version !== 1) throw new Error(`optimizer.setState: unsupported state version ${String(state.version)}`);
    if (state.className !== cls) throw new Error(`optimizer.setState: state was written by ${state.className}, this is ${cls}`);
    if (!Number.isInteger(state.iterations) || state.iterations < 0) {
      throw new Error(`optimizer.setState: iterations must be an integer >= 0, got ${state.iterations}`);
    }
    const known = this.knownSlots();
    const problems: string[] = [];
    for (const [name, ps] of Object.entries(state.params)) {
      const info = this.byName.get(name);
      if (info == null) { problems.push(`unknown parameter "${name}"`); continue; }
      if (!Number.isInteger(ps.step) || ps.step < 0) problems.push(`"${name}": bad step ${ps.step}`);
      for (const [slot, d] of Object.entries(ps.slots)) {
        if (!known.has(slot)) problems.push(`"${name}": unknown slot "${slot}" (this optimizer keeps: ${[...known].join(', ') || 'none'})`);
        else if (!sameShape(d.shape, info.shape)) problems.push(`"${name}/${slot}": shape [${d.shape}] != parameter shape [${info.shape}]`);
        else if (d.values.length !== d.shape.reduce((a, b) => a * b, 1)) problems.push(`"${name}/${slot}": ${d.values.length} values for shape [${d.shape}]`);
      }
    }
    if (problems.length > 0) throw new Error(`optimizer.setState: ${problems.join('; ')}`);
    this.disposeSlots();
    this.stepCounts.clear();
    for (const [name, ps] of Object.entries(state.params)) {
      if (ps.step > 0) this.stepCounts.set(name, ps.step);
      const m = new Map<string, tf.Variable>();
      for (const [slot, d] of Object.entries(ps.slots)) {
        m.set(slot, tf.tidy(() => tf.variable(tf.tensor(Float32Array.from(d.values), d.shape, 'float32'), false)));
      }
      if (m.size > 0) this.slotVars.set(name, m);
    }
    this.iterations_ = state.iterations;
  }

  /**
   * tfjs-style weights: `iter` first (as tfjs), then `<param>/<slot>` for every slot and `<param>/step`
   * for every parameter step count. Named, so {@link setWeights} does not depend on order.
   *
   * @example
   * ```ts
   * const weights = await opt.getWeights();
   * ```
   */
  override async getWeights(): Promise<NamedTensor[]> {
    const out: NamedTensor[] = [await this.saveIterations()];
    for (const p of this.params) {
      for (const [slot, v] of this.slotVars.get(p.name) ?? []) out.push({ name: `${p.name}/${slot}`, tensor: v });
      const step = this.stepCounts.get(p.name);
      if (step != null) out.push({ name: `${p.name}/step`, tensor: tf.scalar(step, 'int32') });
    }
    return out;
  }

  /**
   * Inverse of {@link getWeights}; copies the tensors (the caller keeps ownership of them).
   *
   * @example
   * ```ts
   * await opt2.setWeights(await opt.getWeights());
   * ```
   */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    const params: Record<string, ParamState> = {};
    for (const { name, tensor } of rest) {
      const cut = name.lastIndexOf('/');
      if (cut <= 0) throw new Error(`optimizer.setWeights: weight name "${name}" is not <param>/<slot>`);
      const pname = name.slice(0, cut);
      const slot = name.slice(cut + 1);
      const ps = (params[pname] ??= { step: 0, slots: {} });
      if (slot === 'step') ps.step = (await tensor.data())[0];
      else ps.slots[slot] = { shape: [...tensor.shape], values: Float32Array.from((await tensor.data()) as Float32Array) };
    }
    const cls = (this.constructor as unknown as { className: string }).className;
    this.setState({ format: STATE_FORMAT, version: 1, className: cls, iterations: this.iterations, params });
  }

  /**
   * Plain-data configuration: the lr (a number, a schedule's `config`, or `'custom'`), the eta record and
   * each transform's hyper-parameters.
   *
   * @example
   * ```ts
   * JSON.stringify(opt.getConfig());
   * ```
   */
  getConfig(): tf.serialization.ConfigDict {
    return {
      ...this.baseConfig(),
      transforms: this.transforms.map((t) => ({ name: t.name, ...t.config })) as unknown as tf.serialization.ConfigDict[],
    };
  }

  /** lr, eta and etaDefault as plain data, for subclasses' `getConfig()`. */
  protected baseConfig(): tf.serialization.ConfigDict {
    const lr = this.lrOption;
    const lrConfig = typeof lr === 'number' ? lr : ((lr as { config?: ScheduleConfig }).config ?? 'custom');
    const cfg: tf.serialization.ConfigDict = { lr: lrConfig as unknown as tf.serialization.ConfigDictValue };
    if (this.etaOption != null) cfg.eta = { ...this.etaOption };
    // the tensors cannot go into a config; their names say that there were some (see etaFromConfig)
    if (this.elementEtas.size > 0) cfg.elementEta = [...this.elementEtas.keys()];
    if (this.etaDefault != null) cfg.etaDefault = this.etaDefault;
    return cfg;
  }

  /**
   * Not supported: these optimizers need their parameters, which a config cannot carry. Use the subclass's
   * `fromConfigAndParams(config, params)` instead.
   */
  static override fromConfig<T extends tf.serialization.Serializable>(
    _cls: tf.serialization.SerializableConstructor<T>, _config: tf.serialization.ConfigDict,
  ): T {
    throw new Error('layerwise-lr optimizers need their ParamInfo[]: use SGD.fromConfigAndParams / AdamW.fromConfigAndParams');
  }

  /** Disposes the state tensors (the parameters are the caller's and stay). */
  override dispose(): void {
    this.disposeSlots();
    this.stepCounts.clear();
  }

  private disposeSlots(): void {
    for (const m of this.slotVars.values()) for (const v of m.values()) v.dispose();
    this.slotVars.clear();
  }
}
