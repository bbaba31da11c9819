/* ot: 1-D OT against brute force (all permutations, n <= 7) and against an independent
 * replicated-atoms reference for weights; SW invariances and closed forms; gradients against
 * finite differences (p = 1, 1.5, 2, 3) and against an unfused double-precision reference;
 * bit-identical results across chunk sizes and thread counts; max-sliced; the SW ad op. */
// ctest-labels: unit grad
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h> /* after the three headers it needs */

#include "ot/ot_internal.h"
#include "otgen/ot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double PS[4] = {1.0, 1.5, 2.0, 3.0};

static double cost(double r, double p) {
    return pow(fabs(r), p);
}

/* min over permutations sigma of (1/n) sum |s_i - t_sigma(i)|^p, by Heap's algorithm. */
static double brute_force(const float *s, const float *t, int n, double p) {
    int perm[8], c[8] = {0};
    for (int i = 0; i < n; i++)
        perm[i] = i;
    double best = INFINITY;
    for (int i = 0;;) {
        double v = 0;
        for (int k = 0; k < n; k++)
            v += cost((double)s[k] - (double)t[perm[k]], p);
        best = fmin(best, v / n);
        while (i < n && c[i] >= i)
            c[i++] = 0;
        if (i >= n) break;
        int j = i % 2 ? c[i] : 0, tmp = perm[j];
        perm[j] = perm[i], perm[i] = tmp;
        c[i]++, i = 0;
    }
    return best;
}

static void fill_normal(otg_rng *r, float *x, int64_t n, float scale) {
    otg_rng_fill_normal(r, n, x);
    for (int64_t i = 0; i < n; i++)
        x[i] *= scale;
}

static void test_1d_against_all_permutations(void **state) {
    otg_rng r = otg_rng_make(1, 0);
    for (int n = 1; n <= 7; n++)
        for (int pi = 0; pi < 4; pi++) {
            float s[7], t[7];
            fill_normal(&r, s, n, 1.0f);
            fill_normal(&r, t, n, 2.0f);
            if (n == 4) t[1] = t[2]; /* a tie */
            double v;
            assert_int_equal(otg_ot_wasserstein_1d(s, NULL, n, t, NULL, n, PS[pi], &v, NULL, NULL),
                             OTG_OK);
            double ref = brute_force(s, t, n, PS[pi]);
            if (fabs(v - ref) > 1e-6 * (1 + ref))
                fail_msg("n=%d p=%g: %.9g vs brute force %.9g", n, PS[pi], v, ref);
        }
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Independent reference for rational weights k_i / K: replicate each atom k_i times and match
 * the K-atom sorted lists in order (the quantile integral with step 1/K). */
static double replicated(const float *s, const int *ka, int n, const float *t, const int *kb, int m,
                         int K, double p) {
    float *xs = malloc((size_t)K * sizeof *xs), *xt = malloc((size_t)K * sizeof *xt);
    int at = 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < ka[i]; k++)
            xs[at++] = s[i];
    assert_int_equal(at, K);
    at = 0;
    for (int j = 0; j < m; j++)
        for (int k = 0; k < kb[j]; k++)
            xt[at++] = t[j];
    assert_int_equal(at, K);
    qsort(xs, (size_t)K, sizeof *xs, cmp_float);
    qsort(xt, (size_t)K, sizeof *xt, cmp_float);
    double v = 0;
    for (int k = 0; k < K; k++)
        v += cost((double)xs[k] - (double)xt[k], p);
    free(xs), free(xt);
    return v / K;
}

static void test_1d_weighted_against_replicated_atoms(void **state) {
    otg_rng r = otg_rng_make(2, 0);
    for (int trial = 0; trial < 30; trial++) {
        int n = 1 + (int)(otg_rng_u32(&r) % 6), m = 1 + (int)(otg_rng_u32(&r) % 6);
        int ka[6], kb[6], sa = 0, sb = 0;
        for (int i = 0; i < n; i++)
            sa += ka[i] = (int)(otg_rng_u32(&r) % 5); /* zeros allowed */
        for (int j = 0; j < m; j++)
            sb += kb[j] = 1 + (int)(otg_rng_u32(&r) % 5);
        if (sa == 0) sa += ka[0] = 3;
        /* common denominator K = sa * sb: scale counts so both sides have K atoms */
        int K = sa * sb, ka2[6], kb2[6];
        float s[6], t[6], wa[6], wb[6];
        for (int i = 0; i < n; i++)
            ka2[i] = ka[i] * sb, wa[i] = (float)ka[i];
        for (int j = 0; j < m; j++)
            kb2[j] = kb[j] * sa, wb[j] = (float)kb[j];
        fill_normal(&r, s, n, 1.0f);
        fill_normal(&r, t, m, 1.5f);
        for (int pi = 0; pi < 4; pi++) {
            double v, ref = replicated(s, ka2, n, t, kb2, m, K, PS[pi]);
            assert_int_equal(otg_ot_wasserstein_1d(s, wa, n, t, wb, m, PS[pi], &v, NULL, NULL),
                             OTG_OK);
            if (fabs(v - ref) > 1e-6 * (1 + ref))
                fail_msg("trial %d (n=%d, m=%d) p=%g: %.9g vs replicated %.9g", trial, n, m, PS[pi],
                         v, ref);
        }
    }
    float s[2] = {0, 1}, w[2] = {1, -1}, wz[2] = {0, 0};
    double v;
    assert_int_equal(otg_ot_wasserstein_1d(s, w, 2, s, NULL, 2, 2, &v, NULL, NULL), OTG_EINVAL);
    assert_int_equal(otg_ot_wasserstein_1d(s, wz, 2, s, NULL, 2, 2, &v, NULL, NULL), OTG_EINVAL);
    assert_int_equal(otg_ot_wasserstein_1d(s, NULL, 2, s, NULL, 2, 0.5, &v, NULL, NULL),
                     OTG_EINVAL);
    assert_int_equal(otg_ot_wasserstein_1d(s, NULL, 0, s, NULL, 2, 2, &v, NULL, NULL), OTG_EINVAL);
}

/* The radix sort against qsort: order, stability (equal keys keep index order, -0 ties +0),
 * a valid permutation; sizes on both sides of the insertion-sort cut-off. */
