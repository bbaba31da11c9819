/* SW estimators (otg_sw_estimate): LCV, UCV and EBSW against a direct double-precision
 * implementation of their formulas; the control variates' expectations exact on full orthogonal
 * blocks and LCV exact on translated clouds; gradients against finite differences of the double
 * reference (gamma free or held, EBSW weights held); weighted clouds as replicated atoms; bits
 * across threads and chunks; per-direction weights of otg_sw; rqmc directions; bad options. */
// ctest-labels: unit grad
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h> /* after the three headers it needs */

#include "otgen/ot.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

enum { N = 7, M = 7, D = 4, L = 6 };

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The reference of one estimator in double: x [n, d], y [n, d] uniform, theta [d, L]. fixed_gamma
 * (or NaN) replaces the coefficient; fixed_w [L] (or NULL) replaces EBSW's weights. */
typedef struct {
    double value, stderr_value, gamma, c_mean;
} ref_out;

static ref_out reference(const double *x, const double *y, int n, int d, const float *thf, int nl,
                         otg_sw_estimator kind, double temp, double fixed_gamma,
                         const double *fixed_w, double *w_out) {
    double W[64], C[64], mx[16] = {0}, my[16] = {0}, s[64], t[64], theta[256];
    for (int i = 0; i < d * nl; i++)
        theta[i] = (double)thf[i];
    for (int i = 0; i < n; i++)
        for (int k = 0; k < d; k++)
            mx[k] += x[i * d + k] / n, my[k] += y[i * d + k] / n;
    double E = 0.0;
    for (int k = 0; k < d; k++)
        E += (mx[k] - my[k]) * (mx[k] - my[k]);
    for (int i = 0; kind == OTG_SW_EST_UCV && i < n; i++)
        for (int k = 0; k < d; k++)
            E += ((x[i * d + k] - mx[k]) * (x[i * d + k] - mx[k]) +
                  (y[i * d + k] - my[k]) * (y[i * d + k] - my[k])) /
                 n;
    E /= d;
    for (int l = 0; l < nl; l++) {
        double dm = 0.0, vx = 0.0, vy = 0.0, w = 0.0, ax = 0.0, ay = 0.0;
        for (int k = 0; k < d; k++)
            dm += theta[k * nl + l] * (mx[k] - my[k]), ax += theta[k * nl + l] * mx[k],
                ay += theta[k * nl + l] * my[k];
        for (int i = 0; i < n; i++) {
            s[i] = t[i] = 0.0;
            for (int k = 0; k < d; k++)
                s[i] += theta[k * nl + l] * x[i * d + k], t[i] += theta[k * nl + l] * y[i * d + k];
            vx += (s[i] - ax) * (s[i] - ax) / n, vy += (t[i] - ay) * (t[i] - ay) / n;
        }
        qsort(s, (size_t)n, sizeof *s, cmp_double), qsort(t, (size_t)n, sizeof *t, cmp_double);
        for (int i = 0; i < n; i++)
            w += (s[i] - t[i]) * (s[i] - t[i]) / n;
        W[l] = w, C[l] = dm * dm + (kind == OTG_SW_EST_UCV ? vx + vy : 0.0);
        if (w_out) w_out[l] = w;
    }
    ref_out r = {0, 0, 0, E};
    double wbar = 0.0, dbar = 0.0, S = 0.0, cov = 0.0, sq = 0.0;
    for (int l = 0; l < nl; l++)
        wbar += W[l] / nl, dbar += (C[l] - E) / nl;
    if (kind == OTG_SW_EST_EBSW) {
        double wt[64], sum = 0.0, v = 0.0;
        for (int l = 0; l < nl; l++)
            wt[l] = fixed_w ? fixed_w[l] : exp(W[l] / temp), sum += wt[l];
        for (int l = 0; l < nl; l++)
            v += wt[l] / sum * W[l];
        for (int l = 0; l < nl; l++)
            sq += (wt[l] / sum) * (wt[l] / sum) * (W[l] - v) * (W[l] - v);
        r.value = v, r.stderr_value = sqrt(sq * nl / (nl - 1.0));
        return r;
    }
    for (int l = 0; l < nl; l++)
        S += (C[l] - E) * (C[l] - E) / nl, cov += (W[l] - wbar) * (C[l] - E) / nl;
    r.gamma = isnan(fixed_gamma) ? cov / S : fixed_gamma;
    r.value = wbar - r.gamma * dbar;
    for (int l = 0; l < nl; l++) {
        double z = W[l] - r.gamma * (C[l] - E) - r.value;
        sq += z * z;
    }
    r.stderr_value = sqrt(sq / (nl - 1.0)) / sqrt((double)nl);
    return r;
}

