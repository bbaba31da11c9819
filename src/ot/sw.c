/* The fused Sliced-Wasserstein kernel: value and gradient in one pass over the directions.
 * Per chunk of directions: (A) projections P^T = Theta_c^T X^T and Q^T = Theta_c^T Y^T by GEMM,
 * (B) per direction two stable sorts, the 1-D matching, W_p^p and the residuals R^T written over
 * P^T, (C) grad_x += R Theta_c^T by GEMM. Every phase is an OpenMP loop over FIXED work items
 * (projections: 256 directions x 512 points; single directions; gradient: a row block whose
 * height depends on n only, times 256-direction K-blocks), all aligned to global direction
 * indices with the chunk a multiple of 256, and each item calls a single-threaded GEMM: the bits
 * of the result depend neither on the thread count nor on the chunk size. With otg_sw_opts.fast
 * (hadamard directions) phases A and C run by fast transforms instead (hadamard.c), on row blocks
 * of FAST_ROWS points and all L directions in one chunk; phase B is the same. */
#include "ot/ot_internal.h"
#include "otgen/ot.h"

#include <math.h>
#include <omp.h>
#include <string.h>

/* Rows per gradient item: about n/4 (4+ items to share), a multiple of 16, within [64, 1024]. */
int64_t otgi_sw_grad_rows(int64_t n) {
    int64_t r = (n / 4 + 15) / 16 * 16;
    return r < 64 ? 64 : r > 1024 ? 1024 : r;
}

otg_sw_opts otg_sw_opts_default(void) {
    otg_sw_opts o = {2.0, 256, NULL, NULL};
    return o;
}

otg_sw_workspace *otg_sw_workspace_new(void) {
    return otgi_calloc(1, sizeof(otg_sw_workspace));
}

static void scratch_free(otgi_sw_scratch *t) {
    otgi_sort_release(&t->sc);
    free(t->ss), free(t->st), free(t->ds), free(t->ps), free(t->pt);
    free(t->wa), free(t->wb), free(t->gs), free(t->hb);
    memset(t, 0, sizeof *t);
}

static void ws_release(otg_sw_workspace *ws) {
    for (int i = 0; i < ws->n_threads; i++)
        scratch_free(&ws->ts[i]);
    free(ws->ts), free(ws->proj_x), free(ws->proj_y), free(ws->w_dir), free(ws->a), free(ws->b);
    free(ws->dw), free(ws->est), free(ws->keep);
    memset(ws, 0, sizeof *ws);
}

void otg_sw_workspace_free(otg_sw_workspace *ws) {
    if (!ws) return;
    ws_release(ws);
    free(ws);
}

static int scratch_alloc(otgi_sw_scratch *t, int64_t n, int64_t m) {
    int64_t big = n > m ? n : m;
    t->ss = malloc((size_t)n * sizeof(float)), t->ds = malloc((size_t)n * sizeof(float));
    t->st = malloc((size_t)m * sizeof(float));
    t->ps = malloc((size_t)n * sizeof(int32_t)), t->pt = malloc((size_t)m * sizeof(int32_t));
    t->wa = malloc((size_t)n * sizeof(double)), t->gs = malloc((size_t)n * sizeof(double));
    t->wb = malloc((size_t)m * sizeof(double));
    return t->ss && t->ds && t->st && t->ps && t->pt && t->wa && t->gs && t->wb &&
           otgi_sort_reserve(&t->sc, big) == OTG_OK;
}

