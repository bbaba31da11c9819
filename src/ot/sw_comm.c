/* The SW kernel over the ranks of an otg_comm, with the bits of the one-process kernel (sw.c).
 * Every rank holds x [n, d], y [m, d] and theta [d, L]. The directions go in windows of
 * chunk x size (on 256-direction blocks), each split over the ranks on row tiles of the
 * projection GEMM inside the blocks: each rank does phases (A) and (B) for its directions with the
 * one-process work items (a rank's part of a block is the same GEMM rows); the W_p^p values are
 * all-gathered and summarised in index order. For the gradient, the phase (C) row items (the
 * one-process ones, height otgi_sw_grad_rows(n)) are split over the ranks, an all-to-all per
 * window gives each rank the residuals of its items' rows for the window's directions, each item
 * accumulates over the 256-direction blocks in order as in one process, and a second all-to-all
 * (or an all-gather) moves the gradient rows to the ranks that own them. */
#include "comm/comm_internal.h"
#include "ot/ot_internal.h"
#include "otgen/ot.h"

#include <omp.h>
#include <string.h>

/* The sub-blocks of directions [l0, l1): the parts of the 256-direction blocks. */
static int64_t n_sub_blocks(int64_t l0, int64_t l1) {
    return l1 <= l0 ? 0 : (l1 - 1) / DIR_BLOCK - l0 / DIR_BLOCK + 1;
}

/* Phase A item k of (sub-block) x (row block of x, then of y), over directions [l0, l1). */
static void comm_project(otg_sw_workspace *ws, const otgi_sw_problem *q, int64_t l0, int64_t l1,
                         int64_t k, int64_t nb_x) {
    const int64_t nsub = n_sub_blocks(l0, l1), s = k % nsub, rb = k / nsub, on_y = rb >= nb_x;
    const int64_t b0 = (l0 / DIR_BLOCK + s) * DIR_BLOCK;
    const int64_t s0 = b0 > l0 ? b0 : l0, s1 = b0 + DIR_BLOCK < l1 ? b0 + DIR_BLOCK : l1;
    const int64_t rows_total = on_y ? q->m : q->n, r0 = (on_y ? rb - nb_x : rb) * PROJ_ROWS;
    const int64_t rows = rows_total - r0 < PROJ_ROWS ? rows_total - r0 : PROJ_ROWS;
    const float *pts = (on_y ? q->y : q->x) + r0 * q->d;
    float *out = (on_y ? ws->proj_y : ws->proj_x) + (s0 - l0) * rows_total + r0;
    /* out [s1 - s0, rows] = Theta[:, s0 .. s1)^T pts^T, as sw.c's item of block b0 */
    otg_gemm(1, 1, s1 - s0, rows, q->d, 1.0f, q->theta + s0, q->L, pts, q->d, 0.0f, out,
             rows_total);
}

/* Phases A and B for directions [l0, l1); returns the ties. */
static int64_t comm_directions(otg_sw_workspace *ws, const otgi_sw_problem *q, int64_t l0,
                               int64_t l1) {
    const int64_t nb_x = (q->n + PROJ_ROWS - 1) / PROJ_ROWS,
                  nb_y = (q->m + PROJ_ROWS - 1) / PROJ_ROWS;
    const int64_t n_proj = n_sub_blocks(l0, l1) * (nb_x + nb_y), lc = l1 - l0;
    int64_t ties = 0;
#pragma omp parallel reduction(+ : ties) if (otgi_sw_parallel(q, lc))
    {
        otgi_sw_scratch *t = &ws->ts[omp_get_thread_num()];
#pragma omp for schedule(dynamic, 1)
        for (int64_t k = 0; k < n_proj; k++)
            comm_project(ws, q, l0, l1, k, nb_x);
#pragma omp for schedule(dynamic, 1)
        for (int64_t l = 0; l < lc; l++)
            ties += otgi_sw_direction(ws, q, t, l0, l);
    }
    return ties;
}