static void test_sort_against_qsort(void **state) {
    const int64_t sizes[4] = {5, 47, 48, 5000};
    otg_rng r = otg_rng_make(8, 0);
    for (int k = 0; k < 4; k++) {
        int64_t n = sizes[k];
        float *x = malloc((size_t)n * sizeof *x), *srt = malloc((size_t)n * sizeof *srt),
              *ref = malloc((size_t)n * sizeof *ref);
        int32_t *perm = malloc((size_t)n * sizeof *perm);
        for (int64_t i = 0; i < n; i++) {
            uint32_t u = otg_rng_u32(&r);
            x[i] = u % 7 == 0 ? (float)(int)(u % 5) - 2.0f : (float)(otg_rng_normal(&r) * 1e3);
            if (u % 11 == 0) x[i] = -0.0f;
        }
        memcpy(ref, x, (size_t)n * sizeof *x);
        qsort(ref, (size_t)n, sizeof *ref, cmp_float);
        otgi_sort_scratch sc = {0};
        assert_int_equal(otgi_sort_reserve(&sc, n), OTG_OK);
        int64_t ties = otgi_sort_f32(x, n, srt, perm, &sc), ties_ref = 0;
        for (int64_t i = 0; i < n; i++) {
            assert_true(srt[i] == ref[i]);
            assert_true(x[perm[i]] == srt[i]);
            if (i > 0 && srt[i] == srt[i - 1]) {
                ties_ref++;
                assert_true(perm[i] > perm[i - 1]); /* stable */
            }
        }
        assert_int_equal(ties, ties_ref);
        /* W_p^p of two large clouds against matching the qsorted lists */
        float *y = malloc((size_t)n * sizeof *y);
        fill_normal(&r, y, n, 2.0f);
        double v, want = 0;
        assert_int_equal(otg_ot_wasserstein_1d(x, NULL, n, y, NULL, n, 1.5, &v, NULL, NULL),
                         OTG_OK);
        qsort(y, (size_t)n, sizeof *y, cmp_float);
        for (int64_t i = 0; i < n; i++)
            want += cost((double)ref[i] - (double)y[i], 1.5);
        assert_true(fabs(v - want / (double)n) < 1e-9 * (1 + v));
        otgi_sort_release(&sc);
        free(x), free(srt), free(ref), free(perm), free(y);
    }
}

/* The order the sorts promise, brute force: by value with -0 == +0, NaNs with the sign bit set
 * first and the others last (by their bits), ties in index order. */
static uint32_t order_key(float x) {
    x += 0.0f;
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u >> 31 ? ~u : u | 0x80000000u;
}

typedef struct {
    uint32_t key;
    int32_t index;
} keyed;

static int cmp_keyed(const void *a, const void *b) {
    const keyed *p = a, *q = b;
    if (p->key != q->key) return p->key < q->key ? -1 : 1;
    return p->index < q->index ? -1 : p->index > q->index;
}

/* Input kind k of n values: 0 normal, 1 few distinct values (ties), 2 with NaNs, +-0 and +-inf,
 * 3 all equal, 4 ascending, 5 descending, 6 normal with an exponent range that skips passes. */
static void fill_sort_input(otg_rng *r, int kind, float *x, int64_t n) {
    static const float specials[8] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, 1.0f, -1.0f};
    for (int64_t i = 0; i < n; i++) {
        uint32_t u = otg_rng_u32(r);
        float g = (float)otg_rng_normal(r);
        x[i] = kind == 0   ? g
               : kind == 1 ? (float)(int)(u % 5) - 2.0f
               : kind == 2 ? (u % 3 == 0 ? specials[u / 3 % 8] : g)
               : kind == 3 ? 0.25f
               : kind == 4 ? (float)i
               : kind == 5 ? -(float)i
                           : 1.0f + 1e-7f * (float)(u % 64);
    }
}

/* Every engine of the sort (the C radix, vqsort when built with Highway, the size dispatch)
 * gives the same bits as the brute-force order: values (as x + 0), permutation and ties, with
 * and without the permutation, on random, tied, special-valued and presorted inputs of sizes
 * around every cut-off (insertion 48, narrow/wide radix 512) and in most power-of-two size
 * classes of the dispatch (which times the two engines per class). */
static void test_sort_engines_bit_identical(void **state) {
    const int64_t sizes[] = {1,   2,   3,   17,  47,   48,   49,   64,   100,  255,   256,  257,
                             511, 512, 513, 700, 1023, 1024, 1025, 2048, 4097, 10000, 65537};
    const int n_sizes = (int)(sizeof sizes / sizeof sizes[0]);
    typedef int64_t (*sort_fn)(const float *, int64_t, float *, int32_t *, otgi_sort_scratch *);
    const sort_fn engines[3] = {otgi_sort_f32_c, otgi_sort_f32_vq, otgi_sort_f32};
    otg_rng r = otg_rng_make(15, 0);
    otgi_sort_scratch sc = {0};
    assert_int_equal(otgi_sort_reserve(&sc, 65537), OTG_OK);
    float *x = malloc(65537 * sizeof *x), *want = malloc(65537 * sizeof *want),
          *got = malloc(65537 * sizeof *got);
    int32_t *perm = malloc(65537 * sizeof *perm);
    keyed *ref = malloc(65537 * sizeof *ref);
    for (int k = 0; k < n_sizes; k++)
        for (int kind = 0; kind < 7; kind++) {
            int64_t n = sizes[k], want_ties = 0;
            fill_sort_input(&r, kind, x, n);
            for (int64_t i = 0; i < n; i++)
                ref[i] = (keyed){order_key(x[i]), (int32_t)i};
            qsort(ref, (size_t)n, sizeof *ref, cmp_keyed);
            for (int64_t i = 0; i < n; i++) {
                want[i] = x[ref[i].index] + 0.0f;
                want_ties += i > 0 && ref[i].key == ref[i - 1].key;
            }
            for (int e = 0; e < 3; e++)
                for (int with_perm = 0; with_perm < 2; with_perm++) {
                    memset(got, 0xff, (size_t)n * sizeof *got);
                    int64_t ties = engines[e](x, n, got, with_perm ? perm : NULL, &sc);
                    assert_int_equal(ties, want_ties);
                    assert_memory_equal(got, want, (size_t)n * sizeof *got);
                    for (int64_t i = 0; with_perm && i < n; i++)
                        assert_int_equal(perm[i], ref[i].index);
                }
        }
    otgi_sort_release(&sc);
    free(x), free(want), free(got), free(perm), free(ref);
}

/* ---- SW helpers ----------------------------------------------------------------------------- */

typedef struct {
    otg_tensor *x, *y, *th;
} cloud;

static cloud cloud_make(int64_t n, int64_t m, int64_t d, int64_t L, uint64_t seed, otg_dir_kind k) {
    cloud c = {otg_tensor_new(2, (int64_t[]){n, d}), otg_tensor_new(2, (int64_t[]){m, d}),
               otg_tensor_new(2, (int64_t[]){d, L})};
    otg_rng r = otg_rng_make(seed, 0);
    fill_normal(&r, c.x->data, n * d, 1.0f);
    fill_normal(&r, c.y->data, m * d, 1.3f);
    for (int64_t i = 0; i < m * d; i++)
        c.y->data[i] += 0.5f;
    assert_int_equal(otg_sw_directions(&r, k, d, L, c.th->data), OTG_OK);
    return c;
}

static void cloud_free(cloud *c) {
    otg_tensor_free(c->x), otg_tensor_free(c->y), otg_tensor_free(c->th);
}

static otg_sw_result sw_of(otg_sw_workspace *ws, const otg_tensor *x, const otg_tensor *y,
                           const otg_tensor *th, double p, float *grad) {
    otg_sw_opts o = otg_sw_opts_default();
    o.p = p;
    otg_sw_result res;
    if (otg_sw(ws, x, NULL, y, NULL, th, &o, &res, grad, NULL) != OTG_OK)
        fail_msg("sw: %s", otg_last_error());
    return res;
}

