/* SW_2^2 against a whole data set through its quantile data (otg_sw_quantiles,
 * otg_sw_to_quantiles, otg_sw_quantile_loss): equal to otg_sw against all rows, gradient included;
 * bits independent of the thread count; bad input refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h> /* after the three headers it needs */

#include "otgen/ad.h"
#include "otgen/ot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static otg_tensor *normal(int64_t r, int64_t c, float scale, float shift, uint64_t seed) {
    otg_tensor *t = otg_tensor_new(2, (int64_t[]){r, c});
    otg_rng g = otg_rng_make(seed, 0);
    for (int64_t i = 0; i < r * c; i++)
        t->data[i] = scale * (float)otg_rng_normal(&g) + shift;
    return t;
}

static otg_tensor *directions(int64_t d, int64_t K, uint64_t seed) {
    otg_tensor *th = otg_tensor_new(2, (int64_t[]){d, K});
    otg_rng g = otg_rng_make(seed, 1);
    assert_int_equal(otg_sw_directions(&g, OTG_DIR_GAUSSIAN, d, K, th->data), OTG_OK);
    return th;
}

/* N = 1003 rows against n = 64 (N not a multiple of n: fractional overlaps), and n = N. */
static void test_equals_sw_against_all_rows(void **state) {
    const int64_t N = 1003, d = 7, L = 40, ns[2] = {64, 1003};
    otg_tensor *y = normal(N, d, 1.3f, 0.5f, 3), *th = directions(d, L, 4);
    otg_sw_workspace *ws = otg_sw_workspace_new();
    for (int k = 0; k < 2; k++) {
        const int64_t n = ns[k];
        otg_tensor *x = normal(n, d, 1.0f, 0.0f, 5 + (uint64_t)k);
        float *q = malloc((size_t)(L * n) * sizeof *q), *g0 = malloc((size_t)(n * d) * sizeof *g0);
        float *g1 = malloc((size_t)(n * d) * sizeof *g1);
        double *c = malloc((size_t)L * sizeof *c), w0[40], w1[40];
        assert_int_equal(otg_sw_quantiles(y, th, n, q, c), OTG_OK);
        otg_sw_result r0, r1;
        assert_int_equal(otg_sw(ws, x, NULL, y, NULL, th, NULL, &r0, g0, w0), OTG_OK);
        assert_int_equal(otg_sw_to_quantiles(ws, x, q, c, th, NULL, &r1, g1, w1), OTG_OK);
        assert_true(fabs(r1.value - r0.value) <= 1e-5 * r0.value);
        for (int64_t l = 0; l < L; l++)
            assert_true(fabs(w1[l] - w0[l]) <= 1e-5 * w0[l] + 1e-9);
        double gmax = 0.0, err = 0.0;
        for (int64_t i = 0; i < n * d; i++) {
            gmax = fmax(gmax, fabs((double)g0[i]));
            err = fmax(err, fabs((double)g1[i] - (double)g0[i]));
        }
        assert_true(gmax > 0.0 && err <= 1e-4 * gmax);
        for (int64_t l = 0; l < L; l++) /* each row ascending, every c >= 0 */
            for (int64_t i = 1; i < n; i++)
                assert_true(q[l * n + i - 1] <= q[l * n + i] && c[l] >= 0.0);
        otg_tensor_free(x), free(q), free(c), free(g0), free(g1);
    }
    otg_sw_workspace_free(ws), otg_tensor_free(y), otg_tensor_free(th);
}

static void test_bits_independent_of_threads(void **state) {
    const int64_t N = 3000, d = 20, K = 200, n = 128;
    otg_tensor *y = normal(N, d, 1.0f, 0.0f, 7), *th = directions(d, K, 8);
    float *q[2] = {malloc((size_t)(K * n) * sizeof(float)),
                   malloc((size_t)(K * n) * sizeof(float))};
    double *c[2] = {malloc((size_t)K * sizeof(double)), malloc((size_t)K * sizeof(double))};
    for (int k = 0; k < 2; k++) {
        otg_threads_set(k + 1);
        assert_int_equal(otg_sw_quantiles(y, th, n, q[k], c[k]), OTG_OK);
    }
    otg_threads_set(0);
    assert_memory_equal(q[0], q[1], (size_t)(K * n) * sizeof(float));
    assert_memory_equal(c[0], c[1], (size_t)K * sizeof(double));
    free(q[0]), free(q[1]), free(c[0]), free(c[1]), otg_tensor_free(y), otg_tensor_free(th);
}

