import os

import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(12)


@pytest.fixture
def otgen_binary():
    """The CLI of this build (ctest sets OTGEN_BINARY); tests comparing with it skip without."""
    path = os.environ.get("OTGEN_BINARY") or os.path.join(
        os.path.dirname(__file__), "..", "..", "build", "otgen")
    if not os.path.exists(path):
        pytest.skip("the otgen CLI is not built (set OTGEN_BINARY)")
    return path


def pot():
    """POT, or a skip (CI installs python3-pot through scripts/install-deps.sh --cross)."""
    return pytest.importorskip("ot", reason="POT (python3-pot) is not installed")
