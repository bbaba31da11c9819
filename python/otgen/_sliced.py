"""POT-compatible Sliced-Wasserstein functions over otgen's fused float32 kernel."""
import numbers

import numpy as np

from ._lib import (as_f32, check, check_finite, exception, ffi, fptr, lib, out_dtype, tensor,
                   workspace)

__all__ = ["energy_distance", "sliced_wasserstein_distance", "max_sliced_wasserstein_distance", "sw_value_and_grad",
           "sliced_wasserstein_pairwise", "wasserstein_1d", "get_random_projections"]


def _clouds_f32(clouds, names):
    """The point clouds as float32 (as_f32, 2-D). When any is not float32/float16 (float64, ints),
    all are first shifted by the common mean of all their rows, computed in float64: SW, its
    gradient and the energy distance are invariant under a common translation, so only the
    rounding changes and data far from the origin (1e6 + 0.1 N(0, 1)) keep their digits."""
    arrs = [np.asarray(c) for c in clouds]
    for a, name in zip(arrs, names):
        if a.dtype.kind not in "fiub":
            raise ValueError("%s: expected a real array, got dtype %s" % (name, a.dtype))
        if a.ndim != 2:
            raise ValueError("%s: expected a 2-D array, got shape %s" % (name, a.shape))
    if all(a.dtype in (np.float32, np.float16) for a in arrs) or \
            len({a.shape[1] for a in arrs}) != 1 or any(a.size == 0 for a in arrs):
        return [as_f32(a, name, 2) for a, name in zip(arrs, names)]
    wide = [a.astype(np.float64, copy=False) for a in arrs]
    if not all(np.isfinite(w).all() for w in wide):  # the checks downstream name the array
        return [as_f32(a, name, 2) for a, name in zip(arrs, names)]
    mu = np.concatenate(wide).mean(axis=0)
    return [as_f32(w - mu, name, 2) for w, name in zip(wide, names)]


def _seed_value(seed):
    """An integer seed for otgen's streams from an int, a NumPy RandomState / Generator, or None
    (then drawn from NumPy's global generator, so np.random.seed makes runs repeatable, as with
    POT)."""
    if seed is None:
        return int(np.random.randint(0, 2**62, dtype=np.int64))
    if isinstance(seed, np.random.RandomState):
        return int(seed.randint(0, 2**62, dtype=np.int64))
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**62))
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        return int(seed)
    raise ValueError("seed: expected a non-negative integer, a RandomState, a Generator or None, "
                     "got %r" % (seed,))


def _directions(d, n_projections, seed, kind):
    """theta [d, L] float32 from otgen's counter-based stream (seed, 0)."""
    if not isinstance(n_projections, numbers.Integral) or n_projections < 1:
        raise ValueError("n_projections: expected an integer >= 1, got %r" % (n_projections,))
    if not isinstance(d, numbers.Integral) or d < 1:
        raise ValueError("d: expected an integer >= 1, got %r" % (d,))
    k = ffi.new("otg_dir_kind *")
    if not isinstance(kind, str):
        raise ValueError(
            "kind: expected 'gaussian', 'orthogonal', 'rqmc' or 'hadamard', got %r" % (kind,))
    check(lib.otg_dir_parse(kind.encode(), k), "kind: ")
    rng = ffi.new("otg_rng *", lib.otg_rng_make(_seed_value(seed), 0))
    theta = np.empty((int(d), int(n_projections)), dtype=np.float32)
    check(lib.otg_sw_directions(rng, k[0], int(d), int(n_projections), fptr(theta)))
    return theta


def get_random_projections(d, n_projections, seed=None, kind="gaussian"):
    """Random unit directions, one per column: an array of shape (d, n_projections).

    Like ``ot.sliced.get_random_projections`` (same orientation), but drawn from otgen's
    counter-based Philox stream (seed, 0): the same seed gives the same directions on every
    machine and thread count, but they differ from POT's NumPy draws. ``kind`` is "gaussian"
    (uniform on the sphere) or "orthogonal" (blocks of d orthonormal directions). ``seed`` may be
    an int, a RandomState/Generator (an integer seed is drawn from it) or None (drawn from NumPy's
    global generator). Returns float64 (the float32 directions, exactly), as POT does."""
    return _directions(d, n_projections, seed, kind).astype(np.float64)


