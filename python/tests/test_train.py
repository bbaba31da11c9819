"""Trainer, train(), game() and particles() against the CLI."""
import csv
import subprocess

import numpy as np
import pytest

import otgen

SMALL = dict(data="moons", steps=60, batch=64, hidden="32,32", val_every=20, val_n=128,
             checkpoint_every=20, projections=16)


def read_csv(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def test_trainer_resume_is_bit_identical(tmp_path):
    t = otgen.Trainer(threads=1, **SMALL)
    rows = [t.step() for _ in range(5)]
    assert rows[-1]["step"] == 5 and set(rows[0]) >= {"loss", "grad_norm", "sort_ties"}
    assert np.isnan(rows[0]["val_sw"])
    assert t.validate() > 0
    path = tmp_path / "c.otg"
    t.save(path)
    after = [t.step() for _ in range(4)]
    u = otgen.Trainer.load(path)
    assert u.steps_done == 5 and u.config["hidden"] == "32,32"
    again = [u.step() for _ in range(4)]
    np.testing.assert_equal(after, again)  # NaN val_sw compares equal here
    assert np.array_equal(t.params, u.params)
    s = u.sample(10, seed=2)
    assert s.shape == (10, 2) and s.dtype == np.float32
    assert np.array_equal(s, u.sample(10, seed=2))
    assert not np.array_equal(s, u.sample(10, seed=3))
    # sampling does not touch the training streams
    np.testing.assert_equal(u.step(), t.step())


def test_trainer_bad_options(tmp_path):
    with pytest.raises(ValueError, match="unknown option 'bogus'"):
        otgen.Trainer(bogus=1)
    with pytest.raises(ValueError, match="lr"):
        otgen.Trainer(lr=-1.0)
    with pytest.raises(ValueError, match="steps"):
        otgen.Trainer(steps="many")
    with pytest.raises(ValueError, match="--data"):
        otgen.Trainer(data="no-such-law")
    with pytest.raises(ValueError, match="hidden"):
        otgen.Trainer(hidden=[0])
    with pytest.raises(otgen.Error, match="missing.otg"):
        otgen.Trainer.load(tmp_path / "missing.otg")
    with pytest.raises(ValueError, match="n"):
        otgen.Trainer(**SMALL).sample(0)
    with pytest.raises(ValueError, match="not conditional"):
        otgen.Trainer(**SMALL).sample(4, label=1)
    with pytest.raises(ValueError, match="label"):
        otgen.Trainer(**SMALL).sample(4, label=-2)


def test_train_run_dir_matches_cli(tmp_path, otgen_binary):
    # schedule constant: the run is extended to 70 steps below, the same as a 70-step run only for
    # a schedule that does not depend on steps (the default, wsd, does)
    opts = dict(SMALL, steps=50, seed=3, schedule="constant")
    py_dir, cli_dir = tmp_path / "py", tmp_path / "cli"
    m = otgen.train(out=py_dir, threads=1, **opts)
    flags = [a for k, v in opts.items() for a in ("--" + k.replace("_", "-"), str(v))]
    subprocess.run([otgen_binary, "train", *flags, "--threads", "1", "--out", str(cli_dir)],
                   check=True, capture_output=True)
    for f in ("checkpoint.otg", "config.json"):
        assert (py_dir / f).read_bytes() == (cli_dir / f).read_bytes(), f
    (h1, r1), (h2, r2) = read_csv(py_dir / "metrics.csv"), read_csv(cli_dir / "metrics.csv")
    ti = h1.index("time_s")
    assert h1 == h2 and [r[:ti] + r[ti + 1:] for r in r1] == [r[:ti] + r[ti + 1:] for r in r2]
    assert list(m["step"]) == [int(r[0]) for r in r1]
    assert np.isnan(m["loss"][0]) and m["loss"][-1] == pytest.approx(float(r1[-1][2]), rel=1e-8)
    with pytest.raises(FileExistsError):
        otgen.train(out=py_dir, **opts)
    # resume to 70 steps == a fresh 70-step run
    otgen.train(out=py_dir, resume=True, steps=70, threads=1)
    otgen.train(out=tmp_path / "full", threads=1, **dict(opts, steps=70))
    assert (py_dir / "checkpoint.otg").read_bytes() == (tmp_path / "full" /
                                                        "checkpoint.otg").read_bytes()
    with pytest.raises(ValueError, match="resumed run"):
        otgen.train(out=py_dir, resume=True, lr=0.1)


def test_game_matches_cli(tmp_path, otgen_binary):
    g = otgen.game(game="bilinear", method="extragradient", steps=200, repeat=3, noise=0.1,
                   seed=4)
    subprocess.run([otgen_binary, "game", "--game", "bilinear", "--method", "extragradient",
                    "--steps", "200", "--repeat", "3", "--noise", "0.1", "--seed", "4", "--out",
                    str(tmp_path)], check=True, capture_output=True)
    head, rows = read_csv(tmp_path / "metrics.csv")
    assert [c for c in head if c in g] == head and len(g["step"]) == len(rows)
    for j, name in enumerate(head):
        col = np.array([float(r[j]) if r[j] else np.nan for r in rows])
        np.testing.assert_allclose(g[name], col, rtol=1e-9, equal_nan=True, err_msg=name)
    with pytest.raises(ValueError, match="method"):
        otgen.game(method="nope")
    with pytest.raises(ValueError, match="game"):
        otgen.game(game="nope")
    with pytest.raises(ValueError, match="unknown option 'zzz'"):
        otgen.game(game="bilinear", zzz=1)
    with pytest.raises(ValueError):
        otgen.game(steps=0)


def test_particles_matches_cli(tmp_path, otgen_binary):
    r = otgen.particles("relu2", m=16, steps=100, seed=2, log_every=10)
    subprocess.run([otgen_binary, "particles", "--problem", "relu2", "--m", "16", "--steps",
                    "100", "--seed", "2", "--log-every", "10", "--out", str(tmp_path)],
                   check=True, capture_output=True)
    head, rows = read_csv(tmp_path / "metrics.csv")
    assert head == ["step", "objective", "excess"]
    assert list(r["step"]) == [int(x[0]) for x in rows]
    np.testing.assert_allclose(r["objective"], [float(x[1]) for x in rows], rtol=1e-8)
    u = np.load(tmp_path / "particles.npy")
    assert np.array_equal(u, r["particles"])
    with pytest.raises(ValueError, match="problem"):
        otgen.particles("nope")
    with pytest.raises(ValueError, match="unknown option"):
        otgen.particles("relu2", mm=3)
    assert np.isnan(otgen.particles("relu2", m=4, steps=5, **{"lambda": 0.1})["excess"]).all()
