/* Restarted GMRES(m) for the adjoint equation (I - A^T) w = g of the fixed-point node, matrix-free:
 * the caller supplies v -> A^T v (a backward pass of T's tape). Arnoldi with modified Gram-Schmidt
 * and Givens rotations in double; the operator is applied to the float rounding of each Krylov
 * vector, so an exactly singular I - A stays exactly singular. Stops on the tolerance, on a zero
 * pivot (singular), on a restart cycle that gains < 0.1% (stagnation) or on max_iter. */
#include "implicit/implicit_internal.h"

#include <math.h>
#include <string.h>

/* Workspace layout: w [n], v [m + 1, n], h [m + 1, m], then cs, sn, s, y [m + 1] each. */
size_t otgi_gmres_work_doubles(int64_t n, int m) {
    return (size_t)(m + 2) * (size_t)n + (size_t)(m + 1) * (size_t)m + 4 * (size_t)(m + 1);
}

typedef struct {
    int64_t n;
    int m;
    double *v, *h, *cs, *sn, *s, *y; /* v [m + 1, n], h [m + 1, m] (column j at h + j (m + 1)) */
    float *f;                        /* [n] float seed */
    otgi_matvec matvec;
    void *ctx;
} gmres;

/* u = v_j - A^T v_j with v_j rounded to float first (u into row j + 1 of v). */
static otg_status apply(gmres *q, int j) {
    const double *vj = q->v + (size_t)j * (size_t)q->n;
    double *u = q->v + (size_t)(j + 1) * (size_t)q->n;
    for (int64_t i = 0; i < q->n; i++)
        q->f[i] = (float)vj[i];
    const float *av;
    otg_status st = q->matvec(q->ctx, q->f, &av);
    if (st != OTG_OK) return st;
    for (int64_t i = 0; i < q->n; i++)
        u[i] = (double)q->f[i] - (double)av[i];
    return OTG_OK;
}

/* Orthogonalises u = v[j + 1] against v[0..j], applies the old rotations and a new one to column
 * j of h, updates s. Returns the new |residual| = |s[j + 1]|, or -1 on a zero pivot. */
static double arnoldi_step(gmres *q, int j) {
    double *u = q->v + (size_t)(j + 1) * (size_t)q->n, *hj = q->h + (size_t)j * (size_t)(q->m + 1);
    double n0 = 0.0; /* |(I - A^T) v_j| before orthogonalisation */
    for (int64_t k = 0; k < q->n; k++)
        n0 += u[k] * u[k];
    n0 = sqrt(n0);
    for (int i = 0; i <= j; i++) {
        const double *vi = q->v + (size_t)i * (size_t)q->n;
        double d = 0.0;
        for (int64_t k = 0; k < q->n; k++)
            d += u[k] * vi[k];
        hj[i] = d;
        for (int64_t k = 0; k < q->n; k++)
            u[k] -= d * vi[k];
    }
    double nu = 0.0;
    for (int64_t k = 0; k < q->n; k++)
        nu += u[k] * u[k];
    hj[j + 1] = sqrt(nu);
    if (hj[j + 1] > 0.0)
        for (int64_t k = 0; k < q->n; k++)
            u[k] /= hj[j + 1];
    for (int i = 0; i < j; i++) { /* previous rotations */
        double a = hj[i], b = hj[i + 1];
        hj[i] = q->cs[i] * a + q->sn[i] * b;
        hj[i + 1] = -q->sn[i] * a + q->cs[i] * b;
    }
    double r = hypot(hj[j], hj[j + 1]);
    /* (I - A^T) maps v_j into span(v_0..v_j-1) up to float32 precision: singular */
    if (!(r > 1e-6 * n0)) return -1.0;
    q->cs[j] = hj[j] / r, q->sn[j] = hj[j + 1] / r;
    hj[j] = r, hj[j + 1] = 0.0;
    q->s[j + 1] = -q->sn[j] * q->s[j];
    q->s[j] = q->cs[j] * q->s[j];
    return fabs(q->s[j + 1]);
}