def _prepare(X_s, X_t, a, b, n_projections, projections, seed, kind="gaussian"):
    xs, xt = _clouds_f32([X_s, X_t], ["X_s", "X_t"])
    if xs.shape[1] != xt.shape[1]:
        raise ValueError("X_s and X_t must have the same number of dimensions {} and {} "
                         "respectively given".format(xs.shape[1], xt.shape[1]))
    if xs.shape[0] < 1 or xt.shape[0] < 1 or xs.shape[1] < 1:
        raise ValueError("X_s and X_t must have at least one point and one dimension, got shapes "
                         "%s and %s" % (xs.shape, xt.shape))
    wa = None if a is None else as_f32(a, "a", 1)
    wb = None if b is None else as_f32(b, "b", 1)
    if wa is not None and wa.shape[0] != xs.shape[0]:
        raise ValueError("a: %d weights for %d points" % (wa.shape[0], xs.shape[0]))
    if wb is not None and wb.shape[0] != xt.shape[0]:
        raise ValueError("b: %d weights for %d points" % (wb.shape[0], xt.shape[0]))
    if projections is None:
        theta = _directions(xs.shape[1], n_projections, seed, kind)
    else:
        theta = as_f32(projections, "projections", 2)
        if theta.shape[0] != xs.shape[1]:
            raise ValueError("projections: expected shape (%d, n_projections), got %s"
                             % (xs.shape[1], theta.shape))
        if theta.shape[1] < 1:
            raise ValueError("projections: zero projections (shape %s)" % (theta.shape,))
    return xs, xt, wa, wb, theta


def _p_value(p):
    if not isinstance(p, numbers.Real) or not p >= 1:
        raise ValueError("p: the order must be a number >= 1, got %r" % (p,))
    return float(p)


def _wptr(w):
    return ffi.NULL if w is None else fptr(w)


def _nonfinite(value, arrays):
    """After a non-finite result: ValueError naming a non-finite input, if one is."""
    if not np.isfinite(value):
        for name, arr in arrays:
            if arr is not None:
                check_finite(name, arr)


def _estimator_opts(estimator, temperature, ebsw_energy):
    """otg_sw_estimator_opts from the keyword arguments (ValueError on bad names)."""
    e = ffi.new("otg_sw_estimator_opts *", lib.otg_sw_estimator_opts_default())
    if not isinstance(estimator, str):
        raise ValueError("estimator: expected 'mc', 'lcv', 'ucv' or 'ebsw', got %r" % (estimator,))
    if not isinstance(ebsw_energy, str):
        raise ValueError("ebsw_energy: expected 'exp' or 'identity', got %r" % (ebsw_energy,))
    check(lib.otg_sw_estimator_parse(estimator.encode(), ffi.addressof(e, "kind")),
          "estimator: ")
    check(lib.otg_ebsw_energy_parse(ebsw_energy.encode(), ffi.addressof(e, "energy")),
          "ebsw_energy: ")
    if not isinstance(temperature, numbers.Real) or not temperature > 0:
        raise ValueError("temperature: expected a number > 0, got %r" % (temperature,))
    e.temperature = float(temperature)
    return e


def _direction_weights(w, theta, estimator):
    """projection_weights as float32 [L] (None stays None); the plain estimator only."""
    if w is None:
        return None
    if estimator != "mc":
        raise ValueError("projection_weights: only with estimator=\"mc\", got %r" % (estimator,))
    dw = as_f32(w, "projection_weights", 1)
    if dw.shape[0] != theta.shape[1]:
        raise ValueError("projection_weights: %d weights for %d projections"
                         % (dw.shape[0], theta.shape[1]))
    return dw