/* Grows the buffers to hold (n, m, chunk, L) with `threads` scratch sets; no-op when they do. */
otg_status otgi_sw_reserve(otg_sw_workspace *ws, int64_t n, int64_t m, int64_t chunk, int64_t L,
                           int threads) {
    if (n <= ws->n && m <= ws->m && chunk <= ws->chunk && L <= ws->L && threads <= ws->n_threads)
        return OTG_OK;
    n = n > ws->n ? n : ws->n, m = m > ws->m ? m : ws->m;
    chunk = chunk > ws->chunk ? chunk : ws->chunk, L = L > ws->L ? L : ws->L;
    threads = threads > ws->n_threads ? threads : ws->n_threads;
    ws_release(ws);
    ws->proj_x = malloc((size_t)(chunk * n) * sizeof(float));
    ws->proj_y = malloc((size_t)(chunk * m) * sizeof(float));
    ws->w_dir = malloc((size_t)L * sizeof(double)), ws->dw = malloc((size_t)L * sizeof(double));
    ws->a = malloc((size_t)n * sizeof(double)), ws->b = malloc((size_t)m * sizeof(double));
    ws->ts = otgi_calloc((size_t)threads, sizeof *ws->ts);
    int ok = ws->proj_x && ws->proj_y && ws->w_dir && ws->dw && ws->a && ws->b && ws->ts;
    ws->n_threads = ok ? threads : 0;
    for (int i = 0; ok && i < threads; i++)
        ok = scratch_alloc(&ws->ts[i], n, m);
    if (!ok) {
        ws_release(ws);
        return otgi_fail(OTG_ENOMEM, "sw: out of memory for n=%lld, m=%lld, chunk=%lld",
                         (long long)n, (long long)m, (long long)chunk);
    }
    ws->n = n, ws->m = m, ws->chunk = chunk, ws->L = L;
    return OTG_OK;
}

/* Phase B for direction l of the chunk: sorts, 1-D matching, W_p^p; residuals over proj_x row. */
int64_t otgi_sw_direction(otg_sw_workspace *ws, const otgi_sw_problem *q, otgi_sw_scratch *t,
                          int64_t c0, int64_t l) {
    float *px = ws->proj_x + l * q->n;
    const float *py = ws->proj_y + l * q->m;
    int64_t ties = otgi_sort_f32(px, q->n, t->ss, t->ps, &t->sc);
    double w;
    if (!q->general) { /* matching in order, against sorted y or the target's interval means */
        const float *tgt = q->yq ? q->yq + (c0 + l) * q->n : t->st;
        if (!q->yq) otgi_sort_f32(py, q->m, t->st, NULL, &t->sc);
        double scale =
            q->dir_w ? q->dir_w[c0 + l] / (double)q->n : 1.0 / ((double)q->n * (double)q->L);
        w = otgi_w1d_sorted_equal(t->ss, tgt, q->n, q->p, scale, q->grad ? t->ds : NULL);
        if (q->yq) w += q->yc[c0 + l];
        if (q->grad)
            for (int64_t i = 0; i < q->n; i++)
                px[t->ps[i]] = t->ds[i];
    } else if (q->blocks) { /* uniform weights, one size a multiple of the other */
        otgi_sort_f32(py, q->m, t->st, NULL, &t->sc);
        const double scale = q->dir_w ? q->dir_w[c0 + l] : 1.0 / (double)q->L;
        w = otgi_w1d_sorted_blocks(t->ss, q->n, t->st, q->m, q->p, scale, q->grad ? t->gs : NULL);
        if (q->grad)
            for (int64_t i = 0; i < q->n; i++)
                px[t->ps[i]] = (float)t->gs[i];
    } else {
        otgi_sort_f32(py, q->m, t->st, t->pt, &t->sc);
        for (int64_t i = 0; i < q->n; i++)
            t->wa[i] = ws->a[t->ps[i]];
        for (int64_t j = 0; j < q->m; j++)
            t->wb[j] = ws->b[t->pt[j]];
        double scale = q->dir_w ? q->dir_w[c0 + l] : 1.0 / (double)q->L;
        w = otgi_w1d_sorted_general(t->ss, t->wa, q->n, t->st, t->wb, q->m, q->p, scale,
                                    q->grad ? t->gs : NULL, NULL);
        if (q->grad)
            for (int64_t i = 0; i < q->n; i++)
                px[t->ps[i]] = (float)t->gs[i];
    }
    ws->w_dir[c0 + l] = w;
    return ties;
}

