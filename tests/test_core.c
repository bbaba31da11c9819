/* core: RNG streams (reproducibility across thread counts, independence of streams, moments,
 * sphere uniformity), tensors and GEMM (values against a naive product, clear errors on bad
 * input), status names and the last-error text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h> /* after the three headers it needs */

#include "otgen/core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float *fill_with_threads(int threads, int normal, int64_t n) {
    float *x = malloc((size_t)n * sizeof *x);
    otg_threads_set(threads);
    otg_rng r = otg_rng_make(12345, 3);
    (void)otg_rng_u32(&r); /* a buffered single draw before the fill is discarded */
    if (normal)
        otg_rng_fill_normal(&r, n, x);
    else
        otg_rng_fill_uniform(&r, n, x);
    assert_int_equal(r.counter, 1 + (uint64_t)(n + 3) / 4);
    return x;
}

static void test_rng_same_bits_for_any_thread_count(void **state) {
    const int64_t n = 1000003; /* large enough for the parallel path, not a multiple of 4 */
    for (int normal = 0; normal <= 1; normal++) {
        float *a = fill_with_threads(1, normal, n), *b = fill_with_threads(2, normal, n);
        assert_memory_equal(a, b, (size_t)n * sizeof *a);
        free(a);
        free(b);
    }
    otg_threads_set(0);
}

static void test_rng_streams_are_keyed(void **state) {
    otg_rng a = otg_rng_make(1, 0), b = otg_rng_make(1, 0), c = otg_rng_make(1, 1);
    otg_rng d = otg_rng_make(2, 0);
    int same_ab = 1, same_ac = 0, same_ad = 0;
    for (int i = 0; i < 64; i++) {
        uint32_t xa = otg_rng_u32(&a), xb = otg_rng_u32(&b), xc = otg_rng_u32(&c);
        uint32_t xd = otg_rng_u32(&d);
        same_ab &= xa == xb;
        same_ac += xa == xc;
        same_ad += xa == xd;
    }
    assert_true(same_ab);
    assert_true(same_ac < 2 && same_ad < 2);
    /* resuming from a stored counter reproduces the continuation */
    otg_rng r = otg_rng_make(9, 4);
    float first[8], again[8];
    otg_rng_fill_normal(&r, 5, first);
    otg_rng saved = r;
    otg_rng_fill_normal(&r, 8, first);
    otg_rng_fill_normal(&saved, 8, again);
    assert_memory_equal(first, again, sizeof first);
}

static void test_rng_moments(void **state) {
    const int64_t n = 400000;
    float *x = malloc((size_t)n * sizeof *x);
    otg_rng r = otg_rng_make(7, 0);
    otg_rng_fill_normal(&r, n, x);
    double m1 = 0, m2 = 0, m4 = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = x[i];
        m1 += v, m2 += v * v, m4 += v * v * v * v;
    }
    m1 /= (double)n, m2 /= (double)n, m4 /= (double)n;
    /* 5 standard errors: sd(mean) = 1/sqrt(n), sd(m2) = sqrt(2/n), sd(m4) = sqrt(96/n) */
    assert_true(fabs(m1) < 5.0 / sqrt((double)n));
    assert_true(fabs(m2 - 1.0) < 5.0 * sqrt(2.0 / (double)n));
    assert_true(fabs(m4 - 3.0) < 5.0 * sqrt(96.0 / (double)n));
    otg_rng_fill_uniform(&r, n, x);
    double u1 = 0, u2 = 0, lo = 1, hi = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = x[i];
        u1 += v, u2 += v * v;
        lo = fmin(lo, v), hi = fmax(hi, v);
    }
    u1 /= (double)n, u2 /= (double)n;
    assert_true(lo > 0.0 && hi < 1.0);
    assert_true(fabs(u1 - 0.5) < 5.0 * sqrt(1.0 / 12.0 / (double)n));
    assert_true(fabs(u2 - 1.0 / 3.0) < 5.0 * sqrt(4.0 / 45.0 / (double)n));
    double s1 = 0, s2 = 0;
    for (int i = 0; i < 100000; i++) {
        double v = otg_rng_normal(&r);
        s1 += v, s2 += v * v;
    }
    assert_true(fabs(s1 / 1e5) < 5.0 / sqrt(1e5) && fabs(s2 / 1e5 - 1.0) < 5.0 * sqrt(2.0 / 1e5));
    free(x);
}