def _sw_call(xs, xt, wa, wb, theta, p, grad=None, per_dir=None, est=None, info=None, dw=None):
    opts = ffi.new("otg_sw_opts *", lib.otg_sw_opts_default())
    opts.p = p
    if dw is not None:
        opts.weights = fptr(dw)
    res = ffi.new("otg_sw_result *")
    g = ffi.NULL if grad is None else fptr(grad)
    w = ffi.NULL if per_dir is None else ffi.cast("double *", ffi.from_buffer(per_dir))
    if est is None:
        st = lib.otg_sw(workspace(), tensor(xs), _wptr(wa), tensor(xt), _wptr(wb), tensor(theta),
                        opts, res, g, w)
    else:
        st = lib.otg_sw_estimate(workspace(), tensor(xs), _wptr(wa), tensor(xt), _wptr(wb),
                                 tensor(theta), opts, est, res,
                                 ffi.NULL if info is None else info, g, w)
    if st != lib.OTG_OK:
        raise exception(st)
    _nonfinite(res.value, [("X_s", xs), ("X_t", xt), ("projections", theta)])
    return res


def _info_dict(res, info):
    return {"stderr": res.stderr_value, "mc_value": info.mc_value, "mc_stderr": info.mc_stderr,
            "gamma": info.gamma, "cv_mean": info.cv_mean,
            "cv_sample_mean": info.cv_sample_mean, "ess": info.ess}


def sliced_wasserstein_distance(X_s, X_t, a=None, b=None, n_projections=50, p=2,
                                projections=None, seed=None, log=False, estimator="mc",
                                temperature=1.0, ebsw_energy="exp", projection_weights=None):
    r"""Sliced-Wasserstein distance SW_p = (mean_l W_p^p(theta_l # mu, theta_l # nu))^(1/p).

    Same signature, shapes and result as POT 0.8.2's ``ot.sliced_wasserstein_distance``.

    X_s : (n, d) and X_t : (m, d) arrays of samples; a : (n,), b : (m,) optional weights (uniform
    when None; otgen normalises given weights to sum 1, POT uses them as they are, so pass
    normalised weights for identical results). projections : (d, L) directions, one per column
    (then n_projections and seed are unused); otherwise n_projections directions are drawn from
    otgen's stream for ``seed`` (see get_random_projections: not POT's NumPy directions).
    p >= 1. log=True returns also {"projections": theta, "projected_emds": W_p^p per direction}.

    estimator (otgen's extension): "mc" (the plain mean, POT's), "lcv" / "ucv" (control variates
    from the projected means / means and variances, Nguyen & Ho 2024: the same target, a smaller
    standard error) or "ebsw" (energy-based SW, Nguyen & Ho 2023: sum_l w_l W_p^p with
    w = softmax(W_p^p / temperature), or W_p^p / sum with ebsw_energy="identity" -- another
    quantity). The returned distance is max(estimate, 0)^(1/p); with log=True the dict also holds
    "stderr", "mc_value", "gamma", "cv_mean", "cv_sample_mean" and "ess" (otg_sw_estimate_info).
    projection_weights (otgen's extension, OTT's ``weights``): (L,) finite weights >= 0 with a
    positive sum, normalised to sum 1, one per projection: SW_p^p = sum_l w_l W_p^p(theta_l)
    (estimator "mc" only; None: uniform).

    The mean is over the L columns actually used (POT 0.8.2 divides by n_projections even when
    the given projections have another number of columns). Computed in float32 (inputs of another
    dtype or layout are converted once); the value is returned in the input's dtype (float64
    unless every input is float32). float64 clouds are first shifted by their common mean (in
    float64), which changes nothing but the rounding: offset data keep their digits. Raises
    ValueError on NaN/Inf input, bad shapes, p < 1 or zero projections."""
    dt = out_dtype(X_s, X_t, a, b, projections)
    est = _estimator_opts(estimator, temperature, ebsw_energy)
    xs, xt, wa, wb, theta = _prepare(X_s, X_t, a, b, n_projections, projections, seed)
    p = _p_value(p)
    dw = _direction_weights(projection_weights, theta, estimator)
    per_dir = np.empty(theta.shape[1], dtype=np.float64) if log else None
    info = ffi.new("otg_sw_estimate_info *")
    res = _sw_call(xs, xt, wa, wb, theta, p, per_dir=per_dir,
                   est=None if estimator == "mc" else est, info=info, dw=dw)
    value = dt(res.distance)
    if log:
        proj = projections if projections is not None else theta.astype(dt)
        out = {"projections": proj, "projected_emds": per_dir.astype(dt)}
        if estimator != "mc":
            out.update(_info_dict(res, info))
        return value, out
    return value


