/* NPY writer (and the public reader, whose code is in core). Format: "\x93NUMPY", major, minor,
 * header length (uint16 for v1, uint32 for v2/v3), then an ASCII dict {'descr': '<f4',
 * 'fortran_order': False, 'shape': (n, d), } padded with spaces to a 16- (v1: 64-) byte boundary
 * and a newline, then the raw data. */
#define _POSIX_C_SOURCE 200809L
#include "io_internal.h"
#include "otgen/io.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The reader lives in core (src/core/npy_read.c) so that every module may read NPY files without
 * depending on io; this is its public face. */
otg_status otg_npy_read(const char *path, int require_finite, otg_tensor **out) {
    return otgi_npy_read(path, require_finite, out);
}

otg_status otg_npy_read_f64(const char *path, int require_finite, otg_tensor **out, double **f64) {
    return otgi_npy_read_f64(path, require_finite, out, f64);
}

otg_status otg_clouds_centre_f64(otg_tensor *const *t, const double *const *f64, int k,
                                 int *shifted) {
    if (shifted) *shifted = 0;
    if (!t || !f64 || k < 1) return otgi_fail(OTG_EINVAL, "clouds_centre_f64: bad argument");
    int wide = 0;
    for (int c = 0; c < k; c++) {
        if (!t[c] || t[c]->ndim < 1 || t[c]->shape[t[c]->ndim - 1] != t[0]->shape[t[0]->ndim - 1])
            return otgi_fail(OTG_EINVAL,
                             "clouds_centre_f64: cloud %d: no tensor or another "
                             "dimension",
                             c);
        wide |= f64[c] != NULL;
    }
    if (!wide) return OTG_OK;
    const int64_t d = t[0]->shape[t[0]->ndim - 1];
    double *mu = calloc((size_t)(d > 0 ? d : 1), sizeof *mu);
    if (!mu) return otgi_fail(OTG_ENOMEM, "clouds_centre_f64: out of memory");
    int64_t rows = 0;
    for (int c = 0; c < k; c++) { /* the mean of every row of every cloud, in double */
        const int64_t n = d ? otg_tensor_numel(t[c]) / d : 0;
        for (int64_t i = 0; i < n * d; i++)
            mu[i % d] += f64[c] ? f64[c][i] : (double)t[c]->data[i];
        rows += n;
    }
    for (int64_t j = 0; j < d; j++)
        mu[j] /= (double)rows;
    for (int c = 0; c < k; c++) {
        const int64_t nd = otg_tensor_numel(t[c]);
        for (int64_t i = 0; i < nd; i++)
            t[c]->data[i] = (float)((f64[c] ? f64[c][i] : (double)t[c]->data[i]) - mu[i % d]);
    }
    free(mu);
    if (shifted) *shifted = 1;
    return OTG_OK;
}

/* The v1 header for t (descr '<f4' or '<f8'): dict padded with spaces so that the data starts at
 * a multiple of 64. */
static size_t format_header(const otg_tensor *t, const char *descr, char *h, size_t cap) {
    char shape[128] = "";
    size_t at = 0;
    for (int i = 0; i < t->ndim; i++)
        at += (size_t)snprintf(shape + at, sizeof shape - at, "%lld,%s", (long long)t->shape[i],
                               i + 1 < t->ndim ? " " : "");
    if (t->ndim > 1) shape[at - 1] = '\0'; /* (n, d) has no trailing comma; (n,) keeps it */
    int len = snprintf(h + 10, cap - 10, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }",
                       descr, shape);
    size_t total = 10 + (size_t)len + 1;
    size_t padded = (total + 63) / 64 * 64;
    memset(h + 10 + len, ' ', padded - total);
    h[padded - 1] = '\n';
    memcpy(h, "\x93NUMPY\x01\x00", 8);
    h[8] = (char)((padded - 10) & 0xff);
    h[9] = (char)((padded - 10) >> 8);
    return padded;
}

/* The header of t's shape, then n items of `size` bytes from data, atomically. */
static otg_status write_npy(const char *path, const otg_tensor *t, const char *descr,
                            const void *data, size_t size, int overwrite) {
    char h[256], tmp[4096];
    otg_status st = otgi_atomic_begin(path, overwrite, tmp, sizeof tmp);
    if (st != OTG_OK) return st;
    size_t hlen = format_header(t, descr, h, sizeof h);
    FILE *f = fopen(tmp, "wb");
    if (!f) return otgi_fail(OTG_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    int64_t n = otg_tensor_numel(t);
    int ok = fwrite(h, 1, hlen, f) == hlen && fwrite(data, size, (size_t)n, f) == (size_t)n;
    ok = fflush(f) == 0 && ok;
    ok = (fclose(f) == 0) && ok;
    if (!ok) st = otgi_fail(OTG_EIO, "%s: write failed: %s", path, strerror(errno));
    return otgi_atomic_commit(path, tmp, st);
}

otg_status otg_npy_write(const char *path, const otg_tensor *t, int overwrite) {
    if (!path || !t || !t->data || t->ndim < 1)
        return otgi_fail(OTG_EINVAL, "npy_write: NULL argument");
    return write_npy(path, t, "<f4", t->data, 4, overwrite);
}

otg_status otg_npy_write_f64(const char *path, const double *data, int ndim, const int64_t *shape,
                             int overwrite) {
    if (!path || !data || !shape || ndim < 1 || ndim > OTG_MAX_DIMS)
        return otgi_fail(OTG_EINVAL, "npy_write: NULL argument or bad ndim");
    otg_tensor t = {0}; /* the shape only */
    t.ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t.shape[i] = shape[i];
    return write_npy(path, &t, "<f8", data, 8, overwrite);
}
