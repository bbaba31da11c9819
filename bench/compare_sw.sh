#!/usr/bin/env bash
# Compares otgen's fused SW value+gradient with the anchors bench/torch_sw.py (PyTorch value+
# gradient) and bench/pot_sw.py (POT value only) on the sizes of the SW issue, in one run, and
# prints the ratios; had_ms is otgen's value+gradient with hadamard directions projected by fast
# transforms (otgen bench sw --kind hadamard; image-sized d only), torch/had its ratio.
# Usage: bench/compare_sw.sh [--threads T] [--reps R] [--quick]   (run from the repository root
# after `make`; the anchors need `scripts/install-deps.sh --anchors`).
set -euo pipefail
cd "$(dirname "$0")/.."
T=2 R=15 QUICK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) T=$2; shift 2 ;;
    --reps) R=$2; shift 2 ;;
    --quick) QUICK=1; shift ;;
    *) echo "compare_sw: unknown option $1" >&2; exit 2 ;;
  esac
done
ANCHORS=bench   # the anchor scripts, next to this one (bench/common.py sets their threads)
OTGEN=./build/otgen
[ -x "$OTGEN" ] || { echo "compare_sw: build first (make)" >&2; exit 2; }
/usr/bin/python3 -c 'import torch, ot' 2>/dev/null || { echo "compare_sw: needs python3-torch and python3-pot (scripts/install-deps.sh --anchors)" >&2; exit 2; }
key() { tr ' ' '\n' | sed -n "s/^$1=//p" | tail -1; }

SIZES=("256 784 128" "1024 784 512" "4096 2 64" "10000 784 1000")
[ "$QUICK" = 1 ] && SIZES=("256 784 128" "4096 2 64")
echo "# threads=$T reps=$R OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-auto} OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-default} $(date -u +%FT%TZ)"
# otgen_ms: value+gradient (vs torch, which also does both); value_ms: value only (vs POT)
printf '%-16s %9s %9s %9s %9s %8s %8s %9s %7s %9s %9s %9s\n' "n,d,L" "otgen_ms" "torch_ms" "value_ms" "pot_ms" "torch/x" "pot/val" "gemm_ms" "x/gemm" "peak_frac" "had_ms" "torch/had"
for s in "${SIZES[@]}"; do
  set -- $s
  reps=$R; [ "$1" -ge 10000 ] && reps=$(( R < 5 ? R : 5 ))
  o=$($OTGEN bench sw --n $1 --d $2 --L $3 --threads $T --reps $reps | tail -1)
  t=$(/usr/bin/python3 $ANCHORS/torch_sw.py --n $1 --d $2 --L $3 --threads $T --reps $reps | tail -1)
  p=$(/usr/bin/python3 $ANCHORS/pot_sw.py --n $1 --d $2 --L $3 --threads $T --reps $(( reps < 5 ? reps : 5 )) | tail -1)
  om=$(echo "$o" | key median_ms); tm=$(echo "$t" | key median_ms); pm=$(echo "$p" | key median_ms)
  hm=- hr=-
  if [ "$2" -ge 64 ]; then
    hm=$($OTGEN bench sw --n $1 --d $2 --L $3 --threads $T --reps $reps --kind hadamard | tail -1 | key median_ms)
    hr=$(printf '%.2f' "$(echo "$tm / $hm" | bc -l)")
  fi
  vm=$(echo "$o" | key value_only_ms)
  printf '%-16s %9.3f %9.3f %9.3f %9.3f %8.2f %8.1f %9.3f %7.2f %9.2f %9s %9s\n' "$1,$2,$3" "$om" "$tm" "$vm" "$pm" \
    "$(echo "$tm / $om" | bc -l)" "$(echo "$pm / $vm" | bc -l)" "$(echo "$o" | key gemm_ms)" \
    "$(echo "$o" | key total_over_gemm)" "$(echo "$o" | key peak_fraction)" "$hm" "$hr"
done
