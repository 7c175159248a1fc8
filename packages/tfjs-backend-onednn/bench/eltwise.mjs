#!/usr/bin/env node
/**
 * Elementwise kernels, onednn vs cpu, on 1M-element tensors (a benchmark, not a test).
 *
 *   node bench/eltwise.mjs                 per-op table (ms per call, median of repeated runs, and GB/s)
 *   node bench/eltwise.mjs --crossover     time of Add/Exp vs size, serial vs parallel (sets the threshold)
 *   node bench/eltwise.mjs --wait-policy   an MLP training step and chains of small/medium native calls, in
 *                                          child processes with OMP_WAIT_POLICY unset / passive / active and
 *                                          GOMP_SPINCOUNT=10000 / 1000 (ROUNDS=n, default 3)
 *
 * Run from packages/tfjs-backend-onednn after `npm run build -w tfjs-backend-onednn`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const args = new Set(process.argv.slice(2));
const self = fileURLToPath(import.meta.url);

async function load() {
  // Silence tfjs's "install tfjs-node" banner.
  const log = console.log;
  console.log = () => {};
  const tf = await import('@tensorflow/tfjs');
  const ox = await import('../dist/src/index.js');
  console.log = log;
  return { tf, ox };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median ms of `fn` (disposing what it returns), `reps` samples of `inner` calls each. */
function time(tf, fn, { reps = 7, inner = 5, warm = 3 } = {}) {
  for (let i = 0; i < warm; i++) tf.dispose(fn());
  const samples = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < inner; i++) tf.dispose(fn());
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6 / inner);
  }
  return median(samples);
}

async function table() {
  const { tf, ox } = await load();
  const N = 1 << 20;
  const rows = [];
  const cases = [
    // name, bytes moved per call, fn(inputs) -> tensor(s)
    ['Add [1M]+[1M]', 12 * N, (t) => tf.add(t.a, t.b)],
    ['Add [1024,1024]+[1024] (bias)', 8 * N, (t) => tf.add(t.a2, t.bias)],
    ['Multiply [1M]*[1M]', 12 * N, (t) => tf.mul(t.a, t.b)],
    ['Multiply [1M]*scalar', 8 * N, (t) => tf.mul(t.a, t.s)],
    ['Relu [1M]', 8 * N, (t) => tf.relu(t.a)],
    ['Exp [1M]', 8 * N, (t) => tf.exp(t.a)],
    ['Tanh [1M]', 8 * N, (t) => tf.tanh(t.a)],
    ['Sum [1M] -> scalar', 4 * N, (t) => tf.sum(t.a)],
    ['Sum [1024,1024] axis 0 (bias grad)', 4 * N, (t) => tf.sum(t.a2, 0)],
    ['Sum [1024,1024] axis 1', 4 * N, (t) => tf.sum(t.a2, 1)],
    ['Transpose [1024,1024]', 8 * N, (t) => tf.transpose(t.a2)],
    ['Abs+Sum [1M] (composed)', 12 * N, (t) => tf.sum(tf.abs(t.a))],
    ['LwlrSumAbs [1M] (cpu: Abs+Sum)', 4 * N, (t, be) => (be === 'onednn' ? tf.engine().runKernel('LwlrSumAbs', { x: t.a }) : tf.sum(tf.abs(t.a)))],
    ['Square+Sum [1M] (composed)', 12 * N, (t) => tf.sum(tf.square(t.a))],
    ['LwlrSquaredNorm [1M] (cpu: Square+Sum)', 4 * N, (t, be) => (be === 'onednn' ? tf.engine().runKernel('LwlrSquaredNorm', { x: t.a }) : tf.sum(tf.square(t.a)))],
    [
      'SGD step (momentum 0.9, wd) [1M]',
      20 * N,
      (t, be) => {
        const attrs = { lr: 0.01, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 1e-4, firstStep: false };
        if (be === 'onednn') return tf.engine().runKernel('LwlrSgdStep', { param: t.a, grad: t.b, buf: t.c }, attrs);
        // the same update composed of tfjs ops (what the optimizer does without the fused kernel)
        const g = tf.add(t.b, tf.mul(tf.scalar(attrs.weightDecay), t.a));
        const buf = tf.add(tf.mul(tf.scalar(attrs.momentum), t.c), tf.mul(tf.scalar(1 - attrs.dampening), g));
        return [tf.sub(t.a, tf.mul(tf.scalar(attrs.lr), buf)), buf];
      },
    ],
  ];
  const results = {};
  for (const be of ['onednn', 'cpu']) {
    await tf.setBackend(be);
    const rnd = (n) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
    const t = {
      a: tf.tensor1d(rnd(N)),
      b: tf.tensor1d(rnd(N)),
      c: tf.tensor1d(rnd(N)),
      a2: tf.tensor2d(rnd(N), [1024, 1024]),
      bias: tf.tensor1d(rnd(1024)),
      s: tf.scalar(1.5),
    };
    results[be] = cases.map(([, , fn]) => time(tf, () => tf.tidy(() => fn(t, be)), be === 'cpu' ? { reps: 3, inner: 2 } : {}));
    tf.dispose(Object.values(t));
  }
  console.log(`threads ${ox.getNumThreads()}, OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY ?? '(unset)'}`);
  console.log('op'.padEnd(40), 'onednn ms'.padStart(10), 'GB/s'.padStart(7), 'cpu ms'.padStart(9), 'speedup'.padStart(8));
  cases.forEach(([name, bytes], i) => {
    const o = results.onednn[i];
    const c = results.cpu[i];
    rows.push({ name, onednn: o, cpu: c });
    console.log(
      name.padEnd(40), o.toFixed(3).padStart(10), (bytes / o / 1e6).toFixed(1).padStart(7), c.toFixed(2).padStart(9),
      `${(c / o).toFixed(0)}x`.padStart(8),
    );
  });
  kernelOnly(ox);
}

