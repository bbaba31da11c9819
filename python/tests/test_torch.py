"""otgen.torch: values and gradients against PyTorch's sort-based loss, gradcheck."""
import pytest

torch = pytest.importorskip("torch")
import otgen.torch as otorch  # noqa: E402


def sort_loss(X, Y, th, p=2):
    """PyTorch's own SW_p^p for equal sizes: mean of |sorted differences|^p."""
    xs, _ = torch.sort(X @ th, dim=0)
    ys, _ = torch.sort(Y @ th, dim=0)
    return (xs - ys).abs().pow(p).mean()


def directions(d, L, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    th = torch.randn(d, L, generator=g, dtype=dtype)
    return th / th.norm(dim=0, keepdim=True)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("p", [1, 2, 3])
def test_matches_sort_loss(dtype, p):
    torch.manual_seed(1)
    X = torch.randn(64, 10, dtype=dtype, requires_grad=True)
    Y = (torch.randn(64, 10, dtype=dtype) + 0.3).requires_grad_()
    th = directions(10, 32, dtype)
    v = otorch.sliced_wasserstein(X, Y, projections=th, p=p)
    assert v.dtype == dtype and v.dim() == 0
    v.backward()
    X2, Y2 = X.detach().clone().requires_grad_(), Y.detach().clone().requires_grad_()
    r = sort_loss(X2, Y2, th, p)
    r.backward()
    tol = 1e-5
    assert v.item() == pytest.approx(r.item(), rel=tol)
    torch.testing.assert_close(X.grad, X2.grad, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(Y.grad, Y2.grad, rtol=1e-4, atol=1e-6)


def test_gradcheck_float64():
    # Well-separated projections (no pair closer than 1e-3 along any direction), so the finite
    # differences of step 1e-4 stay within one smooth piece. The kernel computes in float32:
    # the function values carry ~1e-7 relative rounding, hence eps 1e-4 and atol 5e-3.
    torch.manual_seed(1)
    X = torch.randn(20, 3, dtype=torch.float64, requires_grad=True)
    Y = (torch.randn(15, 3, dtype=torch.float64) + 1).requires_grad_()
    th = directions(3, 8, seed=1)
    for Z in (X, Y):
        assert (Z.detach() @ th).sort(0)[0].diff(dim=0).min() > 1e-3
    for squared in (True, False):
        assert torch.autograd.gradcheck(
            lambda a, b: otorch.sliced_wasserstein(a, b, projections=th, squared=squared),
            (X, Y), eps=1e-4, atol=5e-3, rtol=1e-2)


def test_seed_module_and_grad_flags():
    torch.manual_seed(0)
    X = torch.randn(30, 4, requires_grad=True)
    Y = torch.randn(25, 4)
    a = otorch.sliced_wasserstein(X, Y, n_projections=16, seed=7)
    assert a.item() == otorch.sliced_wasserstein(X, Y, n_projections=16, seed=7).item()
    loss = otorch.SlicedWassersteinLoss(n_projections=16, seed=7)
    assert "n_projections=16" in repr(loss)
    b = loss(X, Y)
    b.backward()
    assert b.item() == a.item() and X.grad is not None and Y.grad is None
    s = otorch.sliced_wasserstein(X, Y, n_projections=16, seed=7, squared=False)
    assert s.item() == pytest.approx(a.item() ** 0.5, rel=1e-6)
    torch.manual_seed(3)
    c = otorch.sliced_wasserstein(X, Y).item()
    torch.manual_seed(3)
    assert otorch.sliced_wasserstein(X, Y).item() == c
    with torch.no_grad():
        assert otorch.sliced_wasserstein(X, Y, seed=1).requires_grad is False


def test_bad_input():
    X, Y = torch.randn(10, 3), torch.randn(12, 3)
    Xn = X.clone()
    Xn[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        otorch.sliced_wasserstein(Xn, Y)
    with pytest.raises(ValueError, match="shapes"):
        otorch.sliced_wasserstein(X, Y[:, :2])
    with pytest.raises(ValueError, match="float32 or float64"):
        otorch.sliced_wasserstein(X.half(), Y.half())
    with pytest.raises(ValueError, match="p: the order"):
        otorch.sliced_wasserstein(X, Y, p=0.5)
    with pytest.raises(ValueError, match="projections"):
        otorch.sliced_wasserstein(X, Y, projections=torch.zeros(3, 0))
    with pytest.raises(ValueError, match="n_projections"):
        otorch.sliced_wasserstein(X, Y, n_projections=0)
    # a non-contiguous view gives the value of its contiguous copy
    th = directions(3, 8, torch.float32)
    big = torch.randn(20, 6)
    v = otorch.sliced_wasserstein(big[::2, ::2], Y, projections=th)
    assert v.item() == otorch.sliced_wasserstein(big[::2, ::2].contiguous(), Y,
                                                 projections=th).item()


def test_float64_offset_data():
    """float64 at 1e6 + 0.1 N(0, 1): the value and gradients of PyTorch's float64 sort loss to
    1e-4 (float32 without the common shift: 2x off)."""
    g = torch.Generator().manual_seed(3)
    X = (1e6 + 0.1 * torch.randn(200, 3, generator=g, dtype=torch.float64)).requires_grad_()
    Y = 1e6 + 0.1 * torch.randn(200, 3, generator=g, dtype=torch.float64)
    th = directions(3, 64)
    v = otorch.sliced_wasserstein(X, Y, projections=th)
    v.backward()
    Xr = X.detach().clone().requires_grad_()
    ref = sort_loss(Xr, Y, th)
    ref.backward()
    assert abs(v.item() - ref.item()) < 1e-4 * ref.item()
    assert torch.allclose(X.grad, Xr.grad, rtol=1e-3, atol=1e-4 * Xr.grad.abs().max().item())
