#!/usr/bin/env bash
# Ryu, Yuan & Yin (2019), stochastic bilinear game (dim 4, cond 4, gradient noise sigma = 0.3,
# |z_0 - z*| = 1, mean over 8 seeds):
#  - optimistic simGD with a_k = 0.2/(k+1)^p and b_k = 0.3/(k+1)^q: the paper reports convergence
#    only for 0 < q < p; for q >= p, a_k eventually exceeds 2 b_k (1 - 2 b_k R) and |z_k - z*|
#    stays near 1 (or grows);
#  - anchored simGD (gamma = 2) for several p: best near p = 2/3, divergence for p < 1/2.
# Prints a table; charts (|G(z_k)|^2 against k, log-log, one line per setting) in
# runs/examples/game_stochastic/{optimistic-p0.5,optimistic-p0.75,anchored}/convergence.png.
# Usage: examples/game_stochastic.sh   (from the repository root, after `make`; 5.6 s on 2 nearly idle
# cores (load 1.1), measured 2026-12-02; 30 s wall at load 15)
set -euo pipefail
otgen_t0=$(date +%s)
trap 'echo "$(basename "$0"): done in $(($(date +%s) - otgen_t0)) s" >&2' EXIT
cd "$(dirname "$0")/.."
OTGEN=${OTGEN:-./build/otgen}
OUT=runs/examples/game_stochastic
COMMON="--game bilinear --dim 4 --cond 4 --noise 0.3 --steps 50000 --every 100 --repeat 8 --seed 0"
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
printf '%-10s %-15s %10s %10s %9s  %s\n' method setting 'dist_0' 'dist_K' slope expected
for p in 0.5 0.75; do
  $OTGEN game $COMMON --method optimistic --lr 0.2 --optimism 0.3 --p $p \
    --sweep q=0,$(awk "BEGIN{print $p/2}"),$p,1 --out $OUT/optimistic-p$p --force 2>/dev/null |
    while read -r line; do
      q=$(echo "$line" | field sweep | sed 's/^q=//')
      exp=$(awk "BEGIN{print ($q > 0 && $q < $p) ? \"converges (0<q<p)\" : ($q == 0 ? \"q=0 (outside 0<q<p): noise floor\" : \"no convergence (q>=p)\")}")
      printf '%-10s %-15s %10s %10s %9s  %s\n' optimistic "p=$p q=$q" "$(echo "$line" | field dist_0)" \
        "$(echo "$line" | field dist)" "$(echo "$line" | field slope)" "$exp"
    done
done
res=$($OTGEN game $COMMON --method anchored --gamma 2 --sweep p=0.4,0.5,0.6,0.667,0.75,0.85 \
  --out $OUT/anchored --force 2>/dev/null)
echo "$res" | while read -r line; do
    p=$(echo "$line" | field sweep | sed 's/^p=//')
    exp=$(awk "BEGIN{print ($p < 0.5) ? \"paper: diverges (p<1/2)\" : \"paper: converges, best near p=2/3\"}")
    printf '%-10s %-15s %10s %10s %9s  %s\n' anchored "p=$p" "$(echo "$line" | field dist_0)" \
      "$(echo "$line" | field dist)" "$(echo "$line" | field slope)" "$exp"
  done
echo "$res" | awk '{for (i = 1; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = $i}
  d = v["dist"]; sub("dist=", "", d); s = v["slope"]; sub("slope=", "", s); p = v["sweep"]; sub("sweep=", "", p)
  if (bd == "" || d + 0 < bd) {bd = d + 0; bp = p}; if (bs == "" || s + 0 < bs) {bs = s + 0; sp = p}}
  END {printf "anchored: smallest dist_K at %s, steepest slope at %s\n", bp, sp}'
echo "dist: mean |z_K - z*| over 8 seeds at K = 50000; slope: of log |G|^2 on log k over [K/100, K]"
echo "charts: $OUT/optimistic-p0.5/convergence.png, $OUT/optimistic-p0.75/convergence.png, $OUT/anchored/convergence.png"
