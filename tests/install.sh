#!/usr/bin/env bash
# ctest `install`: installs the build into a temporary prefix, then builds programs against it the
# two ways a user would: `cc prog.c $(pkg-config --cflags --libs otgen)` (shared, and --static)
# and a CMake project with find_package(otgen); runs them, and checks the shared library's SONAME
# and that it exports only otg_* symbols. Usage: install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
prefix=$(mktemp -d /tmp/otgen-install.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
fail() { echo "install test: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null
for f in include/otgen/otgen.h include/otgen/core.h lib/libotgen.a lib/libotgen.so.0 \
         lib/pkgconfig/otgen.pc lib/cmake/otgen/otgenConfig.cmake bin/otgen; do
    [ -e "$prefix/$f" ] || fail "$f not installed"
done
soname=$(readelf -d "$prefix/lib/libotgen.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = libotgen.so.0 ] || fail "SONAME is '$soname', expected libotgen.so.0"
leaked=$(nm -D --defined-only "$prefix/lib/libotgen.so" | awk '{print $3}' | grep -v '^otg_' || true)
[ -z "$leaked" ] || fail "libotgen.so exports non-API symbols: $(echo $leaked | head -c 200)"

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
version=$(pkg-config --modversion otgen) || fail "pkg-config does not find otgen.pc"
[ "$version" = "$("$prefix/bin/otgen" --version | awk '{print $NF}')" ] ||
    fail "otgen.pc says version $version, the installed otgen says otherwise"

progs=("$src/tests/install/consumer.c")
[ -f "$src/examples/embed_train.c" ] && progs+=("$src/examples/embed_train.c")
for prog in "${progs[@]}"; do
    name=$(basename "$prog" .c)
    # shellcheck disable=SC2046
    cc -std=c11 -Wall -Werror "$prog" -o "$prefix/$name" $(pkg-config --cflags --libs otgen)
    # shellcheck disable=SC2046
    cc -std=c11 -Wall -Werror "$prog" -o "$prefix/$name-static" \
        $(pkg-config --cflags otgen) "$prefix/lib/libotgen.a" $(pkg-config --static --libs otgen | sed 's/-lotgen //')
    readelf -d "$prefix/$name" | grep -q 'NEEDED.*libotgen.so.0' || fail "$name does not link libotgen.so.0"
    LD_LIBRARY_PATH=$prefix/lib "$prefix/$name" "$prefix/run-$name" >"$prefix/$name.out" ||
        fail "$name (shared) failed: $(cat "$prefix/$name.out")"
    "$prefix/$name-static" "$prefix/run-$name-static" >"$prefix/$name-static.out" ||
        fail "$name (static) failed"
    sed -i 's/ dir=.*//' "$prefix/$name.out" "$prefix/$name-static.out" # the run directory differs
    cmp -s "$prefix/$name.out" "$prefix/$name-static.out" ||
        fail "$name: shared and static builds print different results"
    echo "pkg-config: $name: $(head -c 200 "$prefix/$name.out")"
done

cmake -S "$src/tests/install" -B "$prefix/consumer-build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/consumer-build" >/dev/null
LD_LIBRARY_PATH=$prefix/lib "$prefix/consumer-build/consumer" >"$prefix/cm.out" || fail "find_package consumer failed"
"$prefix/consumer-build/consumer_static" >"$prefix/cms.out" || fail "find_package static consumer failed"
cmp -s "$prefix/cm.out" "$prefix/consumer.out" && cmp -s "$prefix/cms.out" "$prefix/consumer.out" ||
    fail "find_package consumers print other results than the pkg-config build"
echo "find_package(otgen): $(cat "$prefix/cm.out")"

# The Python package, when built: installed where /usr/bin/python3 looks for /usr/local
# (`make install PREFIX=/usr/local` then needs no PYTHONPATH), importable from the prefix, and it
# loads the installed library.
found=$(cd "$prefix" && ls -d lib/python3*/dist-packages/otgen 2>/dev/null || true)
if [ -n "$found" ] && /usr/bin/python3 -c "import cffi, numpy" 2>/dev/null; then
    /usr/bin/python3 -c "import sys; sys.exit('/usr/local/${found%/otgen}' not in sys.path)" ||
        fail "the Python package is installed into PREFIX/$found, not on /usr/bin/python3's path for /usr/local"
    pkg=$prefix/${found%/otgen}
    pyout=$(cd "$prefix" && env -u OTGEN_LIB PYTHONPATH="$pkg" /usr/bin/python3 -c \
        "import otgen, numpy as n; print(otgen.__version__, otgen.LIBRARY_PATH, otgen.wasserstein_1d(n.zeros(3), n.ones(3), p=2))") ||
        fail "the installed Python package does not import"
    case "$pyout" in
        "$version $prefix/lib/libotgen.so.0 1.0") echo "python: $pyout" ;;
        *) fail "the installed Python package says '$pyout'" ;;
    esac
fi