/* Random clouds x, y [N, D] (y shifted and scaled) and Gaussian directions theta [D, L]. */
static void problem(uint64_t seed, float *x, float *y, float *theta) {
    otg_rng r = otg_rng_make(seed, 0);
    otg_rng_fill_normal(&r, N * D, x);
    otg_rng_fill_normal(&r, M * D, y);
    for (int i = 0; i < M * D; i++)
        y[i] = 1.7f * y[i] + 0.4f * (float)(i % D);
    otg_rng rd = otg_rng_make(seed, 1);
    assert_int_equal(otg_sw_directions(&rd, OTG_DIR_GAUSSIAN, D, L, theta), OTG_OK);
}

static void to_double(const float *f, double *o, int k) {
    for (int i = 0; i < k; i++)
        o[i] = (double)f[i];
}

static otg_sw_estimator_opts est_of(otg_sw_estimator k) {
    otg_sw_estimator_opts e = otg_sw_estimator_opts_default();
    e.kind = k;
    e.temperature = 0.5;
    return e;
}

static void close_rel(double a, double b, double tol, const char *what) {
    if (!(fabs(a - b) <= tol * (fabs(b) + 1e-12)))
        fail_msg("%s: %.12g vs reference %.12g", what, a, b);
}

static void test_values_against_reference(void **state) {
    float x[N * D], y[M * D], theta[D * L];
    double xd[N * D], yd[M * D];
    otg_sw_workspace *ws = otg_sw_workspace_new();
    for (uint64_t seed = 1; seed <= 5; seed++) {
        problem(seed, x, y, theta);
        to_double(x, xd, N * D), to_double(y, yd, M * D);
        otg_tensor tx = otg_tensor_view(x, 2, (int64_t[]){N, D});
        otg_tensor ty = otg_tensor_view(y, 2, (int64_t[]){M, D});
        otg_tensor tt = otg_tensor_view(theta, 2, (int64_t[]){D, L});
        for (int k = OTG_SW_EST_LCV; k <= OTG_SW_EST_EBSW; k++) {
            otg_sw_estimator_opts e = est_of((otg_sw_estimator)k);
            otg_sw_result res;
            otg_sw_estimate_info info;
            double per[L];
            assert_int_equal(
                otg_sw_estimate(ws, &tx, NULL, &ty, NULL, &tt, NULL, &e, &res, &info, NULL, per),
                OTG_OK);
            ref_out r =
                reference(xd, yd, N, D, theta, L, (otg_sw_estimator)k, 0.5, NAN, NULL, NULL);
            close_rel(res.value, r.value, 1e-5, otg_sw_estimator_name(e.kind));
            close_rel(res.stderr_value, r.stderr_value, 1e-4, "stderr");
            close_rel(info.gamma, r.gamma, 1e-4, "gamma");
            close_rel(info.cv_mean, k == OTG_SW_EST_EBSW ? 0.0 : r.c_mean, 1e-6, "E C");
            close_rel(res.distance, sqrt(fmax(res.value, 0.0)), 1e-12, "distance");
            /* MC from the same call */
            otg_sw_result mc;
            assert_int_equal(otg_sw(ws, &tx, NULL, &ty, NULL, &tt, NULL, &mc, NULL, NULL), OTG_OK);
            assert_true(info.mc_value == mc.value && info.mc_stderr == mc.stderr_value);
        }
        /* EBSW with f = identity: weights W_l / sum W */
        otg_sw_estimator_opts e = est_of(OTG_SW_EST_EBSW);
        e.energy = OTG_EBSW_IDENTITY;
        otg_sw_result res;
        double W[L];
        assert_int_equal(
            otg_sw_estimate(ws, &tx, NULL, &ty, NULL, &tt, NULL, &e, &res, NULL, NULL, W), OTG_OK);
        ref_out r = reference(xd, yd, N, D, theta, L, OTG_SW_EST_EBSW, 1.0, NAN, W, NULL);
        close_rel(res.value, r.value, 1e-5, "ebsw identity");
    }
    otg_sw_workspace_free(ws);
}

