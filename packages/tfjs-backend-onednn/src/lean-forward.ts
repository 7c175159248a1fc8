/**
 * A training-mode forward for tfjs-layers models that frees each layer's output as soon as its last consumer has
 * run. tfjs-layers' executor does this in inference only: in training every intermediate layer output stays alive
 * until the whole model call ends, although the autodiff tape keeps its own references (clones) to what the
 * gradients need. In a ResNet-50 training step that is the BatchNorm outputs before the ReLUs, the residual sums
 * and the paddings: ~35% of the memory at the end of the forward (1454 -> ~950 MB at batch 8).
 *
 * `installLeanForward(tf.LayersModel)` replaces the model call (it applies to every LayersModel and Sequential)
 * with tfjs-layers' own algorithm (same topological order, same `layer.apply(inputs, kwargs)` calls, masks as
 * tfjs-layers computes them), disposing in training as tfjs-layers disposes in inference: a value is disposed when
 * every layer reading it has run, unless it is a model input or output, comes from a stateful layer, or is still
 * the value of another symbolic tensor (a layer may return its input unchanged). Calls with anything but
 * concrete tensors, or not in training, keep tfjs-layers' own call. Same values; nothing is disposed that a
 * gradient needs (the tape holds clones). LWLR_LEAN_FORWARD=0 turns it off.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { installLeanForward } from 'tfjs-backend-onednn';
 * installLeanForward(tf.LayersModel);
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';

/** The parts of tfjs-layers' SymbolicTensor / Layer / Container used here (internal to tfjs-layers). */
interface Sym {
  id: number;
  name: string;
  inputs: Sym[];
  sourceLayer: LayerLike;
}
interface LayerLike {
  stateful?: boolean;
  supportsMasking?: boolean;
  getClassName(): string;
  apply(inputs: tf.Tensor | tf.Tensor[], kwargs?: Record<string, unknown>): tf.Tensor | tf.Tensor[];
  computeMask(inputs: tf.Tensor | tf.Tensor[], mask?: tf.Tensor | tf.Tensor[] | null): tf.Tensor | tf.Tensor[] | null;
  inboundNodes: { inputTensors: Sym[]; outputTensors: Sym[] }[];
}
interface ContainerLike {
  inputs: Sym[];
  outputs: Sym[];
}
type CallFn = (this: ContainerLike, inputs: tf.Tensor | tf.Tensor[], kwargs?: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

const enabled = process.env.LWLR_LEAN_FORWARD !== '0';
const installedOn = new WeakSet<object>();
const plans = new WeakMap<object, Map<string, { sorted: Sym[]; recipients: Map<string, number> }>>();

/** tfjs-layers' getTopologicalSortAndRecipientCounts: DFS post-order from the fetches, feeds excluded. */
function plan(fetches: Sym[], feedNames: string[]): { sorted: Sym[]; recipients: Map<string, number> } {
  const visited = new Set<string>(feedNames);
  const sorted: Sym[] = [];
  const recipientSets = new Map<string, Set<string>>();
  for (const fetch of fetches) {
    const stack: Sym[] = [fetch];
    const marks: number[] = [];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (visited.has(top.name)) {
        stack.pop();
        continue;
      }
      const topIsMarked = marks[marks.length - 1] === stack.length - 1;
      if (top.inputs.length === 0 || topIsMarked) {
        stack.pop();
        sorted.push(top);
        visited.add(top.name);
        if (topIsMarked) marks.pop();
      } else {
        marks.push(stack.length - 1);
        for (const input of top.inputs) {
          let set = recipientSets.get(input.name);
          if (set === undefined) recipientSets.set(input.name, (set = new Set()));
          set.add(top.name);
          if (!visited.has(input.name)) stack.push(input);
        }
      }
    }
  }
  const recipients = new Map<string, number>();
  for (const [k, v] of recipientSets) recipients.set(k, v.size);
  return { sorted, recipients };
}

/** The outputs of the inbound node of `layer` that produces `sym`. */
function nodeOutputs(sym: Sym): Sym[] {
  for (const node of sym.sourceLayer.inboundNodes) if (node.outputTensors.some((t) => t.id === sym.id)) return node.outputTensors;
  return [sym];
}

