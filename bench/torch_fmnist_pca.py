#!/usr/bin/python3
"""A negative experiment of issue 14 (docs/training.md, "The demo recipe"): the demo's MLP
32 -> 512 -> 512 -> K (ReLU hidden, no output activation, PyTorch's default initialisation) whose
K outputs are the coefficients of Fashion-MNIST's top K principal components (the covariance of the
60,000 training images, numpy.linalg.eigh in double). SW_2^2 is taken in coefficient space between
256 generated coefficient vectors and 256 projected training rows, along --mult fresh orthonormal
bases of R^K per step (QR of a Gaussian K x K), Adam (lr 1e-3), --steps steps. Samples are decoded
as mean + U c and clipped to [0, 1]. Writes --n samples as an NPY [n, 784] for
`otgen eval --metric fd --samples OUT.npy`. Measured: K = 128, --mult 6, 5,500 steps: FD 19.6
(the demo: 8.62); the speckle becomes a plaid of high-order components.
Usage: /usr/bin/python3 bench/torch_fmnist_pca.py --out pca.npy [--k 128] [--mult 6]
       [--steps 5500] [--seed 0] [--threads 2] [--n 10000]
Last line: key=value pairs (steps, seconds, explained variance, last loss, output)."""
from common import parse, report  # thread variables first

args = parse([("--out", dict(required=True, help="samples NPY to write")),
              ("--k", dict(type=int, default=128, help="principal components [128]")),
              ("--mult", dict(type=int, default=6, help="orthonormal bases per step [6]")),
              ("--steps", dict(type=int, default=5500, help="training steps [5500]")),
              ("--seed", dict(type=int, default=0, help="torch seed [0]")),
              ("--n", dict(type=int, default=10000, help="samples written [10000]"))], __doc__)
import gzip  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from common import FMNIST_TRAIN  # noqa: E402

torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)
with gzip.open(FMNIST_TRAIN, "rb") as f:
    x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784).astype(np.float64) / 255.0
mu = x.mean(0)
w, v = np.linalg.eigh(np.cov(x - mu, rowvar=False))
u = v[:, ::-1][:, :args.k].copy()  # [784, K], largest first
explained = w[::-1][:args.k].sum() / w.sum()
data = torch.from_numpy(((x - mu) @ u).astype(np.float32))
net = torch.nn.Sequential(torch.nn.Linear(32, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512),
                          torch.nn.ReLU(), torch.nn.Linear(512, args.k))
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
t0, loss = time.time(), None
for step in range(args.steps):
    z = torch.randn(256, 32)
    y = data[torch.randint(0, len(data), (256,))]
    theta = torch.cat([torch.linalg.qr(torch.randn(args.k, args.k))[0] for _ in range(args.mult)], 1)
    xs, _ = torch.sort(net(z) @ theta, dim=0)
    ys, _ = torch.sort(y @ theta, dim=0)
    loss = (xs - ys).square().mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
seconds = time.time() - t0
with torch.no_grad():
    c = net(torch.randn(args.n, 32)).numpy().astype(np.float64)
np.save(args.out, np.clip(c @ u.T + mu, 0.0, 1.0).astype(np.float32))
report(tool="torch", version=torch.__version__, steps=args.steps, k=args.k, mult=args.mult,
       explained=f"{explained:.4f}", threads=args.threads, seconds=f"{seconds:.1f}",
       loss=f"{loss.item():.6g}", out=args.out)