/* For directions forming full orthonormal blocks, mean_l theta_l^T A theta_l = tr A / d exactly:
 * both control variates' sample means equal their closed-form expectations, so LCV = UCV = MC. */
static void test_cv_expectation_exact_on_orthogonal_blocks(void **state) {
    enum { n = 200, d = 5, nl = 10 };
    float *x = malloc(n * d * sizeof *x), *y = malloc(n * d * sizeof *y), th[d * nl];
    otg_rng r = otg_rng_make(7, 0);
    otg_rng_fill_normal(&r, n * d, x);
    otg_rng_fill_normal(&r, n * d, y);
    for (int i = 0; i < n * d; i++)
        y[i] = 0.5f * y[i] + (float)(i % d) * 0.3f; /* another mean and covariance */
    otg_rng rd = otg_rng_make(7, 1);
    assert_int_equal(otg_sw_directions(&rd, OTG_DIR_ORTHOGONAL, d, nl, th), OTG_OK);
    otg_tensor tx = otg_tensor_view(x, 2, (int64_t[]){n, d});
    otg_tensor ty = otg_tensor_view(y, 2, (int64_t[]){n, d});
    otg_tensor tt = otg_tensor_view(th, 2, (int64_t[]){d, nl});
    otg_sw_workspace *ws = otg_sw_workspace_new();
    for (int k = OTG_SW_EST_LCV; k <= OTG_SW_EST_UCV; k++) {
        otg_sw_estimator_opts e = est_of((otg_sw_estimator)k);
        otg_sw_result res;
        otg_sw_estimate_info info;
        assert_int_equal(
            otg_sw_estimate(ws, &tx, NULL, &ty, NULL, &tt, NULL, &e, &res, &info, NULL, NULL),
            OTG_OK);
        close_rel(info.cv_sample_mean, info.cv_mean, 1e-5, "mean C over a full block");
        close_rel(res.value, info.mc_value, 1e-5, "CV = MC on full blocks");
        assert_true(info.cv_mean > 0.1);
    }
    otg_sw_workspace_free(ws);
    free(x), free(y);
}

/* y = x + delta: every W_2^2(theta) = (theta^T delta)^2 = C_LCV(theta), so with the authors'
 * coefficient (second moment of C about its known mean E) gamma = V / (V + (mean C - E)^2) and
 * LCV - |delta|^2/d = (1 - gamma)(mean C - E): a small fraction of MC's error mean C - E. */
