/* Smooth elementwise ops and the two leaves: input, param, add, sub, mul, scale, square, exp,
 * log, tanh, sigmoid, softplus. Each forward writes y[i] = f(x[i]); each backward ADDS
 * g[i] f'(x[i]) into the inputs that need a gradient. Loops are independent per element, so
 * their results do not depend on the thread count. */
#include "ad/ad_internal.h"

#include <math.h>

#define PAR_MIN 32768 /* below this many elements a loop runs on one thread */

static otg_status leaf_shape(otg_node *n) { return OTG_OK; }
static otg_status leaf_pass(otg_node *n) { return OTG_OK; }

const otgi_op_def otgi_op_input = {"input", leaf_shape, leaf_pass, leaf_pass, NULL};
const otgi_op_def otgi_op_param = {"param", leaf_shape, leaf_pass, leaf_pass, NULL};

/* ---- binary: a (+|-|*) b, same shapes ------------------------------------------------------ */

static otg_status add_forward(otg_node *n) {
    const float *a = n->in[0]->value, *b = n->in[1]->value;
    float *y = n->value;
#pragma omp parallel for if (n->numel > PAR_MIN)
    for (int64_t i = 0; i < n->numel; i++) y[i] = a[i] + b[i];
    return OTG_OK;
}

static otg_status sub_forward(otg_node *n) {
    const float *a = n->in[0]->value, *b = n->in[1]->value;
    float *y = n->value;
#pragma omp parallel for if (n->numel > PAR_MIN)
    for (int64_t i = 0; i < n->numel; i++) y[i] = a[i] - b[i];
    return OTG_OK;
}

/* d(a + sign b) = g, sign g. */
static inline __attribute__((always_inline)) void add_signed_backward(otg_node *n, float sign) {
    const float *g = n->grad;
    float *ga = n->in[0]->grad, *gb = n->in[1]->grad;
    if (ga)
        for (int64_t i = 0; i < n->numel; i++) ga[i] += g[i];
    if (gb)
        for (int64_t i = 0; i < n->numel; i++) gb[i] += sign * g[i];
}

static otg_status add_backward(otg_node *n) {
    add_signed_backward(n, 1.0f);
    return OTG_OK;
}

static otg_status sub_backward(otg_node *n) {
    add_signed_backward(n, -1.0f);
    return OTG_OK;
}

static otg_status mul_forward(otg_node *n) {
    const float *a = n->in[0]->value, *b = n->in[1]->value;
    float *y = n->value;
#pragma omp parallel for if (n->numel > PAR_MIN)
    for (int64_t i = 0; i < n->numel; i++) y[i] = a[i] * b[i];
    return OTG_OK;
}

static otg_status mul_backward(otg_node *n) {
    const float *a = n->in[0]->value, *b = n->in[1]->value, *g = n->grad;
    float *ga = n->in[0]->grad, *gb = n->in[1]->grad;
    if (ga)
        for (int64_t i = 0; i < n->numel; i++) ga[i] += g[i] * b[i];
    if (gb)
        for (int64_t i = 0; i < n->numel; i++) gb[i] += g[i] * a[i];
    return OTG_OK;
}

const otgi_op_def otgi_op_add = {"add", otgi_shape_same_binary, add_forward, add_backward, NULL};
const otgi_op_def otgi_op_sub = {"sub", otgi_shape_same_binary, sub_forward, sub_backward, NULL};
const otgi_op_def otgi_op_mul = {"mul", otgi_shape_same_binary, mul_forward, mul_backward, NULL};

otg_node *otg_add(otg_graph *g, otg_node *a, otg_node *b) {
    otg_node *in[2] = {a, b};
    return otgi_node_new(g, OTG_OP_ADD, 2, in, NULL, NULL);
}

otg_node *otg_sub(otg_graph *g, otg_node *a, otg_node *b) {
    otg_node *in[2] = {a, b};
    return otgi_node_new(g, OTG_OP_SUB, 2, in, NULL, NULL);
}

otg_node *otg_mul(otg_graph *g, otg_node *a, otg_node *b) {
    otg_node *in[2] = {a, b};
    return otgi_node_new(g, OTG_OP_MUL, 2, in, NULL, NULL);
}

/* ---- unary smooth ops: table of f and f' --------------------------------------------------- */

/* f(x, c) and f'(x, y = f(x), c) for each unary op, c the op's constant. */
static float f_scale(float x, float c) { return c * x; }
static float d_scale(float x, float y, float c) { return c; }
static float f_square(float x, float c) { return x * x; }
static float d_square(float x, float y, float c) { return 2.0f * x; }
static float d_exp(float x, float y, float c) { return y; }
static float f_log(float x, float c) { return logf(x); }
static float d_log(float x, float y, float c) { return 1.0f / x; }
static float f_tanh(float x, float c) { return tanhf(x); }
static float d_tanh(float x, float y, float c) { return 1.0f - y * y; }
static float f_sigmoid(float x, float c) {
    if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}
