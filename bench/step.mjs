#!/usr/bin/env node
/**
 * Training-step benchmark, tfjs (`onednn`, `cpu`) against PyTorch, side by side: each model's full step
 * (forward, backward, SGD-momentum update) and Algorithm 1's measurement loop, step time AND peak RSS. Every
 * measurement runs in its own fresh process (bench/step-worker.mjs, bench/torch_step.py), so each peak RSS is
 * that run's alone.
 *
 *   node bench/step.mjs [--models all|small|large|name,...] [--backends onednn,torch,cpu] [--batch N]
 *        [--warmup 3] [--steps 10] [--rounds 1] [--no-alg1 | --alg1-only] [--alg1-steps 5] [--kernels]
 *
 *   small = mlp, bn-cnn, resnet18-cifar, vit-tiny (their own batches: 256, 128, 128, 128)
 *   large = resnet50, vit-s16, convnext-t, swin-t (224x224, batch 32; --batch overrides every model's batch)
 *
 * PyTorch (`torch`): Debian's /usr/bin/python3 with torch 1.13, OMP_WAIT_POLICY=passive, as many threads as the
 * backend (2 here), zero_grad(set_to_none=True): its best configuration on this machine. `cpu`, the pure-JS
 * backend, runs only where a step takes seconds, not minutes (mlp, bn-cnn), with 1 warm-up and 2 steps.
 * `--rounds R` alternates the frameworks R times (for noisy machines) and pools the timed steps. Timings are the
 * min and the median over the timed steps; wall clock (and CPU time, which other load disturbs less).
 * Not a test: nothing here asserts a time.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const SMALL = ['mlp', 'bn-cnn', 'resnet18-cifar', 'vit-tiny'];
const LARGE = ['resnet50', 'vit-s16', 'convnext-t', 'swin-t'];
const CPU_FEASIBLE = new Set(['mlp', 'bn-cnn']);
const modelArg = opt('models', 'all');
const models = modelArg === 'all' ? [...SMALL, ...LARGE] : modelArg === 'small' ? SMALL : modelArg === 'large' ? LARGE : modelArg.split(',');
for (const m of models) {
  if (![...SMALL, ...LARGE].includes(m)) {
    console.error(`bench/step.mjs: unknown model '${m}' (one of ${[...SMALL, ...LARGE].join(', ')}, or all, small, large)`);
    process.exit(2);
  }
}
const backends = opt('backends', 'onednn,torch,cpu').split(',');
const batch = opt('batch', undefined);
const warmup = opt('warmup', '3');
const steps = opt('steps', '10');
const rounds = Number(opt('rounds', '1'));
const alg1 = !args.includes('--no-alg1');
// --alg1-only: Algorithm 1's loop without the training-step rows
const modes = args.includes('--alg1-only') ? ['alg1'] : alg1 ? ['step', 'alg1'] : ['step'];
const alg1Steps = opt('alg1-steps', '5');
const threads = process.env.LWLR_NUM_THREADS ?? '2';
const torchOk = existsSync('/usr/bin/python3');

/** Runs one measurement in a fresh process; its JSON line, or { error }. */
function measure(framework, model, mode) {
  const common = ['--model', model, '--mode', mode, ...(batch ? ['--batch', batch] : [])];
  const cpu = framework === 'cpu';
  const counts = mode === 'alg1'
    ? ['--warmup', warmup, '--steps', alg1Steps]
    : ['--warmup', cpu ? '1' : warmup, '--steps', cpu ? '2' : steps];
  const env = { ...process.env, OMP_WAIT_POLICY: 'passive', LWLR_NUM_THREADS: threads };
  try {
    const out = framework === 'torch'
      ? execFileSync('/usr/bin/python3', [path.join(here, 'torch_step.py'), ...common, ...counts], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      : execFileSync(process.execPath, [path.join(here, 'step-worker.mjs'), ...common, ...counts, '--backend', framework, ...(args.includes('--kernels') ? ['--kernels'] : [])], {
        env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 24,
      });
    return JSON.parse(out.trim().split('\n').pop());
  } catch (e) {
    const msg = String(e.stderr || e.message).trim().split('\n').pop();
    return { error: msg };
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x, d = 0) => (x == null || Number.isNaN(x) ? '' : x.toFixed(d));

/** All timed steps of `rounds` alternating runs per framework: { [framework]: merged result }. */
function measureAll(model, mode) {
  const frameworks = backends.filter((b) => (b === 'cpu' ? mode === 'step' && CPU_FEASIBLE.has(model) : b !== 'torch' || torchOk));
  const res = {};
  for (let r = 0; r < rounds; r++) {
    for (const f of frameworks) {
      const m = measure(f, model, mode);
      if (m.error) {
        res[f] = { error: m.error };
        continue;
      }
      if (res[f]?.error) continue;
      const acc = (res[f] ??= { ...m, times: [], cpu: [], peakRssMB: 0 });
      acc.times.push(...m.times);
      acc.cpu.push(...m.cpu);
      acc.peakRssMB = Math.max(acc.peakRssMB, m.peakRssMB ?? 0);
      acc.leaked = Math.max(acc.leaked ?? 0, m.leaked ?? 0);
      if (m.jsKernels) acc.jsKernels = m.jsKernels;
    }
  }
  return res;
}

const header = ['model', 'batch', 'what', 'framework', 'min ms', 'median ms', 'median CPU ms', 'peak RSS MB',
  'time / torch', 'RSS / torch', 'onednn vs cpu', 'GFLOP/s', 'leaked'];
const rows = [];
console.log(`bench/step.mjs ${new Date().toISOString()}: models ${models.join(',')}; backends ${backends.join(',')}; ` +
  `${warmup} warm-up + ${steps} timed steps, ${rounds} round(s); Algorithm 1: ${alg1 ? `T = ${alg1Steps}` : 'off'}; ${threads} threads`);
for (const model of models) {
  for (const mode of modes) {
    const res = measureAll(model, mode);
    const t = res.torch && !res.torch.error ? res.torch : null;
    for (const [f, r] of Object.entries(res)) {
      if (r.error) {
        rows.push([model, batch ?? '', mode, f, `error: ${r.error}`, '', '', '', '', '', '', '', '']);
        continue;
      }
      const med = median(r.times);
      const vsCpu = f === 'onednn' && res.cpu && !res.cpu.error ? `${(median(res.cpu.times) / med).toFixed(0)}x faster` : '';
      const flops = r.fwdGflop && mode === 'step' ? (3 * r.fwdGflop) / (med / 1000) : null;
      rows.push([
        model, String(r.batch), mode === 'step' ? 'train step' : `alg1 (per batch)`, f,
        fmt(Math.min(...r.times)), fmt(med), fmt(median(r.cpu)), fmt(r.peakRssMB),
        t && f !== 'torch' ? `${(med / median(t.times)).toFixed(2)}x` : '',
        t && f !== 'torch' ? `${(r.peakRssMB / t.peakRssMB).toFixed(2)}x` : '',
        vsCpu, fmt(flops), f === 'torch' ? '' : String(r.leaked ?? ''),
      ]);
      if (r.jsKernels) console.log(`${model}: kernels of a step still running the cpu (JavaScript) implementation on onednn: ${r.jsKernels.join(', ') || 'none'}`);
    }
  }
  printTable(rows.filter((r) => r[0] === model));
}

function printTable(rs) {
  const widths = header.map((h, i) => Math.max(h.length, ...rs.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  console.log(line(header));
  for (const r of rs) console.log(line(r));
}

console.log('\nAll rows:');
printTable(rows);
