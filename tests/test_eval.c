/* The feature-space metric (otgen/eval.h): the Jacobi eigen-decomposition against its definition,
 * the Frechet distance against closed forms (and SciPy's sqrtm when /usr/bin/python3 has it),
 * the classifier's bits (same recipe twice, 1 and 2 threads), its accuracy bound and the
 * calibration ordering data < 5% salt-and-pepper < Gaussian fit on Fashion-MNIST subsets. The
 * default classifier is trained once per build tree (cached in OTGEN_FD_CACHE). */
// ctest-labels: unit converge
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h> /* after the three headers it needs */

#include "otgen/otgen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* a [d, d] = Q diag(lam) Q^T for a random orthogonal Q (Gram-Schmidt of Gaussian columns). */
static void random_spd(int64_t d, const double *lam, otg_rng *r, double *a) {
    double *q = calloc((size_t)(d * d), sizeof *q);
    for (int64_t j = 0; j < d; j++) {
        for (int64_t i = 0; i < d; i++)
            q[i * d + j] = otg_rng_normal(r);
        for (int64_t k = 0; k < j; k++) {
            double dot = 0;
            for (int64_t i = 0; i < d; i++)
                dot += q[i * d + j] * q[i * d + k];
            for (int64_t i = 0; i < d; i++)
                q[i * d + j] -= dot * q[i * d + k];
        }
        double nrm = 0;
        for (int64_t i = 0; i < d; i++)
            nrm += q[i * d + j] * q[i * d + j];
        for (int64_t i = 0; i < d; i++)
            q[i * d + j] /= sqrt(nrm);
    }
    for (int64_t i = 0; i < d; i++)
        for (int64_t k = 0; k < d; k++) {
            double s = 0;
            for (int64_t j = 0; j < d; j++)
                s += q[i * d + j] * lam[j] * q[k * d + j];
            a[i * d + k] = s;
        }
    free(q);
}

/* V diag(w) V^T = A, V^T V = I, w ascending and equal to the eigenvalues put in. */
static void test_eigen_reconstructs(void **state) {
    const int64_t d = 24;
    double lam[24], a[576], a0[576], w[24], v[576];
    otg_rng r = otg_rng_make(5, 1);
    for (int j = 0; j < d; j++)
        lam[j] = j % 3 == 0 ? 0.0 : otg_rng_normal(&r); /* repeated zeros, negatives */
    random_spd(d, lam, &r, a);
    memcpy(a0, a, sizeof a);
    assert_int_equal(otg_eigen_symmetric(d, a, w, v), OTG_OK);
    double sorted[24];
    memcpy(sorted, lam, sizeof lam);
    for (int i = 1; i < d; i++)
        for (int j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
            double t = sorted[j];
            sorted[j] = sorted[j - 1], sorted[j - 1] = t;
        }
    for (int i = 0; i < d; i++)
        assert_true(fabs(w[i] - sorted[i]) < 1e-10);
    for (int i = 0; i < d; i++)
        for (int k = 0; k < d; k++) {
            double s = 0, o = 0;
            for (int j = 0; j < d; j++)
                s += v[i * d + j] * w[j] * v[k * d + j], o += v[j * d + i] * v[j * d + k];
            assert_true(fabs(s - a0[i * d + k]) < 1e-10);
            assert_true(fabs(o - (i == k)) < 1e-10);
        }
}

/* 2 x 2: tr (A^1/2 B A^1/2)^1/2 = sqrt(tr AB + 2 sqrt(det AB)) (Cayley-Hamilton); and commuting
 * covariances: sum (sqrt a - sqrt b)^2. */
