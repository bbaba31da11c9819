/* Gradient test of every op in the table: finite differences at random points away from kinks
 * (the library's otg_ad_check_fd), a meta-test that fails on any op without a case, forward values
 * of the convolutions against naive loops, and Clarke-set membership of the selections at kinks. */
// ctest-labels: unit grad
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h> /* after the three headers it needs */

#include "ad/ad_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Fills a leaf with uniforms in [lo, hi], optionally keeping |x| >= gap away from 0. */
static void gc_fill(otg_node *n, otg_rng *rng, float lo, float hi, float gap) {
    float *x = otg_node_data(n);
    for (int64_t j = 0; j < otg_node_numel(n); j++) {
        float v;
        do
            v = (float)((double)lo + ((double)hi - (double)lo) * otg_rng_uniform(rng));
        while (fabsf(v) < gap);
        x[j] = v;
    }
}

#define MAXL 4

/* A case builds its graph on leaves (inputs with requires_grad, or params), compiles it, fills
 * the leaves and returns the output. */
typedef struct {
    const char *name;
    otg_op op;
    otg_node *(*build)(otg_graph *g, otg_node **lv, int *nl, otg_rng *rng);
} op_case;

static otg_node *in_(otg_graph *g, otg_node **lv, int *nl, int ndim, const int64_t *shape) {
    return lv[(*nl)++] = otg_input(g, ndim, shape, 1);
}

#define SHAPE(...)                                                                                 \
    (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]) {                       \
        __VA_ARGS__                                                                                \
    }

/* Compiles and fills every leaf with uniforms in [lo, hi] at least `gap` from 0. */
static otg_node *ready(otg_graph *g, otg_node *out, otg_node **lv, int nl, otg_rng *rng, float lo,
                       float hi, float gap) {
    if (!out || otg_graph_compile(g) != OTG_OK) return NULL;
    for (int i = 0; i < nl; i++)
        gc_fill(lv[i], rng, lo, hi, gap);
    return out;
}

#define UNARY_CASE(fn, lo, hi, gap, ...)                                                           \
    static otg_node *build_##fn(otg_graph *g, otg_node **lv, int *nl, otg_rng *rng) {              \
        otg_node *x = in_(g, lv, nl, SHAPE(3, 5));                                                 \
        return ready(g, otg_##fn(g, x __VA_ARGS__), lv, *nl, rng, lo, hi, gap);                    \
    }
UNARY_CASE(scale, -2, 2, 0, , -1.7f)
UNARY_CASE(square, -2, 2, 0)
UNARY_CASE(exp, -2, 2, 0)
UNARY_CASE(log, 0.5f, 3, 0)
UNARY_CASE(tanh, -2, 2, 0)
UNARY_CASE(sigmoid, -3, 3, 0)
UNARY_CASE(softplus, -3, 3, 0)
UNARY_CASE(relu, -2, 2, 0.05f)
UNARY_CASE(leaky_relu, -2, 2, 0.05f, , 0.1f)
UNARY_CASE(abs, -2, 2, 0.05f)
UNARY_CASE(sum, -2, 2, 0)
UNARY_CASE(mean, -2, 2, 0)

#define BINARY_CASE(fn)                                                                            \
    static otg_node *build_##fn(otg_graph *g, otg_node **lv, int *nl, otg_rng *rng) {              \
        otg_node *a = in_(g, lv, nl, SHAPE(4, 3)), *b = in_(g, lv, nl, SHAPE(4, 3));               \
        return ready(g, otg_##fn(g, a, b), lv, *nl, rng, -2, 2, 0);                                \
    }
BINARY_CASE(add)
BINARY_CASE(sub)
BINARY_CASE(mul)

