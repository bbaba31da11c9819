/* Hadamard (structured orthogonal) directions and the SW kernel's fast path: the dense theta has
 * unit columns and, for d a power of two, is an orthonormal basis per block; a draw without
 * theta has the same bits; SW by fast transforms equals SW by GEMM on the same theta (value and
 * gradient, equal and unequal sizes, several blocks, padding; the gradient on the rows whose
 * projections do not tie within rounding); bits independent of the thread count; the
 * uniform-blocks 1-D plan against the general one; bad input. */
// ctest-labels: unit grad
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h> /* after the three headers it needs */

#include "ot/ot_internal.h"
#include "otgen/core.h"
#include "otgen/ot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static otg_tensor *normal_cloud(otg_rng *r, int64_t n, int64_t d, float shift) {
    otg_tensor *t = otg_tensor_new(2, (int64_t[]){n, d});
    assert_non_null(t);
    otg_rng_fill_normal(r, n * d, t->data);
    for (int64_t i = 0; i < n * d; i++)
        t->data[i] += shift * (float)(i % d) / (float)d;
    return t;
}

static void test_dense_directions(void **state) {
    (void)state;
    const int64_t cases[][2] = {{64, 64}, {50, 150}, {1, 3}, {33, 20}};
    for (int c = 0; c < 4; c++) {
        const int64_t d = cases[c][0], L = cases[c][1];
        otg_rng r = otg_rng_make(7, 3);
        otg_sw_hadamard h = {0};
        float *th = malloc((size_t)(d * L) * sizeof *th);
        assert_int_equal(otg_sw_hadamard_draw(&r, d, L, &h, th), OTG_OK);
        assert_int_equal(h.blocks, (L + h.n_fft - 1) / h.n_fft);
        assert_true(h.n_fft >= d && h.n_fft < 2 * d + 1);
        for (int64_t l = 0; l < L; l++) {
            double nrm = 0;
            for (int64_t j = 0; j < d; j++)
                nrm += (double)th[j * L + l] * (double)th[j * L + l];
            assert_true(fabs(nrm - 1.0) < 1e-5);
        }
        if (d == h.n_fft) /* a whole block is an orthonormal basis */
            for (int64_t a = 0; a < d; a++)
                for (int64_t b = 0; b < d; b++) {
                    double dot = 0;
                    for (int64_t j = 0; j < d; j++)
                        dot += (double)th[j * L + a] * (double)th[j * L + b];
                    assert_true(fabs(dot - (a == b)) < 1e-5);
                }
        /* the same draw through otg_sw_directions, from the same stream position */
        otg_rng r2 = otg_rng_make(7, 3);
        float *th2 = malloc((size_t)(d * L) * sizeof *th2);
        assert_int_equal(otg_sw_directions(&r2, OTG_DIR_HADAMARD, d, L, th2), OTG_OK);
        assert_memory_equal(th, th2, (size_t)(d * L) * sizeof *th);
        otg_sw_hadamard_free(&h);
        free(th), free(th2);
    }
    /* without theta (the norms from the padding columns when they are fewer): the same bits */
    for (int64_t d = 600; d <= 1024; d += 424) {
        const int64_t L = 1100;
        otg_sw_hadamard a = {0}, b = {0};
        otg_rng ra = otg_rng_make(8, 1), rb = otg_rng_make(8, 1);
        float *th = malloc((size_t)(d * L) * sizeof *th);
        assert_int_equal(otg_sw_hadamard_draw(&ra, d, L, &a, th), OTG_OK);
        assert_int_equal(otg_sw_hadamard_draw(&rb, d, L, &b, NULL), OTG_OK);
        assert_int_equal(a.blocks, 2);
        assert_memory_equal(a.signs, b.signs, (size_t)(2 * 3 * a.n_fft) * sizeof(float));
        assert_memory_equal(a.scale, b.scale, (size_t)L * sizeof(float));
        otg_sw_hadamard_free(&a), otg_sw_hadamard_free(&b);
        free(th);
    }
    otg_dir_kind k;
    assert_int_equal(otg_dir_parse("hadamard", &k), OTG_OK);
    assert_int_equal(k, OTG_DIR_HADAMARD);
}

