#!/usr/bin/python3
"""The PyTorch reference of `make demo`'s original recipe (docs/training.md, "Judging images"):
an MLP 32 -> 512 -> 512 -> 784 (ReLU hidden, sigmoid output, PyTorch's default initialisation)
from N(0, I_32) latents to Fashion-MNIST's 60,000 training images, trained by Adam (lr 1e-3) on
SW_2^2 between a batch of 256 generated images and 256 training rows drawn with replacement,
along L = 512 fresh Gaussian directions normalised to the sphere (sort both projections, mean of
squared differences: otgen's SW loss), for 5,500 steps. Writes --n samples as an NPY [n, 784] in
[0, 1] for `otgen eval --metric fd --samples OUT.npy`.
Two variants tried against the speckle (docs/training.md, "Tried since"); off by default, and then
no extra random draw is made, so the plain recipe's outputs are unchanged:
  --pca K     the last layer outputs K coefficients of the training set's top K principal
              components (numpy.linalg.eigh of the covariance, in double; no sigmoid), SW_2^2 in
              coefficient space along --bases fresh orthonormal bases of R^K per step (QR of a
              Gaussian K x K; --L is unused), samples decoded as mean + U c and clipped to [0, 1].
              Measured: --pca 128 --bases 6, 5,500 steps: FD 19.6 (a plaid instead of speckle).
  --patch-weight W   adds W times SW_2^2 between --patches random k x k patches (--patch-k) of the
              generated and of the training batch, along --patch-dirs fresh unit directions.
              Measured: W = 1, 2,000 steps: FD 35.2 against 28.8 at W = 0.
The current `make demo` recipe (docs/training.md) in PyTorch: --directions permuted --L 784
--schedule wsd --decay-frac F: one Haar basis of R^784 drawn at set-up (QR of a Gaussian matrix,
signs fixed by R's diagonal), its rows permuted and sign-flipped afresh every step (otgen's
--directions-kind permuted), and otgen's wsd schedule (common.schedule).
The class-conditional demo (--conditional --sample-median, otgen's flags of the same names): the
network's input is the latent and the one-hot of a class; each step draws one class as the label
of a random training row and takes its --data-batch rows of that class alone; the samples draw
their classes the same way and pass through the 5-point median (each pixel the median of itself
and its four neighbours, the nearest pixel beyond the border).
Usage: /usr/bin/python3 bench/torch_fmnist_demo.py --out torch.npy [--steps 5500] [--seed 0]
       [--threads 2] [--n 10000] [--directions gaussian|permuted] [--schedule constant|wsd]
       [--decay-frac 0.2] [--lr 1e-3] [--batch 256] [--data-batch M] [--pca K --bases M]
       [--patch-weight W ...] [--conditional] [--sample-median]
Last line: key=value pairs (steps, seconds, last loss, output)."""
from common import parse, report, schedule  # thread variables first

args = parse([("--out", dict(required=True, help="samples NPY to write")),
              ("--steps", dict(type=int, default=5500, help="training steps [5500]")),
              ("--seed", dict(type=int, default=0, help="torch and numpy seed [0]")),
              ("--L", dict(type=int, default=512, help="directions per step [512]")),
              ("--directions", dict(choices=["gaussian", "permuted"], default="gaussian",
                                    help="fresh Gaussian directions, or a permuted basis [gaussian]")),
              ("--schedule", dict(choices=["constant", "wsd"], default="constant",
                                  help="step-size schedule [constant]")),
              ("--decay-frac", dict(type=float, default=0.2,
                                    help="wsd: the fraction of --steps that decays [0.2]")),
              ("--lr", dict(type=float, default=1e-3, help="Adam's step size [1e-3]")),
              ("--batch", dict(type=int, default=256, help="generated points per step [256]")),
              ("--data-batch", dict(type=int, default=0,
                                    help="training rows per step, a multiple of --batch; "
                                         "0 = --batch [0]")),
              ("--n", dict(type=int, default=10000, help="samples written [10000]")),
              ("--pca", dict(type=int, default=0, help="principal components, 0 = off [0]")),
              ("--bases", dict(type=int, default=6, help="--pca: orthonormal bases per step [6]")),
              ("--patch-weight", dict(type=float, default=0.0, help="patch SW weight [0]")),
              ("--patch-k", dict(type=int, default=5, help="patch side [5]")),
              ("--patches", dict(type=int, default=8192, help="patches per side per step [8192]")),
              ("--patch-dirs", dict(type=int, default=64, help="patch directions per step [64]")),
              ("--conditional", dict(action="store_true", help="class-conditional generator")),
              ("--sample-median", dict(action="store_true", help="5-point median on the samples"))],
             __doc__)
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
labels = None
if args.conditional:  # the training labels, and each class's rows
    with gzip.open(FMNIST_TRAIN.replace("images-idx3", "labels-idx1"), "rb") as f:
        labels = torch.from_numpy(np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64))
    rows = [torch.nonzero(labels == k).flatten() for k in range(10)]
