/* 1-D optimal transport between empirical measures: W_p^p for any p >= 1.
 * Equal sizes with uniform weights: sort both and match in order. General weights or sizes: the
 * north-west-corner rule on the sorted supports (the mass moved between s_i and t_j is the
 * overlap of their quantile intervals), optimal in 1-D for every p >= 1. */
#include "ot/ot_internal.h"
#include "otgen/ot.h"

#include <math.h>
#include <string.h>

double otgi_w1d_sorted_equal(const float *s, const float *t, int64_t n, double p, double scale,
                             float *ds) {
    double v = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double r = (double)s[i] - (double)t[i];
        v += otgi_cost(r, p);
        if (ds) ds[i] = (float)(scale * otgi_cost_deriv(r, p));
    }
    return v / (double)n;
}

double otgi_w1d_sorted_general(const float *s, const double *a, int64_t n, const float *t,
                               const double *b, int64_t m, double p, double scale, double *ds,
                               double *dt) {
    if (ds) memset(ds, 0, (size_t)n * sizeof *ds);
    if (dt) memset(dt, 0, (size_t)m * sizeof *dt);
    double v = 0.0, ra = a[0], rb = b[0];
    int64_t i = 0, j = 0;
    while (i < n && j < m) {
        double mass = ra < rb ? ra : rb, r = (double)s[i] - (double)t[j];
        v += mass * otgi_cost(r, p);
        double g = scale * mass * otgi_cost_deriv(r, p);
        if (ds) ds[i] += g;
        if (dt) dt[j] -= g;
        /* advance the side whose quantile interval is used up (both on an exact tie) */
        if (ra < rb) {
            rb -= ra;
            ra = ++i < n ? a[i] : 0.0;
        } else if (rb < ra) {
            ra -= rb;
            rb = ++j < m ? b[j] : 0.0;
        } else {
            ra = ++i < n ? a[i] : 0.0;
            rb = ++j < m ? b[j] : 0.0;
        }
    }
    return v;
}

double otgi_w1d_sorted_blocks(const float *s, int64_t n, const float *t, int64_t m, double p,
                              double scale, double *ds) {
    const int64_t big = n > m ? n : m, k = n > m ? n / m : m / n;
    const double mass = 1.0 / (double)big;
    double v = 0.0;
    if (m >= n) { /* s_i against t_ki .. t_ki+k-1 */
        for (int64_t i = 0; i < n; i++) {
            double g = 0.0;
            for (int64_t j = i * k; j < (i + 1) * k; j++) {
                const double r = (double)s[i] - (double)t[j];
                v += mass * otgi_cost(r, p);
                g += scale * mass * otgi_cost_deriv(r, p);
            }
            if (ds) ds[i] = g;
        }
    } else { /* s_ki .. s_ki+k-1 against t_i */
        for (int64_t i = 0; i < n; i++) {
            const double r = (double)s[i] - (double)t[i / k];
            v += mass * otgi_cost(r, p);
            if (ds) ds[i] = scale * mass * otgi_cost_deriv(r, p);
        }
    }
    return v;
}

/* Normalised weights out[n] from w[n] (NULL: uniform). */
otg_status otgi_weights(const float *w, int64_t n, const char *who, double *out) {
    if (!w) {
        for (int64_t i = 0; i < n; i++)
            out[i] = 1.0 / (double)n;
        return OTG_OK;
    }
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(w[i]) || w[i] < 0.0f)
            return otgi_fail(OTG_EINVAL, "%s: weight %lld is %g (need finite and >= 0)", who,
                             (long long)i, (double)w[i]);
        sum += (double)w[i];
    }
    if (!(sum > 0.0)) return otgi_fail(OTG_EINVAL, "%s: weights sum to 0", who);
    for (int64_t i = 0; i < n; i++)
        out[i] = (double)w[i] / sum;
    return OTG_OK;
}

otg_status otg_ot_wasserstein_1d(const float *s, const float *a, int64_t n, const float *t,
                                 const float *b, int64_t m, double p, double *value, float *ds,
                                 float *dt) {
    if (!s || !t || !value) return otgi_fail(OTG_EINVAL, "wasserstein_1d: NULL argument");
    if (n < 1 || m < 1 || n > INT32_MAX || m > INT32_MAX)
        return otgi_fail(OTG_EINVAL, "wasserstein_1d: sizes %lld, %lld out of range", (long long)n,
                         (long long)m);
    if (!(p >= 1.0) || !isfinite(p)) return otgi_fail(OTG_EINVAL, "wasserstein_1d: p = %g < 1", p);
    otgi_sort_scratch sc = {0};
    int64_t nm = n + m;
    float *ss = malloc((size_t)nm * sizeof *ss);
    int32_t *perm = malloc((size_t)nm * sizeof *perm);
    double *w = malloc((size_t)(3 * nm) * sizeof *w), *ws = w + nm, *g = w + 2 * nm;
    otg_status st = ss && perm && w ? otgi_sort_reserve(&sc, n > m ? n : m)
                                    : otgi_fail(OTG_ENOMEM, "wasserstein_1d: out of memory");
    if (st == OTG_OK) st = otgi_weights(a, n, "wasserstein_1d: a", w);
    if (st == OTG_OK) st = otgi_weights(b, m, "wasserstein_1d: b", w + n);
    if (st == OTG_OK) {
        otgi_sort_f32(s, n, ss, perm, &sc);
        otgi_sort_f32(t, m, ss + n, perm + n, &sc);
        for (int64_t i = 0; i < n; i++)
            ws[i] = w[perm[i]];
        for (int64_t j = 0; j < m; j++)
            ws[n + j] = w[n + perm[n + j]];
        *value = otgi_w1d_sorted_general(ss, ws, n, ss + n, ws + n, m, p, 1.0, g, g + n);
        if (ds)
            for (int64_t i = 0; i < n; i++)
                ds[perm[i]] = (float)g[i];
        if (dt)
            for (int64_t j = 0; j < m; j++)
                dt[perm[n + j]] = (float)g[n + j];
    }
    otgi_sort_release(&sc);
    free(ss), free(perm), free(w);
    return st;
}