/* Reserves the workspace for this rank's directions and sets the weights. */
static otg_status comm_setup(otg_sw_workspace *ws, const otgi_sw_problem *q, const float *a,
                             const float *b, const float *dir_w, int64_t lc) {
    otg_status st = otgi_sw_reserve(ws, q->n, q->m, lc > 0 ? lc : 1, q->L, omp_get_max_threads());
    if (st == OTG_OK && q->general) st = otgi_weights(a, q->n, "sw: weights of x", ws->a);
    if (st == OTG_OK && q->general) st = otgi_weights(b, q->m, "sw: weights of y", ws->b);
    if (st == OTG_OK && dir_w) st = otgi_weights(dir_w, q->L, "sw: direction weights", ws->dw);
    return st;
}

/* The partitions of one call: a window of directions, phase C items (as rows), this rank's parts.
 */
typedef struct {
    int64_t *doff, *aoff, *ioff; /* [size + 1]: the window's directions (from g0, and absolute);
                                    the rows of the items */
    int64_t g0, wl;              /* the window [g0, g0 + wl) */
    int64_t l0, l1, ra, rb, h;   /* this rank's directions (absolute) and item rows */
} comm_parts;

/* Splits the window [g0, g0 + wl) over the ranks; sets doff, aoff, l0, l1. */
static void window_parts(comm_parts *pp, int P, int rank, int64_t g0, int64_t wl) {
    pp->g0 = g0, pp->wl = wl;
    otgi_comm_dirs(wl, P, DIR_BLOCK, pp->doff);
    for (int r = 0; r <= P; r++)
        pp->aoff[r] = g0 + pp->doff[r];
    pp->l0 = pp->aoff[rank], pp->l1 = pp->aoff[rank + 1];
}

/* Phase C for the window: the residuals of this rank's item rows (rt [wl, rb - ra]) added into
 * gi [rb - ra, d], 256-direction block after block as in one process. */
static void comm_gradient(const otgi_sw_problem *q, const comm_parts *pp, const float *rt,
                          float *gi) {
    const int64_t nr = pp->rb - pp->ra, n_items = (nr + pp->h - 1) / pp->h;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t it = 0; it < n_items; it++) {
        const int64_t o = it * pp->h, rows = nr - o < pp->h ? nr - o : pp->h;
        for (int64_t b0 = 0; b0 < pp->wl; b0 += DIR_BLOCK) {
            int64_t lb = pp->wl - b0 < DIR_BLOCK ? pp->wl - b0 : DIR_BLOCK;
            otg_gemm(1, 1, rows, q->d, lb, 1.0f, rt + b0 * nr + o, nr, q->theta + pp->g0 + b0, q->L,
                     1.0f, gi + o * q->d, q->d);
        }
    }
}

/* Sends each rank the residuals R^T [my directions, its item rows]; receives rt [wl, my rows]. */
static otg_status exchange_residuals(otg_sw_workspace *ws, otg_comm *c, const otgi_sw_problem *q,
                                     const comm_parts *pp, float *send, float *rt, int64_t *cnt) {
    const int P = c->size;
    const int64_t lc = pp->l1 - pp->l0, nr = pp->rb - pp->ra;
    int64_t *sb = cnt, *so = cnt + P, *rbt = cnt + 2 * P, *ro = cnt + 3 * P;
    for (int r = 0; r < P; r++) {
        const int64_t rs = pp->ioff[r], rows = pp->ioff[r + 1] - rs;
        for (int64_t l = 0; l < lc; l++)
            memcpy(send + lc * rs + l * rows, ws->proj_x + l * q->n + rs,
                   (size_t)rows * sizeof(float));
        sb[r] = lc * rows * 4, so[r] = lc * rs * 4;
        rbt[r] = (pp->doff[r + 1] - pp->doff[r]) * nr * 4, ro[r] = pp->doff[r] * nr * 4;
    }
    return otgi_comm_alltoallv(c, send, sb, so, rt, rbt, ro);
}

