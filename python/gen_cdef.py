#!/usr/bin/python3
"""Generates otgen's cffi binding (out-of-line ABI mode) from the public headers.

    gen_cdef.py INCLUDE_DIR OUT_DIR [CC]

Runs the C preprocessor on the headers the Python package binds, with the system headers replaced
by empty ones (stddef/stdint types are cffi built-ins, so no system declaration reaches the
cdef) and __attribute__ (hence OTG_NODISCARD) neutralised; C++'s extern "C" is not seen since
__cplusplus is undefined. Writes OUT_DIR/_cdef.h (the declarations, for reference and
diffing; plus libc's free, for the strings the library returns) and OUT_DIR/_ffi.py (the module cffi's ffibuilder.compile() emits for
set_source(name, None): an FFI object with the declarations, no compiler involved at install
or import). Both files are written atomically and only when their content changes, so
concurrent or repeated builds leave them alone."""
import contextlib
import io
import os
import re
import subprocess
import sys
import tempfile

HEADERS = ["core.h", "ot.h", "train.h", "study.h", "games.h", "minimax.h", "particles.h"]
SYSTEM = ["stddef.h", "stdint.h"]


def preprocess(include_dir, cc):
    with tempfile.TemporaryDirectory() as tmp:
        for h in SYSTEM:  # empty stand-ins: the types are cffi's own
            open(os.path.join(tmp, h), "w").close()
        src = os.path.join(tmp, "all.c")
        with open(src, "w") as f:
            for h in HEADERS:
                f.write('#include "otgen/%s"\n' % h)
        out = subprocess.run(
            [cc, "-E", "-P", "-nostdinc", "-undef", "-std=c11", "-I", tmp, "-I", include_dir,
             "-D__attribute__(x)=", "-D__GNUC__=0", src],
            check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout
    text = "\n".join(line for line in out.splitlines() if line.strip())
    # pycparser does not know C11's keywords that may appear in declarations.
    text = re.sub(r"\b_Noreturn\b", "", text)
    # Strings the library allocates (otg_train_config_to_json, ...) are released with libc's
    # free, found through libotgen.so's dependencies.
    return text + "\nvoid free(void *);\n"


def write_if_changed(path, text):
    try:
        with open(path) as f:
            if f.read() == text:
                os.utime(path)  # up to date for make
                return
    except OSError:
        pass
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    include_dir, out_dir = sys.argv[1], sys.argv[2]
    cc = sys.argv[3] if len(sys.argv) == 4 else os.environ.get("CC", "cc")
    cdef = preprocess(include_dir, cc)
    import cffi

    builder = cffi.FFI()
    builder.cdef(cdef)  # parse errors surface here, at build time
    builder.set_source("otgen._ffi", None)
    with tempfile.TemporaryDirectory() as tmp:
        with contextlib.redirect_stdout(io.StringIO()):  # cffi prints "generating ..."
            builder.emit_python_code(os.path.join(tmp, "_ffi.py"))
        with open(os.path.join(tmp, "_ffi.py")) as f:
            module = f.read()
    os.makedirs(out_dir, exist_ok=True)
    write_if_changed(os.path.join(out_dir, "_cdef.h"), cdef)
    write_if_changed(os.path.join(out_dir, "_ffi.py"), module)


if __name__ == "__main__":
    main()
