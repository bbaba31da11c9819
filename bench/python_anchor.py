#!/usr/bin/python3
"""otgen from Python against the Python anchors, in one run (docs/performance.md, "Python").
  (a) otgen.sliced_wasserstein_distance vs POT's ot.sliced_wasserstein_distance, value only, fresh
      directions each call (seed=k), at the four SW sizes [n, d, L];
  (b) one SGD step of the fmnist recipe of the anchor torch_train.py (MLP 32->512->512->784,
      ReLU, sigmoid, batch 256, L = 128, SGD lr 1e-3, Fashion-MNIST) with PyTorch's sort-based SW
      loss vs the same step with otgen.torch.sliced_wasserstein (the same directions), and the
      loss alone (forward + backward w.r.t. X) at (256, 784, 128) and (1024, 784, 512);
  (c) the per-call overhead of tiny calls.
Usage: PYTHONPATH=python /usr/bin/python3 bench/python_anchor.py [--threads 2] [--reps 7]
(after `make`; OTGEN_LIB may point at another libotgen.so). Torch and otgen get the same thread
count; OMP_WAIT_POLICY=PASSIVE unless set (as the anchors do; --omp-wait default
leaves libgomp's default). Prints one key=value line per
measurement."""
import argparse
import gzip
import os
import statistics
import time

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--reps", type=int, default=9)
ap.add_argument("--omp-wait", choices=["passive", "default"], default="passive",
                help="OMP_WAIT_POLICY=PASSIVE (as the anchors) or libgomp's default spin-then-sleep")
ap.add_argument("--skip-big", action="store_true", help="skip the (10000, 784, 1000) size")
args = ap.parse_args()
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = str(args.threads)
if args.omp_wait == "passive":
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
else:
    os.environ.pop("OMP_WAIT_POLICY", None)

import numpy as np  # noqa: E402
import ot  # noqa: E402
import torch  # noqa: E402

import otgen  # noqa: E402
import otgen.torch as otorch  # noqa: E402

torch.set_num_threads(args.threads)
otgen.set_threads(args.threads)
FMNIST = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"


def fashion_mnist(n, rng):
    if not os.path.exists(FMNIST):
        return rng.random((n, 784), dtype=np.float32)
    imgs = np.frombuffer(gzip.open(FMNIST).read(), np.uint8, offset=16).reshape(-1, 784)
    return imgs[rng.choice(len(imgs), n, replace=False)].astype(np.float32) / 255.0


def compare(fa, fb, reps, warmup=2):
    """Interleaved rounds (a, b, a, b, ...): the medians of a and b and the median of the per-round
    ratios a / b, which a load change on the shared machine affects least."""
    for _ in range(warmup):
        fa(), fb()
    ta, tb = [], []
    for _ in range(reps):
        t = time.perf_counter()
        fa()
        ta.append(time.perf_counter() - t)
        t = time.perf_counter()
        fb()
        tb.append(time.perf_counter() - t)
    return (statistics.median(ta), statistics.median(tb),
            statistics.median(a / b for a, b in zip(ta, tb)))


def cpu_flags():
    with open("/proc/cpuinfo") as f:
        flags = next((line.split(":")[1].split() for line in f if line.startswith("flags")), [])
    return ",".join(x for x in ("avx2", "fma", "avx512f") if x in flags) or "none"


# the library's path relative to the working directory when inside it (build/libotgen.so from the
# repository root), so that quoted header lines name no machine's directories
LIB = otgen.LIBRARY_PATH
if LIB.startswith(os.getcwd() + os.sep):
    LIB = os.path.relpath(LIB)
print(f"# otgen {otgen.__version__} ({LIB}) POT {ot.__version__} torch "
      f"{torch.__version__} threads={args.threads} cpu_flags={cpu_flags()} "
      f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')} "
      f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'default')}")
rng = np.random.default_rng(0)

# ---- (a) SW value against POT -------------------------------------------------------------------
sizes = [(256, 784, 128), (1024, 784, 512), (4096, 2, 64), (10000, 784, 1000)]
for n, d, L in sizes[:3] if args.skip_big else sizes:
    Y = fashion_mnist(n, rng) if d == 784 else rng.standard_normal((n, d), dtype=np.float32)
    X = rng.standard_normal((n, d), dtype=np.float32)
    reps = 3 if n >= 10000 else args.reps
    k = iter(range(10**6))
    t_pot, t_otg, ratio = compare(
        lambda: ot.sliced_wasserstein_distance(X, Y, n_projections=L, seed=next(k)),
        lambda: otgen.sliced_wasserstein_distance(X, Y, n_projections=L, seed=next(k)), reps, 1)
    th = otgen.get_random_projections(d, L, seed=1)
    agree = abs(otgen.sliced_wasserstein_distance(X, Y, projections=th)
                / ot.sliced_wasserstein_distance(X, Y, n_projections=L, projections=th) - 1)
    print(f"part=a n={n} d={d} L={L} pot_ms={t_pot*1e3:.2f} otgen_ms={t_otg*1e3:.2f} "
          f"speedup={ratio:.1f} rel_diff_same_dirs={agree:.1e}")

