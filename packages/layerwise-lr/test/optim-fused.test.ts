/**
 * The fused-kernel path. The native backend is not a dependency of this package, so this file registers a
 * plain-JS REFERENCE implementation of the two kernels of the contract (`LwlrSgdStep`, `LwlrAdamWStep`,
 * see src/optim/fused.ts) for the 'cpu' backend, written directly from the torch 1.13 formulas in float64,
 * and checks that the fused path and the composed-ops path give the same parameters and state (1e-6).
 * A backend implementing the kernels can reuse REFERENCE_KERNELS below as its oracle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  ADAMW_STEP_KERNEL, AdamW, SGD, SGD_STEP_KERNEL, excludeFromWeightDecay, hasFusedKernel, type ChainOptimizer,
  type FusedMode,
} from '../src/optim/index.js';
import { cosineWithWarmup } from '../src/schedule.js';
import type { ParamInfo, ParamKind } from '../src/types.js';
import { assertNear } from './optim-helpers.js';
import { useCpu } from './core-helpers.js';

await useCpu();

interface CpuLike {
  readSync(dataId: unknown): ArrayLike<number>;
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
}

const calls = { sgd: 0, adamw: 0 };

function read(backend: CpuLike, t: tf.TensorInfo | undefined, name: string): ArrayLike<number> {
  if (t == null) throw new Error(`reference kernel: missing input ${name}`);
  return backend.readSync(t.dataId);
}

const sgdReference: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  calls.sgd++;
  const b = backend as CpuLike;
  const { lr, momentum, dampening, nesterov, weightDecay, firstStep } = attrs as unknown as {
    lr: number; momentum: number; dampening: number; nesterov: boolean; weightDecay: number; firstStep: boolean;
  };
  const shape = inputs.param!.shape;
  const p = read(b, inputs.param, 'param');
  const g = read(b, inputs.grad, 'grad');
  const buf = momentum !== 0 && !firstStep ? read(b, inputs.buf, 'buf') : null;
  const n = p.length;
  const outP = new Float32Array(n);
  const outB = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let d = g[i] + weightDecay * p[i];
    if (momentum !== 0) {
      const bi = buf == null ? d : momentum * buf[i] + (1 - dampening) * d;
      outB[i] = bi;
      d = nesterov ? d + momentum * bi : bi;
    }
    outP[i] = p[i] - lr * d;
  }
  const out = [b.makeTensorInfo(shape, 'float32', outP)];
  if (momentum !== 0) out.push(b.makeTensorInfo(shape, 'float32', outB));
  return out;
};

const adamwReference: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  calls.adamw++;
  const b = backend as CpuLike;
  const { lr, beta1, beta2, eps, weightDecay, step, amsgrad } = attrs as unknown as {
    lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; step: number; amsgrad: boolean;
  };
  const shape = inputs.param!.shape;
  const p = read(b, inputs.param, 'param');
  const g = read(b, inputs.grad, 'grad');
  const m = read(b, inputs.m, 'm');
  const v = read(b, inputs.v, 'v');
  const vmax = amsgrad ? read(b, inputs.vmax, 'vmax') : null;
  const n = p.length;
  const [oP, oM, oV, oX] = [0, 1, 2, 3].map(() => new Float32Array(n));
  const bc1 = 1 - beta1 ** step;
  const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
  for (let i = 0; i < n; i++) {
    const pi = p[i] * (1 - lr * weightDecay);
    const mi = beta1 * m[i] + (1 - beta1) * g[i];
    const vi = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
    const xi = vmax == null ? vi : Math.max(vmax[i], vi);
    const denom = Math.sqrt(amsgrad ? xi : vi) / bc2Sqrt + eps;
    oP[i] = pi - (lr / bc1) * (mi / denom);
    oM[i] = mi; oV[i] = vi; oX[i] = xi;
  }
  const out = [oP, oM, oV].map((a) => b.makeTensorInfo(shape, 'float32', a));
  if (amsgrad) out.push(b.makeTensorInfo(shape, 'float32', oX));
  return out;
};

/** Reference kernels of the fused contract, for the 'cpu' backend. */
export const REFERENCE_KERNELS: tf.KernelConfig[] = [
  { kernelName: SGD_STEP_KERNEL, backendName: 'cpu', kernelFunc: sgdReference },
  { kernelName: ADAMW_STEP_KERNEL, backendName: 'cpu', kernelFunc: adamwReference },
];

