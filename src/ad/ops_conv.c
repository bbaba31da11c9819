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
#define PAR_MIN 32768 /* upsample: below this many elements a loop runs on one thread */

/* Geometry of a convolution seen from its "image" side: image [c, h, w] per sample, kernel
 * [kh, kw]; the "matrix" side [m, ho, wo] per sample is the op's other tensor (conv2d's output,
 * conv_transpose2d's input) and m the kernel's first axis, so the kernel is a matrix
 * [m, c kh kw]. The column matrix of one sample is [c kh kw, ho wo]. The batch of n samples is
 * cut into `count` chunks of `per` samples (the last may hold fewer). */
typedef struct {
    int64_t n, c, h, w, kh, kw, stride, pad, ho, wo, m;
    int64_t ckk, hw, per, count;
} conv_geom;

static conv_geom geom_make(int64_t n, int64_t c, int64_t h, int64_t w, int64_t kh, int64_t kw,
                           int64_t stride, int64_t pad, int64_t ho, int64_t wo, int64_t m) {
    conv_geom q = {n, c, h, w, kh, kw, stride, pad, ho, wo, m, c * kh * kw, ho * wo, 1, 0};
    const int64_t sample = q.ckk * q.hw;
    int64_t per = sample < 1 || sample >= CHUNK_FLOATS ? 1 : CHUNK_FLOATS / sample;
    const int64_t balance = (n + CHUNK_MIN_COUNT - 1) / CHUNK_MIN_COUNT;
    if (per > balance) per = balance;
    q.per = per < 1 ? 1 : per;
    q.count = (n + q.per - 1) / q.per;
    return q;
}

/* Output columns [*j0, *j1) of a row whose image column j s - pad + k lies in [0, w). */
static void valid_cols(const conv_geom *q, int64_t k, int64_t *j0, int64_t *j1) {
    const int64_t lo = q->pad - k, hi = q->w - 1 + q->pad - k; /* j s in [lo, hi] */
    *j0 = lo <= 0 ? 0 : (lo + q->stride - 1) / q->stride;
    *j1 = hi < 0 ? 0 : hi / q->stride + 1;
    if (*j1 > q->wo) *j1 = q->wo;
    if (*j0 > *j1) *j0 = *j1;
}

/* col rows (ch, ki, kj), each of stride ld, get one sample's [ho, wo] block from img [c, h, w]:
 * col[(ch, ki, kj), (oi, oj)] = img[ch, oi s - pad + ki, oj s - pad + kj], 0 outside. */
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
                    const int64_t ii = oi * s - q->pad + ki;
                    if (ii < 0 || ii >= q->h || j0 == j1) {
                        memset(r, 0, (size_t)q->wo * sizeof *r);
                        continue;
                    }
                    const float *src = img + (ch * q->h + ii) * q->w + j0 * s - q->pad + kj;
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

/* img [c, h, w] += the adjoint of im2col applied to one sample's block of col (row stride ld). */
static void col2im_add(const conv_geom *q, const float *col, int64_t ld, float *img) {
    const int64_t s = q->stride;
    for (int64_t ch = 0; ch < q->c; ch++)
        for (int64_t ki = 0; ki < q->kh; ki++)
            for (int64_t kj = 0; kj < q->kw; kj++) {
                const float *row = col + ((ch * q->kh + ki) * q->kw + kj) * ld;
                int64_t j0, j1;
                valid_cols(q, kj, &j0, &j1);
                for (int64_t oi = 0; oi < q->ho; oi++) {
                    const int64_t ii = oi * s - q->pad + ki;
                    if (ii < 0 || ii >= q->h) continue;
                    const float *r = row + oi * q->wo;
                    float *dst = img + (ch * q->h + ii) * q->w + j0 * s - q->pad + kj;
                    for (int64_t oj = j0; oj < j1; oj++)
                        dst[(oj - j0) * s] += r[oj];
                }
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
                for (int64_t p = 0; p < q->hw; p++)
                    d[p] += a[p];
            else
                memcpy(d, a, (size_t)q->hw * sizeof *d);
        }
}

/* One chunk's work: samples [b0, b0 + S); col [ckk, S hw] and mat [m, S hw] are its thread's
 * buffers. The matrix side of the chunk is at sample offset b0 * m hw. */
typedef void (*chunk_fn)(otg_node *n, const conv_geom *q, int64_t chunk, int64_t b0, int64_t S,
                         float *col, float *mat);

/* Runs fn on every chunk of q, in parallel when the pass is large. */
static otg_status run_chunks(otg_node *n, const conv_geom *q, chunk_fn fn) {
    const int64_t cols = q->per * q->hw;
    const size_t col_floats = (size_t)((q->ckk * cols + 15) / 16 * 16); /* 64-byte steps */
    const size_t each = col_floats + (size_t)((q->m * cols + 15) / 16 * 16);
    int team = omp_in_parallel() ? 1 : omp_get_max_threads();
    if ((double)q->m * (double)q->ckk * (double)q->hw * (double)q->n < (double)PAR_MIN_MACS)
        team = 1;
    if (team > q->count) team = (int)q->count;
    if (team < 1) team = 1;
    float *ws = otgi_graph_workspace(n->graph, each * (size_t)team);
    if (!ws)
        return otgi_fail(OTG_ENOMEM, "%s: out of memory for the columns", otgi_ops[n->op]->name);
#pragma omp parallel for schedule(dynamic, 1) num_threads(team) if (team > 1)
    for (int64_t i = 0; i < q->count; i++) {
        float *col = ws + each * (size_t)omp_get_thread_num();
        const int64_t b0 = i * q->per, S = q->n - b0 < q->per ? q->n - b0 : q->per;
        fn(n, q, i, b0, S, col, col + col_floats);
    }
    return OTG_OK;
}

