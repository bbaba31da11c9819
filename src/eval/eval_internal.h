/* Private helpers of the eval module (classifier.c, cache.c, frechet.c, quality.c). */
#ifndef OTGEN_EVAL_INTERNAL_H
#define OTGEN_EVAL_INTERNAL_H

#include "internal.h"
#include "otgen/ad.h"
#include "otgen/eval.h"

/* The index of the largest of p[0..k) (the first on a tie). */
static inline int otgi_argmax(const float *p, int64_t k) {
    int best = 0;
    for (int j = 1; j < (int)k; j++)
        if (p[j] > p[best]) best = j;
    return best;
}

/* The penultimate features' mean mu [f] and covariance cov [f, f] of the reference images ref. */
otg_status otgi_fd_reference(otg_classifier *c, const otg_tensor *ref, double *mu, double *cov);
/* otg_fd_evaluate with the reference's features already described (otgi_fd_reference). */
otg_status otgi_fd_evaluate_against(otg_classifier *c, const otg_tensor *x, const otg_tensor *ref,
                                    const double *ref_mu, const double *ref_cov,
                                    const otg_tensor *train, int64_t memo_n, otg_fd_report *report);

#endif
