/**
 * The queue executor and `lwlr worker` against a real Redis (Debian's redis-server, installed by
 * scripts/setup.sh), started here on a free loopback port in a temporary directory and stopped after.
 * Trials are tiny MLPs on 256 synthetic images (the `cpu` backend), so the file stays well under 2 minutes.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { sweepConfigFrom, type SweepConfig } from '../src/sweep/config.js';
import { SweepRun } from '../src/sweep/executors/local.js';
import { QueueSweep } from '../src/sweep/executors/queue.js';
import { checkQueueUrl, jobId, JOB_FORMAT, parseTrialJob, parseTrialResult, QUEUE_NAME } from '../src/sweep/queue/protocol.js';
import type { SweepResults } from '../src/sweep/results.js';
import { readMarker } from '../src/sweep/trial-dir.js';
import { LWLR_BIN } from '../src/sweep/trial-process.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'lwlr-queue-'));
const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));
const BASE = { model: 'mlp', data: 'synthetic', limit: 256, width: 8, 'batch-size': 32, 'warmup-epochs': 0, 'lr-scheme': 'uniform', backend: 'cpu' };
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
const skip = hasRedis ? false : 'redis-server is not installed (bash scripts/setup.sh installs it)';

/** Everything started here, stopped after the tests whatever happens. */
const started = new Set<ChildProcess>();
after(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  const port = (srv.address() as { port: number }).port;
  await new Promise((res) => srv.close(res));
  return port;
}

/** A child process whose output lines are kept; `waitFor` a line. */
class Proc {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly child: ChildProcess;
  private waiters: Array<() => void> = [];

  constructor(cmd: string, args: string[]) {
    this.child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    started.add(this.child);
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      this.lines.push(...parts);
      for (const w of this.waiters) w();
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
    this.exited = new Promise((res) => this.child.on('exit', (code, signal) => {
      if (buf) this.lines.push(buf);
      for (const w of this.waiters) w();
      res({ code, signal });
    }));
  }

  get text(): string {
    return this.lines.join('\n');
  }

  /** The first line matching `re` (waiting for it up to `ms`). */
  async waitFor(re: RegExp, ms = 90_000): Promise<string> {
    const end = Date.now() + ms;
    for (;;) {
      const hit = this.lines.find((l) => re.test(l));
      if (hit !== undefined) return hit;
      if (Date.now() > end || this.child.exitCode !== null) throw new Error(`no line ${re} in:\n${this.text}`);
      await new Promise<void>((res) => {
        this.waiters.push(res);
        setTimeout(res, 200);
      });
      this.waiters = [];
    }
  }
}

/** A Redis on a loopback port in a temporary directory; AOF persistence when `persist`. */
class TestRedis {
  readonly dir = tmp();
  proc: Proc | undefined;
  constructor(readonly port: number, private readonly persist: boolean) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.proc = new Proc('redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '',
      '--appendonly', this.persist ? 'yes' : 'no', '--appendfsync', 'always', '--protected-mode', 'no',
    ]);
    for (let i = 0; i < 100; i++) {
      if (await this.ping()) return;
      await sleep(100);
    }
    throw new Error(`redis-server did not start:\n${this.proc.text}`);
  }

  private ping(): Promise<boolean> {
    return new Promise((res) => {
      const s = connect(this.port, '127.0.0.1', () => s.write('PING\r\n'));
      s.on('data', (d) => { res(d.toString().startsWith('+PONG')); s.destroy(); });
      s.on('error', () => res(false));
    });
  }

  /** SIGTERM: Redis writes its AOF and exits. */
  async stop(): Promise<void> {
    if (!this.proc || this.proc.child.exitCode !== null) return;
    this.proc.child.kill('SIGTERM');
    await this.proc.exited;
  }
}

function worker(redis: TestRedis, trialsDir: string, ...more: string[]): Proc {
  return new Proc(process.execPath, [LWLR_BIN, 'worker', '--queue', redis.url, '--trials-dir', trialsDir, ...more]);
}

async function stopWorker(w: Proc): Promise<void> {
  if (w.child.exitCode === null) w.child.kill('SIGTERM');
  await w.exited;
}

const metricsOf = (r: SweepResults) => Object.fromEntries(r.trials.map((t) => [t.id, [t.status, t.epochs, t.finalTrainLoss, t.finalTestLoss, t.finalTestAcc, t.bestTestAcc]]));

