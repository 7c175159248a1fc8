#!/usr/bin/env bash
# One-time set-up on a fresh Debian machine (run as root, or with sudo available):
# the system packages the project needs, then npm ci and the build (TypeScript + native addon).
# Idempotent: every step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -f /usr/include/dnnl.h ] || need+=(libdnnl-dev)
[ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
command -v g++ >/dev/null || need+=(g++)
command -v make >/dev/null || need+=(make)
command -v python3 >/dev/null || need+=(python3)
# the report's browser test (playwright-core drives Debian's Chromium) and the PNG charts' fonts
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -d /usr/share/fonts/truetype/dejavu ] || need+=(fonts-dejavu-core)
# the queue executor's tests (lwlr sweep --queue, lwlr worker) start their own Redis on a loopback port
command -v redis-server >/dev/null || need+=(redis-server)
# `make bench` also wants the PyTorch reference (Debian's, under /usr/bin/python3) on OpenBLAS.
if [ "${1:-}" = "--bench" ]; then
  /usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null || need+=(python3-torch python3-torchvision)
  [ -d /usr/lib/x86_64-linux-gnu/openblas-pthread ] || need+=(libopenblas0-pthread)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# npm ci only when the lock file changed since the last install.
stamp=node_modules/.lwlr-setup-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund
  cp package-lock.json "$stamp"
fi
npm run build --silent
