#!/usr/bin/env bash
# Tanguy (2023), 2-D experiments: an MLP generator pushes a 2-D Gaussian onto each target law by
# minimising SW_2^2, with fixed-step SGD (Theorem 1) and with noised projected SGD (Theorem 2).
# Each run writes runs/examples/2d/<law>-<optimiser>/samples.png (generated over target) and
# loss.png; the table at the end gives the final validation SW_2 of every run.
# Usage: examples/tanguy_2d.sh [STEPS]   (from the repository root, after `make`; 33 s on 2 nearly idle
# cores (load 1.5), measured 2026-12-02; 87 s wall at load 14)
set -euo pipefail
otgen_t0=$(date +%s)
trap 'echo "$(basename "$0"): done in $(($(date +%s) - otgen_t0)) s" >&2' EXIT
cd "$(dirname "$0")/.."
STEPS=${1:-3000}
OTGEN=./build/otgen
OUT=runs/examples/2d
# --schedule constant: Tanguy's theorems are about a fixed step (the default is now wsd)
COMMON="--steps $STEPS --hidden 128,128 --batch 256 --projections 64 --schedule constant --val-every 250 --force"
printf '%-12s %-7s %10s\n' law optim val_sw
for law in moons swiss-roll gaussian uniform grid; do
  for opt in sgd npsgd; do
    extra="--optimizer sgd --lr 0.2"
    # noise 0.001: the walk lr a sqrt(steps) = 0.011 stays well below the weights' scale 1/sqrt(128)
    # (docs/training.md, "The noise of npSGD"); 0.01 made the samples measurably worse than SGD's
    [ "$opt" = npsgd ] && extra="--optimizer npsgd --lr 0.2 --radius 50 --noise 0.001"
    line=$($OTGEN train --data $law $COMMON $extra --out $OUT/$law-$opt 2>/dev/null)
    printf '%-12s %-7s %10s\n' "$law" "$opt" "$(echo "$line" | tr ' ' '\n' | sed -n 's/^val_sw=//p')"
  done
done
echo "pictures: $OUT/*/samples.png and loss.png"
