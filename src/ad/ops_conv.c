/* Image ops on [N, C, H, W] tensors: conv2d and conv_transpose2d by im2col + GEMM over chunks of
 * whole samples, and nearest-neighbour upsample. conv_transpose2d's forward is conv2d's
 * input-gradient and vice versa, so both run on one geometry and the same four lowering helpers.
 * The chunks (how many samples each holds follows from the shape alone) run in an OpenMP loop,
 * each in its thread's column buffer; a weight gradient is the chunks' partial products summed
 * in chunk order. So the bits do not depend on the thread count. */
#include "ad/ad_internal.h"

#include <omp.h>
#include <string.h>

/* A chunk's column block [c kh kw, S ho wo] holds about this many floats (512 KiB: it stays in
 * L2 next to the GEMM's packed panels). */
#define CHUNK_FLOATS ((int64_t)1 << 17)
/* At least this many chunks when the batch has the samples, so that threads balance. */
#define CHUNK_MIN_COUNT 8
/* Below this many multiply-adds per pass the chunks run on one thread. */
#define PAR_MIN_MACS ((int64_t)1 << 20)
/* Wide-layout passes with at most this many output rows (m) skip the column matrix (direct_*):
 * with so few rows a GEMM would only stream it once per row. */
#define DIRECT_MAX_M 4
#define LANES 16      /* independent partial sums of a direct weight gradient */
#define PAR_MIN 32768 /* upsample: below this many elements a loop runs on one thread */

/* Geometry of a convolution seen from its "image" side: image [c, h, w] per sample, kernel
 * [kh, kw], zero padding padh rows and padw columns; the "matrix" side [m, ho, wo] per sample is
 * the op's other tensor (conv2d's output, conv_transpose2d's input) and m the kernel's first
 * axis, so the kernel is a matrix [m, c kh kw]. The batch of n samples is cut into `count` chunks
 * of `per` samples (the last may hold fewer).
 * Two layouts of the column matrix [c kh kw, ext] per sample:
 *   - plain (any stride): ext = ho wo, column (oi, oj);
 *   - wide (stride 1): the image is first copied into zero-padded planes [hp, wp] (hp = h + 2
 *     padh, wp = w + 2 padw, `plane` floats each with kw of slack), and the output lives on rows
 *     of wp columns (ext = ho wp; columns wo.. of a row are junk): a column row (ch, ki, kj) is
 *     then ONE contiguous copy of ext floats from offset ki wp + kj of plane ch. */
typedef struct {
    int64_t n, c, h, w, kh, kw, stride, padh, padw, ho, wo, m;
    int64_t ckk, hw, per, count;
    int wide;
    int64_t hp, wp, plane, ext;
} conv_geom;

static conv_geom geom_make(int64_t n, int64_t c, int64_t h, int64_t w, int64_t kh, int64_t kw,
                           int64_t stride, int64_t padh, int64_t padw, int64_t ho, int64_t wo,
                           int64_t m, int allow_wide) {
    conv_geom q = {n,
                   c,
                   h,
                   w,
                   kh,
                   kw,
                   stride,
                   padh,
                   padw,
                   ho,
                   wo,
                   m,
                   c * kh * kw,
                   ho * wo,
                   1,
                   0,
                   stride == 1 && allow_wide,
                   0,
                   0,
                   0,
                   ho * wo};
    if (q.wide) {
        q.hp = h + 2 * padh, q.wp = w + 2 * padw;
        q.plane = q.hp * q.wp + kw, q.ext = ho * q.wp;
    }
    const int64_t sample = q.ckk * q.ext;
    int64_t per = sample < 1 || sample >= CHUNK_FLOATS ? 1 : CHUNK_FLOATS / sample;
    const int64_t balance = (n + CHUNK_MIN_COUNT - 1) / CHUNK_MIN_COUNT;
    if (per > balance) per = balance;
    q.per = per < 1 ? 1 : per;
    q.count = (n + q.per - 1) / q.per;
    return q;
}

/* Output columns [*j0, *j1) of a row whose image column j s - padw + k lies in [0, w). */
static void valid_cols(const conv_geom *q, int64_t k, int64_t *j0, int64_t *j1) {
    const int64_t lo = q->padw - k, hi = q->w - 1 + q->padw - k; /* j s in [lo, hi] */
    *j0 = lo <= 0 ? 0 : (lo + q->stride - 1) / q->stride;
    *j1 = hi < 0 ? 0 : hi / q->stride + 1;
    if (*j1 > q->wo) *j1 = q->wo;
    if (*j0 > *j1) *j0 = *j1;
}

