/* otgen ad: define-then-run reverse-mode automatic differentiation on a tape.
 * Build a graph once (each builder appends a node, so creation order is a topological order and
 * shape errors are caught here, at build time), then per step: write inputs, otg_graph_forward,
 * otg_graph_zero_grad, otg_graph_backward. Parameters and their gradients live in one flat buffer
 * each, so optimisers are plain loops over float arrays.
 * Nonsmooth ops record their selection in forward (mask, sign, argmax) and replay it in backward:
 *   relu'(0) = s (per graph, s in [0, 1], default 0), leaky_relu'(0) = alpha + s (1 - alpha),
 *   |x|'(0) = 0, max/min ties -> the first argument. See docs/autodiff.md. */
#ifndef OTGEN_AD_H
#define OTGEN_AD_H

#include "otgen/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct otg_graph otg_graph;
typedef struct otg_node otg_node;

/* The op table's keys. Every op has a forward, a backward and a gradient test. */
typedef enum {
    OTG_OP_INPUT,
    OTG_OP_PARAM,
    OTG_OP_ADD,
    OTG_OP_SUB,
    OTG_OP_MUL,
    OTG_OP_SCALE,
    OTG_OP_SQUARE,
    OTG_OP_EXP,
    OTG_OP_LOG,
    OTG_OP_TANH,
    OTG_OP_SIGMOID,
    OTG_OP_SOFTPLUS,
    OTG_OP_RELU,
    OTG_OP_LEAKY_RELU,
    OTG_OP_ABS,
    OTG_OP_MAX,
    OTG_OP_MIN,
    OTG_OP_MATMUL,
    OTG_OP_BIAS,
    OTG_OP_SUM,
    OTG_OP_MEAN,
    OTG_OP_RESHAPE,
    OTG_OP_CONCAT,
    OTG_OP_CONV2D,
    OTG_OP_CONV_TRANSPOSE2D,
    OTG_OP_UPSAMPLE,
    OTG_OP_CUSTOM,
    OTG_OP_SOFTMAX_XENT,
    OTG_OP_BLUR,
    OTG_OP_MEDIAN5,
    OTG_OP_COUNT
} otg_op;

/* The name of an op ("relu"), or NULL outside the table. */
const char *otg_op_name(otg_op op);

/* ---- graph lifetime and settings ------------------------------------------------------------ */

/* An empty graph; NULL on out of memory. The graph owns every node and buffer. */
otg_graph *otg_graph_new(void);
/* Releases the graph, its nodes and buffers. Accepts NULL. */
void otg_graph_free(otg_graph *g);
/* The value backprop uses for relu'(0) (and the interpolation for leaky_relu'(0)).
 * OTG_EINVAL unless 0 <= s <= 1. Takes effect at the next backward. */
OTG_NODISCARD otg_status otg_graph_set_relu_prime(otg_graph *g, float s);
float otg_graph_relu_prime(const otg_graph *g);

/* ---- leaves --------------------------------------------------------------------------------- */

/* An input of shape[ndim] whose values the caller writes (otg_node_data) before each forward.
 * requires_grad: whether backward computes d loss / d input. NULL on a bad shape. */
otg_node *otg_input(otg_graph *g, int ndim, const int64_t *shape, int requires_grad);
/* A trainable parameter, stored in the graph's flat parameter buffer (zero-initialised). */
otg_node *otg_param(otg_graph *g, int ndim, const int64_t *shape);

/* ---- ops: each returns the new node, or NULL (reason in otg_last_error) on a NULL input or a
 * shape mismatch. A NULL input propagates, so a chain of builders can be checked once. -------- */

