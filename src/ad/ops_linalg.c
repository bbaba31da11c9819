/* Linear-algebra and shape ops: matmul (GEMM through CBLAS), bias (broadcast over dim 1), sum,
 * mean, reshape (a free view), concat. Reductions accumulate in double, in index order, so their
 * results do not depend on the thread count. */
#include "ad/ad_internal.h"

#include <string.h>

/* ---- matmul: a [m, k] @ b [k, n] -> [m, n] ------------------------------------------------- */

static otg_status matmul_shape(otg_node *n) {
    const otg_node *a = n->in[0], *b = n->in[1];
    if (a->ndim != 2 || b->ndim != 2)
        return otgi_fail(OTG_ESHAPE, "matmul: needs 2-D inputs (got %d and %d dims)", a->ndim,
                         b->ndim);
    if (a->shape[1] != b->shape[0])
        return otgi_fail(OTG_ESHAPE, "matmul: [%lld, %lld] @ [%lld, %lld]: inner dims differ",
                         (long long)a->shape[0], (long long)a->shape[1], (long long)b->shape[0],
                         (long long)b->shape[1]);
    n->ndim = 2;
    n->shape[0] = a->shape[0];
    n->shape[1] = b->shape[1];
    return OTG_OK;
}

static otg_status matmul_forward(otg_node *n) {
    const otg_node *a = n->in[0], *b = n->in[1];
    int64_t m = a->shape[0], k = a->shape[1], c = b->shape[1];
    otg_gemm(0, 0, m, c, k, 1.0f, a->value, k, b->value, c, 0.0f, n->value, c);
    return OTG_OK;
}

/* da [m, k] += g [m, n] b^T;  db [k, n] += a^T g. A pending gradient (otgi_grad_fresh) is
 * written with beta = 0: SGEMM then zeroes it itself before it accumulates, the bits of beta = 1
 * on a zeroed buffer. */
static otg_status matmul_backward(otg_node *n) {
    otg_node *a = n->in[0], *b = n->in[1];
    int64_t m = a->shape[0], k = a->shape[1], c = b->shape[1];
    if (b->grad && otgi_graph_comm(n->graph, NULL)) {
        if (a->grad && otgi_grad_fresh(a)) memset(a->grad, 0, (size_t)a->numel * sizeof(float));
        if (otgi_grad_fresh(b)) memset(b->grad, 0, (size_t)b->numel * sizeof(float));
        return otgi_matmul_backward_comm(n);
    }
    if (a->grad) {
        const float beta = otgi_grad_fresh(a) ? 0.0f : 1.0f;
        otg_gemm(0, 1, m, k, c, 1.0f, n->grad, c, b->value, c, beta, a->grad, k);
    }
    if (b->grad) {
        const float beta = otgi_grad_fresh(b) ? 0.0f : 1.0f;
        otg_gemm(1, 0, k, c, m, 1.0f, a->value, k, n->grad, c, beta, b->grad, c);
    }
    return OTG_OK;
}

const otgi_op_def otgi_op_matmul = {"matmul", matmul_shape, matmul_forward, matmul_backward, NULL};

otg_node *otg_matmul(otg_graph *g, otg_node *a, otg_node *b) {
    otg_node *in[2] = {a, b};
    return otgi_node_new(g, OTG_OP_MATMUL, 2, in, NULL, NULL);
}

/* ---- bias: x [n, c, rest...] + b [c] -------------------------------------------------------- */

static otg_status bias_shape(otg_node *n) {
    const otg_node *x = n->in[0], *b = n->in[1];
    if (x->ndim < 2 || b->ndim != 1 || b->shape[0] != x->shape[1])
        return otgi_fail(OTG_ESHAPE,
                         "bias: needs x [n, c, ...] and b [c] (x has %d dims, "
                         "dim 1 = %lld; b has %d dims, %lld elements)",
                         x->ndim, (long long)(x->ndim > 1 ? x->shape[1] : 0), b->ndim,
                         (long long)b->numel);
    return otgi_shape_like_input(n);
}

