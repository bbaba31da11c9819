#!/usr/bin/python3
"""The judge of bench/quality.sh: the normalised SW gap of generated point sets to a law.
  gap(S) = (SW(S, H) - SW(F, H)) / SW(G, H)
with SW = POT's ot.sliced_wasserstein_distance (p = 2) along 500 fixed directions (uniform on
the sphere, numpy seed 0), H held-out points of the law, F fresh points of the law (as many as S:
what an exact generator would score), G standard Gaussian points (numpy seed 1, as many as S).
0 = as close as fresh data; 1 = as far as a standard Gaussian is beyond fresh data.
Usage: /usr/bin/python3 bench/quality_judge.py --held H.npy --fresh F.npy S1.npy [S2.npy ...]
Prints one line per sample file: `file gap sw`, then `fresh_sw=... gauss_sw=...`."""
import argparse

import numpy as np
import ot

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--held", required=True)
ap.add_argument("--fresh", required=True)
ap.add_argument("samples", nargs="+")
args = ap.parse_args()

held = np.load(args.held).astype(np.float64)
d = held.shape[1]
theta = np.random.default_rng(0).normal(size=(500, d))
theta /= np.linalg.norm(theta, axis=1, keepdims=True)


def sw(x):
    return float(ot.sliced_wasserstein_distance(x.astype(np.float64), held, projections=theta.T, p=2))


def cut(x, n):
    return x[:n] if len(x) >= n else x


fresh = np.load(args.fresh)
refs = {}  # n -> (SW of n fresh points, SW of n Gaussian points)
for f in args.samples:
    s = np.load(f)
    n = len(s)
    if n not in refs:
        refs[n] = (sw(cut(fresh, n)), sw(np.random.default_rng(1).normal(size=(n, d))))
    base, gauss = refs[n]
    print(f"{f} {(sw(s) - base) / gauss:.4f} {sw(s):.5f}")
print(f"fresh_sw={base:.5f} gauss_sw={gauss:.5f}")
