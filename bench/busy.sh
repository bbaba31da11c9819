#!/usr/bin/env bash
# otgen on a busy machine: the default thread count against --threads 1, with every core free and
# with one core held by another process (a background `yes > /dev/null`), in one run.
# Workloads: `otgen train --data moons --steps S` (the user-trial case; wall seconds) and
# `otgen bench train --model 2d` (steps per second). Waits: otgen's default (OMP_WAIT_POLICY=passive,
# set by otgen at start-up) and libgomp's own default (GOMP_SPINCOUNT=300000, about 3 ms of
# spinning at every barrier: what otgen did before). Rounds interleave the configurations; the
# last lines give, per state, the median over rounds of default/--threads 1 time ratios.
# Usage: bench/busy.sh [--rounds R] [--steps S]   (from the repository root, after `make`)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=3 STEPS=200
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --steps) STEPS=$2; shift 2 ;;
    *) echo "busy: unknown option $1 (--rounds R, --steps S)" >&2; exit 2 ;;
  esac
done
OTGEN=./build/otgen
[ -x "$OTGEN" ] || { echo "busy: build first (make)" >&2; exit 2; }
D=$(mktemp -d)
LOAD_PID=
WAITENV=()
cleanup() { [ -n "$LOAD_PID" ] && kill "$LOAD_PID" 2>/dev/null; rm -rf "$D"; }
trap cleanup EXIT
now() { date +%s.%N; }
secs() { # wall seconds of one moons training run: secs [otgen options...]
  local t0 t1; t0=$(now)
  env "${WAITENV[@]}" "$OTGEN" train --data moons --steps "$STEPS" --out "$D/m" --force "$@" >/dev/null 2>&1
  t1=$(now); echo "$t1 - $t0" | bc -l
}
sps() { env "${WAITENV[@]}" "$OTGEN" bench train --model 2d --reps 5 "$@" | tail -1 | tr ' ' '\n' | sed -n 's/^steps_per_s=//p'; }
echo "# busy.sh $(date -u +%FT%TZ) nproc=$(nproc) load=$(cut -d' ' -f1 /proc/loadavg)" \
     "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-auto} rounds=$ROUNDS steps=$STEPS"
printf '%-5s %-6s %-11s %10s %10s %12s\n' round state wait moons_2t_s moons_1t_s 2d_2t_sps
R=$D/ratios; : > "$R"
for r in $(seq "$ROUNDS"); do
  for state in idle busy; do
    if [ "$state" = busy ]; then yes > /dev/null & LOAD_PID=$!; sleep 0.3; fi
    for wait in otgen spin; do
      WAITENV=(); [ "$wait" = spin ] && WAITENV=(GOMP_SPINCOUNT=300000)
      a=$(secs); b=$(secs --threads 1); c=$(sps)
      printf '%-5s %-6s %-11s %10.2f %10.2f %12.1f\n' "$r" "$state" "$wait" "$a" "$b" "$c"
      echo "$state $wait $(echo "$a / $b" | bc -l)" >> "$R"
    done
    if [ -n "$LOAD_PID" ]; then kill "$LOAD_PID"; wait "$LOAD_PID" 2>/dev/null || true; LOAD_PID=; fi
  done
done
for state in idle busy; do
  for wait in otgen spin; do
    med=$(awk -v s=$state -v w=$wait '$1==s && $2==w {print $3}' "$R" | sort -g |
          awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
    echo "state=$state wait=$wait moons_default_over_threads1=$(printf '%.2f' "$med")"
  done
done