static void test_frechet_closed_forms(void **state) {
    const double a[4] = {2.0, 0.7, 0.7, 1.0}, b[4] = {0.5, -0.2, -0.2, 3.0};
    const double m1[2] = {1, -1}, m2[2] = {0.5, 2};
    const double ab[4] = {a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3],
                          a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3]};
    const double det = ab[0] * ab[3] - ab[1] * ab[2];
    const double want = 0.25 + 9 + 2 + 1 + 0.5 + 3 - 2 * sqrt(ab[0] + ab[3] + 2 * sqrt(det));
    double fd;
    assert_int_equal(otg_frechet_distance(2, m1, a, m2, b, &fd), OTG_OK);
    assert_true(fabs(fd - want) < 1e-12);
    assert_int_equal(otg_frechet_distance(2, m1, a, m1, a, &fd), OTG_OK);
    assert_true(fabs(fd) < 1e-12);

    const int64_t d = 16;
    double la[16], lb[16], ca[256], cb[256], mu[16] = {0};
    otg_rng r = otg_rng_make(3, 1), r2 = otg_rng_make(3, 1);
    double expect = 0;
    for (int j = 0; j < d; j++) {
        la[j] = 1 + otg_rng_uniform(&r), lb[j] = j < 4 ? 0.0 : 2 * otg_rng_uniform(&r);
        expect += (sqrt(la[j]) - sqrt(lb[j])) * (sqrt(la[j]) - sqrt(lb[j]));
    }
    random_spd(d, la, &r2, ca);
    r2 = otg_rng_make(3, 1); /* the same rotation for both: they commute */
    random_spd(d, lb, &r2, cb);
    assert_int_equal(otg_frechet_distance(d, mu, ca, mu, cb, &fd), OTG_OK);
    /* the 4 zero eigenvalues come out at rounding level e ~ 1e-16 and enter as sqrt(e) */
    assert_true(fabs(fd - expect) < 1e-6 * (1 + expect));
}

/* Against SciPy's sqrtm on random 30-dimensional feature sets (skipped without SciPy). */
static void test_frechet_matches_scipy(void **state) {
    if (system("/usr/bin/python3 -c 'import scipy.linalg' >/dev/null 2>&1") != 0) {
        fprintf(stderr, "(skipped: no scipy in /usr/bin/python3)\n");
        return;
    }
    const int64_t n = 200, d = 30;
    otg_tensor *x = otg_tensor_new(2, (int64_t[]){n, d}), *y = otg_tensor_new(2, (int64_t[]){n, d});
    otg_rng r = otg_rng_make(9, 1);
    for (int64_t i = 0; i < n * d; i++) {
        x->data[i] = (float)otg_rng_normal(&r);
        y->data[i] = (float)(0.5 * otg_rng_normal(&r) + (i % d < 3 ? 1.0 : 0.0));
    }
    for (int64_t i = 0; i < n; i++) /* correlate y's columns */
        for (int64_t j = 1; j < d; j++)
            y->data[i * d + j] += 0.8f * y->data[i * d + j - 1];
    char dir[] = "/tmp/otgen_test_eval_XXXXXX", px[256], py[256], cmd[1024];
    assert_non_null(mkdtemp(dir));
    snprintf(px, sizeof px, "%s/x.npy", dir), snprintf(py, sizeof py, "%s/y.npy", dir);
    assert_int_equal(otg_npy_write(px, x, 1), OTG_OK);
    assert_int_equal(otg_npy_write(py, y, 1), OTG_OK);
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import numpy as np, scipy.linalg as L; x=np.load('%s')."
             "astype(float); y=np.load('%s').astype(float); a=np.cov(x.T); b=np.cov(y.T); "
             "s=L.sqrtm(a@b).real; print(repr(((x.mean(0)-y.mean(0))**2).sum()+np.trace(a+b-2*s)))"
             "\"",
             px, py);
    FILE *p = popen(cmd, "r");
    double want = NAN;
    assert_int_equal(fscanf(p, "%lf", &want), 1);
    pclose(p);
    double mu[60], cov[1800], fd;
    assert_int_equal(otg_feature_stats(x->data, n, d, mu, cov), OTG_OK);
    assert_int_equal(otg_feature_stats(y->data, n, d, mu + d, cov + d * d), OTG_OK);
    assert_int_equal(otg_frechet_distance(d, mu, cov, mu + d, cov + d * d, &fd), OTG_OK);
    fprintf(stderr, "fd %.12g, scipy %.12g\n", fd, want);
    assert_true(fabs(fd - want) < 1e-8 * fabs(want));
    remove(px), remove(py), remove(dir);
    otg_tensor_free(x), otg_tensor_free(y);
}

