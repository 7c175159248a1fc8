#!/usr/bin/env bash
# The demo behind `make demo` (after the set-up): on Fashion-MNIST, measure the layer-wise learning rates of a
# network with Algorithm 1, then train uniform vs layer-wise from the same seeded init and the same data order,
# and print the two final train losses and test accuracies side by side, and write a report.
#
# Default (MODEL=resnet20): the setting where docs/RESULTS.md found the method's clearest cheap effect (section 6):
# ResNet-20 (0.27 M parameters, BatchNorm) on 5,000 / 5,000 images, measured at and trained from the fan-in init
# (the paper's 2025 revision), T = one epoch (40 minibatches of 128), SGD lr 0.1, 3 epochs. Over 3 seeds there:
# layer-wise 81.2 +- 0.8% against uniform 79.3 +- 1.0% (~2 std); the demo runs seed 0. About 3-4 min on 2 cores.
# MODEL=mlp: the paper's 2-layer MLP (784-1024-10), T = one epoch (235 of 256), 25 epochs; its etas all stay near
# 1 and the two runs end level (5-6 min). Without the native backend (the pure-JS cpu backend, ~100x slower) the
# demo falls back to the MLP at width 128 and 3 epochs so that it still ends in minutes.
# Environment: MODEL (resnet20 | mlp), EPOCHS, LR (0.1), OUT (runs/demo), BACKEND (auto: tensorflow > onednn >
# cpu); for the MLP also WIDTH (1024) and DEPTH (2).
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND=${BACKEND:-auto}
MODEL=${MODEL:-resnet20}
if [ "$BACKEND" = cpu ] || { [ "$BACKEND" = auto ] && ! node --input-type=module \
    -e "const m = await import('tfjs-backend-onednn'); process.exit(m.available ? 0 : 1)" 2>/dev/null; }; then
  echo "demo: the native onednn backend is not in use; shrinking the demo to fit the slow cpu backend (MODEL=mlp, WIDTH=128, EPOCHS=3)"
  MODEL=mlp
  WIDTH=${WIDTH:-128}
  EPOCHS=${EPOCHS:-3}
fi
LR=${LR:-0.1}
OUT=${OUT:-runs/demo}
case "$MODEL" in
  resnet20)
    EPOCHS=${EPOCHS:-3}
    common=(--model resnet20 --data fashion-mnist --limit 5000 --batch-size 128 --init fan-in --seed 0 --backend "$BACKEND")
    steps=40
    what="ResNet-20 on 5,000 Fashion-MNIST images, fan-in init (Algorithm 1: T = one epoch = 40 minibatches of 128, no updates)"
    ;;
  mlp)
    EPOCHS=${EPOCHS:-25}
    WIDTH=${WIDTH:-1024}
    DEPTH=${DEPTH:-2}
    common=(--model mlp --data fashion-mnist --width "$WIDTH" --depth "$DEPTH" --batch-size 256 --seed 0 --backend "$BACKEND")
    steps=235
    what="the paper's MLP on Fashion-MNIST (Algorithm 1: T = one epoch = 235 minibatches of 256, no updates)"
    ;;
  *)
    echo "demo: MODEL must be resnet20 or mlp, got '$MODEL'" >&2
    exit 2
    ;;
esac
mkdir -p "$OUT"

echo "== 1. Layer-wise learning rates of $what"
npx lwlr lr "${common[@]}" --steps "$steps" --out "$OUT/eta.json"

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
