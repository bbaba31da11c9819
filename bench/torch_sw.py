#!/usr/bin/python3
"""Anchor for `otgen bench sw`: the Sliced-Wasserstein value SW_p^p AND its gradient with respect
to X in PyTorch (CPU), written the way users write it: L fresh directions per call (Gaussian
columns normalised to the unit sphere, POT's d x L orientation), project both clouds with a matmul,
sort each column, mean of |differences|^p over the n x L entries, backward. That is the
equal-size, uniform-weight estimator of otg_sw (docs/algorithms.md section 1).
  X: [n, d] standard normal (requires grad); Y: [n, d] Fashion-MNIST training rows when d = 784
  (uniform noise if the data set is absent), standard normal otherwise.
Usage: /usr/bin/python3 bench/torch_sw.py --n 1024 --d 784 --L 512 [--p 2] [--threads 2] [--reps 15]
Last line: key=value pairs, including median_ms (one value + gradient evaluation, directions
drawn inside the timed call) and sw_pp (the last value, a sanity check)."""
from common import fashion_mnist, parse, report, time_it  # sets the thread variables first

args = parse([("--n", dict(type=int, required=True, help="points per cloud")),
              ("--d", dict(type=int, required=True, help="dimension")),
              ("--L", dict(type=int, required=True, help="directions per call")),
              ("--p", dict(type=float, default=2.0, help="order p >= 1 [2]"))], __doc__)
if args.n < 1 or args.d < 1 or args.L < 1 or not args.p >= 1:
    raise SystemExit("torch_sw.py: need n, d, L >= 1 and p >= 1")
import os  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(args.threads)
torch.manual_seed(0)
rng = np.random.default_rng(0)
Y = fashion_mnist(args.n, rng) if args.d == 784 else rng.standard_normal((args.n, args.d), dtype=np.float32)
Y = torch.from_numpy(Y)
X = torch.from_numpy(rng.standard_normal((args.n, args.d), dtype=np.float32)).requires_grad_(True)
last = [float("nan")]


def value_and_grad():
    theta = torch.randn(args.d, args.L)
    theta = theta / theta.norm(dim=0, keepdim=True)      # [d, L], one unit direction per column
    xs, _ = torch.sort(X @ theta, dim=0)
    ys, _ = torch.sort(Y @ theta, dim=0)
    loss = (xs - ys).abs().pow(args.p).mean()           # (1/L) sum_l (1/n) sum_i |.|^p
    X.grad = None
    loss.backward()
    last[0] = loss.item()


med, best = time_it(value_and_grad, args.reps)
report(tool="torch", version=torch.__version__, n=args.n, d=args.d, L=args.L, p=args.p,
       threads=args.threads, omp_wait_policy=os.environ.get("OMP_WAIT_POLICY", ""),
       sw_pp=f"{last[0]:.6g}", median_ms=med * 1e3, min_ms=best * 1e3)