static otg_source *fmnist(const char *split) {
    otg_source_opts so = otg_source_opts_default();
    so.split = split;
    return otg_source_open("fashion-mnist", &so);
}

/* A small recipe trained twice, and again on 2 threads: the same parameter bits, and the same
 * features through save and load. */
static void test_classifier_bits(void **state) {
    otg_source *s = fmnist("train");
    if (!s) skip();
    otg_tensor sub;
    assert_int_equal(otg_tensor_view_rows(otg_source_data(s), 0, 3000, &sub), OTG_OK);
    otg_classifier_recipe r = otg_classifier_recipe_default();
    r.hidden1 = 64, r.hidden2 = 32, r.epochs = 2;
    float f[3][32 * 50];
    otg_tensor few;
    assert_int_equal(otg_tensor_view_rows(&sub, 0, 50, &few), OTG_OK);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(otg_threads_set(k == 2 ? 2 : 1), OTG_OK);
        otg_classifier *c = otg_classifier_train(&sub, otg_source_labels(s), 10, &r);
        assert_non_null(c);
        if (k == 1) { /* through the cache file */
            char path[128];
            snprintf(path, sizeof path, "/tmp/otgen_test_clf_%ld.npy", (long)getpid());
            assert_int_equal(otg_classifier_save(c, path), OTG_OK);
            otg_classifier_free(c);
            c = otg_classifier_load(path, &r, 784, 10);
            assert_non_null(c);
            otg_classifier_recipe wrong = r;
            wrong.hidden1 = 65;
            assert_null(otg_classifier_load(path, &wrong, 784, 10));
            remove(path);
        }
        assert_int_equal(otg_classifier_apply(c, &few, f[k], NULL), OTG_OK);
        otg_classifier_free(c);
    }
    assert_memory_equal(f[0], f[1], sizeof f[0]);
    assert_memory_equal(f[0], f[2], sizeof f[0]);
    r.epochs = 3;
    uint64_t k1 = otg_classifier_key(&r, &sub, otg_source_labels(s));
    r.epochs = 2;
    assert_true(k1 != otg_classifier_key(&r, &sub, otg_source_labels(s)));
    assert_int_equal(otg_threads_set(0), OTG_OK);
    otg_source_free(s);
}

/* x [n, 784]: rows of src, each pixel replaced with probability 0.05 by 0 or 1. */
static void salt_and_pepper(const otg_tensor *src, int64_t n, otg_tensor *x, otg_rng *r) {
    memcpy(x->data, src->data, (size_t)(n * 784) * sizeof(float));
    for (int64_t i = 0; i < n * 784; i++)
        if (otg_rng_uniform(r) < 0.05) x->data[i] = otg_rng_uniform(r) < 0.5 ? 0.0f : 1.0f;
}

/* A full-covariance Gaussian fit of k rows y: mu + Y_c^T g / sqrt(k - 1), g ~ N(0, I_k), has the
 * rows' mean and sample covariance exactly; clipped to [0, 1]. */
static void gaussian_fit(const otg_tensor *y, int64_t k, int64_t n, otg_tensor *x, otg_rng *r) {
    double mu[784] = {0};
    for (int64_t i = 0; i < k; i++)
        for (int j = 0; j < 784; j++)
            mu[j] += (double)y->data[i * 784 + j] / (double)k;
    for (int64_t s = 0; s < n; s++) {
        double acc[784] = {0};
        for (int64_t i = 0; i < k; i++) {
            const double g = otg_rng_normal(r);
            for (int j = 0; j < 784; j++)
                acc[j] += g * ((double)y->data[i * 784 + j] - mu[j]);
        }
        for (int j = 0; j < 784; j++) {
            const double v = mu[j] + acc[j] / sqrt((double)(k - 1));
            x->data[s * 784 + j] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
        }
    }
}