static void test_sw_translation_closed_form(void **state) {
    /* SW_2^2(X + c, X) = E (theta . c)^2 = |c|^2 / d exactly per direction in expectation */
    const int64_t n = 64, d = 5, L = 20000;
    cloud c = cloud_make(n, n, d, L, 3, OTG_DIR_GAUSSIAN);
    const float shift[5] = {1.0f, -2.0f, 0.5f, 0.0f, 3.0f};
    for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < d; k++)
            c.y->data[i * d + k] = c.x->data[i * d + k] + shift[k];
    otg_sw_workspace *ws = otg_sw_workspace_new();
    otg_sw_result r = sw_of(ws, c.x, c.y, c.th, 2.0, NULL);
    double expect = (1 + 4 + 0.25 + 0 + 9) / 5.0;
    print_message("SW_2^2(X + c, X) = %.5f +- %.5f, |c|^2/d = %.5f\n", r.value, r.stderr_value,
                  expect);
    assert_true(fabs(r.value - expect) < 4 * r.stderr_value);
    assert_true(r.stderr_value < 0.02 * expect);
    assert_true(fabs(r.distance - sqrt(r.value)) < 1e-12);
    otg_sw_workspace_free(ws);
    cloud_free(&c);
}

static void test_sw_invariances(void **state) {
    const int64_t n = 40, d = 6, L = 30;
    cloud c = cloud_make(n, n, d, L, 4, OTG_DIR_GAUSSIAN);
    otg_sw_workspace *ws = otg_sw_workspace_new();
    for (int pi = 0; pi < 4; pi++) {
        double p = PS[pi];
        otg_sw_result xy = sw_of(ws, c.x, c.y, c.th, p, NULL),
                      yx = sw_of(ws, c.y, c.x, c.th, p, NULL);
        assert_true(xy.value == yx.value);                            /* symmetry */
        assert_true(sw_of(ws, c.x, c.x, c.th, p, NULL).value == 0.0); /* SW(X, X) = 0 */
        otg_tensor *ax = otg_tensor_new(2, c.x->shape), *ay = otg_tensor_new(2, c.y->shape);
        const float scales[2] = {2.0f, -3.0f};
        for (int k = 0; k < 2; k++) {
            for (int64_t i = 0; i < n * d; i++)
                ax->data[i] = scales[k] * c.x->data[i], ay->data[i] = scales[k] * c.y->data[i];
            double ratio = sw_of(ws, ax, ay, c.th, p, NULL).distance / xy.distance;
            assert_true(fabs(ratio - fabs((double)scales[k])) < 1e-5 * fabs((double)scales[k]));
        }
        otg_tensor_free(ax), otg_tensor_free(ay);
    }
    otg_sw_workspace_free(ws);
    cloud_free(&c);
}

/* Rotating the data by Q and the directions by Q leaves every projection, hence SW, unchanged;
 * with a full orthonormal block and one point each, SW_2^2 = |x - y|^2 / d (Parseval). */
static void test_sw_rotation_with_orthogonal_directions(void **state) {
    const int64_t n = 30, d = 4, L = 8;
    cloud c = cloud_make(n, n, d, L, 5, OTG_DIR_ORTHOGONAL);
    otg_rng r = otg_rng_make(55, 1);
    otg_tensor *q = otg_tensor_new(2, (int64_t[]){d, d});
    assert_int_equal(otg_sw_directions(&r, OTG_DIR_ORTHOGONAL, d, d, q->data), OTG_OK);
    /* orthonormal columns */
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double dot = 0;
            for (int k = 0; k < d; k++)
                dot += (double)q->data[k * d + i] * (double)q->data[k * d + j];
            assert_true(fabs(dot - (i == j)) < 1e-6);
        }
    otg_tensor *xq = otg_tensor_new(2, c.x->shape), *yq = otg_tensor_new(2, c.y->shape),
               *qth = otg_tensor_new(2, c.th->shape);
    otg_tensor_gemm(0, 0, 1.0f, c.x, q, 0.0f, xq); /* X Q */
    otg_tensor_gemm(0, 0, 1.0f, c.y, q, 0.0f, yq);
    otg_tensor_gemm(1, 0, 1.0f, q, c.th, 0.0f, qth); /* Q^T Theta: (XQ)(Q^T theta) = X theta */
    otg_sw_workspace *ws = otg_sw_workspace_new();
    double a = sw_of(ws, c.x, c.y, c.th, 2.0, NULL).value,
           b = sw_of(ws, xq, yq, qth, 2.0, NULL).value;
    assert_true(fabs(a - b) < 1e-5 * a);
    for (int trial = 0; trial < 5; trial++) {
        otg_tensor *x1 = otg_tensor_new(2, (int64_t[]){1, d}),
                   *y1 = otg_tensor_new(2, (int64_t[]){1, d});
        otg_tensor *th = otg_tensor_new(2, (int64_t[]){d, d});
        fill_normal(&r, x1->data, d, 1), fill_normal(&r, y1->data, d, 1);
        assert_int_equal(otg_sw_directions(&r, OTG_DIR_ORTHOGONAL, d, d, th->data), OTG_OK);
        double dist2 = 0;
        for (int k = 0; k < d; k++)
            dist2 += pow((double)x1->data[k] - (double)y1->data[k], 2);
        assert_true(fabs(sw_of(ws, x1, y1, th, 2.0, NULL).value - dist2 / d) < 1e-5 * dist2);
        otg_tensor_free(x1), otg_tensor_free(y1), otg_tensor_free(th);
    }
    otg_sw_workspace_free(ws);
    otg_tensor_free(q), otg_tensor_free(xq), otg_tensor_free(yq), otg_tensor_free(qth);
    cloud_free(&c);
}

/* ---- gradients ------------------------------------------------------------------------------ */

/* Unfused double-precision reference of value and gradient (equal sizes, uniform weights). */
static double sw_reference(const cloud *c, double p, double *grad) {
    const int64_t n = c->x->shape[0], d = c->x->shape[1], L = c->th->shape[1];
    double total = 0;
    memset(grad, 0, (size_t)(n * d) * sizeof *grad);
    float *s = malloc((size_t)n * sizeof *s), *t = malloc((size_t)n * sizeof *t),
          *ds = malloc((size_t)n * sizeof *ds);
    for (int64_t l = 0; l < L; l++) {
        for (int64_t i = 0; i < n; i++) {
            double a = 0, b = 0;
            for (int64_t k = 0; k < d; k++) {
                a += (double)c->x->data[i * d + k] * (double)c->th->data[k * L + l];
                b += (double)c->y->data[i * d + k] * (double)c->th->data[k * L + l];
            }
            s[i] = (float)a, t[i] = (float)b;
        }
        double v;
        assert_int_equal(otg_ot_wasserstein_1d(s, NULL, n, t, NULL, n, p, &v, ds, NULL), OTG_OK);
        total += v;
        for (int64_t i = 0; i < n; i++)
            for (int64_t k = 0; k < d; k++)
                grad[i * d + k] += (double)ds[i] * (double)c->th->data[k * L + l] / (double)L;
    }
    free(s), free(t), free(ds);
    return total / (double)L;
}

