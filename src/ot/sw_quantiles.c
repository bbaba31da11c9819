/* SW_2^2 against a whole data set along fixed directions. Along a direction, W_2^2 between n
 * sorted points s_i (mass 1/n each) and the N sorted projections t_j of the data (mass 1/N) is
 * (1/n) sum_i (s_i - q_i)^2 + c, where q_i is the mean of the data's quantile function over
 * [i/n, (i+1)/n) and c = (1/N) sum_j t_j^2 - (1/n) sum_i q_i^2 the variance left inside those
 * intervals. otg_sw_quantiles computes (q, c) once per direction; otg_sw_to_quantiles then costs
 * one projection and one sort of the n points, and no data batch. */
#include "ot/ot_internal.h"
#include "otgen/ot.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

enum { BANK_BLOCK = 64 }; /* directions per work item of otg_sw_quantiles */

/* Interval means q [n] and within-interval variance of the sorted t [N]. In units of 1/(N n),
 * point j covers [j n, (j + 1) n) and interval i covers [i N, (i + 1) N): integer overlaps. */
static double interval_means(const float *t, int64_t N, int64_t n, float *q) {
    double sq_t = 0.0, sq_q = 0.0;
    int64_t j = 0, pos = 0; /* pos: how far point j is used up, in [0, n) */
    for (int64_t i = 0; i < n; i++) {
        int64_t need = N; /* interval i's length left */
        double acc = 0.0;
        while (need > 0) {
            int64_t take = n - pos < need ? n - pos : need;
            acc += (double)t[j] * (double)take;
            need -= take, pos += take;
            if (pos == n) pos = 0, j++;
        }
        const double mean = acc / (double)N;
        q[i] = (float)mean;
        sq_q += mean * mean;
    }
    for (int64_t k = 0; k < N; k++)
        sq_t += (double)t[k] * (double)t[k];
    const double c = sq_t / (double)N - sq_q / (double)n;
    return c > 0.0 ? c : 0.0;
}

/* Directions [k0, k0 + kc) of theta [d, K]: project all of y, sort, interval means. */
static void bank_block(const otg_tensor *y, const otg_tensor *theta, int64_t k0, int64_t kc,
                       int64_t n, float *proj, float *sorted, otgi_sort_scratch *sc, float *q,
                       double *c) {
    const int64_t N = y->shape[0], d = y->shape[1], K = theta->shape[1];
    for (int64_t r0 = 0; r0 < N; r0 += PROJ_ROWS) { /* the same row blocks as otg_sw's phase A */
        const int64_t rows = N - r0 < PROJ_ROWS ? N - r0 : PROJ_ROWS;
        otgi_sw_project_block(theta->data, K, k0, kc, y->data + r0 * d, rows, d, proj + r0, N);
    }
    for (int64_t l = 0; l < kc; l++) {
        otgi_sort_f32(proj + l * N, N, sorted, NULL, sc);
        c[k0 + l] = interval_means(sorted, N, n, q + (k0 + l) * n);
    }
}

otg_status otg_sw_quantiles(const otg_tensor *y, const otg_tensor *theta, int64_t n, float *q,
                            double *c) {
    if (!y || !theta || !y->data || !theta->data || !q || !c)
        return otgi_fail(OTG_EINVAL, "sw_quantiles: NULL argument");
    if (y->ndim != 2 || theta->ndim != 2 || theta->shape[0] != y->shape[1])
        return otgi_fail(OTG_ESHAPE, "sw_quantiles: need y [N, d] and theta [d, K]");
    if (n < 1 || y->shape[0] < 1 || y->shape[0] > INT32_MAX)
        return otgi_fail(OTG_EINVAL, "sw_quantiles: need n >= 1 and 1 <= N < 2^31 (n %lld, N %lld)",
                         (long long)n, (long long)y->shape[0]);
    const int64_t N = y->shape[0], K = theta->shape[1], items = (K + BANK_BLOCK - 1) / BANK_BLOCK;
    int failed = 0;
#pragma omp parallel reduction(| : failed)
    {
        float *proj = malloc((size_t)(BANK_BLOCK * N) * sizeof(float));
        float *sorted = malloc((size_t)N * sizeof(float));
        otgi_sort_scratch sc = {0};
        int ok = proj && sorted && otgi_sort_reserve(&sc, N) == OTG_OK;
        failed |= !ok;
#pragma omp for schedule(dynamic, 1)
        for (int64_t b = 0; b < items; b++) {
            const int64_t k0 = b * BANK_BLOCK, kc = K - k0 < BANK_BLOCK ? K - k0 : BANK_BLOCK;
            if (ok) bank_block(y, theta, k0, kc, n, proj, sorted, &sc, q, c);
        }
        otgi_sort_release(&sc);
        free(proj), free(sorted);
    }
    return failed ? otgi_fail(OTG_ENOMEM, "sw_quantiles: out of memory for N=%lld", (long long)N)
                  : OTG_OK;
}

otg_status otg_sw_to_quantiles(otg_sw_workspace *ws, const otg_tensor *x, const float *q,
                               const double *c, const otg_tensor *theta, const otg_sw_opts *opts,
                               otg_sw_result *res, float *grad_x, double *per_dir) {
    otg_sw_opts o = opts ? *opts : otg_sw_opts_default();
    if (!ws || !res || !q || !c) return otgi_fail(OTG_EINVAL, "sw_to_quantiles: NULL argument");
    if (o.p != 2.0 || o.weights)
        return otgi_fail(OTG_EINVAL, "sw_to_quantiles: p = 2 and uniform directions only");
    otg_status st = otgi_sw_check(x, x, theta, &o);
    if (st != OTG_OK) return st;
    otgi_sw_problem pr = otgi_sw_problem_of(x, NULL, x, NULL, theta, 2.0, grad_x);
    pr.yq = q, pr.yc = c; /* y is not read: the target's side is q and c */
    const int64_t chunk = otgi_sw_chunk_size(o.chunk, pr.L);
    st = otgi_sw_reserve(ws, pr.n, pr.n, chunk, pr.L, omp_get_max_threads());
    if (st != OTG_OK) return st;
    if (grad_x) memset(grad_x, 0, (size_t)(pr.n * pr.d) * sizeof(float));
    int64_t ties = 0;
    for (int64_t c0 = 0; c0 < pr.L; c0 += chunk)
        ties += otgi_sw_chunk(ws, &pr, c0, pr.L - c0 < chunk ? pr.L - c0 : chunk);
    otgi_sw_summarise(ws->w_dir, pr.L, 2.0, res);
    res->ties = ties;
    if (per_dir) memcpy(per_dir, ws->w_dir, (size_t)pr.L * sizeof *per_dir);
    return OTG_OK;
}
