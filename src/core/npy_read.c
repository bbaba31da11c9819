/* The NPY reader's core, in core so that every module may read NPY files (data's sources, io's
 * public otg_npy_read) without depending on io. Format: "\x93NUMPY", major, minor, header length
 * (uint16 for v1, uint32 for v2/v3), then an ASCII dict {'descr': '<f4', 'fortran_order': False,
 * 'shape': (n, d), } padded with spaces and a newline, then the raw data. float32 and float64
 * (converted) little-endian, C order, 1 to OTG_MAX_DIMS dimensions, every byte accounted for. */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NPY_MAX_HEADER (1 << 20)

typedef struct {
    int itemsize; /* 4 or 8 */
    int ndim;
    int64_t shape[OTG_MAX_DIMS];
} npy_header;

/* Finds the value text after 'key': in the dict; NULL if absent. */
static const char *dict_value(const char *h, const char *key) {
    char pat[32];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(h, pat);
    if (!p) return NULL;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    if (*p != ':') return NULL;
    p++;
    while (*p == ' ')
        p++;
    return p;
}

static otg_status parse_shape(const char *path, const char *p, npy_header *hd) {
    if (*p != '(') return otgi_fail(OTG_EFORMAT, "%s: malformed 'shape' in the NPY header", path);
    p++;
    hd->ndim = 0;
    for (;;) {
        while (*p == ' ')
            p++;
        if (*p == ')') break;
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno || v < 0)
            return otgi_fail(OTG_EFORMAT, "%s: malformed 'shape' in the NPY header", path);
        if (hd->ndim == OTG_MAX_DIMS)
            return otgi_fail(OTG_EFORMAT, "%s: more than %d dimensions", path, OTG_MAX_DIMS);
        hd->shape[hd->ndim++] = v;
        p = end;
        while (*p == ' ')
            p++;
        if (*p == ',')
            p++;
        else if (*p != ')')
            return otgi_fail(OTG_EFORMAT, "%s: malformed 'shape' in the NPY header", path);
    }
    if (hd->ndim == 0)
        return otgi_fail(OTG_EFORMAT, "%s: 0-d array (a scalar), need 1 to 4 dims", path);
    for (int i = 0; i < hd->ndim; i++)
        if (hd->shape[i] == 0)
            return otgi_fail(OTG_EFORMAT, "%s: empty array (dimension %d is 0)", path, i);
    return OTG_OK;
}

static otg_status parse_header(const char *path, const char *h, npy_header *hd) {
    const char *descr = dict_value(h, "descr"), *fo = dict_value(h, "fortran_order");
    const char *shape = dict_value(h, "shape");
    if (!descr || !fo || !shape)
        return otgi_fail(OTG_EFORMAT, "%s: NPY header lacks 'descr', 'fortran_order' or 'shape'",
                         path);
    if (!strncmp(descr, "'<f4'", 5))
        hd->itemsize = 4;
    else if (!strncmp(descr, "'<f8'", 5))
        hd->itemsize = 8;
    else {
        char got[16] = {0};
        for (int i = 0; i < 15 && descr[i] && descr[i] != ','; i++)
            got[i] = descr[i];
        return otgi_fail(OTG_EFORMAT,
                         "%s: dtype %s unsupported (need little-endian float32 '<f4' "
                         "or float64 '<f8')",
                         path, got);
    }
    if (!strncmp(fo, "True", 4))
        return otgi_fail(OTG_EFORMAT,
                         "%s: Fortran-order array (save it C-contiguous: "
                         "numpy.ascontiguousarray)",
                         path);
    if (strncmp(fo, "False", 5))
        return otgi_fail(OTG_EFORMAT, "%s: malformed 'fortran_order' in the NPY header", path);
    return parse_shape(path, shape, hd);
}

/* Reads the preamble and header dict; leaves f at the first data byte. */
static otg_status read_header(FILE *f, const char *path, npy_header *hd) {
    unsigned char pre[10];
    if (fread(pre, 1, 8, f) != 8 || memcmp(pre, "\x93NUMPY", 6))
        return otgi_fail(OTG_EFORMAT, "%s: not an NPY file (bad magic)", path);
    int major = pre[6];
    uint32_t hlen;
    if (major == 1) {
        if (fread(pre, 1, 2, f) != 2)
            return otgi_fail(OTG_EFORMAT, "%s: truncated NPY header", path);
        hlen = (uint32_t)pre[0] | (uint32_t)pre[1] << 8;
    } else if (major == 2 || major == 3) {
        if (fread(pre, 1, 4, f) != 4)
            return otgi_fail(OTG_EFORMAT, "%s: truncated NPY header", path);
        hlen = (uint32_t)pre[0] | (uint32_t)pre[1] << 8 | (uint32_t)pre[2] << 16 |
               (uint32_t)pre[3] << 24;
    } else {
        return otgi_fail(OTG_EFORMAT, "%s: NPY format version %d unsupported (1, 2, 3)", path,
                         major);
    }
    if (hlen == 0 || hlen > NPY_MAX_HEADER)
        return otgi_fail(OTG_EFORMAT, "%s: NPY header length %u out of range", path, hlen);
    char *h = otgi_calloc(hlen + 1, 1);
    if (!h) return OTG_ENOMEM;
    otg_status st = fread(h, 1, hlen, f) == hlen
                        ? parse_header(path, h, hd)
                        : otgi_fail(OTG_EFORMAT, "%s: truncated NPY header", path);
    free(h);
    return st;
}

