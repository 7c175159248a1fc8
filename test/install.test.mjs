// Install test: the three packages as a user gets them. Packs them (the built dist of this checkout: `make test`
// builds first), installs the tarballs with npm into a new project outside the repository, and runs the README's
// quickstart there on `onednn`, as an ES module and as CommonJS; then the CLI through npx, `npm link`-style
// symlinks, and this repository's own workspace install. Every run must load one TensorFlow.js: no
// "already registered" / "already been set" warnings (a second copy prints them), and no tfjs-node banner.
//
// npm works from its local cache (--prefer-offline) and reaches the registry only for what is not there.
// LWLR_KEEP_INSTALL_TEST=1 keeps the temporary project (its path is printed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const PACKAGES = { 'layerwise-lr': 'packages/layerwise-lr', 'tfjs-backend-onednn': 'packages/tfjs-backend-onednn', 'lwlr-lab': 'packages/lab' };
const TSC = path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
const FASHION_MNIST = '/usr/share/datasets/fashion-mnist';
/** What a second copy of TensorFlow.js (or of a package registering into it) prints, and the cpu backend's banner. */
const NOISE = /already registered|has already been set|looks like you are running TensorFlow\.js/;
/** The quickstart's model (examples/quickstart.ts): every tensor the eta table must list, with its shape. */
const MODEL_TENSORS = [['fc1.kernel', '[784,256]'], ['fc1.bias', '[256]'], ['fc2.kernel', '[256,10]'], ['fc2.bias', '[10]']];

// Child processes get this environment without the npm_* variables of the `npm test` running this file.
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

let tmp = '';
let app = '';
const tarballs = {};

function run(cmd, args, { cwd = app, env = {}, ok = true } = {}) {
  const r = spawnSync(cmd, args, { cwd, env: { ...baseEnv, ...env }, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (ok) {
    assert.equal(r.status, 0, `${cmd} ${args.join(' ')} exited ${r.status}\n--- stdout\n${r.stdout?.slice(-3000)}\n--- stderr\n${r.stderr?.slice(-3000)}`);
  }
  return r;
}

function tarballFiles(name) {
  return run('tar', ['-tzf', tarballs[name]]).stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
}

function tarballPackageJson(name) {
  return JSON.parse(run('tar', ['-xzOf', tarballs[name], 'package/package.json']).stdout);
}

/** Runs a compiled quickstart and checks what the issue asks of it; returns its stdout. */
function checkQuickstart(file, { cwd = app, env = {} } = {}) {
  const r = run(process.execPath, [file], { cwd, env });
  assert.doesNotMatch(r.stderr, NOISE, `${file}: one TensorFlow.js, no banner; stderr:\n${r.stderr}`);
  assert.equal(r.stderr.trim(), '', `${file}: nothing on stderr`);
  const m = /^backend (\S+): loss ([\d.]+) -> ([\d.]+) in 200 steps$/m.exec(r.stdout);
  assert.ok(m, `${file}: the summary line; stdout:\n${r.stdout}`);
  assert.equal(m[1], 'onednn', 'tf.getBackend()');
  assert.ok(Number(m[3]) < Number(m[2]) / 10, `${file}: the loss falls (${m[2]} -> ${m[3]})`);
  const rows = r.stdout.split('\n').map((l) => l.trim().split(/\s+/));
  const header = rows.findIndex((c) => c.join(' ') === 'name kind shape numel G eta');
  assert.ok(header >= 0, `${file}: the eta table; stdout:\n${r.stdout}`);
  const table = rows.slice(header + 1, header + 1 + MODEL_TENSORS.length);
  assert.deepEqual(table.map((c) => [c[0], c[2]]), MODEL_TENSORS, 'the eta table lists the model tensors');
  for (const c of table) assert.ok(Number(c[5]) > 0 && Number.isFinite(Number(c[5])), `eta of ${c[0]}: ${c[5]}`);
  return r.stdout;
}

before(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'lwlr-install-'));
  app = path.join(tmp, 'app');
  mkdirSync(path.join(tmp, 'tgz'));
  mkdirSync(app);
  // --ignore-scripts: pack the dist `make test` just built (prepack would rebuild it under running tests)
  const workspaces = Object.values(PACKAGES).flatMap((dir) => ['-w', dir]);
  const r = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', path.join(tmp, 'tgz'), ...workspaces], { cwd: repo });
  for (const info of JSON.parse(r.stdout.slice(r.stdout.indexOf('[')))) tarballs[info.name] = path.join(tmp, 'tgz', info.filename);
  assert.deepEqual(Object.keys(tarballs).sort(), Object.keys(PACKAGES).sort());
});

