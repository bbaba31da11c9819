/* SW between every pair of K point clouds along shared directions. Per chunk of directions:
 * (A) every cloud is projected by the SW kernel's own GEMM blocks (otgi_sw_project_block: 256
 * directions aligned to global indices x 512 rows), (B) every projection is sorted once (K sorts
 * per direction, not K(K - 1)), (C) the K(K - 1)/2 values W_p^p come from the sorted projections
 * by otg_sw's 1-D kernels (equal sizes: matching in order; otherwise the north-west corner with
 * uniform weights 1/n); each pair's mean over the directions is then summed in index order by
 * otgi_sw_summarise. So entry (i, j) has the bits of otg_sw(cloud i, cloud j) with uniform
 * weights, for any thread count and chunk. */
#include "internal.h"
#include "ot/ot_internal.h"
#include "otgen/ot.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const otg_tensor *clouds; /* [K] */
    const float *theta;       /* [d, L] */
    int64_t K, d, L, chunk, n_pairs;
    double p;
    int64_t *off;     /* [K + 1]: prefix sums of the cloud sizes */
    int64_t *items;   /* [K + 1]: prefix sums of phase A items per cloud (for the current chunk) */
    int32_t *pi, *pj; /* [n_pairs]: the pairs i < j in row order */
    float *proj;      /* cloud k's [chunk, n_k] block at proj + chunk off[k]; sorted in place */
    double *unif;     /* cloud k's uniform weights 1/n_k [n_k] at unif + off[k] */
    double *w;        /* [n_pairs, L]: W_p^p per pair and direction */
    otgi_sort_scratch *sc; /* one per thread */
    int n_threads;
} pairwise;

