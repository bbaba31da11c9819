#!/usr/bin/env bash
# Ryu, Yuan & Yin (2019) train GANs with optimistic and anchored Adam: here a GAN on the plane,
# an MLP generator (2-32-32-2, ReLU) against an MLP discriminator (2-32-32-1, leaky ReLU) on the
# gaussians8 mixture (8 modes on the circle of radius 2, sd 0.05), standard (zero-sum) loss,
# batches of 128, 5,000 steps, 3 seeds. Plain simGD, alternating GDA, optimistic simGD and
# extragradient (a = 0.05) against simultaneous Adam (optimistic-adam with optimism 0), optimistic
# Adam (a = b = 1e-3) and anchored Adam (c = 0.1, gamma = 2, anchor refreshed every 250 steps).
# Prints modes covered (of 8), the fraction of high-quality samples and SW_2 to the target (mean
# over the seeds); pictures: runs/examples/game_gan2d/<run>/samples.png (first seed's generator
# over the target) and modes.png. Usage: examples/game_gan2d.sh   (after `make`; 61 s on 2 nearly idle cores
# (load 2), measured 2026-12-02; 3 min 17 s wall at load 13)
set -euo pipefail
otgen_t0=$(date +%s)
trap 'echo "$(basename "$0"): done in $(($(date +%s) - otgen_t0)) s" >&2' EXIT
cd "$(dirname "$0")/.."
OTGEN=${OTGEN:-./build/otgen}
OUT=runs/examples/game_gan2d
COMMON="--game gan2d --steps 5000 --batch 128 --every 100 --repeat 3 --seed 0 --force"
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
printf '%-34s %8s %8s %8s\n' run modes hq sw
run() { # name, flags
  line=$($OTGEN game $COMMON $2 --out "$OUT/$1" 2>/dev/null)
  printf '%-34s %8.2f %8.3f %8.3f\n' "$1" "$(echo "$line" | field modes)" \
    "$(echo "$line" | field hq)" "$(echo "$line" | field sw)"
}
for m in simgd altgda optimistic extragradient; do
  run "$m" "--method $m --lr 0.05 --optimism 0.05"
done
run "adam (optimistic-adam b=0)" "--method optimistic-adam --lr 0.001 --optimism 0"
run "optimistic-adam" "--method optimistic-adam --lr 0.001 --optimism 0.001"
run "anchored-adam" "--method anchored-adam --scale 0.1 --gamma 2 --refresh 250"
run "anchored-adam, no refresh" "--method anchored-adam --scale 0.1 --gamma 2"
run "optimistic-adam, wasserstein" "--method optimistic-adam --lr 0.001 --optimism 0.001 --gan-loss wasserstein --clip 0.1"
echo "modes: modes holding >= 1/5 of their share of the points within 3 sd; hq: fraction of such points"
echo "pictures: $OUT/*/samples.png, $OUT/*/modes.png"
