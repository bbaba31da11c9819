#!/usr/bin/env bash
# Installs the Debian packages otgen needs to build, test and run its demo.
# Idempotent: prints nothing and changes nothing when every package is already present.
#   --cross    also POT (python3-pot) and PyTorch (python3-torch), so the cross-check tests against
#              POT and the Python package's otgen.torch tests (gradcheck) run (CI uses it)
#   --anchors  also PyTorch, POT and Fashion-MNIST, for the comparison benchmarks in bench/
# Variant choice: libopenblas-openmp-dev, so OpenBLAS shares otgen's OpenMP runtime (one thread
# pool, no oversubscription; see docs/dependencies.md).
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config clang-format
  clang                    # make fuzz: libFuzzer, and -fsanitize=float-cast-overflow
  libopenblas-openmp-dev   # CBLAS, OpenMP threading variant
  librandom123-dev         # counter-based Philox streams (header-only)
  zlib1g-dev libpng-dev libcjson-dev
  libcmocka-dev            # unit tests
  libhwy-dev               # Highway vqsort for the SW sorts (optional: the C radix sort without it)
  python3-cffi python3-numpy python3-pytest   # the Python package (python/) and its tests
  libplplot-dev plplot-driver-cairo   # charts (axes, ticks, log scales) rendered to PNG by cairo
  dataset-fashion-mnist    # the real data set of the main job (/usr/share/datasets/fashion-mnist)
  libopenmpi-dev openmpi-bin   # the optional MPI mode (docs/mpi.md); CI builds and tests it
)
for arg in "$@"; do
  case "$arg" in
    --cross) PKGS+=(python3-pot python3-torch) ;;
    --anchors) PKGS+=(python3-pot python3-torch dataset-fashion-mnist) ;;
    *) echo "install-deps: unknown option '$arg' (--cross, --anchors)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=sudo
  else
    echo "install-deps: missing Debian packages: ${missing[*]}" >&2
    echo "install-deps: run as root (or with sudo): apt-get install ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done" >&2