after(() => {
  if (process.env.LWLR_KEEP_INSTALL_TEST) console.log(`kept ${tmp}`);
  else if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('README: the quickstart is examples/quickstart.ts, verbatim', () => {
  const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
  const code = readFileSync(path.join(repo, 'examples', 'quickstart.ts'), 'utf8');
  assert.ok(readme.includes('```ts\n' + code + '```\n'), 'README.md shows examples/quickstart.ts in a ts block, unchanged');
});

test('the tarballs: built JavaScript, typings, README, LICENSE; nothing that needs the monorepo', () => {
  for (const [name, dir] of Object.entries(PACKAGES)) {
    const files = tarballFiles(name);
    for (const f of ['package.json', 'README.md', 'LICENSE', 'dist/src/index.js', 'dist/src/index.d.ts']) {
      assert.ok(files.includes(f), `${name}: ${f} in the tarball`);
    }
    for (const f of files) {
      assert.doesNotMatch(f, /^(src|test|dist\/test|build|node_modules)\/|\.map$|tsconfig/, `${name}: ${f} does not belong in the tarball`);
      // every emitted file has its source: no stale output of a deleted module
      const m = /^dist\/src\/(.*)\.(js|d\.ts)$/.exec(f);
      if (m) assert.ok(existsSync(path.join(repo, dir, 'src', `${m[1]}.ts`)), `${name}: ${f} has no source (stale dist?)`);
    }
    const pkg = tarballPackageJson(name);
    for (const [dep, spec] of Object.entries({ ...pkg.dependencies, ...pkg.peerDependencies })) {
      assert.doesNotMatch(String(spec), /^(file|link|workspace):/, `${name}: ${dep}@${spec} only resolves in the monorepo`);
    }
    // One TensorFlow.js per application: the packages take it from the application (peer dependencies).
    assert.deepEqual(Object.keys(pkg.dependencies ?? {}).filter((d) => d.startsWith('@tensorflow/')), [], `${name}: no own TensorFlow.js`);
    assert.ok(Object.keys(pkg.peerDependencies ?? {}).some((d) => d.startsWith('@tensorflow/')), `${name}: TensorFlow.js as a peer`);
  }
  const backend = tarballFiles('tfjs-backend-onednn');
  for (const f of ['binding.gyp', 'scripts/install.mjs', 'scripts/build-native.sh', 'native/addon.cc']) assert.ok(backend.includes(f), f);
  assert.ok(tarballFiles('lwlr-lab').includes('bin/lwlr.js'));
});

test('npm install of the tarballs succeeds where oneDNN headers are missing; one TensorFlow.js in the tree', () => {
  const backendSpec = `file:${tarballs['tfjs-backend-onednn']}`;
  // npm 11 asks a project to approve dependencies' install scripts (allowScripts); npm 10 ignores the field.
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({
    name: 'lwlr-install-test', private: true, allowScripts: { [backendSpec]: true, 'core-js': false },
  }, null, 2));
  // A compiler without include paths: the install-time build finds no dnnl.hpp, exactly as without libdnnl-dev.
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...Object.values(tarballs),
    '@tensorflow/tfjs@^4.22.0', '@types/node@^20.19.0'], { env: { CXX: 'g++ -nostdinc' } });
  const backendDir = path.join(app, 'node_modules', 'tfjs-backend-onednn');
  assert.ok(!existsSync(path.join(backendDir, 'build', 'Release', 'onednn.node')), 'no addon was built');
  assert.match(readFileSync(path.join(backendDir, 'build', 'install-skipped.txt'), 'utf8'), /headers .*not found/);
  const copies = (pkg) => run('find', ['node_modules', '-path', `*/${pkg}/package.json`]).stdout.split('\n').filter(Boolean);
  for (const pkg of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-layers']) {
    assert.equal(copies(pkg).length, 1, `one ${pkg}: ${copies(pkg).join(', ')}`);
  }
});