/* Rows per phase-A item of the fast path (every direction at once, so items are row blocks). */
enum { FAST_ROWS = 64 };

/* The fast path's phase A item k: a row block of x, then of y, on all L directions. */
static void project_fast(otg_sw_workspace *ws, const otgi_sw_problem *q, otgi_sw_scratch *t,
                         int64_t k, int64_t nb_x) {
    const int64_t on_y = k >= nb_x, rows_total = on_y ? q->m : q->n;
    const int64_t r0 = (on_y ? k - nb_x : k) * FAST_ROWS;
    const int64_t rows = rows_total - r0 < FAST_ROWS ? rows_total - r0 : FAST_ROWS;
    otgi_hadamard_project(q->fast, (on_y ? q->y : q->x) + r0 * q->d, rows,
                          (on_y ? ws->proj_y : ws->proj_x) + r0, rows_total, t->hb);
}

/* Phase A item k of (directions block) x (row block of x, then of y): P^T or Q^T entries. */
void otgi_sw_project(otg_sw_workspace *ws, const otgi_sw_problem *q, int64_t c0, int64_t lc,
                     int64_t k, int64_t nb_x) {
    const int64_t nb_dirs = (lc + DIR_BLOCK - 1) / DIR_BLOCK;
    const int64_t blk = k % nb_dirs, rb = k / nb_dirs, on_y = rb >= nb_x;
    const int64_t rows_total = on_y ? q->m : q->n, r0 = (on_y ? rb - nb_x : rb) * PROJ_ROWS;
    const int64_t rows = rows_total - r0 < PROJ_ROWS ? rows_total - r0 : PROJ_ROWS;
    const int64_t l0 = blk * DIR_BLOCK, ls = lc - l0 < DIR_BLOCK ? lc - l0 : DIR_BLOCK;
    const float *pts = (on_y ? q->y : q->x) + r0 * q->d;
    float *out = (on_y ? ws->proj_y : ws->proj_x) + l0 * rows_total + r0;
    otgi_sw_project_block(q->theta, q->L, c0 + l0, ls, pts, rows, q->d, out, rows_total);
}

void otgi_sw_project_block(const float *theta, int64_t L, int64_t col0, int64_t ls,
                           const float *pts, int64_t rows, int64_t d, float *out, int64_t ld) {
    /* out [ls, rows] (row stride ld) = Theta[:, col0 ...]^T [ls, d] pts^T [d, rows] */
    otg_gemm(1, 1, ls, rows, d, 1.0f, theta + col0, L, pts, d, 0.0f, out, ld);
}

/* Phase C item r: grad rows [r0, r0 + rows) += R[rows, chunk] Theta_chunk^T, by K-blocks. */
void otgi_sw_gradient_rows(otg_sw_workspace *ws, const otgi_sw_problem *q, int64_t c0, int64_t lc,
                           int64_t r) {
    const int64_t h = otgi_sw_grad_rows(q->n), r0 = r * h, rows = q->n - r0 < h ? q->n - r0 : h;
    for (int64_t b0 = 0; b0 < lc; b0 += DIR_BLOCK) {
        int64_t lb = lc - b0 < DIR_BLOCK ? lc - b0 : DIR_BLOCK;
        otg_gemm(1, 1, rows, q->d, lb, 1.0f, ws->proj_x + b0 * q->n + r0, q->n, q->theta + c0 + b0,
                 q->L, 1.0f, q->grad + r0 * q->d, q->d);
    }
}

