#!/usr/bin/env bash
# Fashion-MNIST quality of otgen against PyTorch on the demo's recipe, in one run (issue 14):
# the conditional MLP (32 + 10) -> 512 -> 512 -> 784, Adam 3e-3 decayed (wsd) over the last 30 %,
# batch 256 against 1,024 rows of the step's class, L = 784 directions of a fixed Haar basis
# permuted and sign-flipped per step (PyTorch has no hadamard transform, so both sides use
# --directions-kind permuted), samples through the 5-point median, 8,000 steps, seeds 0 .. N-1.
# otgen runs `otgen train` with the Makefile's DEMO_FLAGS, directions swapped; PyTorch runs
# bench/torch_fmnist_demo.py with the same options. Both are judged by `otgen eval --metric fd` on
# 10,000 samples against the test split (its classifier trained once and cached; --cache DIR).
# With --hadamard, a third column: the demo itself (hadamard directions), run after otgen's
# permuted run while PyTorch's is still going.
# Prints each run's FD, confident fraction and memorisation ratio, then the medians over seeds.
# One otgen and one PyTorch job run side by side, one thread each (2 cores): a seed takes about
# 10 min (PyTorch's ~570 s; otgen's ~260 s, the demo's ~150 s), 5 seeds with --hadamard 52 min
# (measured 2026-12-07, docs/training.md "Fashion-MNIST against PyTorch").
# Usage: bench/fmnist_vs_torch.sh [--seeds N] [--steps N] [--hadamard] [--cache DIR] [--keep DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=3 STEPS=8000 HAD=0 CACHE="" KEEP=""
while [ $# -gt 0 ]; do
  case "$1" in
    --seeds) SEEDS=$2; shift 2 ;;
    --steps) STEPS=$2; shift 2 ;;
    --hadamard) HAD=1; shift ;;
    --cache) CACHE=$2; shift 2 ;;
    --keep) KEEP=$2; shift 2 ;;
    *) echo "fmnist_vs_torch: unknown option $1" >&2; exit 2 ;;
  esac
done
OTGEN=${OTGEN:-./build/otgen} PY=/usr/bin/python3   # OTGEN: another binary
[ -x "$OTGEN" ] || { echo "fmnist_vs_torch: build first (make)" >&2; exit 2; }
$PY -c 'import torch' 2>/dev/null || { echo "fmnist_vs_torch: needs python3-torch (scripts/install-deps.sh --anchors)" >&2; exit 2; }
if [ -n "$KEEP" ]; then D=$KEEP; mkdir -p "$D"; else D=$(mktemp -d); trap 'rm -rf "$D"' EXIT; fi
CACHE_FLAG=(); [ -n "$CACHE" ] && CACHE_FLAG=(--cache "$CACHE")
# the demo's flags from the Makefile, without --out/--force/--steps, directions swapped
read -r -a DEMO <<<"$(env -u MAKEFLAGS -u MAKELEVEL make -s --no-print-directory demo-flags)"
FLAGS=() skip=0
for f in "${DEMO[@]}"; do
  if [ $skip = 1 ]; then skip=0; continue; fi
  case "$f" in --out|--steps) skip=1 ;; --force) ;; *) FLAGS+=("$f") ;; esac
