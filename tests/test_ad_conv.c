/* conv2d and conv_transpose2d against a brute-force direct convolution in double: the forward
 * value and both gradients (input and kernel, through otg_graph_backward_seed with a random
 * seed R) over strides 1-3, pads 0-2, square and non-square kernels, odd sizes, and batches cut
 * into several chunks (the last one short); every path of src/ad/ops_conv.c is hit (plain and
 * wide columns, the GEMM and the direct few-row kernels, dx by the flipped kernel and by
 * col2im). Then finite differences on stride-1 cases, and bit-identical values and gradients
 * for 1, 2 and 3 threads on the shapes of the cnn generator. */
// ctest-labels: unit grad
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h> /* after the three headers it needs */

#include "otgen/otgen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SHAPE(...)                                                                                 \
    (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]) {                       \
        __VA_ARGS__                                                                                \
    }

/* One case: x [n, c, h, w]; conv2d: w [o, c, kh, kw]; transpose: w [c, o, kh, kw]. */
typedef struct {
    int n, c, h, w, o, kh, kw, s, p, transpose;
} conv_case;

/* The reference: values y, gradients dx, dw of sum(R * y) in double, and for each entry the sum
 * of |terms| (the scale of its rounding error). */
typedef struct {
    double *y, *dx, *dw, *ya, *dxa, *dwa;
} reference;

/* Every (sample, input channel, output channel, position, tap) term once: conv2d runs over its
 * output positions (oi, oj) reading x at (oi s - p + u, oj s - p + v); the transpose runs over
 * x's positions (i, j) writing y at (i s - p + u, j s - p + v). */
static void brute_force(const conv_case *k, const int64_t *ys, const float *x, const float *w,
                        const float *R, reference *ref) {
    const int64_t ho = ys[2], wo = ys[3];
    const int64_t gi = k->transpose ? k->h : ho, gj = k->transpose ? k->w : wo; /* loop grid */
    for (int b = 0; b < k->n; b++)
        for (int c = 0; c < k->c; c++)
            for (int o = 0; o < k->o; o++)
                for (int64_t i = 0; i < gi; i++)
                    for (int64_t j = 0; j < gj; j++)
                        for (int u = 0; u < k->kh; u++)
                            for (int v = 0; v < k->kw; v++) {
                                int64_t a = i * k->s - k->p + u, e = j * k->s - k->p + v;
                                int64_t xi = k->transpose ? i : a, xj = k->transpose ? j : e;
                                int64_t yi = k->transpose ? a : i, yj = k->transpose ? e : j;
                                if (xi < 0 || xi >= k->h || xj < 0 || xj >= k->w || yi < 0 ||
                                    yi >= ho || yj < 0 || yj >= wo)
                                    continue;
                                int64_t ix = ((int64_t)(b * k->c + c) * k->h + xi) * k->w + xj;
                                int64_t iy = ((int64_t)(b * k->o + o) * ho + yi) * wo + yj;
                                int64_t iw = k->transpose
                                                 ? ((c * k->o + o) * k->kh + u) * k->kw + v
                                                 : ((o * k->c + c) * k->kh + u) * k->kw + v;
                                double xv = x[ix], wv = w[iw], rv = R[iy];
                                ref->y[iy] += xv * wv, ref->ya[iy] += fabs(xv * wv);
                                ref->dx[ix] += rv * wv, ref->dxa[ix] += fabs(rv * wv);
                                ref->dw[iw] += rv * xv, ref->dwa[iw] += fabs(rv * xv);
                            }
}

/* |got - want| <= 2e-5 (sum of |terms|) + 1e-6 at every entry: float rounding of a sum stays far
 * below that; one missing or misplaced term of a sum over K terms is about 1 / K of it. */
static void expect_close(const char *what, const conv_case *k, const float *got, const double *want,
                         const double *abs_sum, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (!(fabs((double)got[i] - want[i]) <= 2e-5 * abs_sum[i] + 1e-6))
            fail_msg("%s of case n%d c%d %dx%d o%d k%dx%d s%d p%d%s at %lld: %.9g, want %.9g", what,
                     k->n, k->c, k->h, k->w, k->o, k->kh, k->kw, k->s, k->p,
                     k->transpose ? " (transpose)" : "", (long long)i, (double)got[i], want[i]);
}

