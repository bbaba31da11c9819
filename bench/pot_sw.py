#!/usr/bin/python3
"""Anchor for the value-only figure of `otgen bench sw`: POT's ot.sliced_wasserstein_distance
(numpy backend), which returns the distance SW_p = (SW_p^p)^(1/p) along n_projections random
directions and computes no gradient. Same clouds as bench/torch_sw.py: X [n, d] standard normal;
Y [n, d] Fashion-MNIST training rows when d = 784, standard normal otherwise.
POT draws its own directions (a fresh seed per call). When you pass `projections=` yourself to
POT 0.8.2, also pass n_projections equal to their number: it divides by its default 50 otherwise
(POT bug #418; otgen divides by the number of directions used, docs/algorithms.md section 1.2).
Usage: /usr/bin/python3 bench/pot_sw.py --n 1024 --d 784 --L 512 [--p 2] [--threads 2] [--reps 15]
Last line: key=value pairs, including median_ms and sw (the last distance, a sanity check)."""
from common import fashion_mnist, parse, report, time_it  # sets the thread variables first

args = parse([("--n", dict(type=int, required=True, help="points per cloud")),
              ("--d", dict(type=int, required=True, help="dimension")),
              ("--L", dict(type=int, required=True, help="directions per call")),
              ("--p", dict(type=float, default=2.0, help="order p >= 1 [2]"))], __doc__)
if args.n < 1 or args.d < 1 or args.L < 1 or not args.p >= 1:
    raise SystemExit("pot_sw.py: need n, d, L >= 1 and p >= 1")
import os  # noqa: E402

import numpy as np  # noqa: E402
import ot  # noqa: E402

rng = np.random.default_rng(0)
Y = fashion_mnist(args.n, rng) if args.d == 784 else rng.standard_normal((args.n, args.d), dtype=np.float32)
X = rng.standard_normal((args.n, args.d), dtype=np.float32)
seeds = iter(range(1 << 30))
last = [float("nan")]


def value():
    last[0] = float(ot.sliced_wasserstein_distance(X, Y, n_projections=args.L, p=args.p, seed=next(seeds)))


med, best = time_it(value, args.reps)
report(tool="pot", version=ot.__version__, n=args.n, d=args.d, L=args.L, p=args.p,
       threads=args.threads, omp_wait_policy=os.environ.get("OMP_WAIT_POLICY", ""),
       sw=f"{last[0]:.6g}", median_ms=med * 1e3, min_ms=best * 1e3)
