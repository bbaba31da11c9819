/* The Frechet distance between two Gaussians fitted to feature sets: means and covariances in
 * double, and the trace of the matrix square root of cov1^1/2 cov2 cov1^1/2 from a symmetric
 * eigen-decomposition by cyclic Jacobi rotations (no LAPACK needed; d is a few hundred). */
#include "eval/eval_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define JACOBI_SWEEPS 100

/* Sum of squares of the off-diagonal and of all entries of a [d, d]. */
static void off_mass(int64_t d, const double *a, double *off, double *all) {
    double o = 0.0, t = 0.0;
    for (int64_t i = 0; i < d; i++)
        for (int64_t j = 0; j < d; j++) {
            const double v = a[i * d + j] * a[i * d + j];
            t += v;
            if (i != j) o += v;
        }
    *off = o, *all = t;
}

/* a <- J^T a J and v <- v J for the rotation J in the (p, q) plane that zeroes a[p, q]. */
static void rotate(int64_t d, double *a, double *v, int64_t p, int64_t q) {
    const double apq = a[p * d + q];
    if (apq == 0.0) return;
    const double theta = (a[q * d + q] - a[p * d + p]) / (2.0 * apq);
    const double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
    const double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
    for (int64_t k = 0; k < d; k++) { /* columns p, q of a and v */
        double *ak = a + k * d, *vk = v + k * d;
        const double akp = ak[p], akq = ak[q], vkp = vk[p], vkq = vk[q];
        ak[p] = c * akp - s * akq, ak[q] = s * akp + c * akq;
        vk[p] = c * vkp - s * vkq, vk[q] = s * vkp + c * vkq;
    }
    double *ap = a + p * d, *aq = a + q * d;
    for (int64_t k = 0; k < d; k++) { /* rows p, q of a */
        const double apk = ap[k], aqk = aq[k];
        ap[k] = c * apk - s * aqk, aq[k] = s * apk + c * aqk;
    }
    ap[q] = aq[p] = 0.0;
}

/* Sorts the eigenpairs (w[i], column i of v) by ascending w (insertion sort: d is small). */
static void sort_pairs(int64_t d, double *w, double *v) {
    for (int64_t i = 1; i < d; i++)
        for (int64_t j = i; j > 0 && w[j - 1] > w[j]; j--) {
            const double t = w[j];
            w[j] = w[j - 1], w[j - 1] = t;
            for (int64_t k = 0; k < d; k++) {
                double *r = v + k * d;
                const double u = r[j];
                r[j] = r[j - 1], r[j - 1] = u;
            }
        }
}

otg_status otg_eigen_symmetric(int64_t d, double *a, double *w, double *v) {
    if (!a || !w || !v || d < 1) return otgi_fail(OTG_EINVAL, "eigen: bad arguments");
    for (int64_t i = 0; i < d * d; i++)
        v[i] = 0.0;
    for (int64_t i = 0; i < d; i++)
        v[i * d + i] = 1.0;
    double off, all;
    int sweep = 0;
    for (off_mass(d, a, &off, &all); off > 1e-30 * all && sweep < JACOBI_SWEEPS; sweep++) {
        for (int64_t p = 0; p < d - 1; p++)
            for (int64_t q = p + 1; q < d; q++)
                rotate(d, a, v, p, q);
        off_mass(d, a, &off, &all);
    }
    if (!isfinite(all)) return otgi_fail(OTG_ENONFINITE, "eigen: the matrix is not finite");
    if (off > 1e-30 * all)
        return otgi_fail(OTG_ENOCONV, "eigen: Jacobi did not converge in %d sweeps", JACOBI_SWEEPS);
    for (int64_t i = 0; i < d; i++)
        w[i] = a[i * d + i];
    sort_pairs(d, w, v);
    return OTG_OK;
}