/* w += V y with h y = s (upper triangular, size k). */
static void update(gmres *q, int k, double *w) {
    for (int i = k - 1; i >= 0; i--) {
        double acc = q->s[i];
        for (int l = i + 1; l < k; l++)
            acc -= q->h[(size_t)l * (size_t)(q->m + 1) + (size_t)i] * q->y[l];
        q->y[i] = acc / q->h[(size_t)i * (size_t)(q->m + 1) + (size_t)i];
    }
    for (int i = 0; i < k; i++)
        for (int64_t l = 0; l < q->n; l++)
            w[l] += q->y[i] * q->v[(size_t)i * (size_t)q->n + (size_t)l];
}

/* r = g - (I - A^T) w into v[0]; returns |r|. */
static otg_status residual(gmres *q, const float *g, const double *w, double *beta) {
    double *r = q->v;
    memcpy(r, w, (size_t)q->n * sizeof *r);
    otg_status st = apply(q, 0); /* v[1] = (I - A^T) float(w) */
    if (st != OTG_OK) return st;
    double b = 0.0;
    for (int64_t i = 0; i < q->n; i++) {
        r[i] = (double)g[i] - q->v[(size_t)q->n + (size_t)i];
        b += r[i] * r[i];
    }
    *beta = sqrt(b);
    return OTG_OK;
}

/* One restart cycle from the normalised residual in v[0] (norm beta): up to m Arnoldi steps, then
 * w += V y. OTG_ENOCONV with *why on a zero pivot. */
static otg_status cycle(gmres *q, const otgi_gmres_args *a, double beta, double gn, double *w,
                        int *iters, double *rel, const char **why) {
    memset(q->s, 0, (size_t)(q->m + 1) * sizeof *q->s);
    q->s[0] = beta;
    int k = 0;
    for (int j = 0; j < q->m && *iters < a->max_iter; j++) {
        otg_status st = apply(q, j);
        if (st != OTG_OK) return st;
        ++*iters;
        double r = arnoldi_step(q, j);
        if (r < 0.0) return (*why = "hit a zero pivot (to float32 precision)", OTG_ENOCONV);
        k = j + 1;
        *rel = r / gn;
        if (r / gn <= a->tol) break;
    }
    update(q, k, w);
    return OTG_OK;
}

otg_status otgi_gmres(const otgi_gmres_args *a, const float *g, float *w_out, int *iters,
                      double *rel_residual, const char **why) {
    const int64_t n = a->n;
    const int m = a->restart;
    double *w = a->work;
    gmres q = {n, m, w + n, NULL, NULL, NULL, NULL, NULL, a->fbuf, a->matvec, a->ctx};
    q.h = q.v + (size_t)(m + 1) * (size_t)n;
    q.cs = q.h + (size_t)(m + 1) * (size_t)m;
    q.sn = q.cs + m + 1, q.s = q.sn + m + 1, q.y = q.s + m + 1;
    double gn = 0.0;
    for (int64_t i = 0; i < n; i++) {
        gn += (double)g[i] * (double)g[i];
        w[i] = 0.0, q.v[i] = (double)g[i]; /* r_0 = g for w_0 = 0 */
    }
    gn = sqrt(gn);
    *iters = 0, *rel_residual = 0.0, *why = NULL;
    double beta = gn, prev = INFINITY;
    while (beta > a->tol * gn) {
        *rel_residual = beta / gn;
        if (*iters >= a->max_iter) return (*why = "did not converge", OTG_ENOCONV);
        if (beta > (1.0 - 1e-3) * prev) { /* report the best true residual reached */
            *rel_residual = fmin(beta, prev) / gn;
            return (*why = "stagnated", OTG_ENOCONV);
        }
        prev = beta;
        for (int64_t i = 0; i < n; i++)
            q.v[i] /= beta;
        otg_status st = cycle(&q, a, beta, gn, w, iters, rel_residual, why);
        if (st == OTG_OK) st = residual(&q, g, w, &beta); /* the true residual, in v[0] */
        if (st != OTG_OK) return st;
    }
    *rel_residual = beta / gn;
    double wn = 0.0;
    for (int64_t i = 0; i < n; i++)
        wn += w[i] * w[i], w_out[i] = (float)w[i];
    if (sqrt(wn) > 1e6 * gn) return (*why = "gave |w| > 1e6 |g|", OTG_ENOCONV);
    return OTG_OK;
}