static void test_lcv_exact_on_translated_clouds(void **state) {
    enum { n = 300, d = 6, nl = 16 };
    float *x = malloc(n * d * sizeof *x), *y = malloc(n * d * sizeof *y), th[d * nl];
    const float delta[d] = {0.5f, -1.0f, 0.25f, 2.0f, 0.0f, -0.75f};
    double dd = 0.0;
    for (int k = 0; k < d; k++)
        dd += (double)delta[k] * (double)delta[k];
    otg_rng r = otg_rng_make(3, 0);
    otg_rng_fill_normal(&r, n * d, x);
    for (int i = 0; i < n * d; i++)
        y[i] = x[i] + delta[i % d];
    otg_rng rd = otg_rng_make(3, 1);
    assert_int_equal(otg_sw_directions(&rd, OTG_DIR_GAUSSIAN, d, nl, th), OTG_OK);
    otg_tensor tx = otg_tensor_view(x, 2, (int64_t[]){n, d});
    otg_tensor ty = otg_tensor_view(y, 2, (int64_t[]){n, d});
    otg_tensor tt = otg_tensor_view(th, 2, (int64_t[]){d, nl});
    otg_sw_workspace *ws = otg_sw_workspace_new();
    otg_sw_estimator_opts e = est_of(OTG_SW_EST_LCV);
    otg_sw_result res;
    otg_sw_estimate_info info;
    assert_int_equal(
        otg_sw_estimate(ws, &tx, NULL, &ty, NULL, &tt, NULL, &e, &res, &info, NULL, NULL), OTG_OK);
    close_rel(info.cv_mean, dd / d, 1e-6, "E C = SW_2^2");
    close_rel(info.mc_value, info.cv_sample_mean, 1e-4, "W_l = C_l");
    close_rel(res.value - dd / d, (1.0 - info.gamma) * (info.cv_sample_mean - dd / d), 1e-2,
              "LCV error");
    assert_true(fabs(res.value - dd / d) < 0.2 * fabs(info.mc_value - dd / d));
    assert_true(res.stderr_value < 0.2 * info.mc_stderr);
    otg_sw_workspace_free(ws);
    free(x), free(y);
}

/* The gradients against central differences of the double reference (h = 1e-6). */
static void check_gradient(otg_sw_estimator k, int fixed) {
    float x[N * D], y[M * D], theta[D * L], g[N * D];
    double xd[N * D], yd[M * D];
    problem(11 + (uint64_t)k, x, y, theta);
    to_double(x, xd, N * D), to_double(y, yd, M * D);
    otg_tensor tx = otg_tensor_view(x, 2, (int64_t[]){N, D});
    otg_tensor ty = otg_tensor_view(y, 2, (int64_t[]){M, D});
    otg_tensor tt = otg_tensor_view(theta, 2, (int64_t[]){D, L});
    otg_sw_workspace *ws = otg_sw_workspace_new();
    otg_sw_estimator_opts e = est_of(k);
    e.fixed_gamma = fixed;
    otg_sw_result res;
    otg_sw_estimate_info info;
    assert_int_equal(otg_sw_estimate(ws, &tx, NULL, &ty, NULL, &tt, NULL, &e, &res, &info, g, NULL),
                     OTG_OK);
    /* held parts: gamma at x, or EBSW's weights at x */
    double W0[L], wts[L], hold = fixed ? info.gamma : (double)NAN;
    reference(xd, yd, N, D, theta, L, k, 0.5, NAN, NULL, W0);
    for (int l = 0; l < L; l++)
        wts[l] = exp(W0[l] / 0.5);
    double gmax = 0.0;
    for (int i = 0; i < N * D; i++)
        gmax = fmax(gmax, fabs(g[i]));
    for (int i = 0; i < N * D; i++) {
        const double h = 1e-6, x0 = xd[i];
        xd[i] = x0 + h;
        double up =
            reference(xd, yd, N, D, theta, L, k, 0.5, hold, k == OTG_SW_EST_EBSW ? wts : NULL, NULL)
                .value;
        xd[i] = x0 - h;
        double dn =
            reference(xd, yd, N, D, theta, L, k, 0.5, hold, k == OTG_SW_EST_EBSW ? wts : NULL, NULL)
                .value;
        xd[i] = x0;
        double fd = (up - dn) / (2 * h);
        if (fabs(fd - (double)g[i]) > 2e-4 * gmax + 1e-6)
            fail_msg("%s fixed=%d: d/dx[%d] = %.8g, finite differences %.8g",
                     otg_sw_estimator_name(k), fixed, i, (double)g[i], fd);
    }
    otg_sw_workspace_free(ws);
}