/* Moves the item rows gi [ra, rb) to their owners: rows [row_off[r], row_off[r+1]) to rank r into
 * grad; row_off NULL: every rank receives all n rows. */
static otg_status deliver_rows(otg_comm *c, const otgi_sw_problem *q, const comm_parts *pp,
                               const int64_t *row_off, const float *gi, float *grad, int64_t *cnt) {
    const int P = c->size;
    const int64_t rb4 = q->d * 4;
    if (!row_off) {
        memcpy(grad + pp->ra * q->d, gi, (size_t)((pp->rb - pp->ra) * rb4));
        return otgi_comm_gather_rows(c, grad, pp->ioff, (size_t)rb4);
    }
    int64_t *sb = cnt, *so = cnt + P, *rbt = cnt + 2 * P, *ro = cnt + 3 * P;
    const int64_t m0 = row_off[c->rank], m1 = row_off[c->rank + 1];
    for (int r = 0; r < P; r++) {
        int64_t a = pp->ra > row_off[r] ? pp->ra : row_off[r];
        int64_t b = pp->rb < row_off[r + 1] ? pp->rb : row_off[r + 1];
        sb[r] = b > a ? (b - a) * rb4 : 0, so[r] = b > a ? (a - pp->ra) * rb4 : 0;
        a = pp->ioff[r] > m0 ? pp->ioff[r] : m0;
        b = pp->ioff[r + 1] < m1 ? pp->ioff[r + 1] : m1;
        rbt[r] = b > a ? (b - a) * rb4 : 0, ro[r] = b > a ? (a - m0) * rb4 : 0;
    }
    return otgi_comm_alltoallv(c, gi, sb, so, grad, rbt, ro);
}

/* The largest part of a rank over the windows of width w covering [0, L). */
static int64_t largest_part(int64_t L, int64_t w, int P, int64_t *off) {
    int64_t big = 1;
    for (int64_t g0 = 0; g0 < L; g0 += w) {
        otgi_comm_dirs(L - g0 < w ? L - g0 : w, P, DIR_BLOCK, off);
        for (int r = 0; r < P; r++)
            big = off[r + 1] - off[r] > big ? off[r + 1] - off[r] : big;
    }
    return big;
}

/* The buffers of one call: residuals to send [part, n], received [w, item rows], the gradient
 * rows of the items, the byte counts. */
typedef struct {
    float *send, *rt, *gi;
    int64_t *cnt;
} comm_buffers;

static otg_status buffers_alloc(comm_buffers *b, const otgi_sw_problem *q, const comm_parts *pp,
                                int64_t part, int64_t w, int P) {
    const int64_t nr = pp->rb - pp->ra;
    b->cnt = malloc(4 * (size_t)P * sizeof *b->cnt);
    if (q->grad) {
        b->send = malloc((size_t)(part * q->n + 1) * sizeof(float));
        b->rt = malloc((size_t)(w * nr + 1) * sizeof(float));
        b->gi = otgi_calloc((size_t)(nr * q->d + 1), sizeof(float));
    }
    int ok = b->cnt && (!q->grad || (b->send && b->rt && b->gi));
    return ok ? OTG_OK : otgi_fail(OTG_ENOMEM, "sw: out of memory");
}

/* The phase C items split over the ranks: ioff as rows, this rank's [ra, rb). */
static void item_parts(comm_parts *pp, const otgi_sw_problem *q, int P, int rank) {
    pp->h = otgi_sw_grad_rows(q->n);
    otgi_comm_even((q->n + pp->h - 1) / pp->h, P, pp->ioff);
    for (int r = 0; r <= P; r++)
        pp->ioff[r] = pp->ioff[r] * pp->h < q->n ? pp->ioff[r] * pp->h : q->n;
    pp->ra = pp->ioff[rank], pp->rb = pp->ioff[rank + 1];
}

