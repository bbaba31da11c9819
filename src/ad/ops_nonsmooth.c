/* Nonsmooth elementwise ops: relu, leaky_relu, abs, max, min. Forward records its selection per
 * element in the node's aux bytes and counts inputs exactly at a kink; backward replays it:
 *   relu:       x > 0 -> 1, x < 0 -> 0, x == 0 -> s          (s = graph relu'(0), default 0)
 *   leaky_relu: x > 0 -> 1, x < 0 -> alpha, x == 0 -> alpha + s (1 - alpha)
 *   abs:        sign(x), and 0 at x == 0
 *   max/min:    the gradient goes to the selected argument; a tie selects the first one.
 * NaN inputs propagate to the output (relu(NaN) = NaN, as PyTorch) with a zero derivative. */
#include "ad/ad_internal.h"

#include <math.h>

enum { SEL_NEG = 0, SEL_POS = 1, SEL_KINK = 2 };

static size_t mask_bytes(const otg_node *n) { return (size_t)n->numel; }

#define PAR_MIN 32768 /* below this many elements a loop runs on one thread */
/* The vectorised passes (relu, the slopes) run on one thread below this many elements: a pass
 * over 2^18 values takes about as long as waking and joining a second thread. */
#define PAR_MIN_SIMD ((int64_t)1 << 18)
#define BLOCK 8192 /* elements per kernel call of the vectorised passes */

/* Records the side of 0 of each x[i] (branch-free) and returns the number at exactly 0. */
static int64_t record_sign(int64_t numel, const float *x, unsigned char *sel) {
    int64_t kinks = 0;
#pragma omp parallel for reduction(+ : kinks) if (numel > PAR_MIN)
    for (int64_t i = 0; i < numel; i++) {
        const int pos = x[i] > 0.0f, zero = x[i] == 0.0f;
        sel[i] = (unsigned char)(pos * SEL_POS + zero * SEL_KINK);
        kinks += zero;
    }
    return kinks;
}

/* relu on x[n] in one branch-free pass: y = x for x > 0 or NaN (so NaN propagates), else +0;
 * sel as record_sign; returns the count at exactly 0. */
static OTGI_WIDE_SIMD int relu_block(const float *x, float *y, unsigned char *sel, int n) {
    int kinks = 0;
#pragma omp simd reduction(+ : kinks)
    for (int i = 0; i < n; i++) {
        const float v = x[i];
        const int pos = v > 0.0f, zero = v == 0.0f;
        sel[i] = (unsigned char)(pos * SEL_POS + zero * SEL_KINK);
        kinks += zero;
        y[i] = v <= 0.0f ? 0.0f : v;
    }
    return kinks;
}

/* gx (+)= g * slope by the side of 0 recorded in sel, branch-free; fresh: gx is overwritten
 * with 0 + g * slope (the bits of adding into zeros). */
static OTGI_WIDE_SIMD void slopes_block(const unsigned char *sel, const float *g, float *gx, int n,
                                        float neg, float kink, float pos, int fresh) {
    if (fresh) {
#pragma omp simd
        for (int i = 0; i < n; i++) {
            const float s = sel[i] == SEL_POS ? pos : sel[i] == SEL_KINK ? kink : neg;
            gx[i] = 0.0f + g[i] * s;
        }
    } else {
#pragma omp simd
        for (int i = 0; i < n; i++) {
            const float s = sel[i] == SEL_POS ? pos : sel[i] == SEL_KINK ? kink : neg;
            gx[i] = gx[i] + g[i] * s;
        }
    }
}

/* Backward of a piecewise-linear function with slopes (neg, kink, pos) by side of 0. */
static void replay_slopes(otg_node *n, float neg, float kink, float pos) {
    const unsigned char *sel = n->aux;
    const float *g = n->grad;
    float *gx = n->in[0]->grad;
    if (!gx) return;
    const int fresh = otgi_grad_fresh(n->in[0]);
    const int64_t numel = n->numel, blocks = (numel + BLOCK - 1) / BLOCK;
#pragma omp parallel for if (numel > PAR_MIN_SIMD)
    for (int64_t b = 0; b < blocks; b++) {
        const int64_t i = b * BLOCK;
        const int len = (int)(numel - i < BLOCK ? numel - i : BLOCK);
        slopes_block(sel + i, g + i, gx + i, len, neg, kink, pos, fresh);
    }
}

static otg_status relu_forward(otg_node *n) {
    const float *x = n->in[0]->value;
    float *y = n->value;
    unsigned char *sel = n->aux;
    const int64_t numel = n->numel, blocks = (numel + BLOCK - 1) / BLOCK;
    int64_t kinks = 0;
#pragma omp parallel for reduction(+ : kinks) if (numel > PAR_MIN_SIMD)
    for (int64_t b = 0; b < blocks; b++) {
        const int64_t i = b * BLOCK;
        const int len = (int)(numel - i < BLOCK ? numel - i : BLOCK);
        kinks += relu_block(x + i, y + i, sel + i, len);
    }
    n->kinks = kinks;
    return OTG_OK;
}

