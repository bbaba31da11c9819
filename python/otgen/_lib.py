"""Loading libotgen.so, statuses to exceptions, and array conversion (internal)."""
import os
import threading

import numpy as np

try:
    from ._ffi import ffi
except ImportError as e:  # pragma: no cover - the build step has not run
    raise ImportError(
        "otgen: python/otgen/_ffi.py is missing: run `make` at the repository root (it generates "
        "the cffi binding from include/otgen/*.h)") from e


class Error(RuntimeError):
    """A libotgen failure that is not bad input or memory (I/O, format, divergence, ...).

    ``status`` holds the library's status name ("OTG_EIO"), ``str(e)`` its message."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


def _find_library():
    env = os.environ.get("OTGEN_LIB")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.path.join(here, "libotgen.so.0"), os.path.join(here, "libotgen.so"),
                  # the source tree: python/otgen -> build/libotgen.so
                  os.path.join(here, "..", "..", "build", "libotgen.so")]
    try:  # an installed package (cmake/install.cmake writes _libpath.py)
        from ._libpath import LIBDIR
        candidates.insert(0, os.path.join(here, LIBDIR, "libotgen.so.0"))
    except ImportError:
        pass
    for c in candidates:
        if os.path.exists(c):
            return os.path.normpath(c)
    return "libotgen.so.0"  # the dynamic linker's search path (an installed libotgen)


LIBRARY_PATH = _find_library()
try:
    lib = ffi.dlopen(LIBRARY_PATH)
except OSError as e:
    raise ImportError("otgen: cannot load %s (%s); set OTGEN_LIB to the path of libotgen.so"
                      % (LIBRARY_PATH, e)) from e

_BAD_INPUT = {lib.OTG_EINVAL, lib.OTG_ESHAPE, lib.OTG_ENONFINITE}


def last_error():
    return ffi.string(lib.otg_last_error()).decode("utf-8", "replace")


def exception(status, prefix=""):
    """The Python exception for a failed status, carrying otg_last_error()."""
    msg = last_error() or ffi.string(lib.otg_status_name(status)).decode()
    msg = msg if msg.startswith(prefix) else prefix + msg
    if status == lib.OTG_ENOMEM:
        return MemoryError(msg)
    if status in _BAD_INPUT:
        return ValueError(msg)
    return Error(msg, ffi.string(lib.otg_status_name(status)).decode())


def check(status, prefix=""):
    if status != lib.OTG_OK:
        raise exception(status, prefix)


def check_ptr(ptr, prefix=""):
    """A NULL from a constructor is bad input unless the message says otherwise."""
    if ptr == ffi.NULL:
        msg = last_error() or "invalid argument"
        prefix = "" if msg.startswith(prefix) else prefix
        if "out of memory" in msg:
            raise MemoryError(prefix + msg)
        raise ValueError(prefix + msg)
    return ptr


# ---- arrays -------------------------------------------------------------------------------------

def as_f32(x, name, ndim=None):
    """x as a C-contiguous float32 ndarray: no copy when it already is one; one conversion
    otherwise (float64, other real dtypes, non-contiguous views, lists). Raises ValueError on
    complex/object/string data or the wrong number of dimensions."""
    a = np.asarray(x)
    if a.dtype.kind not in "fiub":
        raise ValueError("%s: expected a real array, got dtype %s" % (name, a.dtype))
    if ndim is not None and a.ndim != ndim:
        raise ValueError("%s: expected a %d-D array, got shape %s" % (name, ndim, a.shape))
    return np.ascontiguousarray(a, dtype=np.float32)


def out_dtype(*arrays):
    """The dtype results are returned in: float64 if any input is float64 (or not floating),
    float32 otherwise -- what NumPy (hence POT) would compute in."""
    for a in arrays:
        if a is None:
            continue
        dt = np.asarray(a).dtype
        if dt != np.float32 and dt != np.float16:
            return np.float64
    return np.float32


def fptr(a):
    """float * into a C-contiguous float32 array (zero-copy)."""
    return ffi.cast("float *", ffi.from_buffer(a))


def tensor(a):
    """An otg_tensor view (cdata owning nothing) of a C-contiguous float32 array; keep `a` alive."""
    t = ffi.new("otg_tensor *")
    t.data = fptr(a)
    t.ndim = a.ndim
    for i, s in enumerate(a.shape):
        t.shape[i] = s
    return t


def check_finite(name, a):
    if not np.isfinite(a).all():
        raise ValueError("%s: contains NaN or Inf" % name)


_local = threading.local()


def workspace():
    """This thread's reusable SW workspace (buffers grow to the largest problem seen)."""
    ws = getattr(_local, "ws", None)
    if ws is None:
        ws = ffi.gc(check_ptr(lib.otg_sw_workspace_new()), lib.otg_sw_workspace_free)
        _local.ws = ws
    return ws
