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

#endif