/* The loss node's gradient is the kernel's, and a step along it lowers the loss. */
static void test_loss_node_descends(void **state) {
    const int64_t N = 500, d = 4, L = 64, n = 50;
    otg_tensor *y = normal(N, d, 1.0f, 2.0f, 9), *th = directions(d, L, 10);
    float *q = malloc((size_t)(L * n) * sizeof *q);
    double *c = malloc((size_t)L * sizeof *c);
    assert_int_equal(otg_sw_quantiles(y, th, n, q, c), OTG_OK);
    otg_graph *g = otg_graph_new();
    otg_node *x = otg_param(g, 2, (int64_t[]){n, d});
    otg_sw_quantile_loss_ctx ctx = {
        .ws = otg_sw_workspace_new(), .theta = th, .q = q, .c = c, .opts = otg_sw_opts_default()};
    otg_node *loss = otg_sw_quantile_loss(g, x, &ctx);
    assert_non_null(loss);
    assert_int_equal(otg_graph_compile(g), OTG_OK);
    otg_rng r = otg_rng_make(11, 0);
    float *p = otg_node_data(x);
    for (int64_t i = 0; i < n * d; i++)
        p[i] = (float)otg_rng_normal(&r);
    double prev = INFINITY;
    for (int it = 0; it < 20; it++) {
        assert_int_equal(otg_graph_forward(g), OTG_OK);
        const double v = otg_node_data(loss)[0];
        assert_true(v < prev);
        prev = v;
        otg_graph_zero_grad(g);
        assert_int_equal(otg_graph_backward(g, loss), OTG_OK);
        const float *gr = otg_node_grad(x);
        for (int64_t i = 0; i < n * d; i++)
            p[i] -= 0.5f * (float)n * gr[i]; /* grad is 2 (x - q)/n per direction, mean over L */
    }
    assert_true(prev < 0.05);
    otg_graph_free(g), otg_sw_quantile_loss_release(&ctx), otg_sw_workspace_free(ctx.ws);
    free(q), free(c), otg_tensor_free(y), otg_tensor_free(th);
}

static void test_bad_input(void **state) {
    otg_tensor *y = normal(10, 3, 1.0f, 0.0f, 1), *th = directions(3, 5, 2),
               *th4 = directions(4, 5, 2);
    float q[5 * 10];
    double c[5];
    assert_int_equal(otg_sw_quantiles(y, th4, 10, q, c), OTG_ESHAPE);
    assert_int_equal(otg_sw_quantiles(y, th, 0, q, c), OTG_EINVAL);
    assert_int_equal(otg_sw_quantiles(NULL, th, 10, q, c), OTG_EINVAL);
    assert_int_equal(otg_sw_quantiles(y, th, 10, q, c), OTG_OK);
    otg_sw_workspace *ws = otg_sw_workspace_new();
    otg_sw_opts o = otg_sw_opts_default();
    o.p = 1.0;
    otg_sw_result r;
    assert_int_equal(otg_sw_to_quantiles(ws, y, q, c, th, &o, &r, NULL, NULL), OTG_EINVAL);
    assert_int_equal(otg_sw_to_quantiles(ws, y, q, c, th4, NULL, &r, NULL, NULL), OTG_ESHAPE);
    assert_int_equal(otg_sw_to_quantiles(ws, y, NULL, c, th, NULL, &r, NULL, NULL), OTG_EINVAL);
    assert_int_equal(otg_sw_to_quantiles(ws, y, q, c, th, NULL, &r, NULL, NULL), OTG_OK);
    assert_true(r.value < 1e-6); /* y against its own quantiles at n = N */
    otg_sw_workspace_free(ws), otg_tensor_free(y), otg_tensor_free(th), otg_tensor_free(th4);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equals_sw_against_all_rows),
        cmocka_unit_test(test_bits_independent_of_threads),
        cmocka_unit_test(test_loss_node_descends),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