/* Marks (tied[i] = 1) the rows of x [n, d] whose projection along some column of th [d, L]
 * lies within tol of another row's (projected in double); returns their count. The GEMM and the
 * transforms round a projection differently (about 1e-6 here), so they may sort such a near-tie
 * in opposite orders: a kink of SW, where both gradients are right and differ on those rows. */
typedef struct {
    double v;
    int64_t row;
} proj;
static int proj_cmp(const void *a, const void *b) {
    const double u = ((const proj *)a)->v, w = ((const proj *)b)->v;
    return (u > w) - (u < w);
}
static int64_t near_ties(const otg_tensor *x, const otg_tensor *th, double tol, char *tied) {
    const int64_t n = x->shape[0], d = x->shape[1], L = th->shape[1];
    proj *p = malloc((size_t)n * sizeof *p);
    assert_non_null(p);
    memset(tied, 0, (size_t)n);
    for (int64_t l = 0; l < L; l++) {
        for (int64_t i = 0; i < n; i++) {
            double s = 0;
            for (int64_t k = 0; k < d; k++)
                s += (double)x->data[i * d + k] * (double)th->data[k * L + l];
            p[i] = (proj){s, i};
        }
        qsort(p, (size_t)n, sizeof *p, proj_cmp);
        for (int64_t i = 0; i + 1 < n; i++)
            if (p[i + 1].v - p[i].v < tol) tied[p[i].row] = tied[p[i + 1].row] = 1;
    }
    free(p);
    int64_t count = 0;
    for (int64_t i = 0; i < n; i++)
        count += tied[i];
    return count;
}

/* SW of x against y along theta: by GEMM (fast NULL) or by transforms; value, gradient. */
static double sw_run(otg_sw_workspace *ws, const otg_tensor *x, const otg_tensor *y,
                     const otg_tensor *th, const otg_sw_hadamard *fast, double p, float *grad) {
    otg_sw_opts o = otg_sw_opts_default();
    o.p = p, o.fast = fast;
    otg_sw_result res;
    assert_int_equal(otg_sw(ws, x, NULL, y, NULL, th, &o, &res, grad, NULL), OTG_OK);
    return res.value;
}

static void test_fast_equals_gemm(void **state) {
    (void)state;
    /* n, m, d, L: equal sizes, m = 4n, n = 4m, unequal non-multiples, padding, several blocks */
    const int64_t cases[][4] = {{37, 37, 50, 100}, {20, 80, 50, 64}, {80, 20, 33, 40},
                                {16, 16, 64, 64},  {30, 45, 17, 70}, {300, 300, 50, 64}};
    otg_sw_workspace *ws = otg_sw_workspace_new();
    for (int c = 0; c < 6; c++) {
        const int64_t n = cases[c][0], m = cases[c][1], d = cases[c][2], L = cases[c][3];
        otg_rng r = otg_rng_make(11, (uint64_t)c);
        otg_tensor *x = normal_cloud(&r, n, d, 0.0f), *y = normal_cloud(&r, m, d, 3.0f);
        otg_tensor *th = otg_tensor_new(2, (int64_t[]){d, L});
        otg_sw_hadamard h = {0};
        assert_int_equal(otg_sw_hadamard_draw(&r, d, L, &h, th->data), OTG_OK);
        float *g0 = malloc((size_t)(n * d) * sizeof *g0),
              *g1 = malloc((size_t)(n * d) * sizeof *g1);
        char *tied = malloc((size_t)n);
        assert_true(4 * near_ties(x, th, 1e-5, tied) <= n); /* most rows compared */
        for (int pi = 0; pi < 2; pi++) {
            const double p = pi ? 1.5 : 2.0;
            const double v0 = sw_run(ws, x, y, th, NULL, p, g0),
                         v1 = sw_run(ws, x, y, th, &h, p, g1);
            assert_true(v0 > 0 && fabs(v0 - v1) <= 1e-5 * v0);
            double gmax = 0, err = 0; /* over the rows without a near-tie */
            for (int64_t i = 0; i < n * d; i++) {
                gmax = fmax(gmax, fabs(g0[i]));
                if (!tied[i / d]) err = fmax(err, fabs(g0[i] - g1[i]));
            }
            assert_true(gmax > 0 && err <= 1e-4 * gmax);
        }
        otg_sw_hadamard_free(&h);
        free(g0), free(g1), free(tied);
        otg_tensor_free(x), otg_tensor_free(y), otg_tensor_free(th);
    }
    otg_sw_workspace_free(ws);
}