/* Plain layout: col rows (ch, ki, kj), each of stride ld, get one sample's [ho, wo] block from
 * img [c, h, w]: col[(ch, ki, kj), (oi, oj)] = img[ch, oi s - padh + ki, oj s - padw + kj], 0
 * outside. */
static void im2col(const conv_geom *q, const float *img, float *col, int64_t ld) {
    const int64_t s = q->stride;
    for (int64_t ch = 0; ch < q->c; ch++)
        for (int64_t ki = 0; ki < q->kh; ki++)
            for (int64_t kj = 0; kj < q->kw; kj++) {
                float *row = col + ((ch * q->kh + ki) * q->kw + kj) * ld;
                int64_t j0, j1;
                valid_cols(q, kj, &j0, &j1);
                for (int64_t oi = 0; oi < q->ho; oi++) {
                    float *r = row + oi * q->wo;
                    const int64_t ii = oi * s - q->padh + ki;
                    if (ii < 0 || ii >= q->h || j0 == j1) {
                        memset(r, 0, (size_t)q->wo * sizeof *r);
                        continue;
                    }
                    const float *src = img + (ch * q->h + ii) * q->w + j0 * s - q->padw + kj;
                    memset(r, 0, (size_t)j0 * sizeof *r);
                    if (s == 1)
                        memcpy(r + j0, src, (size_t)(j1 - j0) * sizeof *r);
                    else
                        for (int64_t oj = j0; oj < j1; oj++)
                            r[oj] = src[(oj - j0) * s];
                    memset(r + j1, 0, (size_t)(q->wo - j1) * sizeof *r);
                }
            }
}

/* Plain layout: img [c, h, w] += the adjoint of im2col applied to one sample's block of col
 * (row stride ld). */
static void col2im_add(const conv_geom *q, const float *col, int64_t ld, float *img) {
    const int64_t s = q->stride;
    for (int64_t ch = 0; ch < q->c; ch++)
        for (int64_t ki = 0; ki < q->kh; ki++)
            for (int64_t kj = 0; kj < q->kw; kj++) {
                const float *row = col + ((ch * q->kh + ki) * q->kw + kj) * ld;
                int64_t j0, j1;
                valid_cols(q, kj, &j0, &j1);
                for (int64_t oi = 0; oi < q->ho; oi++) {
                    const int64_t ii = oi * s - q->padh + ki;
                    if (ii < 0 || ii >= q->h) continue;
                    const float *r = row + oi * q->wo;
                    float *dst = img + (ch * q->h + ii) * q->w + j0 * s - q->padw + kj;
                    if (s == 1)
#pragma omp simd
                        for (int64_t oj = j0; oj < j1; oj++)
                            dst[oj - j0] += r[oj];
                    else
                        for (int64_t oj = j0; oj < j1; oj++)
                            dst[(oj - j0) * s] += r[oj];
                }
            }
}

/* Wide layout: the chunk's S images img [S][c][h][w] into zero-padded planes pad [S c][plane]. */
static void pad_planes(const conv_geom *q, const float *img, int64_t S, float *pad) {
    for (int64_t p = 0; p < S * q->c; p++) {
        float *P = pad + p * q->plane;
        memset(P, 0, (size_t)q->plane * sizeof *P);
        for (int64_t i = 0; i < q->h; i++)
            memcpy(P + (i + q->padh) * q->wp + q->padw, img + (p * q->h + i) * q->w,
                   (size_t)q->w * sizeof *P);
    }
}

/* Wide layout: col [ckk, S ext] from the chunk's padded planes. */
static void im2col_wide(const conv_geom *q, const float *pad, int64_t S, float *col) {
    const int64_t ld = S * q->ext;
    for (int64_t ch = 0; ch < q->c; ch++)
        for (int64_t ki = 0; ki < q->kh; ki++)
            for (int64_t kj = 0; kj < q->kw; kj++) {
                float *row = col + ((ch * q->kh + ki) * q->kw + kj) * ld;
                for (int64_t t = 0; t < S; t++)
                    memcpy(row + t * q->ext, pad + (t * q->c + ch) * q->plane + ki * q->wp + kj,
                           (size_t)q->ext * sizeof *row);
            }
}