static void test_sw_gradient_finite_differences_and_reference(void **state) {
    const int64_t n = 7, d = 3, L = 5;
    otg_sw_workspace *ws = otg_sw_workspace_new();
    for (int pi = 0; pi < 4; pi++) {
        double p = PS[pi];
        cloud c = cloud_make(n, n, d, L, 10 + (uint64_t)pi, OTG_DIR_GAUSSIAN);
        float g[21];
        double ref[21];
        otg_sw_result r = sw_of(ws, c.x, c.y, c.th, p, g);
        double vref = sw_reference(&c, p, ref), gmax = 0;
        assert_true(fabs(r.value - vref) < 1e-5 * vref);
        for (int i = 0; i < 21; i++)
            gmax = fmax(gmax, fabs(ref[i]));
        for (int i = 0; i < 21; i++) {
            if (fabs((double)g[i] - ref[i]) > 1e-5 * gmax)
                fail_msg("p=%g: fused gradient[%d] %.8g vs reference %.8g", p, i, (double)g[i],
                         ref[i]);
            float v0 = c.x->data[i];
            const float h = 1e-3f;
            c.x->data[i] = v0 + h;
            double up = sw_of(ws, c.x, c.y, c.th, p, NULL).value;
            c.x->data[i] = v0 - h;
            double dn = sw_of(ws, c.x, c.y, c.th, p, NULL).value;
            c.x->data[i] = v0;
            double fd = (up - dn) / ((double)(v0 + h) - (double)(v0 - h));
            if (fabs(fd - (double)g[i]) > 1e-2 * fabs(fd) + 2e-3 * gmax)
                fail_msg("p=%g: gradient[%d] %.6g vs finite difference %.6g", p, i, (double)g[i],
                         fd);
        }
        cloud_free(&c);
    }
    otg_sw_workspace_free(ws);
}

/* The weighted / unequal-size path: gradient against finite differences. */
static void test_sw_weighted_gradient(void **state) {
    const int64_t n = 6, m = 4, d = 2, L = 3;
    cloud c = cloud_make(n, m, d, L, 21, OTG_DIR_GAUSSIAN);
    const float a[6] = {1, 2, 1, 3, 1, 2}, b[4] = {2, 1, 1, 1};
    otg_sw_workspace *ws = otg_sw_workspace_new();
    otg_sw_opts o = otg_sw_opts_default();
    for (int pi = 0; pi < 4; pi++) {
        o.p = PS[pi];
        otg_sw_result r;
        float g[12];
        assert_int_equal(otg_sw(ws, c.x, a, c.y, b, c.th, &o, &r, g, NULL), OTG_OK);
        double gmax = 0;
        for (int i = 0; i < 12; i++)
            gmax = fmax(gmax, fabs((double)g[i]));
        for (int i = 0; i < 12; i++) {
            float v0 = c.x->data[i];
            const float h = 1e-3f;
            otg_sw_result up, dn;
            c.x->data[i] = v0 + h;
            assert_int_equal(otg_sw(ws, c.x, a, c.y, b, c.th, &o, &up, NULL, NULL), OTG_OK);
            c.x->data[i] = v0 - h;
            assert_int_equal(otg_sw(ws, c.x, a, c.y, b, c.th, &o, &dn, NULL, NULL), OTG_OK);
            c.x->data[i] = v0;
            double fd = (up.value - dn.value) / ((double)(v0 + h) - (double)(v0 - h));
            if (fabs(fd - (double)g[i]) > 1e-2 * fabs(fd) + 2e-3 * gmax)
                fail_msg("weighted p=%g: gradient[%d] %.6g vs finite difference %.6g", o.p, i,
                         (double)g[i], fd);
        }
    }
    otg_sw_workspace_free(ws);
    cloud_free(&c);
}

/* ---- determinism ---------------------------------------------------------------------------- */

static void run_config(const cloud *c, int threads, int64_t chunk, double *value, float *grad,
                       double *per_dir) {
    otg_threads_set(threads);
    otg_sw_workspace *ws = otg_sw_workspace_new();
    otg_sw_opts o = otg_sw_opts_default();
    o.chunk = chunk;
    otg_sw_result r;
    assert_int_equal(otg_sw(ws, c->x, NULL, c->y, NULL, c->th, &o, &r, grad, per_dir), OTG_OK);
    *value = r.value;
    otg_sw_workspace_free(ws);
}

static void test_sw_bits_independent_of_chunk_and_threads(void **state) {
    const int64_t n = 700, d = 33, L = 300;
    cloud c = cloud_make(n, n, d, L, 31, OTG_DIR_GAUSSIAN);
    float *g0 = malloc((size_t)(n * d) * sizeof *g0), *g1 = malloc((size_t)(n * d) * sizeof *g1);
    double *w0 = malloc((size_t)L * sizeof *w0), *w1 = malloc((size_t)L * sizeof *w1), v0, v1;
    run_config(&c, 1, 100000, &v0, g0, w0);
    const int threads[3] = {2, 1, 2};
    const int64_t chunks[3] = {64, 64, 1000};
    for (int k = 0; k < 3; k++) {
        run_config(&c, threads[k], chunks[k], &v1, g1, w1);
        assert_true(v0 == v1);
        assert_memory_equal(w0, w1, (size_t)L * sizeof *w0);
        assert_memory_equal(g0, g1, (size_t)(n * d) * sizeof *g0);
    }
    otg_threads_set(0);
    free(g0), free(g1), free(w0), free(w1);
    cloud_free(&c);
}

/* ---- max-sliced ----------------------------------------------------------------------------- */

static void test_max_sliced(void **state) {
    const int64_t n = 200, d = 3, L = 50;
    cloud c = cloud_make(n, n, d, L, 41, OTG_DIR_GAUSSIAN);
    for (int64_t i = 0; i < n; i++)
        c.x->data[i * d] *= 5.0f; /* x spread along e1 */
    otg_sw_workspace *ws = otg_sw_workspace_new();
    double best_v, w[50];
    int64_t best;
    assert_int_equal(otg_sw_max_sampled(ws, c.x, NULL, c.y, NULL, c.th, 2.0, &best_v, &best),
                     OTG_OK);
    otg_sw_opts o = otg_sw_opts_default();
    otg_sw_result r;
    assert_int_equal(otg_sw(ws, c.x, NULL, c.y, NULL, c.th, &o, &r, NULL, w), OTG_OK);
    for (int l = 0; l < L; l++)
        assert_true(w[l] <= best_v);
    assert_true(w[best] == best_v);
    float dir[3];
    for (int k = 0; k < 3; k++)
        dir[k] = c.th->data[k * L + best];
    double v_asc;
    assert_int_equal(otg_sw_max_ascent(c.x, NULL, c.y, NULL, 2.0, 50, 0.05, dir, &v_asc), OTG_OK);
    print_message("max-sampled %.4f, after ascent %.4f, direction (%.3f, %.3f, %.3f)\n", best_v,
                  v_asc, (double)dir[0], (double)dir[1], (double)dir[2]);
    assert_true(v_asc >= best_v);
    assert_true(fabsf(dir[0]) > 0.95f);
    otg_sw_workspace_free(ws);
    cloud_free(&c);
}

/* ---- the ad op ------------------------------------------------------------------------------ */

/* loss = SW_2^2(Z W, Y): gradient with respect to W through the tape, checked by otg_ad_check_fd.
 */