static int64_t cdiv(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

static int64_t size_of(const pairwise *pw, int64_t k) {
    return pw->clouds[k].shape[0];
}

/* Phase A item `it` of the chunk [c0, c0 + lc): one (cloud, direction block, row block). */
static void project_item(const pairwise *pw, int64_t c0, int64_t lc, int64_t it) {
    int64_t k = 0;
    while (pw->items[k + 1] <= it)
        k++;
    const int64_t n = size_of(pw, k), nb_dirs = cdiv(lc, DIR_BLOCK), local = it - pw->items[k];
    const int64_t blk = local % nb_dirs, r0 = local / nb_dirs * PROJ_ROWS;
    const int64_t rows = n - r0 < PROJ_ROWS ? n - r0 : PROJ_ROWS;
    const int64_t l0 = blk * DIR_BLOCK, ls = lc - l0 < DIR_BLOCK ? lc - l0 : DIR_BLOCK;
    float *out = pw->proj + pw->chunk * pw->off[k] + l0 * n + r0;
    otgi_sw_project_block(pw->theta, pw->L, c0 + l0, ls, pw->clouds[k].data + r0 * pw->d, rows,
                          pw->d, out, n);
}

/* Phase B item `it`: direction it % lc of cloud it / lc, sorted in place. */
static void sort_item(const pairwise *pw, int64_t lc, int64_t it, otgi_sort_scratch *sc) {
    const int64_t k = it / lc, l = it % lc, n = size_of(pw, k);
    float *row = pw->proj + pw->chunk * pw->off[k] + l * n;
    otgi_sort_f32(row, n, row, NULL, sc);
}

/* Phase C item: pair q over the chunk's directions, W_p^p into w[q, c0 + l]. */
static void pair_item(const pairwise *pw, int64_t c0, int64_t lc, int64_t q) {
    const int64_t i = pw->pi[q], j = pw->pj[q], n = size_of(pw, i), m = size_of(pw, j);
    const float *si = pw->proj + pw->chunk * pw->off[i], *sj = pw->proj + pw->chunk * pw->off[j];
    double *w = pw->w + q * pw->L + c0;
    for (int64_t l = 0; l < lc; l++)
        w[l] = n == m ? otgi_w1d_sorted_equal(si + l * n, sj + l * m, n, pw->p, 1.0, NULL)
                      : otgi_w1d_sorted_general(si + l * n, pw->unif + pw->off[i], n, sj + l * m,
                                                pw->unif + pw->off[j], m, pw->p,
                                                1.0 / (double)pw->L, NULL, NULL);
}

/* The three phases on the directions [c0, c0 + lc). */
static void pairwise_chunk(pairwise *pw, int64_t c0, int64_t lc) {
    pw->items[0] = 0;
    for (int64_t k = 0; k < pw->K; k++)
        pw->items[k + 1] = pw->items[k] + cdiv(lc, DIR_BLOCK) * cdiv(size_of(pw, k), PROJ_ROWS);
    const int64_t n_proj = pw->items[pw->K], n_sorts = pw->K * lc;
    const double work = (double)pw->off[pw->K] * (double)lc * (double)(pw->d + 16);
#pragma omp parallel num_threads(pw->n_threads) if (work >= (double)(1 << 18))
    {
        otgi_sort_scratch *sc = &pw->sc[omp_get_thread_num()];
#pragma omp for schedule(dynamic, 1)
        for (int64_t it = 0; it < n_proj; it++)
            project_item(pw, c0, lc, it);
#pragma omp for schedule(dynamic, 8)
        for (int64_t it = 0; it < n_sorts; it++)
            sort_item(pw, lc, it, sc);
#pragma omp for schedule(dynamic, 1)
        for (int64_t q = 0; q < pw->n_pairs; q++)
            pair_item(pw, c0, lc, q);
    }
}

static otg_status check(const otg_tensor *clouds, int64_t K, const otg_tensor *theta,
                        const otg_sw_opts *o, const double *dist) {
    if (!clouds || !theta || !theta->data || !dist)
        return otgi_fail(OTG_EINVAL, "sw_pairwise: NULL argument");
    if (K < 2)
        return otgi_fail(OTG_EINVAL, "sw_pairwise: %lld cloud(s), need 2 or more", (long long)K);
    if (K > INT32_MAX) return otgi_fail(OTG_EINVAL, "sw_pairwise: too many clouds");
    if (theta->ndim != 2 || theta->shape[1] < 1)
        return otgi_fail(OTG_ESHAPE, "sw_pairwise: directions must be [d, L], L >= 1");
    for (int64_t k = 0; k < K; k++) {
        const otg_tensor *c = &clouds[k];
        if (!c->data || c->ndim != 2 || c->shape[0] < 1)
            return otgi_fail(OTG_ESHAPE, "sw_pairwise: cloud %lld is not a 2-D array [n, d]",
                             (long long)k);
        if (c->shape[1] != theta->shape[0])
            return otgi_fail(OTG_ESHAPE,
                             "sw_pairwise: cloud %lld has dimension %lld, the directions %lld",
                             (long long)k, (long long)c->shape[1], (long long)theta->shape[0]);
        if (c->shape[0] > INT32_MAX)
            return otgi_fail(OTG_EINVAL, "sw_pairwise: cloud %lld has more than 2^31 points",
                             (long long)k);
    }
    if (!(o->p >= 1.0) || !isfinite(o->p))
        return otgi_fail(OTG_EINVAL, "sw_pairwise: p = %g, need p >= 1", o->p);
    if (o->chunk < 1)
        return otgi_fail(OTG_EINVAL, "sw_pairwise: chunk %lld < 1", (long long)o->chunk);
    return OTG_OK;
}

static void release(pairwise *pw) {
    for (int t = 0; pw->sc && t < pw->n_threads; t++)
        otgi_sort_release(&pw->sc[t]);
    free(pw->sc), free(pw->off), free(pw->items), free(pw->pi), free(pw->pj), free(pw->proj);
    free(pw->unif), free(pw->w);
}

/* Buffers, offsets, pairs and uniform weights; 0 on ENOMEM. */
static int setup(pairwise *pw) {
    const int64_t K = pw->K;
    pw->off = malloc((size_t)(K + 1) * sizeof *pw->off);
    pw->items = malloc((size_t)(K + 1) * sizeof *pw->items);
    pw->pi = malloc((size_t)pw->n_pairs * sizeof *pw->pi);
    pw->pj = malloc((size_t)pw->n_pairs * sizeof *pw->pj);
    pw->w = malloc((size_t)(pw->n_pairs * pw->L) * sizeof *pw->w);
    pw->sc = otgi_calloc((size_t)pw->n_threads, sizeof *pw->sc);
    if (!pw->off || !pw->items || !pw->pi || !pw->pj || !pw->w || !pw->sc) return 0;
    int64_t big = 0, q = 0;
    pw->off[0] = 0;
    for (int64_t k = 0; k < K; k++) {
        pw->off[k + 1] = pw->off[k] + size_of(pw, k);
        big = size_of(pw, k) > big ? size_of(pw, k) : big;
    }
    for (int64_t i = 0; i < K; i++)
        for (int64_t j = i + 1; j < K; j++)
            pw->pi[q] = (int32_t)i, pw->pj[q++] = (int32_t)j;
    const int64_t total = pw->off[K];
    pw->proj = malloc((size_t)(pw->chunk * total) * sizeof *pw->proj);
    pw->unif = malloc((size_t)total * sizeof *pw->unif);
    if (!pw->proj || !pw->unif) return 0;
    for (int64_t k = 0; k < K; k++) /* otgi_weights(NULL, n): the same 1.0 / n as otg_sw */
        if (otgi_weights(NULL, size_of(pw, k), "sw_pairwise", pw->unif + pw->off[k]) != OTG_OK)
            return 0;
    for (int t = 0; t < pw->n_threads; t++)
        if (otgi_sort_reserve(&pw->sc[t], big) != OTG_OK) return 0;
    return 1;
}

otg_status otg_sw_pairwise(const otg_tensor *clouds, int64_t K, const otg_tensor *theta,
                           const otg_sw_opts *opts, double *dist, double *value) {
    const otg_sw_opts o = opts ? *opts : otg_sw_opts_default();
    otg_status st = check(clouds, K, theta, &o, dist);
    if (st != OTG_OK) return st;
    if (o.weights)
        return otgi_fail(OTG_EINVAL, "sw_pairwise: per-direction weights are not supported "
                                     "(uniform directions only)");
    pairwise pw = {.clouds = clouds,
                   .theta = theta->data,
                   .K = K,
                   .d = theta->shape[0],
                   .L = theta->shape[1],
                   .n_pairs = K * (K - 1) / 2,
                   .p = o.p,
                   .n_threads = omp_get_max_threads()};
    pw.chunk = cdiv(o.chunk, DIR_BLOCK) * DIR_BLOCK; /* as otg_sw; the bits do not depend on it */
    if (pw.chunk > pw.L) pw.chunk = cdiv(pw.L, DIR_BLOCK) * DIR_BLOCK;
    if (!setup(&pw)) {
        release(&pw);
        return otgi_fail(OTG_ENOMEM, "sw_pairwise: out of memory for %lld clouds, chunk %lld",
                         (long long)K, (long long)pw.chunk);
    }
    for (int64_t c0 = 0; c0 < pw.L; c0 += pw.chunk)
        pairwise_chunk(&pw, c0, pw.L - c0 < pw.chunk ? pw.L - c0 : pw.chunk);
    for (int64_t k = 0; k < K; k++) {
        dist[k * K + k] = 0.0;
        if (value) value[k * K + k] = 0.0;
    }
    for (int64_t q = 0; q < pw.n_pairs; q++) {
        otg_sw_result r;
        otgi_sw_summarise(pw.w + q * pw.L, pw.L, pw.p, &r);
        const int64_t i = pw.pi[q], j = pw.pj[q];
        dist[i * K + j] = dist[j * K + i] = r.distance;
        if (value) value[i * K + j] = value[j * K + i] = r.value;
    }
    release(&pw);
    return OTG_OK;
}
