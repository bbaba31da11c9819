#!/usr/bin/python3
"""A mixed experiment of issue 14 (docs/training.md, "The demo recipe"): the PyTorch demo recipe of
bench/torch_fmnist_demo.py (MLP 32 -> 512 -> 512 -> 784, sigmoid output, Adam 1e-3, batch 256,
SW_2^2 along 512 fresh Gaussian unit directions) plus --lam times SW_2^2 between two clouds of
--patches random k x k patches (from all (28 - k + 1)^2 positions of the 256 generated and the 256
training images of the step) along --lp fresh Gaussian unit directions of R^(k k). --lam 0 is the
plain recipe. Measured at 2,000 steps: --lam 1 FD 35.2, --lam 0 FD 28.8 (isolated background
pixels thin out, shapes get blotchier). Writes --n samples as an NPY [n, 784] for
`otgen eval --metric fd --samples OUT.npy`.
Usage: /usr/bin/python3 bench/torch_fmnist_patch.py --out patch.npy [--lam 1] [--k 5]
       [--patches 8192] [--lp 64] [--steps 2000] [--seed 0] [--threads 2] [--n 10000]
Last line: key=value pairs (steps, seconds, last loss, output)."""
from common import parse, report  # thread variables first

args = parse([("--out", dict(required=True, help="samples NPY to write")),
              ("--lam", dict(type=float, default=1.0, help="weight of the patch term [1]")),
              ("--k", dict(type=int, default=5, help="patch side [5]")),
              ("--patches", dict(type=int, default=8192, help="patches per side per step [8192]")),
              ("--lp", dict(type=int, default=64, help="patch directions per step [64]")),
              ("--steps", dict(type=int, default=2000, help="training steps [2000]")),
              ("--seed", dict(type=int, default=0, help="torch seed [0]")),
              ("--n", dict(type=int, default=10000, help="samples written [10000]"))], __doc__)
import gzip  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from common import FMNIST_TRAIN  # noqa: E402

torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)
with gzip.open(FMNIST_TRAIN, "rb") as f:
    data = torch.from_numpy(np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
                            .astype(np.float32) / 255.0)
net = torch.nn.Sequential(torch.nn.Linear(32, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512),
                          torch.nn.ReLU(), torch.nn.Linear(512, 784), torch.nn.Sigmoid())
opt = torch.optim.Adam(net.parameters(), lr=1e-3)


def sw(x, y, theta):
    xs, _ = torch.sort(x @ theta, dim=0)
    ys, _ = torch.sort(y @ theta, dim=0)
    return (xs - ys).square().mean()


def unit(d, n):
    t = torch.randn(d, n)
    return t / t.norm(dim=0, keepdim=True)


def patches(img, idx):  # img [256, 784] -> the patches idx of all positions, [len(idx), k k]
    p = F.unfold(img.view(-1, 1, 28, 28), args.k)  # [n, k k, positions]
    return p.transpose(1, 2).reshape(-1, args.k * args.k)[idx]


positions = 256 * (28 - args.k + 1) ** 2
t0, loss = time.time(), None
for step in range(args.steps):
    z = torch.randn(256, 32)
    y = data[torch.randint(0, len(data), (256,))]
    x = net(z)
    loss = sw(x, y, unit(784, 512))
    if args.lam > 0:
        ix = torch.randint(0, positions, (args.patches,))
        iy = torch.randint(0, positions, (args.patches,))
        loss = loss + args.lam * sw(patches(x, ix), patches(y, iy), unit(args.k * args.k, args.lp))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
seconds = time.time() - t0
with torch.no_grad():
    samples = net(torch.randn(args.n, 32)).numpy().astype(np.float32)
np.save(args.out, samples)
report(tool="torch", version=torch.__version__, steps=args.steps, lam=args.lam, k=args.k,
       threads=args.threads, seconds=f"{seconds:.1f}", loss=f"{loss.item():.6g}", out=args.out)