/* The two CV gradients differ (so the checks above tell them apart). */
static void gradients_differ(otg_sw_estimator k) {
    float x[N * D], y[M * D], theta[D * L], g0[N * D], g1[N * D];
    problem(11 + (uint64_t)k, x, y, theta);
    otg_tensor tx = otg_tensor_view(x, 2, (int64_t[]){N, D});
    otg_tensor ty = otg_tensor_view(y, 2, (int64_t[]){M, D});
    otg_tensor tt = otg_tensor_view(theta, 2, (int64_t[]){D, L});
    otg_sw_workspace *ws = otg_sw_workspace_new();
    otg_sw_estimator_opts e = est_of(k);
    otg_sw_result res;
    assert_int_equal(otg_sw_estimate(ws, &tx, NULL, &ty, NULL, &tt, NULL, &e, &res, NULL, g0, NULL),
                     OTG_OK);
    e.fixed_gamma = 1;
    assert_int_equal(otg_sw_estimate(ws, &tx, NULL, &ty, NULL, &tt, NULL, &e, &res, NULL, g1, NULL),
                     OTG_OK);
    double diff = 0.0, big = 0.0;
    for (int i = 0; i < N * D; i++)
        diff = fmax(diff, fabs((double)g0[i] - (double)g1[i])),
        big = fmax(big, fabs((double)g0[i]));
    assert_true(diff > 1e-2 * big);
    otg_sw_workspace_free(ws);
}

static void test_gradients_finite_differences(void **state) {
    gradients_differ(OTG_SW_EST_LCV);
    gradients_differ(OTG_SW_EST_UCV);
    check_gradient(OTG_SW_EST_LCV, 0);
    check_gradient(OTG_SW_EST_LCV, 1);
    check_gradient(OTG_SW_EST_UCV, 0);
    check_gradient(OTG_SW_EST_UCV, 1);
    check_gradient(OTG_SW_EST_EBSW, 0);
}

/* Integer weights (1, 2, 1, 3) on x [4, D] equal x's rows replicated (7 rows): same values, and
 * the weighted gradient of a row is the sum of its replicas' gradients. */
static void test_weighted_as_replicated_atoms(void **state) {
    float x[N * D], y[M * D], theta[D * L], xr[N * D], g[4 * D], gr[N * D];
    problem(21, x, y, theta);
    const int rep[4] = {1, 2, 1, 3};
    const float wa[4] = {1, 2, 1, 3};
    for (int i = 0, r = 0; i < 4; i++)
        for (int c = 0; c < rep[i]; c++, r++)
            memcpy(xr + r * D, x + i * D, D * sizeof(float));
    otg_tensor tx = otg_tensor_view(x, 2, (int64_t[]){4, D});
    otg_tensor txr = otg_tensor_view(xr, 2, (int64_t[]){N, D});
    otg_tensor ty = otg_tensor_view(y, 2, (int64_t[]){M, D});
    otg_tensor tt = otg_tensor_view(theta, 2, (int64_t[]){D, L});
    otg_sw_workspace *ws = otg_sw_workspace_new();
    for (int k = OTG_SW_EST_LCV; k <= OTG_SW_EST_EBSW; k++) {
        otg_sw_estimator_opts e = est_of((otg_sw_estimator)k);
        otg_sw_result a, b;
        assert_int_equal(otg_sw_estimate(ws, &tx, wa, &ty, NULL, &tt, NULL, &e, &a, NULL, g, NULL),
                         OTG_OK);
        assert_int_equal(
            otg_sw_estimate(ws, &txr, NULL, &ty, NULL, &tt, NULL, &e, &b, NULL, gr, NULL), OTG_OK);
        close_rel(a.value, b.value, 1e-5, "weighted value");
        for (int i = 0, r = 0; i < 4; i++) {
            double s[D] = {0};
            for (int c = 0; c < rep[i]; c++, r++)
                for (int j = 0; j < D; j++)
                    s[j] += (double)gr[r * D + j];
            for (int j = 0; j < D; j++)
                assert_true(fabs((double)g[i * D + j] - s[j]) <= 1e-4 * (fabs(s[j]) + 1e-2));
        }
    }
    otg_sw_workspace_free(ws);
}