/** The native kernels alone: direct addon calls on preallocated outputs (no tfjs, no allocation). */
function kernelOnly(ox) {
  const nat = ox.loadNative();
  const N = 1 << 20;
  const rnd = () => Float32Array.from({ length: N }, () => Math.random() * 2 - 1);
  const a = rnd(), b = rnd(), c = rnd(), o = new Float32Array(N), o2 = new Float32Array(N);
  const timeNative = (fn) => {
    for (let i = 0; i < 5; i++) fn();
    const samples = [];
    for (let r = 0; r < 7; r++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < 20; i++) fn();
      samples.push(Number(process.hrtime.bigint() - t0) / 1e6 / 20);
    }
    return median(samples);
  };
  const cases = [
    ['Add [1M]+[1M]', 12 * N, () => nat.ewBinary(0, a, [N], b, [N], o, [N])],
    ['Add [1024,1024]+[1024] (bias)', 8 * N, () => nat.ewBinary(0, a, [1024, 1024], b.subarray(0, 1024), [1024], o, [1024, 1024])],
    ['Multiply [1M]*[1M]', 12 * N, () => nat.ewBinary(2, a, [N], b, [N], o, [N])],
    ['Relu [1M]', 8 * N, () => nat.ewUnary(0, a, o, 0, 0)],
    ['Exp [1M]', 8 * N, () => nat.ewUnary(6, a, o, 0, 0)],
    ['Tanh [1M]', 8 * N, () => nat.ewUnary(5, a, o, 0, 0)],
    ['Erf [1M]', 8 * N, () => nat.ewUnary(13, a, o, 0, 0)],
    ['Sum [1M] -> scalar', 4 * N, () => nat.ewReduce(0, a, 1, N, 1, o)],
    ['Sum [1024,1024] axis 0', 4 * N, () => nat.ewReduce(0, a, 1, 1024, 1024, o)],
    ['Transpose [1024,1024]', 8 * N, () => nat.ewTranspose(a, [1024, 1024], [1, 0], o)],
    ['SGD step (momentum, wd) [1M]', 20 * N, () => nat.ewSgdStep(a, b, c, o, o2, 0.01, 0.9, 0, false, 1e-4, false)],
  ];
  console.log(`\nkernel only (direct addon call, preallocated output), threads ${ox.getNumThreads()}:`);
  console.log('op'.padEnd(40), 'ms'.padStart(10), 'GB/s'.padStart(7), '1 thread ms'.padStart(12));
  const thr = nat.ewGetParallelThreshold();
  for (const [name, bytes, fn] of cases) {
    const par = timeNative(fn);
    nat.ewSetParallelThreshold(1e15);
    const ser = timeNative(fn);
    nat.ewSetParallelThreshold(thr);
    console.log(name.padEnd(40), par.toFixed(3).padStart(10), (bytes / par / 1e6).toFixed(1).padStart(7), ser.toFixed(3).padStart(12));
  }
}