/* Uniform on S^{d-1}: unit norm, mean 0, second moment I/d (so each coordinate squared averages
 * 1/d and off-diagonal products average 0). */
static void test_rng_sphere_uniform(void **state) {
    const int64_t d = 3, k = 200000;
    float *th = malloc((size_t)(d * k) * sizeof *th);
    otg_rng r = otg_rng_make(5, 2);
    assert_int_equal(otg_rng_fill_sphere(&r, d, k, th), OTG_OK);
    double mean[3] = {0}, cov[3][3] = {{0}};
    for (int64_t c = 0; c < k; c++) {
        double nrm = 0;
        for (int64_t i = 0; i < d; i++) {
            double v = th[i * k + c];
            nrm += v * v;
            mean[i] += v;
            for (int64_t j = 0; j < d; j++)
                cov[i][j] += v * (double)th[j * k + c];
        }
        assert_true(fabs(nrm - 1.0) < 1e-6);
    }
    double se = 5.0 / sqrt((double)k);
    for (int i = 0; i < 3; i++) {
        assert_true(fabs(mean[i] / (double)k) < se);
        for (int j = 0; j < 3; j++)
            assert_true(fabs(cov[i][j] / (double)k - (i == j ? 1.0 / 3.0 : 0.0)) < se);
    }
    assert_int_equal(otg_rng_fill_sphere(&r, 0, 4, th), OTG_EINVAL);
    assert_true(strstr(otg_last_error(), "d > 0") != NULL);
    assert_int_equal(otg_rng_fill_sphere(NULL, 3, 4, th), OTG_EINVAL);
    free(th);
}

