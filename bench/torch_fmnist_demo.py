#!/usr/bin/python3
"""The PyTorch reference of `make demo`'s original recipe (docs/training.md, "Judging images"):
an MLP 32 -> 512 -> 512 -> 784 (ReLU hidden, sigmoid output, PyTorch's default initialisation)
from N(0, I_32) latents to Fashion-MNIST's 60,000 training images, trained by Adam (lr 1e-3) on
SW_2^2 between a batch of 256 generated images and 256 training rows drawn with replacement,
along L = 512 fresh Gaussian directions normalised to the sphere (sort both projections, mean of
squared differences: otgen's SW loss), for 5,500 steps. Writes --n samples as an NPY [n, 784] in
[0, 1] for `otgen eval --metric fd --samples OUT.npy`.
Usage: /usr/bin/python3 bench/torch_fmnist_demo.py --out torch.npy [--steps 5500] [--seed 0]
       [--threads 2] [--n 10000]
Last line: key=value pairs (steps, seconds, last loss, output)."""
from common import parse, report  # thread variables first

args = parse([("--out", dict(required=True, help="samples NPY to write")),
              ("--steps", dict(type=int, default=5500, help="training steps [5500]")),
              ("--seed", dict(type=int, default=0, help="torch and numpy seed [0]")),
              ("--L", dict(type=int, default=512, help="directions per step [512]")),
              ("--n", dict(type=int, default=10000, help="samples written [10000]"))], __doc__)
import gzip  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from common import FMNIST_TRAIN  # noqa: E402

torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)
with gzip.open(FMNIST_TRAIN, "rb") as f:
    data = torch.from_numpy(np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
                            .astype(np.float32) / 255.0)
net = torch.nn.Sequential(torch.nn.Linear(32, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512),
                          torch.nn.ReLU(), torch.nn.Linear(512, 784), torch.nn.Sigmoid())
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
batch, t0, loss = 256, time.time(), None
for step in range(args.steps):
    z = torch.randn(batch, 32)
    y = data[torch.randint(0, len(data), (batch,))]
    theta = torch.randn(784, args.L)
    theta = theta / theta.norm(dim=0, keepdim=True)
    xs, _ = torch.sort(net(z) @ theta, dim=0)
    ys, _ = torch.sort(y @ theta, dim=0)
    loss = (xs - ys).square().mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
seconds = time.time() - t0
with torch.no_grad():
    samples = net(torch.randn(args.n, 32)).numpy().astype(np.float32)
np.save(args.out, samples)
report(tool="torch", version=torch.__version__, steps=args.steps, L=args.L, threads=args.threads,
       seconds=f"{seconds:.1f}", loss=f"{loss.item():.6g}", out=args.out)