let rebuildCommand = '';

test('importing without the addon warns once, with the apt and rebuild commands; auto falls back to cpu', () => {
  const script = `
    const m = await import('tfjs-backend-onednn');
    const auto = await m.selectBackend('auto');
    let named = '';
    try { await m.selectBackend('onednn'); } catch (e) { named = e.message; }
    console.log(JSON.stringify({ available: m.available, auto, named }));`;
  const r = run(process.execPath, ['--input-type=module', '-e', script]);
  const out = JSON.parse(r.stdout);
  assert.equal(out.available, false);
  assert.equal(out.auto, 'cpu');
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `exactly one warning:\n${r.stderr}`);
  assert.match(lines[0], /not built at install: oneDNN's headers/, 'the reason the install-time build left');
  const fix = /build it: (apt-get install libdnnl-dev[^&]*) && (npm rebuild tfjs-backend-onednn)\b/.exec(lines[0]);
  assert.ok(fix, `the warning names the apt and rebuild commands: ${lines[0]}`);
  assert.ok(out.named.includes(fix[0].slice('build it: '.length)), `selectBackend('onednn') throws with the same fix: ${out.named}`);
  rebuildCommand = fix[2];
});

test('the rebuild command from the warning builds the addon in the project (node-gyp from the package)', () => {
  assert.ok(rebuildCommand);
  const [cmd, ...args] = rebuildCommand.split(' ');
  run(cmd, args);
  assert.ok(existsSync(path.join(app, 'node_modules', 'tfjs-backend-onednn', 'build', 'Release', 'onednn.node')));
  const r = run(process.execPath, ['--input-type=module', '-e', "const m = await import('tfjs-backend-onednn'); console.log(m.available)"]);
  assert.equal(r.stdout.trim(), 'true');
  assert.equal(r.stderr, '', 'no warning once built');
});

test('TypeScript: the quickstart type-checks as ESM and CommonJS; the packages\' own typings need no skipLibCheck', () => {
  for (const [dir, ext] of [['esm', 'mts'], ['cjs', 'cts']]) {
    mkdirSync(path.join(app, dir), { recursive: true });
    copyFileSync(path.join(repo, 'examples', 'quickstart.ts'), path.join(app, dir, `quickstart.${ext}`));
  }
  // strict, as a user would; skipLibCheck for the declaration files of tf.layers (README: TypeScript)
  writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'nodenext', strict: true, skipLibCheck: true, outDir: 'out' },
    files: ['esm/quickstart.mts', 'cjs/quickstart.cts'],
  }));
  run(process.execPath, [TSC, '-p', 'tsconfig.json']);
  // Without tf.layers, nothing needs skipLibCheck: layerwise-lr's and tfjs-backend-onednn's declarations (and
  // tfjs-core's) check under strict, imported from ESM and from CommonJS (require of an ES module, TS >= 5.8).
  const core = `import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, available, type BackendChoice } from 'tfjs-backend-onednn';
import { type Batch, EtaTable, measureLayerwiseLR, meanSoftmaxCrossEntropy, paramsFromVariables, SGD, AdamW } from 'layerwise-lr';
export async function run(batches: Batch[]): Promise<EtaTable> {
  const choice: BackendChoice = available ? 'onednn' : 'auto';
  await selectBackend(choice);
  const w = tf.variable(tf.zeros([784, 10]));
  const params = paramsFromVariables({ 'fc.kernel': w });
  const loss = (b: Batch): tf.Scalar => meanSoftmaxCrossEntropy(b.y, tf.matMul(b.x as tf.Tensor, w));
  const table = await measureLayerwiseLR({ params, loss }, batches, { steps: 1 });
  new SGD(params, { lr: 0.1, eta: table, momentum: 0.9 }).minimize(() => loss(batches[0]!));
  new AdamW(params, { lr: 1e-3, eta: table.etaMap() });
  return table;
}
`;
  mkdirSync(path.join(app, 'types'));
  writeFileSync(path.join(app, 'types', 'core.mts'), core);
  writeFileSync(path.join(app, 'types', 'core.cts'), core);
  writeFileSync(path.join(app, 'tsconfig.core.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'nodenext', strict: true, skipLibCheck: false, noEmit: true },
    files: ['types/core.mts', 'types/core.cts'],
  }));
  run(process.execPath, [TSC, '-p', 'tsconfig.core.json']);
});