function register(): void {
  for (const k of REFERENCE_KERNELS) if (!hasFusedKernel(k.kernelName, 'cpu')) tf.registerKernel(k);
}
function unregister(): void {
  for (const k of REFERENCE_KERNELS) if (hasFusedKernel(k.kernelName, 'cpu')) tf.unregisterKernel(k.kernelName, 'cpu');
}

const SHAPES: Array<[string, ParamKind, number[]]> = [
  ['conv.kernel', 'kernel', [3, 3, 2, 4]],
  ['conv.bias', 'bias', [4]],
  ['norm.scale', 'scale', [4]],
  ['head.kernel', 'kernel', [4, 3]],
];
const ETA = { 'conv.kernel': 1.7, 'conv.bias': 0.4, 'norm.scale': 0.9, 'head.kernel': 2.5 };
const schedule = cosineWithWarmup({ peak: 0.05, warmupSteps: 2, totalSteps: 10, floor: 0.001 });

function values(n: number, seed: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 0.5);
}
function makeParams(): ParamInfo[] {
  return SHAPES.map(([name, kind, shape], j): ParamInfo => {
    const numel = shape.reduce((a, b) => a * b, 1);
    const variable = tf.tidy(() => tf.variable(tf.tensor(values(numel, j + 1), shape, 'float32'), true));
    return { name, shape, numel, kind, fanIn: shape[0], fanOut: shape[shape.length - 1], variable };
  });
}

type Make = (params: ParamInfo[], fused: FusedMode) => ChainOptimizer;
const CONFIGS: Array<{ name: string; kernel: 'sgd' | 'adamw'; make: Make }> = [
  { name: 'SGD plain + wd', kernel: 'sgd', make: (p, fused) => new SGD(p, { lr: schedule, eta: ETA, weightDecay: 1e-2, fused }) },
  {
    name: 'SGD momentum + dampening + wd', kernel: 'sgd',
    make: (p, fused) => new SGD(p, { lr: schedule, eta: ETA, momentum: 0.9, dampening: 0.1, weightDecay: 1e-2, fused }),
  },
  {
    name: 'SGD nesterov + masked wd', kernel: 'sgd',
    make: (p, fused) => new SGD(p, { lr: 0.05, eta: ETA, momentum: 0.9, nesterov: true, weightDecay: 5e-2, weightDecayMask: excludeFromWeightDecay(), fused }),
  },
  {
    name: 'AdamW + masked wd', kernel: 'adamw',
    make: (p, fused) => new AdamW(p, { lr: schedule, eta: ETA, weightDecay: 0.05, weightDecayMask: excludeFromWeightDecay(), fused }),
  },
  {
    name: 'AdamW amsgrad', kernel: 'adamw',
    make: (p, fused) => new AdamW(p, { lr: 0.01, eta: ETA, weightDecay: 0.1, amsgrad: true, beta1: 0.8, beta2: 0.9, eps: 1e-6, fused }),
  },
];

/** 5 steps; conv.bias gets no gradient at step 3 (per-parameter step counts must agree too). */
function run(make: Make, fused: FusedMode): { params: Record<string, Float32Array>; state: ReturnType<ChainOptimizer['getState']> } {
  const params = makeParams();
  const opt = make(params, fused);
  for (let s = 0; s < 5; s++) {
    const grads: Record<string, tf.Tensor> = {};
    params.forEach((p, j) => {
      if (s === 2 && p.name === 'conv.bias') return;
      grads[p.variable.name] = tf.tensor(values(p.numel, 50 + 7 * s + j), [...p.shape], 'float32');
    });
    opt.applyGradients(grads);
    tf.dispose(Object.values(grads));
  }
  const out = Object.fromEntries(params.map((p) => [p.name, Float32Array.from(p.variable.dataSync() as Float32Array)]));
  const state = opt.getState();
  opt.dispose();
  tf.dispose(params.map((p) => p.variable));
  return { params: out, state };
}