static void test_sw_loss_op(void **state) {
    const int64_t n = 9, k = 3, d = 2, L = 6;
    otg_graph *g = otg_graph_new();
    otg_node *z = otg_input(g, 2, (int64_t[]){n, k}, 0), *y = otg_input(g, 2, (int64_t[]){n, d}, 0);
    otg_node *w = otg_param(g, 2, (int64_t[]){k, d});
    otg_sw_loss_ctx ctx = {0};
    ctx.ws = otg_sw_workspace_new();
    ctx.opts = otg_sw_opts_default();
    otg_tensor *th = otg_tensor_new(2, (int64_t[]){d, L});
    otg_rng r = otg_rng_make(77, 0);
    assert_int_equal(otg_sw_directions(&r, OTG_DIR_GAUSSIAN, d, L, th->data), OTG_OK);
    ctx.theta = th;
    otg_node *loss = otg_sw_loss(g, otg_matmul(g, z, w), y, &ctx);
    assert_non_null(loss);
    assert_int_equal(otg_graph_compile(g), OTG_OK);
    otg_rng_fill_normal(&r, n * k, otg_node_data(z));
    otg_rng_fill_normal(&r, n * d, otg_node_data(y));
    otg_rng_fill_normal(&r, k * d, otg_node_data(w));
    otg_node *leaves[1] = {w};
    otg_ad_fd_opts o = {.h = 1e-3f, .rtol = 1e-2, .atol = 2e-3, .seed = 5};
    otg_ad_fd_report res;
    assert_int_equal(otg_ad_check_fd(g, loss, leaves, 1, &o, &res), OTG_OK);
    assert_true(res.max_err <= 1.0 && res.wrong2_err > 1.0);
    assert_true(ctx.result.n_directions == L);
    otg_graph_free(g);
    otg_sw_loss_release(&ctx);
    otg_sw_workspace_free(ctx.ws);
    otg_tensor_free(th);
}

/* Kink statistics of the SW sorts: equal projections of generated points are counted (adjacent
 * equal pairs per direction), equal target points are not. Directions with exact projections. */
static void test_sw_ties_counted(void **state) {
    const float xv[10] = {1, 2, 1, 2, 3, -1, 1, 2, 0.5f, 0}; /* rows 0, 1, 3 equal */
    const float yv[10] = {0, 0, 0, 0, 0, 0, 1, 1, 2, 2};     /* ties in y: not counted */
    const float tv[6] = {1, 0, -1, 0, 1, 0};                 /* columns e1, e2, -e1 */
    otg_tensor x = otg_tensor_view((float *)xv, 2, (int64_t[]){5, 2});
    otg_tensor y = otg_tensor_view((float *)yv, 2, (int64_t[]){5, 2});
    otg_tensor th = otg_tensor_view((float *)tv, 2, (int64_t[]){2, 3});
    otg_sw_workspace *ws = otg_sw_workspace_new();
    otg_sw_opts o = otg_sw_opts_default();
    otg_sw_result res;
    float grad[10];
    assert_int_equal(otg_sw(ws, &x, NULL, &y, NULL, &th, &o, &res, grad, NULL), OTG_OK);
    assert_int_equal(res.ties, 3 * 2);
    assert_int_equal(otg_sw(ws, &y, NULL, &x, NULL, &th, &o, &res, NULL, NULL), OTG_OK);
    assert_int_equal(res.ties, 2 + 2 + 2); /* y as the generated side: 0, 0, 0, 1, 2 on e1 ... */
    /* the loss node reports them in its context after each forward */
    otg_graph *g = otg_graph_new();
    otg_node *xn = otg_input(g, 2, (int64_t[]){5, 2}, 1),
             *yn = otg_input(g, 2, (int64_t[]){5, 2}, 0);
    otg_sw_loss_ctx ctx = {0};
    ctx.ws = ws, ctx.opts = o, ctx.theta = &th;
    assert_non_null(otg_sw_loss(g, xn, yn, &ctx));
    assert_int_equal(otg_graph_compile(g), OTG_OK);
    memcpy(otg_node_data(xn), xv, sizeof xv), memcpy(otg_node_data(yn), yv, sizeof yv);
    assert_int_equal(otg_graph_forward(g), OTG_OK);
    assert_int_equal(ctx.result.ties, 6);
    assert_int_equal(otg_graph_kink_count(g), 0); /* the tape counts its own ops only */
    otg_graph_free(g);
    otg_sw_loss_release(&ctx);
    otg_sw_workspace_free(ws);
}

static void test_sw_bad_input(void **state) {
    cloud c = cloud_make(5, 5, 3, 4, 1, OTG_DIR_GAUSSIAN);
    otg_tensor *y2 = otg_tensor_new(2, (int64_t[]){5, 2});
    otg_sw_workspace *ws = otg_sw_workspace_new();
    otg_sw_opts o = otg_sw_opts_default();
    otg_sw_result r;
    assert_int_equal(otg_sw(ws, c.x, NULL, y2, NULL, c.th, &o, &r, NULL, NULL), OTG_ESHAPE);
    assert_non_null(strstr(otg_last_error(), "x has dimension 3, y has 2"));
    o.p = 0.5;
    assert_int_equal(otg_sw(ws, c.x, NULL, c.y, NULL, c.th, &o, &r, NULL, NULL), OTG_EINVAL);
    o = otg_sw_opts_default();
    o.chunk = 0;
    assert_int_equal(otg_sw(ws, c.x, NULL, c.y, NULL, c.th, &o, &r, NULL, NULL), OTG_EINVAL);
    assert_int_equal(otg_sw(NULL, c.x, NULL, c.y, NULL, c.th, NULL, &r, NULL, NULL), OTG_EINVAL);
    const float bad[5] = {1, 1, NAN, 1, 1};
    assert_int_equal(otg_sw(ws, c.x, bad, c.y, NULL, c.th, NULL, &r, NULL, NULL), OTG_EINVAL);
    otg_rng rng = otg_rng_make(1, 1);
    assert_int_equal(otg_sw_directions(&rng, OTG_DIR_GAUSSIAN, 3, 0, c.th->data), OTG_EINVAL);
    otg_dir_kind kind;
    assert_int_equal(otg_dir_parse("uniform", &kind), OTG_EINVAL);
    otg_sw_workspace_free(ws);
    otg_tensor_free(y2);
    cloud_free(&c);
}

/* ---- the sliced energy distance ------------------------------------------------------------- */

/* a [n, d] standard normal points shifted by `shift` in every coordinate, from stream (seed, 7) */
static otg_tensor *normal_cloud(int64_t n, int64_t d, double shift, uint64_t seed) {
    otg_tensor *t = otg_tensor_new(2, (int64_t[]){n, d});
    otg_rng r = otg_rng_make(seed, 7);
    for (int64_t i = 0; i < n * d; i++)
        t->data[i] = (float)(otg_rng_normal(&r) + shift);
    return t;
}

/* out [n] = the rows of t [n, d] projected on column l of th [d, L], in double. */
static void project_column(const otg_tensor *t, const otg_tensor *th, int64_t l, double *out) {
    const int64_t d = t->shape[1], L = th->shape[1];
    for (int64_t i = 0; i < t->shape[0]; i++) {
        out[i] = 0.0;
        for (int64_t k = 0; k < d; k++)
            out[i] += (double)t->data[i * d + k] * (double)th->data[k * L + l];
    }
}

