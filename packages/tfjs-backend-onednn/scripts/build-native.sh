#!/usr/bin/env bash
# Builds the native addon incrementally (configure regenerates the file list; make recompiles what changed).
# A lock serializes concurrent builds in one checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
exec 9>build.lock
flock 9
node-gyp configure >/dev/null
node-gyp build -j 2 >/dev/null 2>build.log || { cat build.log >&2; exit 1; }
