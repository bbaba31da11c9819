#!/usr/bin/python3
"""Anchor for `otgen bench cnn`: one Adam step of the convolutional SW generator of
`otgen train --data fashion-mnist --model cnn|rescnn` in PyTorch (CPU), the network of
src/nn/models.c at otgen's defaults:
  cnn     z [B, 32] -> Linear(32, 32 * 7 * 7) -> ReLU -> [B, 32, 7, 7] -> nearest upsample x2
          -> Conv2d(32, 16, 3, padding 1) -> ReLU -> upsample x2 -> Conv2d(16, 1, 3, padding 1)
          -> sigmoid -> [B, 784]
  rescnn  the same with a residual block x + conv(relu(conv(x))) (16 channels, 3x3, padding 1)
          after the first ReLU and after the second upsample
Each step draws B N(0, I) latents and B Fashion-MNIST training rows (with replacement), projects
both batches on L = 128 fresh Gaussian directions normalised to the unit sphere, sorts each
projection, takes SW_2^2 (mean over directions and points of the squared differences), runs the
backward and an Adam step (lr 1e-3; the rate does not change the cost).
Usage: /usr/bin/python3 bench/torch_cnn.py [--model cnn|rescnn] [--batch 64] [--threads 2]
       [--reps 10]
Last line: key=value pairs, including steps_per_s (10 / the median time of a block of 10 steps,
after 3 warm-up blocks), cpu_ms_per_step (process CPU time over the timed blocks, all threads:
steadier than the wall on a shared machine) and loss (the last step's SW_2^2, a sanity check)."""
from common import fashion_mnist, parse, report, time_it  # thread variables first

args = parse([("--model", dict(choices=["cnn", "rescnn"], default="cnn", help="cnn or rescnn [cnn]")),
              ("--batch", dict(type=int, default=64, help="batch [64]"))], __doc__)
import os  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

torch.set_num_threads(args.threads)
torch.manual_seed(0)
rng = np.random.default_rng(0)
data = torch.from_numpy(fashion_mnist(20000, rng))
latent, ch, L, batch, block_steps = 32, 32, 128, args.batch, 10


def conv3(cin, cout):
    return nn.Conv2d(cin, cout, 3, padding=1)


class Residual(nn.Module):
    """x + conv(relu(conv(x))), keeping the shape."""

    def __init__(self, c):
        super().__init__()
        self.a, self.b = conv3(c, c), conv3(c, c)

    def forward(self, x):
        return x + self.b(torch.relu(self.a(x)))


res = args.model == "rescnn"
h = ch // 2
net = nn.Sequential(nn.Linear(latent, ch * 7 * 7), nn.ReLU(), nn.Unflatten(1, (ch, 7, 7)),
                    nn.Upsample(scale_factor=2, mode="nearest"), conv3(ch, h), nn.ReLU(),
                    Residual(h) if res else nn.Identity(),
                    nn.Upsample(scale_factor=2, mode="nearest"),
                    Residual(h) if res else nn.Identity(),
                    conv3(h, 1), nn.Sigmoid(), nn.Flatten())
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
last = [float("nan")]


def step():
    z = torch.randn(batch, latent)
    y = data[torch.randint(0, len(data), (batch,))]
    theta = torch.randn(784, L)
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


import time  # noqa: E402

for _ in range(3):  # warm-up blocks, outside the CPU-time figure as in otgen bench cnn
    block()
cpu0 = time.process_time()
med, best = time_it(block, args.reps, warmup=0)
cpu_ms = 1e3 * (time.process_time() - cpu0) / (block_steps * args.reps)
report(tool="torch", version=torch.__version__, model=args.model, batch=batch, L=L,
       threads=args.threads, mkldnn=int(torch.backends.mkldnn.is_available()),
       omp_wait_policy=os.environ.get("OMP_WAIT_POLICY", ""),
       loss=f"{last[0]:.6g}", steps_per_s=block_steps / med, best_steps_per_s=block_steps / best, cpu_ms_per_step=cpu_ms)
