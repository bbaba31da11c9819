"""POT parity, conversions and errors of the NumPy functions."""
import numpy as np
import pytest

import otgen
from otgen import _lib
from conftest import pot


def unit(rng, d, L):
    th = rng.normal(size=(d, L))
    return th / np.linalg.norm(th, axis=0, keepdims=True)


def test_version():
    assert otgen.__version__.count(".") == 2
    assert otgen.__version__ == _lib.ffi.string(_lib.lib.otg_version()).decode()


@pytest.mark.parametrize("p", [1, 2, 3])
@pytest.mark.parametrize("weights", [False, True])
def test_sw_matches_pot(rng, p, weights):
    ot = pot()
    X, Y = rng.normal(size=(60, 7)), rng.normal(size=(45, 7)) + 0.5
    th = unit(rng, 7, 32)
    a = b = None
    if weights:
        a, b = rng.random(60), rng.random(45)
        a, b = a / a.sum(), b / b.sum()
    for fn in ("sliced_wasserstein_distance", "max_sliced_wasserstein_distance"):
        ref = getattr(ot, fn)(X, Y, a, b, n_projections=32, p=p, projections=th)
        got = getattr(otgen, fn)(X, Y, a, b, n_projections=32, p=p, projections=th)
        assert isinstance(got, np.float64)
        assert got == pytest.approx(ref, rel=2e-6)
        ref_v, ref_log = getattr(ot, fn)(X, Y, a, b, 32, p, th, log=True)
        got_v, got_log = getattr(otgen, fn)(X, Y, a, b, 32, p, th, log=True)
        assert got_v == pytest.approx(ref_v, rel=2e-6)
        assert set(got_log) == {"projections", "projected_emds"}
        assert got_log["projections"] is th
        np.testing.assert_allclose(got_log["projected_emds"], ref_log["projected_emds"],
                                   rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("p", [1, 2, 3])
def test_wasserstein_1d_matches_pot(rng, p):
    ot = pot()
    u, v = rng.normal(size=30), rng.normal(size=17) * 2
    uw, vw = rng.random(30), rng.random(17)
    uw, vw = uw / uw.sum(), vw / vw.sum()
    assert otgen.wasserstein_1d(u, v, p=p) == pytest.approx(ot.wasserstein_1d(u, v, p=p), 2e-6)
    assert otgen.wasserstein_1d(u, v, uw, vw, p=p) == pytest.approx(
        ot.wasserstein_1d(u, v, uw, vw, p=p), rel=2e-6)
    U, V = rng.normal(size=(30, 4)), rng.normal(size=(17, 4))
    np.testing.assert_allclose(otgen.wasserstein_1d(U, V, uw, vw, p=p),
                               ot.wasserstein_1d(U, V, uw, vw, p=p), rtol=2e-6)
    # POT's value is W_p^p (not its p-th root): two Diracs at distance 2
    assert otgen.wasserstein_1d([0.0], [2.0], p=p) == pytest.approx(2.0**p)


def test_value_and_grad(rng):
    ot = pot()
    torch = pytest.importorskip("torch")
    X, Y = rng.normal(size=(40, 5)), rng.normal(size=(33, 5))
    th = unit(rng, 5, 16)
    for p in (1.5, 2, 3):
        v, g = otgen.sw_value_and_grad(X, Y, projections=th, p=p)
        assert g.shape == X.shape and g.dtype == np.float64
        Xt = torch.tensor(X, requires_grad=True)
        ref = ot.sliced_wasserstein_distance(Xt, torch.tensor(Y), n_projections=16, p=p,
                                             projections=torch.tensor(th)) ** p
        ref.backward()
        assert v == pytest.approx(ref.item(), rel=2e-6)
        np.testing.assert_allclose(g, Xt.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_seeded_directions():
    d = 9
    t1 = otgen.get_random_projections(d, 20, seed=3)
    assert t1.shape == (d, 20) and t1.dtype == np.float64
    np.testing.assert_allclose(np.linalg.norm(t1, axis=0), 1, rtol=1e-6)
    assert np.array_equal(t1, otgen.get_random_projections(d, 20, seed=3))
    assert not np.array_equal(t1, otgen.get_random_projections(d, 20, seed=4))
    o = otgen.get_random_projections(d, 9, seed=3, kind="orthogonal")
    np.testing.assert_allclose(o.T @ o, np.eye(9), atol=1e-5)
    X, Y = np.random.default_rng(0).normal(size=(2, 30, d))
    v = otgen.sliced_wasserstein_distance(X, Y, n_projections=20, seed=3)
    assert v == otgen.sliced_wasserstein_distance(X, Y, projections=t1)
    r1 = otgen.sliced_wasserstein_distance(X, Y, seed=np.random.RandomState(1))
    assert r1 == otgen.sliced_wasserstein_distance(X, Y, seed=np.random.RandomState(1))
    np.random.seed(5)
    a = otgen.sliced_wasserstein_distance(X, Y)
    np.random.seed(5)
    assert a == otgen.sliced_wasserstein_distance(X, Y)


def test_dtypes_and_layouts(rng):
    X, Y = rng.normal(size=(50, 6)), rng.normal(size=(40, 6))
    th = otgen.get_random_projections(6, 25, seed=0)
    ref = otgen.sliced_wasserstein_distance(X, Y, projections=th)
    # float32 in, float32 out, same value (the kernel is float32 either way)
    v32 = otgen.sliced_wasserstein_distance(X.astype(np.float32), Y.astype(np.float32),
                                            projections=th.astype(np.float32))
    assert isinstance(v32, np.float32) and v32 == np.float32(ref)
    # non-contiguous views are converted, not refused: the same result as the contiguous copy
    Xf, Yf = np.asfortranarray(X), Y[::-1][::-1]
    big = np.zeros((100, 12))
    big[::2, ::2] = X
    assert otgen.sliced_wasserstein_distance(Xf, Yf, projections=th) == ref
    assert otgen.sliced_wasserstein_distance(big[::2, ::2], Y, projections=th) == ref
    assert otgen.sliced_wasserstein_distance(X, Y, projections=np.asfortranarray(th)) == ref
    # integer arrays are converted to float (result float64); lists too
    Xi, Yi = rng.integers(-5, 5, size=(20, 3)), rng.integers(-5, 5, size=(25, 3))
    th3 = otgen.get_random_projections(3, 10, seed=1)
    vi = otgen.sliced_wasserstein_distance(Xi, Yi, projections=th3)
    assert isinstance(vi, np.float64)
    assert vi == otgen.sliced_wasserstein_distance(Xi.astype(float), Yi.astype(float),
                                                   projections=th3)
    assert otgen.sliced_wasserstein_distance(Xi.tolist(), Yi.tolist(), projections=th3) == vi
    with pytest.raises(ValueError, match="real array"):
        otgen.sliced_wasserstein_distance(X.astype(complex), Y)
    with pytest.raises(ValueError, match="real array"):
        otgen.sliced_wasserstein_distance(np.array([["a"]]), Y)


def test_bad_input(rng):
    X, Y = rng.normal(size=(20, 4)), rng.normal(size=(30, 4))
    for bad in (np.nan, np.inf):
        Xn = X.copy()
        Xn[3, 1] = bad
        with pytest.raises(ValueError, match="X_s: contains NaN or Inf"):
            otgen.sliced_wasserstein_distance(Xn, Y)
        with pytest.raises(ValueError, match="X_t: contains NaN"):
            otgen.sw_value_and_grad(X, Xn)
        with pytest.raises(ValueError, match="NaN"):
            otgen.max_sliced_wasserstein_distance(X, Xn)
        with pytest.raises(ValueError, match="u_values: contains NaN"):
            otgen.wasserstein_1d(Xn[:, 1], Y[:, 0])
    th = otgen.get_random_projections(4, 5, seed=0)
    th[0, 0] = np.nan
    with pytest.raises(ValueError, match="projections"):
        otgen.sliced_wasserstein_distance(X, Y, projections=th)
    with pytest.raises(ValueError, match="same number of dimensions"):
        otgen.sliced_wasserstein_distance(X, Y[:, :3])
    with pytest.raises(ValueError, match="2-D"):
        otgen.sliced_wasserstein_distance(X[:, 0], Y[:, 0])
    with pytest.raises(ValueError, match="projections: expected shape"):
        otgen.sliced_wasserstein_distance(X, Y, projections=np.ones((3, 5)))
    with pytest.raises(ValueError, match="weights"):
        otgen.sliced_wasserstein_distance(X, Y, a=np.ones(19))
    with pytest.raises(ValueError, match="weight"):
        otgen.sliced_wasserstein_distance(X, Y, a=-np.ones(20))
    for p in (0.5, 0, -1, np.nan):
        with pytest.raises(ValueError, match="p: the order"):
            otgen.sliced_wasserstein_distance(X, Y, p=p)
        with pytest.raises(ValueError, match="p: the order"):
            otgen.wasserstein_1d(X[:, 0], Y[:, 0], p=p)
    with pytest.raises(ValueError, match="n_projections"):
        otgen.sliced_wasserstein_distance(X, Y, n_projections=0)
    with pytest.raises(ValueError, match="zero projections"):
        otgen.sliced_wasserstein_distance(X, Y, projections=np.zeros((4, 0)))
    with pytest.raises(ValueError, match="kind"):
        otgen.get_random_projections(4, 5, seed=0, kind="sobol")
    with pytest.raises(ValueError, match="seed"):
        otgen.get_random_projections(4, 5, seed=-1)


def test_error_mapping():
    lib = _lib.lib
    assert isinstance(_lib.exception(lib.OTG_ENOMEM), MemoryError)
    for s in (lib.OTG_EINVAL, lib.OTG_ESHAPE, lib.OTG_ENONFINITE):
        assert isinstance(_lib.exception(s), ValueError)
    e = _lib.exception(lib.OTG_EIO)
    assert isinstance(e, otgen.Error) and isinstance(e, RuntimeError) and e.status == "OTG_EIO"


def test_threads():
    n = otgen.get_threads()
    otgen.set_threads(1)
    assert otgen.get_threads() == 1
    otgen.set_threads(n)
    with pytest.raises(ValueError):
        otgen.set_threads(5000)


def test_threads_concurrent_calls(rng):
    # one workspace per Python thread: concurrent calls (the GIL is released) give the same bits
    import threading
    X, Y = rng.normal(size=(300, 20)).astype(np.float32), rng.normal(size=(200, 20))
    th = otgen.get_random_projections(20, 64, seed=2)
    ref = otgen.sw_value_and_grad(X, Y, projections=th)
    out = [None] * 4

    def work(i):
        out[i] = [otgen.sw_value_and_grad(X, Y, projections=th) for _ in range(5)]

    ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for res in out:
        for v, g in res:
            assert v == ref[0] and np.array_equal(g, ref[1])


# ---- the energy distance -----------------------------------------------------------------------

def _energy_brute(x, y):
    """2 E|X - Y| - E|X - X'| - E|Y - Y'|, means over pairs i != j, in float64."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    dxy = np.linalg.norm(x[:, None] - y[None], axis=2).mean()
    dxx = np.linalg.norm(x[:, None] - x[None], axis=2).sum() / (len(x) * (len(x) - 1))
    dyy = np.linalg.norm(y[:, None] - y[None], axis=2).sum() / (len(y) * (len(y) - 1))
    return 2 * dxy - dxx - dyy


def test_energy_distance_exact_and_sliced():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((120, 3)).astype(np.float32)
    y = (rng.standard_normal((90, 3)) + 0.4).astype(np.float32)
    want = _energy_brute(x, y)
    assert abs(otgen.energy_distance(x, y, exact=True) - want) < 1e-9 * abs(want)
    value, log = otgen.energy_distance(x, y, n_projections=8192, seed=1, log=True)
    assert abs(value - want) < 4 * log["stderr"] and abs(value - want) < 0.05 * want
    # d = 1 with the one direction [1]: the sliced form is exact (c_1 = 1)
    x1, y1 = x[:, :1], y[:, :1]
    one = np.ones((1, 1), np.float32)
    assert abs(otgen.energy_distance(x1, y1, projections=one) - _energy_brute(x1, y1)) < 1e-9
    assert otgen.energy_distance(x, y, seed=5) == otgen.energy_distance(x, y, seed=5)


def test_energy_distance_bad_input():
    x = np.zeros((5, 2), np.float32)
    with pytest.raises(ValueError, match="same number of dimensions"):
        otgen.energy_distance(x, np.zeros((5, 3), np.float32))
    with pytest.raises(ValueError, match="at least 2 points"):
        otgen.energy_distance(x[:1], x)
    bad = x.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError):
        otgen.energy_distance(bad, x)


def test_float64_offset_data_match_pot():
    """float64 data at 1e6 + 0.1 N(0, 1): the common-mean shift keeps the digits float32 would
    lose (before it: 2.1x off); SW and the energy distance agree with POT / NumPy to 1e-4."""
    ot = pot()
    r = np.random.default_rng(3)
    X = 1e6 + r.normal(size=(500, 3)) * 0.1
    Y = 1e6 + r.normal(size=(500, 3)) * 0.1
    D = r.normal(size=(3, 64))
    D /= np.linalg.norm(D, axis=0)
    ref = ot.sliced_wasserstein_distance(X, Y, projections=D, n_projections=64)
    assert otgen.sliced_wasserstein_distance(X, Y, projections=D) == pytest.approx(ref, rel=1e-4)
    v, g = otgen.sw_value_and_grad(X, Y, projections=D)
    assert v == pytest.approx(ref**2, rel=2e-4)
    gc = otgen.sw_value_and_grad(X - 1e6, Y - 1e6, projections=D)[1]
    np.testing.assert_allclose(g, gc, rtol=1e-3, atol=1e-6 * np.abs(gc).max())
    exact = otgen.energy_distance(X - 1e6, Y - 1e6, exact=True)
    assert otgen.energy_distance(X, Y, exact=True) == pytest.approx(exact, rel=1e-4)
    M = otgen.sliced_wasserstein_pairwise([X, Y, X + 0.05], projections=D)
    assert M[0, 1] == pytest.approx(ref, rel=1e-4)
    u, v = X[:, 0], Y[:, 1]
    assert otgen.wasserstein_1d(u, v, p=2) == pytest.approx(ot.wasserstein_1d(u, v, p=2), rel=1e-4)


def test_pairwise_equals_separate_calls(rng):
    clouds = [rng.normal(size=(n, 5)).astype(np.float32) + 0.1 * k
              for k, n in enumerate([40, 40, 23, 700, 23])]
    th = otgen.get_random_projections(5, 300, seed=4).astype(np.float32)
    for p in (1, 2, 1.5):
        M = otgen.sliced_wasserstein_pairwise(clouds, projections=th, p=p)
        S = otgen.sliced_wasserstein_pairwise(clouds, projections=th, p=p, squared=True)
        assert M.shape == (5, 5) and M.dtype == np.float64
        np.testing.assert_array_equal(M, M.T)
        np.testing.assert_array_equal(np.diag(M), 0.0)
        for i in range(5):
            for j in range(i + 1, 5):
                res = otgen._sliced._sw_call(clouds[i], clouds[j], None, None, th, float(p))
                assert M[i, j] == res.distance  # bit for bit
                assert S[i, j] == res.value
                assert M[i, j] == pytest.approx(otgen.sliced_wasserstein_distance(
                    clouds[i], clouds[j], projections=th, p=p), rel=1e-6)
    # one (K, n, d) array; seeded directions as sliced_wasserstein_distance's
    A = np.stack([c for c in clouds if c.shape[0] == 40])
    M = otgen.sliced_wasserstein_pairwise(A, n_projections=64, seed=9)
    assert np.float32(M[0, 1]) == otgen.sliced_wasserstein_distance(A[0], A[1], n_projections=64,
                                                                    seed=9)


def test_pairwise_bad_input(rng):
    X = rng.normal(size=(10, 3))
    with pytest.raises(ValueError, match="2 or more"):
        otgen.sliced_wasserstein_pairwise([X])
    with pytest.raises(ValueError, match="dimension"):
        otgen.sliced_wasserstein_pairwise([X, rng.normal(size=(10, 4))])
    Y = X.copy()
    Y[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        otgen.sliced_wasserstein_pairwise([X, Y])
    with pytest.raises(ValueError, match="p"):
        otgen.sliced_wasserstein_pairwise([X, X], p=0.5)


def test_projection_weights(rng):
    """projection_weights: uniform weights give the plain value, a one-hot weight the value of
    that projection (and its gradient alone), other weights the weighted mean of log's
    projected_emds; bad weights raise ValueError."""
    x = rng.standard_normal((40, 3)).astype(np.float32)
    y = (rng.standard_normal((30, 3)) + 0.5).astype(np.float32)
    theta = otgen.get_random_projections(3, 8, seed=1)
    v, log = otgen.sliced_wasserstein_distance(x, y, projections=theta, log=True)
    u = otgen.sliced_wasserstein_distance(x, y, projections=theta, projection_weights=np.ones(8))
    assert abs(u - v) <= 1e-6 * v
    w = rng.uniform(0.1, 1.0, 8)
    vw = otgen.sliced_wasserstein_distance(x, y, projections=theta, projection_weights=w)
    ref = (np.sum(w * log["projected_emds"]) / w.sum()) ** 0.5
    assert abs(vw - ref) <= 1e-5 * ref
    one = np.zeros(8)
    one[3] = 2.0
    v3, g3 = otgen.sw_value_and_grad(x, y, projections=theta, projection_weights=one)
    _, g_col = otgen.sw_value_and_grad(x, y, projections=theta[:, 3:4])
    assert abs(v3 - log["projected_emds"][3]) <= 1e-5 * v3
    np.testing.assert_allclose(g3, g_col, rtol=1e-5, atol=1e-7)
    for bad, msg in [(np.ones(7), "7 weights for 8"), (-np.ones(8), "projection_weights|weights"),
                     (np.full(8, np.nan), "weights")]:
        with pytest.raises(ValueError, match=msg):
            otgen.sliced_wasserstein_distance(x, y, projections=theta, projection_weights=bad)
    with pytest.raises(ValueError, match="only with estimator"):
        otgen.sliced_wasserstein_distance(x, y, projections=theta, projection_weights=np.ones(8),
                                          estimator="lcv")
