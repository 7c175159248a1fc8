/** LARS/LARC known answers: PyTorch 1.13 + apex LARC semantics, an independent float64 JS reference, branches. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { LARS, SGD, excludeFromWeightDecay, scaleByLarc, SQUARED_NORM_KERNEL } from '../src/optim/index.js';
import type { ParamInfo } from '../src/types.js';
import { assertNear, makeParam } from './optim-helpers.js';
import { useCpu } from './core-helpers.js';

await useCpu();

// Four tensors: a kernel, a bias (plain SGD), a zero-initialized kernel (||w|| = 0 on step 1) and a kernel
// whose gradient is zero on step 2 (||g|| = 0). Non-uniform eta.
const INIT: Record<string, number[]> = { k: [0.5, -0.3, 0.8, 0.1], b: [0.2, -0.4], z: [0, 0], f: [1, -1] };
const SHAPE: Record<string, number[]> = { k: [2, 2], b: [2], z: [2], f: [2] };
const GRADS: Record<string, number[][]> = {
  k: [[0.1, -0.2, 0.3, 0.05], [-0.005, 0.1, 0.02, -0.1], [0.001, 0.0, -0.1, 0.2]],
  b: [[0.4, -0.1], [0.2, 0.3], [-0.3, 0.1]],
  z: [[0.3, -0.4], [0.1, 0.1], [-0.2, 0.05]],
  f: [[0.1, 0.2], [0, 0], [0.3, -0.1]],
};
const ETA = { k: 2.0, b: 0.5, z: 1.0, f: 1.5 };
const NAMES = ['k', 'b', 'z', 'f'] as const;

/*
 * Produced ONCE with PyTorch 1.13 (`/usr/bin/python3`, float32): torch.optim.SGD(momentum=0.9), one param group
 * per tensor with lr = lrs[t] * eta and weight_decay = 0.01, wrapped by a verbatim copy of apex LARC.step
 * (apex/parallel/LARC.py) that visits only the kernel groups (k, z, f), the bias group keeping its decay:
 *
 *   for group in opt.param_groups:            # per step, after setting group['lr'] and p.grad
 *     saved.append(group['weight_decay'])
 *     if group['name'] == 'b': continue
 *     wd = group['weight_decay']; group['weight_decay'] = 0
 *     for p in group['params']:
 *       pn = torch.norm(p.data); gn = torch.norm(p.grad.data)
 *       if pn != 0 and gn != 0:
 *         a = trust * pn / (gn + pn * wd + eps)
 *         if clip: a = min(a / group['lr'], 1)
 *         p.grad.data += wd * p.data; p.grad.data *= a
 *   opt.step(); restore each group['weight_decay']
 *   print(k.flatten().tolist(), b.tolist(), z.tolist(), f.tolist())
 */
const TORCH = {
  // clip=True, trust=0.001, lrs = [0.1, 0.002, 0.0005]: kernel k is scaled on step 1 and clipped on 2 and 3
  clip: [
    [[0.49973034858703613, -0.299478679895401, 0.7992090582847595, 0.0998690277338028], [0.17990000545978546, -0.39480000734329224], [-0.030000001192092896, 0.04000000283122063], [0.9993456602096558, -1.001130223274231]],
    [[0.49972549080848694, -0.29985731840133667, 0.79908287525177, 0.10026267915964127], [0.17933641374111176, -0.39500245451927185], [-0.03057512640953064, 0.04068463295698166], [0.9993338584899902, -1.0011506080627441]],
    [[0.49971839785575867, -0.29993951320648193, 0.7991464734077454, 0.10015024989843369], [0.17928415536880493, -0.39507201313972473], [-0.030655203387141228, 0.040826261043548584], [0.9990987181663513, -1.001072645187378]],
  ],
  // clip=False (scaling variant), trust=0.02, lrs = [0.1, 0.05, 0.02]
  noclip: [
    [[0.49892139434814453, -0.2979147136211395, 0.7968361377716064, 0.09947610646486282], [0.17990000545978546, -0.39480000734329224], [-0.030000001192092896, 0.04000000283122063], [0.9980370402336121, -1.0033905506134033]],
    [[0.4984361529350281, -0.29823485016822815, 0.7950496077537537, 0.10052461922168732], [0.16581003367900848, -0.39986130595207214], [-0.043535128235816956, 0.05796463042497635], [0.9971536993980408, -1.0049163103103638]],
    [[0.4982411861419678, -0.29833999276161194, 0.7947185635566711, 0.10022050142288208], [0.16372105479240417, -0.4026433825492859], [-0.04837967827916145, 0.06442480534315109], [0.9960387945175171, -1.0051826238632202]],
  ],
};

/** The cpu backend methods a test kernel needs (not in the public KernelBackend type). */
interface CpuLike {
  readSync(dataId: object): ArrayLike<number>;
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
}

type Branch = 'clipped' | 'scaled' | 'zero-norm' | 'plain';

