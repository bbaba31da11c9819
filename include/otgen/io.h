/* otgen io: arrays in and out as NPY files (v1/v2/v3 headers, little-endian float32/float64,
 * C order). Reading validates everything and never half-loads; writing is atomic and refuses to
 * overwrite unless asked. */
#ifndef OTGEN_IO_H
#define OTGEN_IO_H

#include "otgen/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads an NPY file of 1 to 4 dimensions into a new float32 tensor (float64 is converted).
 * A 0-d or empty array is refused. With require_finite, NaN/Inf entries are refused
 * (OTG_ENONFINITE, naming the file and the element). Errors name the file and the problem:
 * OTG_EIO (cannot open/read), OTG_EFORMAT (bad magic, header, dtype, Fortran order, shape not
 * matching the file size). On error *out is NULL. */
otg_status otg_npy_read(const char *path, int require_finite, otg_tensor **out);

/* Writes t as a v1.0 NPY file of little-endian float32 ('<f4'), C order. Written to a temporary
 * file in the same directory, flushed to disk, then renamed, so a reader never sees a partial
 * file. Refuses (OTG_EIO) to replace an existing file unless overwrite is nonzero. */
otg_status otg_npy_write(const char *path, const otg_tensor *t, int overwrite);

#ifdef __cplusplus
}
#endif
#endif
