"""otgen.torch: the Sliced-Wasserstein loss for PyTorch over otgen's fused kernel (CPU tensors).

    loss = otgen.torch.sliced_wasserstein(x, y, n_projections=128)   # SW_2^2, differentiable

replaces the usual sort-based PyTorch code (project, sort both sides, mean of squared
differences). The kernel works in float32: float32 tensors are read and written in place
(zero-copy through .numpy()); float64 tensors are shifted by the common mean of X and Y (in
float64, which SW does not see) and rounded to float32 once, the value and
gradients come back as float64 holding float32-accurate numbers (~1e-7 relative), which is why
torch.autograd.gradcheck needs eps=1e-4, atol=5e-3, rtol=1e-2 on this function, on points whose
projections are >= 1e-3 apart (python/tests/test_torch.py, docs/python.md). The GIL is released during the kernel."""
import numpy as np
import torch

from . import _sliced
from ._lib import check_finite, exception, ffi, fptr, lib, tensor, workspace

__all__ = ["sliced_wasserstein", "SlicedWassersteinLoss"]


def _f32(t, name):
    if t.device.type != "cpu":
        raise ValueError("%s: otgen.torch runs on CPU tensors, got device %s" % (name, t.device))
    if t.dim() != 2:
        raise ValueError("%s: expected a 2-D tensor (points, dim), got shape %s"
                         % (name, tuple(t.shape)))
    if t.dtype not in (torch.float32, torch.float64):
        raise ValueError("%s: expected float32 or float64, got %s" % (name, t.dtype))
    # a contiguous float32 tensor is viewed, not copied
    return t.detach().to(torch.float32).contiguous().numpy()


def _pair_f32(X, Y):
    """X and Y as float32 arrays (_f32); when either is float64, both are first shifted by their
    common mean (in float64): SW and its gradients are invariant under a common translation, so
    only the rounding changes and data far from the origin keep their digits."""
    x, y = _f32(X, "X"), _f32(Y, "Y")
    if torch.float64 in (X.dtype, Y.dtype) and X.shape[1] == Y.shape[1] and \
            X.shape[0] > 0 and Y.shape[0] > 0:
        Xd, Yd = X.detach().double(), Y.detach().double()
        mu = torch.cat([Xd, Yd]).mean(0)
        if bool(torch.isfinite(mu).all()):
            x = (Xd - mu).to(torch.float32).contiguous().numpy()
            y = (Yd - mu).to(torch.float32).contiguous().numpy()
    return x, y


def _sw(x, y, theta, p, want_grad):
    grad = np.empty(x.shape, dtype=np.float32) if want_grad else None
    opts = ffi.new("otg_sw_opts *", lib.otg_sw_opts_default())
    opts.p = p
    res = ffi.new("otg_sw_result *")
    st = lib.otg_sw(workspace(), tensor(x), ffi.NULL, tensor(y), ffi.NULL, tensor(theta), opts,
                    res, ffi.NULL if grad is None else fptr(grad), ffi.NULL)
    if st != lib.OTG_OK:
        raise exception(st)
    if not np.isfinite(res.value):
        check_finite("X", x), check_finite("Y", y), check_finite("projections", theta)
    return res.value, grad


class _SlicedWassersteinFn(torch.autograd.Function):
    """SW_p^p(X, Y; theta) with gradients to X and Y (Y's by the kernel with the roles swapped:
    W_p^p is symmetric in its two measures)."""

    @staticmethod
    def forward(ctx, X, Y, theta, p):
        x, y = _pair_f32(X, Y)
        th = theta.detach().to(torch.float32).contiguous().numpy()
        need_x, need_y = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        value, gx = _sw(x, y, th, p, need_x)
        gy = _sw(y, x, th, p, True)[1] if need_y else None
        ctx.save_for_backward(
            torch.from_numpy(gx).to(X.dtype) if gx is not None else torch.empty(0),
            torch.from_numpy(gy).to(Y.dtype) if gy is not None else torch.empty(0))
        return torch.tensor(value, dtype=X.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        gx, gy = ctx.saved_tensors
        return (grad_out * gx if ctx.needs_input_grad[0] else None,
                grad_out * gy if ctx.needs_input_grad[1] else None, None, None)


def sliced_wasserstein(X, Y, n_projections=50, p=2, seed=None, projections=None, squared=True):
    r"""The Sliced-Wasserstein loss between point clouds X (n, d) and Y (m, d), CPU tensors of
    float32 or float64, differentiable with respect to X and Y (whichever requires grad).

    squared=True returns SW_p^p = (1/L) sum_l W_p^p(theta_l # X, theta_l # Y) (the usual
    training loss: for p = 2 the mean squared difference of the sorted projections);
    squared=False returns SW_p = (SW_p^p)^(1/p). projections: a (d, L) tensor or array of
    directions (one per column); otherwise n_projections fresh directions from otgen's stream
    for ``seed``, or, with seed=None, for a seed drawn from torch's global generator (so
    torch.manual_seed makes the loss repeatable). p >= 1. The result is a 0-d tensor in X's dtype;
    NaN/Inf input raises ValueError."""
    if not (torch.is_tensor(X) and torch.is_tensor(Y)):
        raise ValueError("X, Y: expected torch tensors")
    if X.dim() != 2 or Y.dim() != 2 or X.shape[1] != Y.shape[1]:
        raise ValueError("X, Y: expected shapes (n, d) and (m, d), got %s and %s"
                         % (tuple(X.shape), tuple(Y.shape)))
    p = _sliced._p_value(p)
    d = X.shape[1]
    if projections is None:
        if seed is None:
            seed = int(torch.randint(0, 2**62, (1,)).item())
        theta = torch.from_numpy(_sliced._directions(d, n_projections, seed, "gaussian"))
    else:
        theta = projections if torch.is_tensor(projections) else torch.as_tensor(
            np.asarray(projections))
        if theta.dim() != 2 or theta.shape[0] != d or theta.shape[1] < 1:
            raise ValueError("projections: expected shape (%d, L) with L >= 1, got %s"
                             % (d, tuple(theta.shape)))
    v = _SlicedWassersteinFn.apply(X, Y, theta, p)
    return v if squared else v ** (1.0 / p)


class SlicedWassersteinLoss(torch.nn.Module):
    """nn.Module form of sliced_wasserstein: ``SlicedWassersteinLoss(n_projections=128)(x, y)``.
    Fresh directions on every call unless ``seed`` (then fixed ones: seed, the same every call)
    is given; ``forward(X, Y, projections=None)`` may also pass its own directions."""

    def __init__(self, n_projections=50, p=2, seed=None, squared=True):
        super().__init__()
        self.n_projections, self.p, self.seed, self.squared = n_projections, p, seed, squared

    def forward(self, X, Y, projections=None):
        """The loss between X (n, d) and Y (m, d); projections (d, L) overrides the drawn ones."""
        return sliced_wasserstein(X, Y, self.n_projections, self.p, self.seed, projections,
                                  self.squared)

    def extra_repr(self):
        return "n_projections=%s, p=%s, seed=%s, squared=%s" % (
            self.n_projections, self.p, self.seed, self.squared)