# ---- (b) the fmnist training step and the loss ------------------------------------------------
torch.manual_seed(0)
data = torch.from_numpy(fashion_mnist(20000, rng))
widths, batch, L = [32, 512, 512, 784], 256, 128


def make_net():
    torch.manual_seed(0)
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        layers.append(torch.nn.ReLU() if i < len(widths) - 2 else torch.nn.Sigmoid())
    net = torch.nn.Sequential(*layers)
    return net, torch.optim.SGD(net.parameters(), lr=1e-3)


def torch_loss(x, y, th):
    xs, _ = torch.sort(x @ th, dim=0)
    ys, _ = torch.sort(y @ th, dim=0)
    return ((xs - ys) ** 2).mean()


def otgen_loss(x, y, th):
    return otorch.sliced_wasserstein(x, y, projections=th)


def make_step(loss_fn):
    net, opt = make_net()

    def step():
        z = torch.randn(batch, widths[0])
        y = data[torch.randint(0, len(data), (batch,))]
        th = torch.randn(784, L)
        th = th / th.norm(dim=0, keepdim=True)
        loss = loss_fn(net(z), y, th)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return lambda: [step() for _ in range(10)]


t_torch, t_otg, ratio = compare(make_step(torch_loss), make_step(otgen_loss), args.reps)
print(f"part=b what=fmnist_step batch={batch} L={L} torch_ms={t_torch*100:.2f} "
      f"otgen_ms={t_otg*100:.2f} speedup={ratio:.2f}")

for n, d, L in [(256, 784, 128), (1024, 784, 512)]:
    X = torch.randn(n, d, requires_grad=True)
    Y = data[:n].clone()
    th = torch.randn(d, L)
    th = th / th.norm(dim=0, keepdim=True)

    def fb(fn):
        def run():
            X.grad = None
            fn(X, Y, th).backward()
        return run

    t_torch, t_otg, ratio = compare(fb(torch_loss), fb(otgen_loss), args.reps * 3)
    a, b = torch_loss(X, Y, th).item(), otgen_loss(X, Y, th).item()
    print(f"part=b what=loss_fwd_bwd n={n} d={d} L={L} torch_ms={t_torch*1e3:.2f} "
          f"otgen_ms={t_otg*1e3:.2f} speedup={ratio:.2f} rel_diff={abs(a/b-1):.1e}")

# ---- (c) per-call overhead ----------------------------------------------------------------------
x, y = np.zeros((4, 2), np.float32), np.ones((4, 2), np.float32)
th1 = np.array([[1.0], [0.0]], np.float32)
u, v = np.zeros(2, np.float32), np.ones(2, np.float32)
xt, yt = torch.zeros(4, 2, requires_grad=True), torch.ones(4, 2)
thx = torch.tensor([[1.0], [0.0]])
N = 20000


def per_call(fn):
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(N):
            fn()
        best = min(best, (time.perf_counter() - t) / N)
    return best


# The SW kernel opens an OpenMP parallel region; with OMP_WAIT_POLICY=PASSIVE waking the sleeping
# pool costs microseconds of its own, so the tiny calls are also timed on one thread (the
# binding's own overhead).
for threads in sorted({args.threads, 1}, reverse=True):
    otgen.set_threads(threads)
    for name, fn in [("ffi_otg_threads_get", otgen.lib.otg_threads_get),
                     ("sliced_wasserstein_distance_4x2_L1",
                      lambda: otgen.sliced_wasserstein_distance(x, y, projections=th1)),
                     ("wasserstein_1d_2pts", lambda: otgen.wasserstein_1d(u, v)),
                     ("torch_sliced_wasserstein_fwd_4x2_L1",
                      lambda: otorch.sliced_wasserstein(xt, yt, projections=thx))]:
        print(f"part=c threads={threads} call={name} us_per_call={per_call(fn)*1e6:.2f}")
otgen.set_threads(args.threads)