/* sum_{i, j} |a_i - b_j| */
static double abs_pair_sum(const double *a, int na, const double *b, int nb) {
    double s = 0.0;
    for (int i = 0; i < na; i++)
        for (int j = 0; j < nb; j++)
            s += fabs(a[i] - b[j]);
    return s;
}

/* Each direction's 1-D energy distance against the O(n^2) sums over the projections; d = 1 with
 * theta = [1] against otg_energy_distance; c_2 = pi / 2, c_3 = 2. */
static void test_sliced_energy_formula(void **state) {
    (void)state;
    enum { N = 7, M = 9, D = 3, L = 5 };
    otg_tensor *x = normal_cloud(N, D, 0.0, 1), *y = normal_cloud(M, D, 0.4, 2);
    otg_tensor *th = otg_tensor_new(2, (int64_t[]){D, L});
    otg_rng r = otg_rng_make(3, 3);
    assert_int_equal(otg_sw_directions(&r, OTG_DIR_GAUSSIAN, D, L, th->data), OTG_OK);
    otg_sliced_energy_result res;
    double w[L], mean = 0.0;
    assert_int_equal(otg_sliced_energy(x, y, th, &res, w), OTG_OK);
    for (int l = 0; l < L; l++) {
        double px[N], py[M];
        project_column(x, th, l, px), project_column(y, th, l, py);
        double xy = abs_pair_sum(px, N, py, M), xx = abs_pair_sum(px, N, px, N);
        double yy = abs_pair_sum(py, M, py, M);
        double want = 2 * xy / (N * M) - xx / (N * (N - 1.0)) - yy / (M * (M - 1.0));
        assert_true(fabs(w[l] - want) < 1e-5 * (1 + fabs(want))); /* float32 projections */
        mean += want / L;
    }
    assert_true(fabs(res.value - 2.0 * mean) < 1e-5 * (1 + fabs(mean))); /* c_3 = 2 */
    assert_true(fabs(otg_sliced_energy_constant(2) - 1.5707963267948966) < 1e-14);
    assert_true(fabs(otg_sliced_energy_constant(1) - 1.0) < 1e-14);
    otg_tensor *x1 = normal_cloud(50, 1, 0.0, 4), *y1 = normal_cloud(40, 1, 0.3, 5);
    otg_tensor *one = otg_tensor_new(2, (int64_t[]){1, 1});
    one->data[0] = 1.0f;
    double exact;
    assert_int_equal(otg_energy_distance(x1, y1, &exact), OTG_OK);
    assert_int_equal(otg_sliced_energy(x1, y1, one, &res, NULL), OTG_OK);
    assert_true(fabs(res.value - exact) < 1e-9 * fabs(exact));
    otg_tensor_free(x), otg_tensor_free(y), otg_tensor_free(th);
    otg_tensor_free(x1), otg_tensor_free(y1), otg_tensor_free(one);
}

/* d = 3, many directions: the estimate within 4 standard errors of the O(n^2) energy distance and
 * close to it; the same bits on 1 and 2 threads; bad input. */
static void test_sliced_energy_estimates_the_distance(void **state) {
    (void)state;
    enum { N = 300, M = 200, D = 3, L = 8192 };
    otg_tensor *x = normal_cloud(N, D, 0.0, 6), *y = normal_cloud(M, D, 0.5, 7);
    otg_tensor *th = otg_tensor_new(2, (int64_t[]){D, L});
    otg_rng r = otg_rng_make(8, 3);
    assert_int_equal(otg_sw_directions(&r, OTG_DIR_GAUSSIAN, D, L, th->data), OTG_OK);
    double exact;
    otg_sliced_energy_result a, b;
    assert_int_equal(otg_energy_distance(x, y, &exact), OTG_OK);
    int threads = otg_threads_get();
    otg_threads_set(1);
    assert_int_equal(otg_sliced_energy(x, y, th, &a, NULL), OTG_OK);
    otg_threads_set(2);
    assert_int_equal(otg_sliced_energy(x, y, th, &b, NULL), OTG_OK);
    otg_threads_set(threads);
    assert_memory_equal(&a.value, &b.value, sizeof a.value);
    assert_true(fabs(a.value - exact) < 4.0 * a.stderr_value);
    assert_true(fabs(a.value - exact) < 0.03 * exact);
    y->data[5] = NAN;
    assert_int_equal(otg_sliced_energy(x, y, th, &a, NULL), OTG_ENONFINITE);
    otg_tensor *y2 = normal_cloud(10, 2, 0.0, 9), *x1 = normal_cloud(1, D, 0.0, 9);
    assert_int_equal(otg_sliced_energy(x, y2, th, &a, NULL), OTG_ESHAPE);
    assert_int_equal(otg_sliced_energy(x1, x, th, &a, NULL), OTG_EINVAL);
    otg_tensor_free(x), otg_tensor_free(y), otg_tensor_free(th), otg_tensor_free(y2);
    otg_tensor_free(x1);
}

/* grad [n, d] = (c_d / L) sum_l theta_l d ED_1 / d p_il by the O(n (n + m)) sign sums over the
 * double projections: 2 sum_j sign(p_i - q_j) / (n m) - 2 sum_k sign(p_i - p_k) / (n (n - 1)). */
static void energy_grad_brute(const otg_tensor *x, const otg_tensor *y, const otg_tensor *th,
                              double *grad) {
    const int64_t n = x->shape[0], m = y->shape[0], d = x->shape[1], L = th->shape[1];
    double *px = malloc((size_t)n * sizeof *px), *py = malloc((size_t)m * sizeof *py);
    const double c = otg_sliced_energy_constant(d);
    for (int64_t i = 0; i < n * d; i++)
        grad[i] = 0.0;
    for (int64_t l = 0; l < L; l++) {
        project_column(x, th, l, px), project_column(y, th, l, py);
        for (int64_t i = 0; i < n; i++) {
            double sx = 0.0, sy = 0.0;
            for (int64_t j = 0; j < m; j++)
                sy += px[i] > py[j] ? 1.0 : px[i] < py[j] ? -1.0 : 0.0;
            for (int64_t k = 0; k < n; k++)
                sx += px[i] > px[k] ? 1.0 : px[i] < px[k] ? -1.0 : 0.0;
            const double g = 2.0 * sy / (double)(n * m) - 2.0 * sx / (double)(n * (n - 1));
            for (int64_t k = 0; k < d; k++)
                grad[i * d + k] += c / (double)L * g * (double)th->data[k * L + l];
        }
    }
    free(px), free(py);
}

/* The gradient of the sliced energy against the brute-force sign sums and central finite
 * differences (steps exactly representable; the value is piecewise linear in the projections, so
 * away from crossings the difference quotient is the derivative); the same bits on 1 and 2
 * threads; the value unchanged by asking for the gradient. */
