#!/bin/sh
# Chizat & Bach (2018) claim with otgen particles: excess objective at the end against m for relu2
# (m0 = 3, d = 2, lambda = 0: F* = 0) and deconv (m0 = 3 spikes, lambda = 0.01), 3 seeds; plus
# trajectories for m = m0 (fails) and m = 16 (reaches the minimum), and the all-at-one-point init;
# sigmoid2 (m0 = 3, d = 2, lambda = 0) on a fixed sample of 1024 points, full batch, 6000 steps.
# Usage: examples/particles_claim.sh [OUT]   (after `make`; 33 s on 2 nearly idle cores (load 1.5),
# measured 2026-12-02; 100 s wall at load 10-15)
set -e
otgen_t0=$(date +%s)
trap 'echo "$(basename "$0"): done in $(($(date +%s) - otgen_t0)) s" >&2' EXIT
OTGEN=${OTGEN:-build/otgen}
OUT=${1:-runs/particles_claim}
"$OTGEN" particles --problem relu2 --m0 3 --sweep-m 2,3,4,6,8,16,32,64 --seeds 3 --out "$OUT/relu2_sweep" --force
"$OTGEN" particles --problem sigmoid2 --m0 3 --n 1024 --batch 1024 --steps 6000 --sweep-m 2,3,4,6,8,16,32,64 --seeds 3 --out "$OUT/sigmoid2_sweep" --force
"$OTGEN" particles --problem deconv --m0 3 --lambda 0.01 --sweep-m 2,3,4,6,8,16,32,64 --seeds 3 --out "$OUT/deconv_sweep" --force
for m in 3 16; do
  "$OTGEN" particles --problem relu2 --m0 3 --m $m --out "$OUT/relu2_m$m" --force
  "$OTGEN" particles --problem deconv --m0 3 --lambda 0.01 --m $m --out "$OUT/deconv_m$m" --force
done
"$OTGEN" particles --problem relu2 --m0 3 --m 16 --init point --out "$OUT/relu2_m16_point" --force