#define BIAS_PAR_MIN ((int64_t)1 << 18) /* below this many elements bias runs on one thread */

/* y [c] = x [c] + b [c]: one row of a dense layer's bias. */
static OTGI_WIDE_SIMD void bias_row(const float *x, const float *b, float *y, int64_t c) {
#pragma omp simd
    for (int64_t j = 0; j < c; j++)
        y[j] = x[j] + b[j];
}

static otg_status bias_forward(otg_node *n) {
    const otg_node *x = n->in[0];
    const float *b = n->in[1]->value;
    int64_t rows = x->shape[0], c = x->shape[1], rest = x->numel / (rows * c);
    if (rest == 1) {
#pragma omp parallel for if (n->numel > BIAS_PAR_MIN)
        for (int64_t r = 0; r < rows; r++)
            bias_row(x->value + r * c, b, n->value + r * c, c);
        return OTG_OK;
    }
#pragma omp parallel for if (n->numel > 32768)
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < c; j++) {
            const float *xi = x->value + (r * c + j) * rest;
            float *yi = n->value + (r * c + j) * rest;
            for (int64_t t = 0; t < rest; t++)
                yi[t] = xi[t] + b[j];
        }
    return OTG_OK;
}

/* One row of a dense bias's backward, in one pass: acc [c] += g (in double), and dx [c] += g
 * (dx NULL: none; fresh: dx = 0 + g, the bits of adding into zeros). */
static OTGI_WIDE_SIMD void bias_back_row(const float *g, float *dx, double *acc, int64_t c,
                                         int fresh) {
    if (!dx) {
#pragma omp simd
        for (int64_t j = 0; j < c; j++)
            acc[j] += (double)g[j];
    } else if (fresh) {
#pragma omp simd
        for (int64_t j = 0; j < c; j++) {
            acc[j] += (double)g[j];
            dx[j] = 0.0f + g[j];
        }
    } else {
#pragma omp simd
        for (int64_t j = 0; j < c; j++) {
            acc[j] += (double)g[j];
            dx[j] = dx[j] + g[j];
        }
    }
}

/* dx += g; db[j] += sum over rows and positions of g, accumulated in double in row order with
 * contiguous reads (acc [c] is the node's aux workspace). A dense layer's (one position per
 * channel, one process) does both in one pass over g. */
static otg_status bias_backward(otg_node *n) {
    otg_node *x = n->in[0], *b = n->in[1];
    int64_t rows = x->shape[0], c = x->shape[1], rest = x->numel / (rows * c);
    const int fresh = x->grad && otgi_grad_fresh(x);
    const int comm = otgi_graph_comm(n->graph, NULL) != NULL;
    if (b->grad && otgi_grad_fresh(b)) memset(b->grad, 0, (size_t)b->numel * sizeof(float));
    double *acc = n->aux;
    if (b->grad && rest == 1 && !comm) {
        memset(acc, 0, (size_t)c * sizeof *acc);
        for (int64_t r = 0; r < rows; r++)
            bias_back_row(n->grad + r * c, x->grad ? x->grad + r * c : NULL, acc, c, fresh);
        for (int64_t j = 0; j < c; j++)
            b->grad[j] += (float)acc[j];
        return OTG_OK;
    }
    if (x->grad && fresh)
        for (int64_t i = 0; i < n->numel; i++)
            x->grad[i] = 0.0f + n->grad[i];
    else if (x->grad)
        for (int64_t i = 0; i < n->numel; i++)
            x->grad[i] += n->grad[i];
    if (!b->grad) return OTG_OK;
    const float *g = n->grad;
    float *full = NULL; /* distributed: the whole batch's rows */
    if (comm) {
        otg_status st = otgi_comm_full_rows(n, n->grad, c * rest, 0, &full, &rows);
        if (st != OTG_OK) return st;
        g = full;
    }
    memset(acc, 0, (size_t)c * sizeof *acc);
    for (int64_t r = 0; r < rows; r++) {
        const float *gr = g + r * c * rest;
        if (rest == 1)
            for (int64_t j = 0; j < c; j++)
                acc[j] += (double)gr[j];
        else
            for (int64_t j = 0; j < c; j++)
                for (int64_t t = 0; t < rest; t++)
                    acc[j] += (double)gr[j * rest + t];
    }
    for (int64_t j = 0; j < c; j++)
        b->grad[j] += (float)acc[j];
    return OTG_OK;
}