static void test_tensor_and_gemm(void **state) {
    otg_tensor *a = otg_tensor_new(2, (int64_t[]){3, 4}), *b = otg_tensor_new(2, (int64_t[]){4, 5});
    otg_tensor *c = otg_tensor_new(2, (int64_t[]){3, 5});
    assert_non_null(a), assert_non_null(b), assert_non_null(c);
    otg_rng r = otg_rng_make(1, 1);
    otg_rng_fill_normal(&r, 12, a->data);
    otg_rng_fill_normal(&r, 20, b->data);
    assert_int_equal(otg_tensor_gemm(0, 0, 1.0f, a, b, 0.0f, c), OTG_OK);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 5; j++) {
            double s = 0;
            for (int k = 0; k < 4; k++)
                s += (double)a->data[i * 4 + k] * (double)b->data[k * 5 + j];
            assert_true(fabs(s - (double)c->data[i * 5 + j]) < 1e-5);
        }
    /* C^T = B^T A^T through the transpose flags */
    otg_tensor *ct = otg_tensor_new(2, (int64_t[]){5, 3});
    assert_int_equal(otg_tensor_gemm(1, 1, 1.0f, b, a, 0.0f, ct), OTG_OK);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 5; j++)
            assert_true(fabsf(ct->data[j * 3 + i] - c->data[i * 5 + j]) < 1e-5f);
    /* errors, each with a message */
    assert_int_equal(otg_tensor_gemm(0, 0, 1.0f, a, a, 0.0f, c), OTG_ESHAPE);
    assert_true(strstr(otg_last_error(), "inner dimensions 4 != 3") != NULL);
    assert_int_equal(otg_tensor_gemm(0, 0, 1.0f, a, b, 0.0f, ct), OTG_ESHAPE);
    assert_int_equal(otg_tensor_gemm(0, 0, 1.0f, NULL, b, 0.0f, c), OTG_EINVAL);
    assert_null(otg_tensor_new(2, (int64_t[]){3, 0}));
    assert_true(strstr(otg_last_error(), "dimension 1 is 0") != NULL);
    assert_null(otg_tensor_new(5, (int64_t[]){1, 1, 1, 1, 1}));
    assert_null(otg_tensor_new(1, NULL));
    assert_null(otg_tensor_new(2, (int64_t[]){INT64_MAX / 2, 4}));
    otg_tensor v = otg_tensor_view(NULL, 1, (int64_t[]){3});
    assert_null(v.data);
    otg_tensor rows;
    assert_int_equal(otg_tensor_view_rows(c, 1, 2, &rows), OTG_OK);
    assert_true(rows.data == c->data + 5 && rows.shape[0] == 2 && !rows.owns);
    assert_int_equal(otg_tensor_view_rows(c, 2, 2, &rows), OTG_EINVAL);
    otg_tensor rs = rows;
    assert_int_equal(otg_tensor_reshape(&rs, 1, (int64_t[]){otg_tensor_numel(&rows)}), OTG_OK);
    assert_true(rs.data == rows.data && rs.ndim == 1 && rs.shape[0] == otg_tensor_numel(&rows));
    assert_int_equal(otg_tensor_reshape(&rs, 2, (int64_t[]){rs.shape[0], 1}), OTG_OK);
    assert_true(rs.ndim == 2 && rs.shape[1] == 1);
    assert_int_equal(otg_tensor_reshape(&rs, 2, (int64_t[]){rs.shape[0] + 1, 1}), OTG_ESHAPE);
    assert_true(rs.ndim == 2 && rs.shape[1] == 1);
    assert_int_equal(otg_tensor_reshape(&rs, 0, (int64_t[]){1}), OTG_EINVAL);
    c->data[7] = NAN;
    assert_int_equal(otg_tensor_check_finite(c, "C"), OTG_ENONFINITE);
    assert_true(strstr(otg_last_error(), "C: element 7 is NaN") != NULL);
    assert_int_equal(otg_tensor_copy(c, a), OTG_ESHAPE);
    otg_tensor_free(a), otg_tensor_free(b), otg_tensor_free(c), otg_tensor_free(ct);
    otg_tensor_free(NULL);
}

static void test_status_and_threads(void **state) {
    assert_string_equal(otg_status_name(OTG_ESHAPE), "OTG_ESHAPE");
    assert_int_equal(otg_threads_set(2000), OTG_EINVAL);
    assert_int_equal(otg_threads_set(1), OTG_OK);
    assert_int_equal(otg_threads_get(), 1);
    /* the current message may be an argument of the next one (a prefix) */
    assert_int_equal(otg_set_error(OTG_EIO, "inner %d", 7), OTG_EIO);
    assert_int_equal(otg_set_error(OTG_EINVAL, "outer: %s", otg_last_error()), OTG_EINVAL);
    assert_string_equal(otg_last_error(), "outer: inner 7");
    otg_clear_error();
    assert_string_equal(otg_last_error(), "");
    assert_true(strlen(otg_version()) > 0);
}

/* Named parameters: text and JSON set fields with type and range checks; JSON round-trips. */
typedef struct {
    int64_t n;
    double lr;
    char name[8];
    int on;
} toy_params;

static const otg_param_def toy_defs[] = {
    {"n", OTG_PARAM_INT, offsetof(toy_params, n), 0, "N", "count", 1, 100, 1},
    {"lr", OTG_PARAM_REAL, offsetof(toy_params, lr), 0, "A", "rate", 0, 1, 1},
    {"name", OTG_PARAM_STR, OTG_PARAM_STR_FIELD(toy_params, name), "S", "name", 0, 0, 1},
    {"on", OTG_PARAM_FLAG, offsetof(toy_params, on), 0, NULL, "flag", 0, 0, 1},
};

