/* The quality report of a set of generated images against a held-out reference: the Frechet
 * distance of the classifier's penultimate features, the share of each predicted class and the
 * classes covered, the confidently classified fraction, and the memorisation ratio (nearest
 * training image of samples vs of reference images, by exhaustive search through GEMM). */
#include "eval/eval_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define COVER_SHARE 0.05 /* a class is covered when it holds this share of the predictions */
#define CONFIDENT_P 0.9  /* a sample is confidently classified at this max probability */
#define NN_BLOCK 4096    /* training rows per GEMM of the nearest-neighbour search */

/* Features [n, f] and probabilities [n, k] of x; mean and covariance of the features. */
static otg_status describe(otg_classifier *c, const otg_tensor *x, double *mu, double *cov,
                           float *probs) {
    const int64_t n = x->shape[0], f = otg_classifier_features(c);
    float *feat = malloc((size_t)(n * f) * sizeof *feat);
    if (!feat) return otgi_fail(OTG_ENOMEM, "fd: out of memory");
    otg_status st = otg_classifier_apply(c, x, feat, probs);
    if (st == OTG_OK) st = otg_feature_stats(feat, n, f, mu, cov);
    free(feat);
    return st;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median over rows of q [m, d] of the Euclidean distance to the nearest row of t [nt, d]. */
static otg_status median_nn_distance(const float *q, int64_t m, const otg_tensor *t, double *med) {
    const int64_t d = t->shape[1], nt = t->shape[0];
    float *dots = malloc((size_t)(m * NN_BLOCK) * sizeof *dots);
    double *best = malloc((size_t)m * sizeof *best), *qn = malloc((size_t)m * sizeof *qn);
    double *tn = malloc(NN_BLOCK * sizeof *tn);
    if (!dots || !best || !qn || !tn) {
        free(dots), free(best), free(qn), free(tn);
        return otgi_fail(OTG_ENOMEM, "fd: out of memory for the nearest-neighbour search");
    }
    for (int64_t i = 0; i < m; i++) {
        double s = 0.0;
        for (int64_t j = 0; j < d; j++)
            s += (double)q[i * d + j] * (double)q[i * d + j];
        qn[i] = s, best[i] = INFINITY;
    }
    for (int64_t b0 = 0; b0 < nt; b0 += NN_BLOCK) {
        const int64_t nb = nt - b0 < NN_BLOCK ? nt - b0 : NN_BLOCK;
        const float *tb = t->data + b0 * d;
        otg_gemm(0, 1, m, nb, d, 1.0f, q, d, tb, d, 0.0f, dots, nb); /* q tb^T [m, nb] */
        for (int64_t r = 0; r < nb; r++) {
            double s = 0.0;
            for (int64_t j = 0; j < d; j++)
                s += (double)tb[r * d + j] * (double)tb[r * d + j];
            tn[r] = s;
        }
        for (int64_t i = 0; i < m; i++) {
            const float *di = dots + i * nb;
            double b = best[i];
            for (int64_t r = 0; r < nb; r++) {
                const double d2 = qn[i] + tn[r] - 2.0 * (double)di[r];
                b = d2 < b ? d2 : b;
            }
            best[i] = b;
        }
    }
    for (int64_t i = 0; i < m; i++)
        best[i] = sqrt(best[i] > 0 ? best[i] : 0.0);
    qsort(best, (size_t)m, sizeof *best, cmp_double);
    *med = m % 2 ? best[m / 2] : 0.5 * (best[m / 2 - 1] + best[m / 2]);
    free(dots), free(best), free(qn), free(tn);
    return OTG_OK;
}

/* Class shares, coverage and confident fraction of probabilities p [n, k]. */
static void class_figures(const float *p, int64_t n, int k, otg_fd_report *r) {
    int64_t count[16] = {0}, sure = 0;
    for (int64_t i = 0; i < n; i++) {
        const int j = otgi_argmax(p + i * k, k);
        count[j]++;
        sure += (double)p[i * k + j] >= CONFIDENT_P;
    }
    r->coverage = 0;
    for (int j = 0; j < k; j++) {
        r->class_share[j] = (double)count[j] / (double)n;
        r->coverage += r->class_share[j] >= COVER_SHARE;
    }
    r->confident = (double)sure / (double)n;
}

/* The checks of otg_fd_evaluate's arguments. */
static otg_status check_inputs(otg_classifier *c, const otg_tensor *x, const otg_tensor *ref,
                               const otg_tensor *train, const otg_fd_report *report) {
    if (!c || !x || !ref || !report || x->ndim != 2 || ref->ndim != 2)
        return otgi_fail(OTG_EINVAL, "fd: needs a classifier, samples and reference images");
    const int64_t d = otg_classifier_dim(c);
    if (x->shape[1] != d || ref->shape[1] != d || (train && train->shape[1] != d))
        return otgi_fail(OTG_ESHAPE, "fd: images must have dimension %lld (the classifier's)",
                         (long long)d);
    if (x->shape[0] < 2 || ref->shape[0] < 2)
        return otgi_fail(OTG_EINVAL, "fd: needs at least 2 samples and 2 reference images");
    return OTG_OK;
}

otg_status otgi_fd_reference(otg_classifier *c, const otg_tensor *ref, double *mu, double *cov) {
    return describe(c, ref, mu, cov, NULL);
}

otg_status otgi_fd_evaluate_against(otg_classifier *c, const otg_tensor *x, const otg_tensor *ref,
                                    const double *ref_mu, const double *ref_cov,
                                    const otg_tensor *train, int64_t memo_n,
                                    otg_fd_report *report) {
    otg_status st = check_inputs(c, x, ref, train, report);
    if (st != OTG_OK) return st;
    memset(report, 0, sizeof *report);
    const int64_t f = otg_classifier_features(c);
    const int k = otg_classifier_classes(c);
    double *mu = malloc((size_t)f * sizeof *mu), *cov = malloc((size_t)(f * f) * sizeof *cov);
    float *p = malloc((size_t)(x->shape[0] * k) * sizeof *p);
    st = mu && cov && p ? OTG_OK : otgi_fail(OTG_ENOMEM, "fd: out of memory");
    if (st == OTG_OK) st = describe(c, x, mu, cov, p);
    if (st == OTG_OK) st = otg_frechet_distance(f, mu, cov, ref_mu, ref_cov, &report->fd);
    if (st == OTG_OK) class_figures(p, x->shape[0], k, report);
    report->memorisation = NAN;
    if (st == OTG_OK && train && memo_n > 0) {
        int64_t m = memo_n;
        if (m > x->shape[0]) m = x->shape[0];
        if (m > ref->shape[0]) m = ref->shape[0];
        double ms = 0, mr = 0;
        st = median_nn_distance(x->data, m, train, &ms);
        if (st == OTG_OK) st = median_nn_distance(ref->data, m, train, &mr);
        if (st == OTG_OK) report->memorisation = mr > 0 ? ms / mr : (double)NAN;
    }
    free(mu), free(cov), free(p);
    return st;
}

otg_status otg_fd_evaluate(otg_classifier *c, const otg_tensor *x, const otg_tensor *ref,
                           const otg_tensor *train, int64_t memo_n, otg_fd_report *report) {
    otg_status st = check_inputs(c, x, ref, train, report);
    if (st != OTG_OK) return st;
    const int64_t f = otg_classifier_features(c);
    double *mu = malloc((size_t)f * sizeof *mu), *cov = malloc((size_t)(f * f) * sizeof *cov);
    st =
        mu && cov ? otgi_fd_reference(c, ref, mu, cov) : otgi_fail(OTG_ENOMEM, "fd: out of memory");
    if (st == OTG_OK) st = otgi_fd_evaluate_against(c, x, ref, mu, cov, train, memo_n, report);
    free(mu), free(cov);
    return st;
}