/* Same bits on 1 and 2 threads; values the same for any chunk (without a gradient). */
static void test_bits_across_threads_and_chunks(void **state) {
    enum { n = 700, d = 40, nl = 600 };
    float *x = malloc(n * d * sizeof *x), *y = malloc(n * d * sizeof *y);
    float *th = malloc(d * nl * sizeof *th), *g1 = malloc(n * d * sizeof *g1),
          *g2 = malloc(n * d * sizeof *g2);
    otg_rng r = otg_rng_make(5, 0);
    otg_rng_fill_normal(&r, n * d, x);
    otg_rng_fill_normal(&r, n * d, y);
    assert_int_equal(otg_sw_directions(&r, OTG_DIR_GAUSSIAN, d, nl, th), OTG_OK);
    otg_tensor tx = otg_tensor_view(x, 2, (int64_t[]){n, d});
    otg_tensor ty = otg_tensor_view(y, 2, (int64_t[]){n, d});
    otg_tensor tt = otg_tensor_view(th, 2, (int64_t[]){d, nl});
    otg_sw_workspace *ws = otg_sw_workspace_new();
    const int saved = omp_get_max_threads();
    for (int k = OTG_SW_EST_LCV; k <= OTG_SW_EST_EBSW; k++) {
        otg_sw_estimator_opts e = est_of((otg_sw_estimator)k);
        otg_sw_result a, b, c;
        otg_sw_opts o = otg_sw_opts_default();
        omp_set_num_threads(1);
        assert_int_equal(otg_sw_estimate(ws, &tx, NULL, &ty, NULL, &tt, &o, &e, &a, NULL, g1, NULL),
                         OTG_OK);
        omp_set_num_threads(2);
        assert_int_equal(otg_sw_estimate(ws, &tx, NULL, &ty, NULL, &tt, &o, &e, &b, NULL, g2, NULL),
                         OTG_OK);
        assert_true(a.value == b.value && a.stderr_value == b.stderr_value);
        assert_memory_equal(g1, g2, n * d * sizeof(float));
        o.chunk = 256;
        assert_int_equal(
            otg_sw_estimate(ws, &tx, NULL, &ty, NULL, &tt, &o, &e, &c, NULL, NULL, NULL), OTG_OK);
        assert_true(a.value == c.value);
    }
    omp_set_num_threads(saved);
    otg_sw_workspace_free(ws);
    free(x), free(y), free(th), free(g1), free(g2);
}

/* otg_sw's per-direction weights: value sum w W, gradient sum w grad W; uniform weights = plain. */
static void test_direction_weights(void **state) {
    float x[N * D], y[M * D], theta[D * L], g[N * D], g1[N * D], acc[N * D] = {0};
    problem(31, x, y, theta);
    otg_tensor tx = otg_tensor_view(x, 2, (int64_t[]){N, D});
    otg_tensor ty = otg_tensor_view(y, 2, (int64_t[]){M, D});
    otg_tensor tt = otg_tensor_view(theta, 2, (int64_t[]){D, L});
    otg_sw_workspace *ws = otg_sw_workspace_new();
    const float w[L] = {1, 0, 2, 0.5f, 3, 1.5f}; /* sum 8 */
    otg_sw_opts o = otg_sw_opts_default();
    double per[L];
    otg_sw_result plain, res, one;
    assert_int_equal(otg_sw(ws, &tx, NULL, &ty, NULL, &tt, &o, &plain, NULL, per), OTG_OK);
    o.weights = w;
    assert_int_equal(otg_sw(ws, &tx, NULL, &ty, NULL, &tt, &o, &res, g, NULL), OTG_OK);
    double v = 0.0;
    for (int l = 0; l < L; l++)
        v += (double)w[l] / 8.0 * per[l];
    close_rel(res.value, v, 1e-12, "weighted value");
    for (int l = 0; l < L; l++) { /* the single-direction gradients */
        float col[D];
        for (int k = 0; k < D; k++)
            col[k] = theta[k * L + l];
        otg_tensor tc = otg_tensor_view(col, 2, (int64_t[]){D, 1});
        assert_int_equal(otg_sw(ws, &tx, NULL, &ty, NULL, &tc, NULL, &one, g1, NULL), OTG_OK);
        for (int i = 0; i < N * D; i++)
            acc[i] += w[l] / 8.0f * g1[i];
    }
    for (int i = 0; i < N * D; i++)
        assert_true(fabs(g[i] - acc[i]) <= 1e-5 * (fabs(acc[i]) + 1e-3));
    const float u[L] = {2, 2, 2, 2, 2, 2};
    o.weights = u;
    assert_int_equal(otg_sw(ws, &tx, NULL, &ty, NULL, &tt, &o, &res, NULL, NULL), OTG_OK);
    close_rel(res.value, plain.value, 1e-12, "uniform weights");
    close_rel(res.stderr_value, plain.stderr_value, 1e-9, "uniform weights' stderr");
    const float bad[L] = {1, -1, 0, 0, 0, 0};
    o.weights = bad;
    assert_int_equal(otg_sw(ws, &tx, NULL, &ty, NULL, &tt, &o, &res, NULL, NULL), OTG_EINVAL);
    otg_sw_workspace_free(ws);
}