/* Wide layout: dst [S][m][ho][wo] (+)= the valid columns of mat [m, S ext]. */
static void compact(const conv_geom *q, const float *mat, int64_t S, float *dst, int add) {
    for (int64_t t = 0; t < S; t++)
        for (int64_t r = 0; r < q->m; r++)
            for (int64_t oi = 0; oi < q->ho; oi++) {
                const float *a = mat + r * S * q->ext + t * q->ext + oi * q->wp;
                float *d = dst + ((t * q->m + r) * q->ho + oi) * q->wo;
                if (add)
#pragma omp simd
                    for (int64_t j = 0; j < q->wo; j++)
                        d[j] += a[j];
                else
                    memcpy(d, a, (size_t)q->wo * sizeof *d);
            }
}

/* Wide layout: mat [m, S ext] <- src [S][m][ho][wo] with zeros in the junk columns. */
static void expand(const conv_geom *q, const float *src, int64_t S, float *mat) {
    for (int64_t r = 0; r < q->m; r++)
        for (int64_t t = 0; t < S; t++)
            for (int64_t oi = 0; oi < q->ho; oi++) {
                float *d = mat + r * S * q->ext + t * q->ext + oi * q->wp;
                memcpy(d, src + ((t * q->m + r) * q->ho + oi) * q->wo, (size_t)q->wo * sizeof *d);
                memset(d + q->wo, 0, (size_t)(q->wp - q->wo) * sizeof *d);
            }
}

/* Wide layout, few rows: mat [m, S ext] = wm [m, ckk] times the chunk's column matrix, read from
 * the padded planes pad without forming it: each row accumulates its ckk shifted planes scaled
 * by the weights, in (ch, ki, kj) order. */
OTGI_WIDE_SIMD static void direct_forward(const conv_geom *q, const float *wm, int64_t S,
                                          const float *pad, float *mat) {
    for (int64_t r = 0; r < q->m; r++)
        for (int64_t t = 0; t < S; t++) {
            float *restrict y = mat + r * S * q->ext + t * q->ext;
            memset(y, 0, (size_t)q->ext * sizeof *y);
            for (int64_t ch = 0; ch < q->c; ch++)
                for (int64_t k = 0; k < q->kh * q->kw; k++) {
                    const float a = wm[r * q->ckk + ch * q->kh * q->kw + k];
                    const float *restrict x =
                        pad + (t * q->c + ch) * q->plane + k / q->kw * q->wp + k % q->kw;
#pragma omp simd
                    for (int64_t j = 0; j < q->ext; j++)
                        y[j] += a * x[j];
                }
        }
}

/* Wide layout, few rows: part [m, ckk] = g [m, S ext] col^T from the padded planes: each entry a
 * dot product over the chunk's columns in LANES partial sums (lane j mod LANES, samples in
 * order), added up in lane order. */
OTGI_WIDE_SIMD static void direct_weight_grad(const conv_geom *q, const float *g, int64_t S,
                                              const float *pad, float *part) {
    for (int64_t r = 0; r < q->m; r++)
        for (int64_t ch = 0; ch < q->c; ch++)
            for (int64_t k = 0; k < q->kh * q->kw; k++) {
                float acc[LANES] = {0};
                for (int64_t t = 0; t < S; t++) {
                    const float *a = g + r * S * q->ext + t * q->ext;
                    const float *x =
                        pad + (t * q->c + ch) * q->plane + k / q->kw * q->wp + k % q->kw;
                    int64_t j = 0;
                    for (; j + LANES <= q->ext; j += LANES)
#pragma omp simd
                        for (int l = 0; l < LANES; l++)
                            acc[l] += a[j + l] * x[j + l];
                    for (int l = 0; j + l < q->ext; l++)
                        acc[l] += a[j + l] * x[j + l];
                }
                float sum = 0.0f;
                for (int l = 0; l < LANES; l++)
                    sum += acc[l];
                part[r * q->ckk + ch * q->kh * q->kw + k] = sum;
            }
}

/* mat [m, S hw] <- the chunk's samples src [S][m][hw] side by side. */
static void gather(const conv_geom *q, const float *src, int64_t S, float *mat) {
    for (int64_t t = 0; t < S; t++)
        for (int64_t r = 0; r < q->m; r++)
            memcpy(mat + r * S * q->hw + t * q->hw, src + (t * q->m + r) * q->hw,
                   (size_t)q->hw * sizeof *mat);
}