/* The default classifier: test accuracy >= 0.89; on 2,000-image sets FD orders held-out
 * training images < 5% salt-and-pepper < a Gaussian fit; the real images cover all ten classes;
 * copies of 40 training images have a memorisation ratio near 0, fresh images near 1. */
static void test_calibration_ordering(void **state) {
    const char *cache = getenv("OTGEN_FD_CACHE"), *san = getenv("OTGEN_SANITIZED");
    otg_source *probe = fmnist("test");
    if (!probe) skip();
    otg_source_free(probe);
    /* under the sanitizers one epoch (the same code, a tenth of the time) and a looser bound */
    const int sanitized = san && san[0];
    otg_classifier_recipe rec = otg_classifier_recipe_default();
    if (sanitized) rec.epochs = 1;
    otg_fd_judge *j = otg_fd_judge_open("fashion-mnist", NULL, cache, &rec);
    assert_non_null(j);
    fprintf(stderr, "classifier test accuracy %.4f (%s)\n", otg_fd_judge_accuracy(j),
            otg_fd_judge_trained(j) ? "trained" : "cached");
    assert_true(otg_fd_judge_accuracy(j) >= (sanitized ? 0.8 : 0.89));
    const otg_tensor *train = otg_fd_judge_train(j);
    const int64_t n = 2000;
    otg_tensor held, *x = otg_tensor_new(2, (int64_t[]){n, 784});
    assert_int_equal(otg_tensor_view_rows(train, 50000, n, &held), OTG_OK);
    otg_rng r = otg_rng_make(4, 1);
    otg_fd_report real, noisy, gauss, copies;
    assert_int_equal(otg_fd_judge_evaluate(j, &held, 0, &real), OTG_OK);
    salt_and_pepper(&held, n, x, &r);
    assert_int_equal(otg_fd_judge_evaluate(j, x, 0, &noisy), OTG_OK);
    gaussian_fit(train, 1000, n, x, &r);
    assert_int_equal(otg_fd_judge_evaluate(j, x, 0, &gauss), OTG_OK);
    for (int64_t i = 0; i < n; i++)
        memcpy(x->data + i * 784, train->data + (i % 40) * 784, 784 * sizeof(float));
    otg_tensor fresh;
    assert_int_equal(otg_tensor_view_rows(otg_fd_judge_test(j), 0, 200, &fresh), OTG_OK);
    otg_fd_report fr;
    assert_int_equal(otg_fd_judge_evaluate(j, x, 200, &copies), OTG_OK);
    assert_int_equal(otg_fd_judge_evaluate(j, &fresh, 200, &fr), OTG_OK);
    fprintf(stderr,
            "fd: real %.4g, noisy %.4g, gaussian %.4g, copies %.4g; memorisation copies "
            "%.3g, test %.3g\n",
            real.fd, noisy.fd, gauss.fd, copies.fd, copies.memorisation, fr.memorisation);
    assert_true(real.fd < noisy.fd);
    assert_true(noisy.fd < gauss.fd);
    assert_int_equal(real.coverage, 10);
    assert_true(copies.memorisation < 0.05);
    assert_true(fabs(fr.memorisation - 1.0) < 1e-12); /* the reference's own rows */
    assert_true(real.confident > gauss.confident);
    otg_tensor_free(x);
    otg_fd_judge_free(j);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eigen_reconstructs),    cmocka_unit_test(test_frechet_closed_forms),
        cmocka_unit_test(test_frechet_matches_scipy), cmocka_unit_test(test_classifier_bits),
        cmocka_unit_test(test_calibration_ordering),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