static void test_sliced_energy_gradient(void **state) {
    (void)state;
    enum { N = 7, M = 9, D = 3, L = 5 };
    otg_tensor *x = normal_cloud(N, D, 0.0, 11), *y = normal_cloud(M, D, 0.4, 12);
    otg_tensor *th = otg_tensor_new(2, (int64_t[]){D, L});
    otg_rng r = otg_rng_make(13, 3);
    assert_int_equal(otg_sw_directions(&r, OTG_DIR_GAUSSIAN, D, L, th->data), OTG_OK);
    float grad[N * D], grad2[N * D];
    double want[N * D];
    otg_sliced_energy_result res, plain;
    int threads = otg_threads_get();
    otg_threads_set(1);
    assert_int_equal(otg_sliced_energy_grad(x, y, th, &res, NULL, grad), OTG_OK);
    otg_threads_set(2);
    assert_int_equal(otg_sliced_energy_grad(x, y, th, &res, NULL, grad2), OTG_OK);
    otg_threads_set(threads);
    assert_memory_equal(grad, grad2, sizeof grad);
    assert_int_equal(otg_sliced_energy(x, y, th, &plain, NULL), OTG_OK);
    assert_memory_equal(&plain.value, &res.value, sizeof res.value);
    energy_grad_brute(x, y, th, want);
    double gmax = 0.0;
    for (int i = 0; i < N * D; i++) {
        assert_true(fabs((double)grad[i] - want[i]) < 1e-6 * (1.0 + fabs(want[i])));
        gmax = fmax(gmax, fabs(want[i]));
    }
    assert_true(gmax > 1e-2); /* not a vacuous comparison */
    for (int i = 0; i < N * D; i++) {
        const float x0 = x->data[i], xp = x0 + 1e-4f, xm = x0 - 1e-4f;
        otg_sliced_energy_result a, b;
        x->data[i] = xp;
        assert_int_equal(otg_sliced_energy(x, y, th, &a, NULL), OTG_OK);
        x->data[i] = xm;
        assert_int_equal(otg_sliced_energy(x, y, th, &b, NULL), OTG_OK);
        x->data[i] = x0;
        const double fd = (a.value - b.value) / ((double)xp - (double)xm);
        assert_true(fabs(fd - (double)grad[i]) < 2e-3);
    }
    otg_tensor_free(x), otg_tensor_free(y), otg_tensor_free(th);
}

/* d = 2 with L evenly spaced directions on the half circle (a midpoint rule for E_theta, error
 * O(1 / L^2)): the sliced value equals the O(n^2) energy distance to 1e-5 relative. */
static void test_sliced_energy_quadrature(void **state) {
    (void)state;
    enum { N = 200, M = 150, L = 8192 };
    otg_tensor *x = normal_cloud(N, 2, 0.0, 14), *y = normal_cloud(M, 2, 0.5, 15);
    otg_tensor *th = otg_tensor_new(2, (int64_t[]){2, L});
    for (int l = 0; l < L; l++) {
        const double phi = 3.14159265358979323846 * (l + 0.5) / L;
        th->data[l] = (float)cos(phi), th->data[L + l] = (float)sin(phi);
    }
    double exact;
    otg_sliced_energy_result res;
    assert_int_equal(otg_energy_distance(x, y, &exact), OTG_OK);
    assert_int_equal(otg_sliced_energy(x, y, th, &res, NULL), OTG_OK);
    assert_true(exact > 0.05);
    assert_true(fabs(res.value - exact) < 1e-5 * exact);
    otg_tensor_free(x), otg_tensor_free(y), otg_tensor_free(th);
}

/* The loss op: finite differences through a matmul (otg_ad_check_fd), and its value is
 * otg_sliced_energy's. */
static void test_sliced_energy_loss_op(void **state) {
    (void)state;
    const int64_t n = 9, k = 3, d = 2, L = 6;
    otg_graph *g = otg_graph_new();
    otg_node *z = otg_input(g, 2, (int64_t[]){n, k}, 0), *y = otg_input(g, 2, (int64_t[]){n, d}, 0);
    otg_node *w = otg_param(g, 2, (int64_t[]){k, d});
    otg_sliced_energy_loss_ctx ctx = {0};
    otg_tensor *th = otg_tensor_new(2, (int64_t[]){d, L});
    otg_rng r = otg_rng_make(78, 0);
    assert_int_equal(otg_sw_directions(&r, OTG_DIR_GAUSSIAN, d, L, th->data), OTG_OK);
    ctx.theta = th;
    otg_node *xw = otg_matmul(g, z, w), *loss = otg_sliced_energy_loss(g, xw, y, &ctx);
    assert_non_null(loss);
    assert_null(otg_sliced_energy_loss(g, xw, z, &ctx)); /* d 2 against 3 */
    assert_int_equal(otg_graph_compile(g), OTG_OK);
    otg_rng_fill_normal(&r, n * k, otg_node_data(z));
    otg_rng_fill_normal(&r, n * d, otg_node_data(y));
    otg_rng_fill_normal(&r, k * d, otg_node_data(w));
    otg_node *leaves[1] = {w};
    otg_ad_fd_opts o = {.h = 1e-3f, .rtol = 1e-2, .atol = 2e-3, .seed = 5};
    otg_ad_fd_report rep;
    assert_int_equal(otg_ad_check_fd(g, loss, leaves, 1, &o, &rep), OTG_OK);
    assert_true(rep.max_err <= 1.0 && rep.wrong2_err > 1.0);
    assert_int_equal(otg_graph_forward(g), OTG_OK);
    otg_tensor xt = otg_tensor_view(otg_node_data(xw), 2, (int64_t[]){n, d});
    otg_tensor yt = otg_tensor_view(otg_node_data(y), 2, (int64_t[]){n, d});
    otg_sliced_energy_result res;
    assert_int_equal(otg_sliced_energy(&xt, &yt, th, &res, NULL), OTG_OK);
    assert_true(otg_node_data(loss)[0] == (float)res.value);
    assert_true(ctx.result.n_directions == L);
    otg_graph_free(g);
    otg_sliced_energy_loss_release(&ctx);
    otg_tensor_free(th);
}

/* ---- SW over many clouds ------------------------------------------------------------------- */

/* Every entry of otg_sw_pairwise against a separate otg_sw call, bit for bit: equal and unequal
 * sizes, more than one row block (512) and two direction chunks (L = 300), on 1 and 2 threads and
 * another chunk; a symmetric matrix with a zero diagonal. */
