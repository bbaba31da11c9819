#!/usr/bin/env bash
# Kontonis, Liu & Tzamos (2020): SGDA learns a one-layer generator phi(W* x) (here relu, W* with
# condition number 2) with O~(d^2 / eps^2) samples. otgen's discriminator is the moment-matching
# D(y) = <V, y y^T> + <v, y> with the penalty (lambda/2)(|V|^2 + |v|^2), lambda = 1 (the paper's
# exact discriminator could not be retrieved; see docs/games.md). simGD with a_k = 1/(k+1)^0.6,
# batches of 32 target and 32 generator samples, mean over 3 seeds, for d = 2, 4, 8, 16.
# Prints cov_err = |W W^T - W* W*^T|_F / |W* W*^T|_F and sw at a few sample counts, and the
# samples after which cov_err stays below EPS, against d and d^2. Chart: cov_err against target
# samples, one line per d, in runs/examples/game_onelayer/cov_err.png (and convergence.png).
# Usage: examples/game_onelayer.sh [EPS]   (from the repository root, after `make`; 11 s on 2 nearly idle
# cores (load 1.3), measured 2026-12-02; 48 s wall at load 15)
set -euo pipefail
otgen_t0=$(date +%s)
trap 'echo "$(basename "$0"): done in $(($(date +%s) - otgen_t0)) s" >&2' EXIT
cd "$(dirname "$0")/.."
OTGEN=${OTGEN:-./build/otgen}
OUT=runs/examples/game_onelayer
EPS=${1:-0.1}
DIMS="2 4 8 16"
$OTGEN game --game onelayer --act relu --cond 2 --method simgd --lr 1 --p 0.6 --batch 32 \
  --sweep dim=$(echo $DIMS | tr ' ' ',') --steps 20000 --every 100 --repeat 3 --seed 0 \
  --out $OUT --force 2>/dev/null >/dev/null
printf '%4s %14s %14s %14s %10s %16s %12s\n' d 'cov_err@6.4e3' 'cov_err@6.4e4' \
  'cov_err@6.4e5' 'sw@6.4e5' "samples(<$EPS)" 'samples/d^2'
for d in $DIMS; do
  # columns: step,samples,grad_sq,dist,loss,cov_err,sw,...
  awk -F, -v d=$d -v eps=$EPS 'NR > 1 {s[NR] = $2; c[NR] = $6; w[NR] = $7; n = NR}
    END {
      for (i = 2; i <= n; i++) { if (s[i] == 6400) a = c[i]; if (s[i] == 64000) b = c[i] }
      need = "never"
      for (i = n; i >= 2 && c[i] < eps; i--) need = s[i]
      ratio = need == "never" ? "-" : sprintf("%.0f", need / (d * d))
      printf "%4d %14.4f %14.4f %14.4f %10.4f %16s %12s\n", d, a, b, c[n], w[n], need, ratio
    }' "$OUT/metrics-simgd-dim_$d.csv"
done
echo "samples(<eps): target samples after which the seed-mean cov_err stays below eps (logged every 3200)"
echo "charts: $OUT/cov_err.png (cov_err against samples per d), $OUT/convergence.png"
