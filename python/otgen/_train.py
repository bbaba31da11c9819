"""The training run of `otgen train` from Python: otgen.Trainer and otgen.train."""
import json
import numbers
import os
import warnings

import numpy as np

from ._lib import Error, check, check_ptr, exception, ffi, fptr, lib

__all__ = ["Trainer", "train"]

_ROW_FIELDS = ["step", "loss", "val_sw", "grad_norm", "lr", "kinks", "relu_kinks", "sort_ties",
               "loss_stderr", "time_s"]


def _param_text(key, value):
    """A Python value as the text the CLI flag would take."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ",".join(str(int(v)) for v in value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    if isinstance(value, (str, os.PathLike)):
        return os.fspath(value)
    raise ValueError("%s: unsupported value %r" % (key, value))


def _apply_params(defs, n, obj, kwargs, what):
    """Sets the fields of obj from keyword arguments through the library's option table (the
    same parsing and range checks as the command-line flags). ValueError naming the key."""
    names = [ffi.string(defs[i].name).decode() for i in range(n)]
    for key, value in kwargs.items():
        flag = key.replace("_", "-")
        i = lib.otg_params_find(defs, n, flag.encode())
        if i < 0:
            raise ValueError("%s: unknown option '%s' (options: %s)" % (what, key, ", ".join(
                s.replace("-", "_") for s in names)))
        st = lib.otg_param_set_text(ffi.addressof(defs[i]), obj,
                                    _param_text(key, value).encode())
        if st != lib.OTG_OK:
            raise exception(st, "%s: %s: " % (what, key))


def _config(kwargs):
    c = ffi.new("otg_train_config *", lib.otg_train_config_default())
    n = ffi.new("int *")
    defs = lib.otg_train_config_params(n)
    _apply_params(defs, n[0], c, kwargs, "train")
    return c


def _row_dict(row):
    return {f: getattr(row, f) for f in _ROW_FIELDS}


def _set_threads(threads):
    if threads is not None:
        if not 0 <= int(threads) <= 1024:
            raise ValueError("threads: expected 0..1024 (0 = all cores), got %r" % (threads,))
        lib.otg_threads_set(int(threads))


class Trainer:
    """The trainer of `otgen train` (otg_trainer): ``Trainer(data="moons", steps=300)``.

    Keyword arguments are the options of `otgen train` with ``_`` for ``-``
    (``checkpoint_every=100``, ``hidden="512,512"`` or ``hidden=[512, 512]``), parsed and
    range-checked by the library's option table: an unknown key or a bad value raises ValueError
    naming it. ``threads`` (optional) calls otgen.set_threads first (results do not depend on
    it). Building opens the data, initialises the generator and draws the validation set."""

    def __init__(self, threads=None, **config):
        _set_threads(threads)
        c = _config(config)
        self._t = check_ptr(lib.otg_trainer_new(c), "train: ")
        self._t = ffi.gc(self._t, lib.otg_trainer_free)

    @classmethod
    def load(cls, path, threads=None):
        """Rebuilds a trainer from a checkpoint written by save() or `otgen train` (its config
        and state: the next step is bit-identical to the uninterrupted run's)."""
        _set_threads(threads)
        out = ffi.new("otg_trainer **")
        st = lib.otg_trainer_load(os.fspath(path).encode(), out)
        if st != lib.OTG_OK:
            raise exception(st)
        self = cls.__new__(cls)
        self._t = ffi.gc(out[0], lib.otg_trainer_free)
        return self

    def step(self):
        """One training step; returns its metrics row as a dict (step, loss, val_sw = NaN,
        grad_norm, lr, kinks, relu_kinks, sort_ties, loss_stderr, time_s = 0). A diverged step
        (non-finite loss or gradient) raises otgen.Error and is not applied."""
        row = ffi.new("otg_train_row *")
        st = lib.otg_trainer_step(self._t, row)
        if st == lib.OTG_ENONFINITE:
            raise Error("train: " + ffi.string(lib.otg_last_error()).decode(), "OTG_ENONFINITE")
        check(st)
        return _row_dict(row)

    def validate(self):
        """SW_p between generated samples of the fixed validation latents and the held-out
        points along the fixed validation directions (feeds the plateau schedule)."""
        v = ffi.new("double *")
        check(lib.otg_trainer_validate(self._t, v))
        return v[0]

    def save(self, path):
        """Writes a checkpoint (atomically) that Trainer.load and `otgen sample` read."""
        check(lib.otg_trainer_save(self._t, os.fspath(path).encode()))

    def sample(self, n, seed=0, label=None):
        """n samples of the generator, a float32 array (n, dim): the same numbers as
        `otgen sample --seed SEED [--class LABEL]` (latents from stream (seed, 1)); the training
        streams are untouched. label: a conditional generator's class (a data label) for every
        row; None draws each row's class as the training labels do."""
        if not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError("n: expected an integer >= 1, got %r" % (n,))
        if not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError("seed: expected a non-negative integer, got %r" % (seed,))
        if label is not None and (not isinstance(label, numbers.Integral) or label < 0):
            raise ValueError("label: expected None or a non-negative integer, got %r" % (label,))
        out = np.empty((int(n), self.dim), dtype=np.float32)
        k = -1 if label is None else int(label)
        check(lib.otg_trainer_sample_class(self._t, int(seed), int(n), k, fptr(out)))
        return out

    @property
    def dim(self):
        """Dimension of a generated point."""
        return int(lib.otg_trainer_dim(self._t))

    @property
    def steps_done(self):
        """Steps applied so far."""
        return int(lib.otg_trainer_steps_done(self._t))

    @property
    def params(self):
        """A copy of the generator's flat float32 parameters."""
        n = ffi.new("int64_t *")
        p = lib.otg_trainer_params(self._t, n)
        return np.frombuffer(ffi.buffer(p, 4 * n[0]), dtype=np.float32).copy()

    @property
    def config(self):
        """The resolved config (latent, output and steps as used) as a dict."""
        s = lib.otg_train_config_to_json(lib.otg_trainer_config(self._t))
        if s == ffi.NULL:
            raise MemoryError("train: out of memory")
        try:
            d = json.loads(ffi.string(s).decode())
        finally:
            lib.free(s)
        return {k.replace("-", "_"): v for k, v in d.items() if k not in ("version", "resolved")}


def train(out, resume=False, force=False, threads=None, **config):
    """Runs `otgen train` in the directory ``out``: writes config.json, metrics.csv/.jsonl,
    checkpoint.otg, samples.png and loss.png exactly as the command does with the same options
    (otg_train_run), and returns the metrics as a dict of NumPy columns (step, time_s, loss,
    ...).

    Like the command, an existing run (out/config.json) is refused unless force=True;
    resume=True continues the run in ``out`` from its checkpoint (only ``steps`` may be given
    then). ``threads`` as for Trainer (the command's default is 0, all cores). Bad options raise
    ValueError naming the key; a diverged run raises otgen.Error."""
    out = os.fspath(out)
    if resume:
        extra = set(config) - {"steps"}
        if extra:
            raise ValueError("train: %s: a resumed run keeps its options (only steps may change)"
                             % sorted(extra)[0])
        try:
            with open(os.path.join(out, "config.json"), "rb") as f:
                text = f.read()
        except OSError as e:
            raise Error("train: %s: %s" % (out, e), "OTG_EIO") from e
        c = ffi.new("otg_train_config *", lib.otg_train_config_default())
        check(lib.otg_train_config_from_json(text, c), "train: %s/config.json: " % out)
        n = ffi.new("int *")
        _apply_params(lib.otg_train_config_params(n), n[0], c, config, "train")
    else:
        if os.path.exists(os.path.join(out, "config.json")) and not force:
            raise FileExistsError("train: %s: a run exists there (pass force=True to overwrite, "
                                  "resume=True to continue)" % out)
        c = _config(config)
    _set_threads(threads)
    t = ffi.gc(check_ptr(lib.otg_trainer_new(c), "train: "), lib.otg_trainer_free)
    rows = []

    @ffi.callback("void(void *, const otg_train_row *)")
    def on_row(user, row):
        rows.append(_row_dict(row))

    @ffi.callback("void(void *, const char *)")
    def on_warning(user, msg):
        warnings.warn("otgen train: " + ffi.string(msg).decode())

    hooks = ffi.new("otg_train_hooks *", {"on_row": on_row, "on_warning": on_warning})
    st = lib.otg_train_run(t, out.encode(), 1 if resume else 0, hooks)
    if st == lib.OTG_ENONFINITE:
        raise Error("train: " + ffi.string(lib.otg_last_error()).decode(), "OTG_ENONFINITE")
    check(st, "train: ")
    return {f: np.array([r[f] for r in rows]) for f in _ROW_FIELDS}