test('queue protocol: job ids, payload and result checks, --queue URLs', () => {
  assert.equal(jobId('fig7-3fa9c2', 'lr-0.1_seed-0', null), 'fig7-3fa9c2__lr-0.1_seed-0__end');
  assert.equal(jobId('s', 't', 3), 's__t__e3');
  const ok = { format: JOB_FORMAT, sweep: 's-1', trial: 'lr-0.1', params: { lr: 0.1 }, argv: ['--lr', '0.1'], until: null };
  assert.deepEqual(parseTrialJob(ok), ok);
  const bad: Array<[unknown, RegExp]> = [
    ['x', /malformed job payload: expected an object/],
    [{ ...ok, format: 'lwlr-trial-job@9' }, /format "lwlr-trial-job@9", expected 'lwlr-trial-job@1'/],
    [{ ...ok, trial: '../../etc' }, /'trial' must be a plain name/],
    [{ ...ok, sweep: '..' }, /'sweep' must be a plain name/],
    [{ ...ok, argv: ['--lr', 1] }, /'argv' must be a list of strings/],
    [{ ...ok, argv: ['--out=/x'] }, /'argv' sets --out, which the worker sets itself/],
    [{ ...ok, until: 0 }, /'until' must be null or an epoch >= 1/],
  ];
  for (const [data, re] of bad) assert.throws(() => parseTrialJob(data), re);
  assert.throws(() => parseTrialResult({ format: 'lwlr-trial-result@1', status: 'done', wallSeconds: 1, error: null, resumed: false, files: { 'checkpoint/state.json': '' } }), /unexpected file 'checkpoint\/state.json'/);
  assert.throws(() => parseTrialResult(undefined), /malformed result from the worker/);
  checkQueueUrl('redis://10.0.0.5:6379/2');
  for (const u of ['http://x:1', 'redis://', 'localhost:6379', 'redis://h:1/db']) assert.throws(() => checkQueueUrl(u), /--queue must be a URL redis:\/\/HOST:PORT\[\/DB\]/);
});