function leanExecute(model: ContainerLike, inputs: tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
  const fetches = model.outputs;
  const feedNames = model.inputs.map((s) => s.name);
  const key = fetches.map((t) => t.name).join(',') + '|' + [...feedNames].sort().join(',');
  let cache = plans.get(model);
  if (cache === undefined) plans.set(model, (cache = new Map()));
  let p = cache.get(key);
  if (p === undefined) cache.set(key, (p = plan(fetches, feedNames)));
  const recipients = new Map(p.recipients);
  const values = new Map<string, tf.Tensor>();
  const masks = new Map<string, tf.Tensor | null>();
  model.inputs.forEach((s, i) => values.set(s.name, inputs[i]!));
  // How many symbolic tensors currently have each concrete tensor as their value.
  const holders = new Map<tf.Tensor, number>();
  for (const v of values.values()) holders.set(v, (holders.get(v) ?? 0) + 1);
  const keep = new Set<string>([...feedNames, ...fetches.map((t) => t.name)]);
  for (const sym of p.sorted) {
    const layer = sym.sourceLayer;
    if (values.has(sym.name) || layer.getClassName() === 'InputLayer') continue;
    const inputValues: tf.Tensor[] = [];
    const inputMasks: (tf.Tensor | null)[] = [];
    // each distinct input once (a layer may read the same tensor twice, e.g. add([x, x]): one recipient)
    const done = new Map<string, Sym>();
    for (const input of sym.inputs) {
      const v = values.get(input.name);
      if (v === undefined) throw new Error(`lean forward: no value for ${input.name}`);
      inputValues.push(v);
      inputMasks.push(masks.get(input.name) ?? null);
      done.set(input.name, input);
    }
    // as tfjs-layers' executor: the list of inputs, the model call's kwargs (+ the first input mask, if any)
    const callKwargs = inputMasks.some((m) => m != null) ? { ...kwargs, mask: inputMasks[0] } : kwargs;
    const outputs = layer.apply(inputValues, callKwargs);
    const outList = Array.isArray(outputs) ? outputs : [outputs];
    const outMask = layer.supportsMasking ? layer.computeMask(inputValues, inputMasks as tf.Tensor[]) : null;
    nodeOutputs(sym).forEach((o, i) => {
      if (values.has(o.name) || outList[i] === undefined) return;
      values.set(o.name, outList[i]!);
      holders.set(outList[i]!, (holders.get(outList[i]!) ?? 0) + 1);
      masks.set(o.name, Array.isArray(outMask) ? outMask[0] ?? null : outMask);
    });
    // inputs whose every recipient has run: dispose (as tfjs-layers does in inference)
    for (const input of done.values()) {
      const left = (recipients.get(input.name) ?? 1) - 1;
      recipients.set(input.name, left);
      if (left > 0 || keep.has(input.name) || input.sourceLayer.stateful === true) continue;
      const v = values.get(input.name)!;
      values.delete(input.name);
      const h = (holders.get(v) ?? 1) - 1;
      holders.set(v, h);
      if (h === 0 && !v.isDisposed) v.dispose();
    }
  }
  for (const m of masks.values()) if (m != null && !m.isDisposed && !fetches.some((f) => values.get(f.name) === m)) m.dispose();
  const out = fetches.map((f) => {
    const v = values.get(f.name);
    if (v === undefined) throw new Error(`lean forward: output ${f.name} was not computed`);
    return v;
  });
  return out.length === 1 ? out[0]! : out;
}

/**
 * Installs the lean training forward on tfjs-layers' LayersModel (pass `tf.LayersModel`); idempotent. See the
 * module doc. Returns a function that restores tfjs-layers' own call (a no-op where nothing was installed by this
 * call).
 */
export function installLeanForward(LayersModel: { prototype: object }): () => void {
  if (!enabled || installedOn.has(LayersModel.prototype)) return () => {};
  const proto = LayersModel.prototype as { call: CallFn };
  const original = proto.call;
  if (typeof original !== 'function') return () => {};
  installedOn.add(LayersModel.prototype);
  const own = Object.prototype.hasOwnProperty.call(proto, 'call');
  const lean: CallFn = function (this: ContainerLike, inputs, kwargs) {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (kwargs?.['training'] !== true || !list.every((t) => t instanceof tf.Tensor) || list.length !== this.inputs.length) {
      return original.call(this, inputs, kwargs);
    }
    return tf.tidy(() => leanExecute(this, list, kwargs));
  };
  proto.call = lean;
  return () => {
    if (proto.call !== lean) return;
    if (own) proto.call = original;
    else delete (proto as { call?: CallFn }).call;
    installedOn.delete(LayersModel.prototype);
  };
}
