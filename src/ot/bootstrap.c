/* The standard error of an SW distance over the sampling of the points: a bootstrap. Each replicate
 * resamples the rows of x and of y with replacement (multinomial counts from the caller's stream)
 * and evaluates SW_p along the same directions; resampling is a reweighting, so every direction's
 * projections are sorted once and a replicate costs one north-west-corner pass per direction
 * (otgi_w1d_sorted_general with the counts as weights, in sorted order). Directions in parallel,
 * each replicate's mean in index order: the same bits for any thread count. */
#include "internal.h"
#include "ot/ot_internal.h"
#include "otgen/ot.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Every direction's sorted projections and permutations: sx [L, n], px [L, n] (x's row of each
 * sorted value), sy [L, m], py [L, m]. */
typedef struct {
    float *sx, *sy;
    int32_t *px, *py;
    double *wx, *wy;  /* per-thread weights in sorted order [nt, n], [nt, m] */
    double *w;        /* one replicate's W_p^p per direction [L] */
    double *v;        /* the replicates' SW_p [replicates] */
    int64_t *cx, *cy; /* the replicate's counts [n], [m] */
} boot_state;

static void boot_free(boot_state *b) {
    free(b->sx), free(b->sy), free(b->px), free(b->py);
    free(b->wx), free(b->wy), free(b->w), free(b->v), free(b->cx), free(b->cy);
}

/* Projects a [k, d] on theta [d, L] (GEMM, as the SW kernel, float32) and sorts each direction's
 * projections into s [L, k] with permutations p [L, k]. 0 on ENOMEM. */
static int sort_projections(const float *a, int64_t k, int64_t d, const otg_tensor *theta, float *s,
                            int32_t *p) {
    const int64_t L = theta->shape[1];
    float *proj = malloc((size_t)(L * k) * sizeof *proj); /* [L, k] = theta^T a^T */
    if (!proj) return 0;
    otg_gemm(1, 1, L, k, d, 1.0f, theta->data, L, a, d, 0.0f, proj, k);
    int ok = 1;
#pragma omp parallel reduction(&& : ok)
    {
        otgi_sort_scratch sc = {0};
        ok = otgi_sort_reserve(&sc, k) == OTG_OK;
#pragma omp for schedule(static)
        for (int64_t l = 0; l < L; l++)
            if (ok) otgi_sort_f32(proj + l * k, k, s + l * k, p + l * k, &sc);
        otgi_sort_release(&sc);
    }
    free(proj);
    return ok;
}

/* counts[k] of k draws of a row index in [0, k) (unbiased 32-bit draws). */
static void draw_counts(otg_rng *rng, int64_t k, int64_t *counts) {
    memset(counts, 0, (size_t)k * sizeof *counts);
    for (int64_t i = 0; i < k; i++)
        counts[otgi_data_draw_below(rng, (uint32_t)k)]++;
}

/* SW_p of one replicate: the counts as weights, in each direction's sorted order. */
static double replicate(boot_state *b, int64_t n, int64_t m, int64_t L, double p) {
#pragma omp parallel for schedule(static)
    for (int64_t l = 0; l < L; l++) {
        const int t = omp_get_thread_num();
        double *wx = b->wx + t * n, *wy = b->wy + t * m;
        for (int64_t i = 0; i < n; i++)
            wx[i] = (double)b->cx[b->px[l * n + i]] / (double)n;
        for (int64_t j = 0; j < m; j++)
            wy[j] = (double)b->cy[b->py[l * m + j]] / (double)m;
        b->w[l] =
            otgi_w1d_sorted_general(b->sx + l * n, wx, n, b->sy + l * m, wy, m, p, 1.0, NULL, NULL);
    }
    double mean = 0.0;
    for (int64_t l = 0; l < L; l++)
        mean += b->w[l];
    return pow(mean / (double)L, 1.0 / p);
}

otg_status otg_sw_bootstrap(const otg_tensor *x, const otg_tensor *y, const otg_tensor *theta,
                            double p, int64_t replicates, otg_rng *rng, double *se) {
    if (!x || !y || !theta || !rng || !se || !x->data || !y->data || !theta->data)
        return otgi_fail(OTG_EINVAL, "sw bootstrap: NULL argument");
    if (x->ndim != 2 || y->ndim != 2 || theta->ndim != 2 || x->shape[1] != y->shape[1] ||
        theta->shape[0] != x->shape[1])
        return otgi_fail(OTG_ESHAPE, "sw bootstrap: x [n, d], y [m, d] and theta [d, L] must "
                                     "share d");
    const int64_t n = x->shape[0], m = y->shape[0], d = x->shape[1], L = theta->shape[1];
    if (n < 2 || m < 2 || n > INT32_MAX || m > INT32_MAX || L < 1 || replicates < 2 || !(p >= 1.0))
        return otgi_fail(OTG_EINVAL,
                         "sw bootstrap: needs at least 2 points per cloud (at most 2^31 - 1), a "
                         "direction, 2 replicates and p >= 1");
    const int nt = omp_get_max_threads();
    boot_state b = {
        .sx = malloc((size_t)(L * n) * sizeof(float)),
        .sy = malloc((size_t)(L * m) * sizeof(float)),
        .px = malloc((size_t)(L * n) * sizeof(int32_t)),
        .py = malloc((size_t)(L * m) * sizeof(int32_t)),
        .wx = malloc((size_t)(nt * n) * sizeof(double)),
        .wy = malloc((size_t)(nt * m) * sizeof(double)),
        .w = malloc((size_t)L * sizeof(double)),
        .v = malloc((size_t)replicates * sizeof(double)),
        .cx = malloc((size_t)n * sizeof(int64_t)),
        .cy = malloc((size_t)m * sizeof(int64_t)),
    };
    int ok = b.sx && b.sy && b.px && b.py && b.wx && b.wy && b.w && b.v && b.cx && b.cy &&
             sort_projections(x->data, n, d, theta, b.sx, b.px) &&
             sort_projections(y->data, m, d, theta, b.sy, b.py);
    double mean = 0.0, var = 0.0; /* two passes over the replicates, in order */
    for (int64_t r = 0; ok && r < replicates; r++) {
        draw_counts(rng, n, b.cx), draw_counts(rng, m, b.cy);
        mean += b.v[r] = replicate(&b, n, m, L, p);
    }
    mean /= (double)replicates;
    for (int64_t r = 0; ok && r < replicates; r++)
        var += (b.v[r] - mean) * (b.v[r] - mean);
    boot_free(&b);
    if (!ok) return otgi_fail(OTG_ENOMEM, "sw bootstrap: out of memory");
    *se = sqrt(var / (double)(replicates - 1));
    return isfinite(*se) ? OTG_OK
                         : otgi_fail(OTG_ENONFINITE, "sw bootstrap: not finite (non-finite "
                                                     "points?)");
}
