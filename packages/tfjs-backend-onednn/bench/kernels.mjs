#!/usr/bin/env node
// Micro-benchmark of the native matmul/conv/pool kernels: onednn vs cpu through tfjs, for the shapes of an
// MLP 784-1024-1024-10 at batch 256 and a conv [128,28,28,32] x [3,3,32,64]. Prints median and best ms and
// GFLOP/s (the 2 cores are shared: medians are noisy, the best time shows what the kernel can do).
// Not a test. Build first (npm run build -w tfjs-backend-onednn).
//
//   node bench/kernels.mjs                 # onednn, plus cpu for the cheap cases
//   node bench/kernels.mjs --cpu           # cpu for every case (slow: conv ~5 s a call)
//   node bench/kernels.mjs --reps 30       # repetitions (median reported)
//   node bench/kernels.mjs --filter conv   # only cases whose name contains the text
// Variants (environment): LWLR_OUTPUT_ALLOC=js (fresh Float32Array outputs instead of the pool),
// LWLR_CONV_WEIGHTS=plain (conv weights in tfjs layout, no reorder), LWLR_CONV_DW=plain (filter gradient in
// tfjs layout), LWLR_NUM_THREADS / OMP_NUM_THREADS, OMP_WAIT_POLICY.
import * as tf from '@tensorflow/tfjs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as os from 'node:os';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = await import(path.join(here, '..', 'dist', 'src', 'index.js'));
const { outputAllocMode } = await import(path.join(here, '..', 'dist', 'src', 'kernels', 'shared-output-alloc.js'));

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const allCpu = args.includes('--cpu');
const reps = Number(arg('--reps', '20'));
const filter = arg('--filter', '');

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function randn(shape, scale = 1) {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = (Math.random() * 2 - 1) * scale;
  return tf.tensor(v, shape);
}

async function timeOn(backend, make, run, n) {
  await tf.setBackend(backend);
  const inputs = make();
  // warm-up (primitive creation, JIT)
  tf.dispose(run(inputs));
  const ts = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const out = run(inputs);
    ts.push(performance.now() - t0);
    tf.dispose(out);
  }
  tf.dispose(inputs);
  return { med: median(ts), min: Math.min(...ts) };
}

const MLP = [
  [256, 784, 1024],
  [256, 1024, 1024],
  [256, 1024, 10],
];
const cases = [];
for (const [M, K, N] of MLP) {
  const flop = 2 * M * K * N;
  cases.push({ name: `matmul fwd ${M}x${K} . ${K}x${N}`, flop, cpu: true,
    make: () => [randn([M, K]), randn([K, N], 0.05)], run: ([a, b]) => tf.matMul(a, b) });
  cases.push({ name: `matmul dX   ${M}x${N} . (${K}x${N})^T`, flop, cpu: true,
    make: () => [randn([M, N]), randn([K, N], 0.05)], run: ([a, b]) => tf.matMul(a, b, false, true) });
  cases.push({ name: `matmul dW   (${M}x${K})^T . ${M}x${N}`, flop, cpu: true,
    make: () => [randn([M, K]), randn([M, N])], run: ([a, b]) => tf.matMul(a, b, true, false) });
  cases.push({ name: `fusedMatMul+bias+relu ${M}x${K}x${N}`, flop, cpu: true,
    make: () => [randn([M, K]), randn([K, N], 0.05), randn([N])],
    run: ([a, b, c]) => tf.fused.matMul({ a, b, bias: c, activation: 'relu' }) });
}
{
  const [B, H, W, C, O] = [128, 28, 28, 32, 64];
  const flop = 2 * B * H * W * C * O * 9;
  cases.push({ name: `conv2d fwd [${B},${H},${W},${C}]x[3,3,${C},${O}] same`, flop,
    make: () => [randn([B, H, W, C]), randn([3, 3, C, O], 0.1)], run: ([x, w]) => tf.conv2d(x, w, 1, 'same') });
  cases.push({ name: `fusedConv2d +bias+relu`, flop,
    make: () => [randn([B, H, W, C]), randn([3, 3, C, O], 0.1), randn([O])],
    run: ([x, w, b]) => tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'same', bias: b, activation: 'relu' }) });
  cases.push({ name: `conv2d dX (BackpropInput)`, flop,
    make: () => [randn([B, H, W, O]), randn([3, 3, C, O], 0.1)],
    run: ([dy, w]) => tf.conv2dTranspose(dy, w, [B, H, W, C], 1, 'same') });
  cases.push({ name: `conv2d dW (BackpropFilter)`, flop,
    make: () => [randn([B, H, W, C]), randn([B, H, W, O])],
    run: ([x, dy]) => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
      { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: [3, 3, C, O] }) });
  cases.push({ name: `conv2d stride 2 fwd [${B},${H},${W},${C}]x[3,3,${C},${O}]`, flop: flop / 4,
    make: () => [randn([B, H, W, C]), randn([3, 3, C, O], 0.1)], run: ([x, w]) => tf.conv2d(x, w, 2, 'same') });
  const dflop = 2 * B * H * W * C * 9;
  cases.push({ name: `depthwise fwd [${B},${H},${W},${C}]x[3,3,${C},1]`, flop: dflop,
    make: () => [randn([B, H, W, C]), randn([3, 3, C, 1], 0.1)], run: ([x, w]) => tf.depthwiseConv2d(x, w, 1, 'same') });
  cases.push({ name: `depthwise dX`, flop: dflop,
    make: () => [randn([B, H, W, C]), randn([3, 3, C, 1], 0.1)],
    run: ([dy, w]) => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: w },
      { strides: [1, 1], pad: 'same', dilations: [1, 1], inputShape: [B, H, W, C] }) });
  cases.push({ name: `depthwise dW`, flop: dflop,
    make: () => [randn([B, H, W, C]), randn([B, H, W, C])],
    run: ([x, dy]) => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy },
      { strides: [1, 1], pad: 'same', dilations: [1, 1], filterShape: [3, 3, C, 1] }) });
  const pb = 4 * B * H * W * O; // bytes of the pooled input
  cases.push({ name: `maxPool 2x2/2 [${B},${H},${W},${O}]`, bytes: pb, cpu: true,
    make: () => [randn([B, H, W, O])], run: ([x]) => tf.maxPool(x, 2, 2, 'valid') });
  cases.push({ name: `maxPoolGrad 2x2/2`, bytes: pb, cpu: true,
    make: () => { const x = randn([B, H, W, O]); return [x, tf.maxPool(x, 2, 2, 'valid'), randn([B, H / 2, W / 2, O])]; },
    run: ([x, y, dy]) => tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y },
      { filterSize: 2, strides: 2, pad: 'valid' }) });
  cases.push({ name: `avgPool 3x3/1 same [${B},${H},${W},${O}]`, bytes: pb, cpu: true,
    make: () => [randn([B, H, W, O])], run: ([x]) => tf.avgPool(x, 3, 1, 'same') });
  cases.push({ name: `avgPoolGrad 3x3/1 same`, bytes: pb, cpu: true,
    make: () => [randn([B, H, W, O]), randn([B, H, W, O])],
    run: ([x, dy]) => tf.engine().runKernel('AvgPoolGrad', { dy, input: x }, { filterSize: 3, strides: 1, pad: 'same' }) });
}