static void fill_normal(otg_rng *r, float *v, int64_t n) {
    otg_rng_fill_normal(r, n, v);
}

static otg_node *build_case(otg_graph *g, const conv_case *k, otg_node **x, otg_node **w) {
    *x = otg_input(g, SHAPE(k->n, k->c, k->h, k->w), 1);
    *w = k->transpose ? otg_input(g, SHAPE(k->c, k->o, k->kh, k->kw), 1)
                      : otg_input(g, SHAPE(k->o, k->c, k->kh, k->kw), 1);
    return k->transpose ? otg_conv_transpose2d(g, *x, *w, k->s, k->p)
                        : otg_conv2d(g, *x, *w, k->s, k->p);
}

static void check_case(const conv_case *k, uint64_t seed) {
    otg_graph *g = otg_graph_new();
    otg_node *x, *w, *y = build_case(g, k, &x, &w);
    if (!y) fail_msg("build: %s", otg_last_error());
    assert_int_equal(otg_graph_compile(g), OTG_OK);
    otg_rng r = otg_rng_make(seed, 5);
    const int64_t nx = otg_node_numel(x), nw = otg_node_numel(w), ny = otg_node_numel(y);
    fill_normal(&r, otg_node_data(x), nx), fill_normal(&r, otg_node_data(w), nw);
    float *R = malloc((size_t)ny * sizeof *R);
    fill_normal(&r, R, ny);
    assert_int_equal(otg_graph_forward(g), OTG_OK);
    otg_graph_zero_grad(g);
    assert_int_equal(otg_graph_backward_seed(g, y, R), OTG_OK);
    reference ref = {calloc((size_t)ny, 8), calloc((size_t)nx, 8), calloc((size_t)nw, 8),
                     calloc((size_t)ny, 8), calloc((size_t)nx, 8), calloc((size_t)nw, 8)};
    brute_force(k, otg_node_shape(y), otg_node_data(x), otg_node_data(w), R, &ref);
    expect_close("value", k, otg_node_data(y), ref.y, ref.ya, ny);
    expect_close("d/dx", k, otg_node_grad(x), ref.dx, ref.dxa, nx);
    expect_close("d/dw", k, otg_node_grad(w), ref.dw, ref.dwa, nw);
    free(ref.y), free(ref.dx), free(ref.dw), free(ref.ya), free(ref.dxa), free(ref.dwa), free(R);
    otg_graph_free(g);
}

/* n, c, h, w, o, kh, kw, stride, pad, transpose */
static const conv_case cases[] = {
    {3, 3, 7, 6, 5, 3, 3, 1, 1, 0},     /* wide columns, GEMM, dx by the flipped kernel */
    {2, 2, 5, 9, 1, 3, 3, 1, 1, 0},     /* one output channel: the direct kernels */
    {3, 3, 6, 7, 4, 3, 3, 1, 1, 0},     /* the direct kernels at their row limit */
    {5, 4, 9, 7, 6, 3, 3, 1, 0, 0},     /* pad 0 */
    {2, 3, 6, 5, 5, 2, 4, 1, 2, 0},     /* pad >= a kernel side: dx by col2im */
    {2, 3, 5, 5, 3, 1, 1, 1, 0, 0},     /* 1x1 */
    {3, 2, 8, 7, 3, 3, 3, 2, 1, 0},     /* stride 2: plain columns */
    {2, 3, 9, 10, 4, 5, 4, 3, 2, 0},    /* stride 3, non-square */
    {37, 8, 14, 13, 16, 3, 3, 1, 1, 0}, /* several chunks of several samples, a short last one */
    {19, 16, 28, 28, 1, 3, 3, 1, 1, 0}, /* the cnn's last layer: one sample per chunk */
    {2, 3, 5, 4, 2, 3, 3, 1, 1, 1},     /* transpose, stride 1: wide backward */
    {3, 2, 4, 5, 3, 4, 4, 2, 1, 1},     /* transpose, stride 2 */
    {2, 2, 3, 4, 1, 3, 2, 3, 0, 1},     /* transpose, stride 3, one output channel */
    {21, 16, 7, 7, 8, 3, 3, 1, 0, 1},   /* transpose, several chunks */
};

static void test_against_brute_force(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(&cases[i], 100 + i);
}

