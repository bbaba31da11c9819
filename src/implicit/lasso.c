/* The lasso as a fixed-point node (implicit.h): the soft-threshold built from two relus, one
 * forward-backward (ISTA) step as a graph builder, the node x*(lam) solving the lasso by ISTA on
 * its own tape, and the power-iteration estimate of |A|_2 that picks the default step. */
#include "ad/ad_internal.h"
#include "otgen/implicit.h"

#include <math.h>
#include <string.h>

otg_node *otg_soft_threshold(otg_graph *g, otg_node *v, otg_node *t) {
    if (!v || !t) return otgi_fail(OTG_EINVAL, "soft_threshold: NULL input"), NULL;
    if (v->ndim != 2 || v->shape[1] != 1 || t->ndim != 1 || t->numel != 1)
        return otgi_fail(OTG_ESHAPE, "soft_threshold: needs v [p, 1] and t [1]"), NULL;
    otg_node *neg_t = otg_scale(g, t, -1.0f);
    otg_node *up = otg_relu(g, otg_bias(g, v, neg_t));                        /* relu(v - t) */
    otg_node *down = otg_relu(g, otg_bias(g, otg_scale(g, v, -1.0f), neg_t)); /* relu(-v - t) */
    return otg_sub(g, up, down);
}

otg_node *otg_lasso_ista_step(otg_graph *g, otg_node *x, otg_node *lam, otg_node *a, otg_node *at,
                              otg_node *b, float gamma) {
    if (!(gamma > 0.0f) || !isfinite(gamma))
        return otgi_fail(OTG_EINVAL, "lasso_ista_step: step gamma = %g must be > 0", (double)gamma),
               NULL;
    otg_node *r = otg_sub(g, otg_matmul(g, a, x), b); /* A x - b      [m, 1] */
    otg_node *v = otg_sub(g, x, otg_scale(g, otg_matmul(g, at, r), gamma)); /* [p, 1] */
    return otg_soft_threshold(g, v, otg_scale(g, lam, gamma));              /* S_{gamma lam}(v) */
}

double otg_spectral_norm(const float *a, int64_t m, int64_t n, int max_iter) {
    if (!a || m <= 0 || n <= 0) return NAN;
    double *v = calloc((size_t)n, sizeof *v), *u = calloc((size_t)m, sizeof *u);
    double s = 0.0;
    if (!v || !u) goto done;
    for (int64_t j = 0; j < n; j++)
        v[j] = 1.0 + (double)j / (double)n; /* fixed start */
    for (int it = 0; it < max_iter; it++) {
        double vn = 0.0, un = 0.0;
        for (int64_t j = 0; j < n; j++)
            vn += v[j] * v[j];
        vn = sqrt(vn);
        if (vn == 0.0) break;
        for (int64_t i = 0; i < m; i++) { /* u = A v / |v| */
            double acc = 0.0;
            for (int64_t j = 0; j < n; j++)
                acc += (double)a[i * n + j] * v[j];
            u[i] = acc / vn;
            un += u[i] * u[i];
        }
        double prev = s;
        s = sqrt(un); /* |A v| / |v| <= |A|_2 */
        for (int64_t j = 0; j < n; j++)
            v[j] = 0.0;
        for (int64_t i = 0; i < m; i++) /* v = A^T u */
            for (int64_t j = 0; j < n; j++)
                v[j] += (double)a[i * n + j] * u[i];
        if (it > 0 && fabs(s - prev) <= 1e-7 * s) break;
    }
done:
    free(v);
    free(u);
    return s;
}

/* T's graph of the lasso: inputs x [p, 1], lam [1] (with gradients) and the constants A, A^T, b
 * written after compile. NULL (error set) on failure; *x, *lam, *out receive T's nodes. */
static otg_graph *lasso_graph(const otg_tensor *a, const float *b, float gamma, otg_node **x,
                              otg_node **lam, otg_node **out) {
    const int64_t m = a->shape[0], p = a->shape[1];
    otg_graph *t = otg_graph_new();
    *x = otg_input(t, 2, (int64_t[]){p, 1}, 1);
    *lam = otg_input(t, 1, (int64_t[]){1}, 1);
    otg_node *na = otg_input(t, 2, (int64_t[]){m, p}, 0);
    otg_node *nat = otg_input(t, 2, (int64_t[]){p, m}, 0);
    otg_node *nb = otg_input(t, 2, (int64_t[]){m, 1}, 0);
    *out = otg_lasso_ista_step(t, *x, *lam, na, nat, nb, gamma);
    if (!*out || otg_graph_compile(t) != OTG_OK) {
        otg_graph_free(t);
        return NULL;
    }
    float *da = otg_node_data(na), *dat = otg_node_data(nat);
    memcpy(da, a->data, (size_t)(m * p) * sizeof *da);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < p; j++)
            dat[j * m + i] = a->data[i * p + j];
    memcpy(otg_node_data(nb), b, (size_t)m * sizeof *b);
    return t;
}

otg_node *otg_lasso_solve(otg_graph *g, otg_node *lam, const otg_tensor *a, const float *b,
                          float gamma, const otg_fixed_point_opts *opts) {
    if (!g || !lam || !a || !a->data || !b)
        return otgi_fail(OTG_EINVAL, "lasso_solve: NULL argument"), NULL;
    if (a->ndim != 2) return otgi_fail(OTG_ESHAPE, "lasso_solve: A must be [m, p]"), NULL;
    if (otg_tensor_check_finite(a, "lasso_solve: A") != OTG_OK) return NULL;
    if (!(gamma > 0.0f)) {
        double s = otg_spectral_norm(a->data, a->shape[0], a->shape[1], 500);
        if (!(s > 0.0)) return otgi_fail(OTG_EINVAL, "lasso_solve: A is zero"), NULL;
        gamma = (float)(1.0 / (s * s));
    }
    otg_node *tx, *tlam, *tout;
    otg_graph *t = lasso_graph(a, b, gamma, &tx, &tlam, &tout);
    if (!t) return NULL;
    return otg_fixed_point(g, t, tx, tout, 1, &tlam, &lam, opts);
}