static size_t bias_aux(const otg_node *n) {
    return (size_t)n->in[1]->numel * sizeof(double);
}

const otgi_op_def otgi_op_bias = {"bias", bias_shape, bias_forward, bias_backward, bias_aux};

otg_node *otg_bias(otg_graph *g, otg_node *x, otg_node *b) {
    otg_node *in[2] = {x, b};
    return otgi_node_new(g, OTG_OP_BIAS, 2, in, NULL, NULL);
}

/* ---- sum and mean -> [1] ------------------------------------------------------------------- */

static otg_status scalar_shape(otg_node *n) {
    n->ndim = 1;
    n->shape[0] = 1;
    return OTG_OK;
}

static double sum_double(const float *x, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++)
        s += (double)x[i];
    return s;
}

static otg_status sum_forward(otg_node *n) {
    n->value[0] = (float)sum_double(n->in[0]->value, n->in[0]->numel);
    return OTG_OK;
}

static otg_status mean_forward(otg_node *n) {
    n->value[0] = (float)(sum_double(n->in[0]->value, n->in[0]->numel) / (double)n->in[0]->numel);
    return OTG_OK;
}

static void spread_backward(otg_node *n, float factor) {
    float *gx = n->in[0]->grad;
    const float gv = n->grad[0] * factor;
    if (!gx) return;
    for (int64_t i = 0; i < n->in[0]->numel; i++)
        gx[i] += gv;
}

static otg_status sum_backward(otg_node *n) {
    spread_backward(n, 1.0f);
    return OTG_OK;
}

static otg_status mean_backward(otg_node *n) {
    spread_backward(n, (float)(1.0 / (double)n->in[0]->numel));
    return OTG_OK;
}

const otgi_op_def otgi_op_sum = {"sum", scalar_shape, sum_forward, sum_backward, NULL};
const otgi_op_def otgi_op_mean = {"mean", scalar_shape, mean_forward, mean_backward, NULL};

otg_node *otg_sum(otg_graph *g, otg_node *a) {
    return otgi_node_new(g, OTG_OP_SUM, 1, &a, NULL, NULL);
}

otg_node *otg_mean(otg_graph *g, otg_node *a) {
    return otgi_node_new(g, OTG_OP_MEAN, 1, &a, NULL, NULL);
}

/* ---- reshape: shares in[0]'s value and grad buffers (see compile), so both passes are empty -- */

/* The target shape arrives in iattr[0..4), zero-padded (dimensions are > 0). */
static otg_status reshape_shape(otg_node *n) {
    n->ndim = 0;
    while (n->ndim < OTG_MAX_DIMS && n->iattr[n->ndim] != 0)
        n->ndim++;
    memcpy(n->shape, n->iattr, sizeof n->shape);
    if (n->ndim == 0) return otgi_fail(OTG_ESHAPE, "reshape: empty shape");
    int64_t c = 1;
    for (int i = 0; i < n->ndim; i++) {
        if (n->shape[i] <= 0 || otgi_mul_i64(c, n->shape[i], &c))
            return otgi_fail(OTG_ESHAPE, "reshape: dimension %d is %lld", i,
                             (long long)n->shape[i]);
    }
    if (c != n->in[0]->numel)
        return otgi_fail(OTG_ESHAPE, "reshape: %lld elements into a shape of %lld",
                         (long long)n->in[0]->numel, (long long)c);
    return OTG_OK;
}

