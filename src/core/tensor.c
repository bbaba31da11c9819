/* Float32 row-major tensors: owning tensors, non-owning views, fill/copy/finite checks, and the
 * checked tensor GEMM (the raw otg_gemm, where libotgen calls SGEMM, is in gemm.c). */
#include "internal.h"

#include <math.h>
#include <string.h>

/* Validates ndim/shape and returns the element count, or -1 with the error set. */
static int64_t shape_numel(int ndim, const int64_t *shape, const char *who) {
    if (!shape || ndim < 1 || ndim > OTG_MAX_DIMS) {
        otgi_fail(OTG_EINVAL, "%s: ndim %d outside 1..%d", who, ndim, OTG_MAX_DIMS);
        return -1;
    }
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] <= 0) {
            otgi_fail(OTG_EINVAL, "%s: dimension %d is %lld (must be > 0)", who, i,
                      (long long)shape[i]);
            return -1;
        }
        if (otgi_mul_i64(n, shape[i], &n)) {
            otgi_fail(OTG_EINVAL, "%s: element count overflows", who);
            return -1;
        }
    }
    return n;
}

otg_tensor *otg_tensor_new(int ndim, const int64_t *shape) {
    int64_t n = shape_numel(ndim, shape, "tensor_new");
    if (n < 0) return NULL;
    otg_tensor *t = otgi_calloc(1, sizeof *t);
    if (!t) return NULL;
    t->data = otgi_calloc((size_t)n, sizeof(float));
    if (!t->data) {
        free(t);
        return NULL;
    }
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t->shape[i] = shape[i];
    t->owns = 1;
    return t;
}

void otg_tensor_free(otg_tensor *t) {
    if (!t) return;
    if (t->owns) free(t->data);
    free(t);
}

otg_tensor otg_tensor_view(float *data, int ndim, const int64_t *shape) {
    otg_tensor v = {NULL, {0, 0, 0, 0}, 0, 0};
    if (!data) {
        otgi_fail(OTG_EINVAL, "tensor_view: NULL data");
        return v;
    }
    if (shape_numel(ndim, shape, "tensor_view") < 0) return v;
    v.data = data;
    v.ndim = ndim;
    for (int i = 0; i < ndim; i++)
        v.shape[i] = shape[i];
    return v;
}

otg_status otg_tensor_view_rows(const otg_tensor *t, int64_t row0, int64_t nrows, otg_tensor *out) {
    if (!t || !t->data || !out) return otgi_fail(OTG_EINVAL, "tensor_view_rows: NULL argument");
    if (row0 < 0 || nrows <= 0 || row0 + nrows > t->shape[0])
        return otgi_fail(OTG_EINVAL, "tensor_view_rows: rows [%lld, %lld) outside [0, %lld)",
                         (long long)row0, (long long)(row0 + nrows), (long long)t->shape[0]);
    int64_t row = otg_tensor_numel(t) / t->shape[0];
    *out = *t;
    out->owns = 0;
    out->data = t->data + row0 * row;
    out->shape[0] = nrows;
    return OTG_OK;
}

otg_status otg_tensor_reshape(otg_tensor *t, int ndim, const int64_t *shape) {
    if (!t || !t->data || !shape) return otgi_fail(OTG_EINVAL, "tensor_reshape: NULL argument");
    otg_tensor v = otg_tensor_view(t->data, ndim, shape);
    if (!v.data) return OTG_EINVAL;
    if (otg_tensor_numel(&v) != otg_tensor_numel(t))
        return otgi_fail(OTG_ESHAPE, "tensor_reshape: %lld elements cannot take a shape of %lld",
                         (long long)otg_tensor_numel(t), (long long)otg_tensor_numel(&v));
    t->ndim = v.ndim;
    memcpy(t->shape, v.shape, sizeof t->shape);
    return OTG_OK;
}

int64_t otg_tensor_numel(const otg_tensor *t) {
    if (!t || t->ndim < 1) return 0;
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}

void otg_tensor_fill(otg_tensor *t, float v) {
    int64_t n = otg_tensor_numel(t);
    for (int64_t i = 0; i < n; i++)
        t->data[i] = v;
}

otg_status otg_tensor_copy(otg_tensor *dst, const otg_tensor *src) {
    if (!dst || !src || !dst->data || !src->data)
        return otgi_fail(OTG_EINVAL, "tensor_copy: NULL argument");
    int64_t n = otg_tensor_numel(dst), m = otg_tensor_numel(src);
    if (n != m)
        return otgi_fail(OTG_ESHAPE, "tensor_copy: %lld elements into %lld", (long long)m,
                         (long long)n);
    memmove(dst->data, src->data, (size_t)n * sizeof(float));
    return OTG_OK;
}

otg_status otg_tensor_check_finite(const otg_tensor *t, const char *what) {
    if (!t || !t->data) return otgi_fail(OTG_EINVAL, "check_finite: NULL tensor");
    int64_t n = otg_tensor_numel(t);
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(t->data[i]))
            return otgi_fail(OTG_ENONFINITE, "%s: element %lld is %s", what ? what : "tensor",
                             (long long)i, isnan(t->data[i]) ? "NaN" : "Inf");
    return OTG_OK;
}

otg_status otg_tensor_gemm(int trans_a, int trans_b, float alpha, const otg_tensor *a,
                           const otg_tensor *b, float beta, otg_tensor *c) {
    if (!a || !b || !c || !a->data || !b->data || !c->data)
        return otgi_fail(OTG_EINVAL, "gemm: NULL tensor");
    if (a->ndim != 2 || b->ndim != 2 || c->ndim != 2)
        return otgi_fail(OTG_ESHAPE, "gemm: needs 2-D tensors (got %d, %d, %d dims)", a->ndim,
                         b->ndim, c->ndim);
    int64_t m = trans_a ? a->shape[1] : a->shape[0], ka = trans_a ? a->shape[0] : a->shape[1];
    int64_t kb = trans_b ? b->shape[1] : b->shape[0], n = trans_b ? b->shape[0] : b->shape[1];
    if (ka != kb)
        return otgi_fail(OTG_ESHAPE, "gemm: inner dimensions %lld != %lld", (long long)ka,
                         (long long)kb);
    if (c->shape[0] != m || c->shape[1] != n)
        return otgi_fail(OTG_ESHAPE, "gemm: C is [%lld, %lld], product is [%lld, %lld]",
                         (long long)c->shape[0], (long long)c->shape[1], (long long)m,
                         (long long)n);
    if (m > INT32_MAX || n > INT32_MAX || ka > INT32_MAX)
        return otgi_fail(OTG_EINVAL, "gemm: dimension exceeds the BLAS integer range");
    otg_gemm(trans_a, trans_b, m, n, ka, alpha, a->data, a->shape[1], b->data, b->shape[1], beta,
             c->data, c->shape[1]);
    return OTG_OK;
}
