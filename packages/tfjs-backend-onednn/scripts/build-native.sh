#!/usr/bin/env bash
# Builds the native addon (build/Release/onednn.node) with node-gyp, incrementally (configure regenerates the
# file list; make recompiles what changed). Used by `npm run build` in the repository and, through
# scripts/install.cjs, when the package is installed into a project. A lock serializes concurrent builds.
#
# node-gyp is this package's own dependency (no global tool needed). Node's headers: node-gyp's own choice when
# a nodedir is configured (npm_config_nodedir); else the headers next to the running node when it has them
# (Debian's and NodeSource's packages, the official tarballs), so nothing is downloaded; else node-gyp
# downloads them. JOBS sets the parallel compiles (default: all cores).
set -euo pipefail
cd "$(dirname "$0")/.."
exec 9>build.lock
flock 9
gyp=$(node -p "require.resolve('node-gyp/bin/node-gyp.js')")
args=()
if [ -z "${npm_config_nodedir:-}" ]; then
  prefix=$(node -p "require('path').resolve(process.execPath, '..', '..')")
  [ -f "$prefix/include/node/common.gypi" ] && args+=("--nodedir=$prefix")
fi
node "$gyp" configure "${args[@]}" >/dev/null 2>build.log || { cat build.log >&2; exit 1; }
node "$gyp" build -j "${JOBS:-$(nproc)}" >/dev/null 2>build.log || { cat build.log >&2; exit 1; }
rm -f build/install-skipped.txt
