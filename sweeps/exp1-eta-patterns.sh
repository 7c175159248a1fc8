#!/usr/bin/env bash
# Issue 11, experiment 1: the eta patterns of the paper's full-size models (ResNet-50, ViT-S/16, ConvNeXt-T,
# Swin-T) at 224x224, measured by Algorithm 1 on Fashion-MNIST upsampled to 224x224 and replicated to 3 channels
# (10 classes, not ImageNet's 1000), fan-out init, G = sum of mean |g| (l1), eta ~ G^-0.5, for 2 seeds.
# T = 32 minibatches of 8 (256 images; the paper: one epoch of ImageNet). Each table goes with its eta map.
# Then the two seeds' tables against each other (rank correlation, max |ln ratio|).
#
#   bash sweeps/exp1-eta-patterns.sh [OUT_DIR]          (default runs/exp1)
# Memory: up to ~6 GB per measurement (ConvNeXt-T, Swin-T at batch 8), one model at a time.
set -euo pipefail
OUT=${1:-runs/exp1}
LWLR="node $(dirname "$0")/../packages/lab/bin/lwlr.js"
STEPS=${STEPS:-32}
BATCH=${BATCH:-8}
MODELS=${MODELS:-"resnet50 vit-s16 convnext-t swin-t"}
mkdir -p "$OUT"
for SEED in 0 1; do
  for M in $MODELS; do
    f="$OUT/$M-seed$SEED.json"
    [ -s "$f" ] && continue   # a re-run keeps the tables already measured
    s=$(date +%s)
    $LWLR lr --model "$M" --data fashion-mnist --image-size 224 --channels 3 --limit $((STEPS * BATCH)) \
      --batch-size "$BATCH" --steps "$STEPS" --seed "$SEED" --quiet --out "$f.tmp" --plot "$OUT/$M-seed$SEED.png"
    mv "$f.tmp" "$f"
    echo "$M seed $SEED: $(( $(date +%s) - s )) s"
  done
done
for M in $MODELS; do
  $LWLR compare-tables "$OUT/$M-seed0.json" "$OUT/$M-seed1.json" | tee "$OUT/$M-seeds.txt"
done
