#!/usr/bin/python3
"""Anchor for `otgen bench train`: one SGD step of an SW generator in PyTorch (CPU), with the
definitions of tools/otgen/bench_train.c: draw a batch of N(0, I) latents and a batch of target
rows (with replacement), forward the MLP, SW_2^2 against the batch along L fresh directions
(Gaussian columns normalised, sort both projections, mean of squared differences), backward, SGD
update (lr 1e-3; the rate does not change the cost).
  --model fmnist  MLP 32 -> 512 -> 512 -> 784, ReLU hidden, sigmoid output, batch 256, L = 128,
                  Fashion-MNIST training rows (20,000 of them; uniform noise if the data set is
                  absent)
  --model 2d      MLP 2 -> 128 -> 128 -> 2, ReLU hidden, linear output, batch 512, L = 64,
                  otgen's gaussians8 law (8 modes on the circle of radius 2, sd 0.02)
Usage: /usr/bin/python3 bench/torch_train.py --model fmnist|2d [--threads 2] [--reps 15]
Last line: key=value pairs, including steps_per_s (10 / the median time of a block of 10 steps,
after 3 warm-up blocks) and loss (the last step's SW_2^2, a sanity check)."""
from common import fashion_mnist, gaussians8, parse, report, time_it  # thread variables first

args = parse([("--model", dict(choices=["fmnist", "2d"], default="fmnist",
                                help="fmnist or 2d [fmnist]"))], __doc__)
import os  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(args.threads)
torch.manual_seed(0)
rng = np.random.default_rng(0)
if args.model == "fmnist":
    widths, batch, L, out = [32, 512, 512, 784], 256, 128, torch.nn.Sigmoid()
    data = torch.from_numpy(fashion_mnist(20000, rng))
else:
    widths, batch, L, out = [2, 128, 128, 2], 512, 64, torch.nn.Identity()
    data = torch.from_numpy(gaussians8(20000, rng))
layers = []
for i in range(len(widths) - 1):
    layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
    layers.append(torch.nn.ReLU() if i < len(widths) - 2 else out)
net = torch.nn.Sequential(*layers)
opt = torch.optim.SGD(net.parameters(), lr=1e-3)
d, block_steps = widths[-1], 10
last = [float("nan")]


def step():
    z = torch.randn(batch, widths[0])
    y = data[torch.randint(0, len(data), (batch,))]
    theta = torch.randn(d, L)
    theta = theta / theta.norm(dim=0, keepdim=True)
    xs, _ = torch.sort(net(z) @ theta, dim=0)
    ys, _ = torch.sort(y @ theta, dim=0)
    loss = (xs - ys).square().mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    last[0] = loss.item()


def block():
    for _ in range(block_steps):
        step()


med, best = time_it(block, args.reps)
report(tool="torch", version=torch.__version__, model=args.model, batch=batch, L=L,
       threads=args.threads, omp_wait_policy=os.environ.get("OMP_WAIT_POLICY", ""),
       loss=f"{last[0]:.6g}", steps_per_s=block_steps / med, best_steps_per_s=block_steps / best)
