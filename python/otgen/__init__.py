"""otgen from Python: POT-compatible Sliced-Wasserstein functions over otgen's fused float32
kernel, a PyTorch loss (otgen.torch), and the training run, games and particle flows of the
otgen CLI. A cffi (ABI mode) binding of libotgen.so; see docs/python.md.

Arrays: C-contiguous float32 NumPy arrays are passed without a copy; other dtypes and layouts
are converted to float32 once (float64 point clouds after a shift by their common mean, computed
in float64, which leaves the distances unchanged but keeps the digits of offset data). The GIL is released during every library call. Errors: ValueError
for bad input, MemoryError, otgen.Error otherwise, each with the library's message."""
from ._lib import Error, ffi, lib, LIBRARY_PATH
from ._sliced import (energy_distance, get_random_projections, max_sliced_wasserstein_distance,
                      sliced_wasserstein_distance, sliced_wasserstein_pairwise, sw_value_and_grad,
                      wasserstein_1d)
from ._train import Trainer, train
from ._systems import game, particles

__version__ = ffi.string(lib.otg_version()).decode()

__all__ = ["Error", "LIBRARY_PATH", "sliced_wasserstein_distance", "max_sliced_wasserstein_distance",
           "sw_value_and_grad", "sliced_wasserstein_pairwise", "wasserstein_1d",
           "get_random_projections", "energy_distance",
           "Trainer", "train",
           "game", "particles", "set_threads", "get_threads", "__version__"]


def set_threads(n):
    """Sets the threads of otgen's OpenMP loops and OpenBLAS (one shared pool) for every later
    call (otg_threads_set); n <= 0 selects the number of cores. Results do not depend on it."""
    if int(n) > 1024:
        raise ValueError("threads: at most 1024, got %d" % int(n))
    lib.otg_threads_set(int(n))


def get_threads():
    """The current thread count of otgen's calls (otg_threads_get)."""
    return int(lib.otg_threads_get())
