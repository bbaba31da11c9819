#!/usr/bin/python3
"""The calibration of `otgen eval --metric fd` (docs/training.md, "Calibration"): writes 10,000
images of each kind as NPY files [10000, 784] in [0, 1] and judges each with otgen:
  train10k      10,000 training images (real images; the classifier saw them)
  saltpepper5   those with each pixel set to 0 or 1 (even odds) with probability 0.05
  blur1         those blurred by a Gaussian of sd 1 pixel (scipy.ndimage.gaussian_filter)
  gaussian      a full-covariance Gaussian fit of the 60,000 training images, clipped to [0, 1]
  memorised200  200 training images, each repeated 50 times
  test10k       the test split itself (the reference: fd 0, memorisation 1)
Extra NPY files given with --also are judged too (e.g. a PyTorch run's samples).
Usage: /usr/bin/python3 bench/fd_calibration.py [--otgen build/otgen] [--dir runs/cal]
       [--also a.npy b.npy]
Prints one line per set: name and otgen's key=value line."""
import argparse
import gzip
import os
import subprocess

import numpy as np
from scipy.ndimage import gaussian_filter

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--otgen", default="build/otgen")
ap.add_argument("--dir", default="runs/cal")
ap.add_argument("--also", nargs="*", default=[])
args = ap.parse_args()
root = "/usr/share/datasets/fashion-mnist"


def images(split):
    with gzip.open(f"{root}/{split}-images-idx3-ubyte.gz") as f:
        return np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / 255


os.makedirs(args.dir, exist_ok=True)
train, test = images("train"), images("t10k")
rng = np.random.default_rng(0)
held = train[rng.choice(len(train), 10000, replace=False)]
noisy = held.copy()
hit = rng.random(noisy.shape) < 0.05
noisy[hit] = (rng.random(hit.sum()) < 0.5).astype(np.float32)
blur = np.stack([gaussian_filter(im.reshape(28, 28), 1.0).ravel() for im in held])
fit = rng.multivariate_normal(train.mean(0), np.cov(train.T), 10000, method="eigh")
copies = np.tile(train[rng.choice(len(train), 200, replace=False)], (50, 1))
sets = {"train10k": held, "saltpepper5": noisy, "blur1": blur, "gaussian": np.clip(fit, 0, 1),
        "memorised200": copies, "test10k": test}
paths = []
for name, x in sets.items():
    p = os.path.join(args.dir, name + ".npy")
    np.save(p, x.astype(np.float32))
    paths.append((name, p))
paths += [(os.path.basename(p), p) for p in args.also]
for name, p in paths:
    out = subprocess.run([args.otgen, "eval", "--metric", "fd", "--samples", p, "--threads", "1"],
                         capture_output=True, text=True)
    print(name, out.stdout.strip() or out.stderr.strip(), flush=True)