/* wgrad [m, ckk] += the chunks' partial products part [count][m, ckk], in chunk order. */
static void add_partials(const conv_geom *q, const float *part, float *wgrad) {
    const int64_t e = q->m * q->ckk;
    for (int64_t i = 0; i < q->count; i++)
        for (int64_t j = 0; j < e; j++)
            wgrad[j] += part[i * e + j];
}

/* The partial weight gradients [count][m, ckk] in the node's aux. */
static size_t partials_bytes(const conv_geom *q) {
    return (size_t)(q->count * q->m * q->ckk) * sizeof(float);
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

/* Image side x [C, H, W], matrix side the output [O, Ho, Wo]. */
static conv_geom conv2d_geom(const otg_node *n) {
    const otg_node *x = n->in[0], *w = n->in[1];
    return geom_make(x->shape[0], x->shape[1], x->shape[2], x->shape[3], w->shape[2], w->shape[3],
                     n->iattr[0], n->iattr[1], n->shape[2], n->shape[3], w->shape[0]);
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

static size_t conv2d_aux(const otg_node *n) {
    conv_geom q = conv2d_geom(n);
    return partials_bytes(&q);
}

/* col = im2col(x chunk); y chunk [O, S hw] = W [O, ckk] col. */
static void conv2d_forward_chunk(otg_node *n, const conv_geom *q, int64_t chunk, int64_t b0,
                                 int64_t S, float *col, float *mat) {
    (void)chunk;
    const int64_t ld = S * q->hw;
    for (int64_t t = 0; t < S; t++)
        im2col(q, n->in[0]->value + (b0 + t) * q->c * q->h * q->w, col + t * q->hw, ld);
    float *y = n->value + b0 * q->m * q->hw;
    otg_gemm(0, 0, q->m, ld, q->ckk, 1.0f, n->in[1]->value, q->ckk, col, ld, 0.0f, S == 1 ? y : mat,
             ld);
    if (S > 1) scatter(q, mat, S, y, 0);
}

static otg_status conv2d_forward(otg_node *n) {
    const conv_geom q = conv2d_geom(n);
    return run_chunks(n, &q, conv2d_forward_chunk);
}

/* G [O, S hw] = the chunk's output gradient; partial dW [O, ckk] = G col^T with col =
 * im2col(x chunk); dcol = W^T G, then dx += col2im(dcol). */
static void conv2d_backward_chunk(otg_node *n, const conv_geom *q, int64_t chunk, int64_t b0,
                                  int64_t S, float *col, float *mat) {
    otg_node *x = n->in[0], *w = n->in[1];
    const int64_t ld = S * q->hw, img = q->c * q->h * q->w;
    const float *g = n->grad + b0 * q->m * q->hw;
    if (S > 1) gather(q, g, S, mat), g = mat;
    if (w->grad) {
        for (int64_t t = 0; t < S; t++)
            im2col(q, x->value + (b0 + t) * img, col + t * q->hw, ld);
        otg_gemm(0, 1, q->m, q->ckk, ld, 1.0f, g, ld, col, ld, 0.0f,
                 (float *)n->aux + chunk * q->m * q->ckk, q->ckk);
    }
    if (x->grad) {
        otg_gemm(1, 0, q->ckk, ld, q->m, 1.0f, w->value, q->ckk, g, ld, 0.0f, col, ld);
        for (int64_t t = 0; t < S; t++)
            col2im_add(q, col + t * q->hw, ld, x->grad + (b0 + t) * img);
    }
}

static otg_status conv2d_backward(otg_node *n) {
    const conv_geom q = conv2d_geom(n);
    otg_status st = run_chunks(n, &q, conv2d_backward_chunk);
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

/* Image side the OUTPUT [O, Ho, Wo]; matrix side x [C, H, W]. */
static conv_geom convt_geom(const otg_node *n) {
    const otg_node *x = n->in[0], *w = n->in[1];
    return geom_make(x->shape[0], n->shape[1], n->shape[2], n->shape[3], w->shape[2], w->shape[3],
                     n->iattr[0], n->iattr[1], x->shape[2], x->shape[3], x->shape[1]);
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
                                int64_t S, float *col, float *mat) {
    (void)chunk;
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
    return run_chunks(n, &q, convt_forward_chunk);
}

/* col = im2col(output gradient chunk); dx chunk += W [C, okk] col; partial dW [C, okk] = X col^T.
 */
static void convt_backward_chunk(otg_node *n, const conv_geom *q, int64_t chunk, int64_t b0,
                                 int64_t S, float *col, float *mat) {
    otg_node *x = n->in[0], *w = n->in[1];
    const int64_t ld = S * q->hw, img = q->c * q->h * q->w, off = b0 * q->m * q->hw;
    for (int64_t t = 0; t < S; t++)
        im2col(q, n->grad + (b0 + t) * img, col + t * q->hw, ld);
    if (x->grad) {
        otg_gemm(0, 0, q->m, ld, q->ckk, 1.0f, w->value, q->ckk, col, ld, S == 1 ? 1.0f : 0.0f,
                 S == 1 ? x->grad + off : mat, ld);
        if (S > 1) scatter(q, mat, S, x->grad + off, 1);
    }
    if (w->grad) {
        const float *xv = x->value + off;
        if (S > 1) gather(q, xv, S, mat), xv = mat;
        otg_gemm(0, 1, q->m, q->ckk, ld, 1.0f, xv, ld, col, ld, 0.0f,
                 (float *)n->aux + chunk * q->m * q->ckk, q->ckk);
    }
}

static otg_status convt_backward(otg_node *n) {
    const conv_geom q = convt_geom(n);
    otg_status st = run_chunks(n, &q, convt_backward_chunk);
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