/* The windows in order: phases A and B on this rank's part, the W values gathered, and for the
 * gradient the residual exchange and phase C. Ties into *ties. */
static otg_status run_windows(otg_sw_workspace *ws, otg_comm *c, const otgi_sw_problem *q,
                              comm_parts *pp, comm_buffers *b, int64_t w, int64_t *ties) {
    otg_status st = OTG_OK;
    for (int64_t g0 = 0; st == OTG_OK && g0 < q->L; g0 += w) {
        window_parts(pp, c->size, c->rank, g0, q->L - g0 < w ? q->L - g0 : w);
        *ties += comm_directions(ws, q, pp->l0, pp->l1);
        st = otgi_comm_gather_rows(c, ws->w_dir, pp->aoff, sizeof(double));
        if (st == OTG_OK && q->grad) st = exchange_residuals(ws, c, q, pp, b->send, b->rt, b->cnt);
        if (st == OTG_OK && q->grad) comm_gradient(q, pp, b->rt, b->gi);
    }
    return st;
}

otg_status otg_sw_comm(otg_sw_workspace *ws, const otg_tensor *x, const float *a,
                       const otg_tensor *y, const float *b, const otg_tensor *theta,
                       const otg_sw_opts *opts, otg_sw_result *res, float *grad_x,
                       const int64_t *row_off, double *per_dir, otg_comm *comm) {
    if (!comm) return otg_sw(ws, x, a, y, b, theta, opts, res, grad_x, per_dir);
    otg_sw_opts o = opts ? *opts : otg_sw_opts_default();
    if (!ws || !res) return otgi_fail(OTG_EINVAL, "sw: NULL workspace or result");
    otg_status st = otgi_sw_check(x, y, theta, &o);
    if (st != OTG_OK) return st;
    const int P = comm->size;
    otgi_sw_problem q = otgi_sw_problem_of(x, a, y, b, theta, o.p, grad_x);
    /* windows of chunk directions per rank, on 256-direction blocks */
    const int64_t chunk = (o.chunk + DIR_BLOCK - 1) / DIR_BLOCK * DIR_BLOCK;
    const int64_t lr = (q.L + DIR_BLOCK - 1) / DIR_BLOCK * DIR_BLOCK;
    const int64_t w = chunk * P < lr ? chunk * P : lr;
    int64_t *offs = malloc(3 * (size_t)(P + 1) * sizeof *offs);
    if (!offs) return otgi_fail(OTG_ENOMEM, "sw: out of memory");
    comm_parts pp = {.doff = offs, .aoff = offs + P + 1, .ioff = offs + 2 * (P + 1)};
    comm_buffers bf = {NULL, NULL, NULL, NULL};
    const int64_t part = largest_part(q.L, w, P, pp.doff);
    item_parts(&pp, &q, P, comm->rank);
    st = comm_setup(ws, &q, a, b, o.weights, part);
    q.dir_w = o.weights ? ws->dw : NULL;
    if (st == OTG_OK) st = buffers_alloc(&bf, &q, &pp, part, w, P);
    int64_t ties = 0;
    if (st == OTG_OK) st = run_windows(ws, comm, &q, &pp, &bf, w, &ties);
    if (st == OTG_OK) st = otgi_comm_sum(comm, &ties, 1);
    if (st == OTG_OK && grad_x) st = deliver_rows(comm, &q, &pp, row_off, bf.gi, grad_x, bf.cnt);
    free(offs), free(bf.send), free(bf.rt), free(bf.gi), free(bf.cnt);
    if (st != OTG_OK) return st;
    if (q.dir_w)
        otgi_sw_summarise_weighted(ws->w_dir, q.dir_w, q.L, q.p, res);
    else
        otgi_sw_summarise(ws->w_dir, q.L, q.p, res);
    res->ties = ties;
    if (per_dir) memcpy(per_dir, ws->w_dir, (size_t)q.L * sizeof *per_dir);
    return OTG_OK;
}
