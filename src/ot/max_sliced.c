/* Max-sliced Wasserstein: the maximum over sampled directions (POT's max-sliced), and projected
 * gradient ascent on the sphere from a starting direction (the DSW-style estimator). */
#include "ot/ot_internal.h"
#include "otgen/ot.h"

#include <math.h>
#include <string.h>

otg_status otg_sw_max_sampled(otg_sw_workspace *ws, const otg_tensor *x, const float *a,
                              const otg_tensor *y, const float *b, const otg_tensor *theta,
                              double p, double *value, int64_t *best) {
    if (!theta || !value) return otgi_fail(OTG_EINVAL, "max_sampled: NULL argument");
    int64_t L = theta->ndim == 2 ? theta->shape[1] : 0;
    double *w = L > 0 ? malloc((size_t)L * sizeof *w) : NULL;
    if (!w) return otgi_fail(OTG_EINVAL, "max_sampled: no directions");
    otg_sw_opts o = otg_sw_opts_default();
    o.p = p;
    otg_sw_result r;
    otg_status st = otg_sw(ws, x, a, y, b, theta, &o, &r, NULL, w);
    if (st == OTG_OK) {
        int64_t k = 0;
        for (int64_t l = 1; l < L; l++)
            if (w[l] > w[k]) k = l; /* ties: the first maximiser */
        *value = w[k];
        if (best) *best = k;
    }
    free(w);
    return st;
}

/* s[n] = X dir, X [n, d], in double accumulation. */
static void project(const otg_tensor *x, const float *dir, float *s) {
    const int64_t n = x->shape[0], d = x->shape[1];
    for (int64_t i = 0; i < n; i++) {
        double acc = 0.0;
        for (int64_t k = 0; k < d; k++) acc += (double)x->data[i * d + k] * (double)dir[k];
        s[i] = (float)acc;
    }
}

/* g[d] += X^T ds. */
static void back_project(const otg_tensor *x, const float *ds, double *g) {
    const int64_t n = x->shape[0], d = x->shape[1];
    for (int64_t i = 0; i < n; i++)
        for (int64_t k = 0; k < d; k++) g[k] += (double)ds[i] * (double)x->data[i * d + k];
}

otg_status otg_sw_max_ascent(const otg_tensor *x, const float *a, const otg_tensor *y,
                             const float *b, double p, int64_t iters, double step, float *dir,
                             double *value) {
    if (!x || !y || !dir || !value || !x->data || !y->data)
        return otgi_fail(OTG_EINVAL, "max_ascent: NULL argument");
    if (x->ndim != 2 || y->ndim != 2 || x->shape[1] != y->shape[1])
        return otgi_fail(OTG_ESHAPE, "max_ascent: x [n, d] and y [m, d] must share d");
    if (iters < 0 || !(step >= 0.0) || !isfinite(step))
        return otgi_fail(OTG_EINVAL, "max_ascent: iterations %lld and step %g must be >= 0",
                         (long long)iters, step);
    const int64_t n = x->shape[0], m = y->shape[0], d = x->shape[1];
    float *buf = malloc((size_t)(2 * (n + m) + d) * sizeof *buf);
    double *g = malloc((size_t)d * sizeof *g), best = -1.0, w;
    float *s = buf, *t = buf + n, *ds = buf + n + m, *dt = ds + n, *best_dir = dt + m;
    otg_status st = buf && g ? OTG_OK : otgi_fail(OTG_ENOMEM, "max_ascent: out of memory");
    for (int64_t it = 0; st == OTG_OK; it++) {
        project(x, dir, s);
        project(y, dir, t);
        st = otg_ot_wasserstein_1d(s, a, n, t, b, m, p, &w, ds, dt);
        if (st != OTG_OK) break;
        if (w > best) { /* a fixed step can overshoot: keep the best direction met */
            best = w;
            memcpy(best_dir, dir, (size_t)d * sizeof *dir);
        }
        if (it == iters) break;
        memset(g, 0, (size_t)d * sizeof *g);
        back_project(x, ds, g);
        back_project(y, dt, g);
        double nrm = 0.0;
        for (int64_t k = 0; k < d; k++) {
            g[k] = (double)dir[k] + step * g[k];
            nrm += g[k] * g[k];
        }
        if (!(nrm > 0.0)) break; /* stays at the current direction */
        for (int64_t k = 0; k < d; k++) dir[k] = (float)(g[k] / sqrt(nrm));
    }
    if (st == OTG_OK) {
        memcpy(dir, best_dir, (size_t)d * sizeof *dir);
        *value = best;
    }
    free(buf), free(g);
    return st;
}
