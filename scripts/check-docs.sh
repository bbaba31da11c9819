#!/usr/bin/env bash
# Re-runs the commands whose output the docs quote and compares the quoted figures with what the
# build prints now. Each check names the doc, the text the doc quotes (which must still be there,
# so a doc edit cannot silently drop a checked figure), the command, and the figure extracted from
# its output; a check fails when the doc no longer holds its quote or the output differs from it.
#   scripts/check-docs.sh [BUILD_DIR] [--long]
# Short checks (a few seconds each) run in CI (ctest label docs); --long adds the examples that
# take minutes (about 25 min on 2 idle cores). Exit 0: every check holds; 1: some differ (listed).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=build
LONG=0
for a in "$@"; do
  case "$a" in
    --long) LONG=1 ;;
    -*) echo "check-docs: unknown option '$a' (--long)" >&2; exit 2 ;;
    *) BUILD=$a ;;
  esac
done
OTGEN=$BUILD/otgen
# The quoted figures were produced with OpenBLAS's Haswell (AVX2) sgemm kernels. Results are
# bit-identical for any thread count on one BLAS kernel, but another kernel (OpenBLAS picks its
# AVX-512 one on a CPU that has it) changes the last digits, so the checks pin the kernel.
export OPENBLAS_CORETYPE=Haswell
[ -x "$OTGEN" ] || { echo "check-docs: $OTGEN not built (run make)" >&2; exit 2; }
T=$(mktemp -d /tmp/check-docs.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0 checks=0

# check DOC QUOTE GOT: the doc must contain QUOTE, and GOT (the figure the command printed now)
# must equal it.
check() {
  local doc=$1 quote=$2 got=$3
  checks=$((checks + 1))
  if ! grep -qF -- "$quote" "$doc"; then
    echo "FAIL $doc: no longer quotes '$quote' (update the check or the doc)"; fails=$((fails + 1))
  elif [ "$got" != "$quote" ]; then
    echo "FAIL $doc: quotes '$quote', the build gives '$got'"; fails=$((fails + 1))
  else
    echo "ok   $doc: $quote"
  fi
}

# key=value from a line of output
kv() { tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }

# --- short: seconds each --------------------------------------------------------------------------
# docs/library.md quotes the whole output line of the embedding example
out=$("$BUILD/embed_train" "$T/embed" 2>/dev/null | sed "s|$T/embed|/tmp/embed-run|")
check docs/library.md "embed_train: steps=300 val_sw=0.05432 samples=1000 mean=(0.029, 0.001) dir=/tmp/embed-run" "$out"

# docs/implicit.md: the DEQ generator against the MLP on moons (1 thread)
out=$("$OTGEN" train --model deq --hidden 64,64 --data moons --steps 600 --batch 128 --lr 0.003 \
  --schedule constant --threads 1 --out "$T/deq" 2>/dev/null)
check docs/implicit.md "val_sw 0.0512 at step 600" \
  "val_sw $(printf '%.3g' "$(printf '%s' "$out" | kv val_sw)") at step 600"
out=$("$OTGEN" train --hidden 64,64 --data moons --steps 600 --batch 128 --lr 0.003 --threads 1 \
  --schedule constant --out "$T/mlp" 2>/dev/null)
check docs/implicit.md "(the MLP 64,64: 0.039;" \
  "(the MLP 64,64: $(printf '%.3g' "$(printf '%s' "$out" | kv val_sw)");"

# docs/particles.md: relu2 with every particle at one point stays a single neuron
"$OTGEN" particles --problem relu2 --m0 3 --m 16 --init point --out "$T/point" >/dev/null 2>&1
first=$(sed -n 2p "$T/point/metrics.csv" | cut -d, -f2) last=$(tail -1 "$T/point/metrics.csv" | cut -d, -f2)
check docs/particles.md "(0.105313 → 0.105294)" \
  "($(printf '%.6f' "$first") → $(printf '%.6f' "$last"))"

# --- long: minutes each ---------------------------------------------------------------------------
if [ "$LONG" = 1 ]; then
  out=$("$BUILD/onelayer_samples" --out "$T/onelayer" 2>/dev/null)
  fit=$(printf '%s\n' "$out" | grep 'tail average' -A20 | grep 'd >= 4' | head -1 |
        sed -E 's/.*a = ([0-9.]+) \[([0-9.]+), ([0-9.]+)\], b = ([0-9.]+) \[([0-9.]+), ([0-9.]+)\].*/a = \1 [\2, \3], b = \4 [\5, \6]/')
  check docs/games.md "**a = 2.07 [1.86, 2.23], b = 1.93 [1.69, 2.02]**" "**$fit**"
fi

echo "check-docs: $checks checks, $fails failed$([ "$LONG" = 1 ] || echo ' (short; --long for the examples)')"
[ "$fails" -eq 0 ]