/* rqmc: unit columns, only d = 3, reproducible, a random rotation per seed, and an even spread:
 * mean theta theta^T within 2/L of I/3 (Monte Carlo: about 0.3/sqrt(L)). */
static void test_rqmc_directions(void **state) {
    enum { nl = 1000 };
    float *a = malloc(3 * nl * sizeof *a), *b = malloc(3 * nl * sizeof *b);
    otg_rng r = otg_rng_make(4, 1), r2 = otg_rng_make(4, 1), r3 = otg_rng_make(5, 1);
    assert_int_equal(otg_sw_directions(&r, OTG_DIR_RQMC, 3, nl, a), OTG_OK);
    assert_int_equal(otg_sw_directions(&r2, OTG_DIR_RQMC, 3, nl, b), OTG_OK);
    assert_memory_equal(a, b, 3 * nl * sizeof *a);
    assert_int_equal(otg_sw_directions(&r3, OTG_DIR_RQMC, 3, nl, b), OTG_OK);
    assert_memory_not_equal(a, b, 3 * nl * sizeof *a);
    double mom[9] = {0};
    for (int l = 0; l < nl; l++) {
        double s = 0.0;
        for (int k = 0; k < 3; k++)
            s += (double)a[k * nl + l] * (double)a[k * nl + l];
        assert_true(fabs(s - 1.0) < 1e-6);
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 3; k++)
                mom[j * 3 + k] += (double)a[j * nl + l] * (double)a[k * nl + l] / nl;
    }
    for (int j = 0; j < 3; j++)
        for (int k = 0; k < 3; k++)
            assert_true(fabs(mom[j * 3 + k] - (j == k ? 1.0 / 3.0 : 0.0)) < 2.0 / nl);
    assert_int_equal(otg_sw_directions(&r, OTG_DIR_RQMC, 2, nl, a), OTG_EINVAL);
    otg_dir_kind k;
    assert_int_equal(otg_dir_parse("rqmc", &k), OTG_OK);
    assert_int_equal(k, OTG_DIR_RQMC);
    free(a), free(b);
}

