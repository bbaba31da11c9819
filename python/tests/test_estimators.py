"""The SW estimators (estimator=): values against NumPy implementations of the formulas, gradients
against torch autograd through the authors' formulas (control variates: the coefficient not
detached; EBSW: the weights detached), and errors."""
import numpy as np
import pytest

import otgen


def unit(rng, d, L):
    th = rng.normal(size=(d, L))
    return th / np.linalg.norm(th, axis=0, keepdims=True)


def per_direction(X, Y, th):
    return np.mean((np.sort(X @ th, axis=0) - np.sort(Y @ th, axis=0)) ** 2, axis=0)


def reference(X, Y, th, estimator, T=1.0):
    """SW_2^2 estimate of the formulas, in float64 NumPy."""
    W = per_direction(X, Y, th)
    if estimator == "ebsw":
        w = np.exp((W - W.max()) / T)
        w /= w.sum()
        return float(np.sum(w * W))
    d = X.shape[1]
    mx, my = X.mean(0), Y.mean(0)
    C = ((mx - my) @ th) ** 2
    E = np.sum((mx - my) ** 2) / d
    if estimator == "ucv":
        C = C + np.mean(((X - mx) @ th) ** 2, 0) + np.mean(((Y - my) @ th) ** 2, 0)
        E += (np.sum((X - mx) ** 2) / X.shape[0] + np.sum((Y - my) ** 2) / Y.shape[0]) / d
    D = C - E
    gamma = np.mean((W - W.mean()) * D) / np.mean(D ** 2)
    return float(W.mean() - gamma * D.mean())


@pytest.mark.parametrize("estimator", ["lcv", "ucv", "ebsw"])
def test_values_match_formulas(rng, estimator):
    X, Y = rng.normal(size=(50, 6)), 1.3 * rng.normal(size=(50, 6)) + 0.4
    th = unit(rng, 6, 40)
    v, log = otgen.sliced_wasserstein_distance(X, Y, projections=th, estimator=estimator,
                                               temperature=1.0, log=True)
    ref = reference(X, Y, th, estimator)
    assert v ** 2 == pytest.approx(ref, rel=1e-5)
    assert log["mc_value"] == pytest.approx(per_direction(X, Y, th).mean(), rel=1e-5)
    assert log["stderr"] > 0
    val, _ = otgen.sw_value_and_grad(X, Y, projections=th, estimator=estimator)
    assert val == pytest.approx(ref, rel=1e-5)


def torch_estimate(torch, X, Y, th, estimator, T=1.0):
    """The authors' formulas in torch (X requires grad)."""
    W = torch.mean((torch.sort(X @ th, 0)[0] - torch.sort(Y @ th, 0)[0]) ** 2, 0)
    if estimator == "ebsw":
        w = torch.softmax(W / T, 0).detach()
        return torch.sum(w * W)
    d = X.shape[1]
    mx, my = X.mean(0), Y.mean(0)
    C = ((mx - my) @ th) ** 2
    E = torch.sum((mx - my) ** 2) / d
    if estimator == "ucv":
        C = C + torch.mean(((X - mx) @ th) ** 2, 0) + torch.mean(((Y - my) @ th) ** 2, 0)
        E = E + (torch.sum((X - mx) ** 2) / X.shape[0] + torch.sum((Y - my) ** 2) / Y.shape[0]) / d
    D = C - E
    gamma = torch.mean((W - W.mean()) * D) / torch.mean(D ** 2)
    return W.mean() - gamma * D.mean()


@pytest.mark.parametrize("estimator", ["lcv", "ucv", "ebsw"])
def test_gradients_match_autograd(rng, estimator):
    torch = pytest.importorskip("torch")
    X, Y = rng.normal(size=(30, 5)), 0.7 * rng.normal(size=(30, 5)) - 0.3
    th = unit(rng, 5, 12)
    v, g = otgen.sw_value_and_grad(X, Y, projections=th, estimator=estimator)
    Xt = torch.tensor(X, requires_grad=True)
    ref = torch_estimate(torch, Xt, torch.tensor(Y), torch.tensor(th), estimator)
    ref.backward()
    assert v == pytest.approx(ref.item(), rel=1e-5)
    np.testing.assert_allclose(g, Xt.grad.numpy(), rtol=1e-3, atol=1e-5 * np.abs(g).max())


def test_errors(rng):
    X = rng.normal(size=(10, 3))
    with pytest.raises(ValueError, match="unknown SW estimator 'cv'"):
        otgen.sliced_wasserstein_distance(X, X, estimator="cv")
    with pytest.raises(ValueError, match="temperature"):
        otgen.sliced_wasserstein_distance(X, X, estimator="ebsw", temperature=0)
    with pytest.raises(ValueError, match="ebsw_energy"):
        otgen.sw_value_and_grad(X, X, estimator="ebsw", ebsw_energy="poly")
    with pytest.raises(ValueError, match="rqmc"):
        otgen.get_random_projections(4, 10, seed=1, kind="rqmc")
    th = otgen.get_random_projections(3, 64, seed=1, kind="rqmc")
    np.testing.assert_allclose(np.linalg.norm(th, axis=0), 1.0, rtol=1e-6)


def test_hadamard_directions():
    th = otgen.get_random_projections(50, 100, seed=3, kind="hadamard")
    assert th.shape == (50, 100)
    np.testing.assert_allclose(np.linalg.norm(th, axis=0), 1.0, rtol=1e-5)
    b = otgen.get_random_projections(64, 64, seed=3, kind="hadamard")  # d = N: an orthonormal basis
    np.testing.assert_allclose(b.T @ b, np.eye(64), atol=1e-5)
    np.testing.assert_array_equal(th, otgen.get_random_projections(50, 100, seed=3, kind="hadamard"))