def max_sliced_wasserstein_distance(X_s, X_t, a=None, b=None, n_projections=50, p=2,
                                    projections=None, seed=None, log=False):
    r"""Max-sliced Wasserstein distance over sampled directions: (max_l W_p^p(theta_l))^(1/p).

    Same signature and result as POT 0.8.2's ``ot.max_sliced_wasserstein_distance`` (the
    maximum over the columns of ``projections``, or over n_projections directions drawn from
    otgen's stream for ``seed``). log=True returns also {"projections", "projected_emds"}. Same
    conventions as sliced_wasserstein_distance."""
    dt = out_dtype(X_s, X_t, a, b, projections)
    xs, xt, wa, wb, theta = _prepare(X_s, X_t, a, b, n_projections, projections, seed)
    p = _p_value(p)
    if log:
        per_dir = np.empty(theta.shape[1], dtype=np.float64)
        _sw_call(xs, xt, wa, wb, theta, p, per_dir=per_dir)
        value = dt(per_dir.max() ** (1.0 / p))
        proj = projections if projections is not None else theta.astype(dt)
        return value, {"projections": proj, "projected_emds": per_dir.astype(dt)}
    v = ffi.new("double *")
    best = ffi.new("int64_t *")
    check(lib.otg_sw_max_sampled(workspace(), tensor(xs), _wptr(wa), tensor(xt), _wptr(wb),
                                 tensor(theta), p, v, best))
    _nonfinite(v[0], [("X_s", xs), ("X_t", xt), ("projections", theta)])
    return dt(v[0] ** (1.0 / p))


def sw_value_and_grad(X, Y, a=None, b=None, n_projections=50, p=2, projections=None, seed=None,
                      kind="gaussian", estimator="mc", temperature=1.0, ebsw_energy="exp",
                      fixed_gamma=False, projection_weights=None):
    r"""SW_p^p(X, Y) and its gradient with respect to X, by the fused kernel (one pass).

    X : (n, d), Y : (m, d); a, b optional weights; projections (d, L) or n_projections
    directions of ``kind`` ("gaussian", "orthogonal", "hadamard" or, for d = 3, "rqmc") from otgen's stream
    for ``seed``. Returns (value, grad) with value = (1/L) sum_l W_p^p(theta_l) (not its p-th
    root) and grad of shape (n, d) = d value / d X (a Clarke-subgradient selection at ties), in
    X's dtype. estimator, temperature, ebsw_energy: as sliced_wasserstein_distance (value is then
    that estimate of SW_p^p); fixed_gamma=True holds the control-variate coefficient constant in
    the gradient (default: the exact derivative of the value); projection_weights as
    sliced_wasserstein_distance (value = sum_l w_l W_p^p(theta_l) and its gradient)."""
    dt = out_dtype(X, Y, a, b, projections)
    est = _estimator_opts(estimator, temperature, ebsw_energy)
    est.fixed_gamma = 1 if fixed_gamma else 0
    xs, xt, wa, wb, theta = _prepare(X, Y, a, b, n_projections, projections, seed, kind)
    p = _p_value(p)
    dw = _direction_weights(projection_weights, theta, estimator)
    grad = np.empty(xs.shape, dtype=np.float32)
    res = _sw_call(xs, xt, wa, wb, theta, p, grad=grad, est=None if estimator == "mc" else est,
                   dw=dw)
    return dt(res.value), grad.astype(dt, copy=False)