/* Directions [c0, c0 + lc) of the problem: the three phases. Returns the ties met. */
int64_t otgi_sw_chunk(otg_sw_workspace *ws, const otgi_sw_problem *q, int64_t c0, int64_t lc) {
    const int64_t rows_per = q->fast ? FAST_ROWS : PROJ_ROWS;
    const int64_t nb_x = (q->n + rows_per - 1) / rows_per,
                  nb_y = q->yq ? 0 : (q->m + rows_per - 1) / rows_per;
    const int64_t n_proj = (q->fast ? 1 : (lc + DIR_BLOCK - 1) / DIR_BLOCK) * (nb_x + nb_y);
    const int64_t n_rows = (q->n + otgi_sw_grad_rows(q->n) - 1) / otgi_sw_grad_rows(q->n);
    int64_t ties = 0;
#pragma omp parallel reduction(+ : ties) if (otgi_sw_parallel(q, lc))
    {
        otgi_sw_scratch *t = &ws->ts[omp_get_thread_num()];
#pragma omp for schedule(dynamic, 1)
        for (int64_t k = 0; k < n_proj; k++) {
            if (q->fast)
                project_fast(ws, q, t, k, nb_x);
            else
                otgi_sw_project(ws, q, c0, lc, k, nb_x);
        }
#pragma omp for schedule(dynamic, 1)
        for (int64_t l = 0; l < lc; l++)
            ties += otgi_sw_direction(ws, q, t, c0, l);
        if (q->grad) {
            const int64_t h = otgi_sw_grad_rows(q->n);
#pragma omp for schedule(dynamic, 1)
            for (int64_t r = 0; r < n_rows; r++) {
                const int64_t r0 = r * h;
                if (q->fast)
                    otgi_hadamard_adjoint_add(q->fast, ws->proj_x + r0, q->n,
                                              q->n - r0 < h ? q->n - r0 : h, q->grad + r0 * q->d,
                                              t->hb);
                else
                    otgi_sw_gradient_rows(ws, q, c0, lc, r);
            }
        }
    }
    return ties;
}

otg_status otgi_sw_check(const otg_tensor *x, const otg_tensor *y, const otg_tensor *theta,
                         const otg_sw_opts *o) {
    if (!x || !y || !theta || !x->data || !y->data || !theta->data)
        return otgi_fail(OTG_EINVAL, "sw: NULL argument");
    if (x->ndim != 2 || y->ndim != 2 || theta->ndim != 2)
        return otgi_fail(OTG_ESHAPE, "sw: x, y and theta must be 2-D");
    if (x->shape[1] != y->shape[1])
        return otgi_fail(OTG_ESHAPE, "sw: x has dimension %lld, y has %lld", (long long)x->shape[1],
                         (long long)y->shape[1]);
    if (theta->shape[0] != x->shape[1])
        return otgi_fail(OTG_ESHAPE, "sw: directions have dimension %lld, points have %lld",
                         (long long)theta->shape[0], (long long)x->shape[1]);
    if (x->shape[0] > INT32_MAX || y->shape[0] > INT32_MAX)
        return otgi_fail(OTG_EINVAL, "sw: more than 2^31 points");
    if (!(o->p >= 1.0) || !isfinite(o->p))
        return otgi_fail(OTG_EINVAL, "sw: p = %g, need p >= 1", o->p);
    if (o->chunk < 1) return otgi_fail(OTG_EINVAL, "sw: chunk %lld < 1", (long long)o->chunk);
    return OTG_OK;
}

/* Mean, standard error and distance from the per-direction values, summed in index order. */
void otgi_sw_summarise(const double *w, int64_t L, double p, otg_sw_result *res) {
    double sum = 0.0, sq = 0.0;
    for (int64_t l = 0; l < L; l++)
        sum += w[l];
    double mean = sum / (double)L;
    for (int64_t l = 0; l < L; l++)
        sq += (w[l] - mean) * (w[l] - mean);
    res->value = mean;
    res->distance = pow(mean, 1.0 / p);
    res->stderr_value = L > 1 ? sqrt(sq / (double)(L - 1)) / sqrt((double)L) : (double)NAN;
    res->n_directions = L;
}