static void test_sw_pairwise_equals_separate_calls(void **state) {
    (void)state;
    enum { K = 5, D = 4, L = 300 };
    const int64_t sizes[K] = {600, 600, 37, 1030, 37};
    otg_tensor *c[K], clouds[K];
    for (int k = 0; k < K; k++) {
        c[k] = normal_cloud(sizes[k], D, 0.2 * k, 20 + (uint64_t)k);
        clouds[k] = *c[k];
    }
    otg_tensor *th = otg_tensor_new(2, (int64_t[]){D, L});
    otg_rng r = otg_rng_make(21, 1);
    assert_int_equal(otg_sw_directions(&r, OTG_DIR_GAUSSIAN, D, L, th->data), OTG_OK);
    otg_sw_opts o = otg_sw_opts_default();
    o.p = 1.5;
    double dist[K * K], value[K * K], dist2[K * K];
    int threads = otg_threads_get();
    otg_threads_set(1);
    assert_int_equal(otg_sw_pairwise(clouds, K, th, &o, dist, value), OTG_OK);
    otg_threads_set(2);
    o.chunk = 512;
    assert_int_equal(otg_sw_pairwise(clouds, K, th, &o, dist2, NULL), OTG_OK);
    assert_memory_equal(dist, dist2, sizeof dist);
    o.chunk = 256;
    otg_sw_workspace *ws = otg_sw_workspace_new();
    for (int i = 0; i < K; i++) {
        assert_true(dist[i * K + i] == 0.0 && value[i * K + i] == 0.0);
        for (int j = i + 1; j < K; j++) {
            otg_sw_result res;
            assert_int_equal(otg_sw(ws, c[i], NULL, c[j], NULL, th, &o, &res, NULL, NULL), OTG_OK);
            assert_memory_equal(&dist[i * K + j], &res.distance, sizeof(double));
            assert_memory_equal(&value[i * K + j], &res.value, sizeof(double));
            assert_memory_equal(&dist[j * K + i], &res.distance, sizeof(double));
            assert_true(res.distance > 0.0);
        }
    }
    otg_threads_set(threads);
    /* bad input */
    assert_int_equal(otg_sw_pairwise(clouds, 1, th, &o, dist, NULL), OTG_EINVAL);
    otg_tensor *bad = normal_cloud(10, D + 1, 0.0, 3);
    otg_tensor mixed[2] = {*c[0], *bad};
    assert_int_equal(otg_sw_pairwise(mixed, 2, th, &o, dist, NULL), OTG_ESHAPE);
    o.p = 0.5;
    assert_int_equal(otg_sw_pairwise(clouds, K, th, &o, dist, NULL), OTG_EINVAL);
    otg_sw_workspace_free(ws);
    for (int k = 0; k < K; k++)
        otg_tensor_free(c[k]);
    otg_tensor_free(th), otg_tensor_free(bad);
}

/* The standard errors over the sampling of the points against the spread they estimate: the
 * standard deviation of SW_2 (fixed directions) and of the energy distance over 80 independent
 * pairs of clouds (x ~ N(0, I_2), 300 points; y ~ N(0.5, I_2), 200 points) against the mean of
 * otg_sw_bootstrap's and otg_energy_distance_se's estimates on 8 of them: within a factor 1.5
 * (the spread's own relative error is about 8 %, the estimates' about 10 %). Also: the
 * bootstrap's bits on 1 and 2 threads, the energy value's bits equal to otg_energy_distance's,
 * bad input. */
static void test_point_errors_match_the_spread(void **state) {
    (void)state;
    enum { N = 300, M = 200, D = 2, L = 64, R = 80, K = 8 };
    otg_tensor *th = otg_tensor_new(2, (int64_t[]){D, L});
    otg_rng r = otg_rng_make(3, 3);
    assert_int_equal(otg_sw_directions(&r, OTG_DIR_GAUSSIAN, D, L, th->data), OTG_OK);
    otg_sw_workspace *ws = otg_sw_workspace_new();
    otg_sw_opts so = otg_sw_opts_default();
    double sw[R], ed[R], sw_se = 0, ed_se = 0;
    for (int k = 0; k < R; k++) {
        otg_tensor *x = normal_cloud(N, D, 0.0, 100 + 2 * k),
                   *y = normal_cloud(M, D, 0.5, 101 + 2 * k);
        otg_sw_result res;
        assert_int_equal(otg_sw(ws, x, NULL, y, NULL, th, &so, &res, NULL, NULL), OTG_OK);
        sw[k] = res.distance;
        double e, se;
        assert_int_equal(otg_energy_distance_se(x, y, &ed[k], &se), OTG_OK);
        assert_int_equal(otg_energy_distance(x, y, &e), OTG_OK);
        assert_memory_equal(&e, &ed[k], sizeof e);
        if (k < K) {
            double b1, b2;
            int threads = otg_threads_get();
            otg_rng rb = otg_rng_make(k, 4), rb2 = otg_rng_make(k, 4);
            otg_threads_set(1);
            assert_int_equal(otg_sw_bootstrap(x, y, th, 2.0, 100, &rb, &b1), OTG_OK);
            otg_threads_set(2);
            assert_int_equal(otg_sw_bootstrap(x, y, th, 2.0, 100, &rb2, &b2), OTG_OK);
            otg_threads_set(threads);
            assert_memory_equal(&b1, &b2, sizeof b1);
            sw_se += b1 / K, ed_se += se / K;
        }
        otg_tensor_free(x), otg_tensor_free(y);
    }
    double msw = 0, med = 0, vsw = 0, ved = 0;
    for (int k = 0; k < R; k++)
        msw += sw[k] / R, med += ed[k] / R;
    for (int k = 0; k < R; k++)
        vsw += (sw[k] - msw) * (sw[k] - msw) / (R - 1),
            ved += (ed[k] - med) * (ed[k] - med) / (R - 1);
    print_message("spread over %d pairs: SW %.4g (bootstrap %.4g), energy %.4g (delta %.4g)\n", R,
                  sqrt(vsw), sw_se, sqrt(ved), ed_se);
    assert_true(sw_se > sqrt(vsw) / 1.5 && sw_se < 1.5 * sqrt(vsw));
    assert_true(ed_se > sqrt(ved) / 1.5 && ed_se < 1.5 * sqrt(ved));
    otg_tensor *x = normal_cloud(N, D, 0.0, 1), *x1 = normal_cloud(1, D, 0.0, 2);
    otg_tensor *y3 = normal_cloud(10, 3, 0.0, 3);
    double se;
    assert_int_equal(otg_sw_bootstrap(x, x1, th, 2.0, 100, &r, &se), OTG_EINVAL);
    assert_int_equal(otg_sw_bootstrap(x, x, th, 2.0, 1, &r, &se), OTG_EINVAL);
    assert_int_equal(otg_sw_bootstrap(x, y3, th, 2.0, 100, &r, &se), OTG_ESHAPE);
    x->data[3] = NAN;
    assert_int_equal(otg_sw_bootstrap(x, x, th, 2.0, 10, &r, &se), OTG_ENONFINITE);
    otg_tensor_free(x), otg_tensor_free(x1), otg_tensor_free(y3), otg_tensor_free(th);
    otg_sw_workspace_free(ws);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sort_against_qsort),
        cmocka_unit_test(test_sort_engines_bit_identical),
        cmocka_unit_test(test_1d_against_all_permutations),
        cmocka_unit_test(test_1d_weighted_against_replicated_atoms),
        cmocka_unit_test(test_sw_translation_closed_form),
        cmocka_unit_test(test_sw_invariances),
        cmocka_unit_test(test_sw_rotation_with_orthogonal_directions),
        cmocka_unit_test(test_sw_gradient_finite_differences_and_reference),
        cmocka_unit_test(test_sw_weighted_gradient),
        cmocka_unit_test(test_sw_bits_independent_of_chunk_and_threads),
        cmocka_unit_test(test_max_sliced),
        cmocka_unit_test(test_sw_loss_op),
        cmocka_unit_test(test_sw_ties_counted),
        cmocka_unit_test(test_sw_bad_input),
        cmocka_unit_test(test_sliced_energy_formula),
        cmocka_unit_test(test_sliced_energy_estimates_the_distance),
        cmocka_unit_test(test_sliced_energy_gradient),
        cmocka_unit_test(test_sliced_energy_quadrature),
        cmocka_unit_test(test_sliced_energy_loss_op),
        cmocka_unit_test(test_sw_pairwise_equals_separate_calls),
        cmocka_unit_test(test_point_errors_match_the_spread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