def wasserstein_1d(u_values, v_values, u_weights=None, v_weights=None, p=1, require_sort=True):
    r"""W_p^p between two 1-D empirical measures, as POT's ``ot.wasserstein_1d`` (which returns
    the p-Wasserstein distance raised to the power p).

    u_values (n,) and v_values (m,), or batched (n, k) and (m, k) (one problem per column, result
    (k,)); weights (n,) / (m,) (or (n, k) / (m, k)), uniform when None, normalised to sum 1.
    p >= 1. require_sort is accepted for POT compatibility (otgen always sorts). Computed in
    float32 with double accumulation (float64 values shifted by their common mean first);
    returned in the input dtype."""
    dt = out_dtype(u_values, v_values, u_weights, v_weights)
    u, v = np.asarray(u_values), np.asarray(v_values)
    p = _p_value(p)
    if u.ndim != v.ndim or u.ndim not in (1, 2) or (u.ndim == 2 and u.shape[1] != v.shape[1]):
        raise ValueError("u_values, v_values: expected shapes (n,), (m,) or (n, k), (m, k); got "
                         "%s and %s" % (u.shape, v.shape))
    if u.ndim == 1:
        return dt(_w1d(u, v, u_weights, v_weights, p))
    out = np.empty(u.shape[1], dtype=np.float64)
    uw = None if u_weights is None else np.asarray(u_weights)
    vw = None if v_weights is None else np.asarray(v_weights)
    for j in range(u.shape[1]):
        out[j] = _w1d(u[:, j], v[:, j], uw[:, j] if uw is not None and uw.ndim == 2 else uw,
                      vw[:, j] if vw is not None and vw.ndim == 2 else vw, p)
    return out.astype(dt)


def _w1d(u, v, uw, vw, p):
    u, v = np.asarray(u), np.asarray(v)
    if (u.dtype not in (np.float32, np.float16) or v.dtype not in (np.float32, np.float16)) and \
            u.dtype.kind in "fiub" and v.dtype.kind in "fiub" and u.size and v.size:
        uu, vv = u.astype(np.float64), v.astype(np.float64)
        if np.isfinite(uu).all() and np.isfinite(vv).all():  # the common shift (see _clouds_f32)
            mu = np.concatenate([uu.ravel(), vv.ravel()]).mean()
            u, v = uu - mu, vv - mu
    s, t = as_f32(u, "u_values", 1), as_f32(v, "v_values", 1)
    a = None if uw is None else as_f32(uw, "u_weights", 1)
    b = None if vw is None else as_f32(vw, "v_weights", 1)
    if a is not None and a.shape != s.shape:
        raise ValueError("u_weights: %d weights for %d values" % (a.shape[0], s.shape[0]))
    if b is not None and b.shape != t.shape:
        raise ValueError("v_weights: %d weights for %d values" % (b.shape[0], t.shape[0]))
    out = ffi.new("double *")
    check(lib.otg_ot_wasserstein_1d(fptr(s), _wptr(a), s.shape[0], fptr(t), _wptr(b), t.shape[0],
                                    p, out, ffi.NULL, ffi.NULL))
    _nonfinite(out[0], [("u_values", s), ("v_values", t)])
    return out[0]