/* max/min: b = a + offset with |offset| >= 0.1, so no tie lies within the FD step. */
static otg_node *build_select(otg_graph *g, otg_node **lv, int *nl, otg_rng *rng, int is_max) {
    otg_node *a = in_(g, lv, nl, SHAPE(4, 3)), *b = in_(g, lv, nl, SHAPE(4, 3));
    otg_node *out = ready(g, is_max ? otg_max(g, a, b) : otg_min(g, a, b), lv, *nl, rng, -2, 2, 0);
    float *xa = otg_node_data(a), *xb = otg_node_data(b);
    for (int i = 0; i < 12; i++) {
        float off = xb[i] - xa[i];
        if (fabsf(off) < 0.1f) xb[i] = xa[i] + (off < 0 ? -0.3f : 0.3f);
    }
    return out;
}
static otg_node *build_max(otg_graph *g, otg_node **lv, int *nl, otg_rng *rng) {
    return build_select(g, lv, nl, rng, 1);
}
static otg_node *build_min(otg_graph *g, otg_node **lv, int *nl, otg_rng *rng) {
    return build_select(g, lv, nl, rng, 0);
}

static otg_node *build_matmul(otg_graph *g, otg_node **lv, int *nl, otg_rng *rng) {
    otg_node *a = in_(g, lv, nl, SHAPE(3, 4)), *b = in_(g, lv, nl, SHAPE(4, 5));
    return ready(g, otg_matmul(g, a, b), lv, *nl, rng, -1, 1, 0);
}

static otg_node *build_bias(otg_graph *g, otg_node **lv, int *nl, otg_rng *rng) {
    otg_node *x = in_(g, lv, nl, SHAPE(2, 3, 2, 2)), *b = in_(g, lv, nl, SHAPE(3));
    return ready(g, otg_bias(g, x, b), lv, *nl, rng, -1, 1, 0);
}

/* A parameter leaf: d/dW of tanh(x W) lands in the flat gradient buffer. */
static otg_node *build_param(otg_graph *g, otg_node **lv, int *nl, otg_rng *rng) {
    otg_node *x = otg_input(g, SHAPE(3, 4), 0);
    otg_node *w = lv[(*nl)++] = otg_param(g, SHAPE(4, 2));
    otg_node *out = ready(g, otg_tanh(g, otg_matmul(g, x, w)), lv, *nl, rng, -1, 1, 0);
    gc_fill(x, rng, -1, 1, 0);
    return out;
}

/* reshape feeds a mul so its aliased gradient is used by a later op. */
static otg_node *build_reshape(otg_graph *g, otg_node **lv, int *nl, otg_rng *rng) {
    otg_node *x = in_(g, lv, nl, SHAPE(3, 4)), *y = in_(g, lv, nl, SHAPE(2, 6));
    otg_node *r = otg_reshape(g, otg_square(g, x), SHAPE(2, 6));
    return ready(g, otg_mul(g, r, y), lv, *nl, rng, -2, 2, 0);
}

static otg_node *build_concat(otg_graph *g, otg_node **lv, int *nl, otg_rng *rng) {
    otg_node *a = in_(g, lv, nl, SHAPE(2, 3, 2)), *b = in_(g, lv, nl, SHAPE(2, 1, 2));
    otg_node *c = in_(g, lv, nl, SHAPE(2, 2, 2));
    otg_node *parts[3] = {a, b, c};
    return ready(g, otg_concat(g, 3, parts, 1), lv, *nl, rng, -2, 2, 0);
}

static otg_node *build_conv2d(otg_graph *g, otg_node **lv, int *nl, otg_rng *rng) {
    otg_node *x = in_(g, lv, nl, SHAPE(2, 3, 5, 5)), *w = in_(g, lv, nl, SHAPE(4, 3, 3, 3));
    return ready(g, otg_conv2d(g, x, w, 2, 1), lv, *nl, rng, -1, 1, 0);
}

static otg_node *build_conv_transpose2d(otg_graph *g, otg_node **lv, int *nl, otg_rng *rng) {
    otg_node *x = in_(g, lv, nl, SHAPE(2, 3, 3, 3)), *w = in_(g, lv, nl, SHAPE(3, 2, 4, 4));
    return ready(g, otg_conv_transpose2d(g, x, w, 2, 1), lv, *nl, rng, -1, 1, 0);
}

