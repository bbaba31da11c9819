"""`otgen game` and `otgen particles` from Python: the runs, with their metrics as NumPy columns."""
import numbers
import warnings

import numpy as np

from ._lib import check, check_ptr, exception, ffi, lib
from ._train import _apply_params, _set_threads

__all__ = ["game", "particles"]


def _name(p):
    return ffi.string(p).decode() if p != ffi.NULL else ""


def game(game="dirac", method="simgd", steps=1000, seed=0, repeat=1, noise=0.0, lr=0.1, p=None,
         optimism=0.1, q=0.0, gamma=2.0, scale=1.0, refresh=0, init=1.0, every=None,
         threads=None, **knobs):
    """One min-max method on a test game over ``repeat`` seeds, as `otgen game` (without
    --sweep, one method per call; no files are written). The common options have the CLI's names
    and defaults; the game's knobs (``cond=10``, ``hidden=16``, ``gan_loss="standard"``, ...) are
    further keywords, checked by the game's own option table (ValueError naming a bad one).
    ``p``: the anchored methods' exponent (default 2/3) or the others' step decay alpha/(k+1)^p
    (default 0). ``every`` defaults as in the CLI (steps / the game's row budget).

    Returns the rows of the CLI's metrics.csv as a dict of NumPy arrays: "step", "samples" (games
    that draw target samples), then for grad_sq, dist (NaN without a known saddle), loss and the
    game's metrics the mean over repeats and "<name>_se", its standard error; plus
    "diverged_at" (the first repeat's divergence step, -1 if none)."""
    t = lib.otg_game_type_by_name(str(game).encode())
    check_ptr(t, "game: game: ")
    knob_buf = ffi.new("char[]", max(int(t.params_size), 1))
    check(lib.otg_game_type_defaults(t, knob_buf))
    _apply_params(t.params, t.n_params, knob_buf, knobs, "game %s" % _name(t.name))
    mt = lib.otg_minimax_type_by_name(str(method).encode())
    check_ptr(mt, "game: method: ")
    mp = ffi.new("otg_minimax_params *", lib.otg_minimax_params_default())
    mp.lr, mp.optimism, mp.opt_exp = lr, optimism, q
    mp.gamma, mp.scale, mp.refresh = gamma, scale, refresh
    if not lib.otg_minimax_type_uses_lr(mt):
        mp.p = 2.0 / 3.0 if p is None else p
    else:
        mp.lr_exp = 0.0 if p is None else p
    for key, v in (("steps", steps), ("repeat", repeat), ("seed", seed), ("refresh", refresh)):
        if not isinstance(v, numbers.Integral) or v < 0:
            raise ValueError("game: %s: expected a non-negative integer, got %r" % (key, v))
    if every is None:
        every = steps // t.max_rows if t.max_rows and steps >= 2 * t.max_rows else 1
    _set_threads(threads)
    g = check_ptr(lib.otg_game_new(t, knob_buf, seed, float(noise)), "game: %s: " % game)
    g = ffi.gc(g, lib.otg_game_free)

    @ffi.callback("void(void *, int, int64_t, uint64_t)")
    def on_diverge(user, rep, k, s):
        warnings.warn("otgen game: %s diverged at step %d (seed %d): %s"
                      % (method, k, s, _name(lib.otg_last_error())))

    opts = ffi.new("otg_game_study_opts *", {
        "steps": steps, "every": every, "repeat": repeat, "seed": seed, "init": float(init),
        "on_diverge": on_diverge})
    res = ffi.new("otg_game_study *")
    try:
        st = lib.otg_game_study_run(g, mt, mp, opts, res)
        if st != lib.OTG_OK:
            raise exception(st, "game: ")
        return _game_columns(g, res)
    finally:
        lib.otg_game_study_free(res)