/* dst [S][m][hw] (+)= mat [m, S hw], the inverse of gather. */
static void scatter(const conv_geom *q, const float *mat, int64_t S, float *dst, int add) {
    for (int64_t t = 0; t < S; t++)
        for (int64_t r = 0; r < q->m; r++) {
            const float *a = mat + r * S * q->hw + t * q->hw;
            float *d = dst + (t * q->m + r) * q->hw;
            if (add)
#pragma omp simd
                for (int64_t p = 0; p < q->hw; p++)
                    d[p] += a[p];
            else
                memcpy(d, a, (size_t)q->hw * sizeof *d);
        }
}

/* A thread's buffers for up to q->per samples: padded planes (wide layout), the column matrix,
 * and a matrix-side block. */
typedef struct {
    float *pad, *col, *mat;
} conv_ws;

/* One chunk's work: samples [b0, b0 + S) in the thread's buffers ws. */
typedef void (*chunk_fn)(otg_node *n, const conv_geom *q, int64_t chunk, int64_t b0, int64_t S,
                         const conv_ws *ws);

static size_t round16(int64_t floats) {
    return (size_t)((floats + 15) / 16 * 16);
}

/* Floats of each buffer for q (and q2 when not NULL: a second pass in the same chunk). */
static void ws_sizes(const conv_geom *q, const conv_geom *q2, size_t sz[3]) {
    const conv_geom *g[2] = {q, q2};
    sz[0] = sz[1] = sz[2] = 0;
    for (int i = 0; i < 2 && g[i]; i++) {
        const int64_t cols = q->per * g[i]->ext;
        size_t need[3] = {g[i]->wide ? round16(q->per * g[i]->c * g[i]->plane) : 0,
                          round16(g[i]->ckk * cols), round16(g[i]->m * cols)};
        for (int k = 0; k < 3; k++)
            if (need[k] > sz[k]) sz[k] = need[k];
    }
}

/* Runs fn on every chunk of q, in parallel when the pass is large; q2 (or NULL) sizes a second
 * pass that fn runs in the same buffers. */
static otg_status run_chunks(otg_node *n, const conv_geom *q, const conv_geom *q2, chunk_fn fn) {
    size_t sz[3];
    ws_sizes(q, q2, sz);
    const size_t each = sz[0] + sz[1] + sz[2];
    int team = omp_in_parallel() ? 1 : omp_get_max_threads();
    if ((double)q->m * (double)q->ckk * (double)q->hw * (double)q->n < (double)PAR_MIN_MACS)
        team = 1;
    if (team > q->count) team = (int)q->count;
    if (team < 1) team = 1;
    float *all = otgi_graph_workspace(n->graph, each * (size_t)team);
    if (!all)
        return otgi_fail(OTG_ENOMEM, "%s: out of memory for the columns", otgi_ops[n->op]->name);
#pragma omp parallel for schedule(dynamic, 1) num_threads(team) if (team > 1)
    for (int64_t i = 0; i < q->count; i++) {
        float *mine = all + each * (size_t)omp_get_thread_num();
        const conv_ws ws = {mine, mine + sz[0], mine + sz[0] + sz[1]};
        const int64_t b0 = i * q->per, S = q->n - b0 < q->per ? q->n - b0 : q->per;
        fn(n, q, i, b0, S, &ws);
    }
    return OTG_OK;
}

/* wgrad [m, ckk] += the chunks' partial products part [count][m, ckk], in chunk order. */
static void add_partials(const conv_geom *q, const float *part, float *wgrad) {
    const int64_t e = q->m * q->ckk;
    for (int64_t i = 0; i < q->count; i++)
#pragma omp simd
        for (int64_t j = 0; j < e; j++)
            wgrad[j] += part[i * e + j];
}

/* The partial weight gradients [count][m, ckk] in the node's aux. */
static size_t partials_bytes(const conv_geom *q) {
    return (size_t)(q->count * q->m * q->ckk) * sizeof(float);
}

/* col [ckk, S ext] for the chunk's images img [S][c][h][w], in q's layout. */
static void lower(const conv_geom *q, const float *img, int64_t S, const conv_ws *ws) {
    if (q->wide) {
        pad_planes(q, img, S, ws->pad);
        im2col_wide(q, ws->pad, S, ws->col);
    } else
        for (int64_t t = 0; t < S; t++)
            im2col(q, img + t * q->c * q->h * q->w, ws->col + t * q->hw, S * q->hw);
}

/* ws->col [ckk, S ext] = the chunk's column matrix of img; dst [S][m][ho][wo] (+)= wm [m, ckk]
 * col, a convolution of the chunk. */