otg_node *otg_add(otg_graph *g, otg_node *a, otg_node *b); /* a + b, same shapes */
otg_node *otg_sub(otg_graph *g, otg_node *a, otg_node *b); /* a - b, same shapes */
otg_node *otg_mul(otg_graph *g, otg_node *a, otg_node *b); /* a * b elementwise */
otg_node *otg_scale(otg_graph *g, otg_node *a, float c);   /* c a */
otg_node *otg_square(otg_graph *g, otg_node *a);           /* a^2 */
otg_node *otg_exp(otg_graph *g, otg_node *a);              /* e^a */
otg_node *otg_log(otg_graph *g, otg_node *a);              /* ln a (NaN/-Inf for a <= 0) */
otg_node *otg_tanh(otg_graph *g, otg_node *a);
otg_node *otg_sigmoid(otg_graph *g, otg_node *a);                 /* 1 / (1 + e^-a), stable */
otg_node *otg_softplus(otg_graph *g, otg_node *a);                /* ln(1 + e^a), stable */
otg_node *otg_relu(otg_graph *g, otg_node *a);                    /* max(a, 0); NaN propagates */
otg_node *otg_leaky_relu(otg_graph *g, otg_node *a, float alpha); /* a > 0 ? a : alpha a */
otg_node *otg_abs(otg_graph *g, otg_node *a);
otg_node *otg_max(otg_graph *g, otg_node *a, otg_node *b); /* elementwise; tie -> a */
otg_node *otg_min(otg_graph *g, otg_node *a, otg_node *b); /* elementwise; tie -> a */
/* a [m, k] @ b [k, n] -> [m, n] (GEMM through CBLAS). */
otg_node *otg_matmul(otg_graph *g, otg_node *a, otg_node *b);
/* x [n, c, ...] + b [c] broadcast over dimension 1 (dense bias, or conv channel bias). */
otg_node *otg_bias(otg_graph *g, otg_node *x, otg_node *b);
otg_node *otg_sum(otg_graph *g, otg_node *a);  /* -> [1] */
otg_node *otg_mean(otg_graph *g, otg_node *a); /* -> [1] */
/* Same data, new shape (same element count); shares the input's buffers, costs nothing. */
otg_node *otg_reshape(otg_graph *g, otg_node *a, int ndim, const int64_t *shape);
/* Concatenates n >= 1 nodes along `axis`; all other dimensions must match. */
otg_node *otg_concat(otg_graph *g, int n, otg_node *const *in, int axis);
/* x [N, C, H, W] (*) w [O, C, kh, kw] -> [N, O, Ho, Wo], Ho = (H + 2 pad - kh) / stride + 1.
 * Cross-correlation as in PyTorch; no bias (add otg_bias). im2col + GEMM over chunks of samples
 * (a direct kernel for <= 4 output channels at stride 1); the same bits for any thread count. */
otg_node *otg_conv2d(otg_graph *g, otg_node *x, otg_node *w, int stride, int pad);
/* The adjoint of conv2d: x [N, C, H, W], w [C, O, kh, kw] (PyTorch layout) -> [N, O, Ho, Wo],
 * Ho = (H - 1) stride - 2 pad + kh. */
otg_node *otg_conv_transpose2d(otg_graph *g, otg_node *x, otg_node *w, int stride, int pad);
/* Nearest-neighbour upsampling of x [N, C, H, W] by an integer factor -> [N, C, fH, fW]. */
otg_node *otg_upsample(otg_graph *g, otg_node *x, int factor);
/* A fixed blur: x [N, C, H, W] correlated plane by plane with the 3 x 3 Gaussian kernel of
 * standard deviation sigma > 0 pixels (weights exp(-(a^2 + b^2) / (2 sigma^2)) for offsets a, b in
 * {-1, 0, 1}, normalised to sum 1), zero padding, same shape. No parameters; its adjoint is itself
 * (the kernel is symmetric). The mlp's output_blur (nn.h) applies it before the output
 * activation. NULL on a bad shape or sigma outside (0, 100]. */
otg_node *otg_blur(otg_graph *g, otg_node *x, float sigma);
/* A fixed edge-preserving despeckle: each pixel of x [N, C, H, W] becomes the median of itself
 * and its four neighbours (up, left, right, down; the nearest pixel beyond the border), same
 * shape. It removes isolated outliers and keeps edges and lines two pixels wide. The derivative
 * (a conservative field, like relu's) sends each output's gradient to the one input whose value it
 * took, the first in the order centre, up, left, right, down when several tie. The mlp's
 * output_median (nn.h) applies it before the output activation. NULL on a bad shape. */
otg_node *otg_median5(otg_graph *g, otg_node *x);

/* The mean softmax cross-entropy of logits z [n, k] against targets t [n, k] (one-hot labels or
 * any distributions): -(1/n) sum_i sum_j t_ij log softmax(z_i)_j -> [1], computed stably (log-sum-
 * exp about each row's max, in double). Differentiable in both arguments. */
otg_node *otg_softmax_xent(otg_graph *g, otg_node *logits, otg_node *targets);

/* An op computed outside the tape (e.g. the fused SW kernel) that takes part in backprop.
 * forward writes *out from in[0..n_in); backward ADDS d loss/d in[i] into in_grad[i] given
 * out_grad, skipping i whose in_grad[i].data is NULL (no gradient needed). Either may return an
 * error status, which otg_graph_forward / _backward return. ctx is borrowed, not freed. */