static otg_status reshape_pass(otg_node *n) {
    return OTG_OK;
}

const otgi_op_def otgi_op_reshape = {"reshape", reshape_shape, reshape_pass, reshape_pass, NULL};

otg_node *otg_reshape(otg_graph *g, otg_node *a, int ndim, const int64_t *shape) {
    if (!shape || ndim < 1 || ndim > OTG_MAX_DIMS)
        return otgi_fail(OTG_ESHAPE, "reshape: ndim %d outside 1..%d", ndim, OTG_MAX_DIMS), NULL;
    int64_t ia[4] = {0, 0, 0, 0};
    for (int i = 0; i < ndim; i++) {
        if (shape[i] <= 0)
            return otgi_fail(OTG_ESHAPE, "reshape: dimension %d is %lld", i, (long long)shape[i]),
                   NULL;
        ia[i] = shape[i];
    }
    return otgi_node_new(g, OTG_OP_RESHAPE, 1, &a, NULL, ia);
}

/* ---- concat along `axis` (iattr[0]): inputs viewed as [outer, d_i * inner] ----------------- */

static otg_status concat_shape(otg_node *n) {
    const otg_node *a = n->in[0];
    int axis = (int)n->iattr[0];
    if (axis < 0 || axis >= a->ndim)
        return otgi_fail(OTG_ESHAPE, "concat: axis %d outside 0..%d", axis, a->ndim - 1);
    otgi_shape_like_input(n);
    for (int i = 1; i < n->n_in; i++) {
        const otg_node *b = n->in[i];
        int ok = b->ndim == a->ndim;
        for (int d = 0; ok && d < a->ndim; d++)
            ok = d == axis || b->shape[d] == a->shape[d];
        if (!ok)
            return otgi_fail(OTG_ESHAPE, "concat: input %d differs from input 0 outside axis %d", i,
                             axis);
        n->shape[axis] += b->shape[axis];
    }
    return OTG_OK;
}

/* outer = product of dims before axis, inner = product after. */
static void concat_dims(const otg_node *n, int64_t *outer, int64_t *inner) {
    int axis = (int)n->iattr[0];
    *outer = *inner = 1;
    for (int d = 0; d < axis; d++)
        *outer *= n->shape[d];
    for (int d = axis + 1; d < n->ndim; d++)
        *inner *= n->shape[d];
}

/* Copies between the output rows and each input's block (to_output: forward; else backward +=). */
static void concat_move(otg_node *n, int to_output) {
    int64_t outer, inner, axis = n->iattr[0];
    concat_dims(n, &outer, &inner);
    const int64_t row = n->shape[axis] * inner;
    int64_t col0 = 0;
    for (int i = 0; i < n->n_in; i++) {
        otg_node *x = n->in[i];
        const int64_t w = x->shape[axis] * inner;
        for (int64_t o = 0; o < outer; o++) {
            if (to_output)
                memcpy(n->value + o * row + col0, x->value + o * w, (size_t)w * sizeof(float));
            else if (x->grad)
                for (int64_t t = 0; t < w; t++)
                    x->grad[o * w + t] += n->grad[o * row + col0 + t];
        }
        col0 += w;
    }
}

static otg_status concat_forward(otg_node *n) {
    concat_move(n, 1);
    return OTG_OK;
}

static otg_status concat_backward(otg_node *n) {
    concat_move(n, 0);
    return OTG_OK;
}

const otgi_op_def otgi_op_concat = {"concat", concat_shape, concat_forward, concat_backward, NULL};

otg_node *otg_concat(otg_graph *g, int n, otg_node *const *in, int axis) {
    if (n < 1 || !in) return otgi_fail(OTG_EINVAL, "concat: needs at least one input"), NULL;
    int64_t ia[4] = {axis, 0, 0, 0};
    return otgi_node_new(g, OTG_OP_CONCAT, n, in, NULL, ia);
}
