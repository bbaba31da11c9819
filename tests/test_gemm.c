/* otg_gemm is thread-count invariant: with 1, 2 and 3 threads it gives the bits of one
 * single-threaded cblas_sgemm call, on shapes that are cut into row blocks (m not a multiple of
 * 48, both transpose flags, beta 0 and 1, alpha 1 and not), on shapes left whole, on a sweep of
 * random shapes, and when called inside a parallel region. ctest runs it with
 * OPENBLAS_CORETYPE=Haswell and with the variable unset (OpenBLAS's own kernel choice). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h> /* after the three headers it needs */

#include "otgen/core.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t m, n, k;
} shape;

/* [m, k] A (or [k, m]), B [k, n] (or [n, k]), C [m, n] filled from the seed. */
typedef struct {
    float *a, *b, *c0;
} operands;

static operands make_operands(shape s, uint64_t seed) {
    operands o = {malloc(sizeof(float) * (size_t)(s.m * s.k)),
                  malloc(sizeof(float) * (size_t)(s.k * s.n)),
                  malloc(sizeof(float) * (size_t)(s.m * s.n))};
    assert_true(o.a && o.b && o.c0);
    otg_rng r = otg_rng_make(seed, 1);
    otg_rng_fill_normal(&r, s.m * s.k, o.a);
    otg_rng_fill_normal(&r, s.k * s.n, o.b);
    otg_rng_fill_normal(&r, s.m * s.n, o.c0);
    return o;
}

/* C = alpha op(A) op(B) + beta C0 through otg_gemm with `threads` threads (0: one plain
 * single-threaded cblas_sgemm call, the reference). */
static float *product(int threads, int ta, int tb, shape s, float alpha, float beta, operands o) {
    float *c = malloc(sizeof(float) * (size_t)(s.m * s.n));
    assert_non_null(c);
    memcpy(c, o.c0, sizeof(float) * (size_t)(s.m * s.n));
    int64_t lda = ta ? s.m : s.k, ldb = tb ? s.k : s.n;
    assert_int_equal(otg_threads_set(threads > 0 ? threads : 1), OTG_OK);
    if (threads == 0)
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    (int)s.m, (int)s.n, (int)s.k, alpha, o.a, (int)lda, o.b, (int)ldb, beta, c,
                    (int)s.n);
    else
        otg_gemm(ta, tb, s.m, s.n, s.k, alpha, o.a, lda, o.b, ldb, beta, c, s.n);
    return c;
}

/* Every flag pair, beta 0 and 1, alpha 1 and 0.5: 1, 2, 3 threads give the reference's bits. */
static void check_shape(shape s, uint64_t seed) {
    operands o = make_operands(s, seed);
    size_t bytes = sizeof(float) * (size_t)(s.m * s.n);
    for (int f = 0; f < 8; f++) {
        int ta = f & 1, tb = (f >> 1) & 1;
        float beta = (float)((f >> 2) & 1), alpha = (seed & 1) ? 0.5f : 1.0f;
        float *ref = product(0, ta, tb, s, alpha, beta, o);
        for (int t = 1; t <= 3; t++) {
            float *c = product(t, ta, tb, s, alpha, beta, o);
            if (memcmp(ref, c, bytes))
                fail_msg("m %lld n %lld k %lld ta %d tb %d beta %g alpha %g: %d threads differ",
                         (long long)s.m, (long long)s.n, (long long)s.k, ta, tb, (double)beta,
                         (double)alpha, t);
            free(c);
        }
        free(ref);
    }
    free(o.a), free(o.b), free(o.c0);
}

static void test_blocked_shapes(void **state) {
    (void)state;
    /* the MLP's products (batch 256, 32-512-512-784: forward, dX, dW), validation batches, and
     * odd m that leave a short last block */
    const shape s[] = {{256, 512, 512}, {256, 784, 512},  {256, 512, 784},  {512, 512, 256},
                       {512, 784, 256}, {2048, 784, 512}, {300, 200, 1000}, {1000, 33, 784},
                       {777, 130, 300}, {97, 2000, 200},  {4099, 64, 64},   {1500, 8, 784}};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        check_shape(s[i], i + 1);
    otg_threads_set(0);
}

static void test_whole_shapes(void **state) {
    (void)state;
    /* too little work per block, m < 96, or tiny: one call (still single-threaded) */
    const shape s[] = {{32, 512, 256},  {2, 64, 256}, {256, 512, 32}, {95, 1000, 1000},
                       {130, 130, 130}, {1, 1, 1},    {5000, 2, 2}};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        check_shape(s[i], i + 100);
    otg_threads_set(0);
}

static void test_random_shapes(void **state) {
    (void)state;
    otg_rng r = otg_rng_make(5, 2);
    for (int it = 0; it < 40; it++) {
        float u[3];
        otg_rng_fill_uniform(&r, 3, u);
        shape s = {1 + (int64_t)(u[0] * 1500.0f), 1 + (int64_t)(u[1] * (it % 3 ? 700.0f : 40.0f)),
                   1 + (int64_t)(u[2] * (it % 4 ? 700.0f : 20.0f))};
        check_shape(s, 1000 + (uint64_t)it);
    }
    otg_threads_set(0);
}

/* Inside a parallel region otg_gemm makes no team of its own and keeps the bits. */
static void test_inside_parallel_region(void **state) {
    (void)state;
    shape s = {600, 300, 400};
    operands o = make_operands(s, 9);
    size_t bytes = sizeof(float) * (size_t)(s.m * s.n);
    float *ref = product(0, 1, 0, s, 1.0f, 1.0f, o), *c[2];
    otg_threads_set(2);
#pragma omp parallel for num_threads(2)
    for (int i = 0; i < 2; i++) {
        c[i] = malloc(bytes);
        memcpy(c[i], o.c0, bytes);
        otg_gemm(1, 0, s.m, s.n, s.k, 1.0f, o.a, s.m, o.b, s.n, 1.0f, c[i], s.n);
    }
    for (int i = 0; i < 2; i++) {
        assert_memory_equal(ref, c[i], bytes);
        free(c[i]);
    }
    free(ref), free(o.a), free(o.b), free(o.c0);
    otg_threads_set(0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocked_shapes),
        cmocka_unit_test(test_whole_shapes),
        cmocka_unit_test(test_random_shapes),
        cmocka_unit_test(test_inside_parallel_region),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
