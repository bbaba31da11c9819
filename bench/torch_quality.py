#!/usr/bin/python3
"""PyTorch reference of bench/quality.sh: the recipe `otgen train` runs on 2-D data, written as a
plain PyTorch user would.
  MLP 2 -> 512 -> 512 -> 2 (ReLU hidden, linear output), latent z ~ N(0, I_2) (otgen's latent for
  2-D data), Adam lr 1e-3 (betas 0.9/0.999, eps 1e-8, as otgen's), batch 256, SW_2^2 along
  L = 128 fresh Gaussian directions normalised to the sphere (sort both projections, mean of
  squared differences), --steps steps. Initialisation: torch (nn.Linear's default, U(+-1/sqrt(fan_in))
  weights and biases) or he-normal (otgen's old default: He-normal weights before a ReLU,
  Xavier-uniform before the linear output, zero biases). Step size: --schedule constant (lr 1e-3
  throughout) or wsd (otgen's --schedule wsd, src/optim/schedule.c: 1e-3 for the first
  steps - E steps, E = max(1, ceil(F steps)), F = --decay-frac, then 1e-3 (1 + cos(pi t / E)) / 2
  at the t-th of the last E steps, t = 0 .. E - 1), set on the optimiser before each step.
Target rows: --data F.npy [N, 2]. With --fresh the rows are fresh points of a law, used in order
(batch k = rows 256k .. 256k + 255, so it needs steps x 256 rows): the same as drawing fresh points
each step, as otgen does for its built-in laws. Without it, batches are drawn with replacement
from the rows (a finite data set, as otgen does for FILE.npy).
Writes --n generated points to --out F.npy. Last line: key=value pairs.
Usage: /usr/bin/python3 bench/torch_quality.py --data D.npy --out S.npy [--fresh] [--seed 0]
       [--steps 3000] [--init torch|he-normal] [--schedule constant|wsd] [--decay-frac 0.2]
       [--n 10000] [--threads 1]"""
from common import parse, report, schedule  # thread variables first

args = parse([("--data", dict(required=True, help="target rows [N, 2] (NPY)")),
              ("--out", dict(required=True, help="generated points [n, 2] (NPY)")),
              ("--fresh", dict(action="store_true", help="rows are fresh law points, used in order")),
              ("--seed", dict(type=int, default=0, help="torch seed [0]")),
              ("--steps", dict(type=int, default=3000, help="training steps [3000]")),
              ("--init", dict(choices=["torch", "he-normal"], default="torch",
                              help="initialisation [torch]")),
              ("--schedule", dict(choices=["constant", "wsd"], default="constant",
                                  help="step-size schedule [constant]")),
              ("--decay-frac", dict(type=float, default=0.2,
                                    help="wsd: the fraction of --steps that decays [0.2]")),
              ("--n", dict(type=int, default=10000, help="points written [10000]"))], __doc__)
import math  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)
widths, batch, L = [2, 512, 512, 2], 256, 128
data = torch.from_numpy(np.load(args.data).astype(np.float32))
if args.fresh and len(data) < args.steps * batch:
    raise SystemExit(f"torch_quality: --fresh needs {args.steps * batch} rows, {args.data} has {len(data)}")
layers = []
for i in range(len(widths) - 1):
    lin = torch.nn.Linear(widths[i], widths[i + 1])
    if args.init == "he-normal":
        with torch.no_grad():
            last = i == len(widths) - 2
            if last:  # Xavier-uniform before the linear output
                a = math.sqrt(6.0 / (widths[i] + widths[i + 1]))
                lin.weight.uniform_(-a, a)
            else:
                lin.weight.normal_(0.0, math.sqrt(2.0 / widths[i]))
            lin.bias.zero_()
    layers += [lin, torch.nn.ReLU()] if i < len(widths) - 2 else [lin]
net = torch.nn.Sequential(*layers)
lr0 = 1e-3
opt = torch.optim.Adam(net.parameters(), lr=lr0)

rate = schedule(args.steps, args.schedule, args.decay_frac, lr0)  # otgen's constant or wsd

t0 = time.perf_counter()
for k in range(args.steps):
    for group in opt.param_groups:
        group["lr"] = rate(k)
    z = torch.randn(batch, widths[0])
    y = data[k * batch:(k + 1) * batch] if args.fresh else data[torch.randint(0, len(data), (batch,))]
    theta = torch.randn(widths[-1], L)
    theta = theta / theta.norm(dim=0, keepdim=True)
    xs, _ = torch.sort(net(z) @ theta, dim=0)
    ys, _ = torch.sort(y @ theta, dim=0)
    loss = (xs - ys).square().mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
with torch.no_grad():
    x = net(torch.randn(args.n, widths[0])).numpy()
np.save(args.out, x.astype(np.float32))
report(tool="torch", version=torch.__version__, init=args.init, schedule=args.schedule,
       decay_frac=args.decay_frac, seed=args.seed, steps=args.steps,
       loss=f"{loss.item():.6g}", seconds=f"{time.perf_counter() - t0:.1f}", out=args.out)