typedef struct {
    const char *name;
    otg_status (*forward)(void *ctx, int n_in, const otg_tensor *in, otg_tensor *out);
    otg_status (*backward)(void *ctx, int n_in, const otg_tensor *in, const otg_tensor *out,
                           const otg_tensor *out_grad, otg_tensor *in_grad);
} otg_custom_op;
otg_node *otg_custom(otg_graph *g, const otg_custom_op *op, void *ctx, int n_in,
                     otg_node *const *in, int ndim, const int64_t *shape);

/* ---- running ------------------------------------------------------------------------------- */

/* Allocates every value, gradient and selection buffer (once; later calls do nothing unless
 * nodes were added). Called by forward; call it yourself to write inputs before the first one. */
OTG_NODISCARD otg_status otg_graph_compile(otg_graph *g);
/* Evaluates every node in creation order. */
OTG_NODISCARD otg_status otg_graph_forward(otg_graph *g);
/* Sets every parameter gradient to 0 (backward accumulates into them with +=). */
void otg_graph_zero_grad(otg_graph *g);
/* Reverse pass from a scalar node ([1]) seeded with 1: ADDS d loss/d param into the flat gradient
 * buffer and d loss/d input into inputs created with requires_grad. Needs a forward first. */
OTG_NODISCARD otg_status otg_graph_backward(otg_graph *g, otg_node *loss);
/* Reverse pass seeded with an arbitrary upstream gradient seed[numel(node)] for `node` (how an
 * external kernel injects d loss/d node into the tape). */
OTG_NODISCARD otg_status otg_graph_backward_seed(otg_graph *g, otg_node *node, const float *seed);
/* Number of nonsmooth-op inputs exactly at a kink (relu/leaky input == 0, |x| at 0, max/min
 * ties) during the last forward. */
int64_t otg_graph_kink_count(const otg_graph *g);
/* The part of otg_graph_kink_count from nodes of one op (OTG_OP_RELU: relu inputs exactly 0 in
 * the last forward, the hits where relu'(0) = s is used; OTG_OP_MAX: ties of max; ...). 0 for an
 * op outside the table or a NULL graph. Kinks met by a custom op (e.g. the SW sorts' ties) are
 * reported by that op itself (otg_sw_result.ties), not here. */
int64_t otg_graph_kink_count_op(const otg_graph *g, otg_op op);

/* The flat parameter / gradient buffers and their length (all parameters, creation order). The
 * gradient buffer exists after compile; the parameter buffer's address changes when a parameter
 * is added, so take it after building. */
float *otg_graph_params(otg_graph *g, int64_t *count);
float *otg_graph_grads(otg_graph *g, int64_t *count);
/* Number of nodes so far. */
int64_t otg_graph_node_count(const otg_graph *g);
/* The element counts of the parameter nodes in creation order (their slices of the flat buffer):
 * writes up to max of them into sizes (may be NULL) and returns how many there are. */
int64_t otg_graph_param_sizes(const otg_graph *g, int64_t *sizes, int64_t max);

/* ---- nodes --------------------------------------------------------------------------------- */

/* The node's values [numel] (a parameter's slice of the flat buffer; an input's data to write).
 * NULL for other nodes before compile. */
float *otg_node_data(otg_node *n);
/* The node's gradient [numel] after backward; NULL when it needs none or before compile. */
float *otg_node_grad(otg_node *n);
/* The node's value as a tensor view (data NULL before compile, as otg_node_data). */
otg_tensor otg_node_value(otg_node *n);
int otg_node_ndim(const otg_node *n);
const int64_t *otg_node_shape(const otg_node *n);
int64_t otg_node_numel(const otg_node *n);
otg_op otg_node_op(const otg_node *n);

/* ---- checkers (src/ad/check.c): is backprop right on this graph? ------------------------------
 * Both work on any compiled graph, the caller's own ops included; they move leaf values, run
 * forward and backward, restore the values and end with a forward at the original point. They
 * never print: the caller prints the report. */

/* Finite-difference check of the gradient of L = sum_k w_k out_k (fixed weights w uniform in
 * [-1, 1) from otg_rng_make(seed, 999)), evaluated in double from the float32 forward, against
 * otg_graph_backward_seed(out, w). Central differences use the step actually representable in
 * float ((x + h) - (x - h) after rounding). */
typedef struct {
    float h;       /* finite-difference step [1e-3] */
    double rtol;   /* relative tolerance [1e-2] */
    double atol;   /* absolute tolerance, times max |fd| over the checked elements [2e-3] */
    uint64_t seed; /* of the weights w [1] */
} otg_ad_fd_opts;
/* The defaults in brackets above. */
otg_ad_fd_opts otg_ad_fd_opts_default(void);