otg_status otg_feature_stats(const float *f, int64_t n, int64_t d, double *mu, double *cov) {
    if (!f || !mu || !cov || n < 2 || d < 1)
        return otgi_fail(OTG_EINVAL, "feature stats: needs n >= 2 rows");
    double *c = malloc((size_t)d * sizeof *c);
    if (!c) return otgi_fail(OTG_ENOMEM, "feature stats: out of memory");
    memset(mu, 0, (size_t)d * sizeof *mu);
    memset(cov, 0, (size_t)(d * d) * sizeof *cov);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++)
            mu[j] += (double)f[i * d + j];
    for (int64_t j = 0; j < d; j++)
        mu[j] /= (double)n;
    for (int64_t i = 0; i < n; i++) { /* upper triangle, rows in order */
        for (int64_t j = 0; j < d; j++)
            c[j] = (double)f[i * d + j] - mu[j];
        for (int64_t j = 0; j < d; j++) {
            if (c[j] == 0.0) continue; /* relu features: many exact zeros */
            double *r = cov + j * d;
            for (int64_t k = j; k < d; k++)
                r[k] += c[j] * c[k];
        }
    }
    for (int64_t j = 0; j < d; j++)
        for (int64_t k = j; k < d; k++)
            cov[k * d + j] = cov[j * d + k] = cov[j * d + k] / (double)(n - 1);
    free(c);
    return OTG_OK;
}

/* c [d, d] = a b (double, naive: d is a few hundred). */
static void matmul_d(int64_t d, const double *a, const double *b, double *c) {
    memset(c, 0, (size_t)(d * d) * sizeof *c);
    for (int64_t i = 0; i < d; i++)
        for (int64_t k = 0; k < d; k++) {
            const double aik = a[i * d + k];
            for (int64_t j = 0; j < d; j++)
                c[i * d + j] += aik * b[k * d + j];
        }
}

otg_status otg_frechet_distance(int64_t d, const double *mu1, const double *cov1, const double *mu2,
                                const double *cov2, double *fd) {
    if (!mu1 || !cov1 || !mu2 || !cov2 || !fd || d < 1)
        return otgi_fail(OTG_EINVAL, "frechet: bad arguments");
    const size_t dd = (size_t)(d * d);
    double *a = malloc(dd * sizeof *a), *v = malloc(dd * sizeof *v), *s = malloc(dd * sizeof *s);
    double *w = malloc((size_t)d * sizeof *w);
    otg_status st = a && v && s && w ? OTG_OK : otgi_fail(OTG_ENOMEM, "frechet: out of memory");
    if (st == OTG_OK) {
        memcpy(a, cov1, dd * sizeof *a);
        st = otg_eigen_symmetric(d, a, w, v);
    }
    if (st == OTG_OK) { /* s = cov1^1/2 = V diag(sqrt w+) V^T */
        for (int64_t i = 0; i < d; i++)
            for (int64_t j = 0; j < d; j++)
                a[i * d + j] = v[i * d + j] * sqrt(w[j] > 0 ? w[j] : 0.0);
        memset(s, 0, dd * sizeof *s);
        for (int64_t i = 0; i < d; i++)
            for (int64_t k = 0; k < d; k++)
                for (int64_t j = 0; j < d; j++)
                    s[i * d + j] += a[i * d + k] * v[j * d + k];
        matmul_d(d, s, cov2, v); /* v = s cov2, a = v s */
        matmul_d(d, v, s, a);
        for (int64_t i = 0; i < d; i++) /* symmetrise the rounding */
            for (int64_t j = i + 1; j < d; j++)
                a[i * d + j] = a[j * d + i] = 0.5 * (a[i * d + j] + a[j * d + i]);
        st = otg_eigen_symmetric(d, a, w, v);
    }
    if (st == OTG_OK) {
        double m = 0.0, tr = 0.0;
        for (int64_t i = 0; i < d; i++) {
            m += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]);
            tr += cov1[i * d + i] + cov2[i * d + i] - 2.0 * sqrt(w[i] > 0 ? w[i] : 0.0);
        }
        *fd = m + tr > 0 ? m + tr : 0.0; /* equal sets: -1e-11 of rounding */
    }
    free(a), free(v), free(s), free(w);
    return st;
}
