#!/usr/bin/env bash
# clang-format --dry-run -Werror on the files kept in the repository's .clang-format style: the
# modules written or rewritten since the style was checked in CI (listed below; add a file here
# when you reformat it). Exits 1 naming the files that differ.
set -euo pipefail
cd "$(dirname "$0")/.."
files=()
for pattern in src/core/params.c src/io/fs.c tests/install/consumer.c src/study/ad_study.c \
    src/study/ad_study_ref.c src/study/study_internal.h tools/otgen/cmd_ad_study.c include/otgen/study.h \
    tools/otgen/options.[ch] tools/otgen/cmd_sw.c tools/otgen/cmd_demo.c tools/otgen/cmd_bench.c \
    tools/otgen/bench_train.c tools/otgen/bench_particles.c tools/otgen/cmd_sample.c \
    tools/otgen/cmd_eval.c tools/otgen/cmd_particles.c tools/otgen/cmd_ad_check.c; do
    for f in $pattern; do [ -f "$f" ] && files+=("$f"); done
done
clang-format --dry-run -Werror "${files[@]}"
echo "check-format: ${#files[@]} files in .clang-format style"
