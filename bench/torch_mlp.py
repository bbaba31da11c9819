#!/usr/bin/python3
"""Anchor for bench_core's MLP figure: one training step (forward, zero_grad, backward; no optimiser
update) of the MLP 32->512->512->784, ReLU hidden, sigmoid output, batch 256, loss mean(out^2), in
PyTorch on the CPU, on a fixed input that needs no gradient (as in bench_core).
Usage: /usr/bin/python3 bench/torch_mlp.py [--threads 2] [--reps 15]
Uses bench/common.py (thread variables, OMP_WAIT_POLICY=PASSIVE, median timing).
Last line: key=value pairs, including median_ms (median over timed blocks of 10 steps, per step)."""
import os

from common import parse, time_it  # noqa: E402  (sets thread variables before torch loads)

args = parse()
import torch  # noqa: E402

torch.set_num_threads(args.threads)
torch.manual_seed(0)
widths, batch, block_steps = [32, 512, 512, 784], 256, 10
layers = []
for i in range(len(widths) - 1):
    layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
    layers.append(torch.nn.ReLU() if i < len(widths) - 2 else torch.nn.Sigmoid())
net = torch.nn.Sequential(*layers)
x = torch.randn(batch, widths[0])  # [256, 32], requires_grad=False


def step():
    loss = net(x).square().mean()
    net.zero_grad(set_to_none=True)  # PyTorch's default and fastest: backward writes fresh grads
    loss.backward()
    return loss


def block():
    for _ in range(block_steps):
        step()


med, best = time_it(block, args.reps)
flop = 6.0 * batch * sum(widths[i] * widths[i + 1] for i in range(len(widths) - 1))
ms, best_ms = 1e3 * med / block_steps, 1e3 * best / block_steps
print(f"torch {torch.__version__}: MLP {'->'.join(map(str, widths))} batch {batch}, "
      f"loss {step().item():.6f}: {ms:.3f} ms/step (best {best_ms:.3f}), "
      f"{flop / (ms * 1e-3) * 1e-9:.1f} GFLOP/s")
print(f"tool=torch version={torch.__version__} batch={batch} threads={args.threads} "
      f"omp_wait_policy={os.environ.get('OMP_WAIT_POLICY', '')} "
      f"median_ms={ms:.3f} best_ms={best_ms:.3f} gflops={flop / (ms * 1e-3) * 1e-9:.1f}")
