/* Image ops on [N, C, H, W] tensors: conv2d and conv_transpose2d by im2col + GEMM (one sample at
 * a time through a per-node column workspace, so no allocation per step), and nearest-neighbour
 * upsample. conv_transpose2d's forward is conv2d's input-gradient and vice versa. */
#include "ad/ad_internal.h"

#include <string.h>

/* Geometry of a convolution seen from its "image" side: image [c, h, w], kernel [kh, kw],
 * output spatial [ho, wo]; col is [c * kh * kw, ho * wo]. */
typedef struct {
    int64_t c, h, w, kh, kw, stride, pad, ho, wo;
} conv_geom;

static void im2col(const conv_geom *q, const float *img, float *col) {
    const int64_t hw = q->ho * q->wo;
    for (int64_t ch = 0; ch < q->c; ch++)
        for (int64_t ki = 0; ki < q->kh; ki++)
            for (int64_t kj = 0; kj < q->kw; kj++) {
                float *row = col + ((ch * q->kh + ki) * q->kw + kj) * hw;
                for (int64_t oi = 0; oi < q->ho; oi++) {
                    int64_t ii = oi * q->stride - q->pad + ki;
                    for (int64_t oj = 0; oj < q->wo; oj++) {
                        int64_t jj = oj * q->stride - q->pad + kj;
                        int inside = ii >= 0 && ii < q->h && jj >= 0 && jj < q->w;
                        row[oi * q->wo + oj] = inside ? img[(ch * q->h + ii) * q->w + jj] : 0.0f;
                    }
                }
            }
}

/* img += the adjoint of im2col applied to col. */
static void col2im_add(const conv_geom *q, const float *col, float *img) {
    const int64_t hw = q->ho * q->wo;
    for (int64_t ch = 0; ch < q->c; ch++)
        for (int64_t ki = 0; ki < q->kh; ki++)
            for (int64_t kj = 0; kj < q->kw; kj++) {
                const float *row = col + ((ch * q->kh + ki) * q->kw + kj) * hw;
                for (int64_t oi = 0; oi < q->ho; oi++) {
                    int64_t ii = oi * q->stride - q->pad + ki;
                    if (ii < 0 || ii >= q->h) continue;
                    for (int64_t oj = 0; oj < q->wo; oj++) {
                        int64_t jj = oj * q->stride - q->pad + kj;
                        if (jj >= 0 && jj < q->w) img[(ch * q->h + ii) * q->w + jj] += row[oi * q->wo + oj];
                    }
                }
            }
}

/* Checks x [N, C, H, W] and w [A, B, kh, kw] with `cin_axis` the axis of w that must equal C. */
static otg_status conv_check(const otg_node *n, const char *who, int cin_axis) {
    const otg_node *x = n->in[0], *w = n->in[1];
    if (x->ndim != 4 || w->ndim != 4)
        return otgi_fail(OTG_ESHAPE, "%s: needs x [N, C, H, W] and a 4-D kernel (got %d and %d "
                         "dims)", who, x->ndim, w->ndim);
    if (w->shape[cin_axis] != x->shape[1])
        return otgi_fail(OTG_ESHAPE, "%s: kernel expects %lld input channels, x has %lld", who,
                         (long long)w->shape[cin_axis], (long long)x->shape[1]);
    if (n->iattr[0] < 1 || n->iattr[1] < 0)
        return otgi_fail(OTG_EINVAL, "%s: stride %lld must be >= 1 and pad %lld >= 0", who,
                         (long long)n->iattr[0], (long long)n->iattr[1]);
    return OTG_OK;
}

/* ---- conv2d: x [N, C, H, W] (*) w [O, C, kh, kw] -> [N, O, Ho, Wo] --------------------------- */

static conv_geom conv2d_geom(const otg_node *n) {
    const otg_node *x = n->in[0], *w = n->in[1];
    conv_geom q = {x->shape[1], x->shape[2], x->shape[3], w->shape[2], w->shape[3],
                   n->iattr[0], n->iattr[1], n->shape[2], n->shape[3]};
    return q;
}