/* Finite differences of L = sum_k w_k tanh(y)_k at stride 1 (the wide paths), both ops. */
static void test_finite_differences(void **state) {
    (void)state;
    const conv_case fd[] = {{2, 3, 5, 6, 4, 3, 3, 1, 1, 0},
                            {2, 3, 6, 5, 1, 3, 3, 1, 1, 0},
                            {2, 2, 4, 3, 6, 2, 3, 1, 0, 0},
                            {2, 3, 4, 4, 2, 3, 3, 1, 1, 1}};
    for (size_t i = 0; i < sizeof fd / sizeof fd[0]; i++) {
        otg_graph *g = otg_graph_new();
        otg_node *lv[2], *y = otg_tanh(g, build_case(g, &fd[i], &lv[0], &lv[1]));
        assert_non_null(y);
        assert_int_equal(otg_graph_compile(g), OTG_OK);
        otg_rng r = otg_rng_make(7, i);
        for (int l = 0; l < 2; l++) {
            float *v = otg_node_data(lv[l]);
            for (int64_t j = 0; j < otg_node_numel(lv[l]); j++)
                v[j] = (float)(otg_rng_uniform(&r) - 0.5);
        }
        otg_ad_fd_opts o = {.h = 1e-2f, .rtol = 1e-2, .atol = 2e-3, .seed = 3};
        otg_ad_fd_report rep;
        assert_int_equal(otg_ad_check_fd(g, y, lv, 2, &o, &rep), OTG_OK);
        if (!rep.pass)
            fail_msg("fd case %zu: error %.3g of tolerance, doubled gradient %.3g", i, rep.max_err,
                     rep.wrong2_err);
        otg_graph_free(g);
    }
}

/* The value and both gradients of one case at a thread count, copied out: [y | dx | dw]. */
static float *run_threads(const conv_case *k, int threads, int64_t *len) {
    otg_threads_set(threads);
    otg_graph *g = otg_graph_new();
    otg_node *x, *w, *y = build_case(g, k, &x, &w);
    assert_non_null(y);
    assert_int_equal(otg_graph_compile(g), OTG_OK);
    otg_rng r = otg_rng_make(11, 0);
    const int64_t nx = otg_node_numel(x), nw = otg_node_numel(w), ny = otg_node_numel(y);
    fill_normal(&r, otg_node_data(x), nx), fill_normal(&r, otg_node_data(w), nw);
    float *R = malloc((size_t)ny * sizeof *R), *out = malloc((size_t)(ny + nx + nw) * sizeof *out);
    fill_normal(&r, R, ny);
    assert_int_equal(otg_graph_forward(g), OTG_OK);
    otg_graph_zero_grad(g);
    assert_int_equal(otg_graph_backward_seed(g, y, R), OTG_OK);
    memcpy(out, otg_node_data(y), (size_t)ny * sizeof *out);
    memcpy(out + ny, otg_node_grad(x), (size_t)nx * sizeof *out);
    memcpy(out + ny + nx, otg_node_grad(w), (size_t)nw * sizeof *out);
    *len = ny + nx + nw;
    free(R);
    otg_graph_free(g);
    return out;
}

/* The cnn generator's two convolutions at batch 64 (parallel chunks), a transpose and a stride-2
 * case: the same bits for 1, 2 and 3 threads. */
static void test_bits_for_any_thread_count(void **state) {
    (void)state;
    const conv_case tc[] = {{64, 32, 14, 14, 16, 3, 3, 1, 1, 0},
                            {64, 16, 28, 28, 1, 3, 3, 1, 1, 0},
                            {40, 16, 9, 9, 8, 4, 4, 2, 1, 1},
                            {48, 8, 15, 15, 8, 3, 3, 2, 1, 0}};
    for (size_t i = 0; i < sizeof tc / sizeof tc[0]; i++) {
        int64_t n1, n2, n3;
        float *a = run_threads(&tc[i], 1, &n1), *b = run_threads(&tc[i], 2, &n2),
              *c = run_threads(&tc[i], 3, &n3);
        assert_int_equal(n1, n2), assert_int_equal(n1, n3);
        if (memcmp(a, b, (size_t)n1 * sizeof *a) || memcmp(a, c, (size_t)n1 * sizeof *a))
            fail_msg("case %zu: results differ between thread counts", i);
        free(a), free(b), free(c);
    }
    otg_threads_set(0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_brute_force),
        cmocka_unit_test(test_finite_differences),
        cmocka_unit_test(test_bits_for_any_thread_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
