#!/usr/bin/env bash
# The demo behind `make demo` (after the set-up): on Fashion-MNIST, measure the layer-wise learning rates of the
# paper's 2-layer MLP (Algorithm 1), then train uniform vs layer-wise from the same seeded init and the same data
# order, and print the two final train losses and test accuracies side by side.
#
# Sized for the native backend on 2 cores: 25 epochs of the 784-1024-10 MLP take about 2.5 min per run
# (about 12,000 images/s), 5-6 min in all. Without the native backend (the pure-JS cpu backend, ~100x slower)
# the default size drops to width 128 and 3 epochs so that the demo still ends in minutes.
# Environment: EPOCHS, WIDTH (1024), DEPTH (2), LR (0.1), OUT (runs/demo), BACKEND (auto: tensorflow > onednn > cpu).
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND=${BACKEND:-auto}
if [ "$BACKEND" = cpu ] || { [ "$BACKEND" = auto ] && ! node --input-type=module \
    -e "const m = await import('tfjs-backend-onednn'); process.exit(m.available ? 0 : 1)" 2>/dev/null; }; then
  echo "demo: the native onednn backend is not in use; shrinking the demo to fit the slow cpu backend (WIDTH=128, EPOCHS=3)"
  WIDTH=${WIDTH:-128}
  EPOCHS=${EPOCHS:-3}
fi
EPOCHS=${EPOCHS:-25}
WIDTH=${WIDTH:-1024}
DEPTH=${DEPTH:-2}
LR=${LR:-0.1}
OUT=${OUT:-runs/demo}
common=(--model mlp --data fashion-mnist --width "$WIDTH" --depth "$DEPTH" --batch-size 256 --seed 0 --backend "$BACKEND")
mkdir -p "$OUT"

echo "== 1. Layer-wise learning rates of the MLP (Algorithm 1: T = one epoch = 235 minibatches of 256, no updates)"
npx lwlr lr "${common[@]}" --steps 235 --out "$OUT/eta.json"

train() { # $1 = run name, rest = scheme flags
  local name=$1; shift
  echo
  echo "== Training ($name): SGD lr $LR, momentum 0.9, wd 5e-4, $EPOCHS epochs, 1 warmup epoch then cosine, same init and data order"
  npx lwlr train "${common[@]}" --optimizer sgd --lr "$LR" --momentum 0.9 --wd 5e-4 --epochs "$EPOCHS" \
    --warmup-epochs 1 --quiet --overwrite --out "$OUT/$name" "$@"
}
train uniform --lr-scheme uniform
train layerwise --lr-scheme layerwise --eta-table "$OUT/eta.json"   # the table measured above

echo
echo "== Uniform vs layer-wise (final epoch; train loss = mean over the last epoch)"
npx lwlr compare "$OUT/uniform" "$OUT/layerwise"

echo
echo "== Report: eta map, loss and accuracy curves, summary (self-contained HTML, opens offline)"
npx lwlr report "$OUT/uniform" "$OUT/layerwise" --out "$OUT/report.html"