static void conv_chunk(const conv_geom *q, const float *wm, const float *img, int64_t S,
                       const conv_ws *ws, float *dst, int add) {
    const int64_t ld = S * q->ext;
    if (q->wide && q->m <= DIRECT_MAX_M) {
        pad_planes(q, img, S, ws->pad);
        direct_forward(q, wm, S, ws->pad, ws->mat);
        compact(q, ws->mat, S, dst, add);
        return;
    }
    lower(q, img, S, ws);
    if (!q->wide && S == 1) { /* the GEMM writes the sample in place */
        otg_gemm(0, 0, q->m, ld, q->ckk, 1.0f, wm, q->ckk, ws->col, ld, add ? 1.0f : 0.0f, dst, ld);
        return;
    }
    otg_gemm(0, 0, q->m, ld, q->ckk, 1.0f, wm, q->ckk, ws->col, ld, 0.0f, ws->mat, ld);
    if (q->wide)
        compact(q, ws->mat, S, dst, add);
    else
        scatter(q, ws->mat, S, dst, add);
}

/* part [m, ckk] = G col^T, the chunk's weight gradient: G the matrix side src [S][m][ho][wo],
 * col the column matrix of img (both in q's layout). */
static void weight_grad_chunk(const conv_geom *q, const float *src, const float *img, int64_t S,
                              const conv_ws *ws, float *part) {
    const int64_t ld = S * q->ext;
    const float *g = src;
    if (q->wide)
        expand(q, src, S, ws->mat), g = ws->mat;
    else if (S > 1)
        gather(q, src, S, ws->mat), g = ws->mat;
    if (q->wide && q->m <= DIRECT_MAX_M) {
        pad_planes(q, img, S, ws->pad);
        direct_weight_grad(q, g, S, ws->pad, part);
        return;
    }
    lower(q, img, S, ws);
    otg_gemm(0, 1, q->m, q->ckk, ld, 1.0f, g, ld, ws->col, ld, 0.0f, part, q->ckk);
}

/* Checks x [N, C, H, W] and w [A, B, kh, kw] with `cin_axis` the axis of w that must equal C. */
static otg_status conv_check(const otg_node *n, const char *who, int cin_axis) {
    const otg_node *x = n->in[0], *w = n->in[1];
    if (x->ndim != 4 || w->ndim != 4)
        return otgi_fail(OTG_ESHAPE,
                         "%s: needs x [N, C, H, W] and a 4-D kernel (got %d and %d "
                         "dims)",
                         who, x->ndim, w->ndim);
    if (w->shape[cin_axis] != x->shape[1])
        return otgi_fail(OTG_ESHAPE, "%s: kernel expects %lld input channels, x has %lld", who,
                         (long long)w->shape[cin_axis], (long long)x->shape[1]);
    if (n->iattr[0] < 1 || n->iattr[1] < 0)
        return otgi_fail(OTG_EINVAL, "%s: stride %lld must be >= 1 and pad %lld >= 0", who,
                         (long long)n->iattr[0], (long long)n->iattr[1]);
    return OTG_OK;
}

/* ---- conv2d: x [N, C, H, W] (*) w [O, C, kh, kw] -> [N, O, Ho, Wo] --------------------------- */

/* Image side x [C, H, W], matrix side the output [O, Ho, Wo]; wide layout at stride 1. */
static conv_geom conv2d_geom(const otg_node *n) {
    const otg_node *x = n->in[0], *w = n->in[1];
    const int64_t p = n->iattr[1];
    return geom_make(x->shape[0], x->shape[1], x->shape[2], x->shape[3], w->shape[2], w->shape[3],
                     n->iattr[0], p, p, n->shape[2], n->shape[3], w->shape[0], 1);
}

/* At stride 1 with pad p < the kernel's sides, dx is the convolution of dy [O, Ho, Wo] padded by
 * (kh - 1 - p, kw - 1 - p) with the flipped kernel [C, O kh kw] (wflip): the geometry of that
 * pass, in q's chunks. Otherwise *ok = 0 and dx goes through col2im. */
static conv_geom conv2d_dx_geom(const otg_node *n, const conv_geom *q, int *ok) {
    const int64_t p = n->iattr[1];
    *ok = q->stride == 1 && p < q->kh && p < q->kw;
    conv_geom d = geom_make(q->n, q->m, q->ho, q->wo, q->kh, q->kw, 1, q->kh - 1 - p, q->kw - 1 - p,
                            q->h, q->w, q->c, 1);
    d.per = q->per, d.count = q->count;
    return d;
}

