/**
 * Backpropagation that gives memory back while it runs (installed on tfjs's engine; active while the
 * `onednn` backend is the active one).
 *
 * tfjs's `Engine.gradients` (what `tf.grads`, `tf.variableGrads` and `optimizer.minimize` call) walks the tape
 * backward inside one `tidy`: the gradient of every intermediate tensor, and every tensor a kernel saved for its
 * gradient, stays alive until the whole backward pass is over. The backward then needs the forward's footprint
 * again on top of it (a ViT-S/16 step at batch 16: 1.7 GB saved by the forward, 7 GB at the end of the backward).
 * This replacement computes exactly the same gradients, in the same order, with the same kernels, and
 * additionally disposes, as soon as a tape node's gradient has been computed:
 *  - the gradients of that node's outputs (every consumer of an output comes later on the tape, so it has
 *    already been processed when the walk reaches the output's producer);
 *  - the tensors that node saved for its backward pass (tfjs disposes them at the very end);
 *  - the tensors its gradient function made outside the per-input closures (e.g. one fused kernel computing
 *    all input gradients at once), except those it handed out.
 * Never disposed early: the gradients of the requested `xs`, a `dy` passed by the caller, and any tensor that is
 * still some other tensor's gradient (a gradient function may return a `dy` or a saved tensor unchanged).
 *
 * It also saves less in the forward: tfjs's gradients of Add, Sub and Reshape save their inputs only to read
 * their shapes, which keeps each input alive until the backward (in a ResNet, every residual branch's BatchNorm
 * output). During this forward they save nothing, and the backward hands those gradient functions the input
 * tensors themselves (their shapes stay readable after disposal). Only while tfjs's own gradient functions for
 * them are registered.
 * Nested (higher-order) gradients keep tfjs's behaviour: the original method runs. LWLR_EAGER_BACKPROP=0 turns
 * the replacement off.
 */
import * as tf from '@tensorflow/tfjs-core';

/** The parts of tfjs-core's tape node and engine this module uses (internal to tfjs; stable since 1.x). */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  /** All inputs before pruning (set by filterTape). */
  allInputs?: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: tf.Tensor[]) => Record<string, () => tf.Tensor>;
}
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  backendName: string;
  gradients: GradientsFn;
  getTensorsForGradient(kernelName: string, inputs: Record<string, tf.Tensor>, outputs: tf.Tensor[]): tf.Tensor[];
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  startScope(name?: string): void;
  endScope(result?: tf.TensorContainer): void;
  tidy<T extends tf.TensorContainer>(nameOrFn: string | (() => T), fn?: () => T): T;
}
type GradientsFn = (
  f: () => tf.Tensor,
  xs: tf.Tensor[],
  dy?: tf.Tensor | null,
  allowNoGradients?: boolean,
) => { value: tf.Tensor; grads: tf.Tensor[] };

const enabled = process.env.LWLR_EAGER_BACKPROP !== '0';
let installed = false;
/** True while the forward of a top-level eager gradient computation runs. */
let eagerForward = false;

/** Kernels whose tfjs gradient reads only the shapes of its saved inputs, and that gradient config. */
const shapeOnly = new Map<string, tf.GradConfig>();
function shapeOnlyGradient(kernelName: string): tf.GradConfig | undefined {
  const cfg = shapeOnly.get(kernelName);
  return cfg !== undefined && tf.getGradient(kernelName) === cfg ? cfg : undefined;
}

/** Installs the replacement on tfjs's engine (idempotent). It acts only while `backendName` is active. */
export function installEagerBackprop(backendName: string): void {
  if (installed || !enabled) return;
  const engine = tf.engine() as unknown as EngineInternals;
  const original = engine.gradients;
  if (typeof original !== 'function' || engine.state === undefined) return;
  installed = true;
  for (const k of ['Add', 'Sub', 'Reshape']) {
    const cfg = tf.getGradient(k);
    if (cfg !== undefined) shapeOnly.set(k, cfg);
  }
  const originalSave = engine.getTensorsForGradient;
  engine.getTensorsForGradient = function (this: EngineInternals, kernelName, inputs, outputs) {
    if (eagerForward && this.state.gradientDepth === 1 && shapeOnlyGradient(kernelName) !== undefined) return [];
    return originalSave.call(this, kernelName, inputs, outputs);
  };
  engine.gradients = function (this: EngineInternals, f, xs, dy, allowNoGradients = false) {
    if (this.backendName !== backendName || this.state.gradientDepth > 0) {
      return original.call(this, f, xs, dy, allowNoGradients);
    }
    return eagerGradients(this, f, xs, dy ?? null, allowNoGradients);
  } as GradientsFn;
}

