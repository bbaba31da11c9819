"""Shared set-up of otgen's PyTorch / POT anchor benchmarks (bench/*.py).

The anchors are what otgen's speed is compared with, on the same machine in the same run: PyTorch
and POT as Debian packages them (`scripts/install-deps.sh --anchors` installs python3-torch,
python3-pot and dataset-fashion-mnist), run with /usr/bin/python3. Every script prints one last
line of key=value pairs, as `otgen bench` does, so a comparison script reads both sides the same
way (see bench/compare_sw.sh and docs/performance.md).

What this module does for each script:
- parse(): --threads T [2] and --reps R [15] plus the script's own options; then, before numpy or
  torch is imported, sets OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS to T, and
  OMP_WAIT_POLICY=PASSIVE unless the caller set it. With the default spin-waiting, PyTorch's
  OpenMP threads and OpenBLAS's own threads fight for the cores of a 2-core machine and an SW
  training step ran about 3x slower; the anchor must be PyTorch at its best.
- time_it(): warm-up calls, then the median and the minimum of R timed calls.
- fashion_mnist(): rows of Debian's Fashion-MNIST training images as float32 in [0, 1] (the data
  otgen trains on), or uniform [0, 1) noise of the same shape when the package is absent.
- gaussians8(): otgen's `gaussians8` law (src/data/laws.c): 8 modes on the circle of radius 2.
- report(): the last line, key=value pairs separated by spaces.

Import this module before numpy and torch, and call parse() first."""
import argparse
import gzip
import math
import os
import statistics
import struct
import time

# Debian's dataset-fashion-mnist (the same directory as OTG_FASHION_MNIST_DIR in include/otgen/data.h)
FMNIST_DIR = "/usr/share/datasets/fashion-mnist"
FMNIST_TRAIN = os.path.join(FMNIST_DIR, "train-images-idx3-ubyte.gz")


def parse(extra=(), doc=None):
    """Parses --threads, --reps and the (flag, argparse kwargs) pairs of `extra`; fixes the
    thread variables before any numerical library loads. Returns the argparse namespace."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2, help="threads of torch / numpy / OpenBLAS [2]")
    ap.add_argument("--reps", type=int, default=15, help="timed repetitions; the median is reported [15]")
    for flag, kw in extra:
        ap.add_argument(flag, **kw)
    args = ap.parse_args()
    if args.threads < 1:
        ap.error("--threads must be >= 1")
    if args.reps < 1:
        ap.error("--reps must be >= 1")
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[v] = str(args.threads)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return args


def time_it(fn, reps, warmup=3):
    """Calls fn() `warmup` times, then times `reps` calls: returns (median, min) in seconds."""
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), min(ts)


def fashion_mnist(n, rng):
    """n distinct training images drawn with numpy Generator rng, as a float32 array [n, 784] in
    [0, 1]; uniform [0, 1) noise of that shape when the data set is not installed (the timings do
    not depend on the pixel values). The IDX header is checked (magic 2051, 28 x 28 images)."""
    import numpy as np
    if not os.path.exists(FMNIST_TRAIN):
        return rng.random((n, 784), dtype=np.float32)
    with gzip.open(FMNIST_TRAIN, "rb") as f:
        raw = f.read()
    magic, count, h, w = struct.unpack(">IIII", raw[:16])
    if magic != 2051 or (h, w) != (28, 28) or len(raw) != 16 + count * h * w:
        raise SystemExit(f"{FMNIST_TRAIN}: not an IDX file of 28 x 28 images")
    if n > count:
        raise SystemExit(f"fashion_mnist: {n} rows asked, the training split has {count}")
    imgs = np.frombuffer(raw, np.uint8, offset=16).reshape(count, h * w)
    return imgs[rng.choice(count, n, replace=False)].astype(np.float32) / 255.0


def gaussians8(n, rng, noise=0.02):
    """n points of otgen's gaussians8 law: centre 2 (cos(k pi/4), sin(k pi/4)), k uniform in 0..7,
    plus N(0, noise^2 I_2); float32 [n, 2]."""
    import numpy as np
    a = rng.integers(0, 8, n) * (np.pi / 4)
    pts = 2.0 * np.stack([np.cos(a), np.sin(a)], axis=1) + rng.normal(scale=noise, size=(n, 2))
    return pts.astype(np.float32)


def schedule(steps, kind, decay_frac, lr0=1e-3):
    """rate(k): the step size of step k (0-based) under otgen's --schedule constant or wsd
    (src/optim/schedule.c: lr0 for the first steps - decay steps, then a cosine to 0 over the
    last decay = ceil(decay_frac steps)). Checks decay_frac once, here."""
    if not 0.0 < decay_frac <= 1.0:
        raise SystemExit(f"--decay-frac {decay_frac} is not in (0, 1]")
    decay = max(1, math.ceil(decay_frac * steps))

    def rate(k):
        t = k - (steps - decay)
        if kind == "constant" or t < 0:
            return lr0
        return lr0 * 0.5 * (1.0 + math.cos(math.pi * min(t, decay) / decay))
    return rate


def report(**kv):
    """Prints the last line: key=value pairs in the order given (floats with 3 decimals)."""
    def fmt(v):
        return f"{v:.3f}" if isinstance(v, float) else str(v)
    print(" ".join(f"{k}={fmt(v)}" for k, v in kv.items()), flush=True)
