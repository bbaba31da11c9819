#!/usr/bin/env bash
# Regenerates every picture in docs/images from the command that draws it, and copies it there:
#   make docs-images        (about 90 min on 2 idle cores: the Fashion-MNIST runs, the examples)
#   scripts/docs-images.sh [BUILD_DIR] [NAME...]   only the named pictures (e.g. moons-samples)
# Each line of the table: the picture, the command (run from the repository root), the file it
# draws. Look at every picture afterwards; git diff --stat docs/images shows which changed.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=build
if [ $# -gt 0 ] && [ -d "$1" ]; then BUILD=$1; shift; fi
O=$BUILD/otgen
# The pictures were drawn with OpenBLAS's Haswell (AVX2) kernels, as check-docs pins them: another
# kernel (OpenBLAS picks its AVX-512 one where the CPU has it) changes the last bits of a run, so a
# regenerated picture would differ from the committed one without any change in the code.
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell}
R=runs/docs-images
# npy_grid S.npy OUT.png: 64 of the flat 28 x 28 images S [n, 784] (a PyTorch script's samples)
# in otgen's grid, through S_img.npy [n, 28, 28] and otgen sample. Exported for the table's bash -c.
npy_grid() {
  /usr/bin/python3 -c "import numpy as n, sys; n.save(sys.argv[2], n.load(sys.argv[1]).reshape(-1, 28, 28))" \
    "$1" "${1%.npy}_img.npy" && "$O" sample --data "${1%.npy}_img.npy" --n 64 --out "$2" --force
}
export -f npy_grid
export O
# name | command | produced file
TABLE=$(cat <<TAB
fmnist-samples|make -s demo|runs/demo/samples.png
fmnist-loss|make -s demo|runs/demo/loss.png
fmnist-cond-8k|make -s demo DEMO_STEPS=8000|runs/demo/samples.png
fmnist-cnn-cond|$O train --data fashion-mnist --conditional --projections 784 --directions-kind hadamard --lr 0.003 --schedule wsd --decay-frac 0.3 --data-batch 1024 --sample-median --val-every 1000 --steps 8000 --model cnn --channels 32 --out $R/fm-cnn-cond --force|$R/fm-cnn-cond/samples.png
fmnist-demo-before|$O train --data fashion-mnist --steps 5500 --val-every 500 --init he-normal --projections 512 --schedule constant --out $R/fm-before --force|$R/fm-before/samples.png
fmnist-ema-cosine|$O train --data fashion-mnist --steps 5500 --val-every 500 --init he-normal --projections 512 --ema 0.999 --schedule cosine --out $R/fm-ema --force|$R/fm-ema/samples.png
fmnist-permuted-ema-cosine|$O train --data fashion-mnist --steps 5500 --val-every 500 --init he-normal --projections 784 --directions-kind permuted --ema 0.999 --schedule cosine --out $R/fm-pec --force|$R/fm-pec/samples.png
fmnist-permuted-5500|$O train --data fashion-mnist --steps 5500 --schedule constant --projections 784 --directions-kind permuted --val-every 500 --out $R/fm-5500 --force|$R/fm-5500/samples.png
fmnist-cnn|$O train --data fashion-mnist --projections 784 --directions-kind permuted --val-every 500 --model cnn --steps 3000 --schedule wsd --out $R/fm-cnn --force|$R/fm-cnn/samples.png
fmnist-16k|$O train --data fashion-mnist --projections 784 --directions-kind permuted --val-every 1000 --steps 16000 --schedule wsd --decay-frac 0.3 --out $R/fm-16k --force|$R/fm-16k/samples.png
fmnist-torch-demo|/usr/bin/python3 bench/torch_fmnist_demo.py --out $R/torch_demo.npy --n 1000 && npy_grid $R/torch_demo.npy $R/torch_demo.png|$R/torch_demo.png
fmnist-zero-output|$O train --data fashion-mnist --projections 784 --directions-kind permuted --val-every 1000 --steps 8000 --lr 0.003 --schedule wsd --decay-frac 0.3 --output-init-scale 0 --seed 1 --out $R/fm-zero --force|$R/fm-zero/samples.png
fmnist-torch-8k|/usr/bin/python3 bench/torch_fmnist_demo.py --out $R/torch8k.npy --steps 8000 --directions permuted --L 784 --schedule wsd --decay-frac 0.3 --lr 0.003 --threads 1 && npy_grid $R/torch8k.npy $R/torch8k.png|$R/torch8k.png
fmnist-data-batch|$O train --data fashion-mnist --projections 784 --directions-kind permuted --val-every 1000 --steps 8000 --lr 0.003 --schedule wsd --decay-frac 0.3 --batch 512 --data-batch 2048 --out $R/fm-db --force|$R/fm-db/samples.png
fmnist-hadamard-11k|$O train --data fashion-mnist --steps 11000 --lr 0.003 --schedule wsd --decay-frac 0.3 --projections 784 --directions-kind hadamard --val-every 500 --out $R/fm-had11k --force|$R/fm-had11k/samples.png
fmnist-blur08|$O train --data fashion-mnist --steps 8000 --lr 0.003 --schedule wsd --decay-frac 0.3 --projections 784 --directions-kind hadamard --data-batch 1024 --output-blur 0.8 --val-every 500 --out $R/fm-blur08 --force|$R/fm-blur08/samples.png
fmnist-cond-raw|$O train --data fashion-mnist --conditional --steps 8000 --lr 0.003 --schedule wsd --decay-frac 0.3 --projections 784 --directions-kind hadamard --data-batch 1024 --val-every 500 --out $R/fm-cond-raw --force|$R/fm-cond-raw/samples.png
fmnist-cond-output-median|$O train --data fashion-mnist --conditional --steps 8000 --lr 0.003 --schedule wsd --decay-frac 0.3 --projections 784 --directions-kind hadamard --data-batch 1024 --output-median --val-every 500 --out $R/fm-cond-om --force|$R/fm-cond-om/samples.png
fmnist-torch-cond|/usr/bin/python3 bench/torch_fmnist_demo.py --out $R/torchcond.npy --steps 8000 --conditional --sample-median --directions permuted --L 784 --data-batch 1024 --schedule wsd --decay-frac 0.3 --lr 0.003 --threads 1 && npy_grid $R/torchcond.npy $R/torchcond.png|$R/torchcond.png
fmnist-quantile-bank|$O train --data fashion-mnist --projections 784 --directions-kind permuted --val-every 1000 --steps 8000 --lr 0.003 --schedule wsd --decay-frac 0.3 --quantile-bank 6272 --out $R/fm-qb --force|$R/fm-qb/samples.png
estimators-gauss-d784-stderr|examples/estimators.sh|runs/examples/estimators/gauss-d784_stderr.png
estimators-fmnist-stderr|examples/estimators.sh|runs/examples/estimators/fmnist-0v1_stderr.png
estimators-gauss-d3-abserr|examples/estimators.sh|runs/examples/estimators/gauss-d3_abserr.png
moons-samples|$O train --data moons --out $R/moons --force|$R/moons/samples.png
game-dirac-convergence|examples/game_dirac.sh|runs/examples/game_dirac/methods/convergence.png
game-gan2d-samples|examples/game_gan2d.sh|runs/examples/game_gan2d/anchored-adam/samples.png
onelayer-samples-vs-d|$BUILD/onelayer_samples|runs/examples/onelayer_samples/samples_vs_d.png
particles-excess-vs-m|$O particles --problem relu2 --m0 3 --sweep-m 2,3,4,6,8,16,32,64 --seeds 3 --out $R/relu2_sweep --force|$R/relu2_sweep/excess_vs_m.png
particles-relu2-trajectories|$O particles --problem relu2 --m0 3 --m 32 --out $R/relu2_m32 --force|$R/relu2_m32/particles.png
particles-deconv-mass|$O particles --problem deconv --m0 3 --lambda 0.01 --sweep-m 2,3,4,6,8,16,32,64 --seeds 3 --out $R/deconv_sweep --force|$R/deconv_sweep/mass_vs_t.png
ad-study-gaussian-affected|examples/ad_study.sh|runs/examples/ad-study/gaussian/affected.png
ad-study-grid-kinks|examples/ad_study.sh|runs/examples/ad-study/grid/kinks.png
lasso-descent|$BUILD/lasso_hyper|runs/examples/lasso/descent.png
lasso-hypergradient|$BUILD/lasso_hyper|runs/examples/lasso/hypergradient.png
mpi_scaling|bench/mpi_bench.sh $BUILD 2|docs/images/mpi_scaling.png
TAB
)
[ -x "$O" ] || { echo "docs-images: $O not built (run make)" >&2; exit 2; }
mkdir -p "$R"
declare -A done_cmd
while IFS='|' read -r name cmd file; do
  if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then continue; fi
  if [ -z "${done_cmd[$cmd]:-}" ]; then
    echo "docs-images: $name: $cmd" >&2
    t0=$(date +%s)
    bash -c "$cmd" >/dev/null </dev/null # the table is the loop's stdin: keep it from the command
    done_cmd[$cmd]=1
    echo "docs-images: $name: $(($(date +%s) - t0)) s" >&2
  fi
  [ -f "$file" ] || { echo "docs-images: $name: $cmd did not draw $file" >&2; exit 1; }
  [ "$file" = "docs/images/$name.png" ] || cp "$file" "docs/images/$name.png"
done <<< "$TABLE"
echo "docs-images: done; look at each picture (git diff --stat docs/images)" >&2
