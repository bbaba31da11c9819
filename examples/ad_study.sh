#!/usr/bin/env bash
# Bertoin et al. (2021) on otgen's own SW generators: does the choice of relu'(0) change a
# float32 training run? `otgen ad-study` trains each MLP generator (widths x depths x seeds) twice
# from the same seed, with relu'(0) = 0 and relu'(0) = 1, and reports the first step at which the
# parameters differ, the ReLU inputs exactly at 0 met, and the final losses; then the float64
# reference path for a small model. Two latent laws: Gaussian (continuous: exact zeros only by
# rounding) and grid (discrete, with the point (0, 0): exact zeros by construction at step 1).
# Writes runs/examples/ad-study/<law>/{study.csv,affected.png,kinks.png}.
# Usage: examples/ad_study.sh [SEEDS] [STEPS]   (from the repository root, after `make`;
# 2 min 8 s on 2 nearly idle cores (load 2.6), measured 2026-12-02; 8 min 51 s wall at load 13-18)
set -euo pipefail
otgen_t0=$(date +%s)
trap 'echo "$(basename "$0"): done in $(($(date +%s) - otgen_t0)) s" >&2' EXIT
cd "$(dirname "$0")/.."
SEEDS=${1:-4}
STEPS=${2:-300}
OTGEN=./build/otgen
OUT=runs/examples/ad-study
COMMON="--data moons --widths 16,32,64,128,256,512 --depths 1,2,3,4 --seeds $SEEDS --steps $STEPS --threads 1 --force"
for law in gaussian grid; do
  echo "== latent law: $law"
  $OTGEN ad-study $COMMON --source $law --out $OUT/$law
done
echo "pictures: $OUT/*/affected.png and kinks.png"