function eagerGradients(
  engine: EngineInternals,
  f: () => tf.Tensor,
  xs: tf.Tensor[],
  dy: tf.Tensor | null,
  allowNoGradients: boolean,
): { value: tf.Tensor; grads: tf.Tensor[] } {
  if (xs.length === 0) throw new Error('gradients() received an empty list of xs.');
  if (dy != null && dy.dtype !== 'float32') throw new Error(`dy must have 'float32' dtype, but has '${dy.dtype}'`);
  const y = engine.scopedRun(
    () => {
      engine.startTape();
      eagerForward = true;
    },
    () => {
      eagerForward = false;
      engine.endTape();
    },
    () => engine.tidy('forward', f),
  );
  if (!(y instanceof tf.Tensor)) throw new Error('The result y returned by f() must be a tensor.');
  const tape = engine.state.activeTape!;
  const filtered = filterTape(tape, xs, y);
  if (!allowNoGradients && filtered.length === 0 && xs.length > 0) {
    throw new Error(
      'Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations that lead from x to y.',
    );
  }
  return engine.tidy('backward', () => {
    const grads = new Map<number, tf.Tensor>();
    grads.set(y.id, dy ?? tf.ones(y.shape));
    backpropagate(engine, grads, filtered, new Set(xs.map((x) => x.id)), dy);
    const out = xs.map((x) => grads.get(x.id)!);
    for (const node of tape) for (const t of node.saved ?? []) t.dispose();
    engine.state.activeTape = null;
    return { value: y, grads: out };
  });
}

/** The tape nodes on a path from one of `xs` to `y`, their inputs pruned to those that depend on `xs`. */
function filterTape(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodeFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      nodeFromX.add(node.id);
      for (const o of node.outputs) fromX.add(o.id);
    }
  }
  const toY = new Set<number>([y.id]);
  const nodeToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    if (node.outputs.some((o) => toY.has(o.id))) {
      const inputs = Object.values(node.inputs);
      if (inputs.length > 0) nodeToY.add(node.id);
      for (const t of inputs) toY.add(t.id);
    }
  }
  const out: TapeNode[] = [];
  for (const node of tape) {
    if (!nodeFromX.has(node.id) || !nodeToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const [name, t] of Object.entries(node.inputs)) if (fromX.has(t.id)) inputs[name] = t;
    out.push({ ...node, inputs, allInputs: node.inputs, outputs: node.outputs });
  }
  return out;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** tfjs's backpropagateGradients, releasing what is no longer needed after each node (see the module doc). */
function backpropagate(
  engine: EngineInternals,
  grads: Map<number, tf.Tensor>,
  tape: TapeNode[],
  keepIds: Set<number>,
  userDy: tf.Tensor | null,
): void {
  // How many entries of `grads` hold each tensor (a gradient function may pass a tensor through unchanged).
  const holds = new Map<tf.Tensor, number>();
  const hold = (t: tf.Tensor, d: number) => holds.set(t, (holds.get(t) ?? 0) + d);
  for (const t of grads.values()) hold(t, 1);
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    const dys = node.outputs.map((o) => grads.get(o.id) ?? null) as tf.Tensor[];
    if (node.gradient == null) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
    // Tensors the gradient function makes outside its per-input closures live in this scope and are disposed
    // when the node is done, except the input gradients handed out.
    const dxs: [tf.Tensor, tf.Tensor][] = [];
    engine.startScope(`backprop ${node.kernelName}`);
    try {
      // A shape-only gradient recorded without saves: its gradient function gets the inputs themselves.
      const shapeCfg = (node.saved?.length ?? 0) === 0 ? shapeOnlyGradient(node.kernelName) : undefined;
      const inputGradients = shapeCfg !== undefined
        ? shapeCfg.gradFunc(dys[0]!, (shapeCfg.inputsToSave ?? []).map((n) => node.allInputs![n]!), {})
        : node.gradient(dys);
      for (const name of Object.keys(node.inputs)) {
        if (!(name in inputGradients)) {
          throw new Error(`Cannot backprop through input ${name}. Available gradients found: ${Object.keys(inputGradients)}.`);
        }
        const dx = engine.tidy(() => inputGradients[name]!());
        if (dx.dtype !== 'float32') {
          throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input ${name} must have 'float32' dtype, but has '${dx.dtype}'`);
        }
        const x = node.inputs[name]!;
        if (!sameShape(dx.shape, x.shape)) {
          throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input '${name}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`);
        }
        dxs.push([x, dx]);
      }
    } finally {
      engine.endScope(dxs.map(([, dx]) => dx));
    }
    for (const [x, dx] of dxs) {
      const cur = grads.get(x.id);
      if (cur === undefined) {
        grads.set(x.id, dx);
        hold(dx, 1);
      } else {
        const sum = tf.add(cur, dx);
        grads.set(x.id, sum);
        hold(sum, 1);
        hold(cur, -1);
        release(cur, holds, userDy);
        release(dx, holds, userDy);
      }
    }
    // The node is done: its outputs' gradients and its saved tensors are not needed any more.
    for (const o of node.outputs) {
      const g = grads.get(o.id);
      if (g === undefined || keepIds.has(o.id)) continue;
      grads.delete(o.id);
      hold(g, -1);
      release(g, holds, userDy);
    }
    for (const t of node.saved ?? []) release(t, holds, userDy);
  }
}

/** Disposes `t` unless something still holds it (a gradient entry) or it is the caller's dy. */
function release(t: tf.Tensor, holds: Map<tf.Tensor, number>, userDy: tf.Tensor | null): void {
  if (t === userDy || (holds.get(t) ?? 0) > 0) return;
  holds.delete(t);
  t.dispose();
}