static otg_status conv2d_shape(otg_node *n) {
    otg_status st = conv_check(n, "conv2d", 1);
    if (st != OTG_OK) return st;
    const otg_node *x = n->in[0], *w = n->in[1];
    int64_t s = n->iattr[0], p = n->iattr[1];
    int64_t hp = x->shape[2] + 2 * p - w->shape[2], wp = x->shape[3] + 2 * p - w->shape[3];
    if (hp < 0 || wp < 0)
        return otgi_fail(OTG_ESHAPE,
                         "conv2d: kernel %lldx%lld larger than the padded %lldx%lld "
                         "input",
                         (long long)w->shape[2], (long long)w->shape[3],
                         (long long)(x->shape[2] + 2 * p), (long long)(x->shape[3] + 2 * p));
    n->ndim = 4;
    n->shape[0] = x->shape[0];
    n->shape[1] = w->shape[0];
    n->shape[2] = hp / s + 1;
    n->shape[3] = wp / s + 1;
    return OTG_OK;
}

/* aux: the partial weight gradients, then the flipped kernel wflip [C, O kh kw]. */
static size_t conv2d_aux(const otg_node *n) {
    conv_geom q = conv2d_geom(n);
    return partials_bytes(&q) + (size_t)(q.m * q.ckk) * sizeof(float);
}

static float *conv2d_wflip(const otg_node *n, const conv_geom *q) {
    return (float *)n->aux + q->count * q->m * q->ckk;
}

/* y chunk [O, S ext] = W [O, ckk] im2col(x chunk). */
static void conv2d_forward_chunk(otg_node *n, const conv_geom *q, int64_t chunk, int64_t b0,
                                 int64_t S, const conv_ws *ws) {
    (void)chunk;
    conv_chunk(q, n->in[1]->value, n->in[0]->value + b0 * q->c * q->h * q->w, S, ws,
               n->value + b0 * q->m * q->hw, 0);
}

static otg_status conv2d_forward(otg_node *n) {
    const conv_geom q = conv2d_geom(n);
    return run_chunks(n, &q, NULL, conv2d_forward_chunk);
}

/* Partial dW [O, ckk] = G col^T (G the chunk's output gradient, col = im2col(x chunk)); dx by
 * the flipped-kernel convolution of G, or dcol = W^T G then dx += col2im(dcol). */
static void conv2d_backward_chunk(otg_node *n, const conv_geom *q, int64_t chunk, int64_t b0,
                                  int64_t S, const conv_ws *ws) {
    otg_node *x = n->in[0], *w = n->in[1];
    const int64_t img = q->c * q->h * q->w;
    const float *g = n->grad + b0 * q->m * q->hw;
    if (w->grad)
        weight_grad_chunk(q, g, x->value + b0 * img, S, ws,
                          (float *)n->aux + chunk * q->m * q->ckk);
    if (!x->grad) return;
    int flip;
    const conv_geom d = conv2d_dx_geom(n, q, &flip);
    if (flip) {
        conv_chunk(&d, conv2d_wflip(n, q), g, S, ws, x->grad + b0 * img, 1);
        return;
    }
    const int64_t ld = S * q->hw;
    if (S > 1) gather(q, g, S, ws->mat), g = ws->mat;
    otg_gemm(1, 0, q->ckk, ld, q->m, 1.0f, w->value, q->ckk, g, ld, 0.0f, ws->col, ld);
    for (int64_t t = 0; t < S; t++)
        col2im_add(q, ws->col + t * q->hw, ld, x->grad + (b0 + t) * img);
}

static otg_status conv2d_backward(otg_node *n) {
    conv_geom q = conv2d_geom(n);
    int flip;
    const conv_geom d = conv2d_dx_geom(n, &q, &flip);
    if (n->in[0]->grad && flip) { /* wflip[c, (o, ki, kj)] = W[o, c, kh-1-ki, kw-1-kj] */
        const float *wv = n->in[1]->value;
        float *f = conv2d_wflip(n, &q);
        const int64_t kk = q.kh * q.kw;
        for (int64_t c = 0; c < q.c; c++)
            for (int64_t o = 0; o < q.m; o++)
                for (int64_t k = 0; k < kk; k++)
                    f[(c * q.m + o) * kk + k] = wv[(o * q.c + c) * kk + kk - 1 - k];
    }
    otg_status st = run_chunks(n, &q, flip ? &d : NULL, conv2d_backward_chunk);
    if (st == OTG_OK && n->in[1]->grad) add_partials(&q, n->aux, n->in[1]->grad);
    return st;
}