for (const cfg of CONFIGS) {
  test(`fused vs composed: ${cfg.name} — same parameters and state after 5 steps (1e-6)`, () => {
    register();
    try {
      calls.sgd = 0; calls.adamw = 0;
      const fused = run(cfg.make, 'always');
      const expectedCalls = 5 * SHAPES.length - 1; // one parameter skipped once
      assert.equal(calls[cfg.kernel], expectedCalls, 'the fused kernel ran once per parameter update');
      calls.sgd = 0; calls.adamw = 0;
      const auto = run(cfg.make, 'auto');
      assert.equal(calls[cfg.kernel], expectedCalls, "'auto' uses a registered kernel");
      calls.sgd = 0; calls.adamw = 0;
      const composed = run(cfg.make, 'never');
      assert.equal(calls.sgd + calls.adamw, 0, "'never' does not touch the kernel");
      for (const name of Object.keys(composed.params)) {
        assertNear(fused.params[name], composed.params[name], 1e-6, `${name}`);
        assert.deepEqual(auto.params[name], fused.params[name]);
      }
      assert.equal(fused.state.iterations, composed.state.iterations);
      for (const [name, ps] of Object.entries(composed.state.params)) {
        const fs = fused.state.params[name];
        assert.equal(fs.step, ps.step, `${name} step`);
        assert.deepEqual(Object.keys(fs.slots).sort(), Object.keys(ps.slots).sort(), `${name} slots`);
        for (const slot of Object.keys(ps.slots)) assertNear(fs.slots[slot].values, ps.slots[slot].values, 1e-6, `${name}/${slot}`);
      }
    } finally {
      unregister();
    }
  });
}

test('fused path: no tensor leaks; state written by one path resumes on the other', () => {
  register();
  try {
    for (const cfg of CONFIGS) {
      const params = makeParams();
      const opt = cfg.make(params, 'always');
      const step = (o: ChainOptimizer, s: number): void => {
        const g = Object.fromEntries(params.map((p, j) => [p.name, tf.tensor(values(p.numel, 9 * s + j), [...p.shape], 'float32')]));
        o.step(g);
        tf.dispose(Object.values(g));
      };
      step(opt, 0);
      const n = tf.memory().numTensors;
      for (let s = 1; s < 4; s++) {
        step(opt, s);
        assert.equal(tf.memory().numTensors, n, `${cfg.name} step ${s + 1}`);
      }
      const composed = cfg.make(params, 'never');
      composed.setState(opt.getState());
      step(composed, 4);
      assert.equal(composed.iterations, 5);
      opt.dispose();
      composed.dispose();
      tf.dispose(params.map((p) => p.variable));
    }
  } finally {
    unregister();
  }
});

test("fused 'always' without the kernel is a clear error before anything changes; 'auto' falls back", () => {
  unregister();
  assert.equal(hasFusedKernel(SGD_STEP_KERNEL), false);
  const params = makeParams();
  const before = params.map((p) => Array.from(p.variable.dataSync()));
  const sgd = new SGD(params, { lr: 0.1, fused: 'always' });
  const g = Object.fromEntries(params.map((p) => [p.name, tf.onesLike(p.variable)]));
  assert.throws(() => sgd.step(g), /has no kernel LwlrSgdStep/);
  assert.deepEqual(params.map((p) => Array.from(p.variable.dataSync())), before);
  assert.equal(sgd.iterations, 0);
  const adamw = new AdamW(params, { fused: 'always' });
  assert.throws(() => adamw.step(g), /has no kernel LwlrAdamWStep/);
  const auto = new SGD(params, { lr: 0.1 });
  auto.step(g);
  assert.equal(auto.iterations, 1);
  tf.dispose([...Object.values(g), ...params.map((p) => p.variable)]);
});
