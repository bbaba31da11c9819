#!/bin/sh
# Runs the Python package's tests: python.sh PYTHON TESTDIR. Exit 77 (ctest: skipped) when pytest
# is missing, with the reason.
py=$1
dir=$2
if ! "$py" -c "import pytest, cffi, numpy" 2>/dev/null; then
    echo "python tests skipped: $py lacks pytest, cffi or numpy (Debian: python3-pytest python3-cffi)"
    exit 77
fi
exec "$py" -m pytest -q -p no:cacheprovider "$dir"