const otgi_op_def otgi_op_conv2d = {"conv2d", conv2d_shape, conv2d_forward, conv2d_backward,
                                    conv2d_aux};

otg_node *otg_conv2d(otg_graph *g, otg_node *x, otg_node *w, int stride, int pad) {
    otg_node *in[2] = {x, w};
    int64_t ia[4] = {stride, pad, 0, 0};
    return otgi_node_new(g, OTG_OP_CONV2D, 2, in, NULL, ia);
}

/* ---- conv_transpose2d: x [N, C, H, W], w [C, O, kh, kw] -> [N, O, Ho, Wo] -------------------- */

/* Image side the OUTPUT [O, Ho, Wo]; matrix side x [C, H, W]; wide layout at stride 1 (the
 * backward; the forward's col2im uses plain columns in the same buffers). */
static conv_geom convt_geom(const otg_node *n) {
    const otg_node *x = n->in[0], *w = n->in[1];
    const int64_t p = n->iattr[1];
    return geom_make(x->shape[0], n->shape[1], n->shape[2], n->shape[3], w->shape[2], w->shape[3],
                     n->iattr[0], p, p, x->shape[2], x->shape[3], x->shape[1], 1);
}

static otg_status convt_shape(otg_node *n) {
    otg_status st = conv_check(n, "conv_transpose2d", 0);
    if (st != OTG_OK) return st;
    const otg_node *x = n->in[0], *w = n->in[1];
    int64_t s = n->iattr[0], p = n->iattr[1];
    int64_t ho = (x->shape[2] - 1) * s - 2 * p + w->shape[2];
    int64_t wo = (x->shape[3] - 1) * s - 2 * p + w->shape[3];
    if (ho <= 0 || wo <= 0)
        return otgi_fail(OTG_ESHAPE, "conv_transpose2d: output %lldx%lld is empty (pad too large)",
                         (long long)ho, (long long)wo);
    n->ndim = 4;
    n->shape[0] = x->shape[0];
    n->shape[1] = w->shape[1];
    n->shape[2] = ho;
    n->shape[3] = wo;
    return OTG_OK;
}

static size_t convt_aux(const otg_node *n) {
    conv_geom q = convt_geom(n);
    return partials_bytes(&q);
}

/* X [C, S hw] = the chunk of x; col [okk, S hw] = W^T X; y chunk = col2im(col). */
static void convt_forward_chunk(otg_node *n, const conv_geom *q, int64_t chunk, int64_t b0,
                                int64_t S, const conv_ws *ws) {
    (void)chunk;
    float *col = ws->col, *mat = ws->mat;
    const int64_t ld = S * q->hw, img = q->c * q->h * q->w;
    const float *xv = n->in[0]->value + b0 * q->m * q->hw;
    if (S > 1) gather(q, xv, S, mat), xv = mat;
    otg_gemm(1, 0, q->ckk, ld, q->m, 1.0f, n->in[1]->value, q->ckk, xv, ld, 0.0f, col, ld);
    memset(n->value + b0 * img, 0, (size_t)(S * img) * sizeof(float));
    for (int64_t t = 0; t < S; t++)
        col2im_add(q, col + t * q->hw, ld, n->value + (b0 + t) * img);
}

static otg_status convt_forward(otg_node *n) {
    const conv_geom q = convt_geom(n);
    return run_chunks(n, &q, NULL, convt_forward_chunk);
}

/* dx chunk += W [C, okk] im2col(g chunk), a convolution of the output gradient g; partial dW
 * [C, okk] = X im2col(g chunk)^T with X the chunk of x. */
static void convt_backward_chunk(otg_node *n, const conv_geom *q, int64_t chunk, int64_t b0,
                                 int64_t S, const conv_ws *ws) {
    otg_node *x = n->in[0], *w = n->in[1];
    const float *g = n->grad + b0 * q->c * q->h * q->w;
    const int64_t off = b0 * q->m * q->hw;
    if (x->grad) conv_chunk(q, w->value, g, S, ws, x->grad + off, 1);
    if (w->grad)
        weight_grad_chunk(q, x->value + off, g, S, ws, (float *)n->aux + chunk * q->m * q->ckk);
}