/* Reads count items of itemsize bytes (little-endian) into out as float32; float64 items also
 * into f64 [count] when it is not NULL. */
static otg_status read_data(FILE *f, const char *path, const npy_header *hd, int64_t count,
                            float *out, double *f64) {
    if (hd->itemsize == 4) {
        if (fread(out, 4, (size_t)count, f) != (size_t)count) goto truncated;
        return OTG_OK;
    }
    double buf[1024];
    for (int64_t done = 0; done < count;) {
        size_t k = (size_t)(count - done < 1024 ? count - done : 1024);
        if (fread(buf, 8, k, f) != k) goto truncated;
        if (f64) memcpy(f64 + done, buf, k * sizeof *buf);
        for (size_t i = 0; i < k; i++)
            out[done + (int64_t)i] = (float)buf[i];
        done += (int64_t)k;
    }
    return OTG_OK;
truncated:
    return otgi_fail(OTG_EFORMAT, "%s: truncated data (the shape needs %lld values)", path,
                     (long long)count);
}

/* The data must fill the file exactly: no missing and no trailing bytes. */
static otg_status check_size(FILE *f, const char *path, const npy_header *hd, int64_t count) {
    long here = ftell(f);
    struct stat sb;
    if (here < 0 || fstat(fileno(f), &sb) != 0) return otgi_fail(OTG_EIO, "%s: cannot stat", path);
    int64_t need = count * hd->itemsize, have = (int64_t)sb.st_size - here;
    if (have != need)
        return otgi_fail(OTG_EFORMAT, "%s: shape needs %lld data bytes, file has %lld%s", path,
                         (long long)need, (long long)have, have < need ? " (truncated)" : "");
    return OTG_OK;
}

otg_status otgi_npy_read(const char *path, int require_finite, otg_tensor **out) {
    return otgi_npy_read_f64(path, require_finite, out, NULL);
}

otg_status otgi_npy_read_f64(const char *path, int require_finite, otg_tensor **out, double **f64) {
    if (!out) return otgi_fail(OTG_EINVAL, "npy_read: NULL output");
    *out = NULL;
    if (f64) *f64 = NULL;
    double *wide = NULL;
    if (!path) return otgi_fail(OTG_EINVAL, "npy_read: NULL path");
    FILE *f = fopen(path, "rb");
    if (!f) return otgi_fail(OTG_EIO, "%s: cannot open: %s", path, strerror(errno));
    npy_header hd;
    otg_tensor *t = NULL;
    int64_t count = 1;
    otg_status st = read_header(f, path, &hd);
    for (int i = 0; st == OTG_OK && i < hd.ndim; i++)
        if (otgi_mul_i64(count, hd.shape[i], &count) || count > INT64_MAX / 8)
            st = otgi_fail(OTG_EFORMAT, "%s: shape too large", path);
    if (st == OTG_OK) st = check_size(f, path, &hd, count);
    if (st == OTG_OK && !(t = otg_tensor_new(hd.ndim, hd.shape))) st = OTG_ENOMEM;
    if (st == OTG_OK && f64 && hd.itemsize == 8 && !(wide = malloc((size_t)count * sizeof *wide)))
        st = otgi_fail(OTG_ENOMEM, "%s: out of memory for the float64 values", path);
    if (st == OTG_OK) st = read_data(f, path, &hd, count, t->data, wide);
    if (st == OTG_OK && require_finite) {
        for (int64_t i = 0; i < count && st == OTG_OK; i++)
            if (!isfinite(t->data[i])) {
                char at[160]; /* the element's index per axis: [row, column, ...] */
                size_t k = 0;
                for (int a = 0; a < hd.ndim; a++) {
                    int64_t stride = 1;
                    for (int b = a + 1; b < hd.ndim; b++)
                        stride *= hd.shape[b];
                    k += (size_t)snprintf(at + k, sizeof at - k, "%s%lld", a ? ", " : "",
                                          (long long)(i / stride % hd.shape[a]));
                }
                st = otgi_fail(OTG_ENONFINITE, "%s: element [%s] is %s (finite values required)",
                               path, at, isnan(t->data[i]) ? "NaN" : "Inf");
            }
    }
    fclose(f);
    if (st != OTG_OK) {
        otg_tensor_free(t);
        free(wide);
        return st;
    }
    *out = t;
    if (f64) *f64 = wide;
    return OTG_OK;
}