static otg_status relu_backward(otg_node *n) {
    replay_slopes(n, 0.0f, otgi_graph_relu_prime(n->graph), 1.0f);
    return OTG_OK;
}

static otg_status leaky_forward(otg_node *n) {
    const float *x = n->in[0]->value;
    const float alpha = n->fattr[0];
    float *y = n->value;
    n->kinks = record_sign(n->numel, x, n->aux);
    for (int64_t i = 0; i < n->numel; i++) y[i] = x[i] > 0.0f ? x[i] : alpha * x[i];
    return OTG_OK;
}

static otg_status leaky_backward(otg_node *n) {
    const float alpha = n->fattr[0], s = otgi_graph_relu_prime(n->graph);
    replay_slopes(n, alpha, alpha + s * (1.0f - alpha), 1.0f);
    return OTG_OK;
}

static otg_status abs_forward(otg_node *n) {
    const float *x = n->in[0]->value;
    float *y = n->value;
    n->kinks = record_sign(n->numel, x, n->aux);
    for (int64_t i = 0; i < n->numel; i++) y[i] = fabsf(x[i]);
    return OTG_OK;
}

static otg_status abs_backward(otg_node *n) {
    replay_slopes(n, -1.0f, 0.0f, 1.0f);
    return OTG_OK;
}

const otgi_op_def otgi_op_relu = {"relu", otgi_shape_like_input, relu_forward, relu_backward,
                                  mask_bytes};
const otgi_op_def otgi_op_leaky_relu = {"leaky_relu", otgi_shape_like_input, leaky_forward,
                                        leaky_backward, mask_bytes};
const otgi_op_def otgi_op_abs = {"abs", otgi_shape_like_input, abs_forward, abs_backward,
                                 mask_bytes};

otg_node *otg_relu(otg_graph *g, otg_node *a) {
    return otgi_node_new(g, OTG_OP_RELU, 1, &a, NULL, NULL);
}

otg_node *otg_leaky_relu(otg_graph *g, otg_node *a, float alpha) {
    if (!(alpha >= 0.0f && alpha < 1.0f))
        return otgi_fail(OTG_EINVAL, "leaky_relu: alpha = %g outside [0, 1)", (double)alpha), NULL;
    float f[2] = {alpha, 0.0f};
    return otgi_node_new(g, OTG_OP_LEAKY_RELU, 1, &a, f, NULL);
}

otg_node *otg_abs(otg_graph *g, otg_node *a) {
    return otgi_node_new(g, OTG_OP_ABS, 1, &a, NULL, NULL);
}

/* ---- max / min: sel[i] = 0 picks a, 1 picks b; ties pick a ---------------------------------- */

static otg_status select_forward(otg_node *n, int take_max) {
    const float *a = n->in[0]->value, *b = n->in[1]->value;
    unsigned char *sel = n->aux;
    float *y = n->value;
    int64_t kinks = 0;
    for (int64_t i = 0; i < n->numel; i++) {
        /* a wins on a tie and when it is NaN (so NaN propagates from either side) */
        int pick_a = (take_max ? a[i] >= b[i] : a[i] <= b[i]) || isnan(a[i]);
        sel[i] = (unsigned char)!pick_a;
        y[i] = pick_a ? a[i] : b[i];
        kinks += a[i] == b[i];
    }
    n->kinks = kinks;
    return OTG_OK;
}

static otg_status max_forward(otg_node *n) { return select_forward(n, 1); }
static otg_status min_forward(otg_node *n) { return select_forward(n, 0); }

static otg_status select_backward(otg_node *n) {
    const unsigned char *sel = n->aux;
    const float *g = n->grad;
    float *ga = n->in[0]->grad, *gb = n->in[1]->grad;
    for (int64_t i = 0; i < n->numel; i++) {
        if (sel[i] == 0 && ga) ga[i] += g[i];
        if (sel[i] == 1 && gb) gb[i] += g[i];
    }
    return OTG_OK;
}

const otgi_op_def otgi_op_max = {"max", otgi_shape_same_binary, max_forward, select_backward,
                                 mask_bytes};
const otgi_op_def otgi_op_min = {"min", otgi_shape_same_binary, min_forward, select_backward,
                                 mask_bytes};

otg_node *otg_max(otg_graph *g, otg_node *a, otg_node *b) {
    otg_node *in[2] = {a, b};
    return otgi_node_new(g, OTG_OP_MAX, 2, in, NULL, NULL);
}

otg_node *otg_min(otg_graph *g, otg_node *a, otg_node *b) {
    otg_node *in[2] = {a, b};
    return otgi_node_new(g, OTG_OP_MIN, 2, in, NULL, NULL);
}