typedef struct {
    double max_err;    /* worst |ad - fd| / (rtol |fd| + atol max|fd| + 1e-12); <= 1 to pass */
    double wrong2_err; /* the same measure for 2 ad: > 1 means the check could fail (not vacuous) */
    double max_fd;     /* max |fd| over the checked elements */
    double max_abs_err, max_rel_err; /* worst |ad - fd| and |ad - fd| / |fd| (fd != 0) */
    int64_t worst;   /* flat index of max_err over the checked elements (wrt order), -1 if none */
    int64_t checked; /* elements checked */
    int pass;        /* max_err <= 1 and wrong2_err > 1 */
} otg_ad_fd_report;

/* Checks d L / d wrt[i] for i < n_wrt (inputs created with requires_grad, or parameters); with
 * wrt == NULL (n_wrt ignored) the whole flat parameter buffer. out: any node [numel] (compiled by
 * the first forward if need be).
 * opts NULL = defaults. OTG_EINVAL on NULL g/out/report or a wrt node
 * without a gradient; OTG_ENOMEM; the status of a failing forward or backward (then
 * report->max_err = INFINITY). */
OTG_NODISCARD otg_status otg_ad_check_fd(otg_graph *g, otg_node *out, otg_node *const *wrt,
                                         int n_wrt, const otg_ad_fd_opts *opts,
                                         otg_ad_fd_report *report);

/* The conservative-field path identity f(c(1)) - f(c(0)) = int_0^1 <D_f(c(t)), c'(t)> dt, which
 * backprop's output D_f must satisfy along every curve c, kinks included (Bolte & Pauwels 2021),
 * checked along random piecewise-linear curves v0 -> v1 -> v2 by the trapezoid rule (f and D_f
 * from the float32 tape, products and sums in double). Vertices are the starting point plus
 * radius * N(0, 1) noise, scaled by the RMS of the parameters for the parameter part (1 for
 * inputs); a fraction through_origin of the curves has v1 = 0 (exact kinks with zero biases). */
typedef struct {
    int params;              /* move the graph's whole flat parameter buffer */
    otg_node *const *inputs; /* and these input nodes (requires_grad), [n_inputs] */
    int n_inputs;
} otg_ad_wrt; /* the moved variables: parameters first, then the inputs in order */

/* One curve's figures. residual = |lhs - rhs| / V, V = max(|lhs|, int |<D_f, c'>| dt, 1e-30) the
 * variation of f along the curve; coarse: the same quadrature on every 8th point (NAN unless 8
 * divides points): a correct derivative's residual shrinks with the grid, a wrong one's does not;
 * vs_lhs = |lhs - rhs| / max(|lhs|, 1e-30). */
typedef struct {
    int64_t index;
    int origin; /* v1 = 0 */
    double lhs, rhs, residual, coarse, vs_lhs;
    int64_t kinks; /* kink hits over the curve's evaluations */
} otg_ad_path_curve;

typedef struct {
    int64_t curves;        /* [8] */
    int64_t points;        /* trapezoid intervals per segment [2000] */
    double through_origin; /* fraction of curves with v1 = 0, in [0, 1] [0.5] */
    double radius;         /* vertex spread [1] */
    double tol;            /* pass when the worst residual <= tol [1e-2] */
    uint64_t seed;         /* the vertices come from otg_rng_make(seed, 2) [1] */
    /* Kink hits of the evaluation just run; NULL: otg_graph_kink_count(g). (otgen ad-check adds
     * the SW sort ties.) */
    int64_t (*kinks)(void *user, otg_graph *g);
    /* Called after each curve (NULL: not called). */
    void (*on_curve)(void *user, const otg_ad_path_curve *c);
    void *user;
} otg_ad_path_opts;
/* The defaults in brackets above. */
otg_ad_path_opts otg_ad_path_opts_default(void);

typedef struct {
    int64_t variables; /* moved variables */
    int64_t curves, kink_hits;
    double mean_residual;   /* over the curves */
    double residual;        /* the worst (NaN-sticky) */
    double residual_coarse; /* the worst coarse */
    double residual_vs_lhs; /* the worst vs_lhs */
    int pass;               /* residual <= tol */
} otg_ad_path_report;

/* Checks the path identity of the scalar node f of g (compiled here if need be) over wrt.
 * opts NULL = defaults. OTG_EINVAL on NULL arguments, an empty wrt, an input without a gradient,
 * a non-scalar f, curves < 1 or points < 1; OTG_ENOMEM; the status of a failing forward or
 * backward. */
OTG_NODISCARD otg_status otg_ad_check_path(otg_graph *g, otg_node *f, const otg_ad_wrt *wrt,
                                           const otg_ad_path_opts *opts,
                                           otg_ad_path_report *report);

#ifdef __cplusplus
}
#endif
#endif