static void test_params_text_and_json(void **state) {
    toy_params p, q;
    memset(&p, 0, sizeof p), memset(&q, 0, sizeof q);
    p.n = 5, p.lr = 0.5, p.on = 0, q.n = 1, q.lr = 0.0, q.on = 1;
    memcpy(p.name, "ab", 3);
    assert_int_equal(otg_params_find(toy_defs, 4, "lr"), 1);
    assert_int_equal(otg_params_find(toy_defs, 4, "nope"), -1);
    assert_int_equal(otg_param_set_text(&toy_defs[0], &p, "42"), OTG_OK);
    assert_int_equal(p.n, 42);
    assert_int_equal(otg_param_set_text(&toy_defs[0], &p, "101"), OTG_EINVAL);
    assert_non_null(strstr(otg_last_error(), "--n: 101 outside [1, 100]"));
    assert_int_equal(otg_param_set_text(&toy_defs[0], &p, "4x"), OTG_EINVAL);
    assert_int_equal(otg_param_set_text(&toy_defs[1], &p, "nan"), OTG_EINVAL);
    assert_int_equal(otg_param_set_text(&toy_defs[2], &p, "toolong!"), OTG_EINVAL);
    assert_int_equal(otg_param_set_text(&toy_defs[2], &p, "seven77"), OTG_OK);
    assert_int_equal(p.n, 42); /* unchanged by the failures */
    char buf[32];
    otg_param_format(&toy_defs[1], &p, buf, sizeof buf);
    assert_string_equal(buf, "0.5");
    char *json = otg_params_to_json(toy_defs, 4, &p);
    assert_non_null(json);
    assert_int_equal(otg_params_apply_json(toy_defs, 4, &q, json, "t.json", NULL, NULL), OTG_OK);
    /* field by field: the struct's tail padding is indeterminate */
    assert_true(p.n == q.n && p.lr == q.lr && p.on == q.on);
    assert_string_equal(p.name, q.name);
    free(json);
    const char *bad[] = {"{\"n\": null}", "{\"n\": 2.5}", "{\"lr\": \"x\"}", "{\"zz\": 1}",
                         "{\"on\": 1}",   "[1]",          "{\"n\": 3"};
    for (int i = 0; i < 7; i++) {
        otg_status st = otg_params_apply_json(toy_defs, 4, &q, bad[i], "t.json", NULL, NULL);
        assert_int_equal(st, i == 6 ? OTG_EFORMAT : OTG_EINVAL);
        assert_non_null(strstr(otg_last_error(), "t.json"));
    }
    const char *ignore[] = {"version", NULL};
    int skip[4] = {1, 0, 0, 0};
    assert_int_equal(otg_params_apply_json(toy_defs, 4, &q,
                                           "{\"version\": \"x\", \"n\": 7, \"name\": null}",
                                           "t.json", skip, ignore),
                     OTG_OK);
    assert_int_equal(q.n, 42);
    assert_string_equal(q.name, "");
    int64_t v[3];
    int n = -1;
    assert_int_equal(otg_parse_int_list("512,7", "--hidden", 1, 1000, v, 3, &n), OTG_OK);
    assert_true(n == 2 && v[0] == 512 && v[1] == 7);
    const char *bad_lists[] = {"", "1,,2", "1,x", "0", "1001", "1,2,3,4"};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(otg_parse_int_list(bad_lists[i], "--hidden", 1, 1000, v, 3, &n),
                         OTG_EINVAL);
        assert_non_null(strstr(otg_last_error(), "--hidden: "));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rng_same_bits_for_any_thread_count),
        cmocka_unit_test(test_rng_streams_are_keyed),
        cmocka_unit_test(test_rng_moments),
        cmocka_unit_test(test_rng_sphere_uniform),
        cmocka_unit_test(test_tensor_and_gemm),
        cmocka_unit_test(test_status_and_threads),
        cmocka_unit_test(test_params_text_and_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