test('lwlr sweep --queue: two worker processes drain a 6-trial grid, one is killed (SIGKILL) mid-trial; every trial is done, with the local executor\'s final losses', { skip, timeout: 240_000 }, async () => {
  const redis = new TestRedis(await freePort(), false);
  await redis.start();
  const shared = tmp();
  // one trial ~2 s of CPU: long enough to kill a worker in the middle of one
  const config = sweepConfigFrom({ ...BASE, epochs: 6, grid: { lr: [0.05, 0.1, 0.2], seed: [0, 1] } }, 's.yaml');
  const a = worker(redis, shared, '--lock-seconds', '3');
  const b = worker(redis, shared, '--lock-seconds', '3');
  try {
    const out = tmp();
    const lines: string[] = [];
    const sweep = new QueueSweep({ config, out, url: redis.url, log: (l) => lines.push(l), pollMs: 200 });
    const done = sweep.run();
    // kill A once its first trial has a checkpoint and has not finished
    const startLine = await a.waitFor(/^start /);
    const [sweepKey, trial] = startLine.split(' ')[1]!.split('/') as [string, string];
    const dir = path.join(shared, sweepKey, trial);
    while (!existsSync(path.join(dir, 'checkpoint'))) await sleep(50);
    a.child.kill('SIGKILL');
    await a.exited;
    assert.doesNotMatch(a.text, new RegExp(`^done ${sweepKey}/${trial}`, 'm'), 'A was killed mid-trial');
    const results = await done;
    assert.ok(results.trials.every((t) => t.status === 'done'), `${JSON.stringify(results.trials.map((t) => [t.id, t.status, t.error]))}\n${lines.join('\n')}\n${b.text}`);
    // B took the stalled job over and resumed it from A's checkpoint on the shared trials dir
    assert.match(b.text, new RegExp(`^start ${sweepKey}/${trial} `, 'm'));
    assert.equal(readMarker(path.join(out, 'trials', trial))?.resumed, true, b.text);
    assert.ok(lines.some((l) => l.includes(`${trial}: done (resumed)`)), lines.join('\n'));
    // the files came back: the report reads DIR/trials/<id>/ without the workers' disk
    for (const f of ['config.json', 'eta-table.json', 'metrics.jsonl', 'metrics.csv', 'log.txt']) assert.ok(existsSync(path.join(out, 'trials', trial, f)), f);
    assert.ok(!existsSync(path.join(out, 'trials', trial, 'checkpoint')), 'checkpoints stay with the workers');
    // the same grid and seeds on the local executor: the same numbers, bit for bit
    const local = await new SweepRun({ config, out: tmp(), workers: 2, log: () => {} }).run();
    assert.deepEqual(metricsOf(results), metricsOf(local));
    assert.deepEqual(JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')).groups, local.groups);
    // nothing left on the queue for this sweep
    const conn = new Redis(redis.url);
    assert.deepEqual(await conn.keys(`bull:${QUEUE_NAME}:${sweepKey}*`), []);
    conn.disconnect();
  } finally {
    await Promise.all([stopWorker(a), stopWorker(b)]);
    await redis.stop();
  }
});

test('lwlr worker: Ctrl-C once takes no new trials, twice hands the running one back (checkpointed); another worker resumes it', { skip, timeout: 240_000 }, async () => {
  const redis = new TestRedis(await freePort(), false);
  await redis.start();
  const shared = tmp();
  const config = sweepConfigFrom({ ...BASE, 'batch-size': 8, epochs: 10, grid: { lr: [0.05] } }, 's.yaml');
  const a = worker(redis, shared);
  let b: Proc | undefined;
  try {
    const lines: string[] = [];
    const out = tmp();
    const done = new QueueSweep({ config, out, url: redis.url, log: (l) => lines.push(l), pollMs: 200 }).run();
    const start = await a.waitFor(/^start /);
    const dir = path.join(shared, ...start.split(' ')[1]!.split('/'));
    while (!existsSync(path.join(dir, 'checkpoint'))) await sleep(50);
    a.child.kill('SIGINT');
    await a.waitFor(/^finishing 1 running trial\(s\), taking no new ones \(Ctrl-C again hands them back to the queue\)/);
    a.child.kill('SIGINT');
    await a.waitFor(/^handed back /);
    assert.equal((await a.exited).code, 130, a.text);
    b = worker(redis, shared);
    const r = await done;
    assert.equal(r.trials[0]!.status, 'done', `${lines.join('\n')}\n${b.text}`);
    assert.equal(r.trials[0]!.epochs, 10);
    assert.match(b.text, /^start \S+ to the end \(attempt 1\)\ndone \S+ \(resumed\)/m, 'handing back is not a failed attempt; B resumed');
  } finally {
    await Promise.all([stopWorker(a), b && stopWorker(b)]);
    await redis.stop();
  }
});

test('lwlr sweep --queue --detach, then --collect: Redis stopped and started (AOF) mid-sweep and the collector interrupted; nothing lost, nothing run twice', { skip, timeout: 240_000 }, async () => {
  const redis = new TestRedis(await freePort(), true);
  await redis.start();
  const dir = tmp();
  const file = path.join(dir, 's.json');
  writeFileSync(file, JSON.stringify({ ...BASE, epochs: 4, grid: { lr: [0.05, 0.1], seed: [0, 1] } }));
  const out = path.join(dir, 'out');
  const lwlr = (...args: string[]) => new Proc(process.execPath, [LWLR_BIN, 'sweep', ...args]);
  const w = worker(redis, path.join(dir, 'w'), '--concurrency', '2');
  try {
    const detach = lwlr('--config', file, '--out', out, '--queue', redis.url, '--detach');
    assert.equal((await detach.exited).code, 0, detach.text);
    assert.match(detach.text, /enqueued 4 trial\(s\)/);
    const pending = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as SweepResults;
    assert.deepEqual(pending.trials.map((t) => t.status), ['pending', 'pending', 'pending', 'pending']);
    // a collector, interrupted once a trial is back: the queue keeps the rest
    const c1 = lwlr('--collect', out);
    await c1.waitFor(/^\[1\/4\] .*: done/);
    c1.child.kill('SIGINT');
    assert.equal((await c1.exited).code, 130, c1.text);
    assert.match(c1.text, /the queue keeps the work; gather it with: lwlr sweep --collect/);
    // Redis goes away and comes back (its AOF holds the queue), while the worker trains
    await redis.stop();
    await sleep(1000);
    await redis.start();
    const c2 = lwlr('--collect', out, '--queue', redis.url);
    const r = await c2.exited;
    assert.equal(r.code, 0, `${c2.text}\n${w.text}`);
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as SweepResults;
    assert.ok(results.trials.every((t) => t.status === 'done' && t.epochs === 4), `${c2.text}\n${w.text}`);
    // each trial started once on the worker: nothing was run twice
    const starts = w.lines.filter((l) => l.startsWith('start ')).map((l) => l.split(' ')[1]!.split('/')[1]);
    assert.deepEqual(starts.sort(), results.trials.map((t) => t.id).sort(), w.text);
    // the same command again enqueues nothing: every trial is finished
    const again = lwlr('--config', file, '--out', out, '--queue', redis.url);
    assert.equal((await again.exited).code, 0, again.text);
    assert.match(again.text, /4 trials, 4 already finished, 0 to run/);
    const conn = new Redis(redis.url);
    assert.equal((await conn.keys(`bull:${QUEUE_NAME}:out-*`)).length, 0);
    conn.disconnect();
  } finally {
    await stopWorker(w);
    await redis.stop();
  }
});

test('lwlr sweep --queue with early-stop (ASHA): the known-bad learning rates stop at the first rung, the good ones run to the end', { skip, timeout: 240_000 }, async () => {
  const redis = new TestRedis(await freePort(), false);
  await redis.start();
  const w = worker(redis, tmp(), '--concurrency', '2');
  try {
    const config: SweepConfig = sweepConfigFrom({
      ...BASE, epochs: 2, 'early-stop': { metric: 'trainLoss', 'grace-epochs': 1, 'reduction-factor': 2 },
      grid: { lr: [0.05, 0.1, 1e-6, 1e-7] },
    }, 's.yaml');
    const lines: string[] = [];
    const out = tmp();
    const r = await new QueueSweep({ config, out, url: redis.url, log: (l) => lines.push(l), pollMs: 200 }).run();
    const by = Object.fromEntries(r.trials.map((t) => [t.params.lr, t]));
    for (const lr of [0.05, 0.1]) assert.deepEqual([by[lr]!.status, by[lr]!.epochs], ['done', 2], `${lines.join('\n')}\n${w.text}`);
    for (const lr of [1e-6, 1e-7]) assert.deepEqual([by[lr]!.status, by[lr]!.epochs, by[lr]!.error], ['stopped', 1, null], lines.join('\n'));
    assert.equal(w.lines.filter((l) => /^start .* to epoch 1 /.test(l)).length, 4, w.text);
    assert.equal(w.lines.filter((l) => /^start .* to the end /.test(l)).length, 2, w.text);
    // the second segment continued from the first one's checkpoint (one worker, one trials dir)
    assert.equal(w.lines.filter((l) => /^done .*\(resumed\)/.test(l)).length, 2, w.text);
    assert.match(readFileSync(path.join(out, 'results.csv'), 'utf8'), /\nlr-1e-7,stopped,1e-7,/);
  } finally {
    await stopWorker(w);
    await redis.stop();
  }
});

test('queue failures: a failing trial is failed after two attempts with its error; an unreachable URL and a malformed job are one clear error each', { skip, timeout: 240_000 }, async () => {
  const redis = new TestRedis(await freePort(), false);
  await redis.start();
  const w = worker(redis, tmp());
  try {
    // a trial that fails at run time (its flags parse)
    const config = sweepConfigFrom({ ...BASE, epochs: 1, grid: { 'init-weights': ['/nonexistent/w.safetensors'] } }, 's.yaml');
    const r = await new QueueSweep({ config, out: tmp(), url: redis.url, log: () => {}, pollMs: 200 }).run();
    assert.equal(r.trials[0]!.status, 'failed');
    assert.match(r.trials[0]!.error!, /--init-weights \/nonexistent\/w.safetensors: no such file/);
    assert.equal(w.lines.filter((l) => /^start .*\(attempt [12]\)/.test(l)).length, 2, w.text);

    // a malformed job (another program, or another lwlr version, on the queue): failed at once, not retried; the worker goes on
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const q = new Queue(QUEUE_NAME, { connection: conn });
    const job = await q.add('trial', { format: JOB_FORMAT, sweep: 'x', trial: '../../etc', params: {}, argv: [], until: null }, { attempts: 2 });
    for (let i = 0; i < 300 && (await job.getState()) !== 'failed'; i++) await sleep(100);
    const failed = (await q.getJob(job.id!))!;
    assert.match(failed.failedReason, /^malformed job payload: 'trial' must be a plain name/);
    assert.equal(failed.attemptsMade, 1);
    await w.waitFor(/^job \S+: malformed job payload: 'trial' must be a plain name/);
    await q.close();
    conn.disconnect();
    assert.equal(w.child.exitCode, null, 'the worker is still running');

    // an unreachable Redis: one line, exit 1, nothing written
    const closed = `redis://127.0.0.1:${await freePort()}`;
    const dir = tmp();
    const file = path.join(dir, 's.json');
    writeFileSync(file, JSON.stringify({ ...BASE, epochs: 1, grid: { lr: [0.1] } }));
    const s = spawnSync(process.execPath, [LWLR_BIN, 'sweep', '--config', file, '--out', path.join(dir, 'o'), '--queue', closed], { encoding: 'utf8' });
    assert.equal(s.status, 1, s.stderr);
    assert.match(s.stderr, /^lwlr: error: --queue redis:\/\/127\.0\.0\.1:\d+: cannot reach Redis \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)\n$/);
    assert.ok(!existsSync(path.join(dir, 'o')), 'no half-written results');
    const wk = spawnSync(process.execPath, [LWLR_BIN, 'worker', '--queue', closed], { encoding: 'utf8' });
    assert.equal(wk.status, 1);
    assert.match(wk.stderr, /^lwlr: error: --queue .*: cannot reach Redis \(connect ECONNREFUSED .*\)\n$/);
    const usage = spawnSync(process.execPath, [LWLR_BIN, 'sweep', '--config', file, '--out', path.join(dir, 'o'), '--detach'], { encoding: 'utf8' });
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--detach needs --queue URL/);
  } finally {
    await stopWorker(w);
    await redis.stop();
  }
});
