#!/usr/bin/env node
// The package's `install` script: builds the native addon when the package is installed into a project
// (scripts/build-native.sh: node-gyp, this package's dependency, against the system's oneDNN).
//
// It never fails the install. Where the build cannot run (no C++ compiler, make, python3, or oneDNN's
// headers, i.e. Debian's libdnnl-dev) or fails, it writes the reason to build/install-skipped.txt and exits 0:
// the package then imports fine with the `onednn` backend unavailable, and importing it prints one warning
// with the reason and the commands that build it (src/native.ts).
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const skippedFile = path.join(root, 'build', 'install-skipped.txt');

/** True when `command` (a shell command line) exits 0. */
function runs(command, input) {
  return spawnSync(command, { shell: true, input, stdio: ['pipe', 'ignore', 'ignore'] }).status === 0;
}

/** Why the addon cannot be built here, or null. CXX as make (and node-gyp) would use it. */
function missingPrerequisite() {
  const cxx = process.env.CXX || 'g++';
  if (!runs(`${cxx} --version`)) return `no C++ compiler (${cxx})`;
  if (!runs('make --version')) return 'no make';
  if (!process.env.PYTHON && !process.env.npm_config_python && !runs('python3 --version')) return 'no python3 (node-gyp needs it)';
  if (!runs(`${cxx} -E -x c++ -`, '#include <dnnl.hpp>\n')) return "oneDNN's headers (dnnl.hpp, Debian's libdnnl-dev) not found";
  return null;
}

function skip(reason) {
  mkdirSync(path.dirname(skippedFile), { recursive: true });
  writeFileSync(skippedFile, `${reason}\n`);
  process.stderr.write(
    `tfjs-backend-onednn: the native addon was not built: ${reason}. The install goes on without it; ` +
      `importing the package says how to build it.\n`,
  );
}

rmSync(skippedFile, { force: true });
const reason = missingPrerequisite();
if (reason !== null) {
  skip(reason);
} else {
  const build = spawnSync('bash', [path.join(root, 'scripts', 'build-native.sh')], { cwd: root, stdio: 'inherit' });
  if (build.status === 0) process.stderr.write('tfjs-backend-onednn: native addon built (build/Release/onednn.node)\n');
  else skip(`the native build failed (see ${path.join(root, 'build.log')})`);
}