n_cls = 10 if args.conditional else 0
out_dim, decode = 784, None
if args.pca:  # train in the coefficients of the top components: data [N, K]
    x64 = data.numpy().astype(np.float64)
    mu = x64.mean(0)
    _, vec = np.linalg.eigh(np.cov(x64 - mu, rowvar=False))
    u = vec[:, ::-1][:, :args.pca].copy()  # [784, K], largest first
    data = torch.from_numpy(((x64 - mu) @ u).astype(np.float32))
    out_dim = args.pca
    decode = lambda c: np.clip(c.astype(np.float64) @ u.T + mu, 0.0, 1.0)  # noqa: E731
layers = [torch.nn.Linear(32 + n_cls, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512), torch.nn.ReLU(),
          torch.nn.Linear(512, out_dim)] + ([] if args.pca else [torch.nn.Sigmoid()])
net = torch.nn.Sequential(*layers)
opt = torch.optim.Adam(net.parameters(), lr=args.lr)


def sw(x, y, theta):  # SW_2^2 along the columns of theta; len(y) = k len(x): exact W_2^2 per
    xs, _ = torch.sort(x @ theta, dim=0)  # direction, point i of x matched to sorted block i of y
    ys, _ = torch.sort(y @ theta, dim=0)
    k = len(y) // len(x)
    return (xs[:, None, :] - ys.view(len(x), k, -1)).square().mean()


def unit(d, n):
    theta = torch.randn(d, n)
    return theta / theta.norm(dim=0, keepdim=True)


def patches(img, idx):  # the patches idx of all positions of img [n, 784], [len(idx), k k]
    k = args.patch_k
    return F.unfold(img.view(-1, 1, 28, 28), k).transpose(1, 2).reshape(-1, k * k)[idx]


rate = schedule(args.steps, args.schedule, args.decay_frac, args.lr)
if args.directions == "permuted":  # otgen's --directions-kind permuted (needs --L 784)
    if args.L != 784 or args.pca:
        raise SystemExit("torch_fmnist_demo: --directions permuted needs --L 784 and no --pca")
    q, r = torch.linalg.qr(torch.randn(784, 784))
    basis = q * torch.sign(torch.diagonal(r))  # a Haar orthonormal basis, columns

batch, t0, loss = args.batch, time.time(), None
m = args.data_batch or batch
if m % batch or (args.patch_weight > 0 and m != batch):
    raise SystemExit("torch_fmnist_demo: --data-batch must be a multiple of --batch (and equal "
                     "to it with --patch-weight)")
positions = batch * (28 - args.patch_k + 1) ** 2
def latents(n, cls=None):  # [n, 32 + n_cls]: each row's class drawn as a training label
    z = torch.randn(n, 32)
    if not args.conditional:
        return z
    c = labels[torch.randint(0, len(labels), (n,))] if cls is None else torch.full((n,), cls)
    return torch.cat([z, F.one_hot(c, 10).float()], 1)


def median5(x):  # [n, 784]: each pixel the median of itself and its 4 neighbours (replicate)
    p = F.pad(x.view(-1, 1, 28, 28), (1, 1, 1, 1), mode="replicate")[:, 0]
    five = torch.stack([p[:, 1:-1, 1:-1], p[:, :-2, 1:-1], p[:, 1:-1, :-2], p[:, 1:-1, 2:],
                        p[:, 2:, 1:-1]])
    return five.median(dim=0).values.reshape(-1, 784)


for step in range(args.steps):
    if args.conditional:  # one class per step, its rows alone
        k = int(labels[torch.randint(0, len(labels), (1,))])
        z = latents(batch, k)
        y = data[rows[k][torch.randint(0, len(rows[k]), (m,))]]
    else:
        z = torch.randn(batch, 32)
        y = data[torch.randint(0, len(data), (m,))]
    if args.pca:
        theta = torch.cat([torch.linalg.qr(torch.randn(out_dim, out_dim))[0]
                           for _ in range(args.bases)], 1)
    elif args.directions == "permuted":
        signs = torch.randint(0, 2, (784, 1)).float() * 2 - 1
        theta = signs * basis[torch.randperm(784)]
    else:
        theta = unit(784, args.L)
    for group in opt.param_groups:
        group["lr"] = rate(step)
    x = net(z)
    loss = sw(x, y, theta)
    if args.patch_weight > 0:
        ix = torch.randint(0, positions, (args.patches,))
        iy = torch.randint(0, positions, (args.patches,))
        loss = loss + args.patch_weight * sw(patches(x, ix), patches(y, iy),
                                             unit(args.patch_k ** 2, args.patch_dirs))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
seconds = time.time() - t0
with torch.no_grad():
    samples = net(latents(args.n))
    samples = (median5(samples) if args.sample_median else samples).numpy()
np.save(args.out, (decode(samples) if decode else samples).astype(np.float32))
report(tool="torch", version=torch.__version__, steps=args.steps, L=args.L, lr=args.lr,
       threads=args.threads, directions=args.directions, schedule=args.schedule, pca=args.pca,
       patch_weight=args.patch_weight, batch=batch, data_batch=m, conditional=int(args.conditional),
       sample_median=int(args.sample_median), seconds=f"{seconds:.1f}",
       loss=f"{loss.item():.6g}",
       out=args.out)
