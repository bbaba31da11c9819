#!/usr/bin/env bash
# Tanguy (2023), Fashion-MNIST: an MLP generator 32 -> 512 -> 512 -> 784 trained with SW_2^2 on
# 512 fresh directions per step, with fixed-step SGD and with noised projected SGD (the two
# schemes of the paper), and with Adam for reference. Each run writes
# runs/examples/fmnist/<optimiser>/samples.png (an 8 x 8 grid) and loss.png.
# Usage: examples/tanguy_fmnist.sh [STEPS]   (from the repository root, after `make`; 7 min 48 s on 2
# cores with little else running (load 2-3 with this script), measured 2026-12-02; 24 min wall at
# load 7-12)
set -euo pipefail
otgen_t0=$(date +%s)
trap 'echo "$(basename "$0"): done in $(($(date +%s) - otgen_t0)) s" >&2' EXIT
cd "$(dirname "$0")/.."
STEPS=${1:-5000}
OTGEN=./build/otgen
OUT=runs/examples/fmnist
# --schedule constant: Tanguy's theorems are about a fixed step (the default is now wsd)
COMMON="--data fashion-mnist --steps $STEPS --projections 512 --schedule constant --val-every 500 --force"
printf '%-8s %10s\n' optim val_sw
for opt in sgd npsgd adam; do
  case $opt in
    sgd) extra="--optimizer sgd --lr 4" ;;
    # noise 1e-5: the walk lr a sqrt(steps) = 0.0028 stays below the weights' scale 1/sqrt(512);
    # 0.001 walked 0.28 and gave pure noise (docs/training.md, "The noise of npSGD")
    npsgd) extra="--optimizer npsgd --lr 4 --radius 100 --noise 0.00001" ;;
    adam) extra="--optimizer adam --lr 0.001" ;;
  esac
  line=$($OTGEN train $COMMON $extra --out $OUT/$opt 2>/dev/null)
  printf '%-8s %10s\n' "$opt" "$(echo "$line" | tr ' ' '\n' | sed -n 's/^val_sw=//p')"
done
echo "pictures: $OUT/*/samples.png and loss.png"
