/* The SW kernel over the ranks of an otg_comm, with the bits of the one-process kernel (sw.c).
 * Every rank holds x [n, d], y [m, d] and theta [d, L]. The directions are split on row tiles of
 * the projection GEMM inside the 256-direction blocks: each rank does phases (A) and (B) for its
 * directions with the one-process work items (a rank's part of a block is the same GEMM rows);
 * the W_p^p values are all-gathered and summarised in index order. For the gradient, the phase
 * (C) row items (the one-process ones, height otgi_sw_grad_rows(n)) are split over the ranks, an
 * all-to-all gives each rank the residuals of its items' rows for every direction, each item
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
#pragma omp parallel reduction(+ : ties)
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

/* The partitions of one call: directions, phase C items (as rows), and this rank's parts. */
typedef struct {
    int64_t *doff, *ioff; /* [size + 1]: directions; rows of the items */
    int64_t l0, l1, ra, rb, h;
} comm_parts;

/* Phase C: the residuals of this rank's item rows (rt [L, rb - ra]) into gi [rb - ra, d]. */
static void comm_gradient(const otgi_sw_problem *q, const comm_parts *pp, const float *rt,
                          float *gi) {
    const int64_t nr = pp->rb - pp->ra, n_items = (nr + pp->h - 1) / pp->h;
    memset(gi, 0, (size_t)(nr * q->d) * sizeof(float));
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t it = 0; it < n_items; it++) {
        const int64_t o = it * pp->h, rows = nr - o < pp->h ? nr - o : pp->h;
        for (int64_t b0 = 0; b0 < q->L; b0 += DIR_BLOCK) {
            int64_t lb = q->L - b0 < DIR_BLOCK ? q->L - b0 : DIR_BLOCK;
            otg_gemm(1, 1, rows, q->d, lb, 1.0f, rt + b0 * nr + o, nr, q->theta + b0, q->L, 1.0f,
                     gi + o * q->d, q->d);
        }
    }
}

/* Sends each rank the residuals R^T [my directions, its item rows]; receives rt [L, my rows]. */
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

/* The gradient part: items split, residuals exchanged, accumulated, delivered. */
static otg_status comm_grad(otg_sw_workspace *ws, otg_comm *c, const otgi_sw_problem *q,
                            comm_parts *pp, const int64_t *row_off, float *grad) {
    const int P = c->size;
    const int64_t n_items = (q->n + pp->h - 1) / pp->h;
    otgi_comm_even(n_items, P, pp->ioff);
    for (int r = 0; r <= P; r++)
        pp->ioff[r] = pp->ioff[r] * pp->h < q->n ? pp->ioff[r] * pp->h : q->n;
    pp->ra = pp->ioff[c->rank], pp->rb = pp->ioff[c->rank + 1];
    const int64_t lc = pp->l1 - pp->l0, nr = pp->rb - pp->ra;
    float *send = malloc((size_t)(lc * q->n + 1) * sizeof(float));
    float *rt = malloc((size_t)(q->L * nr + 1) * sizeof(float));
    float *gi = malloc((size_t)(nr * q->d + 1) * sizeof(float));
    int64_t *cnt = malloc(4 * (size_t)P * sizeof *cnt);
    otg_status st = send && rt && gi && cnt ? OTG_OK : otgi_fail(OTG_ENOMEM, "sw: out of memory");
    if (st == OTG_OK) st = exchange_residuals(ws, c, q, pp, send, rt, cnt);
    if (st == OTG_OK) comm_gradient(q, pp, rt, gi);
    if (st == OTG_OK) st = deliver_rows(c, q, pp, row_off, gi, grad, cnt);
    free(send), free(rt), free(gi), free(cnt);
    return st;
}

/* Reserves the workspace for this rank's directions and sets the weights. */
static otg_status comm_setup(otg_sw_workspace *ws, const otgi_sw_problem *q, const float *a,
                             const float *b, int64_t lc) {
    otg_status st = otgi_sw_reserve(ws, q->n, q->m, lc > 0 ? lc : 1, q->L, omp_get_max_threads());
    if (st == OTG_OK && q->general) st = otgi_weights(a, q->n, "sw: weights of x", ws->a);
    if (st == OTG_OK && q->general) st = otgi_weights(b, q->m, "sw: weights of y", ws->b);
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
    int64_t *offs = malloc(2 * (size_t)(P + 1) * sizeof *offs);
    if (!offs) return otgi_fail(OTG_ENOMEM, "sw: out of memory");
    comm_parts pp = {.doff = offs, .ioff = offs + P + 1};
    otgi_sw_problem q = {x->data,         y->data,     theta->data,
                         x->shape[0],     y->shape[0], x->shape[1],
                         theta->shape[1], o.p,         a || b || x->shape[0] != y->shape[0],
                         grad_x};
    otgi_comm_dirs(q.L, P, DIR_BLOCK, pp.doff);
    pp.l0 = pp.doff[comm->rank], pp.l1 = pp.doff[comm->rank + 1], pp.h = otgi_sw_grad_rows(q.n);
    st = comm_setup(ws, &q, a, b, pp.l1 - pp.l0);
    int64_t ties = st == OTG_OK ? comm_directions(ws, &q, pp.l0, pp.l1) : 0;
    if (st == OTG_OK) st = otgi_comm_gather_rows(comm, ws->w_dir, pp.doff, sizeof(double));
    if (st == OTG_OK) st = otgi_comm_sum(comm, &ties, 1);
    if (st == OTG_OK && grad_x) st = comm_grad(ws, comm, &q, &pp, row_off, grad_x);
    free(offs);
    if (st != OTG_OK) return st;
    otgi_sw_summarise(ws->w_dir, q.L, q.p, res);
    res->ties = ties;
    if (per_dir) memcpy(per_dir, ws->w_dir, (size_t)q.L * sizeof *per_dir);
    return OTG_OK;
}