/** Independent float64 reference (plain JS arithmetic), recording which branch each tensor took. */
function reference(lrs: number[], wd: number, trust: number, clip: boolean, momentum = 0.9, eps = 1e-8): {
  values: number[][][]; branches: Record<string, Branch[]>;
} {
  const w: Record<string, number[]> = Object.fromEntries(NAMES.map((n) => [n, [...INIT[n]]]));
  const buf: Record<string, number[] | undefined> = {};
  const branches: Record<string, Branch[]> = Object.fromEntries(NAMES.map((n) => [n, []]));
  const norm = (x: number[]): number => Math.sqrt(x.reduce((a, v) => a + v * v, 0));
  const values: number[][][] = [];
  for (let t = 0; t < 3; t++) {
    for (const n of NAMES) {
      const lr = lrs[t] * ETA[n];
      const g = GRADS[n][t];
      let d: number[];
      if (n === 'b') {
        d = g.map((gi, i) => gi + wd * w[n][i]);
        branches[n].push('plain');
      } else {
        const pn = norm(w[n]);
        const gn = norm(g);
        if (pn !== 0 && gn !== 0) {
          let a = (trust * pn) / (gn + pn * wd + eps);
          if (clip) {
            branches[n].push(a / lr >= 1 ? 'clipped' : 'scaled');
            a = Math.min(a / lr, 1);
          } else branches[n].push('scaled');
          d = g.map((gi, i) => (gi + wd * w[n][i]) * a);
        } else {
          d = [...g];
          branches[n].push('zero-norm');
        }
      }
      const prev = buf[n];
      buf[n] = prev == null ? [...d] : prev.map((bi, i) => momentum * bi + d[i]);
      w[n] = w[n].map((wi, i) => wi - lr * buf[n]![i]);
    }
    values.push(NAMES.map((n) => [...w[n]]));
  }
  return { values, branches };
}

function params(): ParamInfo[] {
  return NAMES.map((n) => makeParam(n, n === 'b' ? 'bias' : 'kernel', INIT[n], SHAPE[n]));
}

function run(make: (p: ParamInfo[]) => LARS | SGD, ps = params()): number[][][] {
  const opt = make(ps);
  const out: number[][][] = [];
  for (let t = 0; t < 3; t++) {
    const g = Object.fromEntries(NAMES.map((n) => [n, tf.tensor(GRADS[n][t], SHAPE[n])]));
    opt.step(g);
    tf.dispose(Object.values(g));
    out.push(ps.map((p) => Array.from(p.variable.dataSync())));
  }
  opt.dispose();
  tf.dispose(ps.map((p) => p.variable));
  return out;
}

function check(got: number[][][], expected: number[][][], tol: number, what: string): void {
  for (let t = 0; t < 3; t++) {
    NAMES.forEach((n, j) => assertNear(got[t][j], expected[t][j], tol, `${what} step ${t + 1} ${n}`));
  }
}

test('LARS/LARC clip: 3 steps match PyTorch+apex and the float64 reference; both sides of the clip and zero norms taken', () => {
  const lrs = [0.1, 0.002, 0.0005];
  const got = run((p) => new LARS(p, { lr: (s) => lrs[s], eta: ETA, momentum: 0.9, weightDecay: 0.01, trustCoefficient: 0.001 }));
  check(got, TORCH.clip, 1e-6, 'torch');
  const ref = reference(lrs, 0.01, 0.001, true);
  check(got, ref.values, 1e-6, 'reference');
  assert.deepEqual(ref.branches.k, ['scaled', 'clipped', 'clipped']);
  assert.deepEqual(ref.branches.z, ['zero-norm', 'scaled', 'scaled']);
  assert.deepEqual(ref.branches.f, ['scaled', 'zero-norm', 'clipped']);
  // the zero-gradient step of f takes no decay (apex): with buf = 0.9 * buf it moves by momentum alone
  assert.ok(got.flat(2).every(Number.isFinite));
});

test('LARS scaling variant (clip: false): 3 steps match PyTorch+apex and the float64 reference', () => {
  const lrs = [0.1, 0.05, 0.02];
  const got = run((p) => new LARS(p, { lr: (s) => lrs[s], eta: ETA, weightDecay: 0.01, trustCoefficient: 0.02, clip: false }));
  check(got, TORCH.noclip, 1e-6, 'torch');
  check(got, reference(lrs, 0.01, 0.02, false).values, 1e-6, 'reference');
});