// Raw native baselines (no tfjs): dnnl_sgemm and the addon's matmul into a preallocated buffer.
const native = pkg.loadNative();
function rawGemm(M, K, N) {
  const A = new Float32Array(M * K).fill(0.5), B = new Float32Array(K * N).fill(0.25), C = new Float32Array(M * N);
  const t1 = [], t2 = [];
  const best = (a) => Math.min(...a);
  for (let i = 0; i < reps + 1; i++) {
    let t0 = performance.now();
    native.sgemm(false, false, M, N, K, A, B, C);
    t1.push(performance.now() - t0);
    t0 = performance.now();
    native.matmul(A, B, C, [M, K], [K, N], false, false, null, null, '', 0);
    t2.push(performance.now() - t0);
  }
  return [median(t1.slice(1)), median(t2.slice(1)), best(t1.slice(1)), best(t2.slice(1))];
}

console.log(`# tfjs-backend-onednn kernel micro-benchmark`);
console.log(`# ${os.cpus()[0]?.model} x${os.cpus().length}, threads ${pkg.getNumThreads()}, oneDNN ${native.dnnlVersion()}, ` +
  `node ${process.version}, output alloc ${JSON.stringify(outputAllocMode(tf.backend()))}, ` +
  `LWLR_CONV_WEIGHTS=${process.env.LWLR_CONV_WEIGHTS ?? 'any'}, LWLR_CONV_DW=${process.env.LWLR_CONV_DW ?? 'any'}, ` +
  `OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY ?? '(default)'}; median of ${reps}`);
console.log(`| case | onednn ms (median) | GFLOP/s (median) | onednn ms (best) | GFLOP/s (best) | cpu ms | cpu GFLOP/s | speed-up (medians) |`);
console.log(`|---|---:|---:|---:|---:|---:|---:|---:|`);
for (const c of cases) {
  if (filter && !c.name.includes(filter)) continue;
  const one = await timeOn('onednn', c.make, c.run, reps);
  const tOne = one.med;
  let tCpu = NaN;
  if (allCpu || c.cpu) tCpu = (await timeOn('cpu', c.make, c.run, allCpu && !c.cpu ? 1 : Math.min(reps, 3))).med;
  const rate = (t) => (c.flop ? (c.flop / t / 1e6).toFixed(1) : (c.bytes / t / 1e6).toFixed(1) + ' GB/s');
  console.log(`| ${c.name} | ${tOne.toFixed(2)} | ${rate(tOne)} | ${one.min.toFixed(2)} | ${rate(one.min)} | ${isNaN(tCpu) ? '-' : tCpu.toFixed(1)} | ` +
    `${isNaN(tCpu) ? '-' : rate(tCpu)} | ${isNaN(tCpu) ? '-' : (tCpu / tOne).toFixed(0) + 'x'} |`);
}
console.log(`\n# output pool: ${JSON.stringify(native.poolStats())}`);
if (!filter || 'raw'.includes(filter) || filter === 'raw') {
  console.log(`\n| raw native (no tfjs, preallocated output) | dnnl_sgemm ms (median) | GFLOP/s (median / best) | addon matmul ms (median) | GFLOP/s (median / best) |`);
  console.log(`|---|---:|---:|---:|---:|`);
  for (const [M, K, N] of [...MLP, [1024, 1024, 1024], [2048, 2048, 2048]]) {
    const [ts, tm, bs, bm] = rawGemm(M, K, N);
    const f = 2 * M * K * N;
    const g = (t) => (f / t / 1e6).toFixed(0);
    console.log(`| ${M}x${K}x${N} | ${ts.toFixed(2)} | ${g(ts)} / ${g(bs)} | ${tm.toFixed(2)} | ${g(tm)} / ${g(bm)} |`);
  }
}
