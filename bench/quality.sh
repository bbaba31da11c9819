#!/usr/bin/env bash
# Sample quality of otgen against PyTorch on the same 2-D recipe, in one run (issue 14):
# MLP 2 -> 512 -> 512 -> 2, latent N(0, I_2), Adam 1e-3, batch 256, L = 128, 3,000 steps, for
# otgen's laws moons, swiss-roll, gaussians8, checkerboard and an NPY target (20,000 moons rows in
# a file), 3 seeds each. otgen runs `otgen train` with its defaults (plus --init if given);
# PyTorch runs bench/torch_quality.py on the same law's points (written by `otgen sample --data`:
# fresh points for a law, the same file's rows for the NPY target). Both generate 10,000 points,
# judged by bench/quality_judge.py: SW_2 (POT's definition) along 500 fixed directions against 10,000 held-out
# points of the law, minus that of 10,000 fresh points, over that of a standard Gaussian
# (0 = as close as fresh data). Prints the gap of every run, then a table of the medians over
# the seeds. One otgen and one PyTorch job run side by side, one thread each (2 cores).
# Usage: bench/quality.sh [--seeds N] [--steps N] [--init I] [--also-init I] [--torch-init I]
#                         [--also-torch "FLAGS"] [--laws "a b"] [--keep DIR]
#   --also-init I  a second otgen column: the same runs with --init I (e.g. he-normal, the old
#                  default), run after the first pair of jobs
#   --also-torch F a second PyTorch column: the same runs with bench/torch_quality.py's flags F
#                  added (e.g. "--schedule wsd --decay-frac 0.2", otgen's default schedule), run
#                  after the otgen run, beside the first PyTorch run
# Runtime: 15 pairs of runs side by side, each pair as long as its slower side; measured under load
# (2 cores shared with ~6 other jobs, 2026-12-02): otgen 80-180 s, PyTorch 160-200 s a run, about 55 min
# in all (an estimate for idle cores: 20-30 min, from otgen's 33 s run). It prints its duration.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=3 STEPS=3000 INIT="" ALSO="" TALSO="" TINIT=torch KEEP="" LAWS="moons swiss-roll gaussians8 checkerboard npy-moons"
while [ $# -gt 0 ]; do
  case "$1" in
    --seeds) SEEDS=$2; shift 2 ;;
    --steps) STEPS=$2; shift 2 ;;
    --init) INIT=$2; shift 2 ;;
    --also-init) ALSO=$2; shift 2 ;;
    --torch-init) TINIT=$2; shift 2 ;;
    --also-torch) TALSO=$2; shift 2 ;;
    --laws) LAWS=$2; shift 2 ;;
    --keep) KEEP=$2; shift 2 ;;
    *) echo "quality: unknown option $1" >&2; exit 2 ;;
  esac