/** Serial vs parallel time per call across sizes: where a parallel region starts to pay. */
async function crossover() {
  const { tf, ox } = await load();
  await tf.setBackend('onednn');
  const nat = ox.loadNative();
  const saved = nat.ewGetParallelThreshold();
  console.log(`threads ${ox.getNumThreads()}, OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY ?? '(unset)'}`);
  console.log('size'.padStart(9), 'Add 1T us'.padStart(10), 'Add 2T us'.padStart(10), 'Exp 1T us'.padStart(10), 'Exp 2T us'.padStart(10));
  for (const n of [4096, 8192, 16384, 32768, 65536, 131072, 262144, 1 << 20]) {
    const a = new Float32Array(n).map(() => Math.random());
    const b = new Float32Array(n).map(() => Math.random());
    const o = new Float32Array(n);
    const row = [];
    for (const op of ['add', 'exp']) {
      for (const thr of [1e15, 1]) {
        nat.ewSetParallelThreshold(thr);
        const call = op === 'add' ? () => nat.ewBinary(0, a, [n], b, [n], o, [n]) : () => nat.ewUnary(6, a, o, 0, 0);
        const reps = Math.max(20, Math.floor(2e7 / n));
        for (let i = 0; i < 50; i++) call();
        const samples = [];
        for (let s = 0; s < 5; s++) {
          const t0 = process.hrtime.bigint();
          for (let i = 0; i < reps; i++) {
            call();
            // a little JavaScript between native calls, as in a training step
            let z = 0;
            for (let k = 0; k < 200; k++) z += k;
            if (z < 0) console.log(z);
          }
          samples.push(Number(process.hrtime.bigint() - t0) / 1e3 / reps);
        }
        row.push(median(samples));
      }
    }
    console.log(String(n).padStart(9), ...row.map((x) => x.toFixed(2).padStart(10)));
  }
  nat.ewSetParallelThreshold(saved);
}

