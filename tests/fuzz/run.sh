#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz for SECONDS each on its corpus, which starts from
# seeds the tool writes itself (a small training run's checkpoint.otg, config.json and
# metrics.csv, sampled NPY points, Fashion-MNIST's own IDX headers when installed).
# usage: run.sh BUILD_DIR SECONDS   (make fuzz FUZZ_SECONDS=N)
# Prints the executions per target; exits 1 on a finding (the input is kept in
# BUILD_DIR/fuzz-artifacts/).
set -euo pipefail
B=$(cd "${1:?usage: run.sh BUILD_DIR SECONDS}" && pwd)
SECS=${2:-20}
CORPUS=$B/fuzz-corpus ART=$B/fuzz-artifacts
mkdir -p "$ART"
S=$(mktemp -d)
trap 'rm -rf "$S"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

seed() { # seed TARGET NAME: stdin into the target's corpus
    mkdir -p "$CORPUS/$1"
    cat >"$CORPUS/$1/seed-$2"
}

if [ ! -d "$CORPUS" ]; then
    "$B/otgen" train --data moons --hidden 8 --steps 3 --batch 32 --val-n 64 --val-projections 16 \
        --projections 16 --threads 1 --checkpoint-every 1 --out "$S/run" >/dev/null 2>&1
    "$B/otgen" sample --checkpoint "$S/run/checkpoint.otg" --n 5 --out "$S/p.npy" >/dev/null 2>&1
    seed fuzz_npy sample <"$S/p.npy"
    seed fuzz_csv metrics <"$S/run/metrics.csv"
    printf '0.5,1.5\n-2,3e-2\n' | seed fuzz_csv points
    seed fuzz_config config <"$S/run/config.json"
    printf '{"steps": 3, "hidden": "8,8", "classes": null}' | seed fuzz_config small
    { printf '\001'; cat "$S/run/checkpoint.otg"; } | seed fuzz_checkpoint raw
    n=$(stat -c %s "$S/run/checkpoint.otg")
    { printf '\000'; head -c $((n - 4)) "$S/run/checkpoint.otg"; } | seed fuzz_checkpoint crc-fixed
    printf 'hidden 8,8\nlr 0.01\nsteps 5\nseed 3\nclasses 0,7\n' | seed fuzz_options flags
    FM=/usr/share/datasets/fashion-mnist
    unz() { zcat "$1" 2>/dev/null || true; } # head closes the pipe early
    if [ -f "$FM/train-labels-idx1-ubyte.gz" ]; then # two images and their labels, count patched
        {
            printf '\000'
            unz "$FM/train-labels-idx1-ubyte.gz" | head -c 4
            printf '\000\000\000\002'
            unz "$FM/train-labels-idx1-ubyte.gz" | head -c 10 | tail -c 2
            printf '\n--\n'
            unz "$FM/train-images-idx3-ubyte.gz" | head -c 4
            printf '\000\000\000\002'
            unz "$FM/train-images-idx3-ubyte.gz" | head -c $((16 + 2 * 784)) | tail -c $((8 + 2 * 784))
        } | seed fuzz_idx two
    else
        printf '\000\000\000\010\001\000\000\000\001\003\n--\n\000\000\010\003\000\000\000\001' |
            seed fuzz_idx header
    fi
fi

status=0
for f in "$B"/tests/fuzz/fuzz_*; do
    t=$(basename "$f")
    mkdir -p "$CORPUS/$t"
    log=$S/$t.log
    if "$f" -max_total_time="$SECS" -print_final_stats=1 -rss_limit_mb=2048 -max_len=65536 \
        -timeout=30 -artifact_prefix="$ART/$t-" "$CORPUS/$t" >"$log" 2>&1; then
        res="no finding"
    else
        res="FINDING (see $ART and the log below)"
        status=1
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    echo "fuzz: $t: ${execs:-?} executions in $SECS s, corpus $(ls "$CORPUS/$t" | wc -l) inputs: $res"
    if [ "$res" != "no finding" ]; then tail -40 "$log"; fi
done
exit $status
