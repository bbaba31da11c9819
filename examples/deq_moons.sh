#!/usr/bin/env bash
# A deep-equilibrium generator (docs/implicit.md): the latent Gaussian goes through one equilibrium
# layer z* = relu(z* W + x U + b) (|W|_2 <= 0.9, solved to its fixed point and differentiated
# implicitly) and a dense layer, trained on SW_2^2 with Adam; the same run with an MLP of the same
# widths for comparison. Writes runs/examples/deq/<data>-<model>/samples.png and loss.png and
# prints the final validation SW_2 and the steps per second of each run.
# Usage: examples/deq_moons.sh [STEPS]   (from the repository root, after `make`; 9 s on 2 nearly idle cores
# (load 1.4), measured 2026-12-02; 22 s wall at load 10)
set -euo pipefail
otgen_t0=$(date +%s)
trap 'echo "$(basename "$0"): done in $(($(date +%s) - otgen_t0)) s" >&2' EXIT
cd "$(dirname "$0")/.."
STEPS=${1:-1500}
OTGEN=./build/otgen
OUT=runs/examples/deq
# --schedule constant: the step size of docs/implicit.md's table (the default is now wsd)
COMMON="--steps $STEPS --hidden 64,64 --batch 128 --lr 0.003 --schedule constant --val-every 250 --threads 1 --force"
printf '%-12s %-5s %10s %10s\n' data model val_sw steps/s
for data in moons gaussians8; do
  for model in deq mlp; do
    start=$(date +%s.%N)
    line=$($OTGEN train --data $data --model $model $COMMON --out $OUT/$data-$model 2>/dev/null)
    secs=$(echo "$(date +%s.%N) - $start" | bc)
    printf '%-12s %-5s %10s %10.0f\n' "$data" "$model" \
      "$(echo "$line" | tr ' ' '\n' | sed -n 's/^val_sw=//p')" "$(echo "$STEPS / $secs" | bc -l)"
  done
done
echo "pictures: $OUT/*/samples.png and loss.png"