static otg_status conv2d_shape(otg_node *n) {
    otg_status st = conv_check(n, "conv2d", 1);
    if (st != OTG_OK) return st;
    const otg_node *x = n->in[0], *w = n->in[1];
    int64_t s = n->iattr[0], p = n->iattr[1];
    int64_t hp = x->shape[2] + 2 * p - w->shape[2], wp = x->shape[3] + 2 * p - w->shape[3];
    if (hp < 0 || wp < 0)
        return otgi_fail(OTG_ESHAPE, "conv2d: kernel %lldx%lld larger than the padded %lldx%lld "
                         "input", (long long)w->shape[2], (long long)w->shape[3],
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
    return (size_t)(q.c * q.kh * q.kw * q.ho * q.wo) * sizeof(float);
}

static otg_status conv2d_forward(otg_node *n) {
    const conv_geom q = conv2d_geom(n);
    const int64_t o = n->shape[1], ckk = q.c * q.kh * q.kw, hw = q.ho * q.wo;
    float *col = n->aux; /* [ckk, hw] */
    for (int64_t b = 0; b < n->shape[0]; b++) {
        im2col(&q, n->in[0]->value + b * q.c * q.h * q.w, col);
        otg_gemm(0, 0, o, hw, ckk, 1.0f, n->in[1]->value, ckk, col, hw, 0.0f,
                 n->value + b * o * hw, hw);
    }
    return OTG_OK;
}

/* dW [o, ckk] += g_b [o, hw] col^T;  dcol = W^T g_b, then dx_b += col2im(dcol). */
static otg_status conv2d_backward(otg_node *n) {
    const conv_geom q = conv2d_geom(n);
    otg_node *x = n->in[0], *w = n->in[1];
    const int64_t o = n->shape[1], ckk = q.c * q.kh * q.kw, hw = q.ho * q.wo;
    float *col = n->aux;
    for (int64_t b = 0; b < n->shape[0]; b++) {
        const float *gb = n->grad + b * o * hw;
        if (w->grad) {
            im2col(&q, x->value + b * q.c * q.h * q.w, col);
            otg_gemm(0, 1, o, ckk, hw, 1.0f, gb, hw, col, hw, 1.0f, w->grad, ckk);
        }
        if (x->grad) {
            otg_gemm(1, 0, ckk, hw, o, 1.0f, w->value, ckk, gb, hw, 0.0f, col, hw);
            col2im_add(&q, col, x->grad + b * q.c * q.h * q.w);
        }
    }
    return OTG_OK;
}

const otgi_op_def otgi_op_conv2d = {"conv2d", conv2d_shape, conv2d_forward, conv2d_backward,
                                    conv2d_aux};

otg_node *otg_conv2d(otg_graph *g, otg_node *x, otg_node *w, int stride, int pad) {
    otg_node *in[2] = {x, w};
    int64_t ia[4] = {stride, pad, 0, 0};
    return otgi_node_new(g, OTG_OP_CONV2D, 2, in, NULL, ia);
}

/* ---- conv_transpose2d: x [N, C, H, W], w [C, O, kh, kw] -> [N, O, Ho, Wo] -------------------- */

/* The image side is the OUTPUT [O, Ho, Wo]; the "conv output" spatial is the input's [H, W]. */
static conv_geom convt_geom(const otg_node *n) {
    const otg_node *x = n->in[0], *w = n->in[1];
    conv_geom q = {n->shape[1], n->shape[2], n->shape[3], w->shape[2], w->shape[3],
                   n->iattr[0], n->iattr[1], x->shape[2], x->shape[3]};
    return q;
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
    return (size_t)(q.c * q.kh * q.kw * q.ho * q.wo) * sizeof(float);
}

/* col [okk, hw] = W^T [okk, c] x_b [c, hw]; y_b = col2im(col). */
static otg_status convt_forward(otg_node *n) {
    const conv_geom q = convt_geom(n);
    const otg_node *x = n->in[0];
    const int64_t c = x->shape[1], okk = q.c * q.kh * q.kw, hw = q.ho * q.wo;
    const int64_t out_b = q.c * q.h * q.w;
    float *col = n->aux;
    memset(n->value, 0, (size_t)n->numel * sizeof(float));
    for (int64_t b = 0; b < n->shape[0]; b++) {
        otg_gemm(1, 0, okk, hw, c, 1.0f, n->in[1]->value, okk, x->value + b * c * hw, hw, 0.0f,
                 col, hw);
        col2im_add(&q, col, n->value + b * out_b);
    }
    return OTG_OK;
}

/* col = im2col(g_b); dx_b [c, hw] += W [c, okk] col;  dW [c, okk] += x_b [c, hw] col^T. */
static otg_status convt_backward(otg_node *n) {
    const conv_geom q = convt_geom(n);
    otg_node *x = n->in[0], *w = n->in[1];
    const int64_t c = x->shape[1], okk = q.c * q.kh * q.kw, hw = q.ho * q.wo;
    const int64_t out_b = q.c * q.h * q.w;
    float *col = n->aux;
    for (int64_t b = 0; b < n->shape[0]; b++) {
        im2col(&q, n->grad + b * out_b, col);
        if (x->grad)
            otg_gemm(0, 0, c, hw, okk, 1.0f, w->value, okk, col, hw, 1.0f, x->grad + b * c * hw, hw);
        if (w->grad)
            otg_gemm(0, 1, c, okk, hw, 1.0f, x->value + b * c * hw, hw, col, hw, 1.0f, w->grad, okk);
    }
    return OTG_OK;
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
    if (f < 1 || f > 64) return otgi_fail(OTG_EINVAL, "upsample: factor %lld outside 1..64", (long long)f);
    otgi_shape_like_input(n);
    n->shape[2] *= f;
    n->shape[3] *= f;
    return OTG_OK;
}

/* Each output pixel (plane p, row i, column j) reads input pixel (p, i / f, j / f). */
static otg_status upsample_forward(otg_node *n) {
    const otg_node *x = n->in[0];
    const int64_t f = n->iattr[0], h = x->shape[2], w = x->shape[3], planes = x->shape[0] * x->shape[1];
    for (int64_t p = 0; p < planes; p++)
        for (int64_t i = 0; i < h * f; i++)
            for (int64_t j = 0; j < w * f; j++)
                n->value[(p * h * f + i) * w * f + j] = x->value[(p * h + i / f) * w + j / f];
    return OTG_OK;
}

static otg_status upsample_backward(otg_node *n) {
    otg_node *x = n->in[0];
    const int64_t f = n->iattr[0], h = x->shape[2], w = x->shape[3], planes = x->shape[0] * x->shape[1];
    if (!x->grad) return OTG_OK;
    for (int64_t p = 0; p < planes; p++)
        for (int64_t i = 0; i < h * f; i++)
            for (int64_t j = 0; j < w * f; j++)
                x->grad[(p * h + i / f) * w + j / f] += n->grad[(p * h * f + i) * w * f + j];
    return OTG_OK;
}

const otgi_op_def otgi_op_upsample = {"upsample", upsample_shape, upsample_forward,
                                      upsample_backward, NULL};

otg_node *otg_upsample(otg_graph *g, otg_node *x, int factor) {
    int64_t ia[4] = {factor, 0, 0, 0};
    return otgi_node_new(g, OTG_OP_UPSAMPLE, 1, &x, NULL, ia);
}