static otg_node *build_upsample(otg_graph *g, otg_node **lv, int *nl, otg_rng *rng) {
    otg_node *x = in_(g, lv, nl, SHAPE(2, 2, 3, 2));
    return ready(g, otg_upsample(g, x, 3), lv, *nl, rng, -1, 1, 0);
}

static otg_node *build_blur(otg_graph *g, otg_node **lv, int *nl, otg_rng *rng) {
    otg_node *x = in_(g, lv, nl, SHAPE(2, 2, 4, 3));
    return ready(g, otg_blur(g, x, 0.8f), lv, *nl, rng, -1, 1, 0);
}

/* median5: the 48 inputs are 0.1 k - 2.4 for k = 0 .. 47 in a random order, so no two lie
 * within the FD step of each other. */
static otg_node *build_median5(otg_graph *g, otg_node **lv, int *nl, otg_rng *rng) {
    otg_node *x = in_(g, lv, nl, SHAPE(2, 2, 4, 3));
    otg_node *out = ready(g, otg_median5(g, x), lv, *nl, rng, -1, 1, 0);
    float *v = otg_node_data(x);
    for (int i = 0; i < 48; i++)
        v[i] = 0.1f * (float)i - 2.4f;
    for (int i = 47; i > 0; i--) {
        const int j = (int)(otg_rng_u32(rng) % (uint32_t)(i + 1));
        const float t = v[i];
        v[i] = v[j], v[j] = t;
    }
    return out;
}

/* custom: y = x^3 computed outside the tape, backward 3 x^2 g. */
static otg_status cube_forward(void *ctx, int n_in, const otg_tensor *in, otg_tensor *out) {
    int64_t n = otg_tensor_numel(out);
    for (int64_t i = 0; i < n; i++)
        out->data[i] = in[0].data[i] * in[0].data[i] * in[0].data[i];
    return OTG_OK;
}
static otg_status cube_backward(void *ctx, int n_in, const otg_tensor *in, const otg_tensor *out,
                                const otg_tensor *gout, otg_tensor *gin) {
    if (!gin[0].data) return OTG_OK;
    int64_t n = otg_tensor_numel(out);
    for (int64_t i = 0; i < n; i++)
        gin[0].data[i] += 3.0f * in[0].data[i] * in[0].data[i] * gout->data[i];
    return OTG_OK;
}
static const otg_custom_op cube_op = {"cube", cube_forward, cube_backward};
static otg_node *build_custom(otg_graph *g, otg_node **lv, int *nl, otg_rng *rng) {
    otg_node *x = in_(g, lv, nl, SHAPE(3, 4));
    otg_node *y = otg_custom(g, &cube_op, NULL, 1, &x, SHAPE(3, 4));
    return ready(g, otg_tanh(g, y), lv, *nl, rng, -1, 1, 0);
}

/* softmax_xent: logits in [-3, 3], targets positive rows (not normalised, so both terms of dz
 * are exercised), both differentiated. */
static otg_node *build_softmax_xent(otg_graph *g, otg_node **lv, int *nl, otg_rng *rng) {
    otg_node *z = in_(g, lv, nl, SHAPE(4, 5)), *t = in_(g, lv, nl, SHAPE(4, 5));
    otg_node *out = ready(g, otg_softmax_xent(g, z, t), lv, *nl, rng, -3, 3, 0);
    gc_fill(t, rng, 0.1f, 1, 0);
    return out;
}

/* input: every case's leaves are inputs; this one checks an input reached through two paths. */
static otg_node *build_input(otg_graph *g, otg_node **lv, int *nl, otg_rng *rng) {
    otg_node *x = in_(g, lv, nl, SHAPE(6));
    return ready(g, otg_mul(g, otg_exp(g, x), otg_tanh(g, x)), lv, *nl, rng, -1, 1, 0);
}

