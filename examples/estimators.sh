#!/usr/bin/env bash
# The SW estimators against the number of directions L (docs/sliced-wasserstein.md, "Estimators"):
# plain Monte Carlo, orthogonal directions, the control variates LCV and UCV (Nguyen & Ho, ICLR
# 2024), energy-based SW (Nguyen & Ho, NeurIPS 2023; compared with its own 10^5-direction
# reference, it is another quantity) and, for d = 3, RQMC directions (Nguyen, Bariletto & Ho, ICLR
# 2024), on Gaussians (d = 3, d = 784) and two Fashion-MNIST class pairs (test split, 1000 images
# each). For each L in 8..1024, R seeds: the relative standard deviation of the SW_2^2 estimates
# and their relative mean absolute error against a 10^5-direction reference. Writes
# runs/examples/estimators/{estimators.tsv, <problem>_stderr.png, <problem>_abserr.png}.
# Usage: examples/estimators.sh [R]   (from the repository root, after `make`; R = 10 seeds:
# 2 min 5 s on 2 nearly idle cores (load 1.7), measured 2026-12-02; 8 min 46 s wall at load 10-18)
set -euo pipefail
otgen_t0=$(date +%s)
trap 'echo "$(basename "$0"): done in $(($(date +%s) - otgen_t0)) s" >&2' EXIT
cd "$(dirname "$0")/.."
R=${1:-10}
OUT=runs/examples/estimators
mkdir -p "$OUT"
./build/estimators "$OUT" "$R"
# the table at L = 16, 128, 1024: relative sd and relative mean absolute error per method
awk -F'\t' 'NR > 1 && ($3 == 16 || $3 == 128 || $3 == 1024) {
  printf "%-12s %-10s L=%-5s sd=%-9s abs_err=%-9s (reference se %s)\n", $1, $2, $3, $4, $5, $7 }' "$OUT/estimators.tsv"