test('LARS: a large trust coefficient clips every step, so a kernel moves as plain SGD (to rounding), the bias bit-identically', () => {
  // local lr >= lr on every step: min(local / lr, 1) = 1 and LARC is torch SGD with coupled decay
  const lrs = [0.1, 0.05, 0.02];
  const ref = reference(lrs, 0.01, 100, true);
  assert.deepEqual(ref.branches.k, ['clipped', 'clipped', 'clipped']);
  const ps = params();
  const lars = run((p) => new LARS(p, { lr: (s) => lrs[s], eta: ETA, weightDecay: 0.01, trustCoefficient: 100 }), ps);
  check(lars, ref.values, 1e-6, 'reference');
  const sgd = run((p) => new SGD(p, { lr: (s) => lrs[s], eta: ETA, momentum: 0.9, weightDecay: 0.01, fused: 'never' }));
  // kernel k: same update up to float rounding (d * 1); bias b: bit-identical
  assertNear(lars[2][0], sgd[2][0], 1e-7, 'k');
  assert.deepEqual(lars.map((s) => s[1]), sgd.map((s) => s[1]));
});

test('LARS: biases and norm parameters move exactly as torch SGD (bit-identical), kernels do not', () => {
  const lrs = [0.1, 0.05, 0.02];
  const mk = (): ParamInfo[] => [
    makeParam('k', 'kernel', INIT.k, [2, 2]),
    makeParam('b', 'bias', INIT.b, [2]),
    makeParam('s', 'scale', [1, 1.5], [2]),
  ];
  const grads = (t: number): Record<string, tf.Tensor> => ({
    k: tf.tensor(GRADS.k[t], [2, 2]), b: tf.tensor(GRADS.b[t], [2]), s: tf.tensor(GRADS.z[t], [2]),
  });
  const eta = { k: 2, b: 0.5, s: 3 };
  const a = mk();
  const b = mk();
  const lars = new LARS(a, { lr: (s) => lrs[s], eta, weightDecay: 0.05, weightDecayMask: excludeFromWeightDecay({ norms: false }) });
  const sgd = new SGD(b, {
    lr: (s) => lrs[s], eta, momentum: 0.9, weightDecay: 0.05, weightDecayMask: excludeFromWeightDecay({ norms: false }), fused: 'never',
  });
  for (let t = 0; t < 3; t++) {
    for (const o of [lars, sgd]) {
      const g = grads(t);
      o.step(g);
      tf.dispose(Object.values(g));
    }
    assert.deepEqual(Array.from(a[1].variable.dataSync()), Array.from(b[1].variable.dataSync()), `bias step ${t + 1}`);
    assert.deepEqual(Array.from(a[2].variable.dataSync()), Array.from(b[2].variable.dataSync()), `scale step ${t + 1}`);
  }
  assert.ok(Math.abs(a[0].variable.dataSync()[0] - b[0].variable.dataSync()[0]) > 1e-3, 'the kernel takes the LARC step');
  lars.dispose();
  sgd.dispose();
  tf.dispose([...a, ...b].map((p) => p.variable));
});

test('LARS: lr = 0 with clip gives factor 1 (apex min(inf, 1)), no NaN; the momentum buffer still fills', () => {
  const k = makeParam('k', 'kernel', INIT.k, [2, 2]);
  const opt = new LARS([k], { lr: 0, weightDecay: 0.01 });
  opt.step({ k: tf.tensor(GRADS.k[0], [2, 2]) });
  assert.deepEqual(Array.from(k.variable.dataSync()), Array.from(Float32Array.from(INIT.k)));
  const buf = opt.getState().params.k.slots.momentum_buffer.values;
  assertNear(buf, GRADS.k[0].map((g, i) => g + 0.01 * INIT.k[i]), 1e-7, 'buf = g + wd w');
  opt.dispose();
  k.variable.dispose();
});

test('scaleByLarc: uses the backend LwlrSquaredNorm kernel when present (same result), no leaks', () => {
  const run1 = (): number[] => {
    const k = makeParam('k', 'kernel', INIT.k, [2, 2]);
    const opt = new LARS([k], { lr: 0.1, weightDecay: 0.01, trustCoefficient: 0.01 });
    const g = tf.tensor(GRADS.k[0], [2, 2]);
    opt.step({ k: g });
    const out = Array.from(k.variable.dataSync());
    opt.dispose();
    tf.dispose([g, k.variable]);
    return out;
  };
  const before = run1();
  let calls = 0;
  tf.registerKernel({
    kernelName: SQUARED_NORM_KERNEL,
    backendName: 'cpu',
    kernelFunc: ({ inputs }) => {
      calls++;
      const x = (inputs as { x: tf.TensorInfo }).x;
      const backend = tf.engine().backend as unknown as CpuLike;
      const vals = backend.readSync(x.dataId) as Float32Array;
      let s = 0;
      for (const v of vals) s += v * v;
      return backend.makeTensorInfo([], 'float32', Float32Array.of(s));
    },
  });
  try {
    const n0 = tf.memory().numTensors;
    const after = run1();
    assert.equal(tf.memory().numTensors, n0);
    assert.equal(calls, 2, '||w|| and ||g||');
    assertNear(after, before, 1e-7, 'kernel vs ops');
  } finally {
    tf.unregisterKernel(SQUARED_NORM_KERNEL, 'cpu');
  }
  assert.equal(scaleByLarc().name, 'scaleByLarc');
});
