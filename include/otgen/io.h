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
OTG_NODISCARD otg_status otg_npy_read(const char *path, int require_finite, otg_tensor **out);
/* As otg_npy_read; when the file holds float64 ('<f8') and f64 is not NULL, *f64 also receives
 * the values as read [numel] (malloc'ed, the caller frees; NULL for a float32 file or on error),
 * for callers that keep double precision (otgen sw centres float64 clouds before rounding). */
OTG_NODISCARD otg_status otg_npy_read_f64(const char *path, int require_finite, otg_tensor **out,
                                          double **f64);
/* float64 exactness for translation-invariant distances (SW, its gradient, the energy distance):
 * when some f64[c] is not NULL, every t[c] (rows along its last dimension d, the same for all k)
 * is overwritten with its values minus mu, rounded to float32, where mu[d] is the mean of all rows
 * of all k clouds summed in double in order (f64[c] [numel of t[c]] as from otg_npy_read_f64, or
 * t[c]'s floats where f64[c] is NULL). Only the rounding changes: data far from the origin
 * (1e6 + 0.1 N(0, 1)) keep their digits instead of float32's 0.06. otgen sw, energy and eval do
 * it. *shifted (may be NULL) = 1 when it shifted, 0 when every f64[c] is NULL (t untouched).
 * f64 is not freed. OTG_EINVAL on NULL arguments, k < 1 or differing last dimensions;
 * OTG_ENOMEM. */
OTG_NODISCARD otg_status otg_clouds_centre_f64(otg_tensor *const *t, const double *const *f64,
                                               int k, int *shifted);

/* Writes t as a v1.0 NPY file of little-endian float32 ('<f4'), C order. Written to a temporary
 * file in the same directory, flushed to disk, then renamed, so a reader never sees a partial
 * file. Refuses (OTG_EIO) to replace an existing file unless overwrite is nonzero. */
OTG_NODISCARD otg_status otg_npy_write(const char *path, const otg_tensor *t, int overwrite);
/* The same for double data [shape] (ndim 1 to 4) as float64 ('<f8'): otgen sw --pairwise. */
OTG_NODISCARD otg_status otg_npy_write_f64(const char *path, const double *data, int ndim,
                                           const int64_t *shape, int overwrite);

/* ---- checkpoints (.otg) ---------------------------------------------------------------------
 * Layout: "OTGCKPT\0", uint32 version (1), uint32 header length, the JSON header (model spec,
 * step, RNG counters, ... as the caller writes it), uint64 n_params, float params[n_params],
 * uint64 n_state, float state[n_state], uint32 CRC-32 (zlib) of every byte before it. All
 * integers little-endian. */

typedef struct {
    char *header;  /* NUL-terminated JSON text */
    float *params; /* [n_params] */
    int64_t n_params;
    float *state; /* [n_state] (optimiser state) */
    int64_t n_state;
} otg_checkpoint;

/* Writes a checkpoint atomically: temporary file in the same directory, fsync, rename over path
 * (an existing checkpoint is replaced only by a complete new one). */
OTG_NODISCARD otg_status otg_checkpoint_write(const char *path, const char *header,
                                              const float *params, int64_t n_params,
                                              const float *state, int64_t n_state);
/* Reads and fully validates a checkpoint (magic, version, lengths against the file size, CRC,
 * finite parameters); on any failure nothing is returned and the reason names the file. */
OTG_NODISCARD otg_status otg_checkpoint_read(const char *path, otg_checkpoint *out);
void otg_checkpoint_release(otg_checkpoint *c);

/* Writes text to path atomically (temporary file, fsync, rename); refuses to replace an existing
 * file unless overwrite is set. */
OTG_NODISCARD otg_status otg_write_file_atomic(const char *path, const char *text, size_t len,
                                               int overwrite);

/* Reads the whole file at path (regular file, pipe or device) into a new NUL-terminated buffer
 * *text (caller frees) of *len bytes. OTG_EIO naming the path when it cannot be opened or read,
 * OTG_EFORMAT when it holds more than max_bytes (0: no limit), OTG_ENOMEM; *text is NULL on error.
 */
OTG_NODISCARD otg_status otg_file_read(const char *path, size_t max_bytes, char **text,
                                       size_t *len);
/* Creates dir and its missing parents (mode 0755), as `mkdir -p`; an existing directory is fine.
 * OTG_EIO naming the path and the reason otherwise. */
OTG_NODISCARD otg_status otg_mkdir_p(const char *dir);

/* ---- run-directory locks -------------------------------------------------------------------
 * One writer per run directory: an exclusive flock on dir/.otgen.lock (the file records the
 * holder's pid and is left in place), released by otg_dir_lock_release or when the process
 * ends, however it ends. Re-entrant within a process (a second acquire of the same directory
 * counts up). */
typedef struct otg_dir_lock otg_dir_lock;
/* OTG_EINVAL naming the holder's pid when another process holds dir's lock; OTG_EIO when the
 * lock file cannot be created. dir must exist. */
OTG_NODISCARD otg_status otg_dir_lock_acquire(const char *dir, otg_dir_lock **out);
/* Accepts NULL. */
void otg_dir_lock_release(otg_dir_lock *l);
/* Removes the temporary files NAME.tmp.PID that interrupted atomic writes of other processes
 * left in dir (call it holding dir's lock); returns how many. */
int otg_remove_stale_temps(const char *dir);

#ifdef __cplusplus
}
#endif
#endif
