#!/usr/bin/env bash
# clang-format --dry-run -Werror on the files kept in the repository's .clang-format style: every C
# file listed in scripts/format-files.txt (those written or reformatted since the style was checked
# in CI; add a file there when you reformat it). Exits 1 naming the files that differ.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(grep -v '^#' scripts/format-files.txt)
missing=()
for f in "${files[@]}"; do [ -f "$f" ] || missing+=("$f"); done
if [ ${#missing[@]} -gt 0 ]; then
    echo "check-format: listed but absent: ${missing[*]} (update scripts/format-files.txt)" >&2
    exit 1
fi
clang-format --dry-run -Werror "${files[@]}"
echo "check-format: ${#files[@]} files in .clang-format style"