/** A step-like sequence: an MLP 784-1024-1024-10 training step's elementwise work plus matmuls, batch 256. */
async function stepSequence() {
  const { tf, ox } = await load();
  await tf.setBackend('onednn');
  const B = 256;
  const sizes = [784, 1024, 1024, 10];
  const ws = [];
  const bs = [];
  const bufs = [];
  for (let i = 0; i < 3; i++) {
    ws.push(tf.variable(tf.randomNormal([sizes[i], sizes[i + 1]], 0, 0.05)));
    bs.push(tf.variable(tf.zeros([sizes[i + 1]])));
  }
  for (const v of [...ws, ...bs]) bufs.push(tf.zerosLike(v));
  const x = tf.randomNormal([B, 784]);
  const y = tf.oneHot(tf.randomUniform([B], 0, 10, 'int32'), 10).toFloat();
  const fused = !!tf.getKernel('LwlrSgdStep', 'onednn');
  const step = () => {
    const vars = [...ws, ...bs];
    const { grads } = tf.variableGrads(() => {
      let h = x;
      for (let i = 0; i < 3; i++) {
        h = tf.add(tf.matMul(h, ws[i]), bs[i]);
        if (i < 2) h = tf.relu(h);
      }
      return tf.losses.softmaxCrossEntropy(y, h);
    }, vars);
    vars.forEach((v, i) => {
      const g = grads[v.name];
      if (fused) {
        const [p, nb] = tf.engine().runKernel('LwlrSgdStep', { param: v, grad: g, buf: bufs[i] },
          { lr: 0.01, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0, firstStep: false });
        v.assign(p);
        bufs[i].dispose();
        bufs[i] = nb;
        p.dispose();
      } else {
        const nb = tf.tidy(() => tf.add(tf.mul(0.9, bufs[i]), g));
        v.assign(tf.tidy(() => tf.sub(v, tf.mul(0.01, nb))));
        bufs[i].dispose();
        bufs[i] = nb;
      }
    });
    tf.dispose(grads);
  };
  for (let i = 0; i < 5; i++) step();
  const samples = [];
  for (let r = 0; r < 7; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 5; i++) step();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6 / 5);
  }
  // small-call chain: 2000 Adds of [256,10] with JS in between
  const s1 = tf.randomNormal([256, 10]);
  const s2 = tf.randomNormal([10]);
  const small = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 2000; i++) tf.add(s1, s2).dispose();
    small.push(Number(process.hrtime.bigint() - t0) / 1e3 / 2000);
  }
  // medium chain: 300 Adds of [256,1024] (parallel regions back to back, JS between)
  const m1 = tf.randomNormal([256, 1024]);
  const m2 = tf.randomNormal([1024]);
  const medium = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 300; i++) tf.add(m1, m2).dispose();
    medium.push(Number(process.hrtime.bigint() - t0) / 1e3 / 300);
  }
  const matmulNative = tf.getKernel('BatchMatMul', 'onednn')?.kernelFunc !== tf.getKernel('BatchMatMul', 'cpu')?.kernelFunc;
  console.log(JSON.stringify({
    policy: process.env.OMP_WAIT_POLICY ?? '(unset)',
    threads: ox.getNumThreads(),
    matmulNative,
    fusedSgd: fused,
    mlpStepMs: median(samples),
    smallAddUs: median(small),
    mediumAddUs: median(medium),
  }));
}

if (args.has('--crossover')) {
  await crossover();
} else if (args.has('--step-child')) {
  await stepSequence();
} else if (args.has('--wait-policy')) {
  // OMP_WAIT_POLICY is read when libgomp loads, so each setting runs in its own process. Runs alternate to
  // spread machine noise over the settings.
  // GOMP_SPINCOUNT=n (libgomp, policy unset): spin about n iterations, then sleep.
  const settings = ['unset', 'passive', 'active', 'spin=10000', 'spin=1000'];
  const rounds = Number(process.env.ROUNDS ?? 3);
  const res = Object.fromEntries(settings.map((s) => [s, []]));
  for (let round = 0; round < rounds; round++) {
    for (const s of settings) {
      const env = { ...process.env, LWLR_OMP_WAIT_POLICY: 'none' };
      delete env.OMP_WAIT_POLICY;
      delete env.GOMP_SPINCOUNT;
      if (s.startsWith('spin=')) env.GOMP_SPINCOUNT = s.slice(5);
      else if (s !== 'unset') env.OMP_WAIT_POLICY = s;
      const r = spawnSync(process.execPath, [self, '--step-child'], { env, encoding: 'utf8' });
      const line = r.stdout.trim().split('\n').pop();
      try {
        res[s].push(JSON.parse(line));
      } catch {
        console.error(r.stdout, r.stderr);
      }
    }
  }
  for (const s of settings) {
    const rs = res[s];
    const m = (k) => median(rs.map((r) => r[k]));
    const label = s.startsWith('spin=') ? `GOMP_SPINCOUNT=${s.slice(5)}` : `OMP_WAIT_POLICY=${s}`;
    console.log(
      `${label.padEnd(24)} MLP step ${m('mlpStepMs').toFixed(1).padStart(6)} ms | Add [256,10]+[10] ${m('smallAddUs').toFixed(1).padStart(5)} us | ` +
        `Add [256,1024]+[1024] ${m('mediumAddUs').toFixed(1).padStart(7)} us   (runs: ${rs.map((r) => r.mlpStepMs.toFixed(1)).join(' ')})`,
    );
  }
  console.log(`(matmul native: ${res.unset[0]?.matmulNative}, fused SGD: ${res.unset[0]?.fusedSgd}, threads ${res.unset[0]?.threads})`);
} else {
  await table();
}