done
[ ${#FLAGS[@]} -gt 4 ] || { echo "fmnist_vs_torch: could not read DEMO_FLAGS from the Makefile" >&2; exit 2; }
PERM=()
for f in "${FLAGS[@]}"; do [ "$f" = hadamard ] && PERM+=(permuted) || PERM+=("$f"); done
START=$(date +%s)
echo "# $($OTGEN --version) steps=$STEPS seeds=$SEEDS threads=1+1 OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-auto} $(nproc) cores $(date -u +%FT%TZ)"
echo "# otgen train ${PERM[*]} --steps $STEPS"
# ev LOG KEY...: the values of the KEYs in the key=value line of an eval log, in order
ev() { local f=$1; shift
       awk -v keys="$*" '/^fd=/ {for (i = 1; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]}
                                 n = split(keys, k, " "); for (i = 1; i <= n; i++) printf "%s%s", v[k[i]], i < n ? " " : "\n"}' "$f"; }
judge() { ev "$1" fd confident memorisation | awk '{printf "%.3f %.3f %.3f", $1, $2, $3}'; }
otgen_run() {  # tag seed flags...
  local tag=$1 s=$2; shift 2
  $OTGEN train "$@" --steps "$STEPS" --seed "$s" --threads 1 --out "$D/$tag-$s" --force \
    >"$D/$tag-$s.log" 2>&1
  $OTGEN eval --metric fd --checkpoint "$D/$tag-$s/checkpoint.otg" --threads 1 "${CACHE_FLAG[@]}" \
    >"$D/$tag-$s.eval" 2>&1
}
printf '%-8s %4s %22s %22s %s\n' run seed "otgen fd/conf/mem" "pytorch fd/conf/mem" \
  "$([ $HAD = 1 ] && echo "hadamard fd/conf/mem")"
cols_o=() cols_t=() cols_h=()
for s in $(seq 0 $((SEEDS - 1))); do
  $PY bench/torch_fmnist_demo.py --out "$D/torch-$s.npy" --steps "$STEPS" --seed "$s" --threads 1 \
    --L 784 --lr 0.003 --directions permuted --schedule wsd --decay-frac 0.3 --data-batch 1024 \
    --conditional --sample-median >"$D/torch-$s.log" 2>&1 &
  tpid=$!
  otgen_run otgen "$s" "${PERM[@]}"
  h=""  # the demo itself on the core otgen frees while PyTorch runs (about twice as long)
  if [ $HAD = 1 ]; then otgen_run hadamard "$s" "${FLAGS[@]}"; h=$(judge "$D/hadamard-$s.eval"); fi
  wait $tpid || { echo "fmnist_vs_torch: PyTorch run failed ($D/torch-$s.log)" >&2; exit 1; }
  $OTGEN eval --metric fd --samples "$D/torch-$s.npy" --data fashion-mnist --threads 1 \
    "${CACHE_FLAG[@]}" >"$D/torch-$s.eval" 2>&1
  o=$(judge "$D/otgen-$s.eval") t=$(judge "$D/torch-$s.eval")
  cols_o+=("$o") cols_t+=("$t") cols_h+=("$h")
  printf '%-8s %4s %22s %22s %s\n' row "$s" "$o" "$t" "$h"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
col() { local k=$1; shift; for r in "$@"; do echo "$r" | awk -v k="$k" '{print $k}'; done; }
echo
echo "medians over $SEEDS seeds (otgen eval --metric fd, 10,000 samples, test split)"
echo "| metric | otgen | pytorch | otgen at least as good |$([ $HAD = 1 ] && echo " otgen hadamard (the demo) |")"
echo "| --- | ---: | ---: | --- |$([ $HAD = 1 ] && echo " ---: |")"
names=(fd confident memorisation)
for k in 1 2 3; do
  name=${names[k - 1]}
  mo=$(median $(col $k "${cols_o[@]}")) mt=$(median $(col $k "${cols_t[@]}"))
  case $k in  # fd: lower is better; confident: higher; memorisation: nearer 1
    1) ok=$(awk -v a="$mo" -v b="$mt" 'BEGIN {print (a <= b ? "yes" : "no")}') ;;
    2) ok=$(awk -v a="$mo" -v b="$mt" 'BEGIN {print (a >= b ? "yes" : "no")}') ;;
    3) ok=$(awk -v a="$mo" -v b="$mt" 'BEGIN {da = a - 1; db = b - 1; print (da * da <= db * db ? "yes" : "no")}') ;;
  esac
  mh=""; [ $HAD = 1 ] && mh=" $(median $(col $k "${cols_h[@]}")) |"
  echo "| $name | $mo | $mt | $ok |$mh"
done
meanse() { printf '%s\n' "$@" | awk '{s += $1; q += $1 * $1} END {m = s / NR; v = NR > 1 ? (q - NR * m * m) / (NR - 1) : 0
                                      printf "%.3f +- %.3f", m, sqrt(v > 0 ? v / NR : 0)}'; }
echo
echo "fd mean +- standard error over seeds: otgen $(meanse $(col 1 "${cols_o[@]}")), pytorch $(meanse $(col 1 "${cols_t[@]}"))$([ $HAD = 1 ] && echo ", otgen hadamard $(meanse $(col 1 "${cols_h[@]}"))")"
read -r dc acc <<<"$(ev "$D/torch-0.eval" data_confident classifier_accuracy)"
echo "test split: confident $dc; classifier test accuracy $acc"
echo "# $(( $(date +%s) - START )) s"