static otg_status convt_backward(otg_node *n) {
    const conv_geom q = convt_geom(n);
    otg_status st = run_chunks(n, &q, NULL, convt_backward_chunk);
    if (st == OTG_OK && n->in[1]->grad) add_partials(&q, n->aux, n->in[1]->grad);
    return st;
}

const otgi_op_def otgi_op_conv_transpose2d = {"conv_transpose2d", convt_shape, convt_forward,
                                              convt_backward, convt_aux};

otg_node *otg_conv_transpose2d(otg_graph *g, otg_node *x, otg_node *w, int stride, int pad) {
    otg_node *in[2] = {x, w};
    int64_t ia[4] = {stride, pad, 0, 0};
    return otgi_node_new(g, OTG_OP_CONV_TRANSPOSE2D, 2, in, NULL, ia);
}

/* ---- upsample: nearest neighbour by factor f (iattr[0]) ------------------------------------- */

static otg_status upsample_shape(otg_node *n) {
    const otg_node *x = n->in[0];
    int64_t f = n->iattr[0];
    if (x->ndim != 4) return otgi_fail(OTG_ESHAPE, "upsample: needs x [N, C, H, W]");
    if (f < 1 || f > 64)
        return otgi_fail(OTG_EINVAL, "upsample: factor %lld outside 1..64", (long long)f);
    otgi_shape_like_input(n);
    n->shape[2] *= f;
    n->shape[3] *= f;
    return OTG_OK;
}

/* Each output pixel (plane p, row i, column j) reads input pixel (p, i / f, j / f): every input
 * row is widened once, then copied f - 1 times. */
static otg_status upsample_forward(otg_node *n) {
    const otg_node *x = n->in[0];
    const int64_t f = n->iattr[0], h = x->shape[2], w = x->shape[3],
                  planes = x->shape[0] * x->shape[1];
#pragma omp parallel for if (n->numel > PAR_MIN)
    for (int64_t p = 0; p < planes; p++)
        for (int64_t i = 0; i < h; i++) {
            const float *src = x->value + (p * h + i) * w;
            float *row = n->value + (p * h + i) * f * w * f;
            if (f == 2) /* the generators' factor: a loop the compiler vectorises */
                for (int64_t j = 0; j < w; j++)
                    row[2 * j] = row[2 * j + 1] = src[j];
            else
                for (int64_t j = 0; j < w; j++)
                    for (int64_t b = 0; b < f; b++)
                        row[j * f + b] = src[j];
            for (int64_t a = 1; a < f; a++)
                memcpy(row + a * w * f, row, (size_t)(w * f) * sizeof *row);
        }
    return OTG_OK;
}

/* dx (p, i, j) += the output gradients of its f x f block, in output row-major order. */
static otg_status upsample_backward(otg_node *n) {
    otg_node *x = n->in[0];
    const int64_t f = n->iattr[0], h = x->shape[2], w = x->shape[3],
                  planes = x->shape[0] * x->shape[1];
    if (!x->grad) return OTG_OK;
#pragma omp parallel for if (n->numel > PAR_MIN)
    for (int64_t p = 0; p < planes; p++)
        for (int64_t i = 0; i < h; i++) {
            float *dst = x->grad + (p * h + i) * w;
            if (f == 2) { /* the same additions in the same order, two output rows at once */
                const float *g0 = n->grad + (p * h + i) * 4 * w, *g1 = g0 + 2 * w;
                for (int64_t j = 0; j < w; j++) {
                    float v = dst[j];
                    v += g0[2 * j];
                    v += g0[2 * j + 1];
                    v += g1[2 * j];
                    v += g1[2 * j + 1];
                    dst[j] = v;
                }
                continue;
            }
            for (int64_t a = 0; a < f; a++) {
                const float *g = n->grad + ((p * h + i) * f + a) * w * f;
                for (int64_t j = 0; j < w; j++)
                    for (int64_t b = 0; b < f; b++)
                        dst[j] += g[j * f + b];
            }
        }
    return OTG_OK;
}

const otgi_op_def otgi_op_upsample = {"upsample", upsample_shape, upsample_forward,
                                      upsample_backward, NULL};

otg_node *otg_upsample(otg_graph *g, otg_node *x, int factor) {
    int64_t ia[4] = {factor, 0, 0, 0};
    return otgi_node_new(g, OTG_OP_UPSAMPLE, 1, &x, NULL, ia);
}