void otgi_sw_summarise_weighted(const double *w, const double *dw, int64_t L, double p,
                                otg_sw_result *res) {
    double mean = 0.0, sq = 0.0;
    for (int64_t l = 0; l < L; l++)
        mean += dw[l] * w[l];
    for (int64_t l = 0; l < L; l++)
        sq += dw[l] * dw[l] * (w[l] - mean) * (w[l] - mean);
    res->value = mean;
    res->distance = pow(mean, 1.0 / p);
    res->stderr_value = L > 1 ? sqrt(sq * (double)L / (double)(L - 1)) : (double)NAN;
    res->n_directions = L;
}

/* The fast path's checks and per-thread transform scratch (otg_sw_opts.fast). */
static otg_status fast_setup(otg_sw_workspace *ws, const otgi_sw_problem *q) {
    const otg_sw_hadamard *h = q->fast;
    if (h->d != q->d || h->L != q->L || !h->signs || !h->scale)
        return otgi_fail(OTG_EINVAL,
                         "sw: opts.fast holds directions for d=%lld, L=%lld, theta is "
                         "%lldx%lld",
                         (long long)h->d, (long long)h->L, (long long)q->d, (long long)q->L);
    const int64_t need = otgi_hadamard_scratch(h);
    for (int i = 0; i < ws->n_threads; i++) {
        otgi_sw_scratch *t = &ws->ts[i];
        if (t->hb_cap >= need) continue;
        free(t->hb);
        t->hb = malloc((size_t)need * sizeof(float));
        t->hb_cap = t->hb ? need : 0;
        if (!t->hb) return otgi_fail(OTG_ENOMEM, "sw: out of memory for the fast transforms");
    }
    return OTG_OK;
}

otg_status otg_sw(otg_sw_workspace *ws, const otg_tensor *x, const float *a, const otg_tensor *y,
                  const float *b, const otg_tensor *theta, const otg_sw_opts *opts,
                  otg_sw_result *res, float *grad_x, double *per_dir) {
    otg_sw_opts o = opts ? *opts : otg_sw_opts_default();
    if (!ws || !res) return otgi_fail(OTG_EINVAL, "sw: NULL workspace or result");
    otg_status st = otgi_sw_check(x, y, theta, &o);
    if (st != OTG_OK) return st;
    otgi_sw_problem q = otgi_sw_problem_of(x, a, y, b, theta, o.p, grad_x);
    q.fast = o.fast;
    const int64_t chunk = otgi_sw_chunk_size(o.fast ? q.L : o.chunk, q.L);
    st = otgi_sw_reserve(ws, q.n, q.m, chunk, q.L, omp_get_max_threads());
    if (st == OTG_OK && q.fast) st = fast_setup(ws, &q);
    if (st == OTG_OK && q.general) st = otgi_weights(a, q.n, "sw: weights of x", ws->a);
    if (st == OTG_OK && q.general) st = otgi_weights(b, q.m, "sw: weights of y", ws->b);
    if (st == OTG_OK && o.weights)
        st = otgi_weights(o.weights, q.L, "sw: direction weights", ws->dw);
    if (st != OTG_OK) return st;
    q.dir_w = o.weights ? ws->dw : NULL;
    if (grad_x) memset(grad_x, 0, (size_t)(q.n * q.d) * sizeof(float));
    int64_t ties = 0;
    for (int64_t c0 = 0; c0 < q.L; c0 += chunk)
        ties += otgi_sw_chunk(ws, &q, c0, q.L - c0 < chunk ? q.L - c0 : chunk);
    if (q.dir_w)
        otgi_sw_summarise_weighted(ws->w_dir, q.dir_w, q.L, q.p, res);
    else
        otgi_sw_summarise(ws->w_dir, q.L, q.p, res);
    res->ties = ties;
    if (per_dir) memcpy(per_dir, ws->w_dir, (size_t)q.L * sizeof *per_dir);
    return OTG_OK;
}