static void test_fast_bits_independent_of_threads(void **state) {
    (void)state;
    const int64_t n = 512, m = 2048, d = 100, L = 200;
    otg_rng r = otg_rng_make(5, 9);
    otg_tensor *x = normal_cloud(&r, n, d, 0.0f), *y = normal_cloud(&r, m, d, 2.0f);
    otg_tensor *th = otg_tensor_new(2, (int64_t[]){d, L});
    otg_sw_hadamard h = {0};
    assert_int_equal(otg_sw_hadamard_draw(&r, d, L, &h, th->data), OTG_OK);
    float *g[2];
    double v[2];
    const int saved = otg_threads_get();
    for (int k = 0; k < 2; k++) {
        assert_int_equal(otg_threads_set(k + 1), OTG_OK);
        otg_sw_workspace *ws = otg_sw_workspace_new();
        g[k] = malloc((size_t)(n * d) * sizeof(float));
        v[k] = sw_run(ws, x, y, th, &h, 2.0, g[k]);
        otg_sw_workspace_free(ws);
    }
    assert_int_equal(otg_threads_set(saved), OTG_OK);
    assert_memory_equal(&v[0], &v[1], sizeof v[0]);
    assert_memory_equal(g[0], g[1], (size_t)(n * d) * sizeof(float));
    free(g[0]), free(g[1]);
    otg_sw_hadamard_free(&h);
    otg_tensor_free(x), otg_tensor_free(y), otg_tensor_free(th);
}

/* otgi_w1d_sorted_blocks against otgi_w1d_sorted_general with uniform weights: the same bits
 * for power-of-two sizes, the same value to rounding otherwise. */
static void test_blocks_plan_equals_general(void **state) {
    (void)state;
    const int64_t cases[][2] = {{4, 16}, {16, 4}, {8, 8}, {5, 15}, {15, 5}, {3, 12}};
    otg_rng r = otg_rng_make(3, 3);
    for (int c = 0; c < 6; c++) {
        const int64_t n = cases[c][0], m = cases[c][1];
        float s[16], t[16];
        otg_rng_fill_normal(&r, n, s), otg_rng_fill_normal(&r, m, t);
        for (int64_t i = 1; i < n; i++) /* sorted */
            s[i] = s[i - 1] + fabsf(s[i]);
        for (int64_t j = 1; j < m; j++)
            t[j] = t[j - 1] + fabsf(t[j]);
        double a[16], b[16], ga[16], gb[16];
        for (int64_t i = 0; i < n; i++)
            a[i] = 1.0 / (double)n;
        for (int64_t j = 0; j < m; j++)
            b[j] = 1.0 / (double)m;
        for (int pi = 0; pi < 3; pi++) {
            const double p = pi == 0 ? 2.0 : pi == 1 ? 1.0 : 3.0;
            const double vg = otgi_w1d_sorted_general(s, a, n, t, b, m, p, 0.5, ga, NULL);
            const double vb = otgi_w1d_sorted_blocks(s, n, t, m, p, 0.5, gb);
            const int exact = (n & (n - 1)) == 0 && (m & (m - 1)) == 0;
            if (exact) {
                assert_memory_equal(&vg, &vb, sizeof vg);
                assert_memory_equal(ga, gb, (size_t)n * sizeof *ga);
            } else {
                assert_true(fabs(vg - vb) <= 1e-12 * fabs(vg));
                for (int64_t i = 0; i < n; i++)
                    assert_true(fabs(ga[i] - gb[i]) <= 1e-12 * (fabs(ga[i]) + 1e-300));
            }
        }
    }
}