static const op_case cases[] = {
    {"input", OTG_OP_INPUT, build_input},
    {"param", OTG_OP_PARAM, build_param},
    {"add", OTG_OP_ADD, build_add},
    {"sub", OTG_OP_SUB, build_sub},
    {"mul", OTG_OP_MUL, build_mul},
    {"scale", OTG_OP_SCALE, build_scale},
    {"square", OTG_OP_SQUARE, build_square},
    {"exp", OTG_OP_EXP, build_exp},
    {"log", OTG_OP_LOG, build_log},
    {"tanh", OTG_OP_TANH, build_tanh},
    {"sigmoid", OTG_OP_SIGMOID, build_sigmoid},
    {"softplus", OTG_OP_SOFTPLUS, build_softplus},
    {"relu", OTG_OP_RELU, build_relu},
    {"leaky_relu", OTG_OP_LEAKY_RELU, build_leaky_relu},
    {"abs", OTG_OP_ABS, build_abs},
    {"max", OTG_OP_MAX, build_max},
    {"min", OTG_OP_MIN, build_min},
    {"matmul", OTG_OP_MATMUL, build_matmul},
    {"bias", OTG_OP_BIAS, build_bias},
    {"sum", OTG_OP_SUM, build_sum},
    {"mean", OTG_OP_MEAN, build_mean},
    {"reshape", OTG_OP_RESHAPE, build_reshape},
    {"concat", OTG_OP_CONCAT, build_concat},
    {"conv2d", OTG_OP_CONV2D, build_conv2d},
    {"conv_transpose2d", OTG_OP_CONV_TRANSPOSE2D, build_conv_transpose2d},
    {"upsample", OTG_OP_UPSAMPLE, build_upsample},
    {"custom", OTG_OP_CUSTOM, build_custom},
    {"softmax_xent", OTG_OP_SOFTMAX_XENT, build_softmax_xent},
    {"blur", OTG_OP_BLUR, build_blur},
    {"median5", OTG_OP_MEDIAN5, build_median5},
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

static void test_every_op_gradient(void **state) {
    for (int c = 0; c < N_CASES; c++) {
        for (uint64_t seed = 1; seed <= 3; seed++) {
            otg_graph *g = otg_graph_new();
            otg_node *lv[MAXL];
            int nl = 0;
            otg_rng rng = otg_rng_make(seed, (uint64_t)c);
            otg_node *out = cases[c].build(g, lv, &nl, &rng);
            if (!out) fail_msg("case %s: build failed: %s", cases[c].name, otg_last_error());
            otg_ad_fd_opts o = {.h = 1e-2f, .rtol = 1e-2, .atol = 2e-3, .seed = seed};
            otg_ad_fd_report r;
            otg_status st = otg_ad_check_fd(g, out, lv, nl, &o, &r);
            if (st != OTG_OK) fail_msg("op %s: check failed: %s", cases[c].name, otg_last_error());
            if (!(r.max_err <= 1.0) || !(r.wrong2_err > 1.0) || !r.pass)
                fail_msg("op %s seed %llu: error %.3g of tolerance (must be <= 1), a doubled "
                         "gradient gives %.3g (must be > 1), max|fd| %.3g over %lld elements",
                         cases[c].name, (unsigned long long)seed, r.max_err, r.wrong2_err, r.max_fd,
                         (long long)r.checked);
            otg_graph_free(g);
        }
    }
}

/* The meta-test: every row of the table exists, has both passes, and has a gradient case. */
static void test_every_op_has_a_case(void **state) {
    int covered[OTG_OP_COUNT] = {0};
    for (int c = 0; c < N_CASES; c++)
        covered[cases[c].op] = 1;
    for (int op = 0; op < OTG_OP_COUNT; op++) {
        const otgi_op_def *d = otgi_ops[op];
        if (!d || !d->name || !d->shape || !d->forward || !d->backward)
            fail_msg("op %d has an incomplete table row", op);
        if (!covered[op]) fail_msg("op %s has no gradient test case", d->name);
        assert_string_equal(otg_op_name((otg_op)op), d->name);
    }
}

/* softmax_xent's value against the closed form: logits (0, ln 3) and (ln 2, 0, 0), targets one-hot
 * on the second and first class: the mean of -ln(3/4) and -ln(2/4). */
static void test_softmax_xent_value(void **state) {
    otg_graph *g = otg_graph_new();
    otg_node *z = otg_input(g, SHAPE(2, 3), 0), *t = otg_input(g, SHAPE(2, 3), 0);
    otg_node *loss = otg_softmax_xent(g, z, t);
    assert_non_null(loss);
    assert_int_equal(otg_graph_compile(g), OTG_OK);
    const float zv[6] = {0, logf(3), -INFINITY, logf(2), 0, 0}, tv[6] = {0, 1, 0, 1, 0, 0};
    memcpy(otg_node_data(z), zv, sizeof zv), memcpy(otg_node_data(t), tv, sizeof tv);
    assert_int_equal(otg_graph_forward(g), OTG_OK);
    assert_float_equal(otg_node_data(loss)[0], -(log(0.75) + log(0.5)) / 2, 1e-6);
    assert_null(otg_softmax_xent(g, z, otg_input(g, SHAPE(2, 2), 0)));
    otg_graph_free(g);
}

/* The array expf and sigmoid (vexp.c) against the scalar expf and the scalar sigmoid formula,
 * bit for bit, on every 4099th float bit pattern (about 10^6, all exponents and signs, NaN and
 * infinities, the fast path's ends), or on all 2^32 when OTGEN_EXHAUSTIVE is set (about a
 * minute); blocks of odd lengths so that the scalar tails run too. */
static void test_vector_expf_bits(void **state) {
    enum { BLK = 4099 };
    const uint64_t stride = getenv("OTGEN_EXHAUSTIVE") ? 1 : 4099;
    float *x = malloc(BLK * sizeof *x), *e = malloc(BLK * sizeof *e), *s = malloc(BLK * sizeof *s);
    assert_non_null(x), assert_non_null(e), assert_non_null(s);
    const float edges[6] = {88.0f, -88.0f, 0x1.62e42ep6f, -0x1.9fe368p6f, -0x1.9d1d9ep6f, 0.0f};
    uint64_t bad = 0, checked = 0;
    for (uint64_t u0 = 0; u0 < ((uint64_t)1 << 32); u0 += stride * BLK) {
        int n = 0;
        for (uint64_t u = u0; n < BLK && u < ((uint64_t)1 << 32); u += stride, n++) {
            const uint32_t b = (uint32_t)u;
            memcpy(&x[n], &b, sizeof b);
        }
        if (u0 == 0) memcpy(x, edges, sizeof edges);
        otgi_expf_array(x, e, n);
        otgi_sigmoid_array(x, s, n);
        for (int i = 0; i < n; i++) {
            const float v = x[i], we = expf(v);
            float ws;
            if (v >= 0.0f) {
                ws = 1.0f / (1.0f + expf(-v));
            } else {
                const float t = expf(v);
                ws = t / (1.0f + t);
            }
            bad += memcmp(&we, &e[i], sizeof we) != 0;
            bad += memcmp(&ws, &s[i], sizeof ws) != 0;
        }
        checked += (uint64_t)n;
    }
    print_message("vector expf %s: %llu inputs, %llu differences\n",
                  otgi_expf_vector_active() ? "on" : "off", (unsigned long long)checked,
                  (unsigned long long)bad);
    assert_true(bad == 0);
    free(x), free(e), free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_op_has_a_case),
        cmocka_unit_test(test_every_op_gradient),
        cmocka_unit_test(test_softmax_xent_value),
        cmocka_unit_test(test_vector_expf_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
