#!/usr/bin/python3
"""Anchor for `otgen bench particles`: one forward Euler step of the mean-field particle flow of a
two-layer ReLU network (Chizat & Bach 2018, relu2) written with PyTorch tensors, same shapes and
definitions as otgen: m = 1024 particles u_i = (w_i, theta_i) in R x R^{d+1}, d = 64, a fixed sample
of 1024 inputs x ~ N(0, I_d) with a bias column, full batch, labels from a teacher of 16 unit ReLU
neurons; F_m = 0.5 mean((f(x) - f*(x))^2) + (1/m) sum_i (lambda/2)(w_i^2 + |theta_i|^2),
f(x) = (1/m) sum_i w_i relu(theta_i . [x, 1]), lambda = 1e-3; the step is u <- u - lr * m grad F_m
with lr = 0.05 (autograd for the gradient, the update under no_grad).
Usage: /usr/bin/python3 bench/torch_particles.py [--threads 2] [--reps 15]
Uses bench/common.py (thread variables, OMP_WAIT_POLICY=PASSIVE, median timing).
Last line: key=value pairs, including steps_per_s (median over timed blocks of 10 steps)."""
import os

from common import parse, time_it  # noqa: E402  (sets thread variables before torch loads)

args = parse()
import torch  # noqa: E402

torch.set_num_threads(args.threads)
torch.manual_seed(0)
m, d, n, m0, lam, lr, block_steps = 1024, 64, 1024, 16, 1e-3, 0.05, 10

x = torch.cat([torch.randn(n, d), torch.ones(n, 1)], dim=1)             # [n, d+1]
teacher = torch.randn(m0, d)
teacher = torch.cat([teacher / teacher.norm(dim=1, keepdim=True), torch.zeros(m0, 1)], dim=1)
y = torch.relu(x @ teacher.T).mean(dim=1)                               # [n]
u = torch.randn(m, d + 2)
u = (0.1 * u / u.norm(dim=1, keepdim=True)).requires_grad_()            # [m, d+2], radius 0.1


def step():
    w, theta = u[:, 0], u[:, 1:]
    f = torch.relu(x @ theta.T) @ w / m                                  # [n]
    F = 0.5 * (f - y).square().mean() + 0.5 * lam * u.square().sum() / m
    (g,) = torch.autograd.grad(F, u)
    with torch.no_grad():
        u.sub_(g, alpha=lr * m)                                          # speed = m grad F_m
    return F


def block():
    for _ in range(block_steps):
        step()


med, best = time_it(block, args.reps)
ms, best_ms = 1e3 * med / block_steps, 1e3 * best / block_steps
flop = 4.0 * n * m * (d + 1)
print(f"torch {torch.__version__}: relu2 particle flow m={m} d={d} batch={n}, "
      f"objective {step().item():.6f}: {ms:.3f} ms/step (best {best_ms:.3f}), "
      f"{1e3 / ms:.1f} steps/s, {flop / (ms * 1e-3) * 1e-9:.1f} GFLOP/s in the two products")
print(f"tool=torch version={torch.__version__} bench=particles problem=relu2 m={m} d={d} batch={n} "
      f"threads={args.threads} omp_wait_policy={os.environ.get('OMP_WAIT_POLICY', '')} "
      f"median_ms={ms:.3f} best_ms={best_ms:.3f} steps_per_s={1e3 / ms:.2f} "
      f"particle_steps_per_s={m * 1e3 / ms:.4g}")