static float d_sigmoid(float x, float y, float c) { return y * (1.0f - y); }
/* ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|): no overflow for large |x|. */
static float f_softplus(float x, float c) { return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x))); }
static float d_softplus(float x, float y, float c) { return f_sigmoid(x, c); }

/* Each op gets its own loops (not a shared helper taking a function pointer, which OpenMP's
 * outlining would keep as one indirect call per element), so f and f' inline and vectorise. */
#define UNARY_FORWARD(name)                                                                        \
    static otg_status name##_forward(otg_node *n) {                                               \
        const float *x = n->in[0]->value;                                                          \
        float *y = n->value;                                                                       \
        const float c = n->fattr[0];                                                               \
        _Pragma("omp parallel for if (n->numel > PAR_MIN)")                                       \
        for (int64_t i = 0; i < n->numel; i++) y[i] = f_##name(x[i], c);                           \
        return OTG_OK;                                                                             \
    }
/* exp and sigmoid: blocks of the array versions (vexp.c: the same bits, vectorised) */
#define ARRAY_BLOCK 4096
#define ARRAY_FORWARD(name, array_fn)                                                              \
    static otg_status name##_forward(otg_node *n) {                                               \
        const float *x = n->in[0]->value;                                                          \
        float *y = n->value;                                                                       \
        const int64_t blocks = (n->numel + ARRAY_BLOCK - 1) / ARRAY_BLOCK;                         \
        _Pragma("omp parallel for if (n->numel > PAR_MIN)")                                       \
        for (int64_t b = 0; b < blocks; b++) {                                                     \
            const int64_t i = b * ARRAY_BLOCK;                                                     \
            array_fn(x + i, y + i, n->numel - i < ARRAY_BLOCK ? n->numel - i : ARRAY_BLOCK);       \
        }                                                                                          \
        return OTG_OK;                                                                             \
    }
#define UNARY_OP(name)                                                                             \
    UNARY_FORWARD(name)                                                                            \
    UNARY_BACKWARD(name)
#define UNARY_BACKWARD(name)                                                                       \
    static otg_status name##_backward(otg_node *n) {                                              \
        const float *x = n->in[0]->value, *y = n->value, *g = n->grad;                             \
        float *gx = n->in[0]->grad;                                                                \
        const float c = n->fattr[0];                                                               \
        if (!gx) return OTG_OK;                                                                    \
        const int fresh = otgi_grad_fresh(n->in[0]); /* gx pending: gx = 0 + g f' */              \
        _Pragma("omp parallel for if (n->numel > PAR_MIN)")                                       \
        for (int64_t i = 0; i < n->numel; i++) {                                                   \
            const float d = g[i] * d_##name(x[i], y[i], c);                                        \
            gx[i] = (fresh ? 0.0f : gx[i]) + d;                                                    \
        }                                                                                          \
        return OTG_OK;                                                                             \
    }                                                                                              \
    const otgi_op_def otgi_op_##name = {#name, otgi_shape_like_input, name##_forward,             \
                                        name##_backward, NULL};

UNARY_OP(scale)
UNARY_OP(square)
ARRAY_FORWARD(exp, otgi_expf_array)
UNARY_BACKWARD(exp)
UNARY_OP(log)
UNARY_OP(tanh)
ARRAY_FORWARD(sigmoid, otgi_sigmoid_array)
UNARY_BACKWARD(sigmoid)
UNARY_OP(softplus)

otg_node *otg_scale(otg_graph *g, otg_node *a, float c) {
    float f[2] = {c, 0.0f};
    return otgi_node_new(g, OTG_OP_SCALE, 1, &a, f, NULL);
}
otg_node *otg_square(otg_graph *g, otg_node *a) {
    return otgi_node_new(g, OTG_OP_SQUARE, 1, &a, NULL, NULL);
}
otg_node *otg_exp(otg_graph *g, otg_node *a) {
    return otgi_node_new(g, OTG_OP_EXP, 1, &a, NULL, NULL);
}
otg_node *otg_log(otg_graph *g, otg_node *a) {
    return otgi_node_new(g, OTG_OP_LOG, 1, &a, NULL, NULL);
}
otg_node *otg_tanh(otg_graph *g, otg_node *a) {
    return otgi_node_new(g, OTG_OP_TANH, 1, &a, NULL, NULL);
}
otg_node *otg_sigmoid(otg_graph *g, otg_node *a) {
    return otgi_node_new(g, OTG_OP_SIGMOID, 1, &a, NULL, NULL);
}
otg_node *otg_softplus(otg_graph *g, otg_node *a) {
    return otgi_node_new(g, OTG_OP_SOFTPLUS, 1, &a, NULL, NULL);
}