/* The SW loss op with an estimator: forward and backward are otg_sw_estimate's. */
static void test_loss_op_with_estimator(void **state) {
    float x[N * D], y[M * D], theta[D * L], g[N * D];
    problem(41, x, y, theta);
    otg_tensor tx = otg_tensor_view(x, 2, (int64_t[]){N, D});
    otg_tensor ty = otg_tensor_view(y, 2, (int64_t[]){M, D});
    otg_tensor tt = otg_tensor_view(theta, 2, (int64_t[]){D, L});
    otg_graph *gr = otg_graph_new();
    otg_node *nx = otg_param(gr, 2, (int64_t[]){N, D}),
             *ny = otg_input(gr, 2, (int64_t[]){M, D}, 0);
    otg_sw_loss_ctx ctx = {0};
    ctx.ws = otg_sw_workspace_new();
    ctx.opts = otg_sw_opts_default();
    ctx.est = est_of(OTG_SW_EST_UCV);
    ctx.theta = &tt;
    otg_node *loss = otg_sw_loss(gr, nx, ny, &ctx);
    assert_non_null(loss);
    assert_int_equal(otg_graph_compile(gr), OTG_OK);
    memcpy(otg_node_data(nx), x, sizeof x), memcpy(otg_node_data(ny), y, sizeof y);
    assert_int_equal(otg_graph_forward(gr), OTG_OK);
    assert_int_equal(otg_graph_backward(gr, loss), OTG_OK);
    otg_sw_result res;
    otg_sw_workspace *ws = otg_sw_workspace_new();
    assert_int_equal(
        otg_sw_estimate(ws, &tx, NULL, &ty, NULL, &tt, NULL, &ctx.est, &res, NULL, g, NULL),
        OTG_OK);
    assert_true(otg_node_data(loss)[0] == (float)res.value);
    assert_memory_equal(otg_node_grad(nx), g, sizeof g);
    otg_sw_loss_release(&ctx);
    otg_sw_workspace_free(ctx.ws), otg_sw_workspace_free(ws);
    otg_graph_free(gr);
}

static void test_bad_options(void **state) {
    float x[N * D], y[M * D], theta[D * L];
    problem(51, x, y, theta);
    otg_tensor tx = otg_tensor_view(x, 2, (int64_t[]){N, D});
    otg_tensor ty = otg_tensor_view(y, 2, (int64_t[]){M, D});
    otg_tensor tt = otg_tensor_view(theta, 2, (int64_t[]){D, L});
    otg_sw_workspace *ws = otg_sw_workspace_new();
    otg_sw_result res;
    otg_sw_estimator_opts e = est_of(OTG_SW_EST_EBSW);
    e.temperature = 0.0;
    assert_int_equal(
        otg_sw_estimate(ws, &tx, NULL, &ty, NULL, &tt, NULL, &e, &res, NULL, NULL, NULL),
        OTG_EINVAL);
    e = est_of((otg_sw_estimator)9);
    assert_int_equal(
        otg_sw_estimate(ws, &tx, NULL, &ty, NULL, &tt, NULL, &e, &res, NULL, NULL, NULL),
        OTG_EINVAL);
    e = est_of(OTG_SW_EST_LCV);
    otg_sw_opts o = otg_sw_opts_default();
    const float w[L] = {1, 1, 1, 1, 1, 1};
    o.weights = w;
    assert_int_equal(otg_sw_estimate(ws, &tx, NULL, &ty, NULL, &tt, &o, &e, &res, NULL, NULL, NULL),
                     OTG_EINVAL);
    otg_tensor t2 = otg_tensor_view(theta, 2, (int64_t[]){D - 1, L});
    assert_int_equal(
        otg_sw_estimate(ws, &tx, NULL, &ty, NULL, &t2, NULL, &e, &res, NULL, NULL, NULL),
        OTG_ESHAPE);
    otg_sw_estimator k;
    assert_int_equal(otg_sw_estimator_parse("cv", &k), OTG_EINVAL);
    assert_int_equal(otg_sw_estimator_parse("ucv", &k), OTG_OK);
    assert_int_equal(k, OTG_SW_EST_UCV);
    otg_ebsw_energy f;
    assert_int_equal(otg_ebsw_energy_parse("poly", &f), OTG_EINVAL);
    otg_sw_workspace_free(ws);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_against_reference),
        cmocka_unit_test(test_cv_expectation_exact_on_orthogonal_blocks),
        cmocka_unit_test(test_lcv_exact_on_translated_clouds),
        cmocka_unit_test(test_gradients_finite_differences),
        cmocka_unit_test(test_weighted_as_replicated_atoms),
        cmocka_unit_test(test_bits_across_threads_and_chunks),
        cmocka_unit_test(test_direction_weights),
        cmocka_unit_test(test_rqmc_directions),
        cmocka_unit_test(test_loss_op_with_estimator),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