/* The AVX2 transform against the scalar reference on non-integer data: the same bits. */
static void test_fwht_engines_bit_identical(void **state) {
    (void)state;
    otg_rng r = otg_rng_make(2, 2);
    float x[4096], y[4096], s[4096];
    for (int64_t n = 1; n <= 4096; n *= 2) {
        otg_rng_fill_normal(&r, n, x), otg_rng_fill_normal(&r, n, s);
        for (int with_signs = 0; with_signs < 2; with_signs++) {
            memcpy(y, x, (size_t)n * sizeof *x);
            float *z = malloc((size_t)n * sizeof *z);
            memcpy(z, x, (size_t)n * sizeof *x);
            otgi_fwht(y, with_signs ? s : NULL, n), otgi_fwht_c(z, with_signs ? s : NULL, n);
            assert_memory_equal(y, z, (size_t)n * sizeof *y);
            free(z);
        }
        if (n == 4) { /* against the definition: H_4 x */
            const float h4[4] = {x[0] + x[1] + x[2] + x[3], x[0] - x[1] + x[2] - x[3],
                                 x[0] + x[1] - x[2] - x[3], x[0] - x[1] - x[2] + x[3]};
            memcpy(y, x, 4 * sizeof *x);
            otgi_fwht(y, NULL, 4);
            for (int i = 0; i < 4; i++)
                assert_true(fabsf(y[i] - h4[i]) < 1e-5f);
        }
    }
}

static void test_bad_input(void **state) {
    (void)state;
    otg_rng r = otg_rng_make(1, 1);
    otg_sw_hadamard h = {0};
    float th[64];
    assert_int_equal(otg_sw_hadamard_draw(&r, 0, 4, &h, th), OTG_EINVAL);
    assert_int_equal(otg_sw_hadamard_draw(&r, 4, 0, &h, th), OTG_EINVAL);
    assert_int_equal(otg_sw_hadamard_draw(NULL, 4, 4, &h, th), OTG_EINVAL);
    /* opts.fast drawn for another L: refused, not read out of bounds */
    assert_int_equal(otg_sw_hadamard_draw(&r, 8, 4, &h, th), OTG_OK);
    otg_tensor *x = normal_cloud(&r, 10, 8, 0.0f), *y = normal_cloud(&r, 10, 8, 1.0f);
    otg_tensor *t8 = otg_tensor_new(2, (int64_t[]){8, 8});
    assert_int_equal(otg_sw_directions(&r, OTG_DIR_GAUSSIAN, 8, 8, t8->data), OTG_OK);
    otg_sw_opts o = otg_sw_opts_default();
    o.fast = &h;
    otg_sw_result res;
    otg_sw_workspace *ws = otg_sw_workspace_new();
    assert_int_equal(otg_sw(ws, x, NULL, y, NULL, t8, &o, &res, NULL, NULL), OTG_EINVAL);
    assert_non_null(strstr(otg_last_error(), "opts.fast"));
    otg_sw_workspace_free(ws);
    otg_sw_hadamard_free(&h);
    otg_sw_hadamard_free(NULL);
    otg_tensor_free(x), otg_tensor_free(y), otg_tensor_free(t8);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dense_directions),
        cmocka_unit_test(test_fast_equals_gemm),
        cmocka_unit_test(test_fast_bits_independent_of_threads),
        cmocka_unit_test(test_blocks_plan_equals_general),
        cmocka_unit_test(test_fwht_engines_bit_identical),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