def energy_distance(X, Y, n_projections=1024, projections=None, seed=None, kind="gaussian",
                    exact=False, log=False):
    r"""Energy distance 2 E|X - Y| - E|X - X'| - E|Y - Y'| (Euclidean norms; within-sample means
    over pairs i != j) between the rows of X : (n, d) and Y : (m, d), n, m >= 2.

    By default its sliced estimate (Hertrich et al., ICLR 2024): c_d times the mean over the
    directions of the 1-D energy distances of the projections, each from sorted values in
    O((n + m) log(n + m)) — the same C code as ``otgen energy``. projections : (d, L) unit
    directions, one per column; otherwise n_projections directions from otgen's stream for
    ``seed`` (as get_random_projections, ``kind`` "gaussian" or "orthogonal"). exact=True returns
    the O((n + m)^2 d) pair sums instead. log=True (sliced only) returns also
    {"projections": theta, "stderr": the Monte-Carlo standard error, "projected_energies": the
    1-D energy distances before the factor c_d}. Computed in float32 inputs, double sums; returns a
    Python float. Raises ValueError on NaN/Inf input, bad shapes or fewer than 2 points."""
    x, y = _clouds_f32([X, Y], ["X", "Y"])
    if x.shape[1] != y.shape[1]:
        raise ValueError("X and Y must have the same number of dimensions, got %d and %d"
                         % (x.shape[1], y.shape[1]))
    if x.shape[0] < 2 or y.shape[0] < 2:
        raise ValueError("X and Y need at least 2 points each, got shapes %s and %s"
                         % (x.shape, y.shape))
    check_finite("X", x)
    check_finite("Y", y)
    if exact:
        out = ffi.new("double *")
        check(lib.otg_energy_distance(tensor(x), tensor(y), out))
        return float(out[0])
    if projections is None:
        theta = _directions(x.shape[1], n_projections, seed, kind)
    else:
        theta = as_f32(projections, "projections", 2)
        if theta.shape[0] != x.shape[1] or theta.shape[1] < 1:
            raise ValueError("projections: expected shape (%d, L >= 1), got %s"
                             % (x.shape[1], theta.shape))
    res = ffi.new("otg_sliced_energy_result *")
    per_dir = np.empty(theta.shape[1], dtype=np.float64) if log else None
    check(lib.otg_sliced_energy(tensor(x), tensor(y), tensor(theta), res,
                                ffi.NULL if per_dir is None else
                                ffi.cast("double *", ffi.from_buffer(per_dir))))
    if log:
        return float(res.value), {"projections": theta, "stderr": float(res.stderr_value),
                                  "projected_energies": per_dir}
    return float(res.value)


def sliced_wasserstein_pairwise(clouds, n_projections=50, p=2, projections=None, seed=None,
                                kind="gaussian", squared=False):
    r"""SW_p between every pair of K point clouds along shared directions: a (K, K) array.

    clouds : a sequence of K >= 2 arrays (n_k, d) (sizes may differ; uniform weights) or one
    (K, n, d) array. The directions are projections (d, L) or n_projections of ``kind`` from
    otgen's stream for ``seed`` (as sliced_wasserstein_distance). Every cloud is projected and
    sorted once per direction (K sorts, not K (K - 1)); for float32 clouds entry (i, j) has the
    bits of the double that ``sliced_wasserstein_distance(clouds[i], clouds[j],
    projections=theta, p=p)`` computes (before its cast to the input dtype). squared=True returns SW_p^p. The diagonal is 0. float64 clouds
    are shifted by the common mean of all of them first (see sliced_wasserstein_distance).
    Returns float64. Raises ValueError on K < 2, mismatched d, NaN/Inf, p < 1."""
    if isinstance(clouds, np.ndarray) and clouds.ndim == 3:
        clouds = list(clouds)
    clouds = list(clouds)
    if len(clouds) < 2:
        raise ValueError("clouds: %d cloud(s), need 2 or more" % len(clouds))
    names = ["clouds[%d]" % k for k in range(len(clouds))]
    arrs = _clouds_f32(clouds, names)
    d = arrs[0].shape[1]
    for a, name in zip(arrs, names):
        if a.shape[1] != d:
            raise ValueError("%s has dimension %d, clouds[0] has %d" % (name, a.shape[1], d))
        if a.shape[0] < 1:
            raise ValueError("%s: no points" % name)
        check_finite(name, a)
    p = _p_value(p)
    if projections is None:
        theta = _directions(d, n_projections, seed, kind)
    else:
        theta = as_f32(projections, "projections", 2)
        if theta.shape[0] != d or theta.shape[1] < 1:
            raise ValueError("projections: expected shape (%d, L >= 1), got %s" % (d, theta.shape))
    K = len(arrs)
    ts = ffi.new("otg_tensor[]", K)
    for k, a in enumerate(arrs):
        ts[k].data = fptr(a)
        ts[k].ndim = 2
        ts[k].shape[0], ts[k].shape[1] = a.shape
    opts = ffi.new("otg_sw_opts *", lib.otg_sw_opts_default())
    opts.p = p
    dist = np.empty((K, K), dtype=np.float64)
    value = np.empty((K, K), dtype=np.float64)
    check(lib.otg_sw_pairwise(ts, K, tensor(theta), opts,
                              ffi.cast("double *", ffi.from_buffer(dist)),
                              ffi.cast("double *", ffi.from_buffer(value))))
    return value if squared else dist
