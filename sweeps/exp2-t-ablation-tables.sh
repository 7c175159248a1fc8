#!/usr/bin/env bash
# Issue 11, experiment 2 (the paper's Table 3), part 1: how eta depends on T. Algorithm 1 on ResNet-20
# (Fashion-MNIST, all 60,000 training images, batch 128, fan-out init) at T = 1, 10, 100 and one epoch (469
# minibatches), for seeds 0, 1, 2 (each seed: one init, the same data order, the T tables are prefixes of one
# another); then each T against the one-epoch table of its seed: Spearman rank correlation, max / mean
# |ln(eta_T / eta_epoch)|, max / mean deviation % (the paper's columns), and their mean ± std over the seeds.
# Part 2 (training with the T = 1 table vs the one-epoch table) is sweeps/exp2-t-ablation-train.yaml.
#
# Cost: 580 measured minibatches per seed (T = 1 + 10 + 100 + 469), ~0.35 s of CPU each (forward + backward, no
# update; measured 2026-12-05 on this machine, onednn, one thread: `lwlr lr --model resnet20 --steps 20` took 12.4 s
# CPU incl. ~6 s start-up, 56 s wall at load average ~15) -> ~3.5 min CPU per seed, ~11 min for the three, one
# process at a time (with the native backend's default threads; ~4-5x that in wall time at load ~15).
#
#   bash sweeps/exp2-t-ablation-tables.sh [OUT_DIR]        (default runs/exp2-tables)
# A smoke test of the script: MODEL=mlp LIMIT=2560 EPOCH=20 bash sweeps/exp2-t-ablation-tables.sh /tmp/t
set -euo pipefail
OUT=${1:-runs/exp2-tables}
LWLR="node $(dirname "$0")/../packages/lab/bin/lwlr.js"
MODEL=${MODEL:-resnet20}
EPOCH=${EPOCH:-469}   # ceil(60000 / 128)
LIMIT_FLAG=${LIMIT:+--limit $LIMIT}
mkdir -p "$OUT"
for SEED in 0 1 2; do
  for T in 1 10 100 $EPOCH; do
    f="$OUT/seed$SEED-T$T.json"
    [ -s "$f" ] && continue   # a re-run keeps the tables already measured
    $LWLR lr --model "$MODEL" $LIMIT_FLAG --data fashion-mnist --batch-size 128 --seed "$SEED" --steps "$T" --quiet --out "$f.tmp"
    mv "$f.tmp" "$f"
  done
  $LWLR compare-tables "$OUT/seed$SEED-T$EPOCH.json" "$OUT/seed$SEED-T1.json" "$OUT/seed$SEED-T10.json" "$OUT/seed$SEED-T100.json" | tee "$OUT/seed$SEED-compare.txt"
  $LWLR compare-tables --json "$OUT/seed$SEED-T$EPOCH.json" "$OUT/seed$SEED-T1.json" "$OUT/seed$SEED-T10.json" "$OUT/seed$SEED-T100.json" > "$OUT/seed$SEED-compare.json"
done
# mean ± std (sample, n - 1) over the seeds, per T
node -e '
const fs = require("fs"), path = require("path"), dir = process.argv[1];
const rows = [0, 1, 2].flatMap((s) => JSON.parse(fs.readFileSync(path.join(dir, `seed${s}-compare.json`), "utf8")));
const keys = ["spearman", "maxAbsLogRatio", "meanAbsLogRatio", "maxDeviationPct", "meanDeviationPct"];
const ms = (xs) => { const m = xs.reduce((a, b) => a + b, 0) / xs.length; const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1); return [m, Math.sqrt(v)]; };
const out = [];
console.log(["T", ...keys].join("\t"));
for (const T of [...new Set(rows.map((r) => r.steps))]) {
  const rs = rows.filter((r) => r.steps === T);
  const stats = Object.fromEntries(keys.map((k) => [k, ms(rs.map((r) => r[k]))]));
  out.push({ T, seeds: rs.length, ...stats });
  console.log([T, ...keys.map((k) => `${stats[k][0].toFixed(4)} ± ${stats[k][1].toFixed(4)}`)].join("\t"));
}
fs.writeFileSync(path.join(dir, "summary.json"), JSON.stringify(out, null, 2) + "\n");
' "$OUT"
echo "tables and comparisons in $OUT (summary.json: mean ± std over seeds 0-2 per T)"