done
OTGEN=${OTGEN:-./build/otgen} PY=/usr/bin/python3   # OTGEN: another binary
[ -x "$OTGEN" ] || { echo "quality: build first (make)" >&2; exit 2; }
$PY -c 'import torch, ot' 2>/dev/null || { echo "quality: needs python3-torch and python3-pot (scripts/install-deps.sh --anchors)" >&2; exit 2; }
if [ -n "$KEEP" ]; then D=$KEEP; mkdir -p "$D"; else D=$(mktemp -d); trap 'rm -rf "$D"' EXIT; fi
START=$(date +%s)
INIT_FLAG=(); [ -n "$INIT" ] && INIT_FLAG=(--init "$INIT")
N=10000 BATCH=256
echo "# $($OTGEN --version) init=${INIT:-default} torch_init=$TINIT also_torch=\"$TALSO\" steps=$STEPS seeds=$SEEDS threads=1+1 OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-auto} $(nproc) cores $(date -u +%FT%TZ)"
ALSO_COL=""; [ -n "$ALSO" ] && ALSO_COL="otgen:$ALSO"
TALSO_COL=""; [ -n "$TALSO" ] && TALSO_COL="torch:${TALSO// /_}"
printf '%-14s %4s %9s %9s %s %s\n' law seed otgen torch "$ALSO_COL" "$TALSO_COL"
read -r -a TALSO_FLAGS <<<"$TALSO"
declare -A MED_O MED_T MED_A MED_B
# one otgen run of $law, seed $1, into $D/$law-$2-$1.npy (extra flags after)
otgen_run() {
  local s=$1 tag=$2; shift 2
  $OTGEN train --data "$data" --steps "$STEPS" --seed "$s" "$@" --threads 1 \
    --out "$D/$law-run$tag-$s" --force >"$D/$law-run$tag-$s.log" 2>&1
  $OTGEN sample --checkpoint "$D/$law-run$tag-$s/checkpoint.otg" --n $N --seed 7 --threads 1 \
    --out "$D/$law-$tag-$s.npy" --force >/dev/null
}
for law in $LAWS; do
  L=$law; [ "$law" = npy-moons ] && L=moons
  # held-out and fresh points of the law (seeds no run uses)
  $OTGEN sample --data "$L" --n $N --seed 9001 --out "$D/$law-held.npy" --force >/dev/null
  $OTGEN sample --data "$L" --n $N --seed 9002 --out "$D/$law-fresh.npy" --force >/dev/null
  if [ "$law" = npy-moons ]; then
    $OTGEN sample --data moons --n 20000 --seed 8000 --out "$D/$law-target.npy" --force >/dev/null
  fi
  files_o=() files_t=() files_a=() files_b=()
  for s in $(seq 0 $((SEEDS - 1))); do
    if [ "$law" = npy-moons ]; then
      target="$D/$law-target.npy" fresh=()
    else
      target="$D/$law-pool.npy" fresh=(--fresh)
      $OTGEN sample --data "$L" --n $((STEPS * BATCH)) --seed $((100 + s)) --out "$target" --force >/dev/null
    fi
    data=$L; [ "$law" = npy-moons ] && data=$target
    $PY bench/torch_quality.py --data "$target" "${fresh[@]}" --seed "$s" --steps "$STEPS" \
      --init "$TINIT" --threads 1 --out "$D/$law-torch-$s.npy" >"$D/$law-torch-$s.log" &
    tpid=$!
    otgen_run "$s" otgen "${INIT_FLAG[@]}"
    if [ -n "$TALSO" ]; then
      $PY bench/torch_quality.py --data "$target" "${fresh[@]}" --seed "$s" --steps "$STEPS" \
        --init "$TINIT" --threads 1 "${TALSO_FLAGS[@]}" --out "$D/$law-torchalso-$s.npy" \
        >"$D/$law-torchalso-$s.log"
      files_b+=("$D/$law-torchalso-$s.npy")
    fi
    wait $tpid
    [ -n "$ALSO" ] && otgen_run "$s" also --init "$ALSO" && files_a+=("$D/$law-also-$s.npy")
    files_o+=("$D/$law-otgen-$s.npy") files_t+=("$D/$law-torch-$s.npy")
  done
  judged=$($PY bench/quality_judge.py --held "$D/$law-held.npy" --fresh "$D/$law-fresh.npy" \
    "${files_o[@]}" "${files_t[@]}" "${files_a[@]}" "${files_b[@]}")
  go=() gt=() ga=() gb=()
  for s in $(seq 0 $((SEEDS - 1))); do
    o=$(echo "$judged" | awk -v f="$D/$law-otgen-$s.npy" '$1 == f {print $2}')
    t=$(echo "$judged" | awk -v f="$D/$law-torch-$s.npy" '$1 == f {print $2}')
    a=$(echo "$judged" | awk -v f="$D/$law-also-$s.npy" '$1 == f {print $2}')
    b=$(echo "$judged" | awk -v f="$D/$law-torchalso-$s.npy" '$1 == f {print $2}')
    go+=("$o") gt+=("$t") ga+=("${a:-nan}") gb+=("${b:-nan}")
    printf '%-14s %4s %9s %9s %s %s\n' "$law" "$s" "$o" "$t" "$a" "$b"
  done
  median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
  MED_O[$law]=$(median "${go[@]}") MED_T[$law]=$(median "${gt[@]}") MED_A[$law]=$(median "${ga[@]}")
  MED_B[$law]=$(median "${gb[@]}")
done
echo
echo "median normalised SW gap over $SEEDS seeds (0 = as close as fresh data; lower is better)"
printf '| %-14s | %9s | %9s | %s |' law "otgen" pytorch "otgen <= pytorch"
[ -n "$ALSO" ] && printf ' %s |' "otgen --init $ALSO"
[ -n "$TALSO" ] && printf ' %s |' "pytorch $TALSO"
printf '\n| %-14s | %9s | %9s | %s |' --- ---: ---: ---
[ -n "$ALSO" ] && printf ' %s |' ---:
[ -n "$TALSO" ] && printf ' %s |' ---:
echo
for law in $LAWS; do
  ok=$(awk -v a="${MED_O[$law]}" -v b="${MED_T[$law]}" 'BEGIN {print a <= b ? "yes" : "no"}')
  printf '| %-14s | %9.4f | %9.4f | %s |' "$law" "${MED_O[$law]}" "${MED_T[$law]}" "$ok"
  [ -n "$ALSO" ] && printf ' %.4f |' "${MED_A[$law]}"
  [ -n "$TALSO" ] && printf ' %.4f |' "${MED_B[$law]}"
  echo
done
echo "duration: $(( $(date +%s) - START )) s"
