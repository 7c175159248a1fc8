#!/usr/bin/env bash
# The demo behind `make demo`: on Fashion-MNIST, measure the layer-wise learning rates of the paper's
# 2-layer MLP (Algorithm 1), then train uniform vs layer-wise from the same seeded init and compare.
# Environment: EPOCHS (default 15), WIDTH (1024), LR (0.1), OUT (runs/demo), BACKEND (auto).
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS=${EPOCHS:-15}
WIDTH=${WIDTH:-1024}
LR=${LR:-0.1}
OUT=${OUT:-runs/demo}
BACKEND=${BACKEND:-auto}
common=(--model mlp --data fashion-mnist --width "$WIDTH" --batch-size 256 --seed 0 --backend "$BACKEND")
mkdir -p "$OUT"

echo "== 1. Layer-wise learning rates of the MLP (Algorithm 1, T = one epoch = 235 minibatches, no updates)"
npx lwlr lr "${common[@]}" --steps 235 --out "$OUT/lr.json"

train() { # $1 = run name, rest = scheme flags
  local name=$1; shift
  echo
  echo "== Training ($name): SGD lr $LR, momentum 0.9, wd 5e-4, $EPOCHS epochs, 1 warmup epoch then cosine, same init"
  npx lwlr train "${common[@]}" --optimizer sgd --lr "$LR" --momentum 0.9 --wd 5e-4 --epochs "$EPOCHS" \
    --warmup-epochs 1 --quiet --out "$OUT/$name" "$@"
}
train uniform --lr-scheme uniform
train layerwise --lr-table "$OUT/lr.json"   # the table measured above

echo
echo "== Uniform vs layer-wise (final epoch)"
npx lwlr compare "$OUT/uniform" "$OUT/layerwise"