def _game_columns(g, res):
    rows = res.rows
    out = {"step": np.array([res.steps[r] for r in range(rows)], dtype=np.int64)}
    if lib.otg_game_samples_per_call(g) > 0:
        out["samples"] = np.array([res.samples[r] for r in range(rows)], dtype=np.int64)
    zs = ffi.new("double[]", int(lib.otg_game_nx(g) + lib.otg_game_ny(g)))
    saddle = lib.otg_game_saddle(g, zs)
    cols = ["grad_sq", "dist", "loss"] + [
        _name(lib.otg_game_metric_name(g, c)) for c in range(lib.otg_game_n_metrics(g))]
    mean, se = ffi.new("double *"), ffi.new("double *")
    for c, name in enumerate(cols):
        m, s = np.empty(rows), np.empty(rows)
        for r in range(rows):
            lib.otg_series_stats_get(res.stats, c, r, mean, se)
            m[r], s[r] = mean[0], se[0]
        if name == "dist" and not saddle:
            m[:], s[:] = np.nan, np.nan
        out[name], out[name + "_se"] = m, s
    out["diverged_at"] = int(res.diverged_at)
    return out


def particles(problem, m=32, m0=3, d=2, steps=0, lr=0.0, seed=1, n=0, batch=256,
              inputs="gaussian", init="spread", r0=0.0, K=7, log_every=0, lambda_=0.0,
              threads=None, **kwargs):
    """A mean-field particle gradient flow, as `otgen particles` (a single run, no --sweep-m; no
    files written): m particles of ``problem`` ("relu2", "sigmoid2", "deconv"), forward Euler
    steps of lr (0: the problem's defaults), an objective row every log_every steps (0: about 200
    rows). The regulariser weight is ``lambda_`` (``lambda`` is a Python keyword; it is accepted
    as lambda_ or through ``**{"lambda": x}``).

    Returns {"step", "objective", "excess"} as NumPy arrays (the rows of the CLI's metrics.csv;
    excess NaN when F* is unknown) and "particles", the final particles (m, dim) float32."""
    if "lambda" in kwargs:
        lambda_ = kwargs.pop("lambda")
    if kwargs:
        raise ValueError("particles: unknown option '%s'" % sorted(kwargs)[0])
    t = check_ptr(lib.otg_particles_type_by_name(str(problem).encode()), "particles: problem: ")
    if inputs not in ("gaussian", "sphere"):
        raise ValueError("particles: inputs: '%s': gaussian or sphere" % (inputs,))
    if init not in ("spread", "point"):
        raise ValueError("particles: init: '%s': spread or point" % (init,))
    for key, v in (("m", m), ("m0", m0), ("d", d), ("steps", steps), ("seed", seed), ("n", n),
                   ("batch", batch), ("K", K), ("log_every", log_every)):
        if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 0:
            raise ValueError("particles: %s: expected a non-negative integer, got %r" % (key, v))
    pp = ffi.new("otg_particles_params *", lib.otg_particles_params_default())
    pp.d, pp.m0, pp.n = d, m0, n
    setattr(pp, "lambda", float(lambda_))  # a Python keyword as a field name
    pp.batch = min(batch, n) if n > 0 else batch
    pp.inputs = lib.OTG_PARTICLES_X_SPHERE if inputs == "sphere" else lib.OTG_PARTICLES_X_GAUSSIAN
    pp.init = lib.OTG_PARTICLES_INIT_POINT if init == "point" else lib.OTG_PARTICLES_INIT_SPREAD
    pp.r0, pp.kernel_order, pp.seed = float(r0), K, seed
    ro = ffi.new("otg_particles_run_opts *", lib.otg_particles_run_opts_default(t))
    if steps:
        ro.steps = steps
    if lr:
        ro.lr = float(lr)
    ro.log_every = log_every
    _set_threads(threads)
    s = ffi.gc(check_ptr(lib.otg_particles_new(t, pp, m), "particles: "), lib.otg_particles_free)
    rows = []

    @ffi.callback("void(void *, const otg_particles_row *)")
    def on_row(user, row):
        rows.append((row.step, row.objective, row.excess))

    hooks = ffi.new("otg_particles_hooks *", {"on_row": on_row})
    res = ffi.new("otg_particles_result *")
    st = lib.otg_particles_run(s, ro, hooks, res)
    if st != lib.OTG_OK:
        raise exception(st, "particles: ")
    dim = int(lib.otg_particles_dim(s))
    u = np.frombuffer(ffi.buffer(lib.otg_particles_data(s), 4 * m * dim), dtype=np.float32)
    return {"step": np.array([r[0] for r in rows], dtype=np.int64),
            "objective": np.array([r[1] for r in rows]),
            "excess": np.array([r[2] for r in rows]),
            "particles": u.reshape(m, dim).copy()}