test('the quickstart on onednn as an ES module: one TensorFlow.js, the eta table has the model\'s tensors', () => {
  checkQuickstart(path.join(app, 'out', 'esm', 'quickstart.mjs'));
});

test('the quickstart on onednn as CommonJS (require of the ES module packages)', () => {
  const cjs = path.join(app, 'out', 'cjs', 'quickstart.cjs');
  assert.match(readFileSync(cjs, 'utf8'), /require\("layerwise-lr"\)/, 'compiled to require()');
  checkQuickstart(cjs);
  // A program that both imports and requires the packages gets one copy of each (no dual-package hazard).
  mkdirSync(path.join(app, 'mixed'));
  writeFileSync(path.join(app, 'mixed', 'dep.cjs'), "module.exports = [require('layerwise-lr'), require('tfjs-backend-onednn')];\n");
  writeFileSync(path.join(app, 'mixed', 'main.mjs'), `import * as lw from 'layerwise-lr';
import * as backend from 'tfjs-backend-onednn';
import { createRequire } from 'node:module';
const [lwRequired, backendRequired] = createRequire(import.meta.url)('./dep.cjs');
console.log(lwRequired.SGD === lw.SGD && backendRequired.selectBackend === backend.selectBackend);
`);
  const mixed = run(process.execPath, [path.join(app, 'mixed', 'main.mjs')]);
  assert.equal(mixed.stdout.trim(), 'true', 'import and require give the same module');
  assert.equal(mixed.stderr, '');
});

test('npx lwlr from the project: info, and lr on Fashion-MNIST from its Debian path', (t) => {
  const info = run('npx', ['--no', 'lwlr', 'info', '--model', 'mlp']);
  assert.match(info.stdout, /fc1\.kernel\s+kernel\s+\[784,1024\]/);
  assert.doesNotMatch(info.stderr, NOISE);
  if (!existsSync(FASHION_MNIST)) {
    t.skip(`${FASHION_MNIST} missing (apt-get install dataset-fashion-mnist)`);
    return;
  }
  const lr = run('npx', ['--no', 'lwlr', 'lr', '--model', 'mlp', '--width', '64', '--steps', '2', '--batch-size', '64', '--limit', '256']);
  assert.match(lr.stdout, /^mlp on fashion-mnist: layerwise, T=2 batches of 64, .*backend onednn/m);
  assert.match(lr.stdout, /fc2\.bias\s+bias\s+\[10\]/);
  assert.doesNotMatch(lr.stderr, NOISE);
});

test('npm link: linked packages share the project\'s TensorFlow.js under --preserve-symlinks', () => {
  // What `npm link <dir>` makes: node_modules/<name> -> the package folder of this repository.
  for (const [name, dir] of Object.entries(PACKAGES)) {
    const at = path.join(app, 'node_modules', name);
    rmSync(at, { recursive: true, force: true });
    symlinkSync(path.join(repo, dir), at);
  }
  checkQuickstart(path.join(app, 'out', 'esm', 'quickstart.mjs'), { env: { NODE_OPTIONS: '--preserve-symlinks' } });
});

test('workspace install (this repository): the quickstart inside the monorepo loads one TensorFlow.js', () => {
  const dir = path.join(repo, 'tmp', `install-test-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  try {
    const file = path.join(dir, 'quickstart.mjs');
    copyFileSync(path.join(app, 'out', 'esm', 'quickstart.mjs'), file);
    checkQuickstart(file, { cwd: dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (readdirSync(path.join(repo, 'tmp')).length === 0) rmSync(path.join(repo, 'tmp'), { recursive: true });
  }
});
